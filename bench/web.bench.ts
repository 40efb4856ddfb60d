/**
 * Web ingest without a database or embeddings, on the fake 200-page generated site (loopback):
 * HTML → text alone, a crawl (fetch + robots + HTML → text, 4 at a time; also with 20 ms of server
 * latency, where the per-host limit sets the pace), the sitemap read then
 * every page fetched, and the same pages re-checked with their validators (all 304). Pages/s.
 * Then into each database backend with an instant embedder: `kb ingest --sitemap` of the whole
 * site (fetch, HTML → text, chunk, embed, store) and `kb sync` when nothing changed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/open.js';
import { createEmbedder } from '../src/kb/embed.js';
import { ingestWeb, syncWeb } from '../src/kb/web.js';
import { startEmbeddingsProcess } from './embeddings-process.js';
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

// Into the knowledge base: a fresh database per round, an embeddings provider answering at once.
const instant = await startEmbeddingsProcess(0);
const kbRows: (string | number)[][] = [];
for (const kind of ['postgres', 'embedded'] as const) {
  const ingestMs: number[] = [];
  const syncMs: number[] = [];
  let chunks = 0;
  let unchanged = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const home = mkdtempSync(join(tmpdir(), 'copilot-bench-web-'));
    let dbName: string | null = null;
    const env: Record<string, string> = { COPILOT_HOME: home, EMBEDDINGS_URL: instant.url };
    if (kind === 'postgres') {
      dbName = `copilot_bench_web_${process.pid}_${r}`;
      const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL! });
      await admin.connect();
      await admin.query(`create database ${dbName}`);
      await admin.end();
      const u = new URL(process.env.TEST_DATABASE_URL!);
      u.pathname = `/${dbName}`;
      env.DATABASE_URL = u.toString();
    }
    const config = loadConfig({}, env);
    const db = await openDatabase(config, { command: 'bench' });
    const deps = { db, embedder: createEmbedder(config)!, maxFileBytes: 100e6 };
    try {
      const client = new WebClient();
      const ingest = await timed(() => ingestWeb({ deps, client }, [{ kind: 'sitemap', url: web.url('/gen/sitemap.xml') }]));
      client.close();
      ingestMs.push(ingest.ms);
      chunks = ingest.value.reduce((n, o) => n + (o.status === 'done' ? o.result.chunks : 0), 0);
      const again = new WebClient();
      const sync = await timed(() => syncWeb({ deps, client: again }));
      again.close();
      syncMs.push(sync.ms);
      unchanged = sync.value.unchanged;
    } finally {
      await db.close();
      if (dbName) {
        const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL! });
        await admin.connect();
        await admin.query(`drop database if exists ${dbName} with (force)`);
        await admin.end();
      }
      rmSync(home, { recursive: true, force: true });
    }
  }
  kbRows.push([`${kind}: kb ingest --sitemap`, PAGES, median(ingestMs), (PAGES / median(ingestMs)) * 1000, `${chunks} chunks embedded`]);
  kbRows.push([
    `${kind}: kb sync, nothing changed`,
    PAGES,
    median(syncMs),
    (PAGES / median(syncMs)) * 1000,
    `${unchanged} unchanged (target ≤ 2 s)`,
  ]);
}
await instant.close();
printTable(`Web pages into the knowledge base, instant embedder, median of ${ROUNDS}`, ['step', 'pages', 'ms', 'pages/s', 'note'], kbRows);
await web.close();
