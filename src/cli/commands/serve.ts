/** `copilot serve` — implemented with the Discord daemon. */
import { DependencyError } from '../../errors.js';
import type { Context } from '../context.js';

export async function serve(_ctx: Context): Promise<void> {
  throw new DependencyError('serve is not available yet in this version', 'not_available');
}
