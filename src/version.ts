/** The package version, read once from package.json: `copilot --version` and the status endpoint. */
import { createRequire } from 'node:module';

export const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
