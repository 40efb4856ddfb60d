/** The embedded backend: PGlite + pgvector in COPILOT_HOME/data, owned through the lock file. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { DependencyError } from '../errors.js';
import type { Db, Queryable, QueryResult } from './backend.js';
import type { HeldLock } from './lock.js';
import { INT8_OID, parseInt8 } from './parsers.js';
import type { SharedServer } from './share.js';

export const DATA_DIR = 'data';

export function embeddedExists(home: string): boolean {
  return existsSync(join(home, DATA_DIR, 'PG_VERSION'));
}

interface PgliteLike {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
}

function wrap(client: PgliteLike): Queryable {
  return {
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      const result = await client.query<T>(sql, params);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await client.exec(sql);
    },
  };
}

/** Opens the PGlite database in `home`; the caller holds `lock`, which close() releases. */
export async function openEmbedded(home: string, lock: HeldLock): Promise<Db & { pglite: PGlite }> {
  const dataDir = join(home, DATA_DIR);
  let db: PGlite;
  try {
    const [{ PGlite }, { vector }] = await Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite-pgvector')]);
    db = await PGlite.create(dataDir, { extensions: { vector }, parsers: { [INT8_OID]: parseInt8 } });
  } catch (err) {
    lock.release();
    throw new DependencyError(`cannot open the embedded database in ${dataDir}: ${(err as Error).message ?? err}`, 'embedded_open_failed', {
      cause: err,
    });
  }
  const base = wrap(db);
  let closed = false;
  return {
    kind: 'embedded',
    description: dataDir,
    pglite: db,
    query: base.query,
    exec: base.exec,
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return db.transaction((tx: Transaction) => fn(wrap(tx as unknown as PgliteLike)));
    },
    async listen() {
      // NOTIFY does not cross the socket connections other copilot processes use: poll.
      return null;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        await db.close();
      } finally {
        lock.release();
      }
    },
  };
}

/**
 * The owner's side of sharing: PGlite exposed on 127.0.0.1 by our own small server (src/db/
 * share.ts; its port and a per-run password in the lock file), and every query of this process,
 * too, sent through it. PGlite is one session: the server gives it to one connection at a time
 * for whole protocol cycles and transactions, so the daemon must not also query PGlite directly.
 * NOTIFY does not cross socket connections: poll instead.
 */
export async function openSharedEmbedded(
  home: string,
  lock: HeldLock,
  options: { max?: number; onWarning?: (fields: Record<string, unknown>, message: string) => void } = {},
): Promise<Db> {
  const owner = await openEmbedded(home, lock);
  const secret = randomBytes(32).toString('base64url');
  let server: SharedServer;
  try {
    const { shareEmbedded } = await import('./share.js');
    server = await shareEmbedded(owner.pglite, {
      password: secret,
      host: '127.0.0.1',
      port: 0,
      maxConnections: 64,
      onWarning: options.onWarning,
    });
  } catch (err) {
    await owner.close();
    throw new DependencyError(`cannot share the embedded database: ${(err as Error).message}`, 'embedded_share_failed', { cause: err });
  }
  let db: Db;
  try {
    lock.update({ port: server.port, secret });
    const { openPostgres } = await import('./postgres.js');
    db = await openPostgres({
      connection: sharedConnection(server.port, secret),
      description: owner.description,
      kind: 'embedded',
      max: options.max ?? 4,
    });
  } catch (err) {
    await server.close().catch(() => {});
    await owner.close();
    throw err;
  }
  let closed = false;
  return {
    kind: 'embedded',
    description: owner.description,
    query: db.query,
    exec: db.exec,
    transaction: db.transaction,
    async listen() {
      return null;
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await db.close();
        await server.close();
      } finally {
        await owner.close();
      }
    },
  };
}

/** How a copilot process reaches the socket of the embedded database's owner. */
export function sharedConnection(port: number, secret: string | undefined) {
  return { host: '127.0.0.1', port, user: 'postgres', database: 'postgres', password: secret ?? '' };
}
