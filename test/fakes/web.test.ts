/**
 * Proves test/fakes/web.ts with Node's fetch and zlib: the served pages hold the exported text and
 * links, sitemaps and robots.txt say what is documented, validators and controls behave, every
 * fault happens as described, concurrency is measured, and close() ends everything.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import {
  BOMB_BYTES,
  HUGE_BYTES,
  ROBOTS_TXT,
  SIDEBAR,
  TRACKING_PARAMS,
  UNTYPED_TEXT,
  genFact,
  genPath,
  revisionSentence,
  startFakeWeb,
  type FakeWeb,
  type WebPage,
} from './web.js';
import { MANUAL_TITLE } from '../support/pdfs.js';

// ---------------------------------------------------------------------------------------------
// A reader of the fake's own markup, independent of the fake's code

function decode(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The page without head, scripts, styles, noscript, asides, navs, footers, site header, cookie banner. */
function withoutBoilerplate(html: string): string {
  return html
    .replace(/<head>[\s\S]*?<\/head>/, '')
    .replace(/<(script|style|noscript)\b[^>]*>[\s\S]*?<\/\1>/g, '')
    .replace(/<aside\b[^>]*>[\s\S]*?<\/aside>/g, '')
    .replace(/<nav\b[^>]*>[\s\S]*?<\/nav>/g, '')
    .replace(/<footer\b[^>]*>[\s\S]*?<\/footer>/g, '')
    .replace(/<header class="navbar">[\s\S]*?<\/header>/, '')
    .replace(/<div id="cookie-consent"[\s\S]*?<\/div>/, '');
}

function textOf(html: string): string {
  return decode(html.replace(/<[^>]+>/g, ''))
    .replace(/\u200b/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function headingsOf(html: string): { level: number; text: string }[] {
  return [...withoutBoilerplate(html).matchAll(/<h([1-3])\b[^>]*>([\s\S]*?)<\/h\1>/g)].map((m) => ({
    level: Number(m[1]),
    text: textOf(m[2]!),
  }));
}

function hrefs(html: string): string[] {
  return [...html.matchAll(/<a\s[^>]*href="([^"]*)"/g)].map((m) => decode(m[1]!));
}

function sameOriginLinks(html: string, pageUrl: string): string[] {
  const own = new URL(pageUrl);
  const out: string[] = [];
  for (const h of hrefs(html)) {
    let u: URL;
    try {
      u = new URL(h, pageUrl);
    } catch {
      continue;
    }
    if (u.origin !== own.origin) continue;
    u.hash = '';
    for (const k of [...u.searchParams.keys()]) if (k.startsWith('utm_') || TRACKING_PARAMS.includes(k)) u.searchParams.delete(k);
    const p = u.pathname + u.search;
    if (p !== own.pathname + own.search && !out.includes(p)) out.push(p);
  }
  return out;
}

function locs(xml: string): string[] {
  return [...xml.matchAll(/<loc>([\s\S]*?)<\/loc>/g)].map((m) => decode(m[1]!.trim()));
}

async function get(web: FakeWeb, path: string, init?: RequestInit): Promise<{ res: Response; body: string }> {
  const res = await fetch(web.url(path), init);
  return { res, body: await res.text() };
}

async function readBytes(res: Response, limit = Infinity): Promise<number> {
  const reader = res.body!.getReader();
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return n;
    n += value.length;
    if (n >= limit) {
      await reader.cancel();
      return n;
    }
  }
}

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) assert.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  return assert.fail('expected a rejection');
}

const htmlPages = (web: FakeWeb) => web.pages().filter((p) => p.kind === 'html' && !p.path.startsWith('/bad/'));

// ---------------------------------------------------------------------------------------------

describe('fake web site', () => {
  let web: FakeWeb;

  before(async () => {
    web = await startFakeWeb();
  });
  after(async () => {
    await web.close();
  });

  test('listens on 127.0.0.1 only, with a second origin on another port', () => {
    assert.match(web.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(web.other.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(web.origin, web.other.origin);
    assert.equal(web.url('/docs/'), `${web.origin}/docs/`);
  });

  test('every HTML page holds its exported text in the main content and boilerplate only around it', async () => {
    const pages = htmlPages(web);
    assert.ok(pages.length >= 18, `only ${pages.length} pages`);
    for (const page of pages) {
      const { res, body } = await get(web, page.path);
      assert.equal(res.status, 200, page.path);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(decode(/<title>([^<]*)<\/title>/.exec(body)![1]!), page.title);
      const main = textOf(withoutBoilerplate(body));
      assert.ok(page.sentences.length > 0, `${page.path} has sentences`);
      for (const s of page.sentences) assert.ok(main.includes(s), `${page.path}: "${s}" in the main content`);
      for (const sec of page.sections) {
        for (const code of sec.code) assert.ok(decode(body).includes(code), `${page.path}: code block served verbatim`);
        for (const t of sec.tables) for (const cell of [...t.header, ...t.rows.flat()]) assert.ok(main.includes(cell), cell);
      }
      assert.deepEqual(headingsOf(body), page.headings, `${page.path} headings`);
      assert.equal(page.h1, page.headings[0]!.text);
      assert.ok(page.boilerplate.length >= 10);
      for (const b of page.boilerplate) {
        assert.ok(decode(body).includes(b), `${page.path}: boilerplate "${b}" is on the page`);
        assert.ok(!main.includes(b), `${page.path}: boilerplate "${b}" is outside the main content`);
        assert.ok(!page.sentences.some((s) => s.includes(b)), `${page.path}: no sentence contains "${b}"`);
      }
    }
  });

  test('the docs layout: h1 inside the article header, permalinks with a zero-width space, scripts inside main', async () => {
    const { body } = await get(web, '/docs/configuration');
    assert.match(body, /<article>[\s\S]*<header><h1>Configuration reference<\/h1><\/header>/);
    assert.match(
      body,
      /<h2 class="anchor" id="the-relay-toml-file">The <code>relay\.toml<\/code> file<a href="#the-relay-toml-file" class="hash-link"[^>]*>&#8203;<\/a><\/h2>/,
    );
    assert.match(body, /<main id="content">[\s\S]*<script>[\s\S]*acmeCopyHelper[\s\S]*<\/main>/);
    assert.equal(web.page('/docs/configuration')!.sections[1]!.heading, 'The relay.toml file');
    assert.ok(web.page('/docs/configuration')!.sentences.includes('Timeouts < 1 second are rounded up to 1 second & logged as a warning.'));
    assert.match(body, /Timeouts &lt; 1 second are rounded up to 1 second &amp; logged/);
    // The other layouts have no <main>.
    assert.doesNotMatch((await get(web, '/blog/launch')).body, /<main/);
    assert.match((await get(web, '/docs/release-notes.pdf')).body, /<div role="main" class="content">/);
  });

  test('content type decides, not the extension: a PDF without .pdf, an HTML page ending in .pdf', async () => {
    const pdf = await fetch(web.url('/docs/manual'));
    assert.equal(pdf.status, 200);
    assert.equal(pdf.headers.get('content-type'), 'application/pdf');
    const bytes = Buffer.from(await pdf.arrayBuffer());
    assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.equal(Number(pdf.headers.get('content-length')), bytes.length);
    const view = web.page('/docs/manual')!;
    assert.equal(view.kind, 'pdf');
    assert.equal(view.title, MANUAL_TITLE);
    assert.deepEqual(
      view.headings.map((h) => h.text),
      ['1. Introduction', '2. System requirements', '3. Installing on Windows'],
    );
    assert.ok(view.sentences.includes('The agent listens on local port 7420'));

    const notPdf = await get(web, '/docs/release-notes.pdf');
    assert.equal(notPdf.res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(notPdf.body, /^<!DOCTYPE html>/);
    assert.equal(web.page('/docs/release-notes.pdf')!.kind, 'html');
  });

  test('links: page.links and depth match the served anchors; the index holds every kind of trap', async () => {
    const views = new Map<string, WebPage>();
    for (const page of htmlPages(web)) {
      const { body } = await get(web, page.path);
      assert.deepEqual(page.links, sameOriginLinks(body, page.url), `${page.path} links`);
      views.set(page.path, page);
    }
    // Breadth-first from /docs/ within /docs/ gives every docs page its depth.
    const depth = new Map([['/docs/', 0]]);
    const queue = ['/docs/'];
    while (queue.length) {
      const p = queue.shift()!;
      for (const l of views.get(p)?.links ?? []) {
        if (l.startsWith('/docs/') && !depth.has(l) && web.page(l)) {
          depth.set(l, depth.get(p)! + 1);
          queue.push(l);
        }
      }
    }
    for (const page of web.pages().filter((p) => p.path.startsWith('/docs/'))) assert.equal(page.depth, depth.get(page.path), page.path);
    for (const p of ['/docs/install/docker', '/docs/webhooks/signatures', '/docs/webhooks/retries']) assert.equal(web.page(p)!.depth, 2, p);
    for (const s of SIDEBAR) assert.equal(web.page(s.path)!.depth, 1);
    assert.ok(web.page('/docs/webhooks')!.links.includes('/docs/webhooks/retries'), 'relative link resolves under /docs/webhooks');

    const index = (await get(web, '/docs/')).body;
    const all = hrefs(index);
    const other = new URL(web.other.origin).host;
    for (const expected of [
      'mailto:support@acme-relay.example',
      'tel:+351210000000',
      'file:///srv/mirror/relay-docs/index.html',
      `ftp://${other}/pub/relay/`,
      'javascript:void(0)',
      `${web.other.origin}/partners/acme-relay`,
      `//${other}/partners/`,
      '/docs/install?utm_source=newsletter&utm_medium=email&utm_campaign=march',
      '/docs/configuration?ref=social&fbclid=IwAR0fake42',
      '/docs/webhooks#endpoints',
      `${web.origin}/docs/getting-started?gclid=Cj0fake#create-an-account`,
      '/docs/changelog?utm_campaign=spring&page=2',
      'troubleshooting',
      './../docs/changelog',
      '/docs/private/roadmap',
      '/docs/internal/oncall',
      '/blog/launch',
    ]) {
      assert.ok(all.includes(expected), `index links ${expected}`);
    }
    const indexLinks = web.page('/docs/')!.links;
    assert.ok(indexLinks.includes('/docs/changelog?page=2') && indexLinks.includes('/docs/troubleshooting'));
    assert.ok(!indexLinks.some((l) => /utm_|fbclid|gclid|ref=|#/.test(l)));
    assert.ok(indexLinks.includes('/pricing') && indexLinks.includes('/login?next=%2Fdocs%2F'), 'links outside the prefix are listed');
  });

  test('robots.txt disallows /docs/private/ for * and /docs/internal/ for copilot; route() and remove() replace it', async () => {
    const { res, body } = await get(web, '/robots.txt');
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(body, ROBOTS_TXT.replace('@ORIGIN@', web.origin));
    assert.match(body, /User-agent: \*\nDisallow: \/docs\/private\//);
    assert.match(body, /User-agent: copilot\nDisallow: \/docs\/internal\/\nDisallow: \/docs\/private\//);
    assert.match(body, new RegExp(`Sitemap: ${web.origin}/sitemap.xml`));

    web.route('/robots.txt', { type: 'text/plain', body: 'User-agent: *\nDisallow: /\n' });
    assert.equal((await get(web, '/robots.txt')).body, 'User-agent: *\nDisallow: /\n');
    web.remove('/robots.txt');
    assert.equal((await fetch(web.url('/robots.txt'))).status, 404);
    web.restore('/robots.txt');
    assert.equal((await get(web, '/robots.txt')).body, body);
  });

  test('sitemaps: an index, a nested index and a gzip file list what sitemapUrls() says', async () => {
    const found: string[] = [];
    const visit = async (url: string) => {
      const res = await fetch(url);
      assert.equal(res.status, 200, url);
      let xml: string;
      if (url.endsWith('.gz')) {
        assert.equal(res.headers.get('content-type'), 'application/gzip');
        assert.equal(res.headers.get('content-encoding'), null);
        xml = gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8');
      } else {
        assert.equal(res.headers.get('content-type'), 'application/xml');
        xml = await res.text();
      }
      assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
      if (xml.includes('<sitemapindex')) for (const l of locs(xml)) await visit(l);
      else found.push(...locs(xml));
    };
    await visit(web.url('/sitemap.xml'));
    assert.deepEqual(found, web.sitemapUrls());
    assert.ok(
      found.includes(web.url('/docs/manual')) && found.includes(web.url('/blog/launch')) && found.includes(web.url('/archive/relay-1')),
    );
    assert.ok(found.includes(web.url('/docs/changelog?page=2')));
    assert.ok(!found.some((u) => u.includes('/gen/') || u.includes('/de/')), 'no generated pages, no alternates');
    for (const url of found) assert.equal((await fetch(url)).status, 200, url);
    for (const p of web.pages()) assert.equal(p.sitemap !== null && p.sitemap !== 'gen', found.includes(p.url), p.path);

    const docs = await (await fetch(web.url('/sitemaps/docs.xml'))).text();
    assert.match(docs, /<loc>\n\s+http:\/\/127\.0\.0\.1:\d+\/docs\/getting-started\n\s+<\/loc>/, 'a <loc> spread over lines');
    assert.match(docs, /<xhtml:link rel="alternate" hreflang="de" href="[^"]+\/de\/docs\/install"\/>/);
    assert.equal((await fetch(web.url('/de/docs/install'))).status, 404);

    const notXml = await get(web, '/bad/sitemap-not-xml.xml');
    assert.equal(notXml.res.headers.get('content-type'), 'application/xml');
    assert.doesNotMatch(notXml.body, /^<\?xml|<\/urlset>|<\/sitemapindex>/);
    const loop = await (await fetch(web.url('/bad/sitemap-loop.xml'))).text();
    assert.deepEqual(locs(loop), [web.url('/bad/sitemap-loop.xml'), web.url('/bad/sitemap-loop-2.xml')]);
    assert.deepEqual(locs(await (await fetch(web.url('/bad/sitemap-loop-2.xml'))).text()), [web.url('/bad/sitemap-loop.xml')]);
    assert.deepEqual(web.sitemapUrls('/bad/sitemap-loop.xml'), []);
  });

  test('ETag and Last-Modified: 304 on a match, 200 otherwise; validators can be switched off', async () => {
    const { res } = await get(web, '/docs/install');
    const etag = res.headers.get('etag')!;
    const lastModified = res.headers.get('last-modified')!;
    assert.match(etag, /^W\/"[0-9a-f]{20}"$/);
    assert.equal(etag, web.page('/docs/install')!.etag);
    assert.equal(lastModified, 'Mon, 04 Mar 2024 11:00:00 GMT');
    assert.equal(lastModified, web.page('/docs/install')!.lastModified);

    const cond = async (headers: Record<string, string>) => {
      const r = await fetch(web.url('/docs/install'), { headers });
      return { status: r.status, body: await r.text(), etag: r.headers.get('etag') };
    };
    assert.deepEqual(await cond({ 'if-none-match': etag }), { status: 304, body: '', etag });
    assert.equal((await cond({ 'if-none-match': etag.slice(2) })).status, 304, 'weak comparison');
    assert.equal((await cond({ 'if-none-match': `"nope", ${etag}` })).status, 304, 'a list');
    assert.equal((await cond({ 'if-none-match': '*' })).status, 304);
    assert.equal((await cond({ 'if-none-match': '"other"' })).status, 200);
    assert.equal((await cond({ 'if-modified-since': lastModified })).status, 304);
    assert.equal((await cond({ 'if-modified-since': 'Sun, 03 Mar 2024 11:00:00 GMT' })).status, 200);
    assert.equal((await cond({ 'if-none-match': '"other"', 'if-modified-since': lastModified })).status, 200, 'If-None-Match wins');
    const status304 = web.requests.filter((r) => r.status === 304).length;
    assert.equal(status304, 5);

    const pdf = await fetch(web.url('/docs/manual'));
    await pdf.arrayBuffer();
    assert.match(pdf.headers.get('etag')!, /^"[0-9a-f]{20}"$/);
    assert.equal((await fetch(web.url('/docs/manual'), { headers: { 'if-none-match': pdf.headers.get('etag')! } })).status, 304);

    web.setValidators({ etag: false });
    const noEtag = await fetch(web.url('/docs/install'), { headers: { 'if-modified-since': lastModified } });
    assert.equal(noEtag.status, 304);
    assert.equal(noEtag.headers.get('etag'), null);
    assert.equal((await cond({ 'if-none-match': etag })).status, 200);
    web.setValidators({ lastModified: false });
    const none = await fetch(web.url('/docs/install'), { headers: { 'if-modified-since': lastModified } });
    assert.equal(none.status, 200);
    assert.equal(none.headers.get('last-modified'), null);
    await none.text();
    web.setValidators({ etag: true, lastModified: true });
    assert.equal((await cond({ 'if-none-match': etag })).status, 304);
  });

  test('change(): new content, new ETag, later Last-Modified and sitemap lastmod', async () => {
    const before = web.page('/docs/webhooks')!;
    const old = await fetch(web.url('/docs/webhooks'));
    const oldBody = await old.text();
    const changed = web.change('/docs/webhooks');
    const sentence = revisionSentence('/docs/webhooks', 2);
    assert.equal(changed.revision, 2);
    assert.ok(changed.sections[1]!.sentences.includes(sentence), 'added to the first h2 section');
    assert.ok(!oldBody.includes(sentence));
    assert.notEqual(changed.etag, before.etag);
    assert.equal(Date.parse(changed.lastModified) - Date.parse(before.lastModified), 86_400_000);

    const stale = await fetch(web.url('/docs/webhooks'), { headers: { 'if-none-match': old.headers.get('etag')! } });
    assert.equal(stale.status, 200);
    assert.equal(stale.headers.get('etag'), changed.etag);
    assert.equal(stale.headers.get('last-modified'), changed.lastModified);
    assert.ok(textOf(withoutBoilerplate(await stale.text())).includes(sentence));
    const ims = await fetch(web.url('/docs/webhooks'), { headers: { 'if-modified-since': before.lastModified } });
    assert.equal(ims.status, 200);
    await ims.text();
    assert.match(
      await (await fetch(web.url('/sitemaps/docs.xml'))).text(),
      /\/docs\/webhooks<\/loc>\n\s+<lastmod>2024-03-05T14:00:00Z<\/lastmod>/,
    );

    const edited = web.change('/docs/webhooks', {
      title: 'Webhooks, renamed | Acme Relay Docs',
      sections: [{ level: 1, heading: 'Hooks', blocks: [{ p: ['Only this.'] }] }],
    });
    assert.deepEqual(edited.sentences, ['Only this.']);
    assert.match((await get(web, '/docs/webhooks')).body, /<title>Webhooks, renamed \| Acme Relay Docs<\/title>/);

    const pdfBefore = web.page('/docs/manual')!;
    const pdfAfter = web.change('/docs/manual');
    assert.notEqual(pdfAfter.etag, pdfBefore.etag);
    assert.equal(pdfAfter.headings.length, pdfBefore.headings.length + 1);
    assert.throws(() => web.change('/docs/nowhere'), /no page at \/docs\/nowhere/);
  });

  test('remove() answers 404 or 410 and drops the page from its sitemap; add() serves, lists and links a new page', async () => {
    web.remove('/docs/troubleshooting');
    assert.equal((await fetch(web.url('/docs/troubleshooting'))).status, 404);
    assert.equal(web.page('/docs/troubleshooting')!.status, 404);
    assert.ok(!web.sitemapUrls().includes(web.url('/docs/troubleshooting')));
    assert.doesNotMatch(await (await fetch(web.url('/sitemaps/docs.xml'))).text(), /\/docs\/troubleshooting</);
    web.remove('/docs/troubleshooting', 410);
    assert.equal((await fetch(web.url('/docs/troubleshooting'))).status, 410);
    web.restore('/docs/troubleshooting');
    assert.equal((await fetch(web.url('/docs/troubleshooting'))).status, 200);
    assert.ok(web.sitemapUrls().includes(web.url('/docs/troubleshooting')));

    const added = web.add({
      path: '/docs/faq',
      title: 'Frequently asked questions | Acme Relay Docs',
      sections: [
        {
          level: 1,
          heading: 'Frequently asked questions',
          blocks: [{ p: ['The relay keeps events in the order they arrived for each endpoint.'] }],
        },
        { level: 2, heading: 'Is there a free plan?', blocks: [{ p: ['Yes, with ten thousand deliveries a month.'] }] },
      ],
    });
    assert.equal(added.sitemap, 'docs');
    assert.equal(added.depth, 1);
    const { res, body } = await get(web, '/docs/faq');
    assert.equal(res.status, 200);
    assert.ok(textOf(withoutBoilerplate(body)).includes('Yes, with ten thousand deliveries a month.'));
    assert.ok(locs(await (await fetch(web.url('/sitemaps/docs.xml'))).text()).includes(web.url('/docs/faq')));
    assert.ok(hrefs((await get(web, '/docs/')).body).includes('/docs/faq'));
    assert.deepEqual(web.page('/docs/')!.headings.at(-1), { level: 2, text: 'New pages' });
    assert.throws(() => web.add({ path: '/docs/faq', title: 'x', sections: [] }), /already exists/);
  });

  test('fail(): 429 and 503 with Retry-After the first N times, then 200', async () => {
    web.fail('/docs/install', { status: 429, times: 2, retryAfter: 1 });
    for (let i = 0; i < 2; i++) {
      const r = await fetch(web.url('/docs/install'));
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('retry-after'), '1');
      await r.text();
    }
    assert.equal((await fetch(web.url('/docs/install'))).status, 200);
    const date = 'Wed, 21 Oct 2026 07:28:00 GMT';
    web.fail('/docs/install', { status: 503, times: 1, retryAfter: date });
    const r = await fetch(web.url('/docs/install'));
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), date);
    assert.equal((await fetch(web.url('/docs/install'))).status, 200);
    web.fail('/bad/ok', { status: 500 });
    for (let i = 0; i < 3; i++) assert.equal((await fetch(web.url('/bad/ok'))).status, 500);
    web.restore('/bad/ok');
    assert.equal((await fetch(web.url('/bad/ok'))).status, 200);
  });

  test('redirects: a chain of N hops, a loop, /docs → /docs/, and redirect()', async () => {
    let path = '/r/5/docs/install?x=1';
    const statuses: number[] = [];
    for (let hop = 0; hop < 5; hop++) {
      const r = await fetch(web.url(path), { redirect: 'manual' });
      statuses.push(r.status);
      const loc = r.headers.get('location')!;
      assert.equal(loc.startsWith('http://'), hop % 2 === 0, 'absolute and path-only locations alternate');
      path = new URL(loc, web.origin).pathname + new URL(loc, web.origin).search;
    }
    assert.deepEqual(statuses, [301, 308, 307, 303, 302]);
    assert.equal(path, '/docs/install?x=1');

    web.requests.length = 0;
    const followed = await fetch(web.url('/r/3/docs/install'));
    assert.equal(followed.url, web.url('/docs/install'));
    await followed.text();
    assert.deepEqual(
      web.requests.map((r) => r.path),
      ['/r/3/docs/install', '/r/2/docs/install', '/r/1/docs/install', '/docs/install'],
    );

    web.requests.length = 0;
    await rejects(fetch(web.url('/bad/loop')));
    assert.ok(web.requests.length > 5 && web.requests.every((r) => r.path === '/bad/loop' || r.path === '/bad/loop-2'));

    const slash = await fetch(web.url('/docs'), { redirect: 'manual' });
    assert.equal(slash.status, 301);
    assert.equal(slash.headers.get('location'), '/docs/');
    web.redirect('/docs/old-install', '/docs/install', 308);
    const moved = await fetch(web.url('/docs/old-install'), { redirect: 'manual' });
    assert.equal(moved.status, 308);
    assert.equal(moved.headers.get('location'), '/docs/install');
    web.redirect('/docs/away', web.other.url('/moved'));
    const away = await fetch(web.url('/docs/away'));
    assert.equal(away.url, web.other.url('/moved'));
    await away.text();
    assert.equal(web.other.requests.at(-1)!.path, '/moved');
  });

  test('slow pages: delay(), setLatency(), a hanging page, a trickling page', async () => {
    web.delay('/docs/install', 150);
    let t0 = performance.now();
    await (await fetch(web.url('/docs/install'))).text();
    assert.ok(performance.now() - t0 >= 140);
    web.delay('/docs/install', 0);

    web.setLatency(80);
    t0 = performance.now();
    await (await fetch(web.url('/pricing'))).text();
    assert.ok(performance.now() - t0 >= 70);
    web.setLatency(0);

    web.delay('/docs/install', 'hang');
    web.requests.length = 0;
    t0 = performance.now();
    const err = await rejects(fetch(web.url('/docs/install'), { signal: AbortSignal.timeout(200) }));
    assert.equal(err.name, 'TimeoutError');
    await until(() => web.requests[0]?.endedAt !== undefined);
    assert.equal(web.requests[0]!.status, undefined, 'never answered');
    web.restore('/docs/install');
    assert.equal((await fetch(web.url('/docs/install'))).status, 200);

    await rejects(fetch(web.url('/bad/hang'), { signal: AbortSignal.timeout(150) }));

    const ac = new AbortController();
    const slow = await fetch(web.url('/bad/trickle'), { signal: ac.signal });
    assert.equal(slow.status, 200);
    const reader = slow.body!.getReader();
    const first = await reader.read();
    assert.match(Buffer.from(first.value).toString(), /A slow page/);
    t0 = performance.now();
    const second = await reader.read();
    assert.ok(performance.now() - t0 >= 800, 'the next part comes a second later');
    assert.match(Buffer.from(second.value).toString(), /Still loading, part 1\./);
    ac.abort();
    await until(() => web.inFlight() === 0);
  });

  test('huge pages are streamed with backpressure; the gzip bomb is small on the wire', async () => {
    const full = await fetch(web.url('/bad/huge'));
    assert.equal(Number(full.headers.get('content-length')), HUGE_BYTES);
    assert.ok(HUGE_BYTES > 10 * 1024 * 1024 && HUGE_BYTES > 10_000_000);
    assert.equal(await readBytes(full), HUGE_BYTES);

    web.requests.length = 0;
    const chunked = await fetch(web.url('/bad/huge-chunked'));
    assert.equal(chunked.headers.get('content-length'), null);
    assert.equal(chunked.headers.get('transfer-encoding'), 'chunked');
    const reader = chunked.body!.getReader();
    await reader.read();
    await new Promise((r) => setTimeout(r, 200));
    const rec = web.requests[0]!;
    assert.ok(rec.bytes < HUGE_BYTES / 2, `only ${rec.bytes} bytes written while the reader waits`);
    await reader.cancel();
    await until(() => rec.endedAt !== undefined);
    assert.equal(rec.completed, false);
    assert.ok(rec.bytes < HUGE_BYTES);

    const bomb = await fetch(web.url('/bad/bomb'));
    assert.equal(bomb.headers.get('content-encoding'), 'gzip');
    assert.ok(Number(bomb.headers.get('content-length')) < 200_000, 'small compressed');
    assert.ok((await readBytes(bomb, 11 * 1024 * 1024)) >= 11 * 1024 * 1024, 'more than 10 MB decoded');
    assert.ok(BOMB_BYTES > 50 * 1024 * 1024);
  });

  test('unsupported types, empty and blank pages, errors, a reset mid-body, a dropped connection', async () => {
    const zip = await fetch(web.url('/bad/archive'));
    assert.equal(zip.headers.get('content-type'), 'application/zip');
    assert.equal(
      Buffer.from(await zip.arrayBuffer())
        .subarray(0, 4)
        .toString('hex'),
      '504b0506',
    );
    const png = await fetch(web.url('/bad/logo'));
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.equal(
      Buffer.from(await png.arrayBuffer())
        .subarray(1, 4)
        .toString(),
      'PNG',
    );
    const untyped = await get(web, '/bad/untyped');
    assert.equal(untyped.res.headers.get('content-type'), null);
    assert.ok(untyped.body.includes(UNTYPED_TEXT));

    const empty = await get(web, '/bad/empty');
    assert.equal(empty.res.status, 200);
    assert.equal(empty.res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(empty.res.headers.get('content-length'), '0');
    assert.equal(empty.body, '');

    const blank = await get(web, '/bad/blank');
    assert.equal(blank.res.status, 200);
    assert.match(blank.body, /<main id="content">/);
    assert.equal(textOf(withoutBoilerplate(blank.body)), '', 'no text once the boilerplate is gone');
    assert.ok(blank.body.includes('Browse the handbook'));
    assert.deepEqual(web.page('/bad/blank')!.sentences, []);

    assert.equal((await fetch(web.url('/bad/error'))).status, 500);
    assert.equal((await fetch(web.url('/bad/gone'))).status, 410);
    assert.equal((await fetch(web.url('/bad/missing'))).status, 404);

    web.requests.length = 0;
    const reset = await fetch(web.url('/bad/reset'));
    assert.equal(reset.status, 200);
    const length = Number(reset.headers.get('content-length'));
    await rejects(reset.text());
    assert.ok(web.requests[0]!.bytes > 0 && web.requests[0]!.bytes < length);
    assert.equal(web.requests[0]!.completed, false);
    await rejects(fetch(web.url('/bad/drop')));

    const index = await get(web, '/bad/');
    for (const p of [
      'archive',
      'logo',
      'untyped',
      'empty',
      'blank',
      'huge',
      'huge-chunked',
      'bomb',
      'loop',
      'error',
      'gone',
      'reset',
      'drop',
      'sitemap-not-xml.xml',
      'sitemap-loop.xml',
    ]) {
      assert.ok(hrefs(index.body).includes(`/bad/${p}`), p);
    }
    assert.ok(!hrefs(index.body).some((h) => h === '/bad/hang' || h === '/bad/trickle'));
  });

  test('records request headers and the most requests in flight, overall and per prefix', async () => {
    web.requests.length = 0;
    web.setLatency(1000); // long enough for all eight to arrive on a busy machine
    const ua = 'copilot/0.1.0 (+https://example.invalid/bot)';
    const paths = [
      '/docs/install',
      '/docs/webhooks',
      '/docs/changelog',
      '/blog/launch',
      '/blog/relay-3',
      '/blog/launch?x=1',
      '/blog/relay-3?x=2',
      '/blog/launch?x=3',
    ];
    const all = Promise.all(paths.map(async (p) => (await fetch(web.url(p), { headers: { 'user-agent': ua } })).text()));
    await until(() => web.inFlight() === 8);
    await all;
    web.setLatency(0);
    assert.equal(web.maxConcurrent(), 8);
    assert.equal(web.maxConcurrent('/docs/'), 3);
    assert.equal(web.maxConcurrent('/blog/'), 5);
    assert.ok(web.requests.every((r) => r.headers['user-agent'] === ua && r.headers.host === new URL(web.origin).host));
    assert.ok(web.requests.every((r) => r.status === 200 && r.completed && r.endedAt! >= r.at));

    web.requests.length = 0;
    for (const p of paths) await (await fetch(web.url(p))).text();
    assert.equal(web.maxConcurrent(), 1);
    assert.equal(web.inFlight(), 0);
  });

  test('HEAD gets headers only; other methods 405; query parameters other than page are ignored', async () => {
    const head = await fetch(web.url('/docs/install'), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('etag'), web.page('/docs/install')!.etag);
    assert.equal(await head.text(), '');
    assert.equal((await fetch(web.url('/docs/install'), { method: 'POST', body: 'x' })).status, 405);
    const tracked = await get(web, '/docs/install?utm_source=x&fbclid=y');
    assert.equal(tracked.body, (await get(web, '/docs/install')).body);
    const page2 = await get(web, '/docs/changelog?page=2');
    assert.match(page2.body, /<h1>Changelog, page 2<\/h1>/);
    assert.match((await get(web, '/docs/changelog?page=9')).body, /<h1>Changelog<\/h1>/);
  });

  test('the other origin answers and records; nothing on the site asks it for anything by itself', async () => {
    const before = web.other.requests.length;
    const { res, body } = await get(web, '/docs/');
    assert.equal(res.status, 200);
    assert.ok(body.includes(web.other.origin));
    assert.equal(web.other.requests.length, before);
    const r = await fetch(web.other.url('/partners/acme-relay'));
    assert.equal(r.status, 200);
    assert.match(await r.text(), /Partner site/);
    assert.equal((await fetch(web.other.url('/robots.txt'))).status, 404);
    assert.deepEqual(
      web.other.requests.slice(before).map((q) => q.path),
      ['/partners/acme-relay', '/robots.txt'],
    );
  });

  test('options and controls are bounded', async () => {
    await assert.rejects(startFakeWeb({ generated: -1 }), RangeError);
    await assert.rejects(startFakeWeb({ generated: 5001 }), RangeError);
    assert.throws(() => web.delay('/x', 600_001), RangeError);
    assert.throws(() => web.setLatency(-1), RangeError);
    assert.throws(() => web.fail('/x', { status: 200 }), RangeError);
    assert.equal((await fetch(web.url('/r/51/docs/install'), { redirect: 'manual' })).status, 404);
  });
});

describe('fake web site: generated pages', () => {
  test('200 deterministic pages with a sitemap and links between them', async () => {
    const a = await startFakeWeb({ generated: 200 });
    const b = await startFakeWeb({ generated: 200 });
    try {
      const xml = await (await fetch(a.url('/gen/sitemap.xml'))).text();
      const urls = locs(xml);
      assert.equal(urls.length, 200);
      assert.deepEqual(urls, a.sitemapUrls('/gen/sitemap.xml'));
      assert.equal(urls[0], a.url(genPath(1, 200)));
      assert.equal(urls[199], a.url('/gen/page-200'));
      assert.ok(!a.sitemapUrls().some((u) => u.includes('/gen/')), '/sitemap.xml does not list them');

      const queue = [...urls];
      const bodies = new Map<string, string>();
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let u = queue.shift(); u; u = queue.shift()) {
            const r = await fetch(u);
            assert.equal(r.status, 200);
            bodies.set(new URL(u).pathname, await r.text());
          }
        }),
      );
      assert.ok(a.maxConcurrent('/gen/') <= 4);

      for (let i = 1; i <= 200; i++) {
        const path = genPath(i, 200);
        const page = a.page(path)!;
        const body = bodies.get(path)!;
        assert.ok(page.sentences.includes(genFact(i)));
        assert.ok(textOf(withoutBoilerplate(body)).includes(genFact(i)));
        assert.deepEqual(page.links, sameOriginLinks(body, page.url));
        assert.ok(page.links.filter((l) => l.startsWith('/gen/')).length >= 1);
        assert.ok(page.depth !== undefined && page.depth >= 1, `${path} reachable from /gen/`);
        assert.equal(page.etag, b.page(path)!.etag, 'same content, same ETag, in another instance');
      }
      const other = await (await fetch(b.url('/gen/page-042'))).text();
      assert.equal(
        other.replaceAll(b.origin, 'X').replaceAll(b.other.origin, 'Y'),
        bodies.get('/gen/page-042')!.replaceAll(a.origin, 'X').replaceAll(a.other.origin, 'Y'),
      );
      assert.equal(new Set([...bodies.values()].map((x) => textOf(withoutBoilerplate(x)))).size, 200, 'every page differs');
      const index = await get(a, '/gen/');
      assert.equal(hrefs(index.body).filter((h) => h.startsWith('/gen/page-')).length, 10);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    assert.equal((await rejects(fetch(a.url('/gen/')))).name, 'TypeError', 'closed');
  });

  test('without generated, /gen/ does not exist', async () => {
    const web = await startFakeWeb();
    try {
      assert.equal((await fetch(web.url('/gen/sitemap.xml'))).status, 404);
      assert.equal((await fetch(web.url('/gen/page-001'))).status, 404);
    } finally {
      await web.close();
    }
  });
});

describe('fake web site: close()', () => {
  test('ends hanging and streaming responses at once and refuses new connections', async () => {
    const web = await startFakeWeb();
    const hang = fetch(web.url('/bad/hang')).then(
      () => 'answered',
      (e: Error) => e,
    );
    const trickle = await fetch(web.url('/bad/trickle'));
    const trickleBody = trickle.text().then(
      () => 'finished',
      (e: Error) => e,
    );
    web.delay('/docs/install', 'hang');
    const delayed = fetch(web.url('/docs/install')).then(
      () => 'answered',
      (e: Error) => e,
    );
    await until(() => web.inFlight() === 3);
    const t0 = performance.now();
    await web.close();
    assert.ok(performance.now() - t0 < 2000, 'close() does not wait for them');
    for (const p of [hang, trickleBody, delayed]) assert.ok((await p) instanceof Error);
    await until(() => web.inFlight() === 0, 1000);
    assert.ok(web.requests.every((r) => r.endedAt !== undefined && !r.completed));
    await rejects(fetch(web.url('/docs/')));
    await rejects(fetch(web.other.url('/')));
  });
});
