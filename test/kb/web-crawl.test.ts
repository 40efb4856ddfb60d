/**
 * Crawling the fake docs site: breadth-first by link distance, within the origin and the start
 * page's directory, each page once (fragments and tracking parameters dropped, other parameters
 * kept), robots.txt honoured, non-http links and other origins skipped and never requested, PDFs
 * returned as documents, max-pages, every broken page reported in one line, at most 4 in flight,
 * and the link-local rule for discovered links.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebClient, type WebClientOptions } from '../../src/kb/fetch/client.js';
import { crawl, type CrawlEvent } from '../../src/kb/fetch/crawl.js';
import type { Resolver } from '../../src/kb/fetch/address.js';
import { genFact, startFakeWeb, type FakeWeb } from '../fakes/web.js';
import { guardLinkLocal } from '../support/link-local-guard.js';

async function collect(gen: AsyncIterable<CrawlEvent>): Promise<CrawlEvent[]> {
  const out: CrawlEvent[] = [];
  for await (const e of gen) out.push(e);
  return out;
}

const of = <K extends CrawlEvent['kind']>(events: CrawlEvent[], kind: K) =>
  events.filter((e): e is Extract<CrawlEvent, { kind: K }> => e.kind === kind);

describe('crawl', () => {
  let web: FakeWeb;
  const clients: WebClient[] = [];
  const client = (opts: WebClientOptions = {}) => {
    const c = new WebClient(opts);
    clients.push(c);
    return c;
  };
  const pageRequests = () => web.requests.filter((r) => r.path !== '/robots.txt');

  before(async () => {
    web = await startFakeWeb({ generated: 200 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await web.close();
  });
  beforeEach(() => {
    web.requests.length = 0;
  });

  test('the handbook from /docs/: every reachable page under /docs/ once, robots honoured, nothing else requested', async () => {
    const events = await collect(crawl(client(), web.url('/docs/'), { maxPages: 100 }));
    const disallowed = (p: string) => p.startsWith('/docs/private/') || p.startsWith('/docs/internal/');
    const expected = web
      .pages()
      .filter((p) => p.path.startsWith('/docs/') && p.depth !== undefined && p.status === 200 && !disallowed(p.path))
      .map((p) => p.url)
      .sort();
    const docs = of(events, 'document');
    assert.deepEqual(docs.map((d) => d.url).sort(), expected);
    assert.ok(expected.length >= 12, `${expected.length} pages`);
    for (const d of docs) assert.equal(d.depth, web.page(new URL(d.url).pathname + new URL(d.url).search)!.depth, d.url);
    assert.deepEqual(of(events, 'failed'), []);

    // Each page requested once; no fragment, no tracking parameter; ?page=2 kept.
    const reqs = pageRequests().map((r) => r.path);
    assert.equal(new Set(reqs).size, reqs.length, `duplicates in ${reqs.join(' ')}`);
    assert.ok(reqs.includes('/docs/changelog?page=2'));
    for (const p of reqs) {
      assert.ok(!/[?&](utm_|ref=|fbclid|gclid)/.test(p), p);
      assert.ok(!p.includes('#'), p);
      assert.ok(p.startsWith('/docs/'), `outside the prefix: ${p}`);
    }
    assert.equal(web.requests.filter((r) => r.path === '/robots.txt').length, 1);
    assert.equal(web.other.requests.length, 0, 'the other origin was never asked for anything');

    // robots.txt: both groups' rules.
    const robots = of(events, 'skipped').filter((s) => s.reason === 'robots');
    assert.deepEqual(robots.map((s) => new URL(s.url).pathname).sort(), ['/docs/internal/oncall', '/docs/private/roadmap']);
    assert.ok(!reqs.some(disallowed));

    // Links that are not http(s), off the origin, or outside /docs/ are skipped, never requested.
    const skipped = of(events, 'skipped');
    const reason = (u: string) => skipped.find((s) => s.url === u)?.reason;
    for (const u of [
      'mailto:support@acme-relay.example',
      'tel:+351210000000',
      'file:///srv/mirror/relay-docs/index.html',
      'javascript:void(0)',
    ]) {
      assert.equal(reason(u), 'scheme', u);
    }
    assert.equal(reason(`ftp://${new URL(web.other.origin).host}/pub/relay/`), 'scheme');
    assert.equal(reason(web.other.url('/partners/acme-relay')), 'other_origin');
    assert.equal(reason(web.other.url('/partners/')), 'other_origin', 'the protocol-relative link');
    for (const p of ['/blog/launch', '/pricing', '/login?next=%2Fdocs%2F', '/imprint'])
      assert.equal(reason(web.url(p)), 'outside_prefix', p);

    // The PDF is a document, by its content type.
    const manual = docs.find((d) => d.url === web.url('/docs/manual'))!;
    assert.equal(manual.document.kind, 'pdf');
    assert.equal(docs.find((d) => d.url === web.url('/docs/release-notes.pdf'))!.document.kind, 'html');

    const done = events.at(-1)!;
    assert.equal(done.kind, 'done');
    assert.deepEqual(done.kind === 'done' && done.scope, { origin: web.origin, prefix: '/docs/' });
    assert.equal(done.kind === 'done' && done.notFetched, 0);
  });

  test('breadth-first: no page is requested before every page nearer to the start', async () => {
    await collect(crawl(client(), web.url('/docs/'), { maxPages: 100 }));
    const depths = pageRequests()
      .sort((a, b) => a.startSeq - b.startSeq)
      .map((r) => web.page(r.path)!.depth!);
    for (let i = 1; i < depths.length; i++) assert.ok(depths[i]! >= depths[i - 1]!, `depths in request order: ${depths.join(',')}`);
    assert.ok(depths.includes(2));
  });

  test('max-pages: the nearest pages, in page order; the rest counted, not requested', async () => {
    const events = await collect(crawl(client(), web.url('/docs/'), { maxPages: 4 }));
    const docs = of(events, 'document').map((d) => new URL(d.url).pathname);
    assert.deepEqual(docs.slice(0, 1), ['/docs/']);
    assert.equal(pageRequests().length, 4);
    // The index's own link order (breadcrumb and header first, then the sidebar).
    const firstLinks = web
      .page('/docs/')!
      .links.filter((l) => l.startsWith('/docs/') && !l.startsWith('/docs/private') && !l.startsWith('/docs/internal'));
    assert.deepEqual(new Set(docs.slice(1)), new Set(firstLinks.slice(0, 3)));
    const done = events.at(-1)!;
    assert.ok(done.kind === 'done' && done.fetched === 4 && done.notFetched > 0, JSON.stringify(done));
  });

  test('max-pages counts requests: a page robots.txt disallows gives its place to the next', async () => {
    web.route('/robots.txt', { type: 'text/plain', body: 'User-agent: copilot\nDisallow: /docs/getting-started\n' });
    try {
      const events = await collect(crawl(client(), web.url('/docs/'), { maxPages: 3 }));
      assert.equal(pageRequests()[0]!.path, '/docs/', 'the start page first');
      assert.deepEqual(new Set(pageRequests().map((r) => r.path)), new Set(['/docs/', '/docs/install', '/docs/configuration']));
      assert.deepEqual(
        of(events, 'skipped')
          .filter((s) => s.reason === 'robots')
          .map((s) => s.url),
        [web.url('/docs/getting-started')],
      );
    } finally {
      web.restore('/robots.txt');
    }
  });

  test('the start page’s directory is the prefix; a start that redirects is scoped by where it lands', async () => {
    const fromPage = await collect(crawl(client(), web.url('/docs/install'), { maxPages: 100 }));
    const last = fromPage.at(-1)!;
    assert.deepEqual(last.kind === 'done' && last.scope, { origin: web.origin, prefix: '/docs/' });
    assert.ok(of(fromPage, 'document').some((d) => d.url === web.url('/docs/webhooks')));
    web.requests.length = 0;
    const viaRedirect = await collect(crawl(client(), web.url('/docs'), { maxPages: 3 }));
    const d = of(viaRedirect, 'document');
    assert.equal(d[0]!.document.finalUrl, web.url('/docs/'));
    assert.ok(
      !web.requests.some((r) => r.path === '/docs/' && r.startSeq > web.requests.find((q) => q.path === '/docs/')!.startSeq),
      '/docs/ once',
    );
    const end = viaRedirect.at(-1)!;
    assert.deepEqual(end.kind === 'done' && end.scope, { origin: web.origin, prefix: '/docs/' });
  });

  test('a page that redirects out of the scope is skipped, its target never requested', async () => {
    web.redirect('/gen/page-002', web.other.url('/elsewhere'), 302);
    web.redirect('/gen/page-003', '/blog/launch', 301);
    try {
      const events = await collect(crawl(client(), web.url('/gen/'), { maxPages: 300 }));
      const s = of(events, 'skipped').filter((e) => e.reason === 'redirected_outside');
      assert.deepEqual(s.map((e) => new URL(e.url).pathname).sort(), ['/gen/page-002', '/gen/page-003']);
      assert.equal(web.other.requests.length, 0);
      assert.ok(!web.requests.some((r) => r.path === '/blog/launch'));
    } finally {
      web.restore('/gen/page-002');
      web.restore('/gen/page-003');
    }
  });

  test('a page that redirects to one the crawl already has is a duplicate: one document for both', async () => {
    web.redirect('/gen/page-002', '/gen/page-001', 301);
    try {
      const events = await collect(crawl(client(), web.url('/gen/'), { maxPages: 300 }));
      const docs = of(events, 'document');
      const landed = docs.filter((d) => d.document.finalUrl === web.url('/gen/page-001'));
      assert.equal(landed.length, 1, landed.map((d) => d.url).join(' '));
      const dup = of(events, 'skipped').filter((s) => s.reason === 'duplicate');
      assert.equal(dup.length, 1);
      assert.ok([web.url('/gen/page-001'), web.url('/gen/page-002')].includes(dup[0]!.url));
      assert.equal(dup[0]!.detail, web.url('/gen/page-001'));
      assert.equal(docs.length, 200, 'the other pages are all there');
    } finally {
      web.restore('/gen/page-002');
    }
  });

  test('the 200-page generated site: every page once, each with its own fact, at most 4 in flight', async () => {
    web.setLatency(5);
    try {
      const events = await collect(crawl(client(), web.url('/gen/'), { maxPages: 1000, concurrency: 16 }));
      const docs = of(events, 'document');
      assert.equal(docs.length, 201);
      assert.equal(new Set(pageRequests().map((r) => r.path)).size, pageRequests().length);
      for (let i = 1; i <= 200; i++) {
        const d = docs.find((x) => x.url === web.url(`/gen/page-${String(i).padStart(3, '0')}`));
        assert.ok(d && d.document.kind === 'html', `page ${i}`);
        assert.ok(
          d.document.kind === 'html' && d.document.units.some((u) => u.text.replace(/\s+/g, ' ').includes(genFact(i))),
          `fact ${i}`,
        );
      }
      const max = web.maxConcurrent('/gen/');
      assert.ok(max <= 4 && max >= 2, `${max} in flight at most`);
    } finally {
      web.setLatency(0);
    }
  });

  test('the broken pages: each reported in one line, the working one kept, the crawl goes on', async () => {
    const events = await collect(crawl(client({ timeoutMs: 3000 }), web.url('/bad/'), { maxPages: 50 }));
    const failed = new Map(of(events, 'failed').map((f) => [new URL(f.url).pathname, f.error]));
    const expected: Record<string, string> = {
      '/bad/archive': 'unsupported_type',
      '/bad/logo': 'unsupported_type',
      '/bad/empty': 'empty',
      '/bad/blank': 'empty_page',
      '/bad/huge': 'too_large',
      '/bad/huge-chunked': 'too_large',
      '/bad/bomb': 'too_large',
      '/bad/loop': 'redirect_loop',
      '/bad/error': 'http_status',
      '/bad/gone': 'gone',
      '/bad/reset': 'connection',
      '/bad/drop': 'connection',
      '/bad/missing': 'gone',
      '/bad/sitemap-not-xml.xml': 'unsupported_type',
      '/bad/sitemap-loop.xml': 'unsupported_type',
    };
    for (const [path, reason] of Object.entries(expected)) {
      const err = failed.get(path);
      assert.ok(err, `${path} reported`);
      assert.equal(err.reason, reason, `${path}: ${err.message}`);
      assert.ok(!err.message.includes('\n') && err.message.startsWith(web.url(path)), err.message);
    }
    const docs = of(events, 'document').map((d) => new URL(d.url).pathname);
    assert.deepEqual(docs.sort(), ['/bad/', '/bad/ok', '/bad/untyped']);
  });

  test('a start page the crawl cannot have: one failure, then done', async () => {
    const events = await collect(crawl(client(), web.url('/nowhere/'), { maxPages: 10 }));
    assert.deepEqual(
      events.map((e) => e.kind),
      ['failed', 'done'],
    );
    const bad = await collect(crawl(client(), 'ftp://example.test/', { maxPages: 10 }));
    assert.equal(bad[0]?.kind === 'failed' && bad[0].error.reason, 'scheme');
  });

  test('a start on a link-local host (given explicitly) is fetched; its discovered links are not', async () => {
    const guard = guardLinkLocal();
    const resolve: Resolver = async (h) => {
      if (h === 'metadata.test') return [{ address: '169.254.169.254', family: 4 }];
      throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    };
    try {
      const events = await collect(crawl(client({ resolve }), `http://metadata.test:${web.port}/docs/`, { maxPages: 20 }));
      assert.deepEqual(
        of(events, 'document').map((d) => d.url),
        [`http://metadata.test:${web.port}/docs/`],
      );
      const linkLocal = of(events, 'skipped').filter((s) => s.reason === 'link_local');
      assert.ok(linkLocal.length >= 6, `${linkLocal.length} links skipped as link-local`);
      assert.deepEqual(
        web.requests.map((r) => r.path),
        ['/robots.txt', '/docs/'],
      );
      assert.ok(guard.attempts.every((a) => a === '169.254.169.254'));
    } finally {
      guard.restore();
    }
  });
});
