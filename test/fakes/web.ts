/**
 * Fake documentation website for tests and benchmarks of fetching, crawling and syncing URLs: one
 * HTTP server on 127.0.0.1 serving the Acme Relay handbook of ./web-site.ts (deterministic pages
 * with known titles, headings and sentences, realistic boilerplate around them), its sitemaps and
 * robots.txt, pages that fail in every way a test needs, and a second origin that nothing should
 * ever request. Drive it with any HTTP client (web.test.ts uses Node's fetch).
 *
 * ```ts
 * const web = await startFakeWeb({ generated: 200 });
 * await fetch(web.url('/docs/install'));          // web.origin = 'http://127.0.0.1:PORT'
 * web.page('/docs/install')!.sections[1]!.heading; // 'Requirements'
 * await web.close();
 * ```
 *
 * Site (origin `web.origin`)
 * - `/docs/` handbook index; `/docs/getting-started`, `/docs/install`, `/docs/configuration`,
 *   `/docs/webhooks`, `/docs/troubleshooting`, `/docs/changelog` (depth 1: in every docs page's
 *   sidebar; the index also links `/docs/changelog?page=2`, the manual, the release notes and the
 *   disallowed pages); `/docs/install/docker`, `/docs/webhooks/signatures`, `/docs/webhooks/retries`
 *   (depth 2: linked only from depth-1 pages). `?page=N` is the one query parameter the server
 *   reads; every other one is ignored (`/docs/install?utm_source=x` serves `/docs/install`).
 * - By content type, not extension: `/docs/manual` is a PDF (application/pdf, longManual(3) of
 *   test/support/pdfs.ts); `/docs/release-notes.pdf` is an HTML page.
 * - Outside `/docs/`: `/blog/launch`, `/blog/relay-3` (layout `blog`: `<article>`, no `<main>`),
 *   `/archive/relay-1`, `/pricing` (layout `bare`: `<div role="main">`). `/login`, `/imprint`,
 *   `/de/docs/install` are linked but answer 404.
 * - Links on the index (section "Elsewhere"): other origin (absolute and protocol-relative),
 *   mailto:, tel:, file:, ftp:, javascript:, same pages with tracking parameters (utm_source,
 *   utm_medium, utm_campaign, ref, fbclid, gclid) and fragments, relative (`troubleshooting`,
 *   `./../docs/changelog`), robots-disallowed pages, pages outside the prefix. Header, sidebar,
 *   footer, breadcrumbs and pagination link too (nav links count for crawling, not for content).
 *   `/docs/webhooks` links `webhooks/retries` (relative: resolves to /docs/webhooks/retries).
 * - HTML pages: cookie banner, `<header>` with nav, sidebar `<aside>`, `<main>` holding breadcrumbs
 *   `<nav>`, an inline `<style>` and `<script>`, and the `<article>`: h1 inside an `<header>` of the
 *   article (as Docusaurus renders it: only the page-level header is boilerplate), h2/h3 with a
 *   permalink anchor holding a zero-width space, paragraphs, lists, tables, `<pre><code>` (with
 *   `<`, `&`, quotes escaped), an article `<footer>` (edit link) and pagination `<nav>`; then a
 *   table-of-contents `<aside>`, `<footer>`, `<noscript>`, scripts, JSON-LD in `<head>`. Known
 *   text: `web.page(path)` (see WebPage); BOILERPLATE (re-exported) lists text that must never be
 *   indexed, and `page.boilerplate` the markers present on that page.
 * - `/robots.txt` = ROBOTS_TXT: `*` may not fetch /docs/private/; `copilot` may not fetch
 *   /docs/internal/ nor /docs/private/ (its group repeats the `*` rule, see ROBOTS_TXT). To test
 *   one group alone, `route('/robots.txt', {type: 'text/plain', body})`; `remove('/robots.txt')`.
 * - Sitemaps: `/sitemap.xml` (index) → `/sitemaps/docs.xml` (every /docs/ page, PDF included; one
 *   `<loc>` spread over lines; an `xhtml:link` alternate to a 404 page), `/sitemaps/blog.xml.gz`
 *   (a gzip file: application/gzip, no Content-Encoding), `/sitemaps/archive-index.xml` (a nested
 *   index) → `/sitemaps/archive.xml`. `sitemapUrls()` gives what a correct reader collects.
 *   Disallowed pages are listed too (robots applies to them as to any URL).
 * - Pages carry ETag (HTML: weak `W/"…"`, from the content; PDF: strong) and Last-Modified
 *   (deterministic dates; +1 day per change). If-None-Match (weak comparison, lists, `*`) wins over
 *   If-Modified-Since; either → 304 with the same validators. Only pages carry validators.
 * - Generated site (`generated: N`): `/gen/` (links recipes 1–10), `/gen/page-001` … (each links to
 *   three others, all reachable), `/gen/sitemap.xml` (all N; not in /sitemap.xml). genFact(i) is the
 *   one sentence only page i says. Bodies are rendered once and cached.
 * - Redirects: `/r/N/<path>` is a chain of N redirects ending at `/<path>` (query kept; statuses
 *   cycle through 301, 302, 303, 307, 308; Location alternately absolute and path-only);
 *   `/docs` → 301 `/docs/`; `/bad/loop` ↔ `/bad/loop-2` loop forever.
 * - Faults, all linked from `/bad/` (so a crawl of /bad/ meets each): `/bad/archive`
 *   (application/zip), `/bad/logo` (image/png), `/bad/untyped` (HTML without Content-Type),
 *   `/bad/empty` (200, empty body), `/bad/blank` (full layout, no text in the main content),
 *   `/bad/huge` (HUGE_BYTES of HTML with Content-Length), `/bad/huge-chunked` (the same, chunked, no
 *   length) — both streamed with backpressure, never held in memory — `/bad/bomb` (~64 KB gzip,
 *   Content-Encoding: gzip, BOMB_BYTES once decoded), `/bad/loop`, `/bad/error` (500), `/bad/gone`
 *   (410), `/bad/reset` (headers and part of the body, then a TCP reset), `/bad/drop` (reset before
 *   any response), `/bad/sitemap-not-xml.xml` (application/xml that is not XML),
 *   `/bad/sitemap-loop.xml` (an index listing itself). Not linked, as they take long:
 *   `/bad/hang` (never answers; the socket is reset after HANG_MS), `/bad/trickle` (headers, then
 *   one short paragraph every TRICKLE_MS, TRICKLE_CHUNKS times).
 * - Everything else: 404 HTML. Only GET and HEAD (HEAD: same headers, no body); others → 405.
 *
 * Second origin (`web.other.origin`, another port): every path answers a small HTML page (robots.txt
 * 404). Every off-site link of the handbook points there, so `web.other.requests` must stay empty.
 *
 * Record: `requests` (each: method, path = pathname + query as sent, headers, `at`/`endedAt`
 * (performance.now() ms), `status` answered (undefined if none), body `bytes` written, `completed`
 * (the whole response was sent), `startSeq`/`endSeq` ordering, `clientPort`: the connection's). `maxConcurrent(prefix = '/')`: most
 * requests in flight at once among those whose path starts with prefix; `inFlight()`: now.
 * Clear the log with `requests.length = 0`.
 *
 * Controls (path = pathname, or `/docs/changelog?page=2`; each clears the page caches):
 * - `change(path, edit?)` → new WebPage: a new revision (new ETag, Last-Modified +1 day, sitemap
 *   lastmod too). Without `edit`, HTML pages get revisionSentence(path, rev) as a new paragraph in
 *   their first h2 section; the PDF gets one more page. `edit` replaces title and/or sections.
 * - `add({path, title, sections, layout?, sitemap?})` → WebPage: a new HTML page; under /docs/ it is
 *   listed in /sitemaps/docs.xml and linked from the index's "New pages" section.
 * - `remove(path, 404 | 410)`: any path answers that (pages leave their sitemap); `restore(path)`
 *   undoes remove/route/redirect/fail/delay for the path.
 * - `route(path, {status?, type?, headers?, body})`: a fixed response; `redirect(from, to, status)`.
 * - `fail(path, {status, times?, retryAfter?})`: the next `times` (default: every) requests get
 *   `status` (with `Retry-After` when given: seconds or an HTTP date), then normal answers.
 * - `delay(path, ms | 'hang')` for one path (0 clears); `setLatency(ms)` before every response.
 * - `setValidators({etag?, lastModified?})`: stop sending (and honouring) either validator.
 * - `close()`: resets every socket (hanging and streaming responses end), clears every timer, closes
 *   both servers.
 */
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createGzip, gzipSync } from 'node:zlib';
import { Lifecycle } from './http.js';
import { longManual } from '../support/pdfs.js';
import {
  BOILERPLATE,
  ORIGIN,
  OTHER,
  OTHER_HOST,
  ROBOTS_TXT,
  TRACKING_PARAMS,
  boilerplateOf,
  escapeHtml,
  generatedIndex,
  generatedPage,
  hrefsOnPage,
  pdfSections,
  renderHtml,
  site,
  sitemapIndexXml,
  slug,
  urlsetXml,
  visible,
  type Block,
  type Layout,
  type PageSpec,
  type SectionSpec,
  type SitemapName,
} from './web-site.js';

export { BOILERPLATE, ROBOTS_TXT, TRACKING_PARAMS, site, type Block, type Layout, type PageSpec, type SectionSpec, type SitemapName };
export { SIDEBAR, genFact, genPath } from './web-site.js';

/** Body size of /bad/huge and /bad/huge-chunked (over a 10 MB limit however counted). */
export const HUGE_BYTES = 12 * 1024 * 1024;
/** Decoded size of /bad/bomb. */
export const BOMB_BYTES = 64 * 1024 * 1024;
/** How long /bad/hang and delay(path, 'hang') hold a request before resetting it. */
export const HANG_MS = 300_000;
export const TRICKLE_MS = 1000;
export const TRICKLE_CHUNKS = 300;
/** Visible text of /bad/untyped. */
export const UNTYPED_TEXT = 'This page was sent without a Content-Type header.';

const MAX_GENERATED = 5000;
const MAX_CHAIN = 50;
const MAX_DELAY_MS = 600_000;
const REDIRECT_STATUSES = [301, 302, 303, 307, 308] as const;
const DAY_MS = 86_400_000;

export interface FakeWebOptions {
  /** Pages of the generated site under /gen/ (0–5000; default 0: no /gen/). */
  generated?: number;
  /** Delay before every response (ms; default 0). */
  latencyMs?: number;
}

export interface WebRequest {
  method: string;
  /** Pathname and query exactly as requested. */
  path: string;
  headers: http.IncomingHttpHeaders;
  /** performance.now() when the request arrived / when its response ended or its socket closed. */
  at: number;
  endedAt?: number;
  /** Status answered; undefined while pending or if the connection was dropped before headers. */
  status?: number;
  /** Body bytes handed to the socket. */
  bytes: number;
  /** The whole response was sent. */
  completed: boolean;
  /** Order of this request's start and end among all starts and ends (for maxConcurrent). */
  startSeq: number;
  /** The client's port: requests with the same one came over the same (kept-alive) connection. */
  clientPort?: number;
  endSeq?: number;
}

export interface WebSection {
  level: 1 | 2 | 3;
  /** Visible heading text (no permalink, no zero-width space). */
  heading: string;
  id: string;
  /** Paragraph sentences, as a reader sees them. */
  sentences: string[];
  /** List items. */
  items: string[];
  code: string[];
  tables: { header: string[]; rows: string[][] }[];
}

export interface WebPage {
  path: string;
  url: string;
  kind: 'html' | 'pdf';
  /** The `<title>` (PDF: the manual's printed title). */
  title: string;
  /** The h1 (PDF: the title). */
  h1: string;
  headings: { level: 1 | 2 | 3; text: string }[];
  sections: WebSection[];
  /** Every paragraph sentence and list item, in order. */
  sentences: string[];
  /** Boilerplate markers on the served page (none may reach the index). */
  boilerplate: string[];
  /** Same-origin pages linked, normalised (no fragment, no tracking parameter), first-seen order, without itself. */
  links: string[];
  /** Link distance from /docs/ (generated pages: from /gen/); undefined if unreachable. Robots ignored. */
  depth?: number;
  /** 200, or 404/410 after remove(). */
  status: number;
  revision: number;
  etag: string;
  /** HTTP date. */
  lastModified: string;
  /** The sitemap listing the page now (null: none). */
  sitemap: SitemapName | null;
}

export interface StagedResponse {
  status?: number;
  /** Content-Type; omitted: none sent. */
  type?: string;
  headers?: Record<string, string>;
  body: string | Buffer;
}

export interface FailSpec {
  status: number;
  /** How many requests fail (default: all until restore). */
  times?: number;
  /** Retry-After value: seconds, or a string sent as is (an HTTP date). */
  retryAfter?: number | string;
}

export interface FakeWeb {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  readonly port: number;
  url(path: string): string;
  /** A second origin; nothing on the site should make anyone request it. */
  readonly other: { readonly origin: string; url(path: string): string; readonly requests: WebRequest[] };
  readonly requests: WebRequest[];
  maxConcurrent(prefix?: string): number;
  inFlight(): number;
  /** The page now at path (path as in the site: `/docs/`, `/docs/changelog?page=2`). */
  page(path: string): WebPage | undefined;
  /** Every page (including removed ones, with their status; generated ones too). */
  pages(): WebPage[];
  /** Page URLs a correct reader collects from a sitemap (indexes followed), in order. */
  sitemapUrls(sitemap?: string): string[];
  change(path: string, edit?: { title?: string; sections?: SectionSpec[] }): WebPage;
  add(page: { path: string; title: string; sections: SectionSpec[]; layout?: Layout; sitemap?: SitemapName | null }): WebPage;
  remove(path: string, status?: 404 | 410): void;
  restore(path: string): void;
  route(path: string, response: StagedResponse): void;
  redirect(from: string, to: string, status?: 301 | 302 | 303 | 307 | 308): void;
  fail(path: string, spec: FailSpec): void;
  delay(path: string, ms: number | 'hang'): void;
  setLatency(ms: number): void;
  setValidators(v: { etag?: boolean; lastModified?: boolean }): void;
  close(): Promise<void>;
}

/** The sentence change(path) adds at revision rev. */
export function revisionSentence(path: string, rev: number): string {
  return `Revision ${rev} of ${path} says that deliveries now start within ${rev * 3} seconds of an event arriving.`;
}

// ---------------------------------------------------------------------------------------------
// Fixed bodies

const EMPTY_ZIP = Buffer.from(`504b0506${'00'.repeat(18)}`, 'hex');
const PNG_1X1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const HUGE_PREFIX = Buffer.from(
  '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>A very large page</title></head><body><main><h1>A very large page</h1>\n',
);
const HUGE_SUFFIX = Buffer.from('</main></body></html>\n');
const HUGE_CHUNK = Buffer.from('<p>Filler text that only makes this page larger than any page should be.</p>\n'.repeat(900));

const pdfCache = new Map<number, Promise<Buffer>>();
function pdfBody(pages: number): Promise<Buffer> {
  let p = pdfCache.get(pages);
  if (!p) {
    p = longManual(pages);
    pdfCache.set(pages, p);
    p.catch(() => pdfCache.delete(pages));
  }
  return p;
}

let bombCache: Promise<Buffer> | undefined;
function bombBody(): Promise<Buffer> {
  bombCache ??= new Promise<Buffer>((resolve, reject) => {
    const gz = createGzip({ level: 9 });
    const parts: Buffer[] = [];
    gz.on('data', (b: Buffer) => parts.push(b));
    gz.on('end', () => resolve(Buffer.concat(parts)));
    gz.on('error', reject);
    const head = Buffer.from('<!DOCTYPE html><html><head><title>Compressed page</title></head><body><main><p>');
    const spaces = Buffer.alloc(64 * 1024, 0x20);
    gz.write(head);
    for (let left = BOMB_BYTES - head.length; left > 0; left -= spaces.length) {
      gz.write(left >= spaces.length ? spaces : spaces.subarray(0, left));
    }
    gz.end();
  });
  return bombCache;
}

const BAD_INDEX: PageSpec = {
  path: '/bad/',
  kind: 'html',
  title: 'Broken pages | Acme Relay Docs',
  sitemap: null,
  modified: '2024-03-06T09:00:00Z',
  sections: [
    {
      level: 1,
      heading: 'Broken pages',
      blocks: [
        { p: ['Every link below fails in its own way.'] },
        {
          ul: [
            '[archive](/bad/archive)',
            '[logo](/bad/logo)',
            '[untyped](/bad/untyped)',
            '[empty](/bad/empty)',
            '[blank](/bad/blank)',
            '[huge](/bad/huge)',
            '[huge, chunked](/bad/huge-chunked)',
            '[bomb](/bad/bomb)',
            '[loop](/bad/loop)',
            '[error](/bad/error)',
            '[gone](/bad/gone)',
            '[reset](/bad/reset)',
            '[drop](/bad/drop)',
            '[missing](/bad/missing)',
            '[not XML](/bad/sitemap-not-xml.xml)',
            '[sitemap loop](/bad/sitemap-loop.xml)',
            '[a working page](/bad/ok)',
          ],
        },
      ],
    },
  ],
};
const BAD_OK: PageSpec = {
  path: '/bad/ok',
  kind: 'html',
  title: 'A working page | Acme Relay Docs',
  sitemap: null,
  modified: '2024-03-06T09:00:00Z',
  sections: [{ level: 1, heading: 'A working page', blocks: [{ p: ['This page among the broken ones answers normally.'] }] }],
};

/** Sitemaps the fake serves: an index of other sitemaps, or the pages of one sitemap name. */
const SITEMAPS: Record<string, { index: string[] } | { urlset: SitemapName; gzip?: boolean; alternates?: boolean }> = {
  '/sitemap.xml': { index: ['/sitemaps/docs.xml', '/sitemaps/blog.xml.gz', '/sitemaps/archive-index.xml'] },
  '/sitemaps/docs.xml': { urlset: 'docs', alternates: true },
  '/sitemaps/blog.xml.gz': { urlset: 'blog', gzip: true },
  '/sitemaps/archive-index.xml': { index: ['/sitemaps/archive.xml'] },
  '/sitemaps/archive.xml': { urlset: 'archive' },
  '/gen/sitemap.xml': { urlset: 'gen' },
  '/bad/sitemap-loop.xml': { index: ['/bad/sitemap-loop.xml', '/bad/sitemap-loop-2.xml'] },
  '/bad/sitemap-loop-2.xml': { index: ['/bad/sitemap-loop.xml'] },
};

const NOT_XML = 'Sitemap generation failed: upstream returned\n{"error": "timeout"} <<< not a sitemap >>>\n<urlset><url><loc>';

// ---------------------------------------------------------------------------------------------
// Server

type Override =
  { kind: 'gone'; status: 404 | 410 } | { kind: 'route'; response: StagedResponse } | { kind: 'redirect'; to: string; status: number };

interface Rendered {
  body: Buffer;
  type: string;
  etag: string;
  lastModified: Date;
}

function boundedInt(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${v}`);
  return v;
}

function sha1(s: string | Buffer): string {
  return createHash('sha1').update(s).digest('hex').slice(0, 20);
}

function isTracking(param: string): boolean {
  return param.startsWith('utm_') || TRACKING_PARAMS.includes(param);
}

function etagMatches(header: string, etag: string): boolean {
  const bare = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => t.trim() === '*' || bare(t) === bare(etag));
}

function cloneSections(sections: SectionSpec[]): SectionSpec[] {
  return structuredClone(sections);
}

function listen(server: http.Server): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

class RequestLog {
  readonly requests: WebRequest[] = [];
  private seq = 0;
  private live = 0;

  start(req: http.IncomingMessage, res: http.ServerResponse): WebRequest {
    const rec: WebRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      at: performance.now(),
      bytes: 0,
      completed: false,
      startSeq: ++this.seq,
      clientPort: req.socket.remotePort,
    };
    this.requests.push(rec);
    this.live++;
    res.on('finish', () => (rec.completed = true));
    res.on('close', () => {
      rec.endSeq = ++this.seq;
      rec.endedAt = performance.now();
      this.live--;
    });
    return rec;
  }

  inFlight(): number {
    return this.live;
  }

  maxConcurrent(prefix: string): number {
    const events: [number, number][] = [];
    for (const r of this.requests) {
      if (!r.path.startsWith(prefix)) continue;
      events.push([r.startSeq, 1], [r.endSeq ?? Number.MAX_SAFE_INTEGER, -1]);
    }
    events.sort((a, b) => a[0] - b[0]);
    let now = 0;
    let max = 0;
    for (const [, d] of events) {
      now += d;
      max = Math.max(max, now);
    }
    return max;
  }
}

export async function startFakeWeb(opts: FakeWebOptions = {}): Promise<FakeWeb> {
  const generated = boundedInt('generated', opts.generated ?? 0, 0, MAX_GENERATED);
  let latencyMs = boundedInt('latencyMs', opts.latencyMs ?? 0, 0, MAX_DELAY_MS);
  const validators = { etag: true, lastModified: true };

  const life = new Lifecycle();
  const otherLife = new Lifecycle();
  const log = new RequestLog();
  const otherLog = new RequestLog();
  let origin = '';
  let otherOrigin = '';
  let otherHost = '';

  // Site state: specs by key, their revision, overrides, and caches.
  const specs = new Map<string, PageSpec>();
  const revisions = new Map<string, number>();
  const added: string[] = [];
  for (const p of [...Object.values(site.pages), BAD_INDEX, BAD_OK]) specs.set(p.path, { ...p, sections: cloneSections(p.sections) });
  if (generated > 0) {
    specs.set('/gen/', generatedIndex(generated));
    for (let i = 1; i <= generated; i++) {
      const p = generatedPage(i, generated);
      specs.set(p.path, p);
    }
  }
  const overrides = new Map<string, Override>();
  const fails = new Map<string, FailSpec & { count: number }>();
  const delays = new Map<string, number | 'hang'>();
  const rendered = new Map<string, Rendered & { template?: string }>();
  let depthCache: Map<string, number> | undefined;

  const invalidate = () => {
    rendered.clear();
    depthCache = undefined;
  };

  const substitute = (s: string) => s.replaceAll(ORIGIN, origin).replaceAll(OTHER_HOST, otherHost).replaceAll(OTHER, otherOrigin);

  /** The key a request URL names: `?page=N` only when that page exists. */
  const keyOf = (url: URL): string => {
    const page = url.searchParams.get('page');
    if (page !== null) {
      const k = `${url.pathname}?page=${page}`;
      if (specs.has(k) || overrides.has(k)) return k;
    }
    return url.pathname;
  };

  const liveSpec = (key: string): PageSpec | undefined => {
    const spec = specs.get(key);
    if (!spec || key !== '/docs/' || added.length === 0) return spec;
    const items = added.map((k) => `[${visible(specs.get(k)!.sections[0]?.heading ?? specs.get(k)!.title)}](${k})`);
    return { ...spec, sections: [...spec.sections, { level: 2, heading: 'New pages', blocks: [{ ul: items }] }] };
  };

  const listedIn = (key: string): SitemapName | null => {
    const o = overrides.get(key);
    if (o && o.kind !== 'route') return null;
    return specs.get(key)?.sitemap ?? null;
  };

  const render = async (key: string): Promise<Rendered | undefined> => {
    const cached = rendered.get(key);
    if (cached) return cached;
    const spec = liveSpec(key);
    if (!spec) return undefined;
    const r = spec.kind === 'pdf' ? await renderPdf(key, spec) : renderPage(key, spec);
    rendered.set(key, r);
    return r;
  };

  const renderPage = (key: string, spec: PageSpec): Rendered & { template: string } => {
    const cached = rendered.get(key);
    if (cached?.template) return cached as Rendered & { template: string };
    const template = renderHtml(spec);
    const r = {
      template,
      body: Buffer.from(substitute(template)),
      type: 'text/html; charset=utf-8',
      etag: `W/"${sha1(template)}"`,
      lastModified: new Date(spec.modified),
    };
    rendered.set(key, r);
    return r;
  };

  const pdfEtag = (key: string, spec: PageSpec) => `"${sha1(`pdf:${key}:${spec.pdfPages}:${revisions.get(key) ?? 1}`)}"`;

  const renderPdf = async (key: string, spec: PageSpec): Promise<Rendered> => ({
    body: await pdfBody(spec.pdfPages ?? 3),
    type: 'application/pdf',
    etag: pdfEtag(key, spec),
    lastModified: new Date(spec.modified),
  });

  const normalizeLink = (href: string, base: string): string | undefined => {
    let u: URL;
    try {
      u = new URL(href, base);
    } catch {
      return undefined;
    }
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== origin) return undefined;
    u.hash = '';
    for (const k of [...u.searchParams.keys()]) if (isTracking(k)) u.searchParams.delete(k);
    return u.pathname + u.search;
  };

  const linksOf = (key: string): string[] => {
    const spec = liveSpec(key);
    if (!spec || spec.kind !== 'html') return [];
    const html = renderPage(key, spec).template;
    const out: string[] = [];
    for (const href of hrefsOnPage(html)) {
      const n = normalizeLink(substitute(href), origin + key);
      if (n !== undefined && n !== key && !out.includes(n)) out.push(n);
    }
    return out;
  };

  const depths = (): Map<string, number> => {
    if (depthCache) return depthCache;
    const d = new Map<string, number>();
    for (const root of ['/docs/', '/gen/']) {
      if (!specs.has(root)) continue;
      d.set(root, 0);
      const queue = [root];
      while (queue.length) {
        const k = queue.shift()!;
        if (overrides.get(k)?.kind === 'gone') continue;
        for (const l of linksOf(k)) {
          if (!l.startsWith(root) || d.has(l) || !specs.has(l)) continue;
          d.set(l, d.get(k)! + 1);
          queue.push(l);
        }
      }
    }
    depthCache = d;
    return d;
  };

  const viewOf = (key: string): WebPage | undefined => {
    const spec = liveSpec(key);
    if (!spec) return undefined;
    const o = overrides.get(key);
    const status = o?.kind === 'gone' ? o.status : 200;
    const revision = revisions.get(key) ?? 1;
    const lastModified = new Date(spec.modified).toUTCString();
    const base = {
      path: key,
      url: origin + key,
      kind: spec.kind,
      title: spec.title,
      status,
      revision,
      lastModified,
      sitemap: listedIn(key),
      depth: depths().get(key),
    };
    if (spec.kind === 'pdf') {
      const secs = pdfSections(spec.pdfPages ?? 3);
      return {
        ...base,
        h1: spec.title,
        headings: secs.map((s) => ({ level: 1 as const, text: s.heading })),
        sections: secs.map((s) => ({
          level: 1 as const,
          heading: s.heading,
          id: slug(s.heading),
          sentences: s.sentences,
          items: [],
          code: [],
          tables: [],
        })),
        sentences: secs.flatMap((s) => s.sentences),
        boilerplate: [],
        links: [],
        etag: pdfEtag(key, spec),
      };
    }
    const sections: WebSection[] = spec.sections.map((s) => ({
      level: s.level,
      heading: visible(s.heading),
      id: slug(s.heading),
      sentences: s.blocks.flatMap((b) => ('p' in b ? b.p.map(visible) : [])),
      items: s.blocks.flatMap((b) => ('ul' in b ? b.ul.map(visible) : 'ol' in b ? b.ol.map(visible) : [])),
      code: s.blocks.flatMap((b) => ('code' in b ? [b.code] : [])),
      tables: s.blocks.flatMap((b) =>
        'table' in b ? [{ header: b.table.header.map(visible), rows: b.table.rows.map((r) => r.map(visible)) }] : [],
      ),
    }));
    return {
      ...base,
      h1: sections[0]?.level === 1 ? sections[0].heading : spec.title,
      headings: sections.map((s) => ({ level: s.level, text: s.heading })),
      sections,
      sentences: spec.sections.flatMap((s) =>
        s.blocks.flatMap((b) => ('p' in b ? b.p : 'ul' in b ? b.ul : 'ol' in b ? b.ol : []).map(visible)),
      ),
      boilerplate: boilerplateOf(spec.layout ?? 'docs'),
      links: linksOf(key),
      etag: renderPage(key, spec).etag,
    };
  };

  const sitemapBody = (path: string): { body: Buffer; type: string } | undefined => {
    const sm = SITEMAPS[path];
    if (!sm || (path === '/gen/sitemap.xml' && generated === 0)) return undefined;
    if ('index' in sm) return { body: Buffer.from(substitute(sitemapIndexXml(sm.index, '2024-03-06'))), type: 'application/xml' };
    const entries = [...specs.keys()]
      .filter((k) => listedIn(k) === sm.urlset)
      .map((k) => ({ path: k, lastmod: new Date(specs.get(k)!.modified).toISOString().replace('.000Z', 'Z') }));
    const xml = Buffer.from(substitute(urlsetXml(entries, sm.alternates)));
    return sm.gzip ? { body: gzipSync(xml), type: 'application/gzip' } : { body: xml, type: 'application/xml' };
  };

  const sitemapUrls = (path = '/sitemap.xml'): string[] => {
    const out: string[] = [];
    const seen = new Set<string>();
    const walk = (p: string) => {
      if (seen.has(p)) return;
      seen.add(p);
      const sm = SITEMAPS[p];
      if (!sm) return;
      if ('index' in sm) return sm.index.forEach(walk);
      for (const k of specs.keys()) if (listedIn(k) === sm.urlset) out.push(origin + k);
    };
    walk(path);
    return out;
  };

  // --- responses -------------------------------------------------------------------------------

  const send = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    rec: WebRequest,
    status: number,
    headers: Record<string, string>,
    body: string | Buffer = '',
  ) => {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    rec.status = status;
    const h: Record<string, string> = { ...headers };
    if (status !== 304) h['content-length'] = String(buf.length);
    res.writeHead(status, h);
    if (req.method === 'HEAD' || status === 304 || buf.length === 0) return res.end();
    rec.bytes += buf.length;
    res.end(buf);
  };

  const errorPage = (status: number, title: string) =>
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${status} ${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1></body></html>\n`;
  const HTML = { 'content-type': 'text/html; charset=utf-8' };

  const servePage = async (req: http.IncomingMessage, res: http.ServerResponse, rec: WebRequest, key: string): Promise<boolean> => {
    const r = await render(key);
    if (!r || life.closed || res.destroyed) return !!r;
    const headers: Record<string, string> = { 'content-type': r.type, 'cache-control': 'no-cache' };
    if (validators.etag) headers.etag = r.etag;
    if (validators.lastModified) headers['last-modified'] = r.lastModified.toUTCString();
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    let fresh = false;
    if (inm !== undefined) fresh = validators.etag && etagMatches(inm, r.etag);
    else if (ims !== undefined && validators.lastModified) {
      const t = Date.parse(ims);
      fresh = !Number.isNaN(t) && r.lastModified.getTime() <= t;
    }
    if (fresh) send(req, res, rec, 304, headers);
    else send(req, res, rec, 200, headers, r.body);
    return true;
  };

  /** Resolves after ms, when the fake closes, or when the client goes away. */
  const pauser = (res: http.ServerResponse) => {
    const gone = new Promise<void>((resolve) => res.once('close', () => resolve()));
    return (ms: number) => Promise.race([life.sleep(ms), gone]);
  };
  const over = (res: http.ServerResponse) => life.closed || res.destroyed;

  const reset = (res: http.ServerResponse) => {
    const s = res.socket;
    if (s && !s.destroyed) s.resetAndDestroy();
  };

  const streamHuge = async (req: http.IncomingMessage, res: http.ServerResponse, rec: WebRequest, withLength: boolean) => {
    const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8' };
    if (withLength) headers['content-length'] = String(HUGE_BYTES);
    rec.status = 200;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return res.end();
    const gone = new Promise<void>((resolve) => res.once('close', () => resolve()));
    const write = async (b: Buffer) => {
      const ok = res.write(b);
      rec.bytes += b.length;
      // close() destroys the socket, which ends `gone`: no timer needed here.
      if (!ok) await Promise.race([new Promise<void>((resolve) => res.once('drain', () => resolve())), gone]);
    };
    await write(HUGE_PREFIX);
    for (let left = HUGE_BYTES - HUGE_PREFIX.length - HUGE_SUFFIX.length; left > 0; left -= HUGE_CHUNK.length) {
      if (over(res)) return;
      await write(left >= HUGE_CHUNK.length ? HUGE_CHUNK : HUGE_CHUNK.subarray(0, left));
    }
    if (over(res)) return;
    rec.bytes += HUGE_SUFFIX.length;
    res.end(HUGE_SUFFIX);
  };

  const trickle = async (req: http.IncomingMessage, res: http.ServerResponse, rec: WebRequest) => {
    rec.status = 200;
    res.writeHead(200, HTML);
    if (req.method === 'HEAD') return res.end();
    const pause = pauser(res);
    const head = '<!DOCTYPE html>\n<html><head><title>A slow page</title></head><body><main><h1>A slow page</h1>\n';
    res.write(head);
    rec.bytes += head.length;
    for (let i = 1; i <= TRICKLE_CHUNKS; i++) {
      await pause(TRICKLE_MS);
      if (over(res)) return;
      const part = `<p>Still loading, part ${i}.</p>\n`;
      res.write(part);
      rec.bytes += part.length;
    }
    res.end('</main></body></html>\n');
  };

  const resetMidBody = async (res: http.ServerResponse, rec: WebRequest) => {
    const page = Buffer.from(substitute(renderPage('/docs/install', liveSpec('/docs/install')!).template));
    const body = Buffer.concat([page, Buffer.from(`<!-- ${'padding '.repeat(2000)}-->\n`)]);
    rec.status = 200;
    res.writeHead(200, { ...HTML, 'content-length': String(body.length) });
    const part = body.subarray(0, Math.floor(body.length / 2));
    await new Promise<void>((resolve) => res.write(part, () => resolve()));
    rec.bytes += part.length;
    await pauser(res)(20);
    reset(res);
  };

  const builtin = async (req: http.IncomingMessage, res: http.ServerResponse, rec: WebRequest, url: URL, key: string): Promise<boolean> => {
    const path = url.pathname;
    const go = (status: number, headers: Record<string, string>, body?: string | Buffer) => {
      send(req, res, rec, status, headers, body);
      return true;
    };
    if (path === '/robots.txt') return go(200, { 'content-type': 'text/plain; charset=utf-8' }, substitute(ROBOTS_TXT));
    const sm = sitemapBody(path);
    if (sm) return go(200, { 'content-type': sm.type }, sm.body);
    const chain = /^\/r\/(\d+)(\/.*)$/.exec(path);
    if (chain) {
      const n = Number(chain[1]);
      if (n < 1 || n > MAX_CHAIN) return go(404, HTML, errorPage(404, 'No such redirect chain'));
      const next = (n > 1 ? `/r/${n - 1}${chain[2]}` : chain[2]!) + url.search;
      return go(
        REDIRECT_STATUSES[n % REDIRECT_STATUSES.length]!,
        { location: n % 2 ? origin + next : next, ...HTML },
        errorPage(302, 'Moved'),
      );
    }
    switch (path) {
      case '/docs':
        return go(301, { location: '/docs/', ...HTML }, errorPage(301, 'Moved'));
      case '/assets/site.css':
        return go(200, { 'content-type': 'text/css' }, 'body{font-family:system-ui}\n');
      case '/assets/site.js':
        return go(200, { 'content-type': 'text/javascript' }, 'console.log("docs");\n');
      case '/assets/logo.svg':
        return go(200, { 'content-type': 'image/svg+xml' }, '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n');
      case '/bad/archive':
        return go(200, { 'content-type': 'application/zip' }, EMPTY_ZIP);
      case '/bad/logo':
        return go(200, { 'content-type': 'image/png' }, PNG_1X1);
      case '/bad/untyped':
        return go(
          200,
          {},
          `<!DOCTYPE html>\n<html><head><title>Untyped</title></head><body><main><p>${UNTYPED_TEXT}</p></main></body></html>\n`,
        );
      case '/bad/empty':
        return go(200, HTML, '');
      case '/bad/huge':
      case '/bad/huge-chunked':
        await streamHuge(req, res, rec, path === '/bad/huge');
        return true;
      case '/bad/bomb': {
        const body = await bombBody();
        if (over(res)) return true;
        return go(200, { ...HTML, 'content-encoding': 'gzip' }, body);
      }
      case '/bad/loop':
        return go(302, { location: '/bad/loop-2', ...HTML }, errorPage(302, 'Moved'));
      case '/bad/loop-2':
        return go(302, { location: `${origin}/bad/loop`, ...HTML }, errorPage(302, 'Moved'));
      case '/bad/error':
        return go(500, HTML, errorPage(500, 'Internal Server Error'));
      case '/bad/gone':
        return go(410, HTML, errorPage(410, 'Gone'));
      case '/bad/reset':
        await resetMidBody(res, rec);
        return true;
      case '/bad/drop':
        reset(res);
        return true;
      case '/bad/hang':
        await pauser(res)(HANG_MS);
        reset(res);
        return true;
      case '/bad/trickle':
        await trickle(req, res, rec);
        return true;
      case '/bad/sitemap-not-xml.xml':
        return go(200, { 'content-type': 'application/xml' }, NOT_XML);
    }
    return servePage(req, res, rec, key);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, rec: WebRequest) => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(req, res, rec, 405, { allow: 'GET, HEAD', ...HTML }, errorPage(405, 'Method Not Allowed'));
    let url: URL;
    try {
      const raw = req.url ?? '/';
      url = new URL(raw.startsWith('/') ? origin + raw : raw);
    } catch {
      return send(req, res, rec, 400, HTML, errorPage(400, 'Bad Request'));
    }
    const key = keyOf(url);
    const pause = pauser(res);
    if (latencyMs > 0) await pause(latencyMs);
    const d = delays.get(key);
    if (d !== undefined) {
      await pause(d === 'hang' ? HANG_MS : d);
      if (d === 'hang') return reset(res);
    }
    if (over(res)) return;
    const f = fails.get(key);
    if (f && f.count < (f.times ?? Infinity)) {
      f.count++;
      const headers: Record<string, string> = { ...HTML };
      if (f.retryAfter !== undefined) headers['retry-after'] = String(f.retryAfter);
      return send(req, res, rec, f.status, headers, errorPage(f.status, http.STATUS_CODES[f.status] ?? 'Error'));
    }
    const o = overrides.get(key);
    if (o?.kind === 'gone') return send(req, res, rec, o.status, HTML, errorPage(o.status, o.status === 410 ? 'Gone' : 'Not Found'));
    if (o?.kind === 'redirect') return send(req, res, rec, o.status, { location: o.to, ...HTML }, errorPage(o.status, 'Moved'));
    if (o?.kind === 'route') {
      const r = o.response;
      const headers: Record<string, string> = { ...(r.type ? { 'content-type': r.type } : {}), ...(r.headers ?? {}) };
      return send(req, res, rec, r.status ?? 200, headers, r.body);
    }
    if (!(await builtin(req, res, rec, url, key)) && !over(res)) send(req, res, rec, 404, HTML, errorPage(404, 'Not Found'));
  };

  const onError = (res: http.ServerResponse, rec: WebRequest) => (err: unknown) => {
    if (res.headersSent || res.destroyed) return res.destroy();
    rec.status = 500;
    res.writeHead(500, HTML);
    res.end(errorPage(500, String(err)));
  };

  const server = http.createServer((req, res) => {
    req.resume();
    const rec = log.start(req, res);
    handle(req, res, rec).catch(onError(res, rec));
  });
  const otherServer = http.createServer((req, res) => {
    req.resume();
    const rec = otherLog.start(req, res);
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/robots.txt') return send(req, res, rec, 404, HTML, errorPage(404, 'Not Found'));
    send(
      req,
      res,
      rec,
      200,
      HTML,
      `<!DOCTYPE html>\n<html><head><title>Partner site</title></head><body><main><h1>Partner site</h1><p>This page is on another origin.</p><p><a href="${origin}/docs/">Back to the handbook</a></p></main></body></html>\n`,
    );
  });
  for (const [srv, l] of [
    [server, life],
    [otherServer, otherLife],
  ] as const) {
    srv.on('connection', (s) => {
      l.sockets.add(s);
      s.on('close', () => l.sockets.delete(s));
    });
    srv.on('clientError', (_err, socket) => socket.destroy());
  }

  const port = await listen(server);
  let otherPort: number;
  try {
    otherPort = await listen(otherServer);
  } catch (err) {
    await life.close(server);
    throw err;
  }
  origin = `http://127.0.0.1:${port}`;
  otherHost = `127.0.0.1:${otherPort}`;
  otherOrigin = `http://${otherHost}`;

  const requireSpec = (path: string): PageSpec => {
    const s = specs.get(path);
    if (!s) throw new Error(`no page at ${path}`);
    return s;
  };

  return {
    origin,
    port,
    url: (path: string) => origin + path,
    other: { origin: otherOrigin, url: (path: string) => otherOrigin + path, requests: otherLog.requests },
    requests: log.requests,
    maxConcurrent: (prefix = '/') => log.maxConcurrent(prefix),
    inFlight: () => log.inFlight(),
    page: (path: string) => viewOf(path),
    pages: () => [...specs.keys()].map((k) => viewOf(k)!),
    sitemapUrls,
    change(path, edit) {
      const spec = requireSpec(path);
      const rev = (revisions.get(path) ?? 1) + 1;
      const next: PageSpec = { ...spec, modified: new Date(Date.parse(spec.modified) + DAY_MS).toISOString() };
      if (spec.kind === 'pdf') next.pdfPages = Math.min(50, (spec.pdfPages ?? 3) + 1);
      else if (edit) {
        if (edit.title !== undefined) next.title = edit.title;
        if (edit.sections !== undefined) next.sections = cloneSections(edit.sections);
      } else {
        next.sections = cloneSections(spec.sections);
        const target = next.sections.find((s) => s.level === 2) ?? next.sections[0];
        if (!target) next.sections.push({ level: 1, heading: spec.title, blocks: [{ p: [revisionSentence(path, rev)] }] });
        else target.blocks.push({ p: [revisionSentence(path, rev)] });
      }
      specs.set(path, next);
      revisions.set(path, rev);
      invalidate();
      return viewOf(path)!;
    },
    add(page) {
      if (specs.has(page.path) && overrides.get(page.path)?.kind !== 'gone') throw new Error(`${page.path} already exists: use change()`);
      if (!page.path.startsWith('/') || page.path.includes('#')) throw new Error(`not a path: ${page.path}`);
      const spec: PageSpec = {
        path: page.path,
        kind: 'html',
        title: page.title,
        sections: cloneSections(page.sections),
        layout: page.layout,
        sitemap: page.sitemap !== undefined ? page.sitemap : page.path.startsWith('/docs/') ? 'docs' : null,
        modified: new Date(Date.UTC(2024, 3, 1, 9) + added.length * 3_600_000).toISOString(),
      };
      specs.set(page.path, spec);
      overrides.delete(page.path);
      if (page.path.startsWith('/docs/') && !added.includes(page.path)) added.push(page.path);
      invalidate();
      return viewOf(page.path)!;
    },
    remove(path, status = 404) {
      overrides.set(path, { kind: 'gone', status });
      invalidate();
    },
    restore(path) {
      overrides.delete(path);
      fails.delete(path);
      delays.delete(path);
      invalidate();
    },
    route(path, response) {
      overrides.set(path, { kind: 'route', response });
      invalidate();
    },
    redirect(from, to, status = 301) {
      overrides.set(from, { kind: 'redirect', to, status });
      invalidate();
    },
    fail(path, spec) {
      boundedInt('status', spec.status, 400, 599);
      if (spec.times !== undefined) boundedInt('times', spec.times, 0, 1_000_000);
      fails.set(path, { ...spec, count: 0 });
    },
    delay(path, ms) {
      if (ms === 'hang') delays.set(path, ms);
      else if (boundedInt('delay', ms, 0, MAX_DELAY_MS) === 0) delays.delete(path);
      else delays.set(path, ms);
    },
    setLatency(ms) {
      latencyMs = boundedInt('latency', ms, 0, MAX_DELAY_MS);
    },
    setValidators(v) {
      if (v.etag !== undefined) validators.etag = v.etag;
      if (v.lastModified !== undefined) validators.lastModified = v.lastModified;
    },
    async close() {
      await Promise.all([life.close(server), otherLife.close(otherServer)]);
    },
  };
}
