/**
 * robots.txt, read once per origin for the life of a client and honoured for every discovered
 * URL, as RFC 9309 says: the group naming our product token (else `*`), longest match, Allow
 * winning ties (robots-parser). Missing (4xx): everything allowed; unreachable (5xx, network
 * failure): everything disallowed for this run.
 */
import { createRequire } from 'node:module';
import type { WebClient } from './client.js';
import { isFetchError } from './errors.js';

/** RFC 9309: a crawler must read at least the first 500 KiB; the rest is ignored. */
export const ROBOTS_MAX_BYTES = 500 * 1024;

export interface RobotsVerdict {
  allowed: boolean;
  /** Why a URL is disallowed, for the message ("disallowed by robots.txt"). */
  why: string;
}

interface Robots {
  isAllowed(url: string, ua?: string): boolean | undefined;
  getSitemaps(): string[];
}

// robots-parser is CommonJS whose types declare an ES default export; at run time the module
// itself is the function.
const robotsParser = createRequire(import.meta.url)('robots-parser') as (url: string, contents: string) => Robots;

type Rules = { kind: 'parsed'; robots: Robots } | { kind: 'allow_all'; note: string } | { kind: 'disallow_all'; why: string };

export class RobotsCache {
  private readonly byOrigin = new Map<string, Promise<Rules>>();

  constructor(
    private readonly client: Pick<WebClient, 'get'>,
    /** The product token matched against User-agent lines ("copilot"). */
    readonly agent: string,
  ) {}

  /**
   * Whether robots.txt lets us fetch `url`, reading robots.txt the first time its origin is seen.
   * `explicit`: that URL's host was given by the operator, so robots.txt may be read even from a
   * link-local address.
   */
  async check(url: URL, explicit = false): Promise<RobotsVerdict> {
    const rules = await this.rulesFor(url.origin, explicit);
    if (rules.kind === 'allow_all') return { allowed: true, why: rules.note };
    if (rules.kind === 'disallow_all') return { allowed: false, why: rules.why };
    // robots-parser matches the path and query; the fragment never reaches a server.
    const target = new URL(url);
    target.hash = '';
    const allowed = rules.robots.isAllowed(target.href, this.agent) !== false;
    return { allowed, why: allowed ? 'allowed by robots.txt' : `disallowed by ${url.origin}/robots.txt` };
  }

  /** Sitemaps that an origin's robots.txt lists (after it was read). */
  async sitemaps(origin: string): Promise<string[]> {
    const rules = await this.rulesFor(origin, false);
    return rules.kind === 'parsed' ? rules.robots.getSitemaps() : [];
  }

  private rulesFor(origin: string, explicit: boolean): Promise<Rules> {
    let p = this.byOrigin.get(origin);
    if (!p) {
      p = this.load(origin, explicit);
      this.byOrigin.set(origin, p);
    }
    return p;
  }

  private async load(origin: string, explicit: boolean): Promise<Rules> {
    const robotsUrl = `${origin}/robots.txt`;
    try {
      const r = await this.client.get(robotsUrl, {
        explicit,
        robots: false,
        allowEmpty: true,
        truncate: true,
        maxBytes: ROBOTS_MAX_BYTES,
        acceptHeader: 'text/plain, */*;q=0.5',
      });
      if (r.kind !== 'body') return { kind: 'allow_all', note: 'robots.txt not modified' };
      return { kind: 'parsed', robots: robotsParser(robotsUrl, r.body.toString('utf8')) };
    } catch (err) {
      if (isFetchError(err) && err.status !== undefined && err.status >= 400 && err.status < 500 && err.status !== 429) {
        return { kind: 'allow_all', note: `no robots.txt (HTTP ${err.status})` };
      }
      const detail = isFetchError(err) && err.status !== undefined ? `HTTP ${err.status}` : isFetchError(err) ? err.reason : String(err);
      return { kind: 'disallow_all', why: `${robotsUrl} could not be read (${detail}), so nothing on ${origin} is fetched (RFC 9309)` };
    }
  }
}
