/** The embedded backend: PGlite + pgvector in COPILOT_HOME/data, owned through the lock file. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { DependencyError } from '../errors.js';
import type { Db, Queryable, QueryResult } from './backend.js';
import type { HeldLock } from './lock.js';

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
    const [{ PGlite }, { vector }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('@electric-sql/pglite-pgvector'),
    ]);
    db = await PGlite.create(dataDir, { extensions: { vector } });
  } catch (err) {
    lock.release();
    throw new DependencyError(
      `cannot open the embedded database in ${dataDir}: ${(err as Error).message ?? err}`,
      'embedded_open_failed',
      { cause: err },
    );
  }
  const base = wrap(db as unknown as PgliteLike);
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
