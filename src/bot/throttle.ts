/**
 * When to edit a streaming reply: at most once per `intervalMs` (default 1.2 s) per message, and
 * never before a Discord 429's Retry-After has passed. Pure: the clock is injectable; the caller
 * owns the timer. One instance per posted message.
 *
 * Use: after posting the reply, `markEdited()`. On each new delta, if `shouldEdit()` edit now
 * (and `markEdited()`), else arm one timer for `delayUntilNext()` ms that edits with the latest
 * text. On a 429, `backOff(retryAfterMs)`. The final edit may wait `delayUntilNext()` as well.
 */
export class EditThrottle {
  private readonly intervalMs: number;
  private readonly now: () => number;
  private notBefore = Number.NEGATIVE_INFINITY;

  constructor(o: { intervalMs?: number; now?: () => number } = {}) {
    this.intervalMs = o.intervalMs ?? 1200;
    this.now = o.now ?? Date.now;
  }

  shouldEdit(): boolean {
    return this.now() >= this.notBefore;
  }

  /** Milliseconds until the next edit is allowed; 0 when it is allowed now. */
  delayUntilNext(): number {
    return Math.max(0, this.notBefore - this.now());
  }

  /** Records a post or an edit sent now. */
  markEdited(): void {
    this.notBefore = Math.max(this.notBefore, this.now() + this.intervalMs);
  }

  /** Records a rate limit: no edit until `retryAfterMs` from now (never shortens a wait). */
  backOff(retryAfterMs: number): void {
    this.notBefore = Math.max(this.notBefore, this.now() + Math.max(0, retryAfterMs));
  }
}
