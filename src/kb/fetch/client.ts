// long: one HTTP client: per-host limits, redirects, robots.txt, retries and size/time limits interact per request.
/**
 * The polite HTTP client for web ingest: GET only, http(s) only, a User-Agent naming copilot, at
 * most 4 requests at once per host, a time and size limit per request, redirects followed by hand
 * (each hop checked like the first), 429/503 retried after their Retry-After, conditional requests.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { createRequire } from 'node:module';
import PQueue from 'p-queue';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseRetryAfter } from '../../util/retry-after.js';
import { bareHost, isLinkLocal, literalAddress, systemResolver, type ResolvedAddress, type Resolver } from './address.js';
import { readBody } from './body.js';
import { classifyError, FetchError } from './errors.js';
import { describeType, parseContentType, sniffType } from './media.js';
import { RobotsCache } from './robots.js';
import { parseHttpUrl } from './url.js';

const version = (createRequire(import.meta.url)('../../../../package.json') as { version: string }).version;

/** Sent with every request. */
export const USER_AGENT = `copilot/${version} (knowledge-base ingest)`;
/** The product token robots.txt groups are matched against. */
export const ROBOTS_AGENT = 'copilot';

export const DEFAULT_PER_HOST = 4;
export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_REDIRECTS = 5;
export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_RETRY_AFTER_CAP_MS = 30_000;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const RETRIED = new Set([429, 503]);

export interface WebClientOptions {
  userAgent?: string;
  /** Requests in flight at once per host name (default 4). */
  perHost?: number;
  /** Time for one request, from sending it to the last byte of the body (default 15 s). */
  timeoutMs?: number;
  /** Bytes per response body, counted decoded (default 10 MB). */
  maxBytes?: number;
  /** Redirects followed per fetch (default 5). */
  maxRedirects?: number;
  /** Attempts per request when the answer is 429 or 503 (default 3). */
  maxAttempts?: number;
  /** Longest wait for a Retry-After (default 30 s; a longer one waits this long). */
  retryAfterCapMs?: number;
  /** Host name resolution (default: the system resolver). */
  resolve?: Resolver;
}

export interface GetOptions {
  /**
   * The operator gave this URL (on the command line): its host may be link-local, and robots.txt
   * is not consulted unless `robots` says so. Redirects to other hosts are never explicit.
   */
  explicit?: boolean;
  /** Consult robots.txt for this URL and every redirect hop (default: when not explicit). */
  robots?: boolean;
  /** Validators of a previous fetch: a 304 answer gives a NotModified result. */
  etag?: string | null;
  lastModified?: string | null;
  /** Media types accepted (decided before the body is read); others fail as unsupported_type. */
  accept?: (type: string) => boolean;
  /** What the types accepted are called in the error message ("HTML or PDF"). */
  acceptName?: string;
  /** The Accept header (default `*\/*`). */
  acceptHeader?: string;
  /** Overrides the client's byte limit for this fetch. */
  maxBytes?: number;
  /** Keep the first maxBytes instead of failing. */
  truncate?: boolean;
  /** A 2xx with no body is a result, not an `empty` failure. */
  allowEmpty?: boolean;
  /** Called for each redirect target; a string refuses it (the reason, for the message). */
  refuseRedirect?: (next: URL) => string | null;
  signal?: AbortSignal;
}

interface Common {
  /** The URL asked for. */
  url: string;
  /** The URL that answered, after redirects. */
  finalUrl: string;
  /** Every redirect target, in order. */
  redirects: string[];
  etag: string | null;
  lastModified: string | null;
}

export interface FetchedBody extends Common {
  kind: 'body';
  status: number;
  /** Media type from Content-Type (lower case, no parameters); sniffed only when there was none. */
  contentType: string;
  sniffed: boolean;
  charset: string | null;
  /** The decoded body. */
  body: Buffer;
  bytes: number;
}

export interface NotModified extends Common {
  kind: 'not_modified';
  status: 304;
}

export type FetchResult = FetchedBody | NotModified;

type Outcome =
  | { kind: 'redirect'; status: number; location: string }
  | { kind: 'status'; status: number; headers: http.IncomingHttpHeaders }
  | { kind: 'not_modified'; headers: http.IncomingHttpHeaders }
  | {
      kind: 'body';
      status: number;
      headers: http.IncomingHttpHeaders;
      body: Buffer;
      contentType: string;
      sniffed: boolean;
      charset: string | null;
    };

/** One request's result: an outcome, or a kept-alive connection the server closed as the request went out. */
type Attempt = Outcome | { kind: 'stale_socket' };

function header(h: http.IncomingHttpHeaders, name: string): string | null {
  const v = h[name];
  if (Array.isArray(v)) return v[0] ?? null;
  return v ?? null;
}

/**
 * Lets a small body (a redirect's) drain so that the connection can be reused; any other is cut
 * off, as nothing bounds reading it once the request is over. A 304 has no body (RFC 9110 §15.4.5)
 * whatever its headers say, so its connection is always kept: `kb sync` is mostly 304s.
 */
function discard(res: http.IncomingMessage): void {
  const length = Number(res.headers['content-length']);
  if (res.statusCode === 304 || (Number.isFinite(length) && length <= 64 * 1024)) res.resume();
  else res.destroy();
}

export class WebClient {
  readonly userAgent: string;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly robots: RobotsCache;
  private readonly perHost: number;
  private readonly maxRedirects: number;
  private readonly maxAttempts: number;
  private readonly retryAfterCapMs: number;
  private readonly resolver: Resolver;
  private readonly queues = new Map<string, PQueue>();
  private readonly notBefore = new Map<string, number>();
  private readonly addresses = new Map<string, Promise<ResolvedAddress[]>>();
  private readonly agents = {
    http: new http.Agent({ keepAlive: true, maxFreeSockets: DEFAULT_PER_HOST }),
    https: new https.Agent({ keepAlive: true, maxFreeSockets: DEFAULT_PER_HOST }),
  };

  constructor(opts: WebClientOptions = {}) {
    this.userAgent = opts.userAgent ?? USER_AGENT;
    this.perHost = opts.perHost ?? DEFAULT_PER_HOST;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.maxRedirects = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    this.retryAfterCapMs = opts.retryAfterCapMs ?? DEFAULT_RETRY_AFTER_CAP_MS;
    this.resolver = opts.resolve ?? systemResolver;
    this.robots = new RobotsCache(this, ROBOTS_AGENT);
  }

  /** Fetches a URL (following redirects); a failure is a FetchError naming the URL and the reason. */
  async get(input: string | URL, opts: GetOptions = {}): Promise<FetchResult> {
    const first = parseHttpUrl(input);
    const url = first.href;
    const useRobots = opts.robots ?? !opts.explicit;
    const seen = new Set<string>([url]);
    const redirects: string[] = [];
    let hop = first;
    for (;;) {
      const linkLocalAllowed = !!opts.explicit && hop.hostname === first.hostname;
      const addresses = await this.addressesOf(hop, url, linkLocalAllowed);
      if (useRobots) {
        const verdict = await this.robots.check(hop, linkLocalAllowed);
        if (!verdict.allowed) {
          const at = hop.href === url ? url : `${url} (redirected to ${hop.href})`;
          throw new FetchError('robots', url, `${at}: ${verdict.why}`, { finalUrl: hop.href });
        }
      }
      const outcome = await this.withRetries(hop, url, addresses, opts);
      if (outcome.kind === 'redirect') {
        const next = this.nextHop(outcome.location, hop, url, redirects.length, seen, opts);
        redirects.push(next.href);
        seen.add(next.href);
        hop = next;
        continue;
      }
      const common: Common = {
        url,
        finalUrl: hop.href,
        redirects,
        etag: header(outcome.kind === 'status' ? {} : outcome.headers, 'etag'),
        lastModified: header(outcome.kind === 'status' ? {} : outcome.headers, 'last-modified'),
      };
      if (outcome.kind === 'not_modified') return { ...common, kind: 'not_modified', status: 304 };
      if (outcome.kind === 'status') throw this.statusError(outcome.status, url, hop.href);
      return {
        ...common,
        kind: 'body',
        status: outcome.status,
        contentType: outcome.contentType,
        sniffed: outcome.sniffed,
        charset: outcome.charset,
        body: outcome.body,
        bytes: outcome.body.length,
      };
    }
  }

  /** Ends kept-alive connections. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private nextHop(location: string, hop: URL, url: string, followed: number, seen: Set<string>, opts: GetOptions): URL {
    let next: URL;
    try {
      next = new URL(location, hop);
    } catch (err) {
      throw new FetchError('bad_url', url, `${url}: redirected to an invalid URL (${location})`, { cause: err, finalUrl: hop.href });
    }
    next.hash = '';
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new FetchError('scheme', url, `${url}: redirected to ${next.protocol} (only http and https are followed)`, {
        finalUrl: hop.href,
      });
    }
    if (seen.has(next.href)) {
      throw new FetchError('redirect_loop', url, `${url}: redirect loop (${hop.href} → ${next.href})`, { finalUrl: hop.href });
    }
    if (followed >= this.maxRedirects) {
      throw new FetchError('too_many_redirects', url, `${url}: more than ${this.maxRedirects} redirects`, { finalUrl: hop.href });
    }
    const refused = opts.refuseRedirect?.(next);
    if (refused) throw new FetchError('redirect_refused', url, `${url}: redirected to ${next.href}, ${refused}`, { finalUrl: next.href });
    return next;
  }

  private statusError(status: number, url: string, hop: string): FetchError {
    const at = hop === url ? url : `${url} (at ${hop})`;
    const text = http.STATUS_CODES[status] ?? 'error';
    if (status === 404 || status === 410)
      return new FetchError('gone', url, `${at}: gone (HTTP ${status} ${text})`, { status, finalUrl: hop });
    return new FetchError('http_status', url, `${at}: HTTP ${status} ${text}`, { status, finalUrl: hop });
  }

  /** The addresses to connect to for a hop, after the link-local rule. */
  private async addressesOf(hop: URL, url: string, linkLocalAllowed: boolean): Promise<ResolvedAddress[]> {
    const literal = literalAddress(hop.hostname);
    let all: ResolvedAddress[];
    if (literal) all = [literal];
    else {
      const host = hop.hostname;
      let p = this.addresses.get(host);
      if (!p) {
        p = this.resolver(host);
        this.addresses.set(host, p);
        p.catch(() => this.addresses.delete(host));
      }
      try {
        all = await p;
      } catch (err) {
        throw classifyError(err, url, hop.href, null);
      }
      if (all.length === 0) throw new FetchError('dns', url, `${hop.href}: DNS lookup of ${host} found no address`);
    }
    if (linkLocalAllowed) return all;
    const usable = all.filter((a) => !isLinkLocal(a.address));
    if (usable.length === 0) {
      const at = hop.href === url ? url : `${url} (redirected to ${hop.href})`;
      const [first] = all;
      const via = literal || !first ? '' : ` (${bareHost(hop.hostname)} resolves to ${first.address})`;
      throw new FetchError(
        'link_local',
        url,
        `${at}: not fetched: a link-local address${via}, as cloud metadata services use; only a URL given on the command line is fetched from one`,
        { finalUrl: hop.href },
      );
    }
    return usable;
  }

  private queueOf(host: string): PQueue {
    let q = this.queues.get(host);
    if (!q) {
      q = new PQueue({ concurrency: this.perHost });
      this.queues.set(host, q);
    }
    return q;
  }

  /** One request, repeated after a 429 or 503 (waiting its Retry-After, capped). */
  private async withRetries(hop: URL, url: string, addresses: ResolvedAddress[], opts: GetOptions): Promise<Outcome> {
    const host = hop.hostname;
    let fresh = false;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.queueOf(host).add(async () => {
        const wait = (this.notBefore.get(host) ?? 0) - Date.now();
        if (wait > 0) await sleep(wait, undefined, { signal: opts.signal });
        return this.request(hop, url, addresses, opts, fresh);
      });
      // Node's advice for keep-alive: a reused socket reset before any response is retried, once,
      // on a new connection (not counted as an attempt: the server never saw the request).
      if (outcome.kind === 'stale_socket' && !fresh) {
        fresh = true;
        attempt--;
        continue;
      }
      if (outcome.kind === 'stale_socket')
        throw classifyError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), url, hop.href, null);
      if (outcome.kind !== 'status' || !RETRIED.has(outcome.status) || attempt >= this.maxAttempts) return outcome;
      const asked = parseRetryAfter(header(outcome.headers, 'retry-after'));
      const wait = Math.min(this.retryAfterCapMs, asked ?? 1000 * 2 ** (attempt - 1));
      // The whole host waits: other requests to it start no earlier than this one's retry.
      this.notBefore.set(host, Math.max(this.notBefore.get(host) ?? 0, Date.now() + wait));
      await sleep(wait, undefined, { signal: opts.signal });
    }
  }

  private request(hop: URL, url: string, addresses: ResolvedAddress[], opts: GetOptions, freshSocket = false): Promise<Attempt> {
    const headers: Record<string, string> = {
      'user-agent': this.userAgent,
      accept: opts.acceptHeader ?? '*/*',
      'accept-encoding': 'gzip, deflate, br',
    };
    if (opts.etag) headers['if-none-match'] = opts.etag;
    if (opts.lastModified) headers['if-modified-since'] = opts.lastModified;
    const lookup: LookupFunction = (_host, o, cb) => {
      const list = addresses.map((a) => ({ address: a.address, family: a.family }));
      const [first] = list;
      if (o.all) cb(null, list);
      else if (first) cb(null, first.address, first.family);
      else cb(Object.assign(new Error(`no address to connect to for ${hop.hostname}`), { code: 'ENOTFOUND' }), '');
    };
    const secure = hop.protocol === 'https:';
    const maxBytes = opts.maxBytes ?? this.maxBytes;
    return new Promise<Attempt>((resolve, reject) => {
      let settled = false;
      let timedOut: { ms: number } | null = null;
      let req: http.ClientRequest | undefined;
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => finish(opts.signal!.reason);
      const finish = (err: unknown, value?: Attempt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (err === undefined || err === null) return resolve(value!);
        req?.destroy();
        reject(opts.signal?.aborted ? opts.signal.reason : classifyError(err, url, hop.href, timedOut));
      };
      if (opts.signal?.aborted) return finish(opts.signal.reason);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(() => {
        timedOut = { ms: this.timeoutMs };
        finish(new Error('timed out'));
      }, this.timeoutMs);
      try {
        req = (secure ? https : http).request(hop, {
          method: 'GET',
          headers,
          // `false`: a one-off agent, so a new connection (after a stale kept-alive one).
          agent: freshSocket ? false : secure ? this.agents.https : this.agents.http,
          lookup,
        });
      } catch (err) {
        return finish(err);
      }
      let responded = false;
      req.on('error', (err) => {
        const code = (err as NodeJS.ErrnoException).code;
        if (!responded && req?.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) finish(null, { kind: 'stale_socket' });
        else finish(err);
      });
      req.on('response', (res) => {
        responded = true;
        this.handle(res, hop, url, maxBytes, opts).then(
          (o) => finish(null, o),
          (err) => finish(err),
        );
      });
      req.end();
    });
  }

  private async handle(res: http.IncomingMessage, hop: URL, url: string, maxBytes: number, opts: GetOptions): Promise<Outcome> {
    const status = res.statusCode ?? 0;
    const location = header(res.headers, 'location');
    if (REDIRECTS.has(status) && location) {
      discard(res);
      return { kind: 'redirect', status, location };
    }
    if (status === 304 && (opts.etag || opts.lastModified)) {
      discard(res);
      return { kind: 'not_modified', headers: res.headers };
    }
    if (status < 200 || status >= 300) {
      res.destroy();
      return { kind: 'status', status, headers: res.headers };
    }
    const declared = parseContentType(header(res.headers, 'content-type'));
    if (declared && opts.accept && !opts.accept(declared.type)) {
      res.destroy();
      throw this.unsupported(declared.type, url, hop, opts);
    }
    const body = await readBody(res, url, hop.href, { maxBytes, truncate: opts.truncate });
    const contentType = declared?.type ?? sniffType(body);
    if (!declared && opts.accept && !opts.accept(contentType)) throw this.unsupported(contentType, url, hop, opts);
    if (body.length === 0 && !opts.allowEmpty) {
      throw new FetchError('empty', url, `${hop.href === url ? url : `${url} (at ${hop.href})`}: empty response (no body)`, {
        status,
        finalUrl: hop.href,
      });
    }
    return { kind: 'body', status, headers: res.headers, body, contentType, sniffed: !declared, charset: declared?.charset ?? null };
  }

  private unsupported(type: string, url: string, hop: URL, opts: GetOptions): FetchError {
    const at = hop.href === url ? url : `${url} (at ${hop.href})`;
    const want = opts.acceptName ? ` (expected ${opts.acceptName})` : '';
    return new FetchError('unsupported_type', url, `${at}: unsupported content type ${describeType(type)}${want}`, { finalUrl: hop.href });
  }
}
