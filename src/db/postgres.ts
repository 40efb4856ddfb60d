/** The `pg` backend: a Pool against DATABASE_URL (or the embedded owner's socket). */
import type { Pool, PoolClient, PoolConfig } from 'pg';
import { DependencyError, UserError } from '../errors.js';
import type { Db, Queryable, QueryResult } from './backend.js';
import { databaseError } from './pg-errors.js';
import { INT8_OID, parseInt8 } from './parsers.js';

export interface PostgresOptions {
  /** DATABASE_URL; or, for the embedded database's socket, `connection` (its password never in a URL). */
  url?: string;
  connection?: { host: string; port: number; user: string; database: string; password: string };
  description: string;
  max?: number;
  /** Milliseconds to wait for a connection before failing. */
  connectTimeoutMs?: number;
  /** 'embedded' when this is the socket of the embedded database's owner. */
  kind?: Db['kind'];
}

function wrap(client: Pool | PoolClient, description: string): Queryable {
  return {
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      try {
        const result = await client.query(sql, params);
        return { rows: result.rows as T[], rowCount: result.rowCount ?? 0 };
      } catch (err) {
        throw databaseError(err, description);
      }
    },
    async exec(sql: string): Promise<void> {
      try {
        await client.query(sql);
      } catch (err) {
        throw databaseError(err, description);
      }
    },
  };
}

export async function openPostgres(options: PostgresOptions): Promise<Db> {
  const pg = (await import('pg')).default;
  // This pool's own parsers (pg's global ones are left alone): int8 as a number, see parsers.ts.
  const builtIn = pg.types.getTypeParser;
  const getTypeParser = ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : builtIn(oid, format)) as typeof builtIn;
  const config: PoolConfig = {
    types: { getTypeParser },
    ...(options.connection ?? { connectionString: options.url }),
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    allowExitOnIdle: true,
    application_name: 'copilot',
  };
  const pool = new pg.Pool(config);
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', () => {});
  const base = wrap(pool, options.description);
  // Fail fast with a clear reason instead of on the first real query.
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => {});
    throw databaseError(err, options.description);
  }
  const listeners: PoolClient[] = [];
  return {
    kind: options.kind ?? 'postgres',
    description: options.description,
    query: base.query,
    exec: base.exec,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw databaseError(err, options.description);
      }
      // A connection lost while no statement runs (a transaction can wait on other work between
      // statements) is reported on the client: without a listener it would crash the process.
      // It is passed on through `lost`, the transaction fails with a database error, and the
      // connection is discarded.
      let lost: Error | null = null;
      let onLost: (err: Error) => void = () => {};
      const tx: Queryable = { ...wrap(client, options.description), lost: new Promise<Error>((resolve) => (onLost = resolve)) };
      const onError = (err: Error) => {
        lost = err;
        onLost(err);
      };
      client.on('error', onError);
      try {
        await tx.exec('begin');
        const result = await fn(tx);
        await tx.exec('commit');
        client.release();
        return result;
      } catch (err) {
        if (lost) client.release(true);
        else {
          try {
            await client.query('rollback');
            client.release();
          } catch {
            client.release(true);
          }
        }
        const cause = lost as Error | null;
        if (cause && !(err instanceof UserError)) {
          throw new DependencyError(
            `the connection to the database at ${options.description} was lost: ${cause.message}`,
            'database_unreachable',
            { cause },
          );
        }
        throw err;
      } finally {
        client.off('error', onError);
      }
    },
    async listen(channel: string, onNotify: (payload: string) => void) {
      // NOTIFY does not cross the embedded database's socket connections.
      if (options.kind === 'embedded') return null;
      if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`bad channel name ${channel}`);
      const client = await pool.connect().catch((err: unknown) => {
        throw databaseError(err, options.description);
      });
      listeners.push(client);
      client.on('notification', (msg) => {
        if (msg.channel === channel) onNotify(msg.payload ?? '');
      });
      client.on('error', () => {});
      await client.query(`listen ${channel}`);
      return async () => {
        const i = listeners.indexOf(client);
        if (i >= 0) listeners.splice(i, 1);
        await client.query(`unlisten ${channel}`).catch(() => {});
        client.release(true);
      };
    },
    async close(): Promise<void> {
      for (const client of listeners.splice(0)) client.release(true);
      await pool.end().catch((err: unknown) => {
        throw new DependencyError(`closing the database pool failed: ${(err as Error).message}`, 'database', {
          cause: err,
        });
      });
    },
  };
}
