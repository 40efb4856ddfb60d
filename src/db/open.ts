/** Config → an open, migrated database: Postgres when DATABASE_URL is set, else embedded. */
import type { Config } from '../config.js';
import { describeDatabase } from '../config.js';
import { UserError } from '../errors.js';
import type { Db } from './backend.js';
import { acquireLock } from './lock.js';
import { migrate } from './migrate.js';

export interface OpenOptions {
  /** Names the owner in the lock file (e.g. "serve", "channels add"). */
  command: string;
  /** Apply pending migrations (default true). `db status` passes false. */
  migrate?: boolean;
  /** Pool size for Postgres (CLI commands need 1–2, serve more). */
  poolSize?: number;
  /** How long to wait for a short-lived owner of the embedded database (default 2 s). */
  lockWaitMs?: number;
  /** Owner of the embedded database shares it with other copilot processes (serve). */
  share?: boolean;
  /** Told about slow one-time work (creating the embedded database). */
  notice?: (message: string) => void;
}

export async function openDatabase(config: Config, options: OpenOptions): Promise<Db> {
  let db: Db;
  if (config.databaseUrl) {
    const { openPostgres } = await import('./postgres.js');
    db = await openPostgres({
      url: config.databaseUrl,
      description: describeDatabase(config.databaseUrl),
      max: options.poolSize ?? 2,
    });
  } else {
    const result = await acquireLock(config.home, options.command, { waitMs: options.lockWaitMs ?? 2000 });
    if ('owner' in result) {
      const { owner } = result;
      if (options.share) {
        // One `serve` per home: a second one would run a second bot on the same data.
        throw new UserError(
          owner.port || owner.command === 'serve'
            ? `\`copilot serve\` pid ${owner.pid} already serves this home (${config.home}) — stop it first; other copilot commands work through it`
            : `the embedded database in ${config.home} is in use by copilot process ${owner.pid} (${owner.command}) — wait for it to finish, then start \`copilot serve\` again`,
          owner.port ? 'already_serving' : 'database_busy',
        );
      }
      if (owner.port) {
        const [{ openPostgres }, { sharedConnection }] = await Promise.all([import('./postgres.js'), import('./embedded.js')]);
        db = await openPostgres({
          connection: sharedConnection(owner.port, owner.secret),
          description: `the embedded database shared by copilot ${owner.command} (pid ${owner.pid})`,
          kind: 'embedded',
          // The socket serves one query at a time anyway; one connection keeps it fair.
          max: 1,
        });
      } else {
        throw new UserError(
          `the embedded database in ${config.home} is in use by copilot process ${owner.pid} (${owner.command}) — ` +
            'wait for it to finish, or run the command through `copilot serve`, which shares it',
          'database_busy',
        );
      }
    } else {
      const { openEmbedded, openSharedEmbedded, embeddedExists } = await import('./embedded.js');
      if (!embeddedExists(config.home)) {
        options.notice?.(`Creating the embedded database in ${config.home} (first run; this takes a few seconds)…`);
      }
      db = options.share
        ? await openSharedEmbedded(config.home, result.held, { max: options.poolSize })
        : await openEmbedded(config.home, result.held);
    }
  }
  if (options.migrate !== false) {
    try {
      await migrate(db);
    } catch (err) {
      await db.close().catch(() => {});
      throw err;
    }
  }
  return db;
}
