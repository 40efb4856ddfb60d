/** `copilot kb ...` — implemented with the knowledge base. */
import { DependencyError } from '../../errors.js';
import type { Context } from '../context.js';

const notYet = async (_ctx: Context): Promise<void> => {
  throw new DependencyError('the knowledge base commands are not available yet in this version', 'not_available');
};
export const ingest = notYet;
export const list = notYet;
export const show = notYet;
export const remove = notYet;
export const search = notYet;
export const embed = notYet;
export const gaps = notYet;
