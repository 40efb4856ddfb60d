/** `copilot serve`: the daemon in the foreground until SIGTERM or SIGINT. */
import type { Context } from '../context.js';

export async function serve(ctx: Context, opts: { port?: number; host?: string; shards?: string; shardCount?: string }): Promise<void> {
  // The handlers are set before anything starts: a signal that arrives while the daemon starts
  // (even right after 'copilot is serving' is written) stops it once it is up, instead of the
  // default action killing the process with the database half-closed. A second signal while
  // starting ends the process at once (an operator pressing Ctrl-C twice).
  let daemon: { stop: (reason: string) => Promise<void> } | undefined;
  let pending: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (daemon) void daemon.stop(signal);
    else if (pending) process.exit(1);
    else pending = signal;
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const port = opts.port ?? ctx.config.port;
    const host = opts.host ?? ctx.config.host;
    const { createLogger } = await import('../../log.js');
    const log = await createLogger(ctx.config);
    const { startDaemon } = await import('../../serve/daemon.js');
    let started;
    try {
      started = await startDaemon({ config: ctx.config, port, host, log, shards: opts.shards, shardCount: opts.shardCount });
    } catch (err) {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'copilot could not start');
      throw err;
    }
    daemon = started;
    if (pending) void started.stop(pending);
    await started.done;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    // Everything is closed now (or the close hung past its backstop); a library must not keep the
    // process alive after that (@discordjs/ws reconnects a shard destroyed while it was waiting
    // to reconnect). process.exit() takes the exit code main.ts sets.
    setTimeout(() => process.exit(), 1000).unref();
  }
}
