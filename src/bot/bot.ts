/**
 * The Discord bot: a discord.js client (imported lazily: ~640 ms), the gate, the per-conversation
 * queue and the handler, with the lifecycle `serve` drives: start (login, ready or a clear
 * error), state/ping/guilds for the status endpoint, fatal gateway closes, and a graceful stop.
 *
 * The messageCreate listener is the one event boundary: whatever happens in it is logged with
 * context and counted, never thrown into discord.js.
 */
import type { Client, Message } from 'discord.js';
import type { Logger } from 'pino';
import type { AnswerService } from '../answer/service.js';
import { DependencyError, errorMessage } from '../errors.js';
import type { Metrics } from '../http/metrics.js';
import { gateInput, replyTarget, sendTyping } from './discord.js';
import { gate } from './gate.js';
import type { ChannelDirectory } from './gate.js';
import { answerMessage } from './handler.js';
import { ConversationQueue } from './queue.js';
import { keepTyping } from './typing.js';

export type { ChannelDirectory } from './gate.js';

export interface BotDeps {
  token: string;
  /** config.discordApiUrl → discord.js `rest.api` (e.g. `http://127.0.0.1:PORT/api`). */
  apiUrl?: string | null;
  /** Discord's global limit is 50; tests and benchmarks lift it. */
  restGlobalRequestsPerSecond?: number;
  answers: AnswerService;
  channels: ChannelDirectory;
  metrics?: Metrics;
  log: Logger;
  /** Conversations answered at once (default 8). */
  maxConcurrent?: number;
  /** At most one edit per message per this many ms while streaming (default 1200). */
  editIntervalMs?: number;
  /** Typing refresh while working (default 8000). */
  typingIntervalMs?: number;
  /** start() gives up after this long (default 30 s). */
  readyTimeoutMs?: number;
}

export type BotState = 'connecting' | 'ready' | 'reconnecting' | 'disconnected';

export interface Bot {
  /** Logs in; resolves when ready; rejects with a DependencyError (bad token, refused intents, timeout). */
  start(): Promise<void>;
  /** Stops taking messages, lets in-flight answers finish within graceMs (default 8000), else interrupts them; destroys the client. */
  stop(graceMs?: number): Promise<void>;
  state(): BotState;
  /** Gateway heartbeat latency in ms, or null before the first heartbeat. */
  ping(): number | null;
  guilds(): number;
  /** Called once when the gateway closes for good after start (e.g. 4004: the token was revoked). */
  onFatal(fn: (err: Error) => void): void;
}

/** After interrupting the answers at the end of the grace period, how long their final edits may take. */
const INTERRUPT_WAIT_MS = 3000;

/** Gateway close codes after which discord.js does not reconnect, with what to tell the operator. */
export function gatewayCloseError(code: number): DependencyError {
  switch (code) {
    case 4004:
      return new DependencyError('Discord rejected the bot token (gateway close 4004): check DISCORD_TOKEN', 'discord_token_invalid');
    case 4014:
      return new DependencyError(
        'Discord refused the Message Content intent (gateway close 4014): enable "Message Content Intent" for the bot in the Discord Developer Portal',
        'discord_intents',
      );
    case 4013:
      return new DependencyError('Discord rejected the gateway intents (close 4013)', 'discord_intents');
    default:
      return new DependencyError(`the Discord gateway closed with code ${code} and cannot reconnect`, 'discord_gateway_closed');
  }
}

function startError(err: unknown): DependencyError {
  if (err instanceof DependencyError) return err;
  const code = (err as { code?: unknown }).code;
  if (code === 'TokenInvalid' || (err as { status?: unknown }).status === 401) {
    return new DependencyError('Discord rejected the bot token (401 Unauthorized): check DISCORD_TOKEN', 'discord_token_invalid', { cause: err });
  }
  if (code === 'DisallowedIntents') return new DependencyError(gatewayCloseError(4014).message, 'discord_intents', { cause: err });
  return new DependencyError(`cannot connect to Discord: ${errorMessage(err)}`, 'discord_unavailable', { cause: err });
}

function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref?.();
    void p.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function createBot(deps: BotDeps): Promise<Bot> {
  const { Client, Events, GatewayIntentBits, Options, Routes } = await import('discord.js');
  const log = deps.log.child({ module: 'bot' });
  const editIntervalMs = deps.editIntervalMs ?? 1200;
  const typingIntervalMs = deps.typingIntervalMs ?? 8000;

  const client: Client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    rest: {
      ...(deps.apiUrl ? { api: deps.apiUrl } : {}),
      globalRequestsPerSecond: deps.restGlobalRequestsPerSecond ?? 50,
    },
    allowedMentions: { parse: [], repliedUser: false },
    failIfNotExists: false,
    // The bot reads each message once and replies over REST: no message cache, bounded users.
    makeCache: Options.cacheWithLimits({
      ...Options.DefaultMakeCacheSettings,
      MessageManager: 0,
      ReactionManager: 0,
      PresenceManager: 0,
      GuildMemberManager: { maxSize: 200, keepOverLimit: (m) => m.id === m.client.user.id },
      UserManager: { maxSize: 1000, keepOverLimit: (u) => u.id === u.client.user.id },
    }),
  });

  const queue = new ConversationQueue({
    maxConcurrent: deps.maxConcurrent ?? 8,
    onError: (err) => log.error({ err }, 'queued job failed'),
  });
  const inflight = new Set<AbortController>();
  const fatalListeners: ((err: Error) => void)[] = [];
  let state: BotState = 'disconnected';
  let started = false;
  let stopping = false;
  let fatalFired = false;
  let failStart: ((err: DependencyError) => void) | null = null;
  let stopPromise: Promise<void> | null = null;

  const fatal = (err: DependencyError) => {
    if (failStart) return failStart(err);
    if (!started || stopping || fatalFired) return;
    fatalFired = true;
    log.fatal({ code: err.code }, err.message);
    for (const fn of fatalListeners) {
      try {
        fn(err);
      } catch (e) {
        log.error({ err: e }, 'onFatal listener failed');
      }
    }
  };

  // After stop() (or a failed start) the client's own closing events no longer move the state.
  client.on(Events.ShardReady, () => {
    if (!stopping) state = 'ready';
  });
  client.on(Events.ShardResume, (shardId, replayed) => {
    if (stopping) return;
    state = 'ready';
    log.info({ shardId, replayed }, 'gateway resumed');
  });
  client.on(Events.ShardReconnecting, (shardId) => {
    if (stopping) return;
    if (state !== 'connecting') state = 'reconnecting';
    log.info({ shardId }, 'gateway reconnecting');
  });
  client.on(Events.ShardDisconnect, (event, shardId) => {
    if (stopping) return;
    state = 'disconnected';
    log.warn({ shardId, code: event.code }, 'gateway closed for good');
    fatal(gatewayCloseError(event.code));
  });
  client.on(Events.ShardError, (err, shardId) => {
    log.warn({ shardId, err: errorMessage(err) }, 'gateway error');
    if (/authentication failed/i.test(err.message)) fatal(gatewayCloseError(4004));
  });
  client.on(Events.Error, (err) => log.error({ err }, 'discord.js error'));
  client.on(Events.Warn, (message) => log.warn({ detail: message }, 'discord.js warning'));

  function onMessage(message: Message): void {
    if (stopping || !client.user) return;
    const decision = gate(gateInput(message), client.user.id, deps.channels);
    if (!decision.accept) return;
    const receivedAt = performance.now();
    deps.metrics?.inc('messagesSeen');
    const channelId = message.channelId;
    const context = { channelId: decision.channelId, conversationId: decision.conversationId, userId: message.author.id, messageId: message.id };
    const typing = keepTyping(() => sendTyping(client, Routes, channelId), typingIntervalMs, (err) =>
      log.debug({ ...context, err: errorMessage(err) }, 'typing failed'),
    );
    const controller = new AbortController();
    queue.push(decision.conversationId, {
      run: async () => {
        inflight.add(controller);
        try {
          await answerMessage(
            {
              messageId: message.id,
              authorId: message.author.id,
              conversationId: decision.conversationId,
              channelId: decision.channelId,
              parentId: decision.parentId,
              question: decision.question,
              receivedAt,
            },
            replyTarget(client, Routes, channelId, message.id),
            typing,
            controller.signal,
            { answers: deps.answers, metrics: deps.metrics, log, editIntervalMs },
          );
        } finally {
          inflight.delete(controller);
          typing.stop();
        }
      },
      cancel: () => {
        typing.stop();
        log.warn(context, 'message dropped at shutdown before it was answered');
      },
    });
  }

  client.on(Events.MessageCreate, (message) => {
    try {
      onMessage(message);
    } catch (err) {
      deps.metrics?.inc('errors');
      log.error({ err, channelId: message.channelId, messageId: message.id }, 'message handler failed');
    }
  });

  return {
    async start() {
      if (started || stopping) throw new Error('the bot was already started');
      state = 'connecting';
      const timeoutMs = deps.readyTimeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          failStart = reject;
          timer = setTimeout(
            () => reject(new DependencyError(`Discord did not get ready within ${Math.round(timeoutMs / 1000)} s`, 'discord_timeout')),
            timeoutMs,
          );
          client.once(Events.ClientReady, () => resolve());
          client.login(deps.token).catch((err: unknown) => reject(startError(err)));
        });
      } catch (err) {
        state = 'disconnected';
        stopping = true;
        await client.destroy().catch(() => {});
        throw startError(err);
      } finally {
        clearTimeout(timer);
        failStart = null;
      }
      started = true;
      state = 'ready';
      log.info({ botId: client.user?.id, guilds: client.guilds.cache.size }, 'connected to Discord');
    },

    stop(graceMs = 8000) {
      stopPromise ??= (async () => {
        stopping = true;
        const drained = await within(queue.idle(), graceMs);
        if (!drained) {
          const dropped = queue.cancelPending();
          const interrupted = inflight.size;
          for (const c of inflight) c.abort(new Error('the bot is shutting down'));
          log.warn({ interrupted, dropped }, 'grace period over: interrupting answers');
          await within(queue.idle(), INTERRUPT_WAIT_MS);
        }
        state = 'disconnected';
        await client.destroy();
        log.info('disconnected from Discord');
      })();
      return stopPromise;
    },

    state: () => state,
    ping() {
      const p = client.ws.ping;
      return Number.isFinite(p) && p >= 0 ? Math.round(p) : null;
    },
    guilds: () => client.guilds.cache.size,
    onFatal(fn) {
      fatalListeners.push(fn);
    },
  };
}
