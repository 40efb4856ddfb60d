/**
 * A streamed reply on Discord: the text grows as tokens arrive and is shown as one reply to the
 * user's message plus follow-up messages past 2,000 characters (splitMessage).
 *
 * - The first text is posted at once; after that each message is edited at most once per
 *   `intervalMs` (EditThrottle), and only when its part changed. Exception: when the answer is
 *   complete before a message's first draft edit was due, its final text is sent at once (an
 *   answer that streams in 50 ms is not held back 1.2 s for one edit).
 * - Every request of a reply goes out one after the other (one in flight, never a pile-up):
 *   discord.js waits out a 429's Retry-After inside the request, and the next edit is spaced
 *   from the end of the previous one, so a rate limit slows the reply instead of multiplying
 *   requests.
 * - A follow-up is posted only once the parts before it show their final cut.
 * - finish(text) makes Discord show exactly `text` (extra messages from a longer draft are
 *   deleted) and resolves when it does. `urgent` skips the throttle wait (shutdown).
 *
 * Knows nothing of discord.js: the target posts, edits and deletes.
 */
import { splitMessage } from './split.js';
import { EditThrottle } from './throttle.js';

export const DISCORD_LIMIT = 2000;

export interface ReplyTarget<M> {
  /** Posts the first part as a reply to the user's message. */
  reply(content: string): Promise<M>;
  /** Posts a follow-up part in the same channel. */
  send(content: string): Promise<M>;
  edit(message: M, content: string): Promise<void>;
  remove(message: M): Promise<void>;
}

export interface StreamingReplyOptions {
  intervalMs?: number;
  limit?: number;
  now?: () => number;
  /** Edit failures that are not fatal (the message was deleted, a 5xx after retries). */
  onEditError?: (err: unknown) => void;
}

interface Part<M> {
  message: M;
  shown: string;
  throttle: EditThrottle;
  failures: number;
  /** Edits sent (successful or not). */
  edits: number;
  /** Given up on (deleted by someone, or failing): no more edits. */
  dead: boolean;
  removed: boolean;
}

const UNKNOWN_MESSAGE = 10008;
const MAX_EDIT_FAILURES = 3;

export class StreamingReply<M> {
  private readonly target: ReplyTarget<M>;
  private readonly intervalMs: number;
  private readonly limit: number;
  private readonly now: () => number;
  private readonly onEditError: (err: unknown) => void;
  private readonly parts: Part<M>[] = [];
  private desired = '';
  private final = false;
  private urgent = false;
  private pumping = false;
  private timer: NodeJS.Timeout | null = null;
  private error: unknown = null;
  private waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  private firstPostAt: number | null = null;

  constructor(target: ReplyTarget<M>, o: StreamingReplyOptions = {}) {
    this.target = target;
    this.intervalMs = o.intervalMs ?? 1200;
    this.limit = o.limit ?? DISCORD_LIMIT;
    this.now = o.now ?? (() => performance.now());
    this.onEditError = o.onEditError ?? (() => {});
  }

  /** Messages posted so far. */
  get posted(): number {
    return this.parts.length;
  }

  /** When (this.now()) the first message was posted, or null. */
  get postedAt(): number | null {
    return this.firstPostAt;
  }

  /** The text currently shown, joined ('' before anything is posted). */
  get shown(): string {
    return this.parts
      .filter((p) => !p.removed)
      .map((p) => p.shown)
      .join('');
  }

  /** New draft text (the whole answer so far). Ignored after finish(). */
  update(text: string): void {
    if (this.final || this.error) return;
    this.desired = text;
    this.kick();
  }

  /** Shows exactly `text`; resolves when Discord shows it, rejects if posting failed. */
  finish(text: string, o: { urgent?: boolean } = {}): Promise<void> {
    this.desired = text;
    this.final = true;
    if (o.urgent) this.urgent = true;
    if (this.error) return Promise.reject(this.error);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    // Re-plan: the final text may be due sooner than the draft the timer was armed for.
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.kick();
    return done;
  }

  /** Stops any pending timer (the reply is abandoned). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.final = true;
  }

  private kick(): void {
    if (this.pumping || this.timer) return;
    void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      for (;;) {
        const planFinal = this.final;
        const step = await this.step();
        // 'again', or a wait planned for a draft before finish() arrived: plan again.
        if (step === 'again' || (typeof step === 'number' && this.final && !planFinal)) continue;
        if (step === 'done') {
          if (this.final) this.settle(null);
          return;
        }
        // Something is due later: one timer, which sees the latest text when it fires.
        this.timer = setTimeout(() => {
          this.timer = null;
          void this.pump();
        }, step);
        return;
      }
    } catch (err) {
      this.error = err;
      this.settle(err);
    } finally {
      this.pumping = false;
    }
  }

  /** Does the next due request. 'again': did one; 'done': Discord shows the draft; a number: wait. */
  private async step(): Promise<'again' | 'done' | number> {
    const want = splitMessage(this.desired, this.limit);
    let wait = Infinity;
    for (let i = 0; i < want.length; i++) {
      const content = want[i]!;
      const part = this.parts[i];
      if (!part) {
        const message = i === 0 ? await this.target.reply(content) : await this.target.send(content);
        const throttle = new EditThrottle({ intervalMs: this.intervalMs, now: this.now });
        throttle.markEdited();
        this.firstPostAt ??= this.now();
        this.parts.push({ message, shown: content, throttle, failures: 0, edits: 0, dead: false, removed: false });
        return 'again';
      }
      if (part.dead || part.shown === content) continue;
      // The final text of a message never edited yet goes at once (a short answer is whole a
      // moment after its first words were posted); edits after drafts keep their spacing.
      const delay = this.urgent || (this.final && part.edits === 0) ? 0 : part.throttle.delayUntilNext();
      if (delay > 0) {
        wait = Math.min(wait, delay);
        // Follow-ups wait until the parts before them show their cut.
        break;
      }
      part.edits++;
      try {
        await this.target.edit(part.message, content);
        part.shown = content;
        part.failures = 0;
      } catch (err) {
        part.failures++;
        if ((err as { code?: unknown }).code === UNKNOWN_MESSAGE || part.failures >= MAX_EDIT_FAILURES) part.dead = true;
        this.onEditError(err);
      }
      part.throttle.markEdited();
      return 'again';
    }
    if (wait !== Infinity) return Math.ceil(wait);
    if (this.final) {
      // A longer draft was cut differently: drop the messages the final text does not need.
      for (let i = want.length; i < this.parts.length; i++) {
        const part = this.parts[i]!;
        if (part.removed || part.dead) continue;
        part.removed = true;
        try {
          await this.target.remove(part.message);
        } catch (err) {
          this.onEditError(err);
        }
        return 'again';
      }
    }
    return 'done';
  }

  private settle(err: unknown): void {
    for (const w of this.waiters.splice(0)) {
      if (err) w.reject(err);
      else w.resolve();
    }
  }
}
