/** The database server itself: whether it answers, its PostgreSQL version, and pgvector's. */
import type { Queryable } from './backend.js';

/** Resolves when the server answers a query. */
export async function ping(db: Queryable): Promise<void> {
  await db.query('select 1');
}

export interface ServerVersions {
  server: string;
  /** The installed "vector" extension's version, or null when it is not created. */
  vector: string | null;
}

export async function serverVersions(db: Queryable): Promise<ServerVersions> {
  const { rows } = await db.query<ServerVersions>(
    "select current_setting('server_version') as server, (select extversion from pg_extension where extname = 'vector') as vector",
  );
  const [row] = rows;
  if (!row) throw new Error('the server returned no version');
  return { server: row.server, vector: row.vector };
}

/** The version of pgvector the server could create, or null when it is not installed there. */
export async function availableVectorVersion(db: Queryable): Promise<string | null> {
  const { rows } = await db.query<{ default_version: string }>("select default_version from pg_available_extensions where name = 'vector'");
  return rows[0]?.default_version ?? null;
}
