import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createMetrics, type Metrics, percentile } from '../../src/bot/metrics.js';
import type { DiscordState, ShardStatus } from '../../src/bot/bot.js';
import { type DatabaseHealth, type StatusSource, bearerMatches, startStatusServer } from '../../src/http/status.js';
import { redactSecrets } from '../../src/redact.js';

const DB_SECRET = 'hunter2';
const DB_URL = `postgres://u:${DB_SECRET}@h/db`;
const TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB';
const GROQ_KEY = 'gsk_abcdefghijklmnopqrstuvwxyz012345';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  ms: number;
}

function call(port: number, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: performance.now() - started,
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A plain object standing in for the daemon's state; each piece can be switched per test. */
function fakeSource(metrics: Metrics) {
  const state = {
    discord: 'connecting' as DiscordState,
    db: 'ok' as 'ok' | 'down' | 'throw' | 'hang',
    kbHang: false,
    dbCalls: 0,
    /** This process's shards as the bot reports them (none by default). */
    shards: [] as ShardStatus[],
  };
  const source: StatusSource = {
    version: '9.8.7',
    startedAt: Date.now() - 42_000,
    discord: () => ({ state: state.discord, ping: state.discord === 'ready' ? 37 : null, guilds: 3 }),
    shards: () => state.shards,
    database: async (): Promise<DatabaseHealth> => {
      state.dbCalls++;
      switch (state.db) {
        case 'ok':
          return { backend: 'postgres', ok: true };
        case 'down':
          return { backend: 'postgres', ok: false, error: `connect ECONNREFUSED for ${DB_URL} (token ${TOKEN})` };
        case 'throw':
          throw new Error(`password authentication failed: ${DB_URL} Authorization: Bot ${TOKEN}`);
        case 'hang':
          return new Promise(() => {});
      }
    },
    kb: async () => {
      if (state.kbHang) return new Promise(() => {});
      return { documents: 4, chunks: 120, embedded: 118, model: 'Xenova/all-MiniLM-L6-v2' };
    },
    config: async () => ({ allowedChannels: 2, instructionsUpdatedAt: '2025-01-02T03:04:05.000Z' }),
    metrics,
  };
  return { state, source };
}

const SECRETS = [DB_SECRET, TOKEN, GROQ_KEY, 'GaBcDe.abcdefghij'];
function assertNoSecrets(text: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `response leaks ${s}: ${text}`);
}

describe('status server', () => {
  let metrics: Metrics;
  let fake: ReturnType<typeof fakeSource>;
  let server: Awaited<ReturnType<typeof startStatusServer>>;
  const bodies: string[] = [];
  const get = async (path: string, method = 'GET', body?: string): Promise<Reply> => {
    const r = await call(server.port, method, path, body);
    bodies.push(r.body);
    return r;
  };

  before(async () => {
    metrics = await createMetrics();
    fake = fakeSource(metrics);
    server = await startStatusServer({ port: 0, host: '127.0.0.1', source: fake.source });
  });
  after(async () => {
    const started = performance.now();
    await server.close();
    assert.ok(performance.now() - started < 500, 'close is quick');
    for (const b of bodies) assertNoSecrets(b);
  });

  test('listens on an ephemeral port and answers HTTP there', async () => {
    assert.ok(server.port > 0 && server.port !== 8080);
    const r = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'ok\n');
  });

  test('/healthz: 200 ok', async () => {
    const r = await get('/healthz');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok\n');
    assert.equal(r.headers['cache-control'], 'no-store');
  });

  test('HEAD returns the same headers and no body', async () => {
    const g = await get('/healthz');
    const h = await get('/healthz', 'HEAD');
    assert.equal(h.status, 200);
    assert.equal(h.body, '');
    assert.equal(h.headers['content-length'], g.headers['content-length']);
    assert.equal(h.headers['content-type'], g.headers['content-type']);

    const hs = await get('/status', 'HEAD');
    assert.equal(hs.status, 200);
    assert.equal(hs.body, '');
    assert.equal(hs.headers['content-type'], 'application/json; charset=utf-8');
    assert.ok(Number(hs.headers['content-length']) > 50);
  });

  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    test(`${method} → 405 with Allow: GET, HEAD`, async () => {
      for (const path of ['/status', '/healthz', '/nope']) {
        const r = await get(path, method, method === 'POST' || method === 'PUT' ? '{"x":1}' : undefined);
        assert.equal(r.status, 405, `${method} ${path}`);
        assert.equal(r.headers.allow, 'GET, HEAD');
        assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
        assert.deepEqual(JSON.parse(r.body), { error: 'method not allowed' });
      }
    });
  }

  test('unknown paths → 404 JSON', async () => {
    for (const path of ['/', '/status/', '/admin', '/metrics/x', '/../etc/passwd']) {
      const r = await get(path);
      assert.equal(r.status, 404, path);
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(r.headers['cache-control'], 'no-store');
      assert.deepEqual(JSON.parse(r.body), { error: 'not found' });
    }
    const h = await get('/nope', 'HEAD');
    assert.equal(h.status, 404);
    assert.equal(h.body, '');
  });

  test('query strings are ignored for routing', async () => {
    const r = await get('/healthz?x=1');
    assert.equal(r.status, 200);
  });

  test('/readyz: 503 before the gateway is ready, 200 after', async () => {
    fake.state.discord = 'connecting';
    fake.state.db = 'ok';
    let r = await get('/readyz');
    assert.equal(r.status, 503);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.deepEqual(JSON.parse(r.body), { ready: false, reason: 'discord: connecting' });

    fake.state.discord = 'reconnecting';
    r = await get('/readyz');
    assert.deepEqual(JSON.parse(r.body), { ready: false, reason: 'discord: reconnecting' });

    fake.state.discord = 'ready';
    r = await get('/readyz');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { ready: true });
  });

  test('/readyz: 503 until every shard of this process is ready, though the gateway as a whole says ready', async () => {
    fake.state.discord = 'ready';
    fake.state.db = 'ok';
    const shard = (id: number, state: DiscordState): ShardStatus => ({ id, state, ping: state === 'ready' ? 20 : null, guilds: 1 });
    try {
      fake.state.shards = [shard(0, 'ready'), shard(1, 'connecting')];
      let r = await get('/readyz');
      assert.equal(r.status, 503);
      assert.deepEqual(JSON.parse(r.body), { ready: false, reason: 'discord: shard 1 connecting' });

      fake.state.shards = [shard(0, 'reconnecting'), shard(1, 'ready'), shard(2, 'disconnected')];
      r = await get('/readyz');
      assert.equal(r.status, 503);
      assert.deepEqual(JSON.parse(r.body), { ready: false, reason: 'discord: shard 0 reconnecting, shard 2 disconnected' });

      fake.state.shards = [shard(0, 'ready'), shard(1, 'ready')];
      r = await get('/readyz');
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), { ready: true });
    } finally {
      fake.state.shards = [];
    }
  });

  test('/readyz: 503 when the database reports not ok, with a redacted reason', async () => {
    fake.state.discord = 'ready';
    fake.state.db = 'down';
    const r = await get('/readyz');
    assert.equal(r.status, 503);
    const body = JSON.parse(r.body) as { ready: boolean; reason: string };
    assert.equal(body.ready, false);
    assert.match(body.reason, /^database: connect ECONNREFUSED for postgres:\/\/u:\*\*\*\*@h\/db/);
    assertNoSecrets(r.body);
    fake.state.db = 'ok';
  });

  test('/readyz: 503 when the database check throws', async () => {
    fake.state.discord = 'ready';
    fake.state.db = 'throw';
    const r = await get('/readyz');
    assert.equal(r.status, 503);
    const body = JSON.parse(r.body) as { ready: boolean; reason: string };
    assert.equal(body.ready, false);
    assert.match(body.reason, /^database: password authentication failed/);
    assertNoSecrets(r.body);
    fake.state.db = 'ok';
  });

  test('/readyz and /status: a hanging database times out in about 1 s', async () => {
    fake.state.discord = 'ready';
    fake.state.db = 'hang';
    const callsBefore = fake.state.dbCalls;
    const [ready, status, status2] = await Promise.all([get('/readyz'), get('/status'), get('/status')]);
    assert.equal(ready.status, 503);
    assert.deepEqual(JSON.parse(ready.body), { ready: false, reason: 'database: timed out after 1000 ms' });
    assert.ok(ready.ms >= 900 && ready.ms < 1500, `readyz took ${ready.ms} ms`);
    assert.equal(status.status, 200);
    assert.ok(status.ms < 1500, `status took ${status.ms} ms`);
    const s = JSON.parse(status.body) as { database: { backend: string | null; ok: boolean; error: string } };
    assert.equal(s.database.ok, false);
    assert.equal(s.database.error, 'timed out after 1000 ms');
    assert.equal(s.database.backend, 'postgres', 'last known backend');
    assert.equal(status2.status, 200);
    assert.equal(fake.state.dbCalls - callsBefore, 1, 'concurrent requests share one in-flight database call');

    // The hung call is abandoned, not shared forever: once the database answers, so does /readyz.
    fake.state.db = 'ok';
    const again = await get('/readyz');
    assert.equal(again.status, 200);
    assert.ok(again.ms < 200, `readyz after recovery took ${again.ms} ms`);
  });

  test('/status: shape and values', async () => {
    fake.state.discord = 'ready';
    fake.state.db = 'ok';
    metrics.inc('messagesSeen', 5);
    metrics.inc('replies');
    metrics.inc('replies');
    metrics.inc('fallbacks');
    metrics.inc('rateLimited');
    metrics.inc('escalations');
    for (const ms of [100, 200, 300, 400, 5000]) metrics.observeReply(ms, ms / 2);

    const r = await get('/status');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(r.headers['cache-control'], 'no-store');
    const s = JSON.parse(r.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(s).sort(), [
      'config',
      'counters',
      'database',
      'discord',
      'kb',
      'latency',
      'shards',
      'startedAt',
      'uptimeSeconds',
      'version',
    ]);
    assert.equal(s.version, '9.8.7');
    assert.ok(typeof s.uptimeSeconds === 'number' && s.uptimeSeconds >= 42 && s.uptimeSeconds < 60);
    assert.deepEqual(s.discord, { state: 'ready', ping: 37, guilds: 3 });
    assert.deepEqual(s.database, { backend: 'postgres', ok: true });
    assert.deepEqual(s.kb, { documents: 4, chunks: 120, embedded: 118, model: 'Xenova/all-MiniLM-L6-v2' });
    assert.deepEqual(s.config, { allowedChannels: 2, instructionsUpdatedAt: '2025-01-02T03:04:05.000Z' });
    assert.deepEqual(s.counters, {
      messagesSeen: 5,
      replies: 2,
      fallbacks: 1,
      errors: 0,
      rateLimited: 1,
      gaps: 0,
      votesUp: 0,
      votesDown: 0,
      escalations: 1,
    });
    assert.deepEqual(s.latency, { p50: 300, p90: 5000, p99: 5000, count: 5 });
  });

  test('/status: database down is reported redacted; a hanging kb gives kb:null, not a hang', async () => {
    fake.state.db = 'down';
    fake.state.kbHang = true;
    const r = await get('/status');
    assert.equal(r.status, 200);
    assert.ok(r.ms < 1500, `status took ${r.ms} ms`);
    const s = JSON.parse(r.body) as { database: { ok: boolean; error: string }; kb: unknown; config: unknown };
    assert.equal(s.database.ok, false);
    assert.ok(s.database.error.includes('postgres://u:****@h/db'), s.database.error);
    assert.ok(s.database.error.includes('token ****'), s.database.error);
    assert.equal(s.kb, null);
    assert.notEqual(s.config, null);
    assertNoSecrets(r.body);
    fake.state.db = 'ok';
    fake.state.kbHang = false;
  });

  test('/metrics: valid Prometheus text with copilot_* and process metrics', async () => {
    metrics.inc('errors');
    const r = await get('/metrics');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.equal(r.headers['cache-control'], 'no-store');
    const text = r.body;
    assert.match(text, /^# HELP copilot_replies_total /m);
    assert.match(text, /^# TYPE copilot_replies_total counter$/m);
    assert.match(text, /^copilot_replies_total 2$/m);
    assert.match(text, /^copilot_errors_total 1$/m);
    assert.match(text, /^copilot_messages_seen_total 5$/m);
    assert.match(text, /^# TYPE copilot_reply_latency_seconds histogram$/m);
    assert.match(text, /^copilot_reply_latency_seconds_count 5$/m);
    assert.match(text, /^copilot_first_token_seconds_count 5$/m);
    assert.match(text, /^copilot_reply_latency_seconds_bucket\{le="0.25"\} 2$/m);
    assert.match(text, /^# TYPE process_cpu_user_seconds_total counter$/m);
    assert.match(text, /^process_resident_memory_bytes \d+/m);
    assert.match(text, /^nodejs_heap_size_used_bytes \d+/m);

    // Every line is a comment (# HELP / # TYPE) or `name{labels} value`; every sample has a TYPE.
    const typed = new Set<string>();
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (meta) {
        if (meta[1] === 'TYPE') {
          assert.match(meta[3]!, /^(counter|gauge|histogram|summary|untyped)$/, line);
          typed.add(meta[2]!);
        }
        continue;
      }
      const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)( \d+)?$/.exec(line);
      assert.ok(sample, `not a valid exposition line: ${line}`);
      const base = sample[1]!.replace(/_(bucket|sum|count|total|created)$/, '');
      assert.ok(typed.has(sample[1]!) || typed.has(base), `sample without TYPE: ${line}`);
    }

    const h = await get('/metrics', 'HEAD');
    assert.equal(h.status, 200);
    assert.equal(h.body, '');
  });

  test('a GET with a body is answered and the body ignored', async () => {
    const r = await get('/healthz', 'GET', 'x'.repeat(100_000));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok\n');
  });

  test('keep-alive connections do not hold up close()', async () => {
    // Covered by after(): a keep-alive agent connection is left open here and close() must be quick.
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      request({ host: '127.0.0.1', port: server.port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(Object.keys(agent.freeSockets).length, 1, 'an idle keep-alive socket is open');
    after(() => agent.destroy());
  });
});

describe('status server with STATUS_TOKEN', () => {
  const STATUS_TOKEN = 'c0ffee-status-token-0123456789abcdef';
  let metrics: Metrics;
  let fake: ReturnType<typeof fakeSource>;
  let server: Awaited<ReturnType<typeof startStatusServer>>;
  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => call(server.port, method, path, undefined, headers);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  before(async () => {
    metrics = await createMetrics();
    metrics.inc('replies', 7);
    fake = fakeSource(metrics);
    fake.state.discord = 'ready';
    server = await startStatusServer({ port: 0, host: '127.0.0.1', source: fake.source, token: STATUS_TOKEN });
  });
  after(() => server.close());

  test('/healthz and /readyz stay open for health checks', async () => {
    assert.equal((await get('/healthz')).status, 200);
    const ready = await get('/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.body), { ready: true });
  });

  for (const path of ['/status', '/metrics']) {
    test(`${path} without the token: 401 with www-authenticate: Bearer and nothing of the status`, async () => {
      const attempts: Record<string, string>[] = [
        {},
        bearer(''),
        bearer('wrong'),
        bearer(STATUS_TOKEN.slice(0, -1)),
        bearer(`${STATUS_TOKEN}x`),
        bearer(STATUS_TOKEN.replace(/.$/, 'g')),
        { authorization: STATUS_TOKEN },
        { authorization: `Basic ${Buffer.from(`user:${STATUS_TOKEN}`).toString('base64')}` },
        { authorization: `Token ${STATUS_TOKEN}` },
      ];
      for (const headers of attempts) {
        for (const method of ['GET', 'HEAD']) {
          const r = await get(path, headers, method);
          assert.equal(r.status, 401, `${method} ${JSON.stringify(headers)}`);
          assert.match(String(r.headers['www-authenticate']), /^Bearer\b/);
          assert.equal(r.headers['cache-control'], 'no-store');
          if (method === 'GET') assert.deepEqual(Object.keys(JSON.parse(r.body)), ['error']);
          assert.doesNotMatch(r.body, /replies|guilds|copilot_|9\.8\.7/);
          assert.ok(!r.body.includes(STATUS_TOKEN), 'the token is not echoed');
        }
      }
    });
  }

  test('/status and /metrics with Authorization: Bearer <token> (scheme case-insensitive)', async () => {
    const status = await get('/status', bearer(STATUS_TOKEN));
    assert.equal(status.status, 200);
    assert.equal(JSON.parse(status.body).counters.replies, 7);
    assert.equal((await get('/status', { authorization: `bearer  ${STATUS_TOKEN}` })).status, 200);
    const prom = await get('/metrics', bearer(STATUS_TOKEN));
    assert.equal(prom.status, 200);
    assert.match(prom.body, /^copilot_replies_total 7$/m);
    assert.equal((await get('/status?x=1', bearer(STATUS_TOKEN))).status, 200);
  });

  test('methods and unknown paths answer as before', async () => {
    assert.equal((await get('/status', {}, 'POST')).status, 405);
    assert.equal((await get('/nope')).status, 404);
  });
});

test('bearerMatches: exact token only, compared through fixed-length digests', () => {
  const token = 'abcdefghijklmnop';
  assert.equal(bearerMatches(`Bearer ${token}`, token), true);
  assert.equal(bearerMatches(`BEARER ${token}`, token), true);
  assert.equal(bearerMatches(`Bearer ${token} `, token), true);
  for (const header of [
    undefined,
    '',
    'Bearer',
    'Bearer ',
    `Bearer ${token}x`,
    `Bearer ${token.slice(1)}`,
    `Bearer ${token} extra`,
    `Basic ${token}`,
    token,
    `xBearer ${token}`,
  ]) {
    assert.equal(bearerMatches(header, token), false, String(header));
  }
});

test('two metrics instances use separate registries (never the global one)', async () => {
  const { register } = await import('prom-client');
  const a = await createMetrics();
  const b = await createMetrics();
  a.inc('replies', 3);
  assert.equal(a.snapshot().counters.replies, 3);
  assert.equal(b.snapshot().counters.replies, 0);
  assert.match(await b.prometheus(), /^copilot_replies_total 0$/m);
  assert.equal(register.getSingleMetric('copilot_replies_total'), undefined);
  assert.throws(() => a.inc('nope' as never), /unknown metric counter/);
  a.inc('replies', -1);
  a.inc('replies', Number.NaN);
  assert.equal(a.snapshot().counters.replies, 3, 'negative and NaN increments are ignored');
});

test('latency ring buffer keeps the last 1,000 replies', async () => {
  const m = await createMetrics();
  assert.deepEqual(m.snapshot().latency, { count: 0, p50: null, p90: null, p99: null });
  for (let i = 0; i < 1000; i++) m.observeReply(100_000, null); // pushed out below
  for (let i = 1; i <= 1000; i++) m.observeReply(i, i);
  assert.deepEqual(m.snapshot().latency, { count: 2000, p50: 500, p90: 900, p99: 990 });
  m.observeReply(Number.NaN, null);
  m.observeReply(-5, null);
  assert.equal(m.snapshot().latency.count, 2000, 'invalid observations are ignored');
  assert.match(await m.prometheus(), /^copilot_first_token_seconds_count 1000$/m, 'null first-token not observed');
});

test('percentile: nearest rank', () => {
  assert.equal(percentile([], 50), null);
  assert.equal(percentile([7], 99), 7);
  assert.equal(percentile([1, 2, 3, 4], 50), 2);
  assert.equal(percentile([1, 2, 3, 4], 90), 4);
});

test('startStatusServer rejects when the port is taken', async () => {
  const m = await createMetrics();
  const { source } = fakeSource(m);
  const first = await startStatusServer({ port: 0, host: '127.0.0.1', source });
  await assert.rejects(startStatusServer({ port: first.port, host: '127.0.0.1', source }), /EADDRINUSE/);
  await first.close();
});

test('an internal failure is a 500 without details; the log line is redacted (pino logger)', async () => {
  const { pino } = await import('pino');
  const { Writable } = await import('node:stream');
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  const log = pino({ level: 'info' }, sink);
  const real = await createMetrics();
  const broken: Metrics = { ...real, prometheus: async () => Promise.reject(new Error(`scrape failed ${DB_URL} ${GROQ_KEY}`)) };
  const { source } = fakeSource(broken);
  const s = await startStatusServer({ port: 0, host: '127.0.0.1', source, log });
  try {
    const r = await call(s.port, 'GET', '/metrics');
    assert.equal(r.status, 500);
    assert.deepEqual(JSON.parse(r.body), { error: 'internal error' });
    const ok = await call(s.port, 'GET', '/healthz');
    assert.equal(ok.status, 200, 'the server keeps serving');
  } finally {
    await s.close();
  }
  const logged = lines.join('');
  assert.match(logged, /status endpoint listening/);
  assert.match(logged, /status endpoint error/);
  assert.match(logged, /scrape failed postgres:\/\/u:\*\*\*\*@h\/db gsk_\*\*\*\*/);
  assertNoSecrets(logged);
});

describe('redactSecrets', () => {
  const cases: Array<[string, string]> = [
    ['postgres://u:hunter2@h/db', 'postgres://u:****@h/db'],
    [
      'failed: postgresql://admin:p%40ss@db.example.com:5432/x?sslmode=require',
      'failed: postgresql://admin:****@db.example.com:5432/x?sslmode=require',
    ],
    ['raw @ in password postgres://u:p@ss@h:5432/db', 'raw @ in password postgres://u:****@h:5432/db'],
    ['no password postgres://u@h/db and http://host:8080/path', 'no password postgres://u@h/db and http://host:8080/path'],
    ['Authorization: Bearer abcdefGHIJ1234567890._-~+/=', 'Authorization: Bearer ****'],
    [`Authorization: Bot ${TOKEN}`, 'Authorization: Bot ****'],
    [`token was ${TOKEN}.`, 'token was ****.'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'jwt ****'],
    [`GROQ_API_KEY=${GROQ_KEY}`, 'GROQ_API_KEY=gsk_****'],
    ['key hf_AbCdEfGhIjKlMnOpQrStUv here', 'key hf_**** here'],
    ['sk-proj-abcdefghijklmnop1234', 'sk-****'],
    ['host=h user=u password=hunter2 dbname=x', 'host=h user=u password=**** dbname=x'],
    ['{"password":"hunter2"}', '{"password":"****"}'],
    ['Bot is ready in 3 guilds; see https://example.com/docs/v1.2.3', 'Bot is ready in 3 guilds; see https://example.com/docs/v1.2.3'],
    ['', ''],
  ];
  for (const [input, expected] of cases) {
    test(JSON.stringify(input).slice(0, 60), () => {
      assert.equal(redactSecrets(input), expected);
    });
  }

  test('known literal secrets are replaced wherever they appear', () => {
    assert.equal(redactSecrets('value=abc.def-123 and abc.def-123', ['abc.def-123']), 'value=**** and ****');
    assert.equal(redactSecrets('short ab stays', ['ab', undefined, null, '']), 'short ab stays');
  });

  test('idempotent', () => {
    for (const [input] of cases) {
      const once = redactSecrets(input);
      assert.equal(redactSecrets(once), once);
    }
  });
});
