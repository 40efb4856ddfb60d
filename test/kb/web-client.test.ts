/**
 * The polite HTTP client against the fake docs site (test/fakes/web.ts): User-Agent, at most 4
 * requests in flight per host, time and size limits (streamed, the gzip bomb), redirects checked
 * hop by hop, Retry-After honoured and capped, conditional requests, one-line classified errors,
 * and the link-local rule (behind a tripwire that keeps every packet on loopback).
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_REDIRECTS,
  DEFAULT_PER_HOST,
  DEFAULT_TIMEOUT_MS,
  USER_AGENT,
  WebClient,
  type FetchedBody,
  type WebClientOptions,
} from '../../src/kb/fetch/client.js';
import { FetchError, type FetchFailure } from '../../src/kb/fetch/errors.js';
import type { Resolver } from '../../src/kb/fetch/address.js';
import { BOMB_BYTES, HUGE_BYTES, startFakeWeb, type FakeWeb } from '../fakes/web.js';
import { guardLinkLocal, type LinkLocalGuard } from '../support/link-local-guard.js';

const version = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;

async function failure(p: Promise<unknown>): Promise<FetchError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof FetchError, `expected a FetchError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
    return err;
  }
  assert.fail('expected the fetch to fail');
}

async function expectFailure(p: Promise<unknown>, reason: FetchFailure, message?: RegExp): Promise<FetchError> {
  const err = await failure(p);
  assert.equal(err.reason, reason, err.message);
  if (message) assert.match(err.message, message);
  return err;
}

function body(r: Awaited<ReturnType<WebClient['get']>>): FetchedBody {
  assert.equal(r.kind, 'body');
  return r;
}

describe('web client', () => {
  let web: FakeWeb;
  const clients: WebClient[] = [];
  const client = (opts: WebClientOptions = {}) => {
    const c = new WebClient(opts);
    clients.push(c);
    return c;
  };
  const paths = () => web.requests.map((r) => r.path);

  before(async () => {
    web = await startFakeWeb({ generated: 20 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await web.close();
  });
  beforeEach(() => {
    web.requests.length = 0;
  });

  test('defaults: 4 per host, 15 s, 10 MB, 5 redirects; a User-Agent naming copilot and its version', async () => {
    const c = client();
    assert.equal(DEFAULT_PER_HOST, 4);
    assert.equal(c.timeoutMs, DEFAULT_TIMEOUT_MS);
    assert.equal(DEFAULT_TIMEOUT_MS, 15_000);
    assert.equal(c.maxBytes, DEFAULT_MAX_BYTES);
    assert.equal(DEFAULT_MAX_BYTES, 10 * 1024 * 1024);
    assert.equal(DEFAULT_MAX_REDIRECTS, 5);
    assert.equal(USER_AGENT, `copilot/${version} (knowledge-base ingest)`);
    const r = body(await c.get(web.url('/docs/install'), { explicit: true }));
    assert.equal(r.status, 200);
    assert.equal(r.contentType, 'text/html');
    assert.equal(r.charset, 'utf-8');
    assert.equal(r.sniffed, false);
    assert.equal(r.finalUrl, web.url('/docs/install'));
    assert.equal(r.etag, web.page('/docs/install')!.etag);
    assert.equal(r.lastModified, web.page('/docs/install')!.lastModified);
    assert.equal(r.bytes, r.body.length);
    assert.ok(web.requests.length > 0);
    for (const req of web.requests) assert.equal(req.headers['user-agent'], USER_AGENT);
  });

  test('at most 4 requests in flight per host, however many are asked for at once', async () => {
    web.setLatency(40);
    try {
      const c = client();
      const urls = Array.from({ length: 20 }, (_, i) => web.url(`/gen/page-${String(i + 1).padStart(3, '0')}`));
      const results = await Promise.all(urls.map((u) => c.get(u, { explicit: true })));
      assert.equal(results.length, 20);
      assert.equal(web.maxConcurrent('/gen/'), 4);
    } finally {
      web.setLatency(0);
    }
  });

  test('content type comes from Content-Type, not the extension; sniffed only when absent', async () => {
    const c = client();
    const pdf = body(await c.get(web.url('/docs/manual'), { explicit: true }));
    assert.equal(pdf.contentType, 'application/pdf');
    assert.equal(pdf.body.subarray(0, 5).toString(), '%PDF-');
    const notes = body(await c.get(web.url('/docs/release-notes.pdf'), { explicit: true }));
    assert.equal(notes.contentType, 'text/html');
    const untyped = body(await c.get(web.url('/bad/untyped'), { explicit: true }));
    assert.equal(untyped.contentType, 'text/html');
    assert.equal(untyped.sniffed, true);
    await expectFailure(
      c.get(web.url('/bad/archive'), { explicit: true, accept: (t) => t === 'text/html', acceptName: 'HTML or PDF' }),
      'unsupported_type',
      /unsupported content type application\/zip \(expected HTML or PDF\)/,
    );
    await expectFailure(c.get(web.url('/bad/empty'), { explicit: true }), 'empty', /empty response/);
  });

  describe('limits', () => {
    test('a request that does not complete in time fails as a timeout (no answer, or a body that trickles)', async () => {
      const c = client({ timeoutMs: 400 });
      const t0 = performance.now();
      await expectFailure(c.get(web.url('/bad/hang'), { explicit: true }), 'timeout', /no complete response within 0.4 s/);
      // The trickle sends its headers at once and a paragraph a second: the limit covers the whole body.
      await expectFailure(c.get(web.url('/bad/trickle'), { explicit: true }), 'timeout');
      assert.ok(performance.now() - t0 < 3000, 'both ended near the limit');
      web.delay('/docs/install', 1000);
      try {
        await expectFailure(c.get(web.url('/docs/install'), { explicit: true }), 'timeout');
      } finally {
        web.delay('/docs/install', 0);
      }
    });

    test('a declared length over 10 MB is refused before the body is read', async () => {
      const err = await expectFailure(client().get(web.url('/bad/huge'), { explicit: true }), 'too_large', /limit of 10 MB/);
      assert.equal(err.url, web.url('/bad/huge'));
      await new Promise((r) => setTimeout(r, 50));
      const rec = web.requests.find((r) => r.path === '/bad/huge')!;
      assert.equal(rec.completed, false);
      assert.ok(rec.bytes < HUGE_BYTES / 2, `the server wrote ${rec.bytes} bytes`);
    });

    test('a body without Content-Length is cut off once it passes 10 MB', async () => {
      await expectFailure(client().get(web.url('/bad/huge-chunked'), { explicit: true }), 'too_large', /limit of 10 MB/);
      // The same page under a larger limit is read whole: the limit, not the transfer, failed it.
      const r = body(await client({ maxBytes: HUGE_BYTES }).get(web.url('/bad/huge-chunked'), { explicit: true }));
      assert.equal(r.bytes, HUGE_BYTES);
    });

    test('a small gzip body that inflates past the limit (a bomb) is cut off while decoding', async () => {
      const before = process.memoryUsage().rss;
      const t0 = performance.now();
      await expectFailure(client().get(web.url('/bad/bomb'), { explicit: true }), 'too_large');
      assert.ok(performance.now() - t0 < 5000);
      assert.ok(process.memoryUsage().rss - before < BOMB_BYTES, 'the decoded bomb was never held whole');
      // Under a larger limit the same body decodes: the limit counts decoded bytes.
      const r = body(await client({ maxBytes: BOMB_BYTES + 1024 }).get(web.url('/bad/bomb'), { explicit: true }));
      assert.equal(r.bytes, BOMB_BYTES);
    });

    test('a per-fetch limit, and truncation on request (robots.txt)', async () => {
      const c = client();
      await expectFailure(c.get(web.url('/docs/install'), { explicit: true, maxBytes: 1000 }), 'too_large', /limit of 1000 bytes/);
      const r = body(await c.get(web.url('/docs/install'), { explicit: true, maxBytes: 1000, truncate: true }));
      assert.equal(r.bytes, 1000);
      // A body still streaming when the limit is reached is cut there too, not lost as a broken connection.
      for (const path of ['/bad/huge', '/bad/huge-chunked']) {
        const big = body(await c.get(web.url(path), { explicit: true, maxBytes: 100_000, truncate: true }));
        assert.equal(big.bytes, 100_000, path);
      }
    });
  });

  describe('redirects', () => {
    test('a chain of 5 is followed to its end; 6 are refused after the fifth', async () => {
      const c = client();
      const r = body(await c.get(web.url('/r/5/docs/install?x=1'), { explicit: true }));
      assert.equal(r.finalUrl, web.url('/docs/install?x=1'));
      assert.equal(r.redirects.length, 5);
      assert.equal(r.url, web.url('/r/5/docs/install?x=1'));
      assert.deepEqual(
        paths().filter((p) => p !== '/robots.txt'),
        [
          '/r/5/docs/install?x=1',
          '/r/4/docs/install?x=1',
          '/r/3/docs/install?x=1',
          '/r/2/docs/install?x=1',
          '/r/1/docs/install?x=1',
          '/docs/install?x=1',
        ],
      );
      web.requests.length = 0;
      await expectFailure(c.get(web.url('/r/6/docs/install'), { explicit: true }), 'too_many_redirects', /more than 5 redirects/);
      assert.equal(web.requests.length, 6, 'the sixth redirect was not followed');
      assert.ok(!paths().includes('/docs/install'));
    });

    test('a loop is refused as a loop', async () => {
      await expectFailure(client().get(web.url('/bad/loop'), { explicit: true }), 'redirect_loop', /redirect loop/);
      assert.deepEqual(paths(), ['/bad/loop', '/bad/loop-2']);
    });

    test('each hop is checked: scheme, robots.txt for discovered URLs, and the caller’s own rule', async () => {
      const c = client();
      web.redirect('/docs/to-ftp', 'ftp://127.0.0.1/pub/relay/', 302);
      web.redirect('/docs/to-file', 'file:///etc/passwd', 301);
      web.redirect('/docs/to-private', '/docs/private/roadmap', 302);
      web.redirect('/docs/to-other', web.other.url('/partners/'), 302);
      try {
        await expectFailure(c.get(web.url('/docs/to-ftp'), { explicit: true }), 'scheme', /redirected to ftp:/);
        await expectFailure(c.get(web.url('/docs/to-file'), { explicit: true }), 'scheme');
        await expectFailure(c.get(web.url('/docs/to-private')), 'robots', /redirected to .*\/docs\/private\/roadmap.*disallowed by/);
        assert.ok(!paths().includes('/docs/private/roadmap'), 'the disallowed target was never requested');
        await expectFailure(
          c.get(web.url('/docs/to-other'), { refuseRedirect: (u) => (u.origin === web.origin ? null : 'another origin') }),
          'redirect_refused',
          /another origin/,
        );
        assert.equal(web.other.requests.length, 0);
        const r = body(await c.get(web.url('/docs'), { explicit: true }));
        assert.equal(r.finalUrl, web.url('/docs/'));
      } finally {
        for (const p of ['/docs/to-ftp', '/docs/to-file', '/docs/to-private', '/docs/to-other']) web.restore(p);
      }
    });
  });

  describe('429 and 503', () => {
    test('Retry-After in seconds is waited for, then the request is repeated', async () => {
      web.fail('/docs/install', { status: 503, times: 1, retryAfter: 1 });
      try {
        const r = body(await client().get(web.url('/docs/install'), { explicit: true }));
        assert.equal(r.status, 200);
        const reqs = web.requests.filter((q) => q.path === '/docs/install');
        assert.deepEqual(
          reqs.map((q) => q.status),
          [503, 200],
        );
        const gap = reqs[1]!.at - reqs[0]!.endedAt!;
        assert.ok(gap >= 950, `waited ${gap} ms`);
        assert.ok(gap < 3000, `waited ${gap} ms`);
      } finally {
        web.restore('/docs/install');
      }
    });

    test('Retry-After as an HTTP date is honoured too', async () => {
      web.fail('/docs/install', { status: 429, times: 1, retryAfter: new Date(Date.now() + 2000).toUTCString() });
      try {
        body(await client().get(web.url('/docs/install'), { explicit: true }));
        const reqs = web.requests.filter((q) => q.path === '/docs/install');
        assert.equal(reqs.length, 2);
        const gap = reqs[1]!.at - reqs[0]!.endedAt!;
        assert.ok(gap >= 900, `waited ${gap} ms`); // the date has a resolution of one second
      } finally {
        web.restore('/docs/install');
      }
    });

    test('a long Retry-After is capped', async () => {
      web.fail('/docs/install', { status: 429, times: 1, retryAfter: 3600 });
      try {
        const t0 = performance.now();
        body(await client({ retryAfterCapMs: 300 }).get(web.url('/docs/install'), { explicit: true }));
        const ms = performance.now() - t0;
        assert.ok(ms >= 290 && ms < 2500, `took ${ms} ms`);
      } finally {
        web.restore('/docs/install');
      }
    });

    test('the attempts are bounded: then the status is the error', async () => {
      web.fail('/docs/install', { status: 503, retryAfter: 0 });
      try {
        const err = await expectFailure(
          client({ maxAttempts: 3, retryAfterCapMs: 50 }).get(web.url('/docs/install'), { explicit: true }),
          'http_status',
          /HTTP 503 Service Unavailable/,
        );
        assert.equal(err.status, 503);
        assert.equal(web.requests.filter((q) => q.path === '/docs/install').length, 3);
      } finally {
        web.restore('/docs/install');
      }
    });

    test('while one request waits for its Retry-After, the host gets no other request', async () => {
      web.fail('/docs/install', { status: 429, times: 1, retryAfter: 1 });
      const c = client();
      try {
        const first = c.get(web.url('/docs/install'), { explicit: true });
        for (let i = 0; i < 200 && !web.requests.some((q) => q.path === '/docs/install' && q.endedAt !== undefined); i++) {
          await new Promise((r) => setTimeout(r, 5));
        }
        const limited = web.requests.find((q) => q.path === '/docs/install')!;
        await new Promise((r) => setTimeout(r, 100)); // the client has read the 429 by now
        await c.get(web.url('/docs/configuration'), { explicit: true });
        await first;
        const other = web.requests.find((q) => q.path === '/docs/configuration')!;
        assert.ok(other.at - limited.endedAt! >= 850, `the other request came ${other.at - limited.endedAt!} ms after the 429`);
      } finally {
        web.restore('/docs/install');
      }
    });
  });

  describe('conditional requests', () => {
    test('the ETag of a previous fetch → If-None-Match → not modified; a change → the new page', async () => {
      const c = client();
      const first = body(await c.get(web.url('/docs/webhooks'), { explicit: true }));
      assert.ok(first.etag?.startsWith('W/"'));
      const again = await c.get(web.url('/docs/webhooks'), { explicit: true, etag: first.etag, lastModified: first.lastModified });
      assert.equal(again.kind, 'not_modified');
      assert.equal(again.etag, first.etag);
      assert.equal(again.finalUrl, web.url('/docs/webhooks'));
      const req = web.requests.filter((q) => q.path === '/docs/webhooks')[1]!;
      assert.equal(req.headers['if-none-match'], first.etag);
      assert.equal(req.headers['if-modified-since'], first.lastModified);
      assert.equal(req.status, 304);
      const changed = web.change('/docs/webhooks');
      const third = body(await c.get(web.url('/docs/webhooks'), { explicit: true, etag: first.etag, lastModified: first.lastModified }));
      assert.equal(third.etag, changed.etag);
      assert.notEqual(third.etag, first.etag);
      assert.match(third.body.toString(), /Revision 2 of \/docs\/webhooks/);
    });

    test('a 304 keeps its connection: re-checking pages one after another uses one connection', async () => {
      const c = client();
      const pages = ['/gen/page-001', '/gen/page-002', '/gen/page-003', '/gen/page-004'];
      const first = [];
      for (const p of pages) first.push(body(await c.get(web.url(p))));
      web.requests.length = 0;
      for (const f of first) assert.equal((await c.get(f.url, { etag: f.etag, lastModified: f.lastModified })).kind, 'not_modified');
      const checks = web.requests.filter((q) => pages.includes(q.path));
      assert.deepEqual(
        checks.map((q) => q.status),
        [304, 304, 304, 304],
      );
      assert.equal(new Set(checks.map((q) => q.clientPort)).size, 1, 'one connection for every 304');
    });

    test('Last-Modified alone works too; without validators a 304 is never asked for', async () => {
      const c = client();
      web.setValidators({ etag: false });
      try {
        const first = body(await c.get(web.url('/docs/install'), { explicit: true }));
        assert.equal(first.etag, null);
        assert.ok(first.lastModified);
        const again = await c.get(web.url('/docs/install'), { explicit: true, lastModified: first.lastModified });
        assert.equal(again.kind, 'not_modified');
        const plain = await c.get(web.url('/docs/install'), { explicit: true });
        assert.equal(plain.kind, 'body');
        assert.equal(web.requests.filter((q) => q.path === '/docs/install').at(-1)!.headers['if-modified-since'], undefined);
      } finally {
        web.setValidators({ etag: true });
      }
    });
  });

  describe('failures, one line each', () => {
    test('HTTP errors: 404 and 410 are gone, others name their status', async () => {
      const c = client();
      assert.equal((await expectFailure(c.get(web.url('/login'), { explicit: true }), 'gone', /gone \(HTTP 404 Not Found\)/)).status, 404);
      assert.equal((await expectFailure(c.get(web.url('/bad/gone'), { explicit: true }), 'gone', /HTTP 410/)).status, 410);
      assert.equal((await expectFailure(c.get(web.url('/bad/error'), { explicit: true }), 'http_status', /HTTP 500/)).status, 500);
    });

    test('a connection reset before or during the response', async () => {
      const c = client();
      await expectFailure(c.get(web.url('/bad/drop'), { explicit: true }), 'connection');
      await expectFailure(c.get(web.url('/bad/reset'), { explicit: true }), 'connection');
    });

    test('an unreachable host, a DNS failure, a TLS failure', async () => {
      const closed = http.createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((r) => closed.close(() => r()));
      const resolve: Resolver = async (host) => {
        if (host === 'docs.test') return [{ address: '127.0.0.1', family: 4 }];
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      };
      const c = client({ resolve });
      await expectFailure(c.get(`http://127.0.0.1:${port}/docs/`, { explicit: true }), 'unreachable', /unreachable \(ECONNREFUSED\)/);
      await expectFailure(c.get('http://nowhere.test/docs/', { explicit: true }), 'dns', /DNS lookup of nowhere\.test failed/);
      // TLS spoken to a plain HTTP server fails the handshake.
      await expectFailure(c.get(`https://127.0.0.1:${web.port}/docs/`, { explicit: true }), 'tls', /TLS error/);
      // A name the resolver knows is fetched from the address it gives.
      const r = body(await c.get(`http://docs.test:${web.port}/docs/install`, { explicit: true }));
      assert.equal(r.status, 200);
    });
  });

  describe('link-local addresses', () => {
    let guard: LinkLocalGuard;
    const resolve: Resolver = async (host) => {
      if (host === 'metadata.test') return [{ address: '169.254.169.254', family: 4 }];
      if (host === 'v6meta.test') return [{ address: 'fe80::a9fe:a9fe', family: 6 }];
      if (host === 'docs.test') return [{ address: '127.0.0.1', family: 4 }];
      throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    };
    beforeEach(() => {
      guard = guardLinkLocal();
    });
    afterEach(() => guard.restore());

    test('a discovered URL to a link-local address, literal or resolved, is never requested', async () => {
      const c = client({ resolve });
      const p = web.port;
      for (const u of [
        `http://169.254.169.254:${p}/latest/meta-data/`,
        `http://[fe80::1]:${p}/`,
        `http://[::ffff:169.254.169.254]:${p}/`,
        `http://metadata.test:${p}/latest/meta-data/`,
        `http://v6meta.test:${p}/`,
      ]) {
        await expectFailure(c.get(u), 'link_local', /link-local address/);
      }
      const named = await expectFailure(c.get(`http://metadata.test:${p}/x`), 'link_local');
      assert.match(named.message, /metadata\.test resolves to 169\.254\.169\.254/);
      assert.deepEqual(guard.attempts, [], 'no connection to a link-local address was attempted');
      assert.equal(web.requests.length, 0, 'not even robots.txt was asked for');
    });

    test('a redirect to a link-local host is refused, even from a URL given explicitly', async () => {
      web.redirect('/docs/meta', `http://metadata.test:${web.port}/latest/meta-data/`, 302);
      web.redirect('/docs/meta-ip', `http://169.254.169.254:${web.port}/latest/meta-data/`, 307);
      try {
        const c = client({ resolve });
        await expectFailure(c.get(web.url('/docs/meta'), { explicit: true }), 'link_local', /redirected to http:\/\/metadata\.test/);
        await expectFailure(c.get(web.url('/docs/meta-ip'), { explicit: true }), 'link_local');
        assert.deepEqual(guard.attempts, []);
        assert.ok(!paths().includes('/latest/meta-data/'));
      } finally {
        web.restore('/docs/meta');
        web.restore('/docs/meta-ip');
      }
    });

    test('a URL the operator gives explicitly may be link-local', async () => {
      const c = client({ resolve });
      // The tripwire sends these connections to the fake on 127.0.0.1.
      const r = body(await c.get(`http://metadata.test:${web.port}/docs/install`, { explicit: true }));
      assert.equal(r.status, 200);
      const lit = body(await c.get(`http://169.254.169.254:${web.port}/docs/install`, { explicit: true }));
      assert.equal(lit.status, 200);
      assert.ok(guard.attempts.length >= 2);
      assert.ok(guard.attempts.every((a) => a === '169.254.169.254'));
      assert.deepEqual(
        web.requests.map((q) => q.headers.host),
        [`metadata.test:${web.port}`, `169.254.169.254:${web.port}`],
      );
    });
  });
});

describe('web client: kept-alive connections', () => {
  test('a kept-alive connection the server resets as the next request arrives is retried once on a new connection', async () => {
    // Every connection serves its first request and resets on the second: what a server closing
    // an idle kept-alive connection looks like to a client that just reused it.
    let connections = 0;
    const page = Buffer.from('<html><head><title>t</title></head><body><p>hello</p></body></html>');
    const server = net.createServer((socket) => {
      connections++;
      let served = 0;
      let buf = '';
      socket.on('error', () => {});
      socket.on('data', (d) => {
        buf += d.toString('latin1');
        while (buf.includes('\r\n\r\n')) {
          buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
          if (++served === 1) {
            socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${page.length}\r\nConnection: keep-alive\r\n\r\n`);
            socket.write(page);
          } else socket.resetAndDestroy();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const c = new WebClient();
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const path of ['/a', '/b', '/c']) {
        const r = body(await c.get(`${base}${path}`, { explicit: true }));
        assert.equal(r.body.toString(), page.toString(), path);
      }
      assert.ok(connections >= 3, `${connections} connections`);
    } finally {
      c.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
