/**
 * Crawling: breadth-first from a start page, level by level (so the pages kept under `maxPages`
 * are the nearest ones, in a fixed order), within the start page's origin and directory; each
 * page once, robots.txt honoured, only HTML pages read for links (a PDF is a document, not a hub).
 */
import type { WebClient } from './client.js';
import { fetchPage, type WebDocument } from './document.js';
import { FetchError, isFetchError } from './errors.js';
import { normalizeUrl, outsideScope, scopeOf, type Scope } from './url.js';

export type CrawlSkip =
  /** A link that is not http(s): mailto:, tel:, file:, ftp:, javascript:… */
  | 'scheme'
  | 'bad_url'
  | 'other_origin'
  | 'outside_prefix'
  /** robots.txt disallows it (the page was not requested). */
  | 'robots'
  /** Its host is link-local (the page was not requested). */
  | 'link_local'
  /** It redirected outside the crawl's origin or prefix (the target was not requested). */
  | 'redirected_outside'
  /** It redirected to a page the crawl already has. */
  | 'duplicate';

export type CrawlEvent =
  | { kind: 'document'; url: string; depth: number; document: WebDocument }
  | { kind: 'failed'; url: string; depth: number; error: FetchError }
  | { kind: 'skipped'; url: string; depth: number; reason: CrawlSkip; detail?: string }
  | {
      kind: 'done';
      /** Pages requested (documents, failures and duplicates). */
      fetched: number;
      /** Pages found within the scope but not requested because of maxPages. */
      notFetched: number;
      scope: Scope | null;
    };

export interface CrawlOptions {
  /** Pages requested at most (pages robots.txt disallows, and links skipped, do not count). */
  maxPages: number;
  /** Pages read at once (the client also keeps each host at its limit). Default 4. */
  concurrency?: number;
  signal?: AbortSignal;
}

interface Pending {
  url: string;
  depth: number;
}

interface Outcome {
  events: CrawlEvent[];
  links: string[];
  /** A request was made for the page (false: skipped by robots.txt or the link-local rule). */
  requested: boolean;
}

const POLICY_REASONS: Partial<Record<FetchError['reason'], CrawlSkip>> = {
  robots: 'robots',
  link_local: 'link_local',
  redirect_refused: 'redirected_outside',
};

/**
 * Crawls from `start` (given by the operator: its host may be link-local; robots.txt applies to it
 * as to every page). Events come as pages finish; the scope is the start page's final URL's
 * origin and directory. The last event is `done`.
 */
export async function* crawl(client: WebClient, start: string, opts: CrawlOptions): AsyncGenerator<CrawlEvent> {
  const maxPages = Math.max(0, Math.floor(opts.maxPages));
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  let scope: Scope | null = null;
  let startUrl: string;
  try {
    startUrl = normalizeUrl(start);
  } catch (err) {
    if (!isFetchError(err)) throw err;
    yield { kind: 'failed', url: start, depth: 0, error: err };
    yield { kind: 'done', fetched: 0, notFetched: 0, scope };
    return;
  }
  const seen = new Set<string>([startUrl]);
  const produced = new Set<string>();
  let level: Pending[] = [{ url: startUrl, depth: 0 }];
  let fetched = 0;

  const visit = async (p: Pending): Promise<Outcome> => {
    const isStart = p.depth === 0;
    const currentScope = scope;
    try {
      const r = await fetchPage(client, p.url, {
        explicit: isStart,
        robots: true,
        signal: opts.signal,
        refuseRedirect: currentScope
          ? (next) => {
              const why = outsideScope(next, currentScope);
              return why === 'other_origin' ? 'another origin' : why === 'outside_prefix' ? `outside ${currentScope.prefix}` : null;
            }
          : undefined,
      });
      if ('kind' in r) return { events: [], links: [], requested: true }; // no validators are sent: never NotModified
      const finalUrl = 'document' in r ? r.document.finalUrl : (r.error.finalUrl ?? p.url);
      if (isStart) scope = scopeOf(finalUrl);
      const final = normalizeUrl(finalUrl);
      if (produced.has(final)) {
        return {
          events: [{ kind: 'skipped', url: p.url, depth: p.depth, reason: 'duplicate', detail: final }],
          links: [],
          requested: true,
        };
      }
      produced.add(final);
      seen.add(final);
      const event: CrawlEvent =
        'document' in r
          ? { kind: 'document', url: p.url, depth: p.depth, document: r.document }
          : { kind: 'failed', url: p.url, depth: p.depth, error: r.error };
      return { events: [event], links: r.links, requested: true };
    } catch (err) {
      if (!isFetchError(err)) throw err;
      const policy = POLICY_REASONS[err.reason];
      if (policy) {
        // Refused at a redirect: the page itself was requested (its target was not).
        const requested = err.reason === 'redirect_refused' || (err.finalUrl !== undefined && err.finalUrl !== p.url);
        return { events: [{ kind: 'skipped', url: p.url, depth: p.depth, reason: policy, detail: err.message }], links: [], requested };
      }
      return { events: [{ kind: 'failed', url: p.url, depth: p.depth, error: err }], links: [], requested: true };
    }
  };

  /** Links of a page → the next level's new pages (in page order) and skip events. */
  const follow = (links: string[], depth: number, next: Pending[], events: CrawlEvent[]) => {
    if (!scope) return;
    for (const href of links) {
      let u: URL;
      try {
        u = new URL(href);
      } catch {
        continue;
      }
      const raw = u.href;
      if (u.protocol !== 'http:' && u.protocol !== 'https:') {
        if (!seen.has(raw)) {
          seen.add(raw);
          events.push({ kind: 'skipped', url: raw, depth, reason: 'scheme' });
        }
        continue;
      }
      let n: string;
      try {
        n = normalizeUrl(u);
      } catch {
        if (!seen.has(raw)) {
          seen.add(raw);
          events.push({ kind: 'skipped', url: raw, depth, reason: 'bad_url' });
        }
        continue;
      }
      if (seen.has(n)) continue;
      seen.add(n);
      const why = outsideScope(new URL(n), scope);
      if (why) events.push({ kind: 'skipped', url: n, depth, reason: why });
      else next.push({ url: n, depth });
    }
  };

  while (level.length > 0 && fetched < maxPages) {
    // Read the level with a small pool, in order; yield events as pages finish. A page skipped
    // without a request (robots.txt, link-local) gives its place under maxPages to the next one.
    const outcomes: (Outcome | undefined)[] = new Array<Outcome | undefined>(level.length);
    const ready: CrawlEvent[] = [];
    let wake: (() => void) | null = null;
    let nextIndex = 0;
    let failure: unknown = null;
    const current = level;
    const worker = async () => {
      while (nextIndex < current.length && fetched < maxPages && failure === null) {
        const i = nextIndex++;
        const page = current[i];
        if (page === undefined) break;
        fetched++;
        try {
          const o = await visit(page);
          outcomes[i] = o;
          if (!o.requested) fetched--;
          ready.push(...o.events);
        } catch (err) {
          failure = err;
        } finally {
          wake?.();
        }
      }
    };
    const all = Promise.all(Array.from({ length: Math.min(concurrency, current.length) }, worker));
    let finished = false;
    void all.then(() => {
      finished = true;
      wake?.();
    });
    while (!finished || ready.length > 0) {
      if (ready.length > 0) {
        yield ready.shift()!;
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (finished || ready.length > 0) resolve();
      });
      wake = null;
    }
    await all;
    if (failure !== null) throw failure;
    // The next level in a fixed order: by page of this level, then by link on the page.
    const next: Pending[] = [];
    const skips: CrawlEvent[] = [];
    for (const [i, page] of current.entries()) {
      const o = outcomes[i];
      if (o) follow(o.links, page.depth + 1, next, skips);
    }
    for (const e of skips) yield e;
    const left = current.length - nextIndex;
    if (left > 0) {
      // Pages of this level beyond maxPages: nothing after them is fetched either.
      yield { kind: 'done', fetched, notFetched: left + next.length, scope };
      return;
    }
    level = next;
  }
  yield { kind: 'done', fetched, notFetched: level.length, scope };
}
