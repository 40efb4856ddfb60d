/**
 * `copilot serve`: the app (the database, shared with other copilot processes when embedded, and
 * the answer service), on Postgres the lock that keeps one serve per bot, the configuration
 * watcher, the Discord bot and the status endpoint — started in that order, each registered with
 * the app's cleanup stack, so stopped in reverse. On stop: no new messages, answers finish (or end
 * marked interrupted), then the gateway, the HTTP server and the database close.
 */
import type { Logger } from 'pino';
import type { App } from '../app.js';
import type { Config } from '../config.js';
import { instructionsUpdatedAt } from '../db/config-state.js';
import { countChunks } from '../db/documents.js';
import { ping } from '../db/server-info.js';
import { getEmbeddingSettings } from '../db/settings.js';
import { DependencyError, UserError, errorMessage } from '../errors.js';
import type { StatusSource } from '../http/status.js';
import type { Bot } from '../bot/bot.js';
import type { Metrics } from '../bot/metrics.js';
import { withDeadline } from '../util/deadline.js';
import { VERSION } from '../version.js';
import type { ConfigWatcher } from './watch.js';
import { assertShardsFitDatabase, checkShardIds, clientShardOptions, holdsShardZero, isPartial, shardPlan } from './shards.js';
import type { ShardPlan } from './shards.js';

export interface DaemonOptions {
  config: Config;
  port: number;
  host: string;
  log: Logger;
  /** Grace for in-flight answers on shutdown (default 8 s: Fly's kill_timeout is 15 s). */
  graceMs?: number;
  /** --shards and --shard-count as given (else SHARDS and SHARD_COUNT). */
  shards?: string;
  shardCount?: string;
  /** Replace the slash commands at start (default true; only the process holding shard 0 does it). */
  registerCommands?: boolean;
}

export interface Daemon {
  /** The shards this process runs. */
  shards: ShardPlan;
  /** Whether this process holds shard 0: the one that registers slash commands. */
  holdsShardZero: boolean;
  /** Resolves when the daemon has stopped (after a signal or a fatal gateway error). */
  done: Promise<void>;
  stop(reason: string): Promise<void>;
}

function statusSource(app: App, bot: Bot, watcher: ConfigWatcher, metrics: Metrics): StatusSource {
  return {
    version: VERSION,
    startedAt: Date.now(),
    metrics,
    discord: () => ({ state: bot.state(), ping: bot.ping(), guilds: bot.guilds() }),
    shards: () => bot.shards(),
    async database() {
      await ping(app.db);
      return { backend: app.db.kind, ok: true };
    },
    async kb() {
      const [counts, settings] = await Promise.all([countChunks(app.db), getEmbeddingSettings(app.db)]);
      return { ...counts, model: counts.embedded > 0 ? settings.model : null };
    },
    async config() {
      const at = await instructionsUpdatedAt(app.db);
      return { allowedChannels: watcher.size, instructionsUpdatedAt: at ? at.toISOString() : null };
    },
  };
}

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, log } = options;
  if (!config.discordToken) {
    throw new UserError(
      'DISCORD_TOKEN: not set — `copilot serve` needs the bot token (Discord Developer Portal → Bot → Reset Token)',
      'bad_config',
    );
  }
  // Which shards: checked before anything is opened, the total asked of Discord when it is `auto` with a list.
  const names = {
    list: options.shards !== undefined ? '--shards' : 'SHARDS',
    count:
      options.shardCount !== undefined ? '--shard-count' : config.shardCount !== null ? 'SHARD_COUNT' : '--shard-count (or SHARD_COUNT)',
  };
  const plan = shardPlan(options.shards ?? config.shards, options.shardCount ?? config.shardCount, names);
  let shardCount = typeof plan.count === 'number' ? plan.count : null;
  if (shardCount === null && plan.ids !== null) {
    const { recommendedShardCount } = await import('../bot/discord.js');
    shardCount = await recommendedShardCount(config.discordToken, config.discordApiUrl);
    checkShardIds(plan, shardCount, names);
  }
  if (shardCount !== null) assertShardsFitDatabase(plan, shardCount, !config.databaseUrl);
  const partial = shardCount !== null && isPartial(plan, shardCount) ? plan.ids : null;

  const { createApp } = await import('../app.js');
  const app = await createApp(config, { command: 'serve', share: true, poolSize: 8, log: log.child({ module: 'answer' }) });
  const closeAll = () => app.close((resource, err) => log.warn({ resource, err: errorMessage(err) }, 'error while closing'));
  try {
    log.info(
      { backend: app.db.kind, database: app.db.description, groq: Boolean(app.chat), embeddings: app.embedder?.model ?? null },
      'database ready',
    );

    // One serve per bot: on the embedded database the home's lock already says so.
    let lockLostEarly: Error | null = null;
    let lockLost = (err: Error) => void (lockLostEarly = err);
    if (config.databaseUrl) {
      const { acquireServeLock } = await import('../db/serve-lock.js');
      const serveLock = await acquireServeLock({
        url: config.databaseUrl,
        description: app.db.description,
        token: config.discordToken,
        shards: partial,
        log: log.child({ module: 'serve-lock' }),
      });
      app.onClose('serve lock', () => serveLock.close());
      serveLock.onFatal((err) => lockLost(err));
    }

    const { watchConfig } = await import('./watch.js');
    const watcher = await watchConfig(app.db, { log: log.child({ module: 'config' }) });
    app.onClose('config watcher', () => watcher.close());
    if (watcher.size === 0) log.warn({}, 'no allowed channels: add one with `copilot channels add <channel-id>`');

    const { createMetrics } = await import('../bot/metrics.js');
    const metrics = await createMetrics();
    const { createBot } = await import('../bot/bot.js');
    const { createFeedback } = await import('../feedback/service.js');
    const { resetConversation } = await import('../convo/service.js');
    const bot = await createBot({
      feedback: createFeedback(app.db, log.child({ module: 'feedback' })),
      conversations: { reset: (id, actor) => resetConversation(app.db, id, actor) },
      token: config.discordToken,
      apiUrl: config.discordApiUrl,
      restGlobalRequestsPerSecond: config.discordRestRps,
      answers: app.answers,
      channels: watcher,
      metrics,
      log,
      shards: clientShardOptions(plan, shardCount),
      escalation: { db: app.db, cooldownMs: config.escalationCooldownMs },
    });
    metrics.watchShards(() => bot.shards());
    const { startStatusServer } = await import('../http/status.js');
    let status;
    try {
      status = await startStatusServer({
        port: options.port,
        host: options.host,
        source: statusSource(app, bot, watcher, metrics),
        token: config.statusToken,
        log: log.child({ module: 'http' }),
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new DependencyError(
        code === 'EADDRINUSE'
          ? `the status port ${options.port} on ${options.host} is in use — set PORT or --port`
          : `cannot start the status endpoint: ${errorMessage(err)}`,
        'port_unavailable',
        { cause: err },
      );
    }
    app.onClose('status endpoint', () => status.close());

    await bot.start();
    app.onClose('discord', () => bot.stop(options.graceMs ?? 8000));
    if (options.registerCommands !== false && holdsShardZero(plan)) {
      // Messages are answered without them: a refusal is reported, not fatal.
      await bot
        .registerCommands(config.discordCommandsGuild)
        .catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'slash commands not registered'));
    }
    // Logged before 'copilot is serving', the line that tells a supervisor the daemon is up.
    const { applicationIdFromToken, inviteUrl } = await import('../bot/invite.js');
    const applicationId = bot.applicationId() ?? applicationIdFromToken(config.discordToken);
    if (applicationId) log.info({ invite: inviteUrl(applicationId) }, 'invite link (adds the bot with the permissions it uses)');
    log.info(
      { guilds: bot.guilds(), channels: watcher.size, port: status.port, shards: bot.shards().map((s) => s.id), shardCount },
      'copilot is serving',
    );

    let stopping: Promise<void> | null = null;
    let resolveDone!: () => void;
    let rejectDone!: (err: unknown) => void;
    const done = new Promise<void>((resolve, reject) => {
      resolveDone = resolve;
      rejectDone = reject;
    });
    const stop = (reason: string, failure?: Error): Promise<void> =>
      (stopping ??= (async () => {
        log.info({ reason }, 'shutting down');
        // A hung close must not keep the process alive past the platform's kill timeout: `done`
        // settles anyway, and the serve command then ends the process (cli/commands/serve.ts).
        const closed = await withDeadline(
          closeAll().then(() => true),
          (options.graceMs ?? 8000) + 4000,
          () => false,
        );
        if (closed) log.info({}, 'stopped');
        else log.error({}, 'shutdown took too long; exiting');
        if (failure) rejectDone(failure);
        else resolveDone();
      })());
    bot.onFatal((err) => {
      log.error({ err: errorMessage(err) }, 'the Discord gateway closed for good');
      void stop('fatal gateway error', err);
    });
    lockLost = (err) => {
      log.fatal({ err: errorMessage(err) }, 'another process serves this bot now');
      void stop('serve lock lost', err);
    };
    if (lockLostEarly) lockLost(lockLostEarly);
    return { shards: plan, holdsShardZero: holdsShardZero(plan), done, stop: (reason) => stop(reason) };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
