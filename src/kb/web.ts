/**
 * Web sources of the knowledge base: pages by URL, every page of a sitemap, or a crawl, each
 * ingested as one document (a few at once); and `kb sync`, which re-fetches them with their
 * validators and changes only what changed. Each page succeeds or fails by itself.
 */
import PQueue from 'p-queue';
import { listWebDocuments, touchWebSources } from '../db/documents.js';
import type { DocumentRow, WebTouch } from '../db/documents.js';
import { UserError } from '../errors.js';
import type { WebClient } from './fetch/client.js';
import { crawl } from './fetch/crawl.js';
import { fetchDocument } from './fetch/document.js';
import type { WebDocument } from './fetch/document.js';
import { isFetchError } from './fetch/errors.js';
import { readSitemaps } from './fetch/sitemap.js';
import { normalizeUrl } from './fetch/url.js';
import type { IngestDeps } from './ingest/pipeline.js';
import { ingestWebDocument } from './ingest/web.js';
import type { WebIngestOptions, WebIngestResult } from './ingest/web.js';

export type WebTarget = { kind: 'url'; url: string } | { kind: 'sitemap'; url: string } | { kind: 'crawl'; url: string; maxPages: number };

export type PageOutcome = { url: string; status: 'done'; result: WebIngestResult } | { url: string; status: 'failed'; error: UserError };

/** Pages fetched and ingested at once (the client also keeps each host at 4 requests). */
export const PAGE_CONCURRENCY = 4;

/**
 * Runs `work` for each item, a few at once. A UserError fails that item only; any other error
 * (the embeddings provider, the database) stops what has not started and is thrown at the end.
 */
async function eachPage<T>(items: Iterable<T> | AsyncIterable<T>, work: (item: T) => Promise<void>): Promise<void> {
  const queue = new PQueue({ concurrency: PAGE_CONCURRENCY });
  let fatal: unknown = null;
  for await (const item of items) {
    if (fatal) break;
    // Bounded read-ahead: a crawl or a long sitemap is not all queued at once.
    if (queue.size >= PAGE_CONCURRENCY * 2) await queue.onSizeLessThan(PAGE_CONCURRENCY * 2);
    void queue.add(async () => {
      if (fatal) return;
      try {
        await work(item);
      } catch (err) {
        fatal ??= err;
        queue.clear();
      }
    });
  }
  await queue.onIdle();
  if (fatal) throw fatal;
}

function failure(err: unknown): UserError | null {
  return err instanceof UserError ? err : null;
}

export interface WebIngestRun {
  deps: IngestDeps;
  client: WebClient;
  replace?: boolean;
  collection?: string;
  onPage?: (p: PageOutcome) => void;
  /** Pages known so far and pages finished, for progress. */
  onCount?: (done: number, known: number) => void;
  signal?: AbortSignal;
}

async function ingestOne(
  run: WebIngestRun,
  url: string,
  fetchOpts: { explicit: boolean },
  opts: Omit<WebIngestOptions, 'replace' | 'collection'>,
  doc?: WebDocument,
): Promise<PageOutcome> {
  let outcome: PageOutcome;
  try {
    const document = doc ?? (await fetchDocument(run.client, url, { explicit: fetchOpts.explicit, signal: run.signal }));
    if (document.kind === 'not_modified') throw new Error('unexpected 304 without validators');
    const result = await ingestWebDocument(run.deps, document, { ...opts, replace: run.replace, collection: run.collection });
    outcome = { url, status: 'done', result };
  } catch (err) {
    const user = failure(err);
    if (!user) throw err;
    outcome = { url, status: 'failed', error: user };
  }
  run.onPage?.(outcome);
  return outcome;
}

/** Ingests every target; returns one outcome per page (a sitemap that cannot be read is one failure). */
export async function ingestWeb(run: WebIngestRun, targets: WebTarget[]): Promise<PageOutcome[]> {
  const outcomes: PageOutcome[] = [];
  let known = 0;
  let done = 0;
  const count = (o: PageOutcome) => {
    outcomes.push(o);
    done++;
    run.onCount?.(done, known);
  };
  for (const target of targets) {
    if (target.kind === 'url') {
      known++;
      count(await ingestOne(run, target.url, { explicit: true }, { sourceKind: 'url' }));
    } else if (target.kind === 'sitemap') {
      known++;
      let pages: string[];
      try {
        const listed = await readSitemaps(run.client, target.url, { signal: run.signal });
        for (const f of listed.failures) count({ url: f.url, status: 'failed', error: f });
        pages = listed.pages.map((p) => p.url);
      } catch (err) {
        const user = failure(err);
        if (!user) throw err;
        const o: PageOutcome = { url: target.url, status: 'failed', error: user };
        run.onPage?.(o);
        count(o);
        continue;
      }
      known += pages.length - 1;
      run.onCount?.(done, known);
      const sourceUrl = normalizeUrl(target.url);
      await eachPage(pages, async (page) => count(await ingestOne(run, page, { explicit: false }, { sourceKind: 'sitemap', sourceUrl })));
    } else {
      const sourceUrl = normalizeUrl(target.url);
      const events = crawl(run.client, target.url, { maxPages: target.maxPages, signal: run.signal });
      async function* documents() {
        for await (const e of events) {
          if (e.kind === 'document') {
            known++;
            yield e;
          } else if (e.kind === 'failed') {
            known++;
            const o: PageOutcome = { url: e.url, status: 'failed', error: e.error };
            run.onPage?.(o);
            count(o);
          }
        }
      }
      await eachPage(documents(), async (e) =>
        count(await ingestOne(run, e.url, { explicit: false }, { sourceKind: 'crawl', sourceUrl }, e.document)),
      );
    }
  }
  return outcomes;
}

export type SyncStatus = 'unchanged' | 'updated' | 'added' | 'gone' | 'failed';

export interface SyncOutcome {
  url: string;
  name: string;
  status: SyncStatus;
  documentId: number | null;
  message?: string;
}

export interface SyncSummary {
  unchanged: number;
  updated: number;
  added: number;
  gone: number;
  failed: number;
  pages: SyncOutcome[];
}

/** Resolves `kb sync` arguments (ids, names or URLs) to web documents; none given: all of them. */
async function syncTargets(docs: DocumentRow[], refs: string[]): Promise<DocumentRow[]> {
  if (refs.length === 0) return docs;
  const chosen: DocumentRow[] = [];
  const unknown: string[] = [];
  for (const ref of refs) {
    let key = ref;
    try {
      if (/^https?:\/\//i.test(ref)) key = normalizeUrl(ref);
    } catch {
      // not a URL after all: matched as a name
    }
    const d = docs.find((x) => String(x.id) === ref || x.name === ref || x.name === key);
    if (!d) unknown.push(ref);
    else if (!chosen.includes(d)) chosen.push(d);
  }
  if (unknown.length > 0) {
    throw new UserError(
      `not a web document: ${unknown.map((u) => `"${u}"`).join(', ')} — \`copilot kb list\` shows them (nothing was synced)`,
      'unknown_document',
    );
  }
  return chosen;
}

/**
 * Re-fetches web documents with their validators: a 304, or the same text, changes nothing but
 * the fetch time; new text replaces the document atomically; 404/410 is reported and the document
 * kept. With no `refs`, the sitemaps documents came from are read again and new pages added.
 */
export async function syncWeb(
  run: Omit<WebIngestRun, 'replace' | 'collection'> & { onOutcome?: (o: SyncOutcome) => void },
  refs: string[] = [],
): Promise<SyncSummary> {
  const all = await listWebDocuments(run.deps.db);
  const targets = await syncTargets(all, refs);
  const pages: SyncOutcome[] = [];
  let known = targets.length;
  const record = (o: SyncOutcome) => {
    pages.push(o);
    run.onOutcome?.(o);
    run.onCount?.(pages.length, known);
  };
  // Unchanged pages get new validators and fetch times, written in one statement after the checks.
  const touches: WebTouch[] = [];
  const checked = eachPage(targets, async (doc) => {
    const web = doc.web!;
    const base = { url: web.url, name: doc.name, documentId: doc.id };
    try {
      const fetched = await fetchDocument(run.client, web.url, {
        explicit: web.sourceKind === 'url',
        etag: web.etag,
        lastModified: web.lastModified,
        signal: run.signal,
      });
      if (fetched.kind === 'not_modified') {
        touches.push({ id: doc.id, etag: fetched.etag, lastModified: fetched.lastModified, fetchedAt: new Date() });
        record({ ...base, status: 'unchanged' });
        return;
      }
      const r = await ingestWebDocument(run.deps, fetched, {
        replace: true,
        name: doc.name,
        collection: doc.collection,
        sourceKind: web.sourceKind,
        sourceUrl: web.sourceUrl,
        onUnchanged: (t) => touches.push(t),
      });
      record({ ...base, documentId: r.documentId, status: r.status === 'unchanged' ? 'unchanged' : 'updated' });
    } catch (err) {
      const user = failure(err);
      if (!user) throw err;
      const gone = isFetchError(err) && err.reason === 'gone';
      record({ ...base, status: gone ? 'gone' : 'failed', message: user.message });
    }
  });
  await checked.then(
    () => touchWebSources(run.deps.db, touches),
    // after a fatal error, what was checked is still written if the database lets it
    async (err: unknown) => {
      await touchWebSources(run.deps.db, touches).catch(() => undefined);
      throw err;
    },
  );

  // New pages listed by the sitemaps the documents came from (only when syncing everything).
  if (refs.length === 0) {
    const sitemaps = new Map<string, string>();
    for (const d of all) if (d.web?.sourceKind === 'sitemap' && d.web.sourceUrl) sitemaps.set(d.web.sourceUrl, d.collection);
    const have = new Set(all.map((d) => d.name));
    for (const [sitemap, collection] of sitemaps) {
      let listed: string[];
      try {
        listed = (await readSitemaps(run.client, sitemap, { signal: run.signal })).pages.map((p) => p.url);
      } catch (err) {
        const user = failure(err);
        if (!user) throw err;
        record({ url: sitemap, name: sitemap, documentId: null, status: 'failed', message: user.message });
        continue;
      }
      const fresh = listed.filter((u) => !have.has(u));
      known += fresh.length;
      await eachPage(fresh, async (url) => {
        const o = await ingestOne({ ...run, collection }, url, { explicit: false }, { sourceKind: 'sitemap', sourceUrl: sitemap });
        if (o.status === 'failed') {
          // a listed page robots.txt disallows is not ours to fetch: skipped at every sync, silently
          if (o.error.code === 'robots') {
            known--;
            return;
          }
          record({ url, name: url, documentId: null, status: 'failed', message: o.error.message });
        } else {
          have.add(o.result.name);
          record({
            url,
            name: o.result.name,
            documentId: o.result.documentId,
            status: o.result.status === 'ingested' ? 'added' : 'unchanged',
          });
        }
      });
    }
  }
  const n = (s: SyncStatus) => pages.filter((p) => p.status === s).length;
  return { unchanged: n('unchanged'), updated: n('updated'), added: n('added'), gone: n('gone'), failed: n('failed'), pages };
}
