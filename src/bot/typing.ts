/**
 * "copilot is typing…": sent at once, then refreshed every `intervalMs` (Discord shows it for
 * about 10 s) until stop(). Failures (missing permission, a 429) are reported, never thrown.
 */

export interface Typing {
  stop(): void;
}

export function keepTyping(send: () => Promise<unknown>, intervalMs: number, onError: (err: unknown) => void): Typing {
  let stopped = false;
  const fire = () => {
    if (stopped) return;
    send().catch((err: unknown) => {
      if (!stopped) onError(err);
    });
  };
  fire();
  const timer = setInterval(fire, intervalMs);
  timer.unref?.();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
