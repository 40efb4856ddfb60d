/**
 * Web ingest without a database or embeddings, on the fake 200-page generated site (loopback):
 * HTML → text alone, a crawl (fetch + robots + HTML → text, 4 at a time; also with 20 ms of server
 * latency, where the per-host limit sets the pace), the sitemap read then
 * every page fetched, and the same pages re-checked with their validators (all 304). Pages/s.
 */
import { WebClient } from '../src/kb/fetch/client.js';
import { crawl } from '../src/kb/fetch/crawl.js';
import { fetchDocument, type WebDocument } from '../src/kb/fetch/document.js';
import { readSitemaps } from '../src/kb/fetch/sitemap.js';
import { readHtml } from '../src/kb/html.js';
import { startFakeWeb } from '../test/fakes/web.js';
import { median, printTable } from './support.js';

const PAGES = 200;
const ROUNDS = 3;
const web = await startFakeWeb({ generated: PAGES });

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

// Bodies once, for HTML → text alone.
const urls = web.sitemapUrls('/gen/sitemap.xml');
const bodies = await Promise.all(urls.map(async (u) => ({ u, html: await (await fetch(u)).text() })));
const bytes = bodies.reduce((n, b) => n + Buffer.byteLength(b.html), 0);

const rows: (string | number)[][] = [];
const row = (name: string, pages: number, times: number[], note = '') => {
  const ms = median(times);
  rows.push([name, pages, ms, (pages / ms) * 1000, note]);
};

{
  const times: number[] = [];
  let units = 0;
  for (let r = 0; r < ROUNDS + 1; r++) {
    const t0 = performance.now();
    units = 0;
    for (const b of bodies) units += readHtml(b.html, b.u).units.length;
    if (r > 0) times.push(performance.now() - t0); // the first round warms the JIT
  }
  row('HTML → text (no I/O)', bodies.length, times, `${(bytes / bodies.length / 1024).toFixed(0)} KB/page, ${units} units`);
}

async function crawlRow(name: string, latencyMs: number) {
  web.setLatency(latencyMs);
  const times: number[] = [];
  let docs = 0;
  for (let r = 0; r < ROUNDS; r++) {
    web.requests.length = 0;
    const client = new WebClient();
    const { ms } = await timed(async () => {
      docs = 0;
      for await (const e of crawl(client, web.url('/gen/'), { maxPages: PAGES + 1 })) if (e.kind === 'document') docs++;
    });
    client.close();
    times.push(ms);
  }
  row(name, docs, times, latencyMs ? `at most ${web.maxConcurrent('/gen/')} in flight` : '');
  web.setLatency(0);
}
await crawlRow('crawl /gen/ (fetch + HTML → text)', 0);
await crawlRow('crawl /gen/, 20 ms per response', 20);

let documents: WebDocument[] = [];
{
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const client = new WebClient();
    const { ms, value } = await timed(async () => {
      const sm = await readSitemaps(client, web.url('/gen/sitemap.xml'));
      return Promise.all(sm.pages.map((p) => fetchDocument(client, p.url) as Promise<WebDocument>));
    });
    client.close();
    documents = value;
    times.push(ms);
  }
  row('sitemap + fetch every page', documents.length, times);
}

{
  const times: number[] = [];
  let unchanged = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const client = new WebClient();
    const { ms } = await timed(async () => {
      const results = await Promise.all(
        documents.map((d) => fetchDocument(client, d.finalUrl, { etag: d.etag, lastModified: d.lastModified })),
      );
      unchanged = results.filter((x) => x.kind === 'not_modified').length;
    });
    client.close();
    times.push(ms);
  }
  row('re-check with validators (304)', documents.length, times, `${unchanged} not modified (target: 200 pages ≤ 2 s)`);
}

printTable(`Web ingest, ${PAGES}-page generated site on loopback, median of ${ROUNDS}`, ['step', 'pages', 'ms', 'pages/s', 'note'], rows);
await web.close();
