/**
 * Quota care: a per-user question limit and a global tokens-per-minute budget, both over a
 * sliding 60-second window. Pure: the clock is injectable; no timers.
 */

import { LRUCache } from 'lru-cache';

const WINDOW_MS = 60_000;

export type RateDecision = { ok: true } | { ok: false; retryInMs: number; firstRefusal: boolean };

interface UserState {
  /** Accepted request times, oldest first (at most perMinute of them). */
  times: number[];
  /** A refusal has been reported since the last accepted request. */
  refused: boolean;
}

/**
 * At most `perMinute` accepted questions per user in any 60 s window. `firstRefusal` is true on
 * the first refusal after an accepted question, so the bot sends one notice and then stays
 * silent until the window lets the user in again. Users idle for a whole window are forgotten;
 * at most `maxUsers` are tracked (the least recently seen are dropped first).
 */
export class UserRateLimiter {
  private readonly perMinute: number;
  private readonly now: () => number;
  /** Least recently seen first out once `maxUsers` are tracked. */
  private readonly users: LRUCache<string, UserState>;
  private lastSweep: number;

  constructor(o: { perMinute: number; now?: () => number; maxUsers?: number }) {
    if (!(o.perMinute >= 1)) throw new RangeError('perMinute must be at least 1');
    this.perMinute = Math.floor(o.perMinute);
    this.now = o.now ?? Date.now;
    this.users = new LRUCache({ max: o.maxUsers ?? 10_000 });
    this.lastSweep = this.now();
  }

  /** Number of users currently tracked (for tests and metrics). */
  get size(): number {
    return this.users.size;
  }

  take(userId: string): RateDecision {
    const now = this.now();
    this.sweep(now);
    let state = this.users.get(userId);
    if (!state) {
      state = { times: [], refused: false };
      this.users.set(userId, state);
    }

    const { times } = state;
    while (times.length > 0 && times[0]! <= now - WINDOW_MS) times.shift();
    if (times.length < this.perMinute) {
      times.push(now);
      state.refused = false;
      return { ok: true };
    }
    const firstRefusal = !state.refused;
    state.refused = true;
    return { ok: false, retryInMs: Math.max(1, times[0]! + WINDOW_MS - now), firstRefusal };
  }

  private sweep(now: number): void {
    if (now - this.lastSweep >= WINDOW_MS) {
      this.lastSweep = now;
      const idle = [...this.users.entries()].filter(([, s]) => {
        const last = s.times.at(-1);
        return last === undefined || last <= now - WINDOW_MS;
      });
      for (const [id] of idle) this.users.delete(id);
    }
  }
}

export type BudgetDecision = { ok: true } | { ok: false; retryInMs: number; tooLarge?: true };

/**
 * A global tokens-per-minute budget (Groq's free tier: 12,000 TPM for llama-3.3-70b-versatile).
 * Take the estimate before calling (prompt tokens + max_tokens), then `settle(estimate, actual)`
 * with the usage Groq reports, or `refund(estimate)` when no request was made.
 * A request larger than the whole budget is refused with `tooLarge: true`.
 */
export class TokenBudget {
  private readonly limit: number;
  private readonly now: () => number;
  /** Spending entries, oldest first. */
  private readonly entries: { t: number; tokens: number }[] = [];
  private used = 0;

  constructor(o: { tokensPerMinute: number; now?: () => number }) {
    if (!(o.tokensPerMinute >= 1)) throw new RangeError('tokensPerMinute must be at least 1');
    this.limit = o.tokensPerMinute;
    this.now = o.now ?? Date.now;
  }

  /** Tokens spent in the current window. */
  get usedTokens(): number {
    this.expire(this.now());
    return this.used;
  }

  tryTake(tokens: number): BudgetDecision {
    const now = this.now();
    this.expire(now);
    const n = Math.max(0, Math.ceil(tokens));
    if (n > this.limit) return { ok: false, retryInMs: WINDOW_MS, tooLarge: true };
    if (this.used + n <= this.limit) {
      this.add(now, n);
      return { ok: true };
    }
    // Wait until enough of the oldest spending leaves the window.
    let freed = 0;
    for (const e of this.entries) {
      freed += e.tokens;
      if (this.used - freed + n <= this.limit) return { ok: false, retryInMs: Math.max(1, e.t + WINDOW_MS - now) };
    }
    return { ok: false, retryInMs: WINDOW_MS }; // unreachable: n <= limit
  }

  /** Gives back tokens taken but not spent (newest spending first). */
  refund(tokens: number): void {
    let left = Math.max(0, Math.ceil(tokens));
    while (left > 0 && this.entries.length > 0) {
      const last = this.entries[this.entries.length - 1]!;
      const d = Math.min(left, last.tokens);
      last.tokens -= d;
      this.used -= d;
      left -= d;
      if (last.tokens === 0) this.entries.pop();
    }
  }

  /** Corrects an estimate with the actual usage: refunds the excess or charges the shortfall now. */
  settle(estimated: number, actual: number): void {
    if (actual < estimated) this.refund(estimated - actual);
    else if (actual > estimated) this.add(this.now(), Math.ceil(actual - estimated));
  }

  private add(t: number, tokens: number): void {
    if (tokens <= 0) return;
    this.entries.push({ t, tokens });
    this.used += tokens;
  }

  private expire(now: number): void {
    while (this.entries.length > 0 && this.entries[0]!.t <= now - WINDOW_MS) this.used -= this.entries.shift()!.tokens;
  }
}
