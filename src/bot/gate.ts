/**
 * The message gate: does the bot answer this message, and with what question? Pure: it sees a
 * plain description of the message (built from discord.js in discord.ts) and the channel
 * directory, and decides without I/O.
 *
 * Answered: messages from humans, in a guild, of the default or reply type, in an allowed channel
 * or a thread whose parent is allowed, by the channel's mode: `all` answers every message,
 * `mention` only those that mention the bot or reply to one of its messages, `thread` those too,
 * but in a public thread opened on the message (a thread the bot started there is the
 * conversation: every message in it is answered; other threads there answer mentions). Posts of
 * an allowed forum are answered whole (its `mention` mode: mentions only); a post's first message
 * asks its title and its text together. The bot's own mention is removed from the question; a
 * message left empty is not answered.
 */

export type GateMode = 'all' | 'mention' | 'thread';

export interface ChannelDirectory {
  get(channelId: string): { mode: GateMode } | null;
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
  /** The message's own id (a forum post's first message has the post's id). */
  messageId?: string;
  /** In a thread: who started it (the bot, for threads it opened), else null. */
  threadOwnerId?: string | null;
  /** In a thread: its name (a forum post's title), else null. */
  threadName?: string | null;
  /** In a thread whose parent is a forum (type 15) or media channel (type 16): a forum post. */
  inForumPost?: boolean;
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
      mode: GateMode;
      /** True when the bot was addressed (mentioned or replied to). */
      addressed: boolean;
      /** Mode `thread`: open a thread on the message and answer there (conversationId is its id). */
      openThread: boolean;
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
  let underParent = false;
  if (!entry && m.threadParentId !== null) {
    channelId = m.threadParentId;
    entry = channels.get(m.threadParentId);
    underParent = true;
  }
  if (!entry) return { accept: false, reason: 'channel' };

  const addressed = m.mentionedUserIds.includes(botId) || m.repliedToUserId === botId;
  const forumPost = m.inForumPost === true && m.threadParentId !== null;
  let needsMention: boolean;
  let openThread = false;
  if (forumPost) needsMention = entry.mode === 'mention';
  else if (entry.mode === 'thread') {
    // A thread the bot opened is the conversation; another thread follows the parent's mentions.
    needsMention = !(underParent && m.threadOwnerId === botId);
    openThread = m.threadParentId === null && m.messageId !== undefined;
  } else needsMention = entry.mode === 'mention';
  if (needsMention && !addressed) return { accept: false, reason: 'not-mentioned' };

  let question = stripMention(m.content, botId);
  const starter = forumPost && m.messageId !== undefined && m.messageId === m.channelId;
  if (starter && m.threadName) question = question === '' ? m.threadName.trim() : `${m.threadName.trim()}\n\n${question}`;
  if (question === '') return { accept: false, reason: 'empty' };
  return {
    accept: true,
    // A thread opened on a message takes the message's id.
    conversationId: openThread && m.messageId !== undefined ? m.messageId : m.channelId,
    channelId,
    parentId: openThread ? m.channelId : m.threadParentId,
    mode: entry.mode,
    addressed,
    openThread,
    question,
  };
}

/** Removes `<@botId>` / `<@!botId>` (and the space after it) and trims. */
export function stripMention(content: string, botId: string): string {
  return content.replace(new RegExp(`<@!?${botId}>[ \\t]?`, 'g'), '').trim();
}
