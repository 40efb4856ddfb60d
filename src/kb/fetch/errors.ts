/**
 * Why a web page could not be had, one reason per failure, so that ingest can report each URL in
 * one line, skip it and go on with the others. A UserError: the URL was bad input (exit 2).
 */
import { UserError } from '../../errors.js';

export type FetchFailure =
  /** Not a URL, or one with credentials in it. */
  | 'bad_url'
  /** Not http or https (file:, ftp:, mailto:, …). */
  | 'scheme'
  /** A discovered URL whose host is (or resolves to) a link-local address. */
  | 'link_local'
  /** robots.txt disallows it for our User-Agent (or robots.txt could not be read: 5xx). */
  | 'robots'
  | 'dns'
  /** Connection refused, host or network unreachable. */
  | 'unreachable'
  /** The connection broke before the response was complete (reset, closed). */
  | 'connection'
  | 'tls'
  /** No complete response within the time limit. */
  | 'timeout'
  /** Larger than the size limit (declared, streamed or once decompressed). */
  | 'too_large'
  | 'too_many_redirects'
  | 'redirect_loop'
  /** A redirect to a URL the caller does not follow (a crawl leaving its origin or prefix). */
  | 'redirect_refused'
  /** HTTP 404 or 410. */
  | 'gone'
  /** Any other HTTP error status (after retries for 429 and 503). */
  | 'http_status'
  | 'unsupported_type'
  /** A Content-Encoding we cannot decode, or a corrupt compressed body. */
  | 'bad_encoding'
  /** A 200 with no body. */
  | 'empty'
  /** An HTML page whose main content has no text. */
  | 'empty_page'
  /** A sitemap that is not XML, or not a sitemap. */
  | 'not_sitemap';

export class FetchError extends UserError {
  constructor(
    readonly reason: FetchFailure,
    /** The URL that was asked for. */
    readonly url: string,
    message: string,
    options: { cause?: unknown; status?: number; finalUrl?: string } = {},
  ) {
    super(message, reason, { cause: options.cause });
    this.name = 'FetchError';
    this.status = options.status;
    this.finalUrl = options.finalUrl;
  }
  /** The HTTP status, when one was answered. */
  readonly status?: number;
  /** The URL of the hop that failed, when it is not `url` (after redirects). */
  readonly finalUrl?: string;
}

export function isFetchError(err: unknown): err is FetchError {
  return err instanceof FetchError;
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL', 'ENONAME']);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL', 'ETIMEDOUT']);
const CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);
const TLS_CODES = new Set([
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

function codeOf(err: unknown): string {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : '';
}

/**
 * A FetchError for an error thrown by the network, TLS, the HTTP parser or a decoder while `url`
 * was being fetched. `timedOut`: our own timer ended the request. A FetchError passes unchanged.
 */
export function classifyError(err: unknown, url: string, hop: string, timedOut: { ms: number } | null): FetchError {
  if (err instanceof FetchError) return err;
  const at = hop === url ? url : `${url} (at ${hop})`;
  const host = new URL(hop).hostname;
  const opts = { cause: err, finalUrl: hop === url ? undefined : hop };
  if (timedOut) return new FetchError('timeout', url, `${at}: no complete response within ${timedOut.ms / 1000} s`, opts);
  const code = codeOf(err);
  const detail = code || (err instanceof Error ? err.message : String(err));
  if (DNS_CODES.has(code)) return new FetchError('dns', url, `${at}: DNS lookup of ${host} failed (${detail})`, opts);
  if (UNREACHABLE_CODES.has(code)) return new FetchError('unreachable', url, `${at}: host ${host} unreachable (${detail})`, opts);
  const message = err instanceof Error ? err.message : '';
  if (/before secure TLS connection|SSL routines|wrong version number/i.test(message)) {
    return new FetchError('tls', url, `${at}: TLS error (${message.replace(/\s+/g, ' ').slice(0, 160)})`, opts);
  }
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code.startsWith('CERT_')) {
    return new FetchError('tls', url, `${at}: TLS error (${detail})`, opts);
  }
  if (code.startsWith('Z_') || code === 'ERR_ZLIB_INITIALIZATION_FAILED' || code === 'ERR_BUFFER_TOO_LARGE') {
    return new FetchError('bad_encoding', url, `${at}: the compressed body could not be decoded (${detail})`, opts);
  }
  if (code.startsWith('HPE_')) return new FetchError('connection', url, `${at}: invalid HTTP response (${detail})`, opts);
  if (CONNECTION_CODES.has(code) || (err instanceof Error && /socket hang up|aborted/i.test(err.message))) {
    return new FetchError('connection', url, `${at}: connection lost before the response was complete (${detail})`, opts);
  }
  return new FetchError('connection', url, `${at}: request failed (${detail})`, opts);
}
