/**
 * One `serve` per bot on a Postgres database: a session-level advisory lock, held on a dedicated
 * connection for the life of the process (a process that dies releases it with its connection).
 * The key is (bot, shard): serving every shard is an exclusive lock on (bot, ALL_SHARDS); a
 * process serving some shards would hold (bot, ALL_SHARDS) shared and (bot, shard) exclusive.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'pg';
import { DependencyError, UserError, errorMessage } from '../errors.js';
import { databaseError } from './pg-errors.js';

/** The shard number that stands for "every shard". */
export const ALL_SHARDS = -1;

export interface ServeLockKey {
  /** int4 from the bot's id (the token's first segment), or from the whole token. */
  bot: number;
  shard: number;
}

/** The bot's key: its application id decoded from the token when it can be, else the token. */
export function serveLockKey(token: string, shard = ALL_SHARDS): ServeLockKey {
  const first = token.split('.')[0] ?? '';
  const decoded = Buffer.from(first, 'base64').toString('utf8');
  const source = /^\d{15,21}$/.test(decoded) ? `bot:${decoded}` : `token:${token}`;
  return { bot: createHash('sha256').update(source).digest().readInt32BE(0), shard };
}

const TAKE = 'select pg_try_advisory_lock($1::int4, $2::int4) as taken';
const TAKE_SHARED = 'select pg_try_advisory_lock_shared($1::int4, $2::int4) as taken';
// The two-int form is stored as classid = key 1, objid = key 2 (as unsigned oids), objsubid = 2.
const HOLDER = `
  select l.pid, a.application_name, host(a.client_addr) as client_addr
  from pg_locks l left join pg_stat_activity a on a.pid = l.pid
  where l.locktype = 'advisory' and l.granted and l.objsubid = 2
    and l.database = (select oid from pg_database where datname = current_database())
    and l.classid::bigint = ($1::int4::bigint & 4294967295) and l.objid::bigint = ($2::int4::bigint & 4294967295)
  limit 1`;

export interface ServeLockOptions {
  url: string;
  /** How the database is named in messages (never the URL). */
  description: string;
  token: string;
  /**
   * The shard ids this process serves when it serves only some of them (null: every shard).
   * Each is locked exclusively, every-shards shared: two processes may serve different shards,
   * never the same one, and neither alongside a process serving every shard.
   */
  shards?: number[] | null;
  /** Checks the lock's connection this often (default 5 s). */
  heartbeatMs?: number;
  /** Waits between attempts to take the lock again after its connection was lost (default 1 s, up to 5 s). */
  retryMs?: number;
  log?: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
}

export interface ServeLock {
  readonly key: ServeLockKey;
  /** Called once if the lock is lost for good (another process took it while we were away). */
  onFatal(fn: (err: Error) => void): void;
  close(): Promise<void>;
}

/** Who holds the lock, for the message: the serve process and its host, else the backend's pid. */
async function describeHolder(client: Client, key: ServeLockKey): Promise<string> {
  try {
    const { rows } = await client.query<{ pid: number; application_name: string | null; client_addr: string | null }>(HOLDER, [
      key.bot,
      key.shard,
    ]);
    const row = rows[0];
    if (!row) return 'another process';
    const serve = /^copilot serve host=(\S+) pid=(\d+)$/.exec(row.application_name ?? '');
    if (serve) return `\`copilot serve\` pid ${serve[2]} on host ${serve[1]}`;
    return `the Postgres session of pid ${row.pid}${row.client_addr ? ` from ${row.client_addr}` : ''}`;
  } catch {
    return 'another process';
  }
}

export async function acquireServeLock(options: ServeLockOptions): Promise<ServeLock> {
  const pg = (await import('pg')).default;
  const key = serveLockKey(options.token);
  const name = `copilot serve host=${hostname()} pid=${process.pid}`;
  let client: Client | null = null;
  let closed = false;
  let fatal: ((err: Error) => void) | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  let retaking: Promise<void> | null = null;

  /** Connects and tries to take the lock: the client holding it, or who holds it instead. */
  async function take(): Promise<{ client: Client } | { holder: string }> {
    const c = new pg.Client({
      connectionString: options.url,
      application_name: name,
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
      query_timeout: 10_000,
    });
    c.on('error', () => {}); // reported through the heartbeat and 'end'
    try {
      await c.connect();
      const wanted: [string, ServeLockKey][] = options.shards
        ? [[TAKE_SHARED, key], ...options.shards.map((shard): [string, ServeLockKey] => [TAKE, { bot: key.bot, shard }])]
        : [[TAKE, key]];
      for (const [sql, k] of wanted) {
        const { rows } = await c.query<{ taken: boolean }>(sql, [k.bot, k.shard]);
        if (rows[0]?.taken) continue;
        const holder = await describeHolder(c, k);
        // Ending the session releases whatever it took already.
        await c.end().catch(() => {});
        return { holder: k.shard === ALL_SHARDS || !options.shards ? holder : `${holder} (shard ${k.shard})` };
      }
      return { client: c };
    } catch (err) {
      await c.end().catch(() => {});
      throw databaseError(err, options.description);
    }
  }

  const lost = (err: unknown) => {
    if (closed || retaking) return;
    const old = client;
    client = null;
    void old?.end().catch(() => {});
    options.log?.warn({ err: errorMessage(err) }, 'lost the connection holding the serve lock; taking it again when the database answers');
    retaking = retake().finally(() => (retaking = null));
  };

  function watch(c: Client): void {
    client = c;
    c.once('end', () => client === c && lost(new Error('connection ended')));
  }

  /** Until the database answers again (or serve stops); then the lock is ours again, or fatal. */
  async function retake(): Promise<void> {
    let wait = options.retryMs ?? 1000;
    while (!closed) {
      await sleep(wait, undefined, { ref: false });
      if (closed) return;
      let result;
      try {
        result = await take();
      } catch {
        wait = Math.min(wait * 2, 5000);
        continue;
      }
      if (closed) {
        if ('client' in result) await result.client.end().catch(() => {});
        return;
      }
      if ('client' in result) {
        watch(result.client);
        options.log?.info({}, 'serve lock taken again');
        return;
      }
      const err = new DependencyError(
        `while the database was away, ${result.holder} started serving this bot on ${options.description}; this process stops`,
        'serve_lock_lost',
      );
      fatal?.(err);
      return;
    }
  }

  const first = await take();
  if ('holder' in first) {
    throw new UserError(
      options.shards
        ? `${first.holder} already serves this bot on ${options.description} — one \`copilot serve\` per shard; give this one other shards or stop that one first`
        : `${first.holder} already serves this bot on ${options.description} — one \`copilot serve\` per bot and database; stop that one first`,
      'already_serving',
    );
  }
  watch(first.client);
  heartbeat = setInterval(() => {
    const c = client;
    if (!c || retaking) return;
    c.query('select 1').catch((err: unknown) => client === c && lost(err));
  }, options.heartbeatMs ?? 5000);
  heartbeat.unref();

  return {
    key,
    onFatal(fn) {
      fatal = fn;
    },
    async close() {
      closed = true;
      if (heartbeat) clearInterval(heartbeat);
      const c = client;
      client = null;
      // Ending the session releases its advisory lock.
      await c?.end().catch(() => {});
    },
  };
}
