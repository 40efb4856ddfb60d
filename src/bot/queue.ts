/**
 * One job at a time per conversation, in arrival order; different conversations run
 * concurrently up to `maxConcurrent`. A conversation waiting for a free slot keeps its place:
 * slots go to conversations in the order their next job became ready. No I/O, no timers.
 */

export interface QueueJob {
  run(): Promise<void>;
  /** Called instead of run() when the job is dropped before it started. */
  cancel(): void;
}

export class ConversationQueue {
  private readonly maxConcurrent: number;
  private readonly pending = new Map<string, QueueJob[]>();
  private readonly active = new Set<string>();
  private readonly ready: string[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private runningCount = 0;
  private onError: (err: unknown) => void;

  constructor(o: { maxConcurrent?: number; onError?: (err: unknown) => void } = {}) {
    this.maxConcurrent = Math.max(1, Math.floor(o.maxConcurrent ?? 8));
    this.onError = o.onError ?? (() => {});
  }

  /** Jobs running now. */
  get running(): number {
    return this.runningCount;
  }

  /** Jobs accepted but not started. */
  get waiting(): number {
    let n = 0;
    for (const jobs of this.pending.values()) n += jobs.length;
    return n;
  }

  push(key: string, job: QueueJob): void {
    let jobs = this.pending.get(key);
    if (!jobs) {
      jobs = [];
      this.pending.set(key, jobs);
    }
    jobs.push(job);
    if (jobs.length === 1 && !this.active.has(key)) this.ready.push(key);
    this.pump();
  }

  /**
   * Puts jobs at the head of a conversation's queue, in the order given: they run before the jobs
   * waiting there (catching up on older messages before newer ones that arrived meanwhile).
   */
  pushFront(key: string, jobs: QueueJob[]): void {
    if (jobs.length === 0) return;
    const waiting = this.pending.get(key);
    if (waiting) {
      waiting.unshift(...jobs);
    } else {
      this.pending.set(key, [...jobs]);
      if (!this.active.has(key)) this.ready.push(key);
    }
    this.pump();
  }

  /** Drops every job that has not started (their cancel() is called); returns how many. */
  cancelPending(): number {
    let n = 0;
    for (const jobs of this.pending.values()) {
      for (const job of jobs) {
        n++;
        try {
          job.cancel();
        } catch (err) {
          this.onError(err);
        }
      }
    }
    this.pending.clear();
    this.ready.length = 0;
    this.settle();
    return n;
  }

  /** Resolves when nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (this.runningCount === 0 && this.ready.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.runningCount < this.maxConcurrent && this.ready.length > 0) {
      const key = this.ready.shift()!;
      const jobs = this.pending.get(key);
      const job = jobs?.shift();
      if (!job) continue;
      if (jobs!.length === 0) this.pending.delete(key);
      this.active.add(key);
      this.runningCount++;
      void this.runOne(key, job);
    }
  }

  private async runOne(key: string, job: QueueJob): Promise<void> {
    try {
      await job.run();
    } catch (err) {
      this.onError(err);
    }
    this.runningCount--;
    this.active.delete(key);
    if (this.pending.has(key)) this.ready.push(key);
    this.pump();
    this.settle();
  }

  private settle(): void {
    if (this.runningCount !== 0 || this.ready.length !== 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
