/** `copilot ask` and `copilot chat` — implemented with the answer service. */
import { DependencyError } from '../../errors.js';
import type { Context } from '../context.js';

export async function ask(_ctx: Context): Promise<void> {
  throw new DependencyError('ask is not available yet in this version', 'not_available');
}

export async function chat(_ctx: Context): Promise<void> {
  throw new DependencyError('chat is not available yet in this version', 'not_available');
}
