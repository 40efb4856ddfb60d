/**
 * Sitemaps (sitemaps.org): `<urlset>` page lists and `<sitemapindex>` lists of sitemaps, followed
 * recursively with a depth and loop guard; gzip files recognised by their bytes, whatever their
 * name or type; plain-text sitemaps (a URL per line) too. Parsed with saxes, a strict XML parser
 * (no DTDs, so no entity expansion), so a file that is not XML is a clear error.
 */
import { gunzipSync } from 'node:zlib';
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { formatBytes } from './body.js';
import type { WebClient } from './client.js';
import { FetchError, isFetchError } from './errors.js';
import { startsWithGzipMagic } from './media.js';
import { normalizeUrl } from './url.js';

export interface SitemapEntry {
  /** Normalised URL. */
  url: string;
  /** `<lastmod>` as written, or null. */
  lastmod: string | null;
}

export type ParsedSitemap = { kind: 'urlset'; entries: SitemapEntry[] } | { kind: 'index'; entries: SitemapEntry[] };

/** The protocol's limit is 50 MB uncompressed per sitemap. */
export const SITEMAP_MAX_BYTES = 50 * 1024 * 1024;
/** Levels of indexes followed below the sitemap given (the protocol allows one; sites nest more). */
export const SITEMAP_MAX_DEPTH = 4;
export const SITEMAP_MAX_FILES = 1000;

function notSitemap(url: string, why: string, cause?: unknown): FetchError {
  return new FetchError('not_sitemap', url, `${url}: not a sitemap (${why})`, { cause });
}

/**
 * Parses one sitemap file (decompressed). Entries keep their order; `<loc>` text is trimmed (it
 * may be spread over lines); elements of other namespaces (`xhtml:link`, `image:loc`) are ignored.
 */
export function parseSitemap(text: string, url: string, contentType: string | null = null): ParsedSitemap {
  const body = text.replace(/^\ufeff/, '');
  if (contentType === 'text/plain' && !body.trimStart().startsWith('<')) {
    const entries = body
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => ({ url: l, lastmod: null }));
    return { kind: 'urlset', entries };
  }
  const parser = new SaxesParser({ xmlns: true, fileName: url });
  let root: { kind: 'urlset' | 'index'; ns: string } | null = null;
  const stack: SaxesTagNS[] = [];
  const entries: SitemapEntry[] = [];
  let entry: { loc: string; lastmod: string } | null = null;
  let field: 'loc' | 'lastmod' | null = null;
  parser.on('opentag', (tag) => {
    const t = tag;
    const parent = stack[stack.length - 1];
    stack.push(t);
    if (!root) {
      if (t.local === 'urlset') root = { kind: 'urlset', ns: t.uri };
      else if (t.local === 'sitemapindex') root = { kind: 'index', ns: t.uri };
      else throw notSitemap(url, `its root element is <${t.name}>, not <urlset> or <sitemapindex>`);
      return;
    }
    if (t.uri !== root.ns) return;
    const item = root.kind === 'urlset' ? 'url' : 'sitemap';
    if (stack.length === 2 && t.local === item) entry = { loc: '', lastmod: '' };
    else if (stack.length === 3 && entry && parent?.local === item && (t.local === 'loc' || t.local === 'lastmod')) field = t.local;
  });
  const onText = (s: string) => {
    if (entry && field) entry[field] += s;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    const t = stack.pop()!;
    if (stack.length === 2) field = null;
    else if (stack.length === 1 && entry && root && t.uri === root.ns) {
      const loc = entry.loc.trim();
      if (loc) entries.push({ url: loc, lastmod: entry.lastmod.trim() || null });
      entry = null;
    }
  });
  try {
    parser.write(body).close();
  } catch (err) {
    if (isFetchError(err)) throw err;
    // saxes says "<fileName>:<line>:<column>: <message>".
    const raw = err instanceof Error ? err.message : String(err);
    const m = /(\d+):(\d+): (.*)$/s.exec(raw);
    throw notSitemap(url, m ? `not XML: line ${m[1]}, column ${m[2]}: ${(m[3] ?? '').replace(/\.$/, '')}` : `not XML: ${raw}`, err);
  }
  if (!root) throw notSitemap(url, 'no root element');
  return { kind: (root as { kind: 'urlset' | 'index' }).kind, entries };
}

/** Decompresses a gzip sitemap (by its magic bytes) within the size limit; other bodies pass. */
export function sitemapText(body: Buffer, url: string, maxBytes = SITEMAP_MAX_BYTES): string {
  let bytes = body;
  if (startsWithGzipMagic(body)) {
    try {
      bytes = gunzipSync(body, { maxOutputLength: maxBytes });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new FetchError('too_large', url, `${url}: larger than ${formatBytes(maxBytes)} once decompressed`, { cause: err });
      }
      throw new FetchError('bad_encoding', url, `${url}: a gzip file that cannot be decompressed`, { cause: err });
    }
  }
  return bytes.toString('utf8');
}

export interface SitemapOptions {
  /** The sitemap URL was given by the operator (default true): robots.txt is not consulted for it. */
  explicit?: boolean;
  maxDepth?: number;
  maxFiles?: number;
  maxBytes?: number;
  signal?: AbortSignal;
}

export type SitemapSkip = 'other_origin' | 'bad_url' | 'seen' | 'depth' | 'limit';

export interface SitemapResult {
  /** Pages listed, normalised, each once, in the order read (indexes expanded in place). */
  pages: SitemapEntry[];
  /** Sitemaps read. */
  sitemaps: string[];
  /** Sitemaps below the first that could not be read (the first one's failure is thrown). */
  failures: FetchError[];
  /** Entries not followed, with why. */
  skipped: { url: string; reason: SitemapSkip; in: string }[];
}

/**
 * Reads a sitemap and every sitemap its indexes list. Entries must be on the first sitemap's
 * origin (the protocol's rule); a nested sitemap that fails is reported in `failures`.
 */
export async function readSitemaps(client: WebClient, url: string, opts: SitemapOptions = {}): Promise<SitemapResult> {
  const maxDepth = opts.maxDepth ?? SITEMAP_MAX_DEPTH;
  const maxFiles = opts.maxFiles ?? SITEMAP_MAX_FILES;
  const maxBytes = opts.maxBytes ?? SITEMAP_MAX_BYTES;
  const start = normalizeUrl(url);
  const origin = new URL(start).origin;
  const result: SitemapResult = { pages: [], sitemaps: [], failures: [], skipped: [] };
  const seenFiles = new Set<string>([start]);
  const seenPages = new Set<string>();

  const read = async (sitemap: string, depth: number): Promise<SitemapEntry[]> => {
    const r = await client.get(sitemap, {
      explicit: depth === 0 && opts.explicit !== false,
      maxBytes,
      acceptHeader: 'application/xml, text/xml;q=0.9, */*;q=0.5',
      signal: opts.signal,
    });
    if (r.kind !== 'body') return [];
    result.sitemaps.push(sitemap);
    const parsed = parseSitemap(sitemapText(r.body, sitemap, maxBytes), sitemap, r.contentType);
    const accepted: SitemapEntry[] = [];
    for (const e of parsed.entries) {
      let u: string;
      try {
        u = normalizeUrl(e.url, sitemap);
      } catch {
        result.skipped.push({ url: e.url, reason: 'bad_url', in: sitemap });
        continue;
      }
      if (new URL(u).origin !== origin) result.skipped.push({ url: u, reason: 'other_origin', in: sitemap });
      else accepted.push({ url: u, lastmod: e.lastmod });
    }
    if (parsed.kind === 'urlset') return accepted;
    // An index: its sitemaps are read at once (the client bounds requests per host), kept in order.
    const children: string[] = [];
    for (const { url: u } of accepted) {
      if (seenFiles.has(u)) result.skipped.push({ url: u, reason: 'seen', in: sitemap });
      else if (depth + 1 > maxDepth) result.skipped.push({ url: u, reason: 'depth', in: sitemap });
      else if (seenFiles.size >= maxFiles) result.skipped.push({ url: u, reason: 'limit', in: sitemap });
      else {
        seenFiles.add(u);
        children.push(u);
      }
    }
    const lists = await Promise.all(
      children.map((c) =>
        read(c, depth + 1).catch((err: unknown) => {
          if (!isFetchError(err)) throw err;
          result.failures.push(err);
          return [];
        }),
      ),
    );
    return lists.flat();
  };

  for (const e of await read(start, 0)) {
    if (seenPages.has(e.url)) continue;
    seenPages.add(e.url);
    result.pages.push(e);
  }
  return result;
}
