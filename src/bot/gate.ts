/**
 * The message gate: does the bot answer this message, and with what question? Pure: it sees a
 * plain description of the message (built from discord.js in discord.ts) and the channel
 * directory, and decides without I/O.
 *
 * Answered: messages from humans, in a guild, of the default or reply type, in an allowed channel
 * or a thread whose parent is allowed, by the channel's mode: `all` answers every message,
 * `mention` only those that mention the bot or reply to one of its messages. The bot's own
 * mention is removed from the question; a message left empty is not answered.
 */

export interface ChannelDirectory {
  get(channelId: string): { mode: 'all' | 'mention' } | null;
}

/** Discord message types that are a person writing: DEFAULT and REPLY. */
export const ANSWERABLE_TYPES: ReadonlySet<number> = new Set([0, 19]);

export interface GateInput {
  authorId: string;
  authorIsBot: boolean;
  /** Sent by a webhook (never answered: it is not a person). */
  webhook: boolean;
  /** Discord message type (0 default, 19 reply, others are system messages). */
  type: number;
  content: string;
  /** Guild id, or null for a direct message. */
  guildId: string | null;
  /** The channel or thread the message is in. */
  channelId: string;
  /** The parent channel when channelId is a thread, else null. */
  threadParentId: string | null;
  mentionedUserIds: readonly string[];
  /** Author of the message this one replies to, if it is a reply. */
  repliedToUserId: string | null;
}

export type GateRejection = 'dm' | 'self' | 'bot' | 'system' | 'channel' | 'not-mentioned' | 'empty';

export type GateDecision =
  | {
      accept: true;
      /** Where the conversation lives: the channel or the thread. */
      conversationId: string;
      /** The allowed channel (a thread's parent when the thread itself is not listed). */
      channelId: string;
      /** The thread's parent, or null outside threads. */
      parentId: string | null;
      mode: 'all' | 'mention';
      /** True when the bot was addressed (mentioned or replied to). */
      addressed: boolean;
      question: string;
    }
  | { accept: false; reason: GateRejection };

export function gate(m: GateInput, botId: string, channels: ChannelDirectory): GateDecision {
  if (m.guildId === null) return { accept: false, reason: 'dm' };
  if (m.authorId === botId) return { accept: false, reason: 'self' };
  if (m.authorIsBot || m.webhook) return { accept: false, reason: 'bot' };
  if (!ANSWERABLE_TYPES.has(m.type)) return { accept: false, reason: 'system' };

  let channelId = m.channelId;
  let entry = channels.get(m.channelId);
  if (!entry && m.threadParentId !== null) {
    channelId = m.threadParentId;
    entry = channels.get(m.threadParentId);
  }
  if (!entry) return { accept: false, reason: 'channel' };

  const addressed = m.mentionedUserIds.includes(botId) || m.repliedToUserId === botId;
  if (entry.mode === 'mention' && !addressed) return { accept: false, reason: 'not-mentioned' };

  const question = stripMention(m.content, botId);
  if (question === '') return { accept: false, reason: 'empty' };
  return {
    accept: true,
    conversationId: m.channelId,
    channelId,
    parentId: m.threadParentId,
    mode: entry.mode,
    addressed,
    question,
  };
}

/** Removes `<@botId>` / `<@!botId>` (and the space after it) and trims. */
export function stripMention(content: string, botId: string): string {
  return content.replace(new RegExp(`<@!?${botId}>[ \\t]?`, 'g'), '').trim();
}
