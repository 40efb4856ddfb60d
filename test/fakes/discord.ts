/**
 * Fake Discord for tests: REST API v10 and gateway v10 (JSON, uncompressed) on one 127.0.0.1 port,
 * good enough for the real discord.js v14 Client to log in, receive messages, reply, edit and type,
 * run slash commands and buttons, open threads and forum posts, and split guilds across shards.
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
 *   More: `guilds: [{id, name, channels}]` (several guilds, instead of guildId/guildName/channels;
 *   `guildId`/`channelId` are then the first guild's), `applicationId` (default: the bot id),
 *   `realisticToken` (token `base64(botId).<ts>.<hmac>` like a real one), `recommendedShards` and
 *   `maxConcurrency` (GET /gateway/bot, default 1 and 1), `strictShardCount` (close 4010 when a
 *   session identifies with another shard count than a live one; Discord itself allows it),
 *   `messageContentIntent` / `guildMembersIntent` / `presenceIntent: false` (asking for that
 *   privileged intent → close 4014), `interactionCallbackWindowMs` (3000) and
 *   `interactionTokenTtlMs` (15 min).
 * - `calls`: every REST request, in order: method, path without `/api/v10` (e.g.
 *   `/channels/123/messages`), query, parsed body (JSON, or `payload_json` of multipart + `files`),
 *   headers, `at` (performance.now() ms when received) and the `status` answered.
 * - `messages`: every message (bot's via REST, users' via `userMessage`), by id. `FakeMessage.raw` is
 *   the API JSON; `edits` lists every PATCH with its time; `allowedMentions` / `messageReference` are
 *   what the bot sent; `pings` is who Discord notified at creation; interaction responses and
 *   follow-ups have `interactionId`, and ephemeral ones `ephemeral: true` + `visibleTo` (never
 *   dispatched, absent from GET /channels/{id}/messages, 404 on the channel message routes).
 * - `userMessage({channelId, content, ...})` makes a user message and dispatches MESSAGE_CREATE to every
 *   session of the guild's shard (buffered for sessions that are disconnected but resumable;
 *   replayed on RESUME). Mentions: `<@id>` tokens in content are parsed; `mentionsBot: true` adds
 *   the bot even without a token. `replyToMessageId` makes a type-19 reply with message_reference +
 *   referenced_message (and, like Discord's default "ping on reply", mentions the replied-to author
 *   unless `replyPing: false`). `member.roles` carries the author's roles. Posting into an archived
 *   thread unarchives it (THREAD_UPDATE first); into an archived locked one throws.
 * - `waitFor(pred, timeoutMs = 5000)`: first REST call (already recorded or future) matching pred.
 * - `failNext(match, spec, times = 1)`: the next `times` requests matching (method, path) get an
 *   injected error: `{status: 429, retryAfter: seconds, global?}` (Retry-After header + JSON
 *   {message, retry_after, global}; a bucket 429 also says X-RateLimit-Remaining: 0) or
 *   `{status: 400|401|403|404|500|502|503|504, code?, message?}`. Note discord.js retries 5xx up to
 *   `rest.retries` (3) times at once, and throws DiscordAPIError on 4xx.
 * - `delayNext(match, ms)`: the next request matching (method, path) is answered `ms` later, its
 *   response computed then (so it sees what happened meanwhile); returns a promise that resolves
 *   when that request has arrived.
 * - `holdGateway()` / `releaseGateway()`: while held, every frame for live connections waits (REST
 *   goes on: a message is in the channel's history before its MESSAGE_CREATE is delivered);
 *   release sends them in order.
 * - Gateway control: `closeGateway(code, reason?, shardId?)` closes live connections (of one shard
 *   id if given; 4000 etc. keep the session resumable; 4004/4007/4009/4010–4014 drop it),
 *   `requestReconnect()` sends op 7, `invalidateSession(resumable)` sends op 9, `dispatch(t, d)` sends
 *   any event (to the shard of `d.guild_id`; without one, to shard 0, as Discord does). `sessions`
 *   counts identifies, resumes, heartbeats, invalid sessions, `identifiesTooSoon` (sooner than 5 s
 *   after another in the same `shard_id % max_concurrency` bucket) and `shardCountMismatches`;
 *   `shardStats()` gives per [shard, count] identifies, resumes, live connections and
 *   identifiesTooSoon; `connectedShards()` the shard ids with a live connection; `frames` logs
 *   gateway traffic (op/t/s, direction, time). Guild `g` belongs to shard `shardOf(g, count)` =
 *   `(g >> 22) % count`: READY lists and GUILD_CREATE is sent for that shard's guilds only, and every
 *   guild event goes only to sessions of its shard. IDENTIFY with a bad `shard` → close 4010.
 * - `addChannel(ch)`: a text channel (type 0), a forum (type 15: available_tags etc.) or a thread
 *   (type 11 with parent_id, owned and joined by the default user); `guild_id` picks the guild.
 *   Dispatched as CHANNEL_CREATE / THREAD_CREATE to the guild's shard and included in later
 *   GUILD_CREATEs (active threads only, with the bot's thread `member` where it joined).
 * - Members, roles, permissions: `addUser({id?, name?, bot?})`; `addRole({name, permissions?,
 *   mentionable? (default false, as Discord), color?, guildId?})` → GUILD_ROLE_CREATE;
 *   `setMemberRoles(userId, roleIds, guildId?)` → GUILD_MEMBER_UPDATE (to sessions with Guild
 *   Members, or any for the bot); `member(userId)` is GET /guilds/{g}/members/{u};
 *   `permissionsOf(userId, channelId)` computes Discord's way (@everyone + roles, owner `ownerId`
 *   and Administrator get all, then @everyone/role/member overwrites; threads use the parent's);
 *   `setPermissionOverwrite(channelId, {id, type, allow?, deny?})` and
 *   `denyBotPermissions(channelId, ['CreatePublicThreads', ...])` → CHANNEL_UPDATE. Permissions take
 *   discord.js names (`PERMISSIONS`), a bigint or a decimal string. The bot needs View Channel
 *   (else 403 50001) and Send Messages (in threads: Send Messages in Threads) to post, Create
 *   Public/Private Threads to start threads (403 50013).
 * - `pinged(message)` → `{users, roles, everyone, repliedUser}`: who Discord notified when the
 *   message was sent (edits notify no one), by its allowed_mentions rules: no field → parse
 *   everything (interaction/webhook messages: users only) and a reply pings its author; with it,
 *   only `parse` kinds or the explicit `users`/`roles` lists (`parse` users + a non-empty `users`
 *   list → 400 50035), the replied-to author only with `replied_user: true`; a mention must be in
 *   the content (or a text display); a role pings if mentionable or the author has Mention
 *   Everyone, which @everyone/@here need. `raw.mention_roles` lists the role ids in the content.
 * - Application commands: `PUT /applications/{app}/commands` (and `/guilds/{g}/commands`) is a bulk
 *   overwrite (a command keeps its id while its name and type stay); POST, GET, PATCH, DELETE of one;
 *   Discord's checks (lowercase 1–32 char names, 1–100 char descriptions, unique names, ≤ 25
 *   options, required first → 400 50035; a wrong application id or guild → 403 50001).
 *   `commands(guildId?)` lists them, with `default_member_permissions` as sent.
 * - Interactions: `slashCommand({name, options?, subcommand?, channelId?, userId?, memberPermissions?,
 *   locale?})` and `pressButton({messageId, customId, userId?, memberPermissions?})` dispatch
 *   INTERACTION_CREATE (type 2 with data {id, name, type 1, options, resolved}, or type 3 with data
 *   {custom_id, component_type: 2} and the `message`) carrying guild, channel, member {user, roles,
 *   permissions string}, token, version 1, app_permissions, locale, to the guild's shard. They throw,
 *   as Discord's client would refuse, for an unregistered command (guild first, then global), a
 *   member lacking its default_member_permissions ("0" = admins only; `ignoreDefaultPermissions`
 *   skips), options not matching the definition (`options` as `{name: value}`; an array is sent as
 *   is), a missing, disabled or link button, someone else's ephemeral message. The returned
 *   `FakeInteraction` (also in `interactions`) records every `responses` entry in order — kind
 *   callback/followup/edit/delete, type, flags, ephemeral, content, components, embeds,
 *   allowedMentions, target, messageId, status, code, at, afterMs — with `callback`, `original()`,
 *   `followUps()` and `waitFor(pred?)`. Callbacks (`POST /interactions/{id}/{token}/callback`, no bot
 *   token needed): 4 message (type 20; replying to the component's message for a button), 5 deferred
 *   (a LOADING message), 6 deferred update and 7 update message (components only, else 400 50035),
 *   9 modal; flags 64 = ephemeral; `with_response=true` → 200 with {interaction, resource}, else 204.
 *   A second callback → 400 40060; one after the window → 404 10062. Webhooks (`/webhooks/{app}/
 *   {token}`: POST follow-up, GET/PATCH/DELETE `messages/@original|{id}` of this interaction only,
 *   else 404 10008) → 404 10015 before the callback, after a missed window or once the token is
 *   older than its lifetime. A follow-up right after a defer edits the loading message, as Discord
 *   documents. Messages made this way are channel messages with webhook_id/application_id,
 *   interaction_metadata (and `interaction` on command responses), dispatched unless ephemeral.
 * - Components: `components` of bot messages (REST, callbacks, webhooks) are stored and checked
 *   (≤ 5 rows of 1–5 buttons or one select, label or emoji, custom_id 1–100 and unique, link buttons
 *   with url → else 400 50035); `buttons(messageId)` → [{customId, label, emoji, style, disabled,
 *   url, row}].
 * - Threads: `POST /channels/{c}/messages/{m}/threads` (text or announcement channel; name 1–100,
 *   auto_archive_duration 60/1440/4320/10080 → else 400 50035; a second one → 400 160004; a forum →
 *   400 50024) makes a thread with the message's id owned and joined by the bot, then THREAD_CREATE
 *   (newly_created), THREAD_MEMBERS_UPDATE and MESSAGE_UPDATE of the message (HAS_THREAD flag,
 *   `thread`). `POST /channels/{c}/threads`: in a text channel type 12 by default or 11 (a public one
 *   is announced by a type-18 message in the parent); in a forum a post {name, message, applied_tags}
 *   → type-11 thread and its starter message with the thread's id, THREAD_CREATE then MESSAGE_CREATE
 *   (unknown tags → 400 50035; posting in the forum itself → 400 50008). `forumPost({forumId, title,
 *   content, authorId?, appliedTags?})` is the same by a user. `archiveThread(id, {locked?})` /
 *   `unarchiveThread(id)` → THREAD_UPDATE: the bot posting in an archived thread unarchives it,
 *   unless it is locked (400 50083; locked and active: 400 160005); editing messages there → 50083.
 *   PATCH /channels/{thread} follows the threads topic (creator or Manage Threads renames and
 *   archives, locking needs Manage Threads → else 403 50013). Thread members: GET/PUT/DELETE
 *   `/channels/{t}/thread-members[/@me|/{u}]`, `threadMembers(id)`; posting in a thread makes the
 *   author a member (THREAD_MEMBERS_UPDATE for the bot, or with Guild Members). GET
 *   /guilds/{g}/threads/active and /channels/{c}/threads/archived/public list them.
 * - `close()`: closes sockets, timers and the server.
 *
 * Behaviour worth knowing: Authorization must be `Bot <token>` (else 401; discord.js then fails
 * login with TokenInvalid), except on interaction callbacks and webhook-token routes; IDENTIFY with
 * a wrong token → close 4004. Sessions without the
 * MessageContent intent (1 << 15) get empty content for messages that neither mention the bot nor
 * come from it; without GuildMessages (1 << 9) they get no MESSAGE_* events. Content over 2000
 * characters → 400 (50035); an empty message → 400 (50006); replying to an unknown message with
 * fail_if_not_exists → 400 (50035); editing someone else's message → 403 (50005). Compression
 * (`compress` query, identify `compress`) is not supported: requests for it are ignored and JSON
 * text frames are sent. GUILD_CREATE (and anything after READY) is held back ~20 ms so discord.js
 * handles READY first (it awaits more on READY than on other dispatches). Responses carry honest
 * X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket headers; 204s carry no content-type. The
 * guild owner is `ownerId`, not the default user, so `userId` has only @everyone's permissions.
 * Request Guild Members (op 8) answers with the `user_ids` asked for (default: the bot).
 * Not modelled: a thread's type-21 starter message, DMs, autocomplete, modals beyond the callback.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, WebSocket } from 'ws';
import {
  PERMISSIONS,
  allowedMentionsProblem,
  buttonsOf,
  commandChanged,
  commandProblem,
  componentsProblem,
  computePermissions,
  computePings,
  interactionOptions,
  mentionText,
  parseMentions,
  storedCommand,
  toBits,
  type FakeButton,
  type FormProblem,
  type OptionResolvers,
  type PermissionOverwrite,
  type PermissionsInput,
  type Pings,
} from './discord-model.js';

export { PERMISSIONS, toBits, type FakeButton, type PermissionName, type PermissionsInput, type Pings } from './discord-model.js';

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
  /** 0 = guild text (default), 11 = public thread, 12 = private thread, 5 = announcement, 15 = forum. */
  type?: number;
  /** The guild it belongs to (default: the first guild; a thread: its parent's guild). */
  guild_id?: string;
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
  /** Only the invoking user sees it (interaction flag 64): never dispatched, not in channel history. */
  ephemeral?: boolean;
  /** For an ephemeral message, the one user who sees it. */
  visibleTo?: string;
  /** The interaction this message answers (original response or follow-up). */
  interactionId?: string;
  /** Who Discord notified when the message was sent (see `pinged`); edits notify no one. */
  pings?: Pings;
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

export interface FakeGuildInit {
  id?: string;
  name?: string;
  /** Default: one text channel "general". */
  channels?: FakeChannelInit[];
}

/** One request made with an interaction's id or token, accepted or not, in order. */
export interface InteractionResponse {
  /** `callback` (POST /interactions/…/callback), `followup` (POST /webhooks/…), `edit` (PATCH a webhook message), `delete`. */
  kind: 'callback' | 'followup' | 'edit' | 'delete';
  /** Callback type: 4 message, 5 deferred message, 6 deferred update, 7 update message, 9 modal. */
  type?: number;
  /** For edit/delete: `@original` or a message id. */
  target?: string;
  /** The message created or changed. */
  messageId?: string;
  /** A follow-up right after a type-5 defer that edited the loading message instead of posting. */
  editsOriginal?: boolean;
  status: number;
  /** Discord error code when rejected. */
  code?: number;
  flags: number;
  ephemeral: boolean;
  content?: string;
  components?: JsonObject[];
  embeds?: JsonObject[];
  allowedMentions?: JsonObject;
  body: JsonObject;
  /** performance.now() when answered. */
  at: number;
  /** Milliseconds since the interaction was created. */
  afterMs: number;
}

/** A handle on an interaction created with `slashCommand` / `pressButton`. */
export interface FakeInteraction {
  id: string;
  token: string;
  /** 2 application command, 3 message component. */
  type: number;
  /** The INTERACTION_CREATE payload. */
  raw: JsonObject;
  guildId: string;
  channelId: string;
  userId: string;
  commandName?: string;
  customId?: string;
  /** For a component: the message it was on. */
  messageId?: string;
  /** performance.now() when dispatched. */
  createdAt: number;
  /** Every callback / webhook request for it, rejected ones too, in order. */
  responses: InteractionResponse[];
  /** The accepted initial response, once there is one. */
  readonly callback: InteractionResponse | undefined;
  /** The `@original` message (the response, or for a component after type 6/7 the message it was on). */
  original(): FakeMessage | undefined;
  followUps(): FakeMessage[];
  /** First response (recorded or future) matching pred (default: any accepted one). */
  waitFor(pred?: (r: InteractionResponse) => boolean, timeoutMs?: number): Promise<InteractionResponse>;
}

export interface SlashCommandOptions {
  name: string;
  /** `{ option: value }` checked against the registered definition, or raw API options as is. */
  options?: Record<string, string | number | boolean> | JsonObject[];
  subcommand?: string;
  subcommandGroup?: string;
  /** Default: the first text channel. */
  channelId?: string;
  /** Default: the default user. */
  userId?: string;
  userName?: string;
  /** Override the member's computed permissions in the channel. */
  memberPermissions?: PermissionsInput;
  /** Default en-US. */
  locale?: string;
  /** Skip the default_member_permissions check (as if an admin allowed the command in Integrations). */
  ignoreDefaultPermissions?: boolean;
}

export interface PressButtonOptions {
  messageId: string;
  customId: string;
  userId?: string;
  userName?: string;
  memberPermissions?: PermissionsInput;
  locale?: string;
}

export interface ForumPostOptions {
  forumId: string;
  title: string;
  content: string;
  /** Default: the default user. */
  authorId?: string;
  authorName?: string;
  appliedTags?: string[];
  /** Extra API fields merged into the starter message JSON. */
  extra?: JsonObject;
}

export interface ShardStats {
  shardId: number;
  shardCount: number;
  identifies: number;
  resumes: number;
  /** Live, identified connections for this shard right now. */
  connected: number;
  /** IDENTIFYs sooner than 5 s after another in the same bucket (shard_id % max_concurrency). */
  identifiesTooSoon: number;
}

export interface FakeDiscordOptions {
  token?: string;
  /** Make the token like a real one: `base64(botId).<timestamp>.<hmac>`. */
  realisticToken?: boolean;
  botId?: string;
  botName?: string;
  /** Default: the bot id (true of every application made since 2016). */
  applicationId?: string;
  guildId?: string;
  guildName?: string;
  channels?: FakeChannelInit[];
  /** Several guilds (instead of guildId/guildName/channels). */
  guilds?: FakeGuildInit[];
  /** `shards` of GET /gateway/bot (default 1). */
  recommendedShards?: number;
  /** `session_start_limit.max_concurrency` of GET /gateway/bot (default 1). */
  maxConcurrency?: number;
  /** Close 4010 when a session identifies with another shard count than a live session (Discord allows it). */
  strictShardCount?: boolean;
  /** Whether the app may use the privileged intents (default true); asking anyway → close 4014. */
  messageContentIntent?: boolean;
  guildMembersIntent?: boolean;
  presenceIntent?: boolean;
  /** How long after INTERACTION_CREATE the initial callback is accepted (default 3000 ms). */
  interactionCallbackWindowMs?: number;
  /** How long an interaction token works for webhooks (default 15 min). */
  interactionTokenTtlMs?: number;
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
  sessions: {
    identifies: number;
    resumes: number;
    heartbeats: number;
    invalidSessions: number;
    /** IDENTIFYs sooner than max_concurrency allows (see ShardStats). */
    identifiesTooSoon: number;
    /** IDENTIFYs whose shard count differed from a live session's. */
    shardCountMismatches: number;
  };
  addChannel(ch: FakeChannelInit): FakeChannel;
  userMessage(o: UserMessageOptions): Promise<FakeMessage>;
  waitFor(pred: (c: RestCall) => boolean, timeoutMs?: number): Promise<RestCall>;
  failNext(match: (method: string, path: string) => boolean, spec: FailSpec, times?: number): void;
  delayNext(match: (method: string, path: string) => boolean, ms: number): Promise<void>;
  holdGateway(): void;
  releaseGateway(): void;
  /** Close live connections (only those of one shard id, if given). */
  closeGateway(code: number, reason?: string, shardId?: number): void;
  requestReconnect(): void;
  invalidateSession(resumable: boolean): void;
  dispatch(t: string, d: unknown): Promise<void>;
  /** Number of sessions with a live, ready connection. */
  liveSessions(): number;
  close(): Promise<void>;

  /** The application id (READY `application.id`, webhook paths). */
  applicationId: string;
  /** Every guild id, the first being `guildId`. */
  guildIds: string[];
  /** The guild owner (has every permission); not the default user. */
  ownerId: string;
  /** Every interaction made with slashCommand / pressButton, by id (the oldest dropped past 5000). */
  interactions: Map<string, FakeInteraction>;
  /** A user the fake knows (created if new). */
  addUser(o?: { id?: string; name?: string; bot?: boolean }): FakeUser;
  /** A role in a guild; dispatched as GUILD_ROLE_CREATE. Like Discord, not mentionable unless asked. */
  addRole(o: {
    id?: string;
    name: string;
    permissions?: PermissionsInput;
    mentionable?: boolean;
    color?: number;
    guildId?: string;
  }): JsonObject;
  /** Replace a member's roles; dispatched as GUILD_MEMBER_UPDATE. */
  setMemberRoles(userId: string, roleIds: string[], guildId?: string): void;
  /** Guild member JSON (with `user`) as GET /guilds/{g}/members/{u} returns it. */
  member(userId: string, guildId?: string): JsonObject;
  /** A user's permissions in a channel (threads: their parent's), as Discord computes them. */
  permissionsOf(userId: string, channelId: string): bigint;
  /** Set (replace) one permission overwrite on a channel; dispatched as CHANNEL_UPDATE. */
  setPermissionOverwrite(channelId: string, ow: { id: string; type: 0 | 1; allow?: PermissionsInput; deny?: PermissionsInput }): void;
  /** Deny the bot permissions in a channel (a member overwrite), e.g. ['CreatePublicThreads'] → 403 50013. */
  denyBotPermissions(channelId: string, perms: PermissionsInput): void;
  /** Registered application commands: global, or of one guild. */
  commands(guildId?: string): JsonObject[];
  /** A user runs a registered slash command: INTERACTION_CREATE (type 2) to the guild's shard. */
  slashCommand(o: SlashCommandOptions): Promise<FakeInteraction>;
  /** A user presses a button on a bot message: INTERACTION_CREATE (type 3) to the guild's shard. */
  pressButton(o: PressButtonOptions): Promise<FakeInteraction>;
  /** The buttons on a message. */
  buttons(messageId: string): FakeButton[];
  /** Who Discord notified when the message was sent. */
  pinged(message: FakeMessage | string): Pings;
  /** A user creates a forum post: THREAD_CREATE then MESSAGE_CREATE of its starter message. */
  forumPost(o: ForumPostOptions): Promise<{ thread: FakeChannel; message: FakeMessage }>;
  /** Archive a thread (THREAD_UPDATE). Locked: nobody without Manage Threads can post (400 50083). */
  archiveThread(threadId: string, o?: { locked?: boolean }): void;
  unarchiveThread(threadId: string): void;
  /** User ids of a thread's members. */
  threadMembers(threadId: string): string[];
  /** Per-shard session counts, by shard count then id. */
  shardStats(): ShardStats[];
  /** Shard ids with a live, identified connection. */
  connectedShards(): number[];
}

/** The shard a guild belongs to: `(guild_id >> 22) % shardCount`. */
export function shardOf(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

/** A token shaped like Discord's: base64 of the bot id, a timestamp, an HMAC-like tail. */
function realisticTokenFor(botId: string): string {
  const b64url = (b: Buffer) => b.toString('base64url');
  const ts = Buffer.alloc(4);
  ts.writeUInt32BE(Math.floor(Date.now() / 1000) - 1293840000);
  const tail = randomBytes(28);
  return `${Buffer.from(botId).toString('base64').replace(/=+$/, '')}.${b64url(ts)}.${b64url(tail)}`;
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

const INTENT_GUILDS = 1 << 0;
const INTENT_GUILD_MEMBERS = 1 << 1;
const INTENT_GUILD_PRESENCES = 1 << 8;
const INTENT_GUILD_MESSAGES = 1 << 9;
const INTENT_MESSAGE_CONTENT = 1 << 15;
const FLAG_HAS_THREAD = 1 << 5;
const FLAG_EPHEMERAL = 1 << 6;
const FLAG_LOADING = 1 << 7;
const AUTO_ARCHIVE = new Set([60, 1440, 4320, 10080]);
const MAX_RESPONSES = 1000;
const isThreadType = (t: number) => t === 10 || t === 11 || t === 12;
const isForumType = (t: number) => t === 15 || t === 16;
/** Close codes after which Discord does not let the session be resumed. */
const NON_RESUMABLE_CLOSE = new Set([1000, 1001, 4004, 4007, 4009, 4010, 4011, 4012, 4013, 4014]);
/** @everyone: view, send, embed, attach, history, reactions, external emojis, threads. */
const EVERYONE_PERMISSIONS = (
  (1n << 6n) |
  (1n << 10n) |
  (1n << 11n) |
  (1n << 14n) |
  (1n << 15n) |
  (1n << 16n) |
  (1n << 18n) |
  (1n << 35n) |
  (1n << 36n) |
  (1n << 38n)
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

interface GuildState {
  id: string;
  name: string;
  roles: Map<string, JsonObject>;
  /** Members with explicit state; any other known user is a member with no roles. */
  members: Map<string, { roles: string[]; joinedAt: string }>;
  /** Guild application commands, by id. */
  commands: Map<string, JsonObject>;
}

interface InteractionState {
  handle: FakeInteraction;
  /** Date.now() at dispatch (the 3 s and 15 min windows count from here). */
  createdAtMs: number;
  /** Accepted callback type, once acknowledged. */
  ackType: number | null;
  originalId: string | null;
  /** Deferred (type 5) and not edited yet. */
  loading: boolean;
  followUpIds: string[];
  waiters: Set<(r: InteractionResponse) => void>;
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
const missingPermissions = () => new HttpError(403, { message: 'Missing Permissions', code: 50013 });
const missingAccess = () => new HttpError(403, { message: 'Missing Access', code: 50001 });
const archivedThread = () => new HttpError(400, { message: 'Thread is archived', code: 50083 });
const unknownWebhook = () => notFound('Unknown Webhook', 10015);
const problemError = (p: FormProblem) => formError(p.field, p.code, p.message);

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
  if (opts.guilds && (opts.guildId !== undefined || opts.guildName !== undefined || opts.channels !== undefined)) {
    throw new Error('fake discord: give either guilds or guildId/guildName/channels');
  }
  const botId = opts.botId ?? snowflake();
  const token = opts.token ?? (opts.realisticToken ? realisticTokenFor(botId) : 'fake-bot-token.' + snowflake());
  const applicationId = opts.applicationId ?? botId;
  const guildInits: FakeGuildInit[] = opts.guilds?.length
    ? opts.guilds
    : [{ id: opts.guildId, name: opts.guildName, channels: opts.channels }];
  const guildId = guildInits[0]!.id ?? snowflake();
  const callbackWindowMs = opts.interactionCallbackWindowMs ?? 3000;
  const tokenTtlMs = opts.interactionTokenTtlMs ?? 15 * 60_000;
  const maxConcurrency = opts.maxConcurrency ?? 1;
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
  const stats = { identifies: 0, resumes: 0, heartbeats: 0, invalidSessions: 0, identifiesTooSoon: 0, shardCountMismatches: 0 };
  const guilds = new Map<string, GuildState>();
  const globalCommands = new Map<string, JsonObject>();
  const interactionStates = new Map<string, InteractionState>();
  const interactionsByToken = new Map<string, InteractionState>();
  const interactions = new Map<string, FakeInteraction>();
  const threadMembers = new Map<string, Map<string, string>>();
  const shardStatsMap = new Map<string, ShardStats>();
  /** Date.now() of the last IDENTIFY per rate-limit key (shard_id % max_concurrency). */
  const lastIdentifyAt = new Map<number, number>();
  const buckets = new Map<string, Bucket>();
  const failures: Failure[] = [];
  const delays: { match: (method: string, path: string) => boolean; ms: number; arrived: () => void }[] = [];
  /** Frames held by holdGateway(), in order, with their connection. */
  let gatewayHold: { conn: Conn; text: string }[] | null = null;
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
  const ownerId = snowflake();
  ensureUser(ownerId, 'owner', false);

  function everyoneRole(id: string): JsonObject {
    return {
      id,
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
    };
  }
  for (const [i, g] of guildInits.entries()) {
    const id = i === 0 ? guildId : (g.id ?? snowflake());
    if (guilds.has(id)) throw new Error(`fake discord: duplicate guild ${id}`);
    guilds.set(id, {
      id,
      name: g.name ?? (i === 0 ? 'Fake Guild' : `Fake Guild ${i + 1}`),
      roles: new Map([[id, everyoneRole(id)]]),
      members: new Map(),
      commands: new Map(),
    });
  }

  function getGuild(id: string): GuildState {
    const g = guilds.get(id);
    if (!g) throw new Error(`fake discord: unknown guild ${id}`);
    return g;
  }

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

  /** Member JSON (without `user`) of a known user in a guild, with their roles. */
  function memberOf(gid: string, uid: string): JsonObject {
    const st = guilds.get(gid)?.members.get(uid);
    const m = memberJson(st?.joinedAt);
    m.roles = [...(st?.roles ?? [])];
    return m;
  }

  function rolePermissions(g: GuildState): (roleId: string) => bigint | undefined {
    return (rid) => {
      const r = g.roles.get(rid);
      return r ? BigInt(r.permissions) : undefined;
    };
  }

  /** A user's permissions in a channel; threads use their parent's overwrites. */
  function permissionsIn(uid: string, ch: FakeChannel): bigint {
    const g = getGuild(ch.guild_id);
    const source = isThreadType(ch.type) && ch.parent_id ? (channels.get(ch.parent_id) ?? ch) : ch;
    return computePermissions({
      guildId: g.id,
      ownerId,
      userId: uid,
      memberRoleIds: g.members.get(uid)?.roles ?? [],
      rolePermissions: rolePermissions(g),
      overwrites: (source.permission_overwrites ?? []) as PermissionOverwrite[],
    });
  }

  /** The bot must be able to see the channel (else 403 50001) and hold every bit (else 403 50013). */
  function requireBot(ch: FakeChannel, bits: bigint): void {
    const perms = permissionsIn(botId, ch);
    if (!(perms & PERMISSIONS.ViewChannel)) throw missingAccess();
    if ((perms & bits) !== bits) throw missingPermissions();
  }

  function addChannelInternal(init: FakeChannelInit): FakeChannel {
    const id = init.id ?? snowflake();
    const type = init.type ?? 0;
    const isThread = type === 10 || type === 11 || type === 12;
    const parent = init.parent_id ? channels.get(init.parent_id) : undefined;
    const gid = init.guild_id ?? parent?.guild_id ?? guildId;
    if (!guilds.has(gid)) throw new Error(`fake discord: unknown guild ${gid}`);
    const base: JsonObject = {
      id,
      type,
      guild_id: gid,
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
      if (parent && isForumType(parent.type)) base.applied_tags = [];
    } else {
      Object.assign(base, {
        position: channels.size,
        permission_overwrites: [],
        nsfw: false,
        topic: init.topic ?? null,
      });
      if (isForumType(type)) {
        Object.assign(base, {
          available_tags: [],
          default_reaction_emoji: null,
          default_thread_rate_limit_per_user: 0,
          default_sort_order: null,
          default_forum_layout: 0,
          default_auto_archive_duration: 4320,
          last_message_id: null,
        });
      }
    }
    const ch = { ...base, ...init, id, type, guild_id: gid } as FakeChannel;
    if (ch.parent_id === undefined) ch.parent_id = null;
    if (isThread && parent && parent.guild_id !== gid) throw new Error(`fake discord: thread ${id} and its parent are in different guilds`);
    channels.set(id, ch);
    if (isThread && !threadMembers.has(id)) threadMembers.set(id, new Map([[String(ch.owner_id), iso()]]));
    return ch;
  }

  for (const [i, g] of guildInits.entries()) {
    const gid = [...guilds.keys()][i]!;
    for (const c of g.channels ?? [{ name: 'general', type: 0 }]) addChannelInternal({ ...c, guild_id: gid });
  }
  const firstText = [...channels.values()].find((c) => c.type === 0 && c.guild_id === guildId);

  function threadMemberJson(threadId: string, uid: string): JsonObject | undefined {
    const at = threadMembers.get(threadId)?.get(uid);
    return at === undefined ? undefined : { id: threadId, user_id: uid, join_timestamp: at, flags: 0 };
  }

  /** Channel JSON as the bot sees it: a thread it is in carries its thread `member`. */
  function channelView(ch: FakeChannel): JsonObject {
    if (!isThreadType(ch.type)) return ch;
    const member = threadMemberJson(ch.id, botId);
    return member ? { ...ch, member } : ch;
  }

  function guildJson(gid: string = guildId): JsonObject {
    const g = getGuild(gid);
    const all = [...channels.values()].filter((c) => c.guild_id === gid);
    const isThread = (c: FakeChannel) => c.type === 10 || c.type === 11 || c.type === 12;
    return {
      id: gid,
      name: g.name,
      icon: null,
      splash: null,
      discovery_splash: null,
      banner: null,
      description: null,
      owner_id: ownerId,
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
      roles: [...g.roles.values()],
      emojis: [],
      stickers: [],
      joined_at: startedAt,
      large: false,
      unavailable: false,
      member_count: users.size,
      members: [{ ...memberOf(gid, botId), user: botUser }],
      channels: all.filter((c) => !isThread(c)),
      // Only active threads, as Discord syncs them; the bot's own membership rides along.
      threads: all.filter((c) => isThread(c) && !c.thread_metadata?.archived).map(channelView),
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
      // Interaction callbacks and webhook-token routes need no bot token (discord.js sends none).
      const tokenRoute = /^\/interactions\/\d+\/[^/]+\/callback$/.test(path) || /^\/webhooks\/\d+\/[^/]+(\/|$)/.test(path);
      if (!(method === 'GET' && path === '/gateway') && !tokenRoute) {
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
      const d = delays.findIndex((x) => x.match(method, path));
      if (d >= 0) {
        const [delay] = delays.splice(d, 1);
        delay!.arrived();
        await new Promise<void>((resolve) => later(delay!.ms, resolve));
      }
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
    if (!msg || msg.deleted || msg.ephemeral || msg.channelId !== channelId) throw notFound('Unknown Message', 10008);
    return msg;
  }

  function route(method: string, path: string, query: Record<string, string>, body: JsonObject | undefined): RouteResult {
    const seg = path.split('/').filter(Boolean);
    const is = (...pattern: string[]) => seg.length === pattern.length && pattern.every((p, i) => p === '*' || p === seg[i]);

    if (method === 'GET' && is('gateway', 'bot')) {
      return {
        status: 200,
        payload: {
          url: gatewayUrl,
          shards: opts.recommendedShards ?? 1,
          session_start_limit: {
            total: 1000,
            remaining: Math.max(0, 1000 - stats.identifies),
            reset_after: 14_400_000,
            max_concurrency: maxConcurrency,
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
        payload: {
          id: applicationId,
          name: botUser.username,
          icon: null,
          description: '',
          bot_public: true,
          bot_require_code_grant: false,
          flags: 0,
          bot: botUser,
          owner: users.get(ownerId),
        },
      };
    }
    if (method === 'GET' && is('users', '@me', 'guilds')) {
      return {
        status: 200,
        payload: [...guilds.values()].map((g) => ({
          id: g.id,
          name: g.name,
          icon: null,
          owner: false,
          permissions: EVERYONE_PERMISSIONS,
          features: [],
        })),
      };
    }
    if (seg[0] === 'applications' && seg[1] !== '@me') return commandRoute(method, seg, body);
    if (seg[0] === 'interactions') return interactionCallbackRoute(seg, query, body);
    if (seg[0] === 'webhooks') return webhookRoute(method, seg, body);
    if (seg[0] === 'guilds') {
      const gid = seg[1] ?? '';
      if (!guilds.has(gid)) throw notFound('Unknown Guild', 10004);
      if (method === 'GET' && is('guilds', '*')) {
        const { members: _m, channels: _c, threads: _t, presences: _p, voice_states: _v, ...g } = guildJson(gid);
        return { status: 200, payload: g };
      }
      if (method === 'GET' && is('guilds', '*', 'channels')) return { status: 200, payload: guildJson(gid).channels };
      if (method === 'GET' && is('guilds', '*', 'roles')) return { status: 200, payload: guildJson(gid).roles };
      if (method === 'GET' && is('guilds', '*', 'threads', 'active')) {
        const threads = guildJson(gid).threads as JsonObject[];
        const members = threads.filter((t) => t.member).map((t) => t.member);
        return { status: 200, payload: { threads: threads.map(({ member: _m, ...t }) => t), members } };
      }
      if (method === 'GET' && is('guilds', '*', 'members', '*')) {
        const u = users.get(seg[3]!);
        if (!u) throw notFound('Unknown Member', 10007);
        return { status: 200, payload: { ...memberOf(gid, u.id), user: u } };
      }
      throw notFound();
    }
    if (seg[0] === 'channels' && seg[1]) {
      const ch = getChannel(seg[1]);
      const threadOut = threadRoute(method, seg, ch, query, body);
      if (threadOut) return threadOut;
      if (method === 'GET' && is('channels', '*')) return { status: 200, payload: channelView(ch) };
      if (method === 'POST' && is('channels', '*', 'typing')) return { status: 204 };
      if (method === 'POST' && is('channels', '*', 'messages')) return createBotMessage(ch, body ?? {});
      if (method === 'GET' && is('channels', '*', 'messages')) {
        let list = [...messages.values()].filter((x) => x.channelId === ch.id && !x.deleted && !x.ephemeral);
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
            after: () =>
              void broadcastMessageEvent(
                'MESSAGE_DELETE',
                { id: msg.id, channel_id: msg.channelId, guild_id: msg.guildId },
                msg,
                dispatchOwn,
              ),
          };
        }
        if (seg[4] === 'reactions' && (method === 'PUT' || method === 'DELETE')) {
          if (isThreadType(ch.type) && ch.thread_metadata?.archived) throw archivedThread();
          return { status: 204 };
        }
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
      reference: { type: ref.type ?? 0, channel_id: target.channelId, message_id: target.id, guild_id: target.guildId },
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
      if (
        !(typeof content === 'string' && content.length > 0) &&
        !has('embeds') &&
        !has('attachments') &&
        !has('components') &&
        !has('sticker_ids') &&
        !body.poll
      ) {
        throw new HttpError(400, { message: 'Cannot send an empty message', code: 50006 });
      }
    }
    const p = allowedMentionsProblem(body.allowed_mentions) ?? componentsProblem(body.components, Number(body.flags ?? 0));
    if (p) throw problemError(p);
  }

  /** Where the bot posts: not a forum itself; in a thread, not locked (or archived and locked). */
  function checkPostable(ch: FakeChannel): { unarchive: boolean } {
    if (isForumType(ch.type)) throw new HttpError(400, { message: 'Cannot send messages in a non-text channel', code: 50008 });
    if (!isThreadType(ch.type)) return { unarchive: false };
    const md = ch.thread_metadata as JsonObject | undefined;
    const manage = (permissionsIn(botId, ch) & PERMISSIONS.ManageThreads) !== 0n;
    if (md?.locked && !manage) {
      if (md.archived) throw archivedThread();
      throw new HttpError(400, { message: 'Thread is locked', code: 160005 });
    }
    // Discord: sending a message unarchives a thread unless it is locked.
    return { unarchive: !!md?.archived };
  }

  /** Posting in a thread makes the author a member of it, as on Discord; true if they were not. */
  function joinOnPost(ch: FakeChannel, uid: string): boolean {
    if (!isThreadType(ch.type)) return false;
    let members = threadMembers.get(ch.id);
    if (!members) threadMembers.set(ch.id, (members = new Map()));
    if (members.has(uid)) return false;
    members.set(uid, iso());
    ch.member_count = members.size;
    return true;
  }

  function setArchived(th: FakeChannel, archived: boolean, locked?: boolean): void {
    const md = th.thread_metadata as JsonObject;
    md.archived = archived;
    if (locked !== undefined) md.locked = locked;
    md.archive_timestamp = iso();
  }

  function createBotMessage(ch: FakeChannel, body: JsonObject): RouteResult {
    requireBot(ch, isThreadType(ch.type) ? PERMISSIONS.SendMessagesInThreads : PERMISSIONS.SendMessages);
    const { unarchive } = checkPostable(ch);
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
    if (unarchive) setArchived(ch, false);
    const joined = joinOnPost(ch, botId);
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
      allowedMentions: am,
    });
    if (am !== undefined) msg.allowedMentions = am;
    if (body.message_reference) msg.messageReference = body.message_reference as JsonObject;
    return {
      status: 200,
      payload: msg.raw,
      after: () => {
        if (unarchive) void dispatchGuild(ch.guild_id, 'THREAD_UPDATE', ch, INTENT_GUILDS);
        if (joined) announceMembers(ch, [botId], []);
        void broadcastMessageEvent('MESSAGE_CREATE', msg.raw, msg, dispatchOwn);
      },
    };
  }

  function editBotMessage(msg: FakeMessage, body: JsonObject): RouteResult {
    if (!msg.fromBot) {
      throw new HttpError(403, { message: 'Cannot edit a message authored by another user', code: 50005 });
    }
    const ch = channels.get(msg.channelId);
    if (ch && isThreadType(ch.type) && ch.thread_metadata?.archived) throw archivedThread();
    checkContent(body, false);
    if (body.components !== undefined) {
      const p = componentsProblem(body.components, Number(body.flags ?? msg.raw.flags ?? 0));
      if (p) throw problemError(p);
    }
    applyEdit(msg, body);
    return { status: 200, payload: msg.raw, after: () => void broadcastMessageEvent('MESSAGE_UPDATE', msg.raw, msg, dispatchOwn) };
  }

  /** Apply an edit (content, embeds, components, flags, attachments) and record it. */
  function applyEdit(msg: FakeMessage, body: JsonObject): void {
    if ('content' in body) {
      msg.content = typeof body.content === 'string' ? body.content : '';
      msg.raw.content = msg.content;
      const ref = msg.raw.referenced_message as JsonObject | undefined;
      const mentions = mentionsFromContent(msg.content);
      if (ref && (msg.raw.mentions as FakeUser[]).some((u) => u.id === ref.author?.id)) {
        if (!mentions.some((u) => u.id === ref.author.id)) mentions.push(ref.author as FakeUser);
      }
      msg.raw.mentions = mentions;
      msg.raw.mention_roles = roleMentions(msg.guildId, mentionText(msg.content, body.components ?? msg.raw.components));
    }
    for (const k of ['embeds', 'components', 'flags', 'attachments'] as const) {
      if (k in body && body[k] !== null && body[k] !== undefined) msg.raw[k] = body[k];
    }
    msg.raw.edited_timestamp = iso();
    msg.edits.push({ content: msg.content, at: performance.now(), body });
  }

  /** Role ids mentioned in text that exist in the guild. */
  function roleMentions(gid: string, text: string): string[] {
    const g = guilds.get(gid);
    return parseMentions(text).roles.filter((r) => g?.roles.has(r));
  }

  function pingsFor(o: {
    channel: FakeChannel;
    authorId: string;
    text: string;
    allowedMentions: unknown;
    defaultParse: readonly string[];
    repliedAuthorId: string | null;
  }): Pings {
    const g = getGuild(o.channel.guild_id);
    return computePings({
      text: o.text,
      allowedMentions: o.allowedMentions,
      defaultParse: o.defaultParse,
      authorId: o.authorId,
      repliedAuthorId: o.repliedAuthorId,
      userExists: (id) => users.has(id),
      role: (id) => {
        const r = id === g.id ? undefined : g.roles.get(id);
        return r ? { mentionable: r.mentionable === true } : undefined;
      },
      authorCanMentionEveryone: (permissionsIn(o.authorId, o.channel) & PERMISSIONS.MentionEveryone) !== 0n,
    });
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
    /** Default: a new snowflake (a forum post's starter message takes the thread's id). */
    id?: string;
    allowedMentions?: unknown;
    /** What is parsed without allowed_mentions: all for messages, only users for interactions. */
    defaultParse?: readonly string[];
    /** The replied-to author a reply may ping; default: the referenced message's author. */
    repliedAuthorId?: string | null;
    /** Ephemeral: visible to this user only; no guild_id or member, as Discord sends it. */
    visibleTo?: string;
  }): FakeMessage {
    const now = Date.now();
    const id = o.id ?? snowflake(now);
    const gid = o.channel.guild_id;
    const text = mentionText(o.content, o.extra?.components);
    const pings = pingsFor({
      channel: o.channel,
      authorId: o.author.id,
      text,
      allowedMentions: o.allowedMentions,
      defaultParse: o.defaultParse ?? ['users', 'roles', 'everyone'],
      repliedAuthorId: o.repliedAuthorId !== undefined ? o.repliedAuthorId : (o.referenced?.authorId ?? null),
    });
    const raw: JsonObject = {
      id,
      type: o.type,
      channel_id: o.channel.id,
      guild_id: gid,
      author: o.author,
      member: memberOf(gid, o.author.id),
      content: o.content,
      timestamp: iso(now),
      edited_timestamp: null,
      tts: false,
      mention_everyone: pings.everyone,
      mentions: o.mentions,
      mention_roles: roleMentions(gid, text),
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
    if (o.visibleTo !== undefined) {
      delete raw.guild_id;
      delete raw.member;
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
      guildId: gid,
      authorId: o.author.id,
      fromBot: o.fromBot,
      content: o.content,
      at: performance.now(),
      edits: [],
      deleted: false,
      raw,
      pings,
    };
    if (o.visibleTo !== undefined) {
      msg.ephemeral = true;
      msg.visibleTo = o.visibleTo;
    }
    if (o.reference) msg.messageReference = o.reference;
    messages.set(id, msg);
    return msg;
  }

  // -------------------------------------------------------------------------------------------
  // Application commands

  function commandRoute(method: string, seg: string[], body: unknown): RouteResult {
    if (seg[1] !== applicationId) throw missingAccess();
    let store: Map<string, JsonObject>;
    let gid: string | undefined;
    let rest: string[];
    if (seg[2] === 'commands') {
      store = globalCommands;
      rest = seg.slice(3);
    } else if (seg[2] === 'guilds' && seg[4] === 'commands') {
      const g = guilds.get(seg[3] ?? '');
      if (!g) throw missingAccess();
      store = g.commands;
      gid = g.id;
      rest = seg.slice(5);
    } else throw notFound();
    const sameKey = (a: JsonObject, b: JsonObject) => a.name === b.name && Number(a.type ?? 1) === Number(b.type ?? 1);
    const save = (b: unknown, path: string, existing?: JsonObject): JsonObject => {
      const p = commandProblem(b, path);
      if (p) throw problemError(p);
      const next = storedCommand(b as JsonObject, {
        id: existing?.id ?? snowflake(),
        applicationId,
        version: existing?.version ?? snowflake(),
        guildId: gid,
      });
      if (existing && commandChanged(existing, next)) next.version = snowflake();
      return next;
    };
    if (rest.length === 0) {
      if (method === 'GET') return { status: 200, payload: [...store.values()] };
      if (method === 'PUT') {
        // Bulk overwrite: the list replaces every command; a command keeps its id when its name and type stay.
        if (!Array.isArray(body)) throw formError('_root', 'BASE_TYPE_ARRAY', 'Must be an array.');
        if (body.filter((c: JsonObject) => Number(c?.type ?? 1) === 1).length > 100) {
          throw new HttpError(400, { message: 'Maximum number of application commands reached (100)', code: 30032 });
        }
        const seen: JsonObject[] = [];
        const next = body.map((b: JsonObject, i: number) => {
          if (seen.some((x) => sameKey(x, b ?? {})))
            throw formError(String(i), 'APPLICATION_COMMANDS_DUPLICATE_NAME', `Application command names must be unique`);
          seen.push(b ?? {});
          return save(
            b,
            String(i),
            [...store.values()].find((c) => sameKey(c, b ?? {})),
          );
        });
        store.clear();
        for (const c of next) store.set(c.id, c);
        return { status: 200, payload: next };
      }
      if (method === 'POST') {
        const b = (body ?? {}) as JsonObject;
        const existing = [...store.values()].find((c) => sameKey(c, b));
        const c = save(b, '', existing);
        store.set(c.id, c);
        return { status: existing ? 200 : 201, payload: c };
      }
      throw notFound();
    }
    if (rest.length === 1) {
      const c = store.get(rest[0]!);
      if (!c) throw notFound('Unknown application command', 10063);
      if (method === 'GET') return { status: 200, payload: c };
      if (method === 'PATCH') {
        const next = save({ ...c, ...(body as JsonObject) }, '', c);
        store.set(c.id, next);
        return { status: 200, payload: next };
      }
      if (method === 'DELETE') {
        store.delete(c.id);
        return { status: 204 };
      }
    }
    throw notFound();
  }

  // -------------------------------------------------------------------------------------------
  // Interactions

  function partialChannel(ch: FakeChannel, perms?: bigint): JsonObject {
    const out: JsonObject = {};
    for (const k of [
      'id',
      'name',
      'type',
      'last_message_id',
      'last_pin_timestamp',
      'nsfw',
      'parent_id',
      'guild_id',
      'flags',
      'rate_limit_per_user',
      'topic',
      'position',
      'thread_metadata',
    ]) {
      if (k in ch) out[k] = ch[k];
    }
    if (perms !== undefined) out.permissions = perms.toString();
    return out;
  }

  function recordResponse(st: InteractionState, r: Omit<InteractionResponse, 'at' | 'afterMs'>): void {
    const full: InteractionResponse = { ...r, at: performance.now(), afterMs: Date.now() - st.createdAtMs };
    const list = st.handle.responses;
    list.push(full);
    if (list.length > MAX_RESPONSES) list.shift();
    for (const w of [...st.waiters]) w(full);
  }

  async function createInteraction(o: {
    type: 2 | 3;
    channel: FakeChannel;
    userId: string;
    perms: bigint;
    locale: string;
    data: JsonObject;
    message?: FakeMessage;
    commandName?: string;
    customId?: string;
  }): Promise<FakeInteraction> {
    const gid = o.channel.guild_id;
    const id = snowflake();
    const tok = Buffer.from(`interaction:${id}:${randomBytes(48).toString('base64url')}`).toString('base64url');
    const raw: JsonObject = {
      id,
      application_id: applicationId,
      type: o.type,
      data: o.data,
      guild: { id: gid, locale: 'en-US', features: [] },
      guild_id: gid,
      channel: partialChannel(o.channel, o.perms),
      channel_id: o.channel.id,
      member: { ...memberOf(gid, o.userId), user: users.get(o.userId), permissions: o.perms.toString() },
      token: tok,
      version: 1,
      app_permissions: permissionsIn(botId, o.channel).toString(),
      locale: o.locale,
      guild_locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': gid },
      context: 0,
      attachment_size_limit: 10 * 1024 * 1024,
    };
    if (o.message) raw.message = o.message.raw;
    const responses: InteractionResponse[] = [];
    const st: InteractionState = {
      handle: undefined as unknown as FakeInteraction,
      createdAtMs: Date.now(),
      ackType: null,
      originalId: null,
      loading: false,
      followUpIds: [],
      waiters: new Set(),
    };
    const handle: FakeInteraction = {
      id,
      token: tok,
      type: o.type,
      raw,
      guildId: gid,
      channelId: o.channel.id,
      userId: o.userId,
      ...(o.commandName !== undefined ? { commandName: o.commandName } : {}),
      ...(o.customId !== undefined ? { customId: o.customId } : {}),
      ...(o.message ? { messageId: o.message.id } : {}),
      createdAt: performance.now(),
      responses,
      get callback() {
        return responses.find((r) => r.kind === 'callback' && r.status < 300);
      },
      original: () => (st.originalId ? messages.get(st.originalId) : undefined),
      followUps: () => st.followUpIds.map((m) => messages.get(m)).filter((m): m is FakeMessage => !!m),
      waitFor(pred = (r) => r.status < 300, timeoutMs = 5000) {
        const hit = responses.find(pred);
        if (hit) return Promise.resolve(hit);
        return new Promise<InteractionResponse>((resolve, reject) => {
          const waiter = (r: InteractionResponse) => {
            if (!pred(r)) return;
            clearTimeout(timer);
            st.waiters.delete(waiter);
            resolve(r);
          };
          const timer = setTimeout(() => {
            st.waiters.delete(waiter);
            const seen = responses.map((r) => `${r.kind}${r.type ? ` ${r.type}` : ''} → ${r.status}`).join('; ');
            reject(new Error(`fake discord: no matching response to interaction ${id} within ${timeoutMs} ms (seen: ${seen || 'none'})`));
          }, timeoutMs);
          st.waiters.add(waiter);
        });
      },
    };
    st.handle = handle;
    interactionStates.set(id, st);
    interactionsByToken.set(tok, st);
    interactions.set(id, handle);
    if (interactions.size > MAX_LOG) {
      const oldest = interactionStates.values().next().value as InteractionState;
      interactionStates.delete(oldest.handle.id);
      interactionsByToken.delete(oldest.handle.token);
      interactions.delete(oldest.handle.id);
    }
    await dispatchGuild(gid, 'INTERACTION_CREATE', raw);
    return handle;
  }

  /** A message made through an interaction: its response (`original`, `loading` for a defer) or a follow-up. */
  function interactionMessage(
    st: InteractionState,
    ch: FakeChannel,
    data: JsonObject,
    kind: 'original' | 'loading' | 'followup',
  ): FakeMessage {
    const h = st.handle;
    const flags = Number(data.flags ?? 0);
    const ephemeral = (flags & FLAG_EPHEMERAL) !== 0;
    const user = users.get(h.userId)!;
    const meta: JsonObject = { id: h.id, type: h.type, user, authorizing_integration_owners: { '0': h.guildId } };
    if (h.type === 3) meta.interacted_message_id = h.messageId;
    else Object.assign(meta, { name: h.commandName, command_type: 1 });
    if (kind === 'followup') meta.original_response_message_id = st.originalId;
    // A response to a component replies to the component's message; a follow-up to the original.
    let type = h.type === 2 ? 20 : 0;
    let reference: JsonObject | undefined;
    let referenced: FakeMessage | undefined;
    const replyTo = kind === 'followup' ? st.originalId : h.type === 3 ? h.messageId : null;
    const target = replyTo ? messages.get(replyTo) : undefined;
    if (target && !target.deleted) {
      referenced = target;
      reference = { type: 0, channel_id: target.channelId, message_id: target.id, guild_id: target.guildId };
      type = 19;
    }
    const content = typeof data.content === 'string' ? data.content : '';
    const extra: JsonObject = {
      embeds: Array.isArray(data.embeds) ? data.embeds : [],
      components: Array.isArray(data.components) ? data.components : [],
      flags: (flags & (FLAG_EPHEMERAL | (1 << 2) | (1 << 12) | (1 << 15))) | (kind === 'loading' ? FLAG_LOADING : 0),
      tts: !!data.tts,
      webhook_id: applicationId,
      application_id: applicationId,
      interaction_metadata: meta,
    };
    if (h.type === 2 && kind !== 'followup') {
      extra.interaction = { id: h.id, type: 2, name: h.commandName, user, member: memberOf(h.guildId, h.userId) };
    }
    const msg = makeMessage({
      channel: ch,
      author: botUser,
      content,
      type,
      mentions: mentionsFromContent(content),
      reference,
      referenced,
      extra,
      fromBot: true,
      allowedMentions: data.allowed_mentions,
      defaultParse: ['users'],
      visibleTo: ephemeral ? h.userId : undefined,
    });
    msg.interactionId = h.id;
    if (data.allowed_mentions !== undefined) msg.allowedMentions = data.allowed_mentions;
    if (kind === 'loading') {
      // Nothing is said yet: mentions in the first edit are the ones that notify.
      msg.pings = { users: [], roles: [], everyone: false, repliedUser: null };
      st.loading = true;
    }
    if (kind === 'followup') st.followUpIds.push(msg.id);
    else st.originalId = msg.id;
    return msg;
  }

  /** Edit a message through the interaction webhook; the first edit of a loading message is when it is said. */
  function editInteractionMessage(st: InteractionState, msg: FakeMessage, body: JsonObject): void {
    checkContent(body, false);
    const wasLoading = ((msg.raw.flags ?? 0) & FLAG_LOADING) !== 0;
    // Ephemeral and loading are Discord's to set; only suppress-embeds and components v2 can change.
    const editable = (1 << 2) | (1 << 15);
    const flags = ((msg.raw.flags ?? 0) & ~FLAG_LOADING & ~editable) | (Number(body.flags ?? msg.raw.flags ?? 0) & editable);
    if (body.components !== undefined) {
      const p = componentsProblem(body.components, flags);
      if (p) throw problemError(p);
    }
    if (body.allowed_mentions !== undefined) msg.allowedMentions = body.allowed_mentions;
    applyEdit(msg, { ...body, flags });
    if (wasLoading) {
      const ch = getChannel(msg.channelId);
      msg.pings = pingsFor({
        channel: ch,
        authorId: botId,
        text: mentionText(msg.content, msg.raw.components),
        allowedMentions: msg.allowedMentions,
        defaultParse: ['users'],
        repliedAuthorId: msg.messageReference ? (messages.get(String(msg.messageReference.message_id))?.authorId ?? null) : null,
      });
      msg.raw.mention_everyone = msg.pings.everyone;
    }
    if (msg.id === st.originalId) st.loading = false;
  }

  function interactionCallbackRoute(seg: string[], query: Record<string, string>, body: JsonObject | undefined): RouteResult {
    if (seg.length !== 4 || seg[3] !== 'callback') throw notFound();
    const st = interactionStates.get(seg[1]!);
    if (!st || st.handle.token !== seg[2]) throw notFound('Unknown interaction', 10062);
    const b = body ?? {};
    const data = (b.data && typeof b.data === 'object' ? b.data : {}) as JsonObject;
    const type = Number(b.type);
    const flags = Number(data.flags ?? 0);
    const base = {
      kind: 'callback' as const,
      type,
      flags,
      ephemeral: (flags & FLAG_EPHEMERAL) !== 0,
      content: data.content,
      components: data.components,
      embeds: data.embeds,
      allowedMentions: data.allowed_mentions,
      body: b,
    };
    try {
      if (st.ackType !== null) throw new HttpError(400, { message: 'Interaction has already been acknowledged.', code: 40060 });
      if (Date.now() - st.createdAtMs > callbackWindowMs) throw notFound('Unknown interaction', 10062);
      const allowed = st.handle.type === 3 ? [4, 5, 6, 7, 9] : [4, 5, 9];
      if (!allowed.includes(type)) throw formError('type', 'BASE_TYPE_CHOICES', `Value must be one of (${allowed.join(', ')}).`);
      const ch = getChannel(st.handle.channelId);
      let msg: FakeMessage | undefined;
      let event: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE' | null = null;
      if (type === 4) {
        checkContent(data, true);
        msg = interactionMessage(st, ch, data, 'original');
        event = 'MESSAGE_CREATE';
      } else if (type === 5) {
        msg = interactionMessage(st, ch, { flags: flags & FLAG_EPHEMERAL }, 'loading');
        event = 'MESSAGE_CREATE';
      } else if (type === 6 || type === 7) {
        msg = messages.get(st.handle.messageId!);
        if (!msg || msg.deleted) throw notFound('Unknown Message', 10008);
        if (type === 7) {
          checkContent(data, false);
          if (data.components !== undefined) {
            const p = componentsProblem(data.components, Number(data.flags ?? msg.raw.flags ?? 0));
            if (p) throw problemError(p);
          }
          const { flags: _f, allowed_mentions: _a, ...edit } = data;
          applyEdit(msg, edit);
          event = 'MESSAGE_UPDATE';
        }
        st.originalId = msg.id;
      } else if (type === 9) {
        if (typeof data.custom_id !== 'string' || !data.custom_id)
          throw formError('data.custom_id', 'BASE_TYPE_REQUIRED', 'This field is required');
        if (typeof data.title !== 'string' || data.title.length < 1 || data.title.length > 45)
          throw formError('data.title', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 45 in length.');
      }
      st.ackType = type;
      const withResponse = query.with_response === 'true';
      recordResponse(st, { ...base, ...(msg ? { messageId: msg.id } : {}), status: withResponse ? 200 : 204 });
      const shown = msg;
      const after = () => {
        if (shown && event) void broadcastMessageEvent(event, shown.raw, shown, dispatchOwn);
      };
      if (!withResponse) return { status: 204, after };
      return {
        status: 200,
        payload: {
          interaction: {
            id: st.handle.id,
            type: st.handle.type,
            ...(shown && type !== 6
              ? { response_message_id: shown.id, response_message_loading: type === 5, response_message_ephemeral: !!shown.ephemeral }
              : {}),
          },
          resource: { type, ...(shown && (type === 4 || type === 7) ? { message: shown.raw } : {}) },
        },
        after,
      };
    } catch (err) {
      if (err instanceof HttpError) recordResponse(st, { ...base, status: err.status, code: Number(err.payload.code) });
      throw err;
    }
  }

  function webhookRoute(method: string, seg: string[], body: JsonObject | undefined): RouteResult {
    // Only interaction webhooks are modelled: /webhooks/{application}/{interaction token}[/messages/{id}].
    const st = interactionsByToken.get(seg[2] ?? '');
    if (!st || seg[1] !== applicationId) throw unknownWebhook();
    const b = body ?? {};
    const isPost = method === 'POST' && seg.length === 3;
    const target = seg[3] === 'messages' && seg.length === 5 ? decodeURIComponent(seg[4]!) : undefined;
    if (!isPost && target === undefined) throw notFound();
    const kind = isPost ? ('followup' as const) : method === 'PATCH' ? ('edit' as const) : method === 'DELETE' ? ('delete' as const) : null;
    const flags = Number(b.flags ?? 0);
    const base = {
      flags,
      ephemeral: (flags & FLAG_EPHEMERAL) !== 0,
      content: b.content,
      components: b.components,
      embeds: b.embeds,
      allowedMentions: b.allowed_mentions,
      body: b,
      ...(target !== undefined ? { target } : {}),
    };
    let touched: FakeMessage | undefined;
    let editsOriginal = false;
    const run = (): RouteResult => {
      // The token lasts 15 minutes, and dies with an interaction not acknowledged in time.
      if (Date.now() - st.createdAtMs > tokenTtlMs || st.ackType === null) throw unknownWebhook();
      const ch = getChannel(st.handle.channelId);
      if (isPost) {
        checkContent(b, true);
        if (st.loading && st.ackType === 5 && st.originalId) {
          // Discord: a follow-up right after a defer edits the loading message (its ephemeral state stays).
          const m = messages.get(st.originalId)!;
          const { flags: _f, ...rest } = b;
          editInteractionMessage(st, m, rest);
          touched = m;
          editsOriginal = true;
          return { status: 200, payload: m.raw, after: () => void broadcastMessageEvent('MESSAGE_UPDATE', m.raw, m, dispatchOwn) };
        }
        const m = interactionMessage(st, ch, b, 'followup');
        touched = m;
        return { status: 200, payload: m.raw, after: () => void broadcastMessageEvent('MESSAGE_CREATE', m.raw, m, dispatchOwn) };
      }
      const mid = target === '@original' ? st.originalId : target;
      const m = mid ? messages.get(mid) : undefined;
      if (!m || m.deleted || !(mid === st.originalId || st.followUpIds.includes(mid!))) throw notFound('Unknown Message', 10008);
      touched = m;
      if (method === 'GET') return { status: 200, payload: m.raw };
      if (method === 'PATCH') {
        if (isThreadType(ch.type) && ch.thread_metadata?.archived) throw archivedThread();
        editInteractionMessage(st, m, b);
        return { status: 200, payload: m.raw, after: () => void broadcastMessageEvent('MESSAGE_UPDATE', m.raw, m, dispatchOwn) };
      }
      if (method === 'DELETE') {
        m.deleted = true;
        return {
          status: 204,
          after: () =>
            void broadcastMessageEvent('MESSAGE_DELETE', { id: m.id, channel_id: m.channelId, guild_id: m.guildId }, m, dispatchOwn),
        };
      }
      throw notFound();
    };
    try {
      const out = run();
      if (kind) {
        recordResponse(st, {
          kind,
          ...base,
          ...(touched ? { messageId: touched.id, ephemeral: !!touched.ephemeral } : {}),
          ...(editsOriginal ? { editsOriginal } : {}),
          status: out.status,
        });
      }
      return out;
    } catch (err) {
      if (kind && err instanceof HttpError) recordResponse(st, { kind, ...base, status: err.status, code: Number(err.payload.code) });
      throw err;
    }
  }

  function optionResolvers(ch: FakeChannel, invoker: string): OptionResolvers {
    const g = getGuild(ch.guild_id);
    return {
      user: (id) => users.get(id),
      member: (id) => {
        if (!users.has(id)) return undefined;
        const { deaf: _d, mute: _m, ...m } = memberOf(g.id, id);
        return { ...m, permissions: permissionsIn(id, ch).toString() };
      },
      channel: (id) => {
        const c = channels.get(id);
        return c && c.guild_id === g.id ? partialChannel(c, permissionsIn(invoker, c)) : undefined;
      },
      role: (id) => g.roles.get(id),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Threads

  function checkThreadBody(b: JsonObject): void {
    if (typeof b.name !== 'string' || b.name.length < 1 || b.name.length > 100) {
      throw formError('name', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    }
    if (b.auto_archive_duration !== undefined && b.auto_archive_duration !== null && !AUTO_ARCHIVE.has(Number(b.auto_archive_duration))) {
      throw formError('auto_archive_duration', 'BASE_TYPE_CHOICES', 'Value must be one of (60, 1440, 4320, 10080).');
    }
    const rl = b.rate_limit_per_user;
    if (rl !== undefined && rl !== null && !(Number.isInteger(rl) && rl >= 0 && rl <= 21600)) {
      throw formError('rate_limit_per_user', 'INT_TYPE_COERCE', 'int value should be between 0 and 21600.');
    }
  }

  function checkTags(forum: FakeChannel, tags: unknown): string[] {
    const list = Array.isArray(tags) ? tags.map(String) : [];
    if (list.length > 5) throw formError('applied_tags', 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
    const known = new Set(((forum.available_tags ?? []) as JsonObject[]).map((t) => String(t.id)));
    if (list.some((t) => !known.has(t))) throw formError('applied_tags', 'FORUM_TAG_UNKNOWN', 'Unknown forum tag');
    if (list.length === 0 && ((forum.flags ?? 0) & (1 << 4)) !== 0) {
      throw new HttpError(400, { message: 'A tag is required to create a forum post in this channel', code: 40067 });
    }
    return list;
  }

  function createThread(o: {
    parent: FakeChannel;
    id?: string;
    name: string;
    type: number;
    ownerId: string;
    body?: JsonObject;
    appliedTags?: string[];
  }): FakeChannel {
    const now = iso();
    const metadata: JsonObject = {
      archived: false,
      auto_archive_duration: Number(o.body?.auto_archive_duration ?? o.parent.default_auto_archive_duration ?? 1440),
      archive_timestamp: now,
      locked: false,
      create_timestamp: now,
    };
    if (o.type === 12) metadata.invitable = o.body?.invitable !== false;
    return addChannelInternal({
      ...(o.id ? { id: o.id } : {}),
      type: o.type,
      name: o.name,
      parent_id: o.parent.id,
      owner_id: o.ownerId,
      rate_limit_per_user: Number(o.body?.rate_limit_per_user ?? 0),
      thread_metadata: metadata,
      ...(isForumType(o.parent.type) ? { applied_tags: o.appliedTags ?? [] } : {}),
    });
  }

  /** THREAD_MEMBERS_UPDATE: always for the bot's own membership, else only with the Guild Members intent. */
  function announceMembers(th: FakeChannel, added: string[], removed: string[]): void {
    const members = threadMembers.get(th.id) ?? new Map<string, string>();
    const d: JsonObject = { id: th.id, guild_id: th.guild_id, member_count: members.size };
    if (added.length)
      d.added_members = added.map((u) => ({ ...threadMemberJson(th.id, u), member: { ...memberOf(th.guild_id, u), user: users.get(u) } }));
    if (removed.length) d.removed_member_ids = removed;
    const aboutBot = added.includes(botId) || removed.includes(botId);
    for (const s of sessionsFor(th.guild_id)) {
      if (aboutBot || (s.intents & INTENT_GUILD_MEMBERS) !== 0) void sessionDispatch(s, 'THREAD_MEMBERS_UPDATE', d);
    }
  }

  /** A new thread: THREAD_CREATE (newly_created), then the bot's membership if it is in it. */
  function announceThread(th: FakeChannel): Promise<void> {
    const p = dispatchGuild(th.guild_id, 'THREAD_CREATE', { ...th, newly_created: true }, INTENT_GUILDS);
    if (threadMembers.get(th.id)?.has(botId)) announceMembers(th, [botId], []);
    return p;
  }

  function threadRoute(
    method: string,
    seg: string[],
    ch: FakeChannel,
    _query: Record<string, string>,
    body: JsonObject | undefined,
  ): RouteResult | null {
    const b = body ?? {};
    const wrongType = () => new HttpError(400, { message: 'Cannot execute action on this channel type', code: 50024 });
    if (method === 'POST' && seg.length === 5 && seg[2] === 'messages' && seg[4] === 'threads') {
      if (ch.type !== 0 && ch.type !== 5) throw wrongType();
      requireBot(ch, PERMISSIONS.CreatePublicThreads);
      const starter = getMessage(ch.id, seg[3]!);
      if (channels.has(starter.id))
        throw new HttpError(400, { message: 'A thread has already been created for this message', code: 160004 });
      checkThreadBody(b);
      const th = createThread({ parent: ch, id: starter.id, name: b.name, type: ch.type === 5 ? 10 : 11, ownerId: botId, body: b });
      starter.raw.flags = (starter.raw.flags ?? 0) | FLAG_HAS_THREAD;
      starter.raw.thread = channelView(th);
      return {
        status: 201,
        payload: channelView(th),
        after: () => {
          void announceThread(th);
          void broadcastMessageEvent('MESSAGE_UPDATE', starter.raw, starter, dispatchOwn);
        },
      };
    }
    if (method === 'POST' && seg.length === 3 && seg[2] === 'threads') {
      checkThreadBody(b);
      if (isForumType(ch.type)) {
        // A forum post: the thread and its starter message, which has the thread's id.
        requireBot(ch, PERMISSIONS.SendMessages);
        const m = b.message as JsonObject | undefined;
        if (!m || typeof m !== 'object') throw formError('message', 'BASE_TYPE_REQUIRED', 'This field is required');
        checkContent(m, true);
        const tags = checkTags(ch, b.applied_tags);
        const id = snowflake();
        const th = createThread({ parent: ch, id, name: b.name, type: 11, ownerId: botId, body: b, appliedTags: tags });
        const content = typeof m.content === 'string' ? m.content : '';
        const starter = makeMessage({
          channel: th,
          author: botUser,
          content,
          type: 0,
          mentions: mentionsFromContent(content),
          extra: {
            embeds: Array.isArray(m.embeds) ? m.embeds : [],
            components: Array.isArray(m.components) ? m.components : [],
            flags: typeof m.flags === 'number' ? m.flags : 0,
          },
          fromBot: true,
          id,
          allowedMentions: m.allowed_mentions,
        });
        if (m.allowed_mentions !== undefined) starter.allowedMentions = m.allowed_mentions;
        return {
          status: 201,
          payload: { ...channelView(th), message: starter.raw },
          after: () => {
            void announceThread(th);
            void broadcastMessageEvent('MESSAGE_CREATE', starter.raw, starter, dispatchOwn);
          },
        };
      }
      if (ch.type !== 0 && ch.type !== 5) throw wrongType();
      // Without a message: `type` defaults to a private thread, as the API documents.
      const type = b.type === undefined || b.type === null ? (ch.type === 5 ? 10 : 12) : Number(b.type);
      if (!(ch.type === 0 ? [11, 12] : [10]).includes(type))
        throw formError('type', 'BASE_TYPE_CHOICES', 'Value must be one of (10, 11, 12).');
      requireBot(ch, type === 12 ? PERMISSIONS.CreatePrivateThreads : PERMISSIONS.CreatePublicThreads);
      const th = createThread({ parent: ch, name: b.name, type, ownerId: botId, body: b });
      // A public thread without a starter message is announced in the parent (type 18).
      const notice =
        type === 12
          ? undefined
          : makeMessage({
              channel: ch,
              author: botUser,
              content: th.name,
              type: 18,
              mentions: [],
              extra: { message_reference: { channel_id: th.id, guild_id: th.guild_id } },
              fromBot: true,
              allowedMentions: { parse: [] },
            });
      return {
        status: 201,
        payload: channelView(th),
        after: () => {
          void announceThread(th);
          if (notice) void broadcastMessageEvent('MESSAGE_CREATE', notice.raw, notice, dispatchOwn);
        },
      };
    }
    if (method === 'GET' && seg.length === 5 && seg[2] === 'threads' && seg[3] === 'archived' && seg[4] === 'public') {
      const list = [...channels.values()]
        .filter((t) => t.parent_id === ch.id && (t.type === 10 || t.type === 11) && t.thread_metadata?.archived)
        .sort((x, y) => String(y.thread_metadata.archive_timestamp).localeCompare(String(x.thread_metadata.archive_timestamp)));
      return {
        status: 200,
        payload: { threads: list, members: list.map((t) => threadMemberJson(t.id, botId)).filter(Boolean), has_more: false },
      };
    }
    if (isThreadType(ch.type) && seg[2] === 'thread-members') {
      const members = threadMembers.get(ch.id)!;
      if (method === 'GET' && seg.length === 3) return { status: 200, payload: [...members.keys()].map((u) => threadMemberJson(ch.id, u)) };
      const who = seg[3] === undefined ? undefined : decodeURIComponent(seg[3]) === '@me' ? botId : seg[3];
      if (seg.length === 4 && who) {
        if (method === 'GET') {
          const m = threadMemberJson(ch.id, who);
          if (!m) throw notFound('Unknown Member', 10007);
          return { status: 200, payload: m };
        }
        if (method === 'PUT') {
          if (ch.thread_metadata?.archived) throw archivedThread();
          if (!users.has(who)) throw notFound('Unknown User', 10013);
          if (members.has(who)) return { status: 204 };
          members.set(who, iso());
          ch.member_count = members.size;
          return { status: 204, after: () => announceMembers(ch, [who], []) };
        }
        if (method === 'DELETE') {
          if (!members.delete(who)) return { status: 204 };
          ch.member_count = members.size;
          return { status: 204, after: () => announceMembers(ch, [], [who]) };
        }
      }
      throw notFound();
    }
    if (method === 'PATCH' && seg.length === 2) {
      if (!isThreadType(ch.type)) {
        requireBot(ch, PERMISSIONS.ManageChannels);
        for (const k of ['name', 'topic', 'nsfw', 'rate_limit_per_user', 'available_tags', 'flags']) if (k in b) ch[k] = b[k];
        return { status: 200, payload: ch, after: () => void dispatchGuild(ch.guild_id, 'CHANNEL_UPDATE', ch, INTENT_GUILDS) };
      }
      // Thread edits, as the threads topic documents who may do what.
      const md = ch.thread_metadata as JsonObject;
      const manage = (permissionsIn(botId, ch) & PERMISSIONS.ManageThreads) !== 0n;
      const owner = ch.owner_id === botId;
      if (md.archived && b.archived !== false) throw archivedThread();
      if (md.archived && b.archived === false) {
        if (md.locked ? !(manage || owner) : !(manage || threadMembers.get(ch.id)?.has(botId))) throw missingPermissions();
      }
      if (('name' in b || 'auto_archive_duration' in b || b.archived === true) && !manage && !owner) throw missingPermissions();
      if (('locked' in b || 'rate_limit_per_user' in b) && !manage) throw missingPermissions();
      checkThreadBody({ name: ch.name, ...b });
      if ('name' in b) ch.name = b.name;
      if ('rate_limit_per_user' in b) ch.rate_limit_per_user = b.rate_limit_per_user;
      if ('auto_archive_duration' in b) md.auto_archive_duration = b.auto_archive_duration;
      if ('applied_tags' in b && Array.isArray(b.applied_tags)) ch.applied_tags = b.applied_tags.map(String);
      if ('archived' in b || 'locked' in b)
        setArchived(ch, 'archived' in b ? !!b.archived : !!md.archived, 'locked' in b ? !!b.locked : undefined);
      return { status: 200, payload: channelView(ch), after: () => void dispatchGuild(ch.guild_id, 'THREAD_UPDATE', ch, INTENT_GUILDS) };
    }
    return null;
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
    if (gatewayHold) {
      gatewayHold.push({ conn, text });
      return Promise.resolve();
    }
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

  /** The sessions whose shard owns a guild; events without a guild go to shard 0, as on Discord. */
  function sessionsFor(gid: string | null | undefined): Session[] {
    return [...sessions.values()].filter((s) => {
      const [id, count] = s.shard;
      return gid && /^\d+$/.test(gid) ? shardOf(gid, count) === id : id === 0;
    });
  }

  /** Dispatch a guild's event to its shard's sessions (that have `intent`, if given). */
  async function dispatchGuild(gid: string | null, t: string, d: unknown, intent = 0): Promise<void> {
    await Promise.all(
      sessionsFor(gid)
        .filter((s) => !intent || (s.intents & intent) !== 0)
        .map((s) => sessionDispatch(s, t, d)),
    );
  }

  async function broadcastMessageEvent(t: string, d: JsonObject, msg: FakeMessage, includeBotOwn: boolean): Promise<void> {
    if (msg.fromBot && !includeBotOwn) return;
    if (msg.ephemeral) return; // only the invoking user's client sees ephemeral messages
    const mentionsBot = (msg.raw.mentions as FakeUser[]).some((u) => u.id === botId);
    const ps: Promise<void>[] = [];
    for (const s of sessionsFor(msg.guildId)) {
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

  function shardGuilds(s: Session): string[] {
    return [...guilds.keys()].filter((gid) => shardOf(gid, s.shard[1]) === s.shard[0]);
  }

  function shardStat(shard: [number, number]): ShardStats {
    const key = `${shard[0]}/${shard[1]}`;
    let st = shardStatsMap.get(key);
    if (!st) {
      st = { shardId: shard[0], shardCount: shard[1], identifies: 0, resumes: 0, connected: 0, identifiesTooSoon: 0 };
      shardStatsMap.set(key, st);
    }
    return st;
  }

  function isLive(s: Session): boolean {
    return !!s.conn && s.conn.ws.readyState === WebSocket.OPEN;
  }

  function readyPayload(s: Session): JsonObject {
    return {
      v: 10,
      user_settings: {},
      user: botUser,
      guilds: shardGuilds(s).map((id) => ({ id, unavailable: true })),
      session_id: s.id,
      session_type: 'normal',
      resume_gateway_url: gatewayUrl,
      shard: s.shard,
      application: { id: applicationId, flags: 0 },
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
        const privileged: [number, boolean | undefined][] = [
          [INTENT_MESSAGE_CONTENT, opts.messageContentIntent],
          [INTENT_GUILD_MEMBERS, opts.guildMembersIntent],
          [INTENT_GUILD_PRESENCES, opts.presenceIntent],
        ];
        if (privileged.some(([bit, enabled]) => enabled === false && (d.intents & bit) !== 0)) {
          return closeConn(conn, 4014, 'Disallowed intent(s).');
        }
        let shard: [number, number] = [0, 1];
        if (d.shard !== undefined) {
          const [sid, count] = Array.isArray(d.shard) ? d.shard : [];
          if (!Number.isInteger(sid) || !Number.isInteger(count) || count < 1 || sid < 0 || sid >= count) {
            return closeConn(conn, 4010, 'Invalid shard.');
          }
          shard = [sid, count];
        }
        const mismatch = [...sessions.values()].some((x) => isLive(x) && x.shard[1] !== shard[1]);
        if (mismatch) {
          stats.shardCountMismatches++;
          if (opts.strictShardCount) return closeConn(conn, 4010, 'Invalid shard.');
        }
        stats.identifies++;
        const st = shardStat(shard);
        st.identifies++;
        const key = shard[0] % maxConcurrency;
        const last = lastIdentifyAt.get(key);
        if (last !== undefined && Date.now() - last < 5000) {
          st.identifiesTooSoon++;
          stats.identifiesTooSoon++;
        }
        lastIdentifyAt.set(key, Date.now());
        const s: Session = {
          id: hashOf(snowflake()) + hashOf(String(Math.random())),
          token,
          intents: d.intents,
          shard,
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
          for (const gid of shardGuilds(s)) void sessionDispatch(s, 'GUILD_CREATE', guildJson(gid));
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
        shardStat(s.shard).resumes++;
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
        const gid = Array.isArray(d?.guild_id) ? String(d.guild_id[0]) : String(d?.guild_id ?? guildId);
        const wanted: string[] = Array.isArray(d?.user_ids)
          ? d.user_ids.map(String)
          : typeof d?.user_ids === 'string'
            ? [d.user_ids]
            : [botId];
        const found = wanted.filter((u) => users.has(u));
        void sessionDispatch(conn.session, 'GUILD_MEMBERS_CHUNK', {
          guild_id: gid,
          members: found.map((u) => ({ ...memberOf(gid, u), user: users.get(u) })),
          chunk_index: 0,
          chunk_count: 1,
          not_found: wanted.filter((u) => !users.has(u)),
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
      for (const s of sessionsFor(ch.guild_id)) {
        void sessionDispatch(s, isThread ? 'THREAD_CREATE' : 'CHANNEL_CREATE', isThread ? { ...ch, newly_created: true } : ch);
      }
      return ch;
    },

    async userMessage(o) {
      const ch = channels.get(o.channelId);
      if (!ch) throw new Error(`fake discord: unknown channel ${o.channelId}`);
      if (isForumType(ch.type)) throw new Error(`fake discord: ${ch.id} is a forum; use forumPost`);
      const author = ensureUser(o.authorId ?? userId, o.authorName, o.authorBot);
      const unarchive = isThreadType(ch.type) && !!ch.thread_metadata?.archived;
      if (unarchive && ch.thread_metadata?.locked && !(permissionsIn(author.id, ch) & PERMISSIONS.ManageThreads)) {
        throw new Error(`fake discord: thread ${ch.id} is archived and locked; ${author.id} cannot post`);
      }
      const mentions = mentionsFromContent(o.content);
      if (o.mentionsBot && !mentions.some((u) => u.id === botId)) mentions.push(botUser);
      let reference: JsonObject | undefined;
      let referenced: FakeMessage | undefined;
      if (o.replyToMessageId) {
        referenced = messages.get(o.replyToMessageId);
        if (!referenced) throw new Error(`fake discord: unknown message ${o.replyToMessageId}`);
        reference = { type: 0, channel_id: referenced.channelId, message_id: referenced.id, guild_id: referenced.guildId };
        if (o.replyPing !== false) {
          const a = users.get(referenced.authorId);
          if (a && !mentions.some((u) => u.id === a.id)) mentions.push(a);
        }
      }
      if (unarchive) {
        setArchived(ch, false);
        await dispatchGuild(ch.guild_id, 'THREAD_UPDATE', ch, INTENT_GUILDS);
      }
      if (joinOnPost(ch, author.id)) announceMembers(ch, [author.id], []);
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
        repliedAuthorId: referenced && o.replyPing !== false ? referenced.authorId : null,
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
          const recent = calls
            .slice(-8)
            .map((c) => `${c.method} ${c.path} → ${c.status}`)
            .join('; ');
          reject(new Error(`fake discord: no matching REST call within ${timeoutMs} ms (recent: ${recent || 'none'})`));
        }, timeoutMs);
        callWaiters.add(waiter);
      });
    },

    failNext(match, spec, times = 1) {
      failures.push({ match, spec, remaining: times });
    },

    delayNext(match, ms) {
      return new Promise<void>((arrived) => delays.push({ match, ms, arrived }));
    },

    holdGateway() {
      gatewayHold ??= [];
    },

    releaseGateway() {
      const frames = gatewayHold ?? [];
      gatewayHold = null;
      for (const { conn, text } of frames) if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(text);
    },

    closeGateway(code, reason = '', shardId?: number) {
      for (const c of [...conns]) {
        if (shardId === undefined || c.session?.shard[0] === shardId) closeConn(c, code, reason);
      }
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
      const gid = d && typeof d === 'object' && 'guild_id' in d ? String((d as JsonObject).guild_id) : null;
      await dispatchGuild(gid, t, d);
    },

    liveSessions() {
      return [...sessions.values()].filter((s) => s.conn && s.conn.ws.readyState === WebSocket.OPEN).length;
    },

    applicationId,
    guildIds: [...guilds.keys()],
    ownerId,
    interactions,

    addUser(o = {}) {
      return ensureUser(o.id ?? snowflake(), o.name, o.bot);
    },

    addRole(o) {
      const g = getGuild(o.guildId ?? guildId);
      const id = o.id ?? snowflake();
      if (g.roles.has(id)) throw new Error(`fake discord: role ${id} exists`);
      const role: JsonObject = {
        ...everyoneRole(id),
        name: o.name,
        permissions: toBits(o.permissions ?? 0n).toString(),
        position: g.roles.size,
        color: o.color ?? 0,
        mentionable: o.mentionable ?? false,
      };
      g.roles.set(id, role);
      void dispatchGuild(g.id, 'GUILD_ROLE_CREATE', { guild_id: g.id, role }, INTENT_GUILDS);
      return role;
    },

    setMemberRoles(uid, roleIds, gid = guildId) {
      const g = getGuild(gid);
      const u = users.get(uid);
      if (!u) throw new Error(`fake discord: unknown user ${uid}`);
      for (const r of roleIds) if (r === g.id || !g.roles.has(r)) throw new Error(`fake discord: no role ${r} in guild ${g.id}`);
      const st = g.members.get(uid) ?? { roles: [], joinedAt: startedAt };
      st.roles = [...new Set(roleIds)];
      g.members.set(uid, st);
      const d = { guild_id: g.id, ...memberOf(g.id, uid), user: u };
      for (const s of sessionsFor(g.id)) {
        if (uid === botId || (s.intents & INTENT_GUILD_MEMBERS) !== 0) void sessionDispatch(s, 'GUILD_MEMBER_UPDATE', d);
      }
    },

    member(uid, gid = guildId) {
      const u = users.get(uid);
      if (!u) throw new Error(`fake discord: unknown user ${uid}`);
      return { ...memberOf(getGuild(gid).id, uid), user: u };
    },

    permissionsOf(uid, channelId) {
      const ch = channels.get(channelId);
      if (!ch) throw new Error(`fake discord: unknown channel ${channelId}`);
      return permissionsIn(uid, ch);
    },

    setPermissionOverwrite(channelId, ow) {
      const ch = channels.get(channelId);
      if (!ch || isThreadType(ch.type))
        throw new Error(`fake discord: ${channelId} is not a channel with overwrites (threads use their parent's)`);
      const list = ((ch.permission_overwrites ?? []) as PermissionOverwrite[]).filter((x) => x.id !== ow.id);
      list.push({ id: ow.id, type: ow.type, allow: toBits(ow.allow ?? 0n).toString(), deny: toBits(ow.deny ?? 0n).toString() });
      ch.permission_overwrites = list;
      void dispatchGuild(ch.guild_id, 'CHANNEL_UPDATE', ch, INTENT_GUILDS);
    },

    denyBotPermissions(channelId, perms) {
      const ch = channels.get(channelId);
      const current = ((ch?.permission_overwrites ?? []) as PermissionOverwrite[]).find((x) => x.type === 1 && x.id === botId);
      const bits = toBits(perms);
      fake.setPermissionOverwrite(channelId, {
        id: botId,
        type: 1,
        allow: BigInt(current?.allow ?? 0) & ~bits,
        deny: BigInt(current?.deny ?? 0) | bits,
      });
    },

    commands(gid) {
      return [...(gid === undefined ? globalCommands : getGuild(gid).commands).values()];
    },

    async slashCommand(o) {
      const ch = channels.get(o.channelId ?? firstText?.id ?? '');
      if (!ch) throw new Error(`fake discord: unknown channel ${o.channelId}`);
      if (isForumType(ch.type)) throw new Error(`fake discord: ${ch.id} is a forum; commands run in its posts`);
      if (isThreadType(ch.type) && ch.thread_metadata?.archived)
        throw new Error(`fake discord: thread ${ch.id} is archived; Discord allows no commands there`);
      const g = getGuild(ch.guild_id);
      const cmd = [...g.commands.values(), ...globalCommands.values()].find((c) => c.name === o.name && c.type === 1);
      if (!cmd) throw new Error(`fake discord: /${o.name} is not registered (globally or in guild ${g.id})`);
      const uid = o.userId ?? userId;
      ensureUser(uid, o.userName);
      const perms = o.memberPermissions !== undefined ? toBits(o.memberPermissions) : permissionsIn(uid, ch);
      if (!o.ignoreDefaultPermissions && cmd.default_member_permissions !== null) {
        // Discord hides a command from members without its default permissions ("0": admins only).
        const need = BigInt(cmd.default_member_permissions);
        const admin = (perms & PERMISSIONS.Administrator) !== 0n;
        if (!admin && (need === 0n || (perms & need) !== need)) {
          throw new Error(`fake discord: ${uid} cannot use /${o.name}: default_member_permissions ${need}, member has ${perms}`);
        }
      }
      let defs = cmd.options as JsonObject[] | undefined;
      let where = `/${o.name}`;
      if (o.subcommandGroup) {
        const grp = defs?.find((d) => d.type === 2 && d.name === o.subcommandGroup);
        if (!grp) throw new Error(`fake discord: ${where} has no subcommand group ${o.subcommandGroup}`);
        defs = grp.options;
        where += ` ${grp.name}`;
      }
      if (o.subcommand) {
        const sub = defs?.find((d) => d.type === 1 && d.name === o.subcommand);
        if (!sub) throw new Error(`fake discord: ${where} has no subcommand ${o.subcommand}`);
        defs = sub.options;
        where += ` ${sub.name}`;
      } else if (!Array.isArray(o.options) && defs?.some((d) => d.type === 1 || d.type === 2)) {
        throw new Error(`fake discord: ${where} needs a subcommand`);
      }
      let options: JsonObject[];
      let resolved: JsonObject = {};
      if (Array.isArray(o.options)) options = o.options;
      else {
        ({ options, resolved } = interactionOptions(defs, o.options ?? {}, optionResolvers(ch, uid), where));
        if (o.subcommand) options = [{ type: 1, name: o.subcommand, options }];
        if (o.subcommandGroup) options = [{ type: 2, name: o.subcommandGroup, options }];
      }
      const data: JsonObject = { id: cmd.id, name: cmd.name, type: 1 };
      if (options.length > 0) data.options = options;
      if (Object.keys(resolved).length > 0) data.resolved = resolved;
      if (cmd.guild_id) data.guild_id = cmd.guild_id;
      return createInteraction({ type: 2, channel: ch, userId: uid, perms, locale: o.locale ?? 'en-US', data, commandName: cmd.name });
    },

    async pressButton(o) {
      const msg = messages.get(o.messageId);
      if (!msg || msg.deleted) throw new Error(`fake discord: unknown message ${o.messageId}`);
      if (msg.authorId !== botId) throw new Error(`fake discord: message ${msg.id} is not the bot's; its buttons are not ours`);
      const ch = channels.get(msg.channelId)!;
      const uid = o.userId ?? userId;
      ensureUser(uid, o.userName);
      if (msg.ephemeral && msg.visibleTo !== uid)
        throw new Error(`fake discord: message ${msg.id} is ephemeral; only ${msg.visibleTo} sees it`);
      const all = buttonsOf(msg.raw.components);
      const b = all.find((x) => x.customId === o.customId);
      if (!b)
        throw new Error(
          `fake discord: message ${msg.id} has no button ${o.customId} (has: ${all.map((x) => x.customId ?? x.url).join(', ') || 'none'})`,
        );
      if (b.disabled) throw new Error(`fake discord: button ${o.customId} on ${msg.id} is disabled`);
      const perms = o.memberPermissions !== undefined ? toBits(o.memberPermissions) : permissionsIn(uid, ch);
      return createInteraction({
        type: 3,
        channel: ch,
        userId: uid,
        perms,
        locale: o.locale ?? 'en-US',
        data: { custom_id: o.customId, component_type: 2 },
        message: msg,
        customId: o.customId,
      });
    },

    buttons(messageId) {
      const msg = messages.get(messageId);
      if (!msg) throw new Error(`fake discord: unknown message ${messageId}`);
      return buttonsOf(msg.raw.components);
    },

    pinged(message) {
      const msg = typeof message === 'string' ? messages.get(message) : message;
      if (!msg?.pings) throw new Error(`fake discord: unknown message ${typeof message === 'string' ? message : message.id}`);
      return msg.pings;
    },

    async forumPost(o) {
      const forum = channels.get(o.forumId);
      if (!forum || !isForumType(forum.type)) throw new Error(`fake discord: ${o.forumId} is not a forum channel`);
      if (o.title.length < 1 || o.title.length > 100) throw new Error('fake discord: a post title has 1–100 characters');
      const author = ensureUser(o.authorId ?? userId, o.authorName);
      const tags = o.appliedTags ?? [];
      const known = new Set(((forum.available_tags ?? []) as JsonObject[]).map((t) => String(t.id)));
      if (tags.some((t) => !known.has(t))) throw new Error(`fake discord: unknown tag in ${tags.join(', ')}`);
      const id = snowflake();
      const th = createThread({ parent: forum, id, name: o.title, type: 11, ownerId: author.id, appliedTags: tags });
      const msg = makeMessage({
        channel: th,
        author,
        content: o.content,
        type: 0,
        mentions: mentionsFromContent(o.content),
        extra: o.extra,
        fromBot: false,
        id,
      });
      await Promise.all([announceThread(th), broadcastMessageEvent('MESSAGE_CREATE', msg.raw, msg, true)]);
      return { thread: th, message: msg };
    },

    archiveThread(threadId, o = {}) {
      const th = channels.get(threadId);
      if (!th || !isThreadType(th.type)) throw new Error(`fake discord: ${threadId} is not a thread`);
      setArchived(th, true, o.locked ?? false);
      void dispatchGuild(th.guild_id, 'THREAD_UPDATE', th, INTENT_GUILDS);
    },

    unarchiveThread(threadId) {
      const th = channels.get(threadId);
      if (!th || !isThreadType(th.type)) throw new Error(`fake discord: ${threadId} is not a thread`);
      setArchived(th, false, false);
      void dispatchGuild(th.guild_id, 'THREAD_UPDATE', th, INTENT_GUILDS);
    },

    threadMembers(threadId) {
      return [...(threadMembers.get(threadId)?.keys() ?? [])];
    },

    shardStats() {
      const live = [...sessions.values()].filter(isLive);
      for (const s of live) shardStat(s.shard);
      return [...shardStatsMap.values()]
        .map((st) => ({ ...st, connected: live.filter((s) => s.shard[0] === st.shardId && s.shard[1] === st.shardCount).length }))
        .sort((a, b) => a.shardCount - b.shardCount || a.shardId - b.shardId);
    },

    connectedShards() {
      return [...new Set([...sessions.values()].filter(isLive).map((s) => s.shard[0]))].sort((a, b) => a - b);
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
