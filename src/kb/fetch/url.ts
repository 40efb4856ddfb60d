/**
 * Web addresses for ingest: only http(s) URLs are accepted, and each page has one normalised form
 * (lower-case scheme and host, no default port, no fragment, no tracking parameters). Pure.
 */
import { FetchError } from './errors.js';

/**
 * Query parameters that only say where a click came from (besides every `utm_*`). Dropped from
 * discovered links so that one page is fetched once; every other parameter (`?page=2`) is kept.
 */
export const TRACKING_PARAMS: ReadonlySet<string> = new Set([
  'ref',
  'fbclid',
  'gclid',
  'gclsrc',
  'dclid',
  'gbraid',
  'wbraid',
  'msclkid',
  'yclid',
  'twclid',
  'ttclid',
  'igshid',
  'li_fat_id',
  'mc_cid',
  'mc_eid',
  '_ga',
  '_gl',
  '_hsenc',
  '_hsmi',
  'mkt_tok',
  'oly_anon_id',
  'oly_enc_id',
  'vero_id',
]);

export function isTrackingParam(name: string): boolean {
  const n = name.toLowerCase();
  return n.startsWith('utm_') || TRACKING_PARAMS.has(n);
}

/** Parses an absolute http(s) URL (or one relative to `base`); anything else is a FetchError. */
export function parseHttpUrl(input: string | URL, base?: string | URL): URL {
  let url: URL;
  try {
    url = new URL(input, base);
  } catch (err) {
    throw new FetchError('bad_url', String(input), `${String(input)}: not a valid URL`, { cause: err });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchError('scheme', url.href, `${url.href}: only http and https URLs can be fetched`);
  }
  if (!url.hostname) throw new FetchError('bad_url', url.href, `${url.href}: the URL has no host`);
  if (url.username || url.password) {
    // Credentials in a URL would be sent to the site and end up in logs and document names.
    throw new FetchError(
      'bad_url',
      `${url.protocol}//${url.host}${url.pathname}`,
      `${url.protocol}//${url.host}${url.pathname}: URLs with a user name or password are not fetched`,
    );
  }
  return url;
}

/**
 * The normalised form of an http(s) URL: WHATWG parsing already lower-cases the scheme and host,
 * drops the default port and resolves dot segments; here the fragment and tracking parameters go
 * too. The path is kept as given (`/docs` and `/docs/` may differ; a redirect between them is
 * followed, and the final URL names the page).
 */
export function normalizeUrl(input: string | URL, base?: string | URL): string {
  const url = parseHttpUrl(input, base);
  url.hash = '';
  const names = [...url.searchParams.keys()];
  if (names.some(isTrackingParam)) {
    // Rebuild only when something is dropped, so other parameters keep their exact encoding.
    const kept = url.search
      .slice(1)
      .split('&')
      .filter((pair) => pair !== '' && !isTrackingParam(decodeParamName(pair)));
    url.search = kept.length ? `?${kept.join('&')}` : '';
  } else if (url.search === '') {
    url.search = ''; // a bare "?" (search reads as '' then, but the href keeps it)
  }
  return url.href;
}

function decodeParamName(pair: string): string {
  const [name = ''] = pair.split('=');
  const raw = name.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The directory of a URL's path: `/docs/install` → `/docs/`, `/docs/` → `/docs/`. */
export function directoryOf(url: URL): string {
  const p = url.pathname;
  return p.slice(0, p.lastIndexOf('/') + 1) || '/';
}

/** A crawl's scope: same origin and a path under the prefix. */
export interface Scope {
  origin: string;
  prefix: string;
}

export function scopeOf(url: string | URL): Scope {
  const u = typeof url === 'string' ? new URL(url) : url;
  return { origin: u.origin, prefix: directoryOf(u) };
}

/** Why a URL is outside a scope, or null when it is inside. */
export function outsideScope(url: URL, scope: Scope): 'other_origin' | 'outside_prefix' | null {
  if (url.origin !== scope.origin) return 'other_origin';
  if (!url.pathname.startsWith(scope.prefix)) return 'outside_prefix';
  return null;
}
