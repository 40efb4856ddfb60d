/**
 * Fake Discord for tests: REST API v10 and gateway v10 (JSON, uncompressed) on one 127.0.0.1 port,
 * good enough for the real discord.js v14 Client to log in, receive messages, reply, edit and type.
 *
 * Wiring the real client (see discord.test.ts):
 * ```ts
 * const fake = await startFakeDiscord();
 * const client = new Client({
 *   intents: [Guilds, GuildMessages, MessageContent],
 *   rest: { api: fake.apiUrl, globalRequestsPerSecond: 10_000 },
 *   ws: { buildIdentifyThrottler: async () => ({ waitForIdentify: async () => {} }) },
 * });
 * await client.login(fake.token);
 * ```
 * discord.js gets the gateway URL from `GET /gateway/bot` (`ws://127.0.0.1:PORT`), so nothing else
 * needs pointing at the fake.
 *
 * API
 * - `startFakeDiscord(opts?)` → `FakeDiscord`. Options: token, botId, botName, guildId, guildName,
 *   channels (default: one text channel "general"), heartbeatIntervalMs (default 41250),
 *   rateLimit {limit, windowMs} per route bucket (default 50 per 1000 ms; Discord's real edit limit
 *   is about 5 per 5000 ms per channel), dispatchOwnMessages (default true: like Discord, messages the
 *   bot creates/edits/deletes over REST also reach its gateway as MESSAGE_CREATE/UPDATE/DELETE).
 * - `calls`: every REST request, in order: method, path without `/api/v10` (e.g.
 *   `/channels/123/messages`), query, parsed body (JSON, or `payload_json` of multipart + `files`),
 *   headers, `at` (performance.now() ms when received) and the `status` answered.
 * - `messages`: every message (bot's via REST, users' via `userMessage`), by id. `FakeMessage.raw` is
 *   the API JSON; `edits` lists every PATCH with its time; `allowedMentions` / `messageReference` are
 *   what the bot sent.
 * - `userMessage({channelId, content, ...})` makes a user message and dispatches MESSAGE_CREATE to every
 *   session (buffered for sessions that are disconnected but resumable; replayed on RESUME).
 *   Mentions: `<@id>` tokens in content are parsed; `mentionsBot: true` adds the bot even without a
 *   token. `replyToMessageId` makes a type-19 reply with message_reference + referenced_message (and,
 *   like Discord's default "ping on reply", mentions the replied-to author unless `replyPing: false`).
 * - `waitFor(pred, timeoutMs = 5000)`: first REST call (already recorded or future) matching pred.
 * - `failNext(match, spec, times = 1)`: the next `times` requests matching (method, path) get an
 *   injected error: `{status: 429, retryAfter: seconds, global?}` (Retry-After header + JSON
 *   {message, retry_after, global}; a bucket 429 also says X-RateLimit-Remaining: 0) or
 *   `{status: 400|401|403|404|500|502|503|504, code?, message?}`. Note discord.js retries 5xx up to
 *   `rest.retries` (3) times at once, and throws DiscordAPIError on 4xx.
 * - Gateway control: `closeGateway(code)` closes every live connection (4000 etc. keep the session
 *   resumable; 4004/4007/4009/4010–4014 drop it), `requestReconnect()` sends op 7,
 *   `invalidateSession(resumable)` sends op 9, `dispatch(t, d)` sends any event to every session.
 *   `sessions` counts identifies, resumes, heartbeats, invalid sessions; `frames` logs gateway
 *   traffic (op/t/s, direction, time).
 * - `addChannel(ch)`: a text channel (type 0) or a thread (type 11 with parent_id); dispatched as
 *   CHANNEL_CREATE / THREAD_CREATE to live sessions and included in later GUILD_CREATEs.
 * - `close()`: closes sockets, timers and the server.
 *
 * Behaviour worth knowing: Authorization must be `Bot <token>` (else 401; discord.js then fails
 * login with TokenInvalid); IDENTIFY with a wrong token → close 4004. Sessions without the
 * MessageContent intent (1 << 15) get empty content for messages that neither mention the bot nor
 * come from it; without GuildMessages (1 << 9) they get no MESSAGE_* events. Content over 2000
 * characters → 400 (50035); an empty message → 400 (50006); replying to an unknown message with
 * fail_if_not_exists → 400 (50035); editing someone else's message → 403 (50005). Compression
 * (`compress` query, identify `compress`) is not supported: requests for it are ignored and JSON
 * text frames are sent. GUILD_CREATE (and anything after READY) is held back ~20 ms so discord.js
 * handles READY first (it awaits more on READY than on other dispatches). Responses carry honest
 * X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket headers; 204s carry no content-type.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, WebSocket } from 'ws';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonObject = Record<string, any>;

// ---------------------------------------------------------------------------------------------
// Snowflakes

const DISCORD_EPOCH = 1420070400000n;
let lastSnowflake = 0n;

/** A Discord snowflake for `at` (ms since 1970), unique and increasing within this process. */
export function snowflake(at: number = Date.now()): string {
  let id = ((BigInt(Math.floor(at)) - DISCORD_EPOCH) << 22n) | (1n << 17n) | (BigInt(process.pid & 31) << 12n);
  if (id <= lastSnowflake) id = lastSnowflake + 1n;
  lastSnowflake = id;
  return id.toString();
}

/** The creation time (ms since 1970) encoded in a snowflake. */
export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}

// ---------------------------------------------------------------------------------------------
// Types

export interface FakeChannelInit {
  id?: string;
  /** 0 = guild text (default), 11 = public thread, 12 = private thread, 5 = announcement. */
  type?: number;
  name?: string;
  /** Required for threads: the text channel they belong to. */
  parent_id?: string | null;
  topic?: string | null;
  [k: string]: unknown;
}

/** API JSON of a channel as the fake stores and serves it. */
export interface FakeChannel extends JsonObject {
  id: string;
  type: number;
  name: string;
  guild_id: string;
  parent_id: string | null;
}

export interface FakeUser extends JsonObject {
  id: string;
  username: string;
  global_name: string | null;
  discriminator: string;
  avatar: string | null;
  bot?: boolean;
}

export interface RestCall {
  method: string;
  /** Path without the `/api/v10` prefix and without query, e.g. `/channels/123/messages`. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body; for multipart, the parsed `payload_json` part. Undefined when empty. */
  body: JsonObject | undefined;
  /** Multipart file parts, if any. */
  files?: { field: string; filename: string; contentType: string; size: number }[];
  headers: http.IncomingHttpHeaders;
  /** performance.now() when the request had been fully received. */
  at: number;
  /** Status code the fake answered with. */
  status: number;
}

export interface FakeMessageEdit {
  content: string;
  at: number;
  body: JsonObject;
}

export interface FakeMessage {
  id: string;
  channelId: string;
  guildId: string;
  authorId: string;
  /** True for messages the bot created over REST. */
  fromBot: boolean;
  /** Current content (updated by edits). */
  content: string;
  /** performance.now() at creation. */
  at: number;
  /** `allowed_mentions` of the create request (bot messages). */
  allowedMentions?: unknown;
  /** `message_reference` of the create request (bot messages) or of the injected reply. */
  messageReference?: JsonObject;
  /** Every PATCH, in order. */
  edits: FakeMessageEdit[];
  deleted: boolean;
  /** API JSON (what REST returns and the gateway dispatches). */
  raw: JsonObject;
}

export interface UserMessageOptions {
  channelId: string;
  content: string;
  /** Default: the fake's default user (`fake.userId`). */
  authorId?: string;
  authorName?: string;
  authorBot?: boolean;
  /** Put the bot in `mentions` even if the content has no `<@botId>` token. */
  mentionsBot?: boolean;
  replyToMessageId?: string;
  /** Whether a reply pings (mentions) the replied-to author. Default true, as in Discord's client. */
  replyPing?: boolean;
  /** Message type; default 0, or 19 for replies. */
  type?: number;
  /** Extra API fields merged into the message JSON (e.g. attachments, embeds). */
  extra?: JsonObject;
}

export type FailSpec =
  | { status: 429; retryAfter: number; global?: boolean }
  | { status: 400 | 401 | 403 | 404 | 500 | 502 | 503 | 504; code?: number; message?: string };

export interface GatewayFrame {
  dir: 'in' | 'out';
  op: number;
  t?: string | null;
  s?: number | null;
  at: number;
}

export interface FakeDiscordOptions {
  token?: string;
  botId?: string;
  botName?: string;
  guildId?: string;
  guildName?: string;
  channels?: FakeChannelInit[];
  heartbeatIntervalMs?: number;
  rateLimit?: { limit: number; windowMs: number };
  dispatchOwnMessages?: boolean;
  /** Wait this long after IDENTIFY before READY (to observe a client that is not ready yet). */
  readyDelayMs?: number;
}

export interface FakeDiscord {
  /** `http://127.0.0.1:PORT/api` → discord.js `rest: { api }`. */
  apiUrl: string;
  /** `ws://127.0.0.1:PORT` (what GET /gateway/bot returns). */
  gatewayUrl: string;
  token: string;
  botId: string;
  guildId: string;
  /** A default human author for `userMessage`. */
  userId: string;
  /** Id of the first text channel. */
  channelId: string;
  channels: Map<string, FakeChannel>;
  users: Map<string, FakeUser>;
  calls: RestCall[];
  messages: Map<string, FakeMessage>;
  frames: GatewayFrame[];
  sessions: { identifies: number; resumes: number; heartbeats: number; invalidSessions: number };
  addChannel(ch: FakeChannelInit): FakeChannel;
  userMessage(o: UserMessageOptions): Promise<FakeMessage>;
  waitFor(pred: (c: RestCall) => boolean, timeoutMs?: number): Promise<RestCall>;
  failNext(match: (method: string, path: string) => boolean, spec: FailSpec, times?: number): void;
  closeGateway(code: number, reason?: string): void;
  requestReconnect(): void;
  invalidateSession(resumable: boolean): void;
  dispatch(t: string, d: unknown): Promise<void>;
  /** Number of sessions with a live, ready connection. */
  liveSessions(): number;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Constants

const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  PresenceUpdate: 3,
  VoiceStateUpdate: 4,
  Resume: 6,
  Reconnect: 7,
  RequestGuildMembers: 8,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const;

const INTENT_GUILD_MESSAGES = 1 << 9;
const INTENT_MESSAGE_CONTENT = 1 << 15;
/** Close codes after which Discord does not let the session be resumed. */
const NON_RESUMABLE_CLOSE = new Set([1000, 1001, 4004, 4007, 4009, 4010, 4011, 4012, 4013, 4014]);
/** @everyone: view, send, embed, attach, history, reactions, external emojis, threads. */
const EVERYONE_PERMISSIONS = (
  (1n << 6n) | (1n << 10n) | (1n << 11n) | (1n << 14n) | (1n << 15n) | (1n << 16n) | (1n << 18n) |
  (1n << 35n) | (1n << 36n) | (1n << 38n)
).toString();
const MAX_LOG = 5000;

// ---------------------------------------------------------------------------------------------
// Internal state types

interface Session {
  id: string;
  token: string;
  intents: number;
  shard: [number, number];
  seq: number;
  log: JsonObject[];
  conn: Conn | null;
}

interface Conn {
  ws: WebSocket;
  session: Session | null;
  /** Frames waiting while the connection is held back after READY. */
  held: string[] | null;
  serverCloseCode?: number;
}

interface Bucket {
  count: number;
  resetAt: number;
}

interface Failure {
  match: (method: string, path: string) => boolean;
  spec: FailSpec;
  remaining: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly payload: JsonObject,
  ) {
    super(String(payload.message));
  }
}

const notFound = (message = '404: Not Found', code = 0) => new HttpError(404, { message, code });

function formError(field: string, code: string, message: string): HttpError {
  return new HttpError(400, {
    message: 'Invalid Form Body',
    code: 50035,
    errors: { [field]: { _errors: [{ code, message }] } },
  });
}

function iso(ms: number = Date.now()): string {
  return new Date(ms).toISOString();
}

/** Route template (ids → :id, major parameter kept) and its major parameter, as Discord buckets them. */
function bucketRoute(path: string): { template: string; major: string } {
  const parts = path.split('/');
  let major = 'global';
  const out = parts.map((p, i) => {
    if (!/^\d{16,21}$/.test(p)) return p;
    const prev = parts[i - 1];
    if (i === 2 && (prev === 'channels' || prev === 'guilds' || prev === 'webhooks')) {
      major = p;
      return p;
    }
    return ':id';
  });
  return { template: out.join('/').replace(/\/reactions\/[^/]+/, '/reactions/:emoji'), major };
}

function hashOf(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

function parseMultipart(buf: Buffer, contentType: string): { body?: JsonObject; files: NonNullable<RestCall['files']> } {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const files: NonNullable<RestCall['files']> = [];
  if (!m) return { files };
  const boundary = `--${m[1] ?? m[2]}`;
  const text = buf.toString('latin1');
  let body: JsonObject | undefined;
  for (const part of text.split(boundary).slice(1)) {
    if (part.startsWith('--')) break;
    const sep = part.indexOf('\r\n\r\n');
    if (sep < 0) continue;
    const head = part.slice(0, sep);
    const data = part.slice(sep + 4).replace(/\r\n$/, '');
    const name = /name="([^"]*)"/i.exec(head)?.[1] ?? '';
    const filename = /filename="([^"]*)"/i.exec(head)?.[1];
    if (filename !== undefined) {
      const ct = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? 'application/octet-stream';
      files.push({ field: name, filename, contentType: ct, size: Buffer.byteLength(data, 'latin1') });
    } else if (name === 'payload_json') {
      try {
        body = JSON.parse(Buffer.from(data, 'latin1').toString('utf8')) as JsonObject;
      } catch {
        /* leave undefined */
      }
    }
  }
  return { body, files };
}

// ---------------------------------------------------------------------------------------------

export async function startFakeDiscord(opts: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const token = opts.token ?? 'fake-bot-token.' + snowflake();
  const botId = opts.botId ?? snowflake();
  const guildId = opts.guildId ?? snowflake();
  const heartbeatInterval = opts.heartbeatIntervalMs ?? 41_250;
  const rateLimit = opts.rateLimit ?? { limit: 50, windowMs: 1000 };
  const dispatchOwn = opts.dispatchOwnMessages ?? true;
  const startedAt = iso();

  const users = new Map<string, FakeUser>();
  const channels = new Map<string, FakeChannel>();
  const messages = new Map<string, FakeMessage>();
  const calls: RestCall[] = [];
  const frames: GatewayFrame[] = [];
  const sessions = new Map<string, Session>();
  const conns = new Set<Conn>();
  const stats = { identifies: 0, resumes: 0, heartbeats: 0, invalidSessions: 0 };
  const buckets = new Map<string, Bucket>();
  const failures: Failure[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const callWaiters = new Set<(c: RestCall) => void>();
  const sockets = new Set<Socket>();
  let closed = false;

  const botUser: FakeUser = {
    id: botId,
    username: opts.botName ?? 'copilot',
    global_name: null,
    discriminator: '0',
    avatar: null,
    bot: true,
    verified: true,
    mfa_enabled: false,
    flags: 0,
    public_flags: 0,
  };
  users.set(botId, botUser);
  const userId = snowflake();
  ensureUser(userId, 'alice', false);

  function ensureUser(id: string, name?: string, bot?: boolean): FakeUser {
    let u = users.get(id);
    if (!u) {
      u = {
        id,
        username: name ?? `user${id.slice(-4)}`,
        global_name: name ?? null,
        discriminator: '0',
        avatar: null,
        public_flags: 0,
        flags: 0,
      };
      if (bot) u.bot = true;
      users.set(id, u);
    } else {
      if (name) u.username = name;
      if (bot !== undefined) {
        if (bot) u.bot = true;
        else delete u.bot;
      }
    }
    return u;
  }

  function memberJson(joinedAt = startedAt): JsonObject {
    return {
      roles: [],
      nick: null,
      avatar: null,
      banner: null,
      premium_since: null,
      joined_at: joinedAt,
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
      communication_disabled_until: null,
    };
  }

  function addChannelInternal(init: FakeChannelInit): FakeChannel {
    const id = init.id ?? snowflake();
    const type = init.type ?? 0;
    const isThread = type === 10 || type === 11 || type === 12;
    const base: JsonObject = {
      id,
      type,
      guild_id: guildId,
      name: init.name ?? (isThread ? `thread-${id.slice(-4)}` : `channel-${id.slice(-4)}`),
      parent_id: init.parent_id ?? null,
      last_message_id: null,
      rate_limit_per_user: 0,
      flags: 0,
    };
    if (isThread) {
      if (!init.parent_id || !channels.has(init.parent_id)) {
        throw new Error(`fake discord: thread ${id} needs parent_id of an existing channel`);
      }
      Object.assign(base, {
        owner_id: userId,
        message_count: 0,
        total_message_sent: 0,
        member_count: 1,
        thread_metadata: {
          archived: false,
          auto_archive_duration: 1440,
          archive_timestamp: iso(),
          locked: false,
          create_timestamp: iso(),
        },
      });
    } else {
      Object.assign(base, {
        position: channels.size,
        permission_overwrites: [],
        nsfw: false,
        topic: init.topic ?? null,
      });
    }
    const ch = { ...base, ...init, id, type, guild_id: guildId } as FakeChannel;
    if (ch.parent_id === undefined) ch.parent_id = null;
    channels.set(id, ch);
    return ch;
  }

  for (const c of opts.channels ?? [{ name: 'general', type: 0 }]) addChannelInternal(c);
  const firstText = [...channels.values()].find((c) => c.type === 0);

  function guildJson(): JsonObject {
    const all = [...channels.values()];
    const isThread = (c: FakeChannel) => c.type === 10 || c.type === 11 || c.type === 12;
    return {
      id: guildId,
      name: opts.guildName ?? 'Fake Guild',
      icon: null,
      splash: null,
      discovery_splash: null,
      banner: null,
      description: null,
      owner_id: userId,
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      premium_tier: 0,
      premium_subscription_count: 0,
      premium_progress_bar_enabled: false,
      preferred_locale: 'en-US',
      system_channel_id: null,
      system_channel_flags: 0,
      rules_channel_id: null,
      public_updates_channel_id: null,
      safety_alerts_channel_id: null,
      vanity_url_code: null,
      application_id: null,
      max_members: 500000,
      max_video_channel_users: 25,
      features: [],
      roles: [
        {
          id: guildId,
          name: '@everyone',
          permissions: EVERYONE_PERMISSIONS,
          position: 0,
          color: 0,
          hoist: false,
          managed: false,
          mentionable: false,
          icon: null,
          unicode_emoji: null,
          flags: 0,
        },
      ],
      emojis: [],
      stickers: [],
      joined_at: startedAt,
      large: false,
      unavailable: false,
      member_count: 2,
      members: [{ ...memberJson(), user: botUser }],
      channels: all.filter((c) => !isThread(c)),
      threads: all.filter(isThread),
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  // -------------------------------------------------------------------------------------------
  // HTTP server

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handleRest(req, res, Buffer.concat(chunks)).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: `fake discord: ${String(err)}`, code: 0 }));
        }
      });
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const wss = new WebSocketServer({ server });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  const gatewayUrl = `ws://127.0.0.1:${port}`;

  function record(call: RestCall): void {
    calls.push(call);
    for (const w of [...callWaiters]) w(call);
  }

  async function handleRest(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): Promise<void> {
    const at = performance.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', base);
    const m = /^\/api(?:\/v(\d+))?(\/.*)?$/.exec(url.pathname);
    const path = m?.[2] ?? url.pathname;
    const query = Object.fromEntries(url.searchParams);
    const ct = String(req.headers['content-type'] ?? '');
    let body: JsonObject | undefined;
    let files: RestCall['files'];
    if (raw.length > 0) {
      if (ct.startsWith('multipart/form-data')) {
        const mp = parseMultipart(raw, ct);
        body = mp.body;
        files = mp.files;
      } else {
        try {
          body = JSON.parse(raw.toString('utf8')) as JsonObject;
        } catch {
          body = { _raw: raw.toString('utf8') };
        }
      }
    }
    const call: RestCall = { method, path, query, body, headers: req.headers, at, status: 0 };
    if (files) call.files = files;
    const { template, major } = bucketRoute(path);
    const bucketKey = `${method} ${template}`;
    const bucketHash = hashOf(bucketKey);

    const send = (status: number, payload?: unknown, extraHeaders: Record<string, string> = {}) => {
      call.status = status;
      const headers: Record<string, string> = { ...extraHeaders };
      if (!('x-ratelimit-bucket' in headers) && status !== 404 && m) {
        Object.assign(headers, rateHeaders(`${bucketKey} ${major}`, bucketHash, false));
      }
      let data: string | undefined;
      if (payload !== undefined && status !== 204) {
        data = JSON.stringify(payload);
        headers['content-type'] = 'application/json';
      }
      res.writeHead(status, headers);
      res.end(data);
      record(call);
    };

    try {
      if (!m || (m[1] !== undefined && m[1] !== '10')) throw notFound();
      if (!(method === 'GET' && path === '/gateway')) {
        if (req.headers.authorization !== `Bot ${token}`) {
          throw new HttpError(401, { message: '401: Unauthorized', code: 0 });
        }
      }
      // injected failures
      const f = failures.find((x) => x.remaining > 0 && x.match(method, path));
      if (f) {
        f.remaining--;
        if (f.spec.status === 429) {
          const ra = f.spec.retryAfter;
          const headers: Record<string, string> = { 'retry-after': String(ra) };
          if (f.spec.global) {
            headers['x-ratelimit-global'] = 'true';
            headers['x-ratelimit-scope'] = 'global';
          } else {
            headers['x-ratelimit-scope'] = 'user';
            headers['x-ratelimit-limit'] = String(rateLimit.limit);
            headers['x-ratelimit-remaining'] = '0';
            headers['x-ratelimit-reset'] = ((Date.now() + ra * 1000) / 1000).toFixed(3);
            headers['x-ratelimit-reset-after'] = ra.toFixed(3);
            headers['x-ratelimit-bucket'] = bucketHash;
          }
          send(429, { message: 'You are being rate limited.', retry_after: ra, global: !!f.spec.global }, headers);
        } else {
          const defaults: Record<number, string> = {
            400: '400: Bad Request',
            401: '401: Unauthorized',
            403: 'Missing Permissions',
            404: '404: Not Found',
            500: '500: Internal Server Error',
            502: '502: Bad Gateway',
            503: '503: Service Unavailable',
            504: '504: Gateway Timeout',
          };
          const code = f.spec.code ?? (f.spec.status === 403 ? 50013 : 0);
          send(f.spec.status, { message: f.spec.message ?? defaults[f.spec.status], code });
        }
        return;
      }
      // real rate limit buckets
      const bk = `${bucketKey} ${major}`;
      const now = Date.now();
      let b = buckets.get(bk);
      if (!b || now >= b.resetAt) {
        b = { count: 0, resetAt: now + rateLimit.windowMs };
        buckets.set(bk, b);
      }
      if (b.count >= rateLimit.limit) {
        const ra = (b.resetAt - now) / 1000;
        send(
          429,
          { message: 'You are being rate limited.', retry_after: ra, global: false },
          { ...rateHeaders(bk, bucketHash, true), 'retry-after': ra.toFixed(3), 'x-ratelimit-scope': 'user' },
        );
        return;
      }
      b.count++;
      const out = route(method, path, query, body);
      if (out.status === 204) send(204);
      else send(out.status, out.payload);
      out.after?.();
    } catch (err) {
      if (err instanceof HttpError) send(err.status, err.payload);
      else throw err;
    }
  }

  function rateHeaders(bk: string, hash: string, exhausted: boolean): Record<string, string> {
    const now = Date.now();
    const b = buckets.get(bk);
    const resetAt = b && now < b.resetAt ? b.resetAt : now + rateLimit.windowMs;
    const remaining = exhausted ? 0 : Math.max(0, rateLimit.limit - (b && now < b.resetAt ? b.count : 0));
    return {
      'x-ratelimit-limit': String(rateLimit.limit),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': (resetAt / 1000).toFixed(3),
      'x-ratelimit-reset-after': ((resetAt - now) / 1000).toFixed(3),
      'x-ratelimit-bucket': hash,
    };
  }

  type RouteResult = { status: number; payload?: unknown; after?: () => void };

  function getChannel(id: string): FakeChannel {
    const ch = channels.get(id);
    if (!ch) throw notFound('Unknown Channel', 10003);
    return ch;
  }

  function getMessage(channelId: string, id: string): FakeMessage {
    const msg = messages.get(id);
    if (!msg || msg.deleted || msg.channelId !== channelId) throw notFound('Unknown Message', 10008);
    return msg;
  }

  function route(method: string, path: string, query: Record<string, string>, body: JsonObject | undefined): RouteResult {
    const seg = path.split('/').filter(Boolean);
    const is = (...pattern: string[]) =>
      seg.length === pattern.length && pattern.every((p, i) => p === '*' || p === seg[i]);

    if (method === 'GET' && is('gateway', 'bot')) {
      return {
        status: 200,
        payload: {
          url: gatewayUrl,
          shards: 1,
          session_start_limit: {
            total: 1000,
            remaining: Math.max(0, 1000 - stats.identifies),
            reset_after: 14_400_000,
            max_concurrency: 1,
          },
        },
      };
    }
    if (method === 'GET' && is('gateway')) return { status: 200, payload: { url: gatewayUrl } };
    if (method === 'GET' && is('users', '@me')) return { status: 200, payload: botUser };
    if (method === 'GET' && is('users', '*')) {
      const u = users.get(seg[1]!);
      if (!u) throw notFound('Unknown User', 10013);
      return { status: 200, payload: u };
    }
    if (method === 'GET' && (is('applications', '@me') || is('oauth2', 'applications', '@me'))) {
      return {
        status: 200,
        payload: { id: botId, name: botUser.username, icon: null, description: '', bot_public: true, bot_require_code_grant: false, flags: 0, bot: botUser, owner: users.get(userId) },
      };
    }
    if (method === 'GET' && is('users', '@me', 'guilds')) {
      return { status: 200, payload: [{ id: guildId, name: opts.guildName ?? 'Fake Guild', icon: null, owner: false, permissions: EVERYONE_PERMISSIONS, features: [] }] };
    }
    if (seg[0] === 'guilds') {
      if (seg[1] !== guildId) throw notFound('Unknown Guild', 10004);
      if (method === 'GET' && is('guilds', '*')) {
        const { members: _m, channels: _c, threads: _t, presences: _p, voice_states: _v, ...g } = guildJson();
        return { status: 200, payload: g };
      }
      if (method === 'GET' && is('guilds', '*', 'channels')) return { status: 200, payload: guildJson().channels };
      if (method === 'GET' && is('guilds', '*', 'threads', 'active')) {
        return { status: 200, payload: { threads: guildJson().threads, members: [] } };
      }
      if (method === 'GET' && is('guilds', '*', 'members', '*')) {
        const u = users.get(seg[3]!);
        if (!u) throw notFound('Unknown Member', 10007);
        return { status: 200, payload: { ...memberJson(), user: u } };
      }
      throw notFound();
    }
    if (seg[0] === 'channels' && seg[1]) {
      const ch = getChannel(seg[1]);
      if (method === 'GET' && is('channels', '*')) return { status: 200, payload: ch };
      if (method === 'POST' && is('channels', '*', 'typing')) return { status: 204 };
      if (method === 'POST' && is('channels', '*', 'messages')) return createBotMessage(ch, body ?? {});
      if (method === 'GET' && is('channels', '*', 'messages')) {
        let list = [...messages.values()].filter((x) => x.channelId === ch.id && !x.deleted);
        const cmp = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);
        list.sort((a, b) => cmp(b.id, a.id)); // newest first
        const limit = Math.min(100, Math.max(1, Number(query.limit ?? 50) || 50));
        if (query.before) list = list.filter((x) => cmp(x.id, query.before!) < 0);
        if (query.after) list = list.filter((x) => cmp(x.id, query.after!) > 0).slice(-limit);
        return { status: 200, payload: list.slice(0, limit).map((x) => x.raw) };
      }
      if (seg[2] === 'messages' && seg[3]) {
        const msg = getMessage(ch.id, seg[3]);
        if (method === 'GET' && seg.length === 4) return { status: 200, payload: msg.raw };
        if (method === 'PATCH' && seg.length === 4) return editBotMessage(msg, body ?? {});
        if (method === 'DELETE' && seg.length === 4) {
          msg.deleted = true;
          return {
            status: 204,
            after: () => void broadcastMessageEvent('MESSAGE_DELETE', { id: msg.id, channel_id: msg.channelId, guild_id: guildId }, msg, dispatchOwn),
          };
        }
        if (seg[4] === 'reactions' && (method === 'PUT' || method === 'DELETE')) return { status: 204 };
      }
      throw notFound();
    }
    throw notFound();
  }

  function mentionsFromContent(content: string): FakeUser[] {
    const out = new Map<string, FakeUser>();
    for (const mm of content.matchAll(/<@!?(\d{16,21})>/g)) {
      const u = users.get(mm[1]!);
      if (u) out.set(u.id, u);
    }
    return [...out.values()];
  }

  function referenceFor(channel: FakeChannel, ref: JsonObject | undefined): { reference?: JsonObject; referenced?: FakeMessage } {
    if (!ref || ref.message_id === undefined) return {};
    const refChannel = String(ref.channel_id ?? channel.id);
    const target = messages.get(String(ref.message_id));
    if (!target || target.deleted || target.channelId !== refChannel) {
      if (ref.fail_if_not_exists === false) return {};
      throw formError('message_reference', 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', 'Unknown message');
    }
    return {
      reference: { type: ref.type ?? 0, channel_id: target.channelId, message_id: target.id, guild_id: guildId },
      referenced: target,
    };
  }

  function checkContent(body: JsonObject, creating: boolean): void {
    const content = body.content;
    if (typeof content === 'string' && content.length > 2000) {
      throw formError('content', 'BASE_TYPE_MAX_LENGTH', 'Must be 2000 or fewer in length.');
    }
    if (creating) {
      const has = (k: string) => Array.isArray(body[k]) && body[k].length > 0;
      if (!(typeof content === 'string' && content.length > 0) && !has('embeds') && !has('attachments') && !has('components') && !has('sticker_ids') && !body.poll) {
        throw new HttpError(400, { message: 'Cannot send an empty message', code: 50006 });
      }
    }
  }

  function createBotMessage(ch: FakeChannel, body: JsonObject): RouteResult {
    checkContent(body, true);
    if (body.enforce_nonce && body.nonce !== undefined) {
      const dup = [...messages.values()].find((x) => x.fromBot && x.channelId === ch.id && x.raw.nonce === body.nonce);
      if (dup) return { status: 200, payload: dup.raw };
    }
    const { reference, referenced } = referenceFor(ch, body.message_reference);
    const content = typeof body.content === 'string' ? body.content : '';
    // Discord: without allowed_mentions every parsed mention pings and a reply pings its author;
    // with allowed_mentions, replied_user defaults to false.
    const am = body.allowed_mentions as JsonObject | undefined;
    const mentions = mentionsFromContent(content);
    if (referenced && (am === undefined || am.replied_user === true)) {
      const a = users.get(referenced.authorId);
      if (a && !mentions.some((u) => u.id === a.id)) mentions.push(a);
    }
    const msg = makeMessage({
      channel: ch,
      author: botUser,
      content,
      type: reference ? 19 : 0,
      mentions,
      reference,
      referenced,
      extra: {
        embeds: Array.isArray(body.embeds) ? body.embeds : [],
        components: Array.isArray(body.components) ? body.components : [],
        flags: typeof body.flags === 'number' ? body.flags : 0,
        tts: !!body.tts,
        ...(body.nonce !== undefined ? { nonce: body.nonce } : {}),
      },
      fromBot: true,
    });
    if (am !== undefined) msg.allowedMentions = am;
    if (body.message_reference) msg.messageReference = body.message_reference as JsonObject;
    return { status: 200, payload: msg.raw, after: () => void broadcastMessageEvent('MESSAGE_CREATE', msg.raw, msg, dispatchOwn) };
  }

  function editBotMessage(msg: FakeMessage, body: JsonObject): RouteResult {
    if (!msg.fromBot) {
      throw new HttpError(403, { message: 'Cannot edit a message authored by another user', code: 50005 });
    }
    checkContent(body, false);
    if ('content' in body) {
      msg.content = typeof body.content === 'string' ? body.content : '';
      msg.raw.content = msg.content;
      const ref = msg.raw.referenced_message as JsonObject | undefined;
      const mentions = mentionsFromContent(msg.content);
      if (ref && (msg.raw.mentions as FakeUser[]).some((u) => u.id === ref.author?.id)) {
        if (!mentions.some((u) => u.id === ref.author.id)) mentions.push(ref.author as FakeUser);
      }
      msg.raw.mentions = mentions;
    }
    for (const k of ['embeds', 'components', 'flags', 'attachments'] as const) {
      if (k in body && body[k] !== null && body[k] !== undefined) msg.raw[k] = body[k];
    }
    msg.raw.edited_timestamp = iso();
    msg.edits.push({ content: msg.content, at: performance.now(), body });
    return { status: 200, payload: msg.raw, after: () => void broadcastMessageEvent('MESSAGE_UPDATE', msg.raw, msg, dispatchOwn) };
  }

  function makeMessage(o: {
    channel: FakeChannel;
    author: FakeUser;
    content: string;
    type: number;
    mentions: FakeUser[];
    reference?: JsonObject;
    referenced?: FakeMessage;
    extra?: JsonObject;
    fromBot: boolean;
  }): FakeMessage {
    const now = Date.now();
    const id = snowflake(now);
    const raw: JsonObject = {
      id,
      type: o.type,
      channel_id: o.channel.id,
      guild_id: guildId,
      author: o.author,
      member: memberJson(),
      content: o.content,
      timestamp: iso(now),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: o.mentions,
      mention_roles: [],
      attachments: [],
      embeds: [],
      components: [],
      pinned: false,
      flags: 0,
      ...(o.extra ?? {}),
    };
    if (o.reference) {
      raw.message_reference = o.reference;
      raw.referenced_message = o.referenced ? { ...o.referenced.raw, referenced_message: undefined } : null;
      if (raw.referenced_message) delete raw.referenced_message.referenced_message;
    }
    const isThread = o.channel.type === 11 || o.channel.type === 12 || o.channel.type === 10;
    if (isThread) {
      o.channel.message_count = (o.channel.message_count ?? 0) + 1;
      o.channel.total_message_sent = (o.channel.total_message_sent ?? 0) + 1;
      raw.position = o.channel.total_message_sent - 1;
    }
    o.channel.last_message_id = id;
    const msg: FakeMessage = {
      id,
      channelId: o.channel.id,
      guildId,
      authorId: o.author.id,
      fromBot: o.fromBot,
      content: o.content,
      at: performance.now(),
      edits: [],
      deleted: false,
      raw,
    };
    if (o.reference) msg.messageReference = o.reference;
    messages.set(id, msg);
    return msg;
  }

  // -------------------------------------------------------------------------------------------
  // Gateway

  function logFrame(dir: 'in' | 'out', p: JsonObject): void {
    if (frames.length >= MAX_LOG) frames.shift();
    frames.push({ dir, op: p.op, t: p.t ?? null, s: p.s ?? null, at: performance.now() });
  }

  function rawSend(conn: Conn, payload: JsonObject): Promise<void> {
    if (conn.ws.readyState !== WebSocket.OPEN) return Promise.resolve();
    logFrame('out', payload);
    const text = JSON.stringify(payload);
    if (conn.held) {
      conn.held.push(text);
      return Promise.resolve();
    }
    return new Promise((resolve) => conn.ws.send(text, () => resolve()));
  }

  function later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  }

  /** Stamp a dispatch with the session's next sequence number, log it, send it if connected. */
  function sessionDispatch(s: Session, t: string, d: unknown): Promise<void> {
    s.seq++;
    const payload = { op: Op.Dispatch, t, s: s.seq, d };
    s.log.push(payload);
    if (s.log.length > MAX_LOG) s.log.shift();
    if (s.conn) return rawSend(s.conn, payload);
    return Promise.resolve();
  }

  async function broadcastMessageEvent(t: string, d: JsonObject, msg: FakeMessage, includeBotOwn: boolean): Promise<void> {
    if (msg.fromBot && !includeBotOwn) return;
    const mentionsBot = (msg.raw.mentions as FakeUser[]).some((u) => u.id === botId);
    const ps: Promise<void>[] = [];
    for (const s of sessions.values()) {
      if (!(s.intents & INTENT_GUILD_MESSAGES)) continue;
      let data = d;
      if (t !== 'MESSAGE_DELETE' && !(s.intents & INTENT_MESSAGE_CONTENT) && !msg.fromBot && !mentionsBot) {
        data = { ...d, content: '', embeds: [], attachments: [], components: [] };
        delete data.poll;
      }
      ps.push(sessionDispatch(s, t, data));
    }
    await Promise.all(ps);
  }

  function closeConn(conn: Conn, code: number, reason = ''): void {
    conn.serverCloseCode = code;
    if (conn.ws.readyState === WebSocket.OPEN || conn.ws.readyState === WebSocket.CONNECTING) {
      conn.ws.close(code, reason);
    }
    detach(conn, code);
  }

  /** Unlink a connection from its session; drop the session if the close code forbids resuming. */
  function detach(conn: Conn, code: number): void {
    const s = conn.session;
    if (!s) return;
    if (s.conn === conn) s.conn = null;
    conn.session = null;
    if (NON_RESUMABLE_CLOSE.has(code)) sessions.delete(s.id);
  }

  function readyPayload(s: Session): JsonObject {
    return {
      v: 10,
      user_settings: {},
      user: botUser,
      guilds: [{ id: guildId, unavailable: true }],
      session_id: s.id,
      session_type: 'normal',
      resume_gateway_url: gatewayUrl,
      shard: s.shard,
      application: { id: botId, flags: 0 },
      private_channels: [],
      relationships: [],
      presences: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
      _trace: ['["fake-discord",{"micros":0}]'],
    };
  }

  function onGatewayMessage(conn: Conn, text: string): void {
    let p: JsonObject;
    try {
      p = JSON.parse(text) as JsonObject;
      if (typeof p !== 'object' || p === null || typeof p.op !== 'number') throw new Error('no op');
    } catch {
      closeConn(conn, 4002, 'Error while decoding payload.');
      return;
    }
    logFrame('in', p);
    const d = p.d as JsonObject;
    switch (p.op) {
      case Op.Heartbeat:
        stats.heartbeats++;
        void rawSendNow(conn, { op: Op.HeartbeatAck });
        return;
      case Op.Identify: {
        if (conn.session) return closeConn(conn, 4005, 'Already authenticated.');
        if (!d || typeof d.token !== 'string' || d.token.replace(/^Bot\s+/i, '') !== token) {
          return closeConn(conn, 4004, 'Authentication failed.');
        }
        if (typeof d.intents !== 'number') return closeConn(conn, 4013, 'Invalid intent(s).');
        stats.identifies++;
        const s: Session = {
          id: hashOf(snowflake()) + hashOf(String(Math.random())),
          token,
          intents: d.intents,
          shard: Array.isArray(d.shard) ? [d.shard[0], d.shard[1]] : [0, 1],
          seq: 0,
          log: [],
          conn,
        };
        sessions.set(s.id, s);
        conn.session = s;
        const ready = () => {
          void sessionDispatch(s, 'READY', readyPayload(s));
          // Hold everything after READY briefly: discord.js awaits more for READY than for other
          // dispatches, so READY and GUILD_CREATE in one TCP read could be handled out of order.
          conn.held = [];
          void sessionDispatch(s, 'GUILD_CREATE', guildJson());
          later(20, () => flushHeld(conn));
        };
        if (opts.readyDelayMs) later(opts.readyDelayMs, ready);
        else ready();
        return;
      }
      case Op.Resume: {
        if (conn.session) return closeConn(conn, 4005, 'Already authenticated.');
        if (!d || typeof d.token !== 'string' || d.token.replace(/^Bot\s+/i, '') !== token) {
          return closeConn(conn, 4004, 'Authentication failed.');
        }
        const s = sessions.get(String(d.session_id));
        if (!s || typeof d.seq !== 'number' || d.seq > s.seq) {
          stats.invalidSessions++;
          later(50, () => void rawSendNow(conn, { op: Op.InvalidSession, d: false }));
          return;
        }
        if (s.conn && s.conn !== conn) closeConn(s.conn, 4000, 'Session resumed elsewhere.');
        stats.resumes++;
        for (const old of s.log) {
          if ((old.s as number) > d.seq) void rawSend(conn, old);
        }
        s.conn = conn;
        conn.session = s;
        sessions.set(s.id, s); // closeConn above may not drop it (4000), but be sure
        void sessionDispatch(s, 'RESUMED', { _trace: ['["fake-discord",{"micros":0}]'] });
        return;
      }
      case Op.RequestGuildMembers: {
        if (!conn.session) return closeConn(conn, 4003, 'Not authenticated.');
        void sessionDispatch(conn.session, 'GUILD_MEMBERS_CHUNK', {
          guild_id: guildId,
          members: [{ ...memberJson(), user: botUser }],
          chunk_index: 0,
          chunk_count: 1,
          not_found: [],
          ...(d?.nonce !== undefined ? { nonce: d.nonce } : {}),
        });
        return;
      }
      case Op.PresenceUpdate:
      case Op.VoiceStateUpdate:
        if (!conn.session) return closeConn(conn, 4003, 'Not authenticated.');
        return;
      default:
        return closeConn(conn, 4001, 'Unknown opcode.');
    }
  }

  /** Send bypassing the post-READY hold (heartbeat ACKs, op 9). */
  function rawSendNow(conn: Conn, payload: JsonObject): Promise<void> {
    if (conn.ws.readyState !== WebSocket.OPEN) return Promise.resolve();
    logFrame('out', payload);
    const text = JSON.stringify({ s: null, t: null, d: null, ...payload });
    return new Promise((resolve) => conn.ws.send(text, () => resolve()));
  }

  function flushHeld(conn: Conn): void {
    const held = conn.held;
    conn.held = null;
    if (!held || conn.ws.readyState !== WebSocket.OPEN) return;
    for (const text of held) conn.ws.send(text);
  }

  wss.on('connection', (ws) => {
    const conn: Conn = { ws, session: null, held: null };
    conns.add(conn);
    if (closed) {
      ws.terminate();
      return;
    }
    ws.on('message', (data, isBinary) => {
      if (isBinary) return closeConn(conn, 4002, 'Error while decoding payload.');
      onGatewayMessage(conn, data.toString());
    });
    ws.on('close', (code) => {
      conns.delete(conn);
      detach(conn, conn.serverCloseCode ?? code);
    });
    ws.on('error', () => {
      /* ignore: the close handler cleans up */
    });
    void rawSendNow(conn, { op: Op.Hello, d: { heartbeat_interval: heartbeatInterval, _trace: ['["fake-discord",{"micros":0}]'] } });
  });

  // -------------------------------------------------------------------------------------------
  // Public API

  const fake: FakeDiscord = {
    apiUrl: `${base}/api`,
    gatewayUrl,
    token,
    botId,
    guildId,
    userId,
    channelId: firstText?.id ?? '',
    channels,
    users,
    calls,
    messages,
    frames,
    sessions: stats,

    addChannel(init) {
      const ch = addChannelInternal(init);
      const isThread = ch.type === 10 || ch.type === 11 || ch.type === 12;
      for (const s of sessions.values()) {
        void sessionDispatch(s, isThread ? 'THREAD_CREATE' : 'CHANNEL_CREATE', isThread ? { ...ch, newly_created: true } : ch);
      }
      return ch;
    },

    async userMessage(o) {
      const ch = channels.get(o.channelId);
      if (!ch) throw new Error(`fake discord: unknown channel ${o.channelId}`);
      const author = ensureUser(o.authorId ?? userId, o.authorName, o.authorBot);
      const mentions = mentionsFromContent(o.content);
      if (o.mentionsBot && !mentions.some((u) => u.id === botId)) mentions.push(botUser);
      let reference: JsonObject | undefined;
      let referenced: FakeMessage | undefined;
      if (o.replyToMessageId) {
        referenced = messages.get(o.replyToMessageId);
        if (!referenced) throw new Error(`fake discord: unknown message ${o.replyToMessageId}`);
        reference = { type: 0, channel_id: referenced.channelId, message_id: referenced.id, guild_id: guildId };
        if (o.replyPing !== false) {
          const a = users.get(referenced.authorId);
          if (a && !mentions.some((u) => u.id === a.id)) mentions.push(a);
        }
      }
      const msg = makeMessage({
        channel: ch,
        author,
        content: o.content,
        type: o.type ?? (reference ? 19 : 0),
        mentions,
        reference,
        referenced,
        extra: o.extra,
        fromBot: false,
      });
      await broadcastMessageEvent('MESSAGE_CREATE', msg.raw, msg, true);
      return msg;
    },

    waitFor(pred, timeoutMs = 5000) {
      const hit = calls.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise<RestCall>((resolve, reject) => {
        const waiter = (c: RestCall) => {
          if (!pred(c)) return;
          clearTimeout(timer);
          callWaiters.delete(waiter);
          resolve(c);
        };
        const timer = setTimeout(() => {
          callWaiters.delete(waiter);
          const recent = calls.slice(-8).map((c) => `${c.method} ${c.path} → ${c.status}`).join('; ');
          reject(new Error(`fake discord: no matching REST call within ${timeoutMs} ms (recent: ${recent || 'none'})`));
        }, timeoutMs);
        callWaiters.add(waiter);
      });
    },

    failNext(match, spec, times = 1) {
      failures.push({ match, spec, remaining: times });
    },

    closeGateway(code, reason = '') {
      for (const c of [...conns]) closeConn(c, code, reason);
    },

    requestReconnect() {
      for (const c of [...conns]) if (c.session) void rawSendNow(c, { op: Op.Reconnect });
    },

    invalidateSession(resumable) {
      for (const c of [...conns]) {
        if (!c.session) continue;
        stats.invalidSessions++;
        // Either way the connection is no longer authenticated: discord.js answers op 9 with a
        // RESUME on the same socket (d: true) or closes and identifies again (d: false).
        if (!resumable) sessions.delete(c.session.id);
        c.session.conn = null;
        c.session = null;
        void rawSendNow(c, { op: Op.InvalidSession, d: resumable });
      }
    },

    async dispatch(t, d) {
      await Promise.all([...sessions.values()].map((s) => sessionDispatch(s, t, d)));
    },

    liveSessions() {
      return [...sessions.values()].filter((s) => s.conn && s.conn.ws.readyState === WebSocket.OPEN).length;
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const c of conns) c.ws.terminate();
      conns.clear();
      sessions.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
    },
  };
  return fake;
}
