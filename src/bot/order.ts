/**
 * Work of one key (a conversation) run one task after another, in the order asked for; a
 * reservation holds a place in that order for work decided later. The bot stores messages this
 * way: in the order they arrived, with catching up holding its place (older messages) ahead of
 * those that arrive while it reads the channel. No I/O, no timers.
 */

export class SerialByKey {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs fn after everything asked for `key` before it has settled (succeeded or failed). */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn);
    const tail = result.then(
      () => {},
      () => {},
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /**
   * Holds the next place for `key`: what is asked for after this waits until the returned
   * function has been called and the work given to it has settled. Call it exactly once (later
   * calls are ignored).
   */
  reserve(key: string): (fn: () => Promise<void>) => void {
    let fill!: (fn: () => Promise<void>) => void;
    const filled = new Promise<() => Promise<void>>((resolve) => (fill = resolve));
    void this.run(key, async () => (await filled)()).catch(() => {});
    let used = false;
    return (fn) => {
      if (used) return;
      used = true;
      fill(fn);
    };
  }

  /** Keys with work pending. */
  get size(): number {
    return this.tails.size;
  }
}
