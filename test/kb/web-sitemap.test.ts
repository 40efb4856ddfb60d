/**
 * Sitemaps: parsing (urlset and index, namespaces and prefixes, `<loc>` over lines, other
 * namespaces ignored, plain text, not-XML) and reading the fake site's sitemaps (the index,
 * nested indexes, a gzip file recognised by its bytes, a self-listing index, depth and origin
 * guards, a failing nested sitemap).
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { WebClient } from '../../src/kb/fetch/client.js';
import { FetchError } from '../../src/kb/fetch/errors.js';
import { parseSitemap, readSitemaps, sitemapText } from '../../src/kb/fetch/sitemap.js';
import { startFakeWeb, type FakeWeb } from '../fakes/web.js';

const NS = 'http://www.sitemaps.org/schemas/sitemap/0.9';

async function rejects(p: Promise<unknown>, reason: string, message?: RegExp): Promise<FetchError> {
  const err = await p.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof FetchError, String(err));
  assert.equal(err.reason, reason, err.message);
  assert.ok(!err.message.includes('\n'), err.message);
  if (message) assert.match(err.message, message);
  return err;
}

describe('parseSitemap', () => {
  test('a urlset: locs in order, trimmed over lines, lastmod kept; other namespaces ignored', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="${NS}" xmlns:xhtml="http://www.w3.org/1999/xhtml" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc>https://x.test/a</loc><lastmod>2024-03-04</lastmod></url>
  <url>
    <loc>
      https://x.test/b?x=1&amp;y=2
    </loc>
    <xhtml:link rel="alternate" hreflang="de" href="https://x.test/de/b"/>
    <image:image><image:loc>https://x.test/b.png</image:loc></image:image>
  </url>
  <url><loc><![CDATA[https://x.test/c]]></loc></url>
  <url><lastmod>2024-01-01</lastmod></url>
</urlset>`;
    assert.deepEqual(parseSitemap(xml, 'https://x.test/sitemap.xml'), {
      kind: 'urlset',
      entries: [
        { url: 'https://x.test/a', lastmod: '2024-03-04' },
        { url: 'https://x.test/b?x=1&y=2', lastmod: null },
        { url: 'https://x.test/c', lastmod: null },
      ],
    });
  });

  test('a prefixed namespace and a sitemap index', () => {
    const xml = `<sm:sitemapindex xmlns:sm="${NS}"><sm:sitemap><sm:loc>https://x.test/s1.xml</sm:loc></sm:sitemap><sm:sitemap><sm:loc>https://x.test/s2.xml.gz</sm:loc><sm:lastmod>2024-03-06</sm:lastmod></sm:sitemap></sm:sitemapindex>`;
    assert.deepEqual(parseSitemap(xml, 'https://x.test/i.xml'), {
      kind: 'index',
      entries: [
        { url: 'https://x.test/s1.xml', lastmod: null },
        { url: 'https://x.test/s2.xml.gz', lastmod: '2024-03-06' },
      ],
    });
  });

  test('a plain-text sitemap: a URL per line', () => {
    assert.deepEqual(parseSitemap('https://x.test/a\r\n\nhttps://x.test/b\n', 'https://x.test/s.txt', 'text/plain').entries, [
      { url: 'https://x.test/a', lastmod: null },
      { url: 'https://x.test/b', lastmod: null },
    ]);
  });

  test('not XML, or XML that is not a sitemap: a clear one-line error', () => {
    for (const [text, why] of [
      ['Sitemap generation failed\n{"error": "timeout"} <<<', /not XML: line \d+, column \d+/],
      ['<urlset><url><loc>https://x.test/a', /not XML/],
      ['<!DOCTYPE html><html><body><p>Not found<br></body></html>', /root element is <html>/],
      ['<rss version="2.0"><channel/></rss>', /root element is <rss>/],
      ['', /not XML|no root element/],
    ] as const) {
      assert.throws(
        () => parseSitemap(text, 'https://x.test/s.xml'),
        (err: unknown) => {
          assert.ok(err instanceof FetchError && err.reason === 'not_sitemap', String(err));
          assert.match(err.message, /^https:\/\/x\.test\/s\.xml: not a sitemap \(/);
          assert.match(err.message, why);
          assert.ok(!err.message.includes('\n'), err.message);
          return true;
        },
      );
    }
  });

  test('entities are not expanded (no DTD processing)', () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><urlset xmlns="${NS}"><url><loc>https://x.test/&b;</loc></url></urlset>`;
    assert.throws(() => parseSitemap(xml, 'https://x.test/s.xml'), FetchError);
  });

  test('gzip is recognised by its bytes and bounded once decompressed', () => {
    const xml = `<urlset xmlns="${NS}"><url><loc>https://x.test/a</loc></url></urlset>`;
    assert.equal(sitemapText(gzipSync(xml), 'https://x.test/s'), xml);
    assert.equal(sitemapText(Buffer.from(xml), 'https://x.test/s.xml.gz'), xml);
    assert.throws(
      () => sitemapText(gzipSync(Buffer.alloc(2 * 1024 * 1024, 0x20)), 'https://x.test/s', 1024 * 1024),
      (err: unknown) => err instanceof FetchError && err.reason === 'too_large',
    );
    assert.throws(
      () => sitemapText(Buffer.from([0x1f, 0x8b, 1, 2, 3]), 'https://x.test/s'),
      (err: unknown) => err instanceof FetchError && err.reason === 'bad_encoding',
    );
  });
});

describe('readSitemaps', () => {
  let web: FakeWeb;
  let client: WebClient;
  const count = (path: string) => web.requests.filter((r) => r.path === path).length;

  before(async () => {
    web = await startFakeWeb({ generated: 30 });
    client = new WebClient();
  });
  after(async () => {
    client.close();
    await web.close();
  });
  beforeEach(() => {
    web.requests.length = 0;
  });

  test('the site index: every page of every sitemap (nested index and gzip file included), in order, once', async () => {
    const r = await readSitemaps(client, web.url('/sitemap.xml'));
    assert.deepEqual(
      r.pages.map((p) => p.url),
      web.sitemapUrls(),
    );
    assert.ok(r.pages.length > 10);
    assert.ok(
      r.pages.some((p) => p.url === web.url('/blog/launch')),
      'from the gzip sitemap',
    );
    assert.ok(
      r.pages.some((p) => p.url === web.url('/archive/relay-1')),
      'from the nested index',
    );
    assert.ok(
      r.pages.some((p) => p.url === web.url('/docs/manual')),
      'the PDF is listed like any page',
    );
    assert.ok(!r.pages.some((p) => p.url.includes('/de/')), 'an xhtml:link alternate is not a page');
    for (const p of r.pages) assert.match(p.lastmod ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(
      new Set(r.sitemaps),
      new Set(
        ['/sitemap.xml', '/sitemaps/docs.xml', '/sitemaps/blog.xml.gz', '/sitemaps/archive-index.xml', '/sitemaps/archive.xml'].map((p) =>
          web.url(p),
        ),
      ),
    );
    assert.deepEqual(r.failures, []);
    for (const s of r.sitemaps) assert.equal(count(new URL(s).pathname), 1, s);
    // Only sitemaps were requested: the pages are for the caller to fetch.
    assert.ok(web.requests.every((q) => q.path === '/robots.txt' || q.path.startsWith('/sitemap')));
    assert.equal(web.other.requests.length, 0);
  });

  test('one sitemap alone, and the generated site’s', async () => {
    const docs = await readSitemaps(client, web.url('/sitemaps/docs.xml'));
    assert.deepEqual(
      docs.pages.map((p) => p.url),
      web.sitemapUrls('/sitemaps/docs.xml'),
    );
    const gen = await readSitemaps(client, web.url('/gen/sitemap.xml'));
    assert.equal(gen.pages.length, 30);
  });

  test('a gzip sitemap whose name and type say nothing of gzip is still read', async () => {
    const xml = `<urlset xmlns="${NS}"><url><loc>${web.url('/docs/install')}</loc></url></urlset>`;
    web.route('/sm/plain', { type: 'application/octet-stream', body: gzipSync(xml) });
    try {
      const r = await readSitemaps(client, web.url('/sm/plain'));
      assert.deepEqual(
        r.pages.map((p) => p.url),
        [web.url('/docs/install')],
      );
    } finally {
      web.restore('/sm/plain');
    }
  });

  test('a sitemap that is not XML is a clear error', async () => {
    await rejects(
      readSitemaps(client, web.url('/bad/sitemap-not-xml.xml')),
      'not_sitemap',
      /sitemap-not-xml\.xml: not a sitemap \(not XML/,
    );
    await rejects(readSitemaps(client, web.url('/docs/install')), 'not_sitemap');
    await rejects(readSitemaps(client, web.url('/sitemaps/missing.xml')), 'gone');
  });

  test('an index listing itself ends: each sitemap read once', async () => {
    const r = await readSitemaps(client, web.url('/bad/sitemap-loop.xml'));
    assert.deepEqual(r.pages, []);
    assert.equal(count('/bad/sitemap-loop.xml'), 1);
    assert.equal(count('/bad/sitemap-loop-2.xml'), 1);
    assert.ok(r.skipped.length >= 1 && r.skipped.every((s) => s.reason === 'seen'));
  });

  test('indexes nested deeper than the limit are not followed', async () => {
    const depth = 8;
    for (let i = 0; i < depth; i++) {
      web.route(`/sm/deep-${i}.xml`, {
        type: 'application/xml',
        body: `<sitemapindex xmlns="${NS}"><sitemap><loc>${web.url(`/sm/deep-${i + 1}.xml`)}</loc></sitemap></sitemapindex>`,
      });
    }
    try {
      const r = await readSitemaps(client, web.url('/sm/deep-0.xml'), { maxDepth: 3 });
      assert.equal(r.sitemaps.length, 4);
      assert.deepEqual(
        r.skipped.map((s) => s.reason),
        ['depth'],
      );
      assert.equal(count('/sm/deep-4.xml'), 0);
    } finally {
      for (let i = 0; i < depth; i++) web.restore(`/sm/deep-${i}.xml`);
    }
  });

  test('a nested sitemap that fails is reported, the others read; entries of other origins are skipped', async () => {
    web.route('/sm/mixed.xml', {
      type: 'application/xml',
      body: `<sitemapindex xmlns="${NS}">
        <sitemap><loc>${web.url('/sitemaps/archive.xml')}</loc></sitemap>
        <sitemap><loc>${web.url('/sm/missing.xml')}</loc></sitemap>
        <sitemap><loc>${web.url('/bad/sitemap-not-xml.xml')}</loc></sitemap>
        <sitemap><loc>${web.other.url('/sitemap.xml')}</loc></sitemap>
        <sitemap><loc>${web.url('/sm/pages.xml')}</loc></sitemap>
      </sitemapindex>`,
    });
    web.route('/sm/pages.xml', {
      type: 'text/xml',
      body: `<urlset xmlns="${NS}"><url><loc>${web.url('/docs/install?utm_source=sitemap#top')}</loc></url><url><loc>${web.other.url('/partners/')}</loc></url><url><loc>mailto:a@x.test</loc></url><url><loc>/docs/webhooks</loc></url></urlset>`,
    });
    try {
      const r = await readSitemaps(client, web.url('/sm/mixed.xml'));
      assert.deepEqual(
        r.pages.map((p) => p.url),
        [...web.sitemapUrls('/sitemaps/archive.xml'), web.url('/docs/install'), web.url('/docs/webhooks')],
      );
      assert.deepEqual(r.failures.map((f) => f.reason).sort(), ['gone', 'not_sitemap']);
      assert.deepEqual(
        r.skipped.map((s) => s.reason),
        ['other_origin', 'other_origin', 'bad_url'],
      );
      assert.equal(web.other.requests.length, 0);
    } finally {
      web.restore('/sm/mixed.xml');
      web.restore('/sm/pages.xml');
    }
  });

  test('a page listed twice (in two sitemaps, once with a tracking parameter and a fragment) is kept once, where first seen', async () => {
    web.route('/sm/twice-index.xml', {
      type: 'application/xml',
      body: `<sitemapindex xmlns="${NS}"><sitemap><loc>${web.url('/sm/first.xml')}</loc></sitemap><sitemap><loc>${web.url('/sm/second.xml')}</loc></sitemap></sitemapindex>`,
    });
    web.route('/sm/first.xml', {
      type: 'application/xml',
      body: `<urlset xmlns="${NS}"><url><loc>${web.url('/docs/install')}</loc></url><url><loc>${web.url('/docs/webhooks')}</loc></url></urlset>`,
    });
    web.route('/sm/second.xml', {
      type: 'application/xml',
      body: `<urlset xmlns="${NS}"><url><loc>${web.url('/docs/changelog')}</loc></url><url><loc>${web.url('/docs/install?utm_medium=email#linux')}</loc></url><url><loc>${web.url('/docs/webhooks')}</loc></url></urlset>`,
    });
    try {
      const r = await readSitemaps(client, web.url('/sm/twice-index.xml'));
      assert.deepEqual(
        r.pages.map((p) => p.url),
        [web.url('/docs/install'), web.url('/docs/webhooks'), web.url('/docs/changelog')],
      );
    } finally {
      for (const p of ['/sm/twice-index.xml', '/sm/first.xml', '/sm/second.xml']) web.restore(p);
    }
  });

  test('at most maxFiles sitemaps are read; the others are reported, not requested', async () => {
    const n = 6;
    for (let i = 0; i < n; i++) {
      web.route(`/sm/part-${i}.xml`, {
        type: 'application/xml',
        body: `<urlset xmlns="${NS}"><url><loc>${web.url(`/gen/page-00${i + 1}`)}</loc></url></urlset>`,
      });
    }
    web.route('/sm/parts.xml', {
      type: 'application/xml',
      body: `<sitemapindex xmlns="${NS}">${Array.from({ length: n }, (_, i) => `<sitemap><loc>${web.url(`/sm/part-${i}.xml`)}</loc></sitemap>`).join('')}</sitemapindex>`,
    });
    try {
      const r = await readSitemaps(client, web.url('/sm/parts.xml'), { maxFiles: 3 });
      assert.deepEqual(r.sitemaps, [web.url('/sm/parts.xml'), web.url('/sm/part-0.xml'), web.url('/sm/part-1.xml')]);
      assert.deepEqual(
        r.pages.map((p) => p.url),
        [web.url('/gen/page-001'), web.url('/gen/page-002')],
      );
      assert.deepEqual(
        r.skipped.map((s) => [s.reason, s.url]),
        [2, 3, 4, 5].map((i) => ['limit', web.url(`/sm/part-${i}.xml`)]),
      );
      for (let i = 2; i < n; i++) assert.equal(count(`/sm/part-${i}.xml`), 0);
    } finally {
      web.restore('/sm/parts.xml');
      for (let i = 0; i < n; i++) web.restore(`/sm/part-${i}.xml`);
    }
  });

  test('a plain-text sitemap served as text/plain is read a URL per line', async () => {
    web.route('/sm/list.txt', {
      type: 'text/plain; charset=utf-8',
      body: `${web.url('/docs/install')}\n${web.url('/docs/webhooks')}\n\n`,
    });
    try {
      const r = await readSitemaps(client, web.url('/sm/list.txt'));
      assert.deepEqual(
        r.pages.map((p) => p.url),
        [web.url('/docs/install'), web.url('/docs/webhooks')],
      );
    } finally {
      web.restore('/sm/list.txt');
    }
  });

  test('the first sitemap is not subject to robots.txt when given explicitly, and is when not', async () => {
    await rejects(readSitemaps(client, web.url('/docs/private/sitemap.xml'), { explicit: false }), 'robots', /disallowed by/);
    assert.equal(count('/docs/private/sitemap.xml'), 0);
    // Given by the operator: requested (and gone, as the site has no such file).
    await rejects(readSitemaps(client, web.url('/docs/private/sitemap.xml')), 'gone');
    assert.equal(count('/docs/private/sitemap.xml'), 1);
  });

  test('a nested sitemap disallowed by robots.txt is not read', async () => {
    web.route('/sm/private-index.xml', {
      type: 'application/xml',
      body: `<sitemapindex xmlns="${NS}"><sitemap><loc>${web.url('/docs/private/sitemap.xml')}</loc></sitemap></sitemapindex>`,
    });
    try {
      const r = await readSitemaps(client, web.url('/sm/private-index.xml'));
      assert.deepEqual(
        r.failures.map((f) => f.reason),
        ['robots'],
      );
      assert.equal(count('/docs/private/sitemap.xml'), 0);
    } finally {
      web.restore('/sm/private-index.xml');
    }
  });
});
