/** Conversations (one per channel, thread, or the command line) and their messages, in order. */
import type { Queryable } from './backend.js';
import { dbText } from './text.js';

export type MessageRole = 'user' | 'assistant';
export type MessageStatus = 'complete' | 'interrupted' | 'failed' | 'fallback';

export interface ConversationSummary {
  id: string;
  channelId: string | null;
  parentId: string | null;
  messages: number;
  lastMessageAt: Date | null;
  createdAt: Date;
}

export interface StoredMessage {
  id: number;
  role: MessageRole;
  content: string;
  authorId: string | null;
  discordMessageId: string | null;
  status: MessageStatus;
  createdAt: Date;
}

interface MessageRow {
  id: string | number;
  role: MessageRole;
  content: string;
  author_id: string | null;
  discord_message_id: string | null;
  status: MessageStatus;
  created_at: Date | string;
}

const toMessage = (r: MessageRow): StoredMessage => ({
  id: Number(r.id),
  role: r.role,
  content: r.content,
  authorId: r.author_id,
  discordMessageId: r.discord_message_id,
  status: r.status,
  createdAt: new Date(r.created_at),
});

export async function listConversations(db: Queryable): Promise<ConversationSummary[]> {
  const { rows } = await db.query<{
    id: string;
    channel_id: string | null;
    parent_id: string | null;
    created_at: Date | string;
    messages: string | number;
    last_message_at: Date | string | null;
  }>(
    `select c.id, c.channel_id, c.parent_id, c.created_at, count(m.id) as messages, max(m.created_at) as last_message_at
     from conversations c left join messages m on m.conversation_id = c.id
     group by c.id order by max(m.created_at) desc nulls last, c.id`,
  );
  return rows.map((r) => ({
    id: r.id,
    channelId: r.channel_id,
    parentId: r.parent_id,
    messages: Number(r.messages),
    lastMessageAt: r.last_message_at ? new Date(r.last_message_at) : null,
    createdAt: new Date(r.created_at),
  }));
}

export async function conversationExists(db: Queryable, id: string): Promise<boolean> {
  const { rows } = await db.query('select 1 from conversations where id = $1', [id]);
  return rows.length > 0;
}

/** The last `limit` messages of a conversation, oldest first. */
export async function recentMessages(db: Queryable, conversationId: string, limit: number): Promise<StoredMessage[]> {
  const { rows } = await db.query<MessageRow>(
    `select * from (
       select id, role, content, author_id, discord_message_id, status, created_at
       from messages where conversation_id = $1 order by id desc limit $2
     ) recent order by id`,
    [conversationId, limit],
  );
  return rows.map(toMessage);
}

export async function ensureConversation(
  db: Queryable,
  c: { id: string; channelId?: string | null; parentId?: string | null },
): Promise<void> {
  await db.query(
    `insert into conversations (id, channel_id, parent_id) values ($1, $2, $3)
     on conflict (id) do update set updated_at = now()`,
    [c.id, c.channelId ?? null, c.parentId ?? null],
  );
}

export async function appendMessage(
  db: Queryable,
  conversationId: string,
  m: { role: MessageRole; content: string; authorId?: string | null; discordMessageId?: string | null; status?: MessageStatus },
): Promise<number> {
  const { rows } = await db.query<{ id: string | number }>(
    `insert into messages (conversation_id, role, content, author_id, discord_message_id, status)
     values ($1, $2, $3, $4, $5, $6) returning id`,
    [conversationId, m.role, dbText(m.content), dbText(m.authorId), dbText(m.discordMessageId), m.status ?? 'complete'],
  );
  return Number(rows[0]!.id);
}

/** Deletes a conversation's messages; returns how many were deleted. */
export async function deleteMessages(db: Queryable, conversationId: string): Promise<number> {
  const { rowCount } = await db.query('delete from messages where conversation_id = $1', [conversationId]);
  return rowCount;
}
