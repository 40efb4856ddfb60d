/** What every command gets: validated config, output, the actor, and a database on demand. */
import type { Config } from '../config.js';
import { loadConfig } from '../config.js';
import type { Db } from '../db/backend.js';
import type { OpenOptions } from '../db/open.js';
import { osActor } from './actor.js';
import type { Output } from './output.js';
import { createOutput } from './output.js';

export interface GlobalOptions {
  json?: boolean;
  databaseUrl?: string;
  home?: string;
  verbose?: boolean;
}

export interface Context {
  config: Config;
  out: Output;
  actor: string;
  verbose: boolean;
  stdinTTY: boolean;
  /** Opens the database, runs fn, and always closes it. */
  withDb<T>(command: string, fn: (db: Db) => Promise<T>, options?: Omit<OpenOptions, 'command'>): Promise<T>;
}

export async function createContext(globals: GlobalOptions): Promise<Context> {
  const out = await createOutput({ json: Boolean(globals.json) });
  const config = loadConfig({ databaseUrl: globals.databaseUrl, home: globals.home });
  return {
    config,
    out,
    actor: osActor(),
    verbose: Boolean(globals.verbose),
    stdinTTY: Boolean(process.stdin.isTTY),
    async withDb(command, fn, options = {}) {
      const { openDatabase } = await import('../db/open.js');
      const db = await openDatabase(config, { command, notice: (m) => out.note(out.style.dim(m)), ...options });
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    },
  };
}
