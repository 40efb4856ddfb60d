// long: the four endpoints share one request guard, the status document and its redaction.
/**
 * The daemon's read-only status endpoint (node:http): /healthz, /readyz, /status, /metrics.
 * GET and HEAD only; no message content and no secret in any response; a slow database never hangs
 * a request (every database-backed call is timed out and shared between concurrent requests).
 * With a token, /status and /metrics need `Authorization: Bearer <token>`; the health checks stay open.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DiscordState, ShardStatus } from '../bot/bot.js';
import { redactSecrets } from '../redact.js';
import { withDeadline } from '../util/deadline.js';

export interface DatabaseHealth {
  backend: 'postgres' | 'embedded';
  ok: boolean;
  /** Raw error text; only ever shown after redactSecrets(). */
  error?: string;
}

export interface KbStatus {
  documents: number;
  chunks: number;
  embedded: number;
  model: string | null;
}

export interface ConfigStatus {
  allowedChannels: number;
  instructionsUpdatedAt: string | null;
}

/** The metrics the endpoint shows: a snapshot for /status, the Prometheus text for /metrics. */
export interface StatusMetrics {
  /** Content-Type of the Prometheus text exposition. */
  readonly contentType: string;
  snapshot(): {
    counters: Record<string, number>;
    latency: { count: number; p50: number | null; p90: number | null; p99: number | null };
  };
  prometheus(): Promise<string>;
}

/** What the daemon exposes to the endpoint. Must never return message content. */
export interface StatusSource {
  version: string;
  /** Process start, epoch milliseconds. */
  startedAt: number;
  discord(): { state: DiscordState; ping: number | null; guilds: number };
  /** This process's gateway shards; /readyz needs every one of them ready. */
  shards?(): ShardStatus[];
  database(): Promise<DatabaseHealth>;
  kb(): Promise<KbStatus>;
  config(): Promise<ConfigStatus>;
  metrics: StatusMetrics;
}

/** The subset of a pino logger the server uses. */
export interface StatusLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface StatusServerOptions {
  port: number;
  host: string;
  source: StatusSource;
  log?: StatusLogger;
  /** Timeout for each database-backed source call, ms. Default 1000. */
  checkTimeoutMs?: number;
  /** When set, /status and /metrics answer only requests with `Authorization: Bearer <token>`. */
  token?: string | null;
}

export interface StatusServer {
  /** The bound port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/** The JSON body of GET /status. */
export interface StatusBody {
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  discord: { state: DiscordState; ping: number | null; guilds: number };
  shards: ShardStatus[];
  database: { backend: 'postgres' | 'embedded' | null; ok: boolean; error?: string };
  kb: KbStatus | null;
  config: ConfigStatus | null;
  counters: Record<string, number>;
  latency: { p50: number | null; p90: number | null; p99: number | null; count: number };
}

// ---------------------------------------------------------------------------------------------
// Helpers

const MAX_ERROR_CHARS = 200;

class TimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
  }
}

/**
 * One call in flight at a time, timed out after `ms`: concurrent requests share it, so a slow
 * database is not piled on. The slot is freed when the call settles or times out, so a call that
 * hangs forever is abandoned (at most one new attempt per timeout period) rather than shared forever.
 */
function singleFlight<T>(fn: () => Promise<T>, ms: number): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  return () => {
    if (!inFlight) {
      const p = withDeadline(Promise.resolve().then(fn), ms, () => {
        throw new TimeoutError(ms);
      }).finally(() => {
        if (inFlight === p) inFlight = null;
      });
      inFlight = p;
    }
    return inFlight;
  };
}

/** A short, redacted, single-line description of an error, safe for a response body. */
function describeError(err: unknown): string {
  const raw = err instanceof Error ? err.message : typeof err === 'string' ? err : 'unknown error';
  const oneLine = redactSecrets(raw).replace(/\s+/g, ' ').trim() || 'unknown error';
  return oneLine.length > MAX_ERROR_CHARS ? `${oneLine.slice(0, MAX_ERROR_CHARS - 1)}…` : oneLine;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

async function settle<T>(call: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}

/**
 * Whether an Authorization header carries `Bearer <token>`. Both sides are hashed to fixed-length
 * digests first, so the comparison takes the same time whatever the length or content of the guess.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  const given = createHash('sha256')
    .update(m?.[1] ?? '')
    .digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && m !== null;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

// ---------------------------------------------------------------------------------------------
// Server

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const ALLOW = 'GET, HEAD';

export async function startStatusServer(o: StatusServerOptions): Promise<StatusServer> {
  const { source, log } = o;
  const timeoutMs = o.checkTimeoutMs ?? 1000;
  const dbCall = singleFlight(() => source.database(), timeoutMs);
  const kbCall = singleFlight(() => source.kb(), timeoutMs);
  const configCall = singleFlight(() => source.config(), timeoutMs);
  let lastBackend: DatabaseHealth['backend'] | null = null;

  const discord = (): StatusBody['discord'] => {
    try {
      const d = source.discord();
      return { state: d.state, ping: typeof d.ping === 'number' && d.ping >= 0 ? d.ping : null, guilds: num(d.guilds) };
    } catch (err) {
      log?.warn({ err: describeError(err) }, 'status: discord state unavailable');
      return { state: 'disconnected', ping: null, guilds: 0 };
    }
  };

  const shards = (): ShardStatus[] => {
    try {
      return (source.shards?.() ?? []).map((x) => ({
        id: num(x.id),
        state: x.state,
        ping: typeof x.ping === 'number' && x.ping >= 0 ? x.ping : null,
        guilds: num(x.guilds),
      }));
    } catch (err) {
      log?.warn({ err: describeError(err) }, 'status: shard states unavailable');
      return [];
    }
  };

  const database = async (): Promise<StatusBody['database']> => {
    const r = await settle(dbCall);
    if (!r.ok) return { backend: lastBackend, ok: false, error: r.error };
    lastBackend = r.value.backend;
    const out: StatusBody['database'] = { backend: r.value.backend, ok: r.value.ok === true };
    if (!out.ok) out.error = r.value.error ? describeError(r.value.error) : 'not ok';
    return out;
  };

  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    type: string,
    body: string,
    extra: Record<string, string> = {},
  ): void => {
    const buf = Buffer.from(body, 'utf8');
    res.writeHead(status, {
      'content-type': type,
      'content-length': String(buf.length),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...extra,
    });
    res.end(req.method === 'HEAD' ? undefined : buf);
  };
  const sendJson = (req: IncomingMessage, res: ServerResponse, status: number, value: unknown, extra?: Record<string, string>) =>
    send(req, res, status, JSON_TYPE, `${JSON.stringify(value)}\n`, extra);

  const readyz = async (): Promise<{ status: number; body: { ready: boolean; reason?: string } }> => {
    const d = discord();
    if (d.state !== 'ready') return { status: 503, body: { ready: false, reason: `discord: ${d.state}` } };
    const notReady = shards().filter((x) => x.state !== 'ready');
    if (notReady.length > 0) {
      return { status: 503, body: { ready: false, reason: `discord: ${notReady.map((x) => `shard ${x.id} ${x.state}`).join(', ')}` } };
    }
    const db = await database();
    if (!db.ok) return { status: 503, body: { ready: false, reason: `database: ${db.error ?? 'not ok'}` } };
    return { status: 200, body: { ready: true } };
  };

  const status = async (): Promise<StatusBody> => {
    const [db, kb, config] = await Promise.all([database(), settle(kbCall), settle(configCall)]);
    const snap = source.metrics.snapshot();
    const kbValue: KbStatus | null = kb.ok
      ? {
          documents: num(kb.value.documents),
          chunks: num(kb.value.chunks),
          embedded: num(kb.value.embedded),
          model: typeof kb.value.model === 'string' ? kb.value.model : null,
        }
      : null;
    const configValue: ConfigStatus | null = config.ok
      ? {
          allowedChannels: num(config.value.allowedChannels),
          instructionsUpdatedAt: typeof config.value.instructionsUpdatedAt === 'string' ? config.value.instructionsUpdatedAt : null,
        }
      : null;
    return {
      version: source.version,
      startedAt: new Date(source.startedAt).toISOString(),
      uptimeSeconds: Math.max(0, Math.floor((Date.now() - source.startedAt) / 1000)),
      discord: discord(),
      shards: shards(),
      database: db,
      kb: kbValue,
      config: configValue,
      counters: snap.counters,
      latency: { p50: snap.latency.p50, p90: snap.latency.p90, p99: snap.latency.p99, count: snap.latency.count },
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Request bodies are never read: if one was sent, do not keep the connection for another request.
    const hasBody =
      (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') ||
      req.headers['transfer-encoding'] !== undefined;
    if (hasBody) res.shouldKeepAlive = false;

    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(req, res, 405, { error: 'method not allowed' }, { allow: ALLOW });
      return;
    }
    const path = (req.url ?? '/').split('?', 1)[0];
    if (o.token && (path === '/status' || path === '/metrics') && !bearerMatches(req.headers.authorization, o.token)) {
      sendJson(
        req,
        res,
        401,
        { error: 'unauthorized: send Authorization: Bearer <STATUS_TOKEN>' },
        { 'www-authenticate': 'Bearer realm="copilot"' },
      );
      return;
    }
    switch (path) {
      case '/healthz':
        send(req, res, 200, TEXT_TYPE, 'ok\n');
        return;
      case '/readyz': {
        const r = await readyz();
        sendJson(req, res, r.status, r.body);
        return;
      }
      case '/status':
        sendJson(req, res, 200, await status());
        return;
      case '/metrics':
        send(req, res, 200, source.metrics.contentType, await source.metrics.prometheus());
        return;
      default:
        sendJson(req, res, 404, { error: 'not found' });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log?.error({ err: describeError(err), path: (req.url ?? '').split('?', 1)[0] }, 'status endpoint error');
      if (!res.headersSent) sendJson(req, res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.headersTimeout = 5_000;
  server.requestTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;
  server.maxConnections = 256;
  server.timeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(o.port, o.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log?.error({ err: describeError(err) }, 'status server error'));
  const port = (server.address() as AddressInfo).port;
  log?.info({ host: o.host, port }, 'status endpoint listening');

  let closing: Promise<void> | null = null;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        // Stop accepting, drop idle keep-alive sockets now, and cut any request still running after a
        // short grace (database calls time out within checkTimeoutMs anyway).
        const grace = setTimeout(() => server.closeAllConnections(), timeoutMs + 500);
        grace.unref();
        server.close(() => {
          clearTimeout(grace);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
