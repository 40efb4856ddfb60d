// long: the bot's lifecycle and its event wiring belong together; the handlers it calls live in their own modules.
/**
 * The Discord bot: a discord.js client (imported lazily: ~640 ms), the gate, the per-conversation
 * queue and the handler, with the lifecycle `serve` drives: start (login, ready or a clear
 * error), state/ping/guilds for the status endpoint, fatal gateway closes, and a graceful stop.
 *
 * Nothing is lost: a message the gate accepts is stored at once (before it waits its turn), and
 * at start and after every new gateway session (READY; a RESUME replays what was missed) the bot
 * catches up on its channels — the messages after the last answered one, of the last
 * CATCH_UP_WINDOW_MS, at most CATCH_UP_LIMIT per channel — answering those not answered yet, in
 * order, through the same gate and queue. A message is claimed once per process, so catching up
 * and the live event never answer it twice; one answered by an earlier run is stored as such.
 *
 * The messageCreate listener is the one event boundary: whatever happens in it is logged with
 * context and counted, never thrown into discord.js.
 */
import type { Client, Message } from 'discord.js';
import type { Logger } from 'pino';
import type { Accepted, AnswerService, IncomingQuestion } from '../answer/service.js';
import type { Db } from '../db/backend.js';
import { DependencyError, errorMessage } from '../errors.js';
import { candidateReply, captureReply } from '../learn/candidates.js';
import type { CandidateReply } from '../learn/candidates.js';
import { downvotedByAsker, escalate } from '../learn/escalation.js';
import type { EscalationOutcome, NewEscalation } from '../learn/escalation.js';
import { withDeadline } from '../util/deadline.js';
import { AnswerButtons, StopRegistry } from './buttons.js';
import { registerCommands } from './commands.js';
import { buttonReplyTarget, candidateInput, fetchMessagesAfter, gateInput, openThread, sendTyping } from './discord.js';
import { gate } from './gate.js';
import type { ChannelDirectory, GateMode } from './gate.js';
import { answerMessage } from './handler.js';
import { createInteractionHandler } from './interactions.js';
import type { ConversationReset } from './interactions.js';
import type { Feedback } from '../feedback/service.js';
import type { Metrics } from './metrics.js';
import { SerialByKey } from './order.js';
import { isThreadRefusal, threadName, withChannelFallback } from './threads.js';
import { ConversationQueue } from './queue.js';
import type { QueueJob } from './queue.js';
import { keepTyping } from './typing.js';
import type { Typing } from './typing.js';

export type { ChannelDirectory } from './gate.js';

/** The allowed channels, as the gate sees them, and their ids for catching up. */
export interface BotChannels extends ChannelDirectory {
  get(channelId: string): { mode: GateMode; escalateRole?: string | null } | null;
  ids(): string[];
}

/** Catching up looks back this far (older messages are left alone)… */
export const CATCH_UP_WINDOW_MS = 10 * 60_000;
/** …and reads at most this many messages per channel or thread. */
export const CATCH_UP_LIMIT = 20;

export interface BotDeps {
  token: string;
  /** config.discordApiUrl → discord.js `rest.api` (e.g. `http://127.0.0.1:PORT/api`). */
  apiUrl?: string | null;
  /** Discord's global limit is 50; tests and benchmarks lift it. */
  restGlobalRequestsPerSecond?: number;
  answers: AnswerService;
  channels: BotChannels;
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
  /** How far back catching up looks (default CATCH_UP_WINDOW_MS). */
  catchUpWindowMs?: number;
  /** Messages read per channel when catching up (default CATCH_UP_LIMIT). */
  catchUpLimit?: number;
  /** The gateway shards to run (discord.js `shards` / `shardCount`; default 'auto': every shard). */
  shards?: { shards: number[] | 'auto'; shardCount?: number };
  /** Votes and /forget-me (without it, vote presses are only acknowledged). */
  feedback?: Feedback;
  /** /reset (the `copilot convo reset` service). */
  conversations?: ConversationReset;
  /**
   * Escalation of gaps to a channel's role (none without it), and the role's replies kept as
   * candidate answers (in a channel, within candidateWindowMs of the escalation; default 30 min).
   */
  escalation?: { db: Db; cooldownMs: number; candidateWindowMs?: number };
}

/** One gateway shard of this process, as /status lists it. */
export interface ShardStatus {
  id: number;
  state: DiscordState;
  ping: number | null;
  guilds: number;
}

/** The bot's connection to the Discord gateway, as `serve` and the status endpoint report it. */
export type DiscordState = 'connecting' | 'ready' | 'reconnecting' | 'disconnected';

export interface Bot {
  /** Logs in; resolves when ready; rejects with a DependencyError (bad token, refused intents, timeout). */
  start(): Promise<void>;
  /**
   * Stops taking messages, lets in-flight answers finish within graceMs (default 8000), else
   * interrupts them (messages still waiting stay stored as unanswered); destroys the client.
   */
  stop(graceMs?: number): Promise<void>;
  state(): DiscordState;
  /** Gateway heartbeat latency in ms, or null before the first heartbeat. */
  ping(): number | null;
  guilds(): number;
  /** The application id (from READY), or null before it. */
  applicationId(): string | null;
  /** This process's shards (known once start() has connected them). */
  shards(): ShardStatus[];
  /** Called once when the gateway closes for good after start (e.g. 4004: the token was revoked). */
  onFatal(fn: (err: Error) => void): void;
  /** After start: replaces the slash commands (on that guild only, or globally); returns how many. */
  registerCommands(guildId: string | null): Promise<number>;
  /**
   * Pings the escalation role of an answer's channel in its conversation (see src/learn/escalation.ts):
   * what a gap does, and what a 👎 vote calls. 'none' when the channel has no escalation role.
   */
  escalate(e: Omit<NewEscalation, 'roleId'>): Promise<EscalationOutcome | 'none'>;
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
    return new DependencyError('Discord rejected the bot token (401 Unauthorized): check DISCORD_TOKEN', 'discord_token_invalid', {
      cause: err,
    });
  }
  if (code === 'DisallowedIntents') return new DependencyError(gatewayCloseError(4014).message, 'discord_intents', { cause: err });
  return new DependencyError(`cannot connect to Discord: ${errorMessage(err)}`, 'discord_unavailable', { cause: err });
}

/** The larger of two snowflakes (null counts as nothing). */
function laterId(a: string | null, b: string): string {
  return a !== null && BigInt(a) > BigInt(b) ? a : b;
}

/** Whether `p` settles within `ms`. */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return withDeadline(
    p.then(
      () => true,
      () => true,
    ),
    ms,
    () => false,
  );
}

export async function createBot(deps: BotDeps): Promise<Bot> {
  const { Client, Events, GatewayIntentBits, Options, Routes, SnowflakeUtil } = await import('discord.js');
  const log = deps.log.child({ module: 'bot' });
  const editIntervalMs = deps.editIntervalMs ?? 1200;
  const typingIntervalMs = deps.typingIntervalMs ?? 8000;
  const catchUpWindowMs = deps.catchUpWindowMs ?? CATCH_UP_WINDOW_MS;
  const catchUpLimit = deps.catchUpLimit ?? CATCH_UP_LIMIT;

  const client: Client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    rest: {
      ...(deps.apiUrl ? { api: deps.apiUrl } : {}),
      globalRequestsPerSecond: deps.restGlobalRequestsPerSecond ?? 50,
    },
    allowedMentions: { parse: [], repliedUser: false },
    failIfNotExists: false,
    ...(deps.shards ?? { shards: 'auto' }),
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
  const stops = new StopRegistry();
  const fatalListeners: ((err: Error) => void)[] = [];
  let state: DiscordState = 'disconnected';
  let started = false;
  let stopping = false;
  let fatalFired = false;
  let failStart: ((err: DependencyError) => void) | null = null;
  let stopPromise: Promise<void> | null = null;
  /** Each shard's own state: one reconnecting leaves the others ready. */
  const shardStates = new Map<number, DiscordState>();
  for (const id of deps.shards && deps.shards.shards !== 'auto' ? deps.shards.shards : []) shardStates.set(id, 'disconnected');
  const setShard = (id: number, s: DiscordState) => void (stopping || shardStates.set(id, s));

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
  // A new session (READY; a RESUME replays what was missed instead): what was sent while there
  // was none is caught up on. The channels' jobs go in at READY, ahead of every message the new
  // session delivers, and start reading once the shard has its guilds (ShardReady).
  client.on(Events.Raw, (packet: { t?: string | null }, shardId: number) => {
    if (packet.t === 'READY' && !stopping) beginCatchUp(shardId);
  });
  client.on(Events.ShardReady, (shardId) => {
    setShard(shardId, 'ready');
    if (stopping) return;
    state = 'ready';
    releaseCatchUp(shardId);
    void catchUpThreads(shardId);
  });
  client.on(Events.ShardResume, (shardId, replayed) => {
    setShard(shardId, 'ready');
    if (stopping) return;
    state = 'ready';
    log.info({ shardId, replayed }, 'gateway resumed');
  });
  client.on(Events.ShardReconnecting, (shardId) => {
    setShard(shardId, 'reconnecting');
    if (stopping) return;
    if (state !== 'connecting') state = 'reconnecting';
    log.info({ shardId }, 'gateway reconnecting');
  });
  client.on(Events.ShardDisconnect, (event, shardId) => {
    setShard(shardId, 'disconnected');
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

  /** Message ids accepted in this process (with when), so that no message is handled twice. */
  const claimed = new Map<string, number>();
  let prunedAt = Date.now();
  function claim(messageId: string): boolean {
    if (claimed.has(messageId)) return false;
    const now = Date.now();
    claimed.set(messageId, now);
    // Catching up never looks further back than its window: older claims can go.
    if (now - prunedAt > 60_000) {
      prunedAt = now;
      for (const [id, at] of claimed) if (now - at > 2 * catchUpWindowMs) claimed.delete(id);
    }
    return true;
  }

  async function escalateAnswer(e: Omit<NewEscalation, 'roleId'>): Promise<EscalationOutcome | 'none'> {
    const roleId = deps.channels.get(e.channelId)?.escalateRole;
    if (!roleId || !deps.escalation) return 'none';
    const outcome = await escalate(
      {
        db: deps.escalation.db,
        cooldownMs: deps.escalation.cooldownMs,
        log,
        post: async (conversationId, m) => {
          const body = { content: m.content, allowed_mentions: { parse: m.allowedMentions.parse, roles: m.allowedMentions.roles } };
          const raw = (await client.rest.post(Routes.channelMessages(conversationId), { body })) as { id: string };
          return { id: raw.id };
        },
      },
      { ...e, roleId },
    );
    if (outcome === 'pinged') deps.metrics?.inc('escalations');
    log.info({ conversationId: e.conversationId, answerId: e.answerId, reason: e.reason, outcome }, 'escalation');
    return outcome;
  }

  /**
   * Keeps a role member's message as the candidate answer to the escalation it answers; true when
   * it is one (kept now, or before). A failure is logged and the message is treated as not one.
   */
  async function keepCandidate(reply: CandidateReply): Promise<boolean> {
    if (!deps.escalation) return false;
    const context = { conversationId: reply.conversationId, messageId: reply.discordMessageId, memberId: reply.memberId };
    try {
      const r = await captureReply(deps.escalation.db, reply, deps.escalation.candidateWindowMs);
      if (r.kind === 'captured')
        log.info({ ...context, candidateId: r.candidate.id, escalationId: r.candidate.escalationId }, 'candidate answer kept');
      else log.debug({ ...context, outcome: r.kind }, 'no escalation waits for this reply');
      return r.kind !== 'none';
    } catch (err) {
      log.warn({ ...context, err: errorMessage(err) }, 'could not keep the candidate answer');
      return false;
    }
  }

  /** Each conversation's messages are stored in the order they arrived (catching up holds its place). */
  const storeOrder = new SerialByKey();
  const storeLive = (q: IncomingQuestion) => storeOrder.run(q.conversationId, () => deps.answers.accept(q));

  /** Channels where Discord refused a thread (or a message in one): warned about once each. */
  const threadRefusedIn = new Set<string>();
  function refusedThread(channelId: string, err: unknown): void {
    const detail = { channelId, err: errorMessage(err) };
    if (threadRefusedIn.has(channelId)) return log.info(detail, 'thread refused again: answering in the channel');
    threadRefusedIn.add(channelId);
    log.warn(
      detail,
      'Discord refused a thread here (the bot needs Create Public Threads and Send Messages in Threads): answering in the channel instead',
    );
  }

  /**
   * The gate and, when it accepts, the job that answers the message. The message is stored at
   * once through `store` (and answered later from that row); `live` messages show typing at
   * once, caught-up ones when their turn comes. Null: not for the bot, or already being handled.
   */
  function admit(message: Message, live: boolean, store: (q: IncomingQuestion) => Promise<Accepted>): QueueJob | null {
    if (stopping || !client.user) return null;
    const input = gateInput(message);
    const decision = gate(input, client.user.id, deps.channels);
    // A message of the channel's escalation role may answer an escalated question (src/learn/candidates.ts).
    const reply = deps.escalation ? candidateReply(candidateInput(message, input), client.user.id, deps.channels) : null;
    if (reply && !decision.accept) {
      if (claim(message.id)) void keepCandidate(reply);
      return null;
    }
    if (!decision.accept || !claim(message.id)) return null;
    const receivedAt = performance.now();
    deps.metrics?.inc('messagesSeen');
    const channelId = message.channelId;
    const context = {
      channelId: decision.channelId,
      conversationId: decision.conversationId,
      userId: message.author.id,
      messageId: message.id,
    };
    const question: IncomingQuestion = {
      conversationId: decision.conversationId,
      channelId: decision.channelId,
      parentId: decision.parentId,
      authorId: message.author.id,
      question: decision.question,
      discordMessageId: message.id,
    };
    // A role member's answer to an escalated question is kept as a candidate, not answered (nor stored as a question).
    const storeOrKeep = async (): Promise<Accepted | 'candidate'> =>
      reply && (await keepCandidate(reply)) ? 'candidate' : store(question);
    const stored: Promise<Accepted | 'candidate' | null> = storeOrKeep().catch((err: unknown) => {
      // Answering will try to store it again (and say so if the database is down).
      log.warn({ ...context, err: errorMessage(err) }, 'could not store the message on arrival');
      return null;
    });
    // Mode `thread`: typing shows in the thread once it is open.
    let typingIn = channelId;
    const startTyping = (): Typing =>
      keepTyping(
        () => sendTyping(client, Routes, typingIn),
        typingIntervalMs,
        (err) => log.debug({ ...context, err: errorMessage(err) }, 'typing failed'),
      );
    let typing: Typing | null = live && !decision.openThread && !reply ? startTyping() : null;
    const controller = new AbortController();
    return {
      run: async () => {
        inflight.add(controller);
        try {
          const kept = await stored;
          if (kept === 'candidate') return;
          const accepted = kept;
          if (accepted?.answered) {
            log.info(context, 'already answered');
            return;
          }
          let target = buttonReplyTarget(client, Routes, channelId, message.id);
          if (decision.openThread) {
            let threadId: string | null = null;
            try {
              threadId = await openThread(message, threadName(decision.question));
            } catch (err) {
              if (!isThreadRefusal(err)) throw err;
              refusedThread(channelId, err);
            }
            if (threadId !== null) {
              const inThread = buttonReplyTarget(client, Routes, threadId, null);
              const inChannel = target;
              target = withChannelFallback(
                inThread,
                () => inChannel,
                (err) => refusedThread(channelId, err),
              );
              typingIn = threadId;
            }
          }
          typing ??= startTyping();
          const buttons = new AnswerButtons(target, message.id);
          stops.add(message.id, message.author.id, controller);
          await answerMessage(
            {
              messageId: message.id,
              authorId: message.author.id,
              conversationId: decision.conversationId,
              channelId: decision.channelId,
              parentId: decision.parentId,
              question: decision.question,
              storedMessageId: accepted?.storedId ?? null,
              receivedAt,
            },
            buttons.target,
            typing,
            controller.signal,
            {
              answers: deps.answers,
              metrics: deps.metrics,
              log,
              editIntervalMs,
              onResult: (r) => buttons.end(r.limited ? null : r.messageId),
              onGap: async (result) => {
                if (result.messageId === null) return;
                await escalateAnswer({
                  conversationId: decision.conversationId,
                  channelId: decision.channelId,
                  inThread: decision.parentId !== null,
                  answerId: result.messageId,
                  question: decision.question,
                  questionDiscordId: message.id,
                  reason: 'gap',
                });
              },
            },
          );
          await buttons.finalize((err) => log.warn({ ...context, err: errorMessage(err) }, 'could not update the buttons'));
        } finally {
          stops.delete(message.id);
          inflight.delete(controller);
          typing?.stop();
        }
      },
      cancel: () => {
        typing?.stop();
        log.warn(context, 'not answered before shutdown: left unanswered for the next start to catch up');
      },
    };
  }

  /**
   * Per shard, while its new session is being caught up on: the first message the session
   * delivered live in each conversation. The session delivers everything from that one on, so
   * catching up takes only older messages (a message it read before its live event arrived would
   * otherwise be stored ahead of older live ones still waiting their turn).
   */
  const liveFloors = new Map<number, { floors: Map<string, string>; pending: number; threadsListed: boolean }>();

  function noteLive(message: Message): void {
    const round = liveFloors.get(message.guild?.shardId ?? 0);
    if (round && !round.floors.has(message.channelId)) round.floors.set(message.channelId, message.id);
  }

  function catchUpDone(shardId: number): void {
    const round = liveFloors.get(shardId);
    if (round && round.pending === 0 && round.threadsListed) liveFloors.delete(shardId);
  }

  function onMessage(message: Message): void {
    noteLive(message);
    const job = admit(message, true, storeLive);
    if (job) queue.push(message.channelId, job);
  }

  /** Per shard: lets the catch-up jobs of the session that just began read (its guilds are in). */
  const catchUpGates = new Map<number, () => void>();

  function releaseCatchUp(shardId: number): void {
    catchUpGates.get(shardId)?.();
    catchUpGates.delete(shardId);
  }

  function beginCatchUp(shardId: number): void {
    releaseCatchUp(shardId); // an earlier session that never got ready: its jobs go now
    let open!: () => void;
    const ready = new Promise<void>((resolve) => (open = resolve));
    // discord.js reports ShardReady at the latest after its guild timeout (15 s).
    const timer = setTimeout(open, 30_000);
    timer.unref();
    catchUpGates.set(shardId, () => {
      clearTimeout(timer);
      open();
    });
    liveFloors.set(shardId, { floors: new Map(), pending: 0, threadsListed: false });
    const channels = deps.channels.ids();
    for (const id of channels) catchUp(id, shardId, ready);
    log.info({ shardId, channels: channels.length }, 'new gateway session: catching up');
  }

  /** Threads under this shard's allowed channels that were active lately (known from the database). */
  async function catchUpThreads(shardId: number): Promise<void> {
    const parents = deps.channels.ids().filter((id) => onShard(id, shardId));
    const threads = await deps.answers.recentThreads(parents, catchUpWindowMs).catch((err: unknown) => {
      log.warn({ shardId, err: errorMessage(err) }, 'cannot list recent threads to catch up on');
      return [] as string[];
    });
    for (const id of threads) if (!stopping && !deps.channels.get(id)) catchUp(id, shardId, null);
    const round = liveFloors.get(shardId);
    if (round) round.threadsListed = true;
    catchUpDone(shardId);
  }

  function onShard(channelId: string, shardId: number): boolean {
    const channel = client.channels.cache.get(channelId);
    return channel !== undefined && 'guild' in channel && channel.guild.shardId === shardId;
  }

  /**
   * Catching up on one conversation. It holds two places at once, so that what it finds comes
   * before what arrives meanwhile: in the conversation's store order (filled as soon as the
   * channel is read) and in its queue (a job that puts the found messages' jobs ahead of those
   * waiting). `ready`: an allowed channel reads once its shard is ready, and only if it belongs
   * to that shard. Only messages older than the first one the new session delivered live there
   * are taken (see liveFloors).
   */
  function catchUp(conversationId: string, shardId: number, ready: Promise<void> | null): void {
    const fill = storeOrder.reserve(conversationId);
    const round = liveFloors.get(shardId);
    if (round) round.pending++;
    const found = (async (): Promise<QueueJob[]> => {
      const toStore: { q: IncomingQuestion; resolve: (a: Accepted) => void; reject: (err: unknown) => void }[] = [];
      try {
        if (ready) {
          await ready;
          if (!onShard(conversationId, shardId)) return [];
        }
        if (stopping) return [];
        const context = { channelId: conversationId };
        let messages: Message[];
        try {
          const start = await deps.answers.catchUpStart(conversationId, catchUpWindowMs);
          const notBefore = start.notBefore.getTime();
          const after = laterId(start.after, SnowflakeUtil.generate({ timestamp: notBefore }).toString());
          const read = await fetchMessagesAfter(client, conversationId, after, catchUpLimit);
          const floor = round?.floors.get(conversationId);
          messages = read.filter((m) => m.createdTimestamp >= notBefore && (floor === undefined || BigInt(m.id) < BigInt(floor)));
        } catch (err) {
          log.warn({ ...context, err: errorMessage(err) }, 'cannot catch up on this channel');
          return [];
        }
        const store = (q: IncomingQuestion) => new Promise<Accepted>((resolve, reject) => toStore.push({ q, resolve, reject }));
        const jobs = messages.map((m) => admit(m, false, store)).filter((j): j is QueueJob => j !== null);
        log.info({ ...context, read: messages.length, toAnswer: jobs.length }, 'caught up');
        return jobs;
      } finally {
        fill(async () => {
          for (const s of toStore) await deps.answers.accept(s.q).then(s.resolve, s.reject);
        });
        if (round && liveFloors.get(shardId) === round) {
          round.pending--;
          catchUpDone(shardId);
        }
      }
    })();
    queue.push(conversationId, {
      run: async () => queue.pushFront(conversationId, await found),
      cancel: () => {},
    });
  }

  // A 👎 from the one who asked escalates like a gap (once per answer, within the same cool-down).
  deps.feedback?.onVote(async (answerId, userId, vote) => {
    if (vote !== -1 || !deps.escalation) return;
    const answer = await downvotedByAsker(deps.escalation.db, answerId, userId);
    if (!answer) return;
    const channelId = [answer.parentId, answer.channelId, answer.conversationId].find((id) => id !== null && deps.channels.get(id));
    if (!channelId) return;
    await escalateAnswer({
      conversationId: answer.conversationId,
      channelId,
      inThread: answer.conversationId !== channelId,
      answerId,
      question: answer.question ?? '',
      questionDiscordId: answer.questionDiscordId,
      reason: 'downvote',
    });
  });

  const onInteraction = createInteractionHandler({
    client,
    routes: Routes,
    answers: deps.answers,
    feedback: deps.feedback ?? null,
    conversations: deps.conversations ?? null,
    channels: deps.channels,
    queue,
    inflight,
    stops,
    isStopping: () => stopping,
    metrics: deps.metrics,
    log,
    editIntervalMs,
  });
  client.on(Events.InteractionCreate, (interaction) => void onInteraction(interaction));

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
      for (const id of shardStates.keys()) shardStates.set(id, 'connecting');
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
        for (const shardId of [...catchUpGates.keys()]) releaseCatchUp(shardId);
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
    applicationId: () => client.application?.id ?? null,
    shards() {
      for (const id of client.ws.shards.keys()) if (!shardStates.has(id)) shardStates.set(id, state === 'ready' ? 'ready' : 'connecting');
      return [...shardStates.keys()]
        .sort((a, b) => a - b)
        .map((id) => {
          const p = client.ws.shards.get(id)?.ping;
          return {
            id,
            state: stopping ? 'disconnected' : shardStates.get(id)!,
            ping: typeof p === 'number' && Number.isFinite(p) && p >= 0 ? Math.round(p) : null,
            guilds: client.guilds.cache.filter((g) => g.shardId === id).size,
          };
        });
    },
    escalate: escalateAnswer,
    onFatal(fn) {
      fatalListeners.push(fn);
    },
    async registerCommands(guildId) {
      const applicationId = client.application?.id ?? client.user?.id;
      if (!applicationId) throw new Error('registerCommands() needs a started bot');
      try {
        const count = await registerCommands(client.rest, applicationId, guildId);
        log.info({ commands: count, guildId }, guildId ? 'slash commands registered on the guild' : 'slash commands registered globally');
        return count;
      } catch (err) {
        throw new DependencyError(`cannot register the slash commands: ${errorMessage(err)}`, 'discord_commands', { cause: err });
      }
    },
  };
}
