/** One timeout helper: a promise raced against a timer that never keeps the process alive. */

/**
 * Settles as `promise` does, or as `onTimeout()` does (its value, or what it throws) when
 * `promise` has not settled within `ms`. The timer is unref'd and cleared once either settles.
 */
export function withDeadline<T, U = T>(promise: Promise<T>, ms: number, onTimeout: () => U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<U>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (err) {
        reject(err);
      }
    }, ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
