/**
 * HTML → text on every page of the fake docs site (Docusaurus-like docs, a blog without <main>, a
 * bare page with role=main, generated pages): every known sentence and list item present, no
 * boilerplate, headings as section paths, code with its lines and indentation, tables a row per
 * line; also what fetchDocument makes of PDFs, untyped, empty and blank pages.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebClient } from '../../src/kb/fetch/client.js';
import { fetchDocument, type HtmlDocument } from '../../src/kb/fetch/document.js';
import { FetchError } from '../../src/kb/fetch/errors.js';
import { normalizeUrl } from '../../src/kb/fetch/url.js';
import { extractHtml } from '../../src/kb/html.js';
import { BOILERPLATE, UNTYPED_TEXT, genFact, startFakeWeb, type FakeWeb, type WebPage } from '../fakes/web.js';

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** The heading path of each section, computed here from the fake's levels. */
function expectedPaths(page: WebPage): string[] {
  const stack: string[] = [];
  return page.sections.map((s) => {
    stack[s.level - 1] = s.heading;
    stack.length = s.level;
    return stack.filter(Boolean).join(' › ');
  });
}

describe('HTML pages of the fake site → text units', () => {
  let web: FakeWeb;
  let client: WebClient;
  let pages: WebPage[];
  const docs = new Map<string, HtmlDocument>();

  before(async () => {
    web = await startFakeWeb({ generated: 12 });
    client = new WebClient();
    pages = web.pages().filter((p) => p.kind === 'html' && p.status === 200 && p.sections.length > 0);
    for (const p of pages) {
      const d = await fetchDocument(client, p.url, { explicit: true });
      assert.equal(d.kind, 'html', p.path);
      docs.set(p.path, d);
    }
  });
  after(async () => {
    client.close();
    await web.close();
  });

  test('the site has pages of every layout', () => {
    for (const p of ['/docs/install', '/blog/launch', '/pricing', '/archive/relay-1', '/gen/page-001', '/docs/release-notes.pdf']) {
      assert.ok(docs.has(p), p);
    }
    assert.ok(pages.length >= 20);
  });

  test('every sentence and list item is there; no boilerplate is', () => {
    const markers = Object.values(BOILERPLATE);
    for (const p of pages) {
      const d = docs.get(p.path)!;
      const text = squash(d.units.map((u) => `${u.section ?? ''}\n${u.text}`).join('\n'));
      for (const s of p.sentences) assert.ok(text.includes(squash(s)), `${p.path}: missing "${s}"`);
      for (const m of markers) assert.ok(!text.includes(m), `${p.path}: boilerplate "${m}"`);
      assert.ok(!text.includes('\u200b'), `${p.path}: a zero-width space from a permalink`);
      assert.ok(!/Direct link to/.test(text), p.path);
    }
  });

  test('the title is the <title>; headings make sections with their heading path', () => {
    for (const p of pages) {
      const d = docs.get(p.path)!;
      assert.equal(d.title, p.title, p.path);
      const paths = expectedPaths(p);
      const withContent = p.sections
        .map((s, i) => ({ s, path: paths[i]! }))
        .filter(({ s }) => s.sentences.length + s.items.length + s.code.length + s.tables.length > 0);
      assert.deepEqual(
        d.units.map((u) => u.section),
        withContent.map((x) => x.path),
        p.path,
      );
      for (const [i, u] of d.units.entries()) {
        assert.equal(u.page, null);
        assert.ok(u.text.startsWith(`${withContent[i]!.s.heading}\n\n`), `${p.path}: a unit starts with its heading`);
        for (const s of withContent[i]!.s.sentences) assert.ok(squash(u.text).includes(squash(s)), `${p.path} § ${u.section}: ${s}`);
      }
      assert.equal(d.units[0]!.section!.split(' › ')[0], p.h1, `${p.path}: paths start at the h1`);
    }
  });

  test('code blocks keep their lines and indentation; tables have a row per line, cells joined by " | "', () => {
    let code = 0;
    let tables = 0;
    for (const p of pages) {
      const d = docs.get(p.path)!;
      const paths = expectedPaths(p);
      p.sections.forEach((s, i) => {
        const unit = d.units.find((u) => u.section === paths[i]);
        for (const c of s.code) {
          code++;
          assert.ok(unit?.text.includes(c), `${p.path} § ${paths[i]}: code block as written:\n${c}`);
        }
        for (const t of s.tables) {
          tables++;
          const lines = unit!.text.split('\n');
          assert.ok(lines.includes(t.header.join(' | ')), `${p.path}: header row`);
          for (const r of t.rows) assert.ok(lines.includes(r.join(' | ')), `${p.path}: row ${r.join(' | ')}`);
        }
        for (const it of s.items) {
          assert.ok(
            unit!.text.split('\n').some((l: string) => /^(?:- |\d+\. )/.test(l) && squash(l).endsWith(squash(it))),
            `${p.path}: list item "${it}" on its own line`,
          );
        }
      });
    }
    assert.ok(code >= 5, `${code} code blocks checked`);
    assert.ok(tables >= 3, `${tables} tables checked`);
    const install = docs.get('/docs/install')!.units.find((u) => u.section === 'Installing Acme Relay › Linux › Debian and Ubuntu')!;
    assert.match(
      install.text,
      /\n {2}\| sudo tee \/etc\/apt\/sources\.list\.d\/acme-relay\.list\n/,
      'a continuation line keeps its indentation',
    );
  });

  test('each generated page says its own fact', () => {
    for (let i = 1; i <= 12; i++) {
      const d = docs.get(`/gen/page-${String(i).padStart(3, '0')}`)!;
      assert.ok(squash(d.units.map((u) => u.text).join(' ')).includes(genFact(i)), `page ${i}`);
    }
  });

  test('links are every <a href> resolved against the page, nav links included', () => {
    const d = docs.get('/docs/')!;
    const normalised = d.links.filter((h) => h.startsWith('http')).map((h) => normalizeUrl(h));
    for (const l of web.page('/docs/')!.links) assert.ok(normalised.includes(web.url(l)), l);
    assert.ok(d.links.includes(web.url('/docs/troubleshooting')), 'relative link resolved');
    assert.ok(d.links.includes('mailto:support@acme-relay.example'));
    assert.ok(d.links.includes(web.url('/docs/getting-started')), 'a sidebar link counts for crawling');
  });

  test('documents by content type: a PDF, an untyped HTML page; empty and blank pages fail', async () => {
    const pdf = await fetchDocument(client, web.url('/docs/manual'), { explicit: true });
    assert.equal(pdf.kind, 'pdf');
    assert.equal((pdf as { body: Buffer }).body.subarray(0, 5).toString(), '%PDF-');
    const untyped = (await fetchDocument(client, web.url('/bad/untyped'), { explicit: true })) as HtmlDocument;
    assert.equal(untyped.kind, 'html');
    assert.ok(untyped.units.some((u) => u.text.includes(UNTYPED_TEXT)));
    for (const [path, reason, message] of [
      ['/bad/blank', 'empty_page', /empty page \(no text in its main content\)/],
      ['/bad/empty', 'empty', /empty response/],
      ['/bad/archive', 'unsupported_type', /unsupported content type application\/zip \(expected HTML or PDF\)/],
      ['/bad/logo', 'unsupported_type', /image\/png/],
      ['/bad/sitemap-not-xml.xml', 'unsupported_type', /application\/xml/],
    ] as const) {
      const err = await fetchDocument(client, web.url(path), { explicit: true }).then(
        () => assert.fail(path),
        (e: unknown) => e,
      );
      assert.ok(err instanceof FetchError, path);
      assert.equal(err.reason, reason, err.message);
      assert.match(err.message, message);
      assert.ok(err.message.startsWith(web.url(path)));
    }
  });

  test('conditional fetch of a document: not modified', async () => {
    const d = (await fetchDocument(client, web.url('/docs/changelog'), { explicit: true })) as HtmlDocument;
    const again = await fetchDocument(client, web.url('/docs/changelog'), { explicit: true, etag: d.etag, lastModified: d.lastModified });
    assert.equal(again.kind, 'not_modified');
  });

  test('extractHtml on a blank page says it is empty', () => {
    assert.throws(
      () =>
        extractHtml(
          '<html><head><title>T</title></head><body><nav>Menu</nav><main>  </main><footer>f</footer></body></html>',
          'https://x.test/p',
        ),
      (err: unknown) =>
        err instanceof FetchError &&
        err.reason === 'empty_page' &&
        err.message === 'https://x.test/p: empty page (no text in its main content)',
    );
  });
});
