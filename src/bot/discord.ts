/**
 * discord.js at the edges: a Message → the gate's plain input, reading a channel's recent
 * messages (catching up), and replies, follow-ups, edits, deletes and typing as REST calls on
 * the client's own queue (which honours 429s per route).
 * Replies go out as raw REST calls rather than Message#reply/edit: no Message objects are built
 * for the bot's own messages, and a channel missing from the cache does not matter.
 */
import type { Client, Message } from 'discord.js';
import { DependencyError, errorMessage } from '../errors.js';
import type { GateInput } from './gate.js';
import type { CandidateInput } from '../learn/candidates.js';
import { THREAD_ALREADY_CREATED } from './threads.js';

/** Model output never pings anyone: no @everyone/@here, roles, users, nor the replied-to author. */
export const NO_MENTIONS = { parse: [] as string[], replied_user: false } as const;

export interface PostedMessage {
  id: string;
}

export function gateInput(message: Message): GateInput {
  const channel = message.channel as Message['channel'] | null;
  const thread = channel?.isThread() ? channel : null;
  const threadParentId = thread ? thread.parentId : null;
  const parentType: number | undefined = thread?.parent?.type;
  return {
    authorId: message.author.id,
    authorIsBot: message.author.bot,
    webhook: message.webhookId !== null,
    type: message.type,
    content: message.content,
    guildId: message.guildId,
    channelId: message.channelId,
    threadParentId,
    mentionedUserIds: [...message.mentions.users.keys()],
    repliedToUserId: message.mentions.repliedUser?.id ?? null,
    messageId: message.id,
    threadOwnerId: thread?.ownerId ?? null,
    threadName: thread?.name ?? null,
    // 15 forum, 16 media: every thread in them is a post.
    inForumPost: parentType === 15 || parentType === 16,
  };
}

/** A Message → what candidate capture needs: the gate's fields, the replied-to message and the author's roles. */
export function candidateInput(message: Message, gated: GateInput): CandidateInput {
  return {
    authorId: gated.authorId,
    authorIsBot: gated.authorIsBot,
    webhook: gated.webhook,
    type: gated.type,
    content: gated.content,
    guildId: gated.guildId,
    channelId: gated.channelId,
    threadParentId: gated.threadParentId,
    messageId: message.id,
    replyToMessageId: message.reference?.messageId ?? null,
    memberRoleIds: message.member ? [...message.member.roles.cache.keys()] : [],
  };
}

type Routes = typeof import('discord.js').Routes;

/**
 * Up to `limit` messages of a channel or thread posted after message `after`, oldest first
 * (`GET /channels/{id}/messages?after=…&limit=…`, which Discord answers newest first).
 */
export async function fetchMessagesAfter(client: Client, channelId: string, after: string, limit: number): Promise<Message[]> {
  const channel = await client.channels.fetch(channelId);
  if (!channel?.isTextBased() || !('messages' in channel)) return [];
  const fetched = await channel.messages.fetch({ after, limit, cache: false });
  return [...fetched.values()].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0));
}

export function sendTyping(client: Client, routes: Routes, channelId: string): Promise<unknown> {
  return client.rest.post(routes.channelTyping(channelId));
}

/**
 * Opens a public thread on a message (Message#startThread) and returns its id (a thread on a
 * message takes the message's id, so one that exists already is reused).
 */
export async function openThread(message: Message, name: string): Promise<string> {
  try {
    const thread = await message.startThread({ name, autoArchiveDuration: 1440 });
    return thread.id;
  } catch (err) {
    if ((err as { code?: unknown }).code === THREAD_ALREADY_CREATED) return message.id;
    throw err;
  }
}

/**
 * Discord's recommended shard count for the bot (`GET /gateway/bot`), for `--shard-count auto`
 * with a shard list: every process must know the total before it identifies.
 */
export async function recommendedShardCount(token: string, apiUrl: string | null): Promise<number> {
  const { REST, Routes } = await import('discord.js');
  const rest = new REST({ ...(apiUrl ? { api: apiUrl } : {}), retries: 2, timeout: 10_000 }).setToken(token);
  try {
    const info = (await rest.get(Routes.gatewayBot())) as { shards?: unknown };
    if (typeof info.shards === 'number' && info.shards >= 1) return info.shards;
    throw new Error('no shard count in the answer');
  } catch (err) {
    if ((err as { status?: unknown }).status === 401) {
      throw new DependencyError('Discord rejected the bot token (401 Unauthorized): check DISCORD_TOKEN', 'discord_token_invalid', {
        cause: err,
      });
    }
    throw new DependencyError(
      `cannot ask Discord for the recommended shard count (GET /gateway/bot): ${errorMessage(err)}`,
      'discord_unavailable',
      {
        cause: err,
      },
    );
  }
}

type Rows = Parameters<import('./buttons.js').ButtonTarget<PostedMessage>['reply']>[1];

/**
 * Posts and edits in a channel with components (buttons) on each; a null edit changes only them.
 * `replyTo` null: the first part is posted plainly (in a thread the bot opened), not as a reply.
 */
export function buttonReplyTarget(
  client: Client,
  routes: Routes,
  channelId: string,
  replyTo: string | null,
): import('./buttons.js').ButtonTarget<PostedMessage> {
  const post = async (body: Record<string, unknown>): Promise<PostedMessage> => {
    const raw = (await client.rest.post(routes.channelMessages(channelId), { body })) as { id: string };
    return { id: raw.id };
  };
  return {
    reply: (content, components: Rows) =>
      post({
        content,
        components,
        allowed_mentions: NO_MENTIONS,
        ...(replyTo === null ? {} : { message_reference: { message_id: replyTo, channel_id: channelId, fail_if_not_exists: false } }),
      }),
    send: (content, components: Rows) => post({ content, components, allowed_mentions: NO_MENTIONS }),
    async edit(message, content, components: Rows) {
      const body =
        content === null ? { components, allowed_mentions: NO_MENTIONS } : { content, components, allowed_mentions: NO_MENTIONS };
      await client.rest.patch(routes.channelMessage(channelId, message.id), { body });
    },
    async remove(message) {
      await client.rest.delete(routes.channelMessage(channelId, message.id));
    },
  };
}

/**
 * An interaction's response as a reply target: the first part edits the deferred response
 * (`@original`), later parts are follow-ups, all over the interaction's webhook (no bot token).
 */
export function interactionTarget(
  client: Client,
  routes: Routes,
  applicationId: string,
  token: string,
  ephemeral: boolean,
): import('./buttons.js').ButtonTarget<PostedMessage> {
  const flags = ephemeral ? 64 : 0;
  const patch = async (messageId: string, body: Record<string, unknown>): Promise<PostedMessage> => {
    const raw = (await client.rest.patch(routes.webhookMessage(applicationId, token, messageId), { body, auth: false })) as {
      id: string;
    };
    return { id: raw.id };
  };
  return {
    reply: (content, components: Rows) => patch('@original', { content, components, allowed_mentions: NO_MENTIONS }),
    async send(content, components: Rows) {
      const raw = (await client.rest.post(routes.webhook(applicationId, token), {
        body: { content, components, flags, allowed_mentions: NO_MENTIONS },
        query: new URLSearchParams({ wait: 'true' }),
        auth: false,
      })) as { id: string };
      return { id: raw.id };
    },
    async edit(message, content, components: Rows) {
      await patch(
        message.id,
        content === null ? { components, allowed_mentions: NO_MENTIONS } : { content, components, allowed_mentions: NO_MENTIONS },
      );
    },
    async remove(message) {
      await client.rest.delete(routes.webhookMessage(applicationId, token, message.id), { auth: false });
    },
  };
}
