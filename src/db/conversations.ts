/**
 * Conversations (one per channel, thread, or the command line) and their messages, in order.
 * A user's message is stored when it is accepted, 'unanswered' until its answer is stored with it
 * ('complete'), or 'limited' when the per-user limit refused it. Answers are 'complete',
 * 'fallback' (retrieval only), 'interrupted', or 'undelivered' (Discord refused the reply).
 * An answer names its question (answer_to), and a conversation reads in turns — each question,
 * then its answer — even when later questions were stored before earlier ones were answered.
 */
import type { Queryable } from './backend.js';
import { dbText } from './text.js';
import { onlyRow } from './rows.js';

export type MessageRole = 'user' | 'assistant';
export type MessageStatus = 'complete' | 'interrupted' | 'failed' | 'fallback' | 'unanswered' | 'limited' | 'undelivered';

/** Not shown to the model as history: a question that was refused, a reply the user never saw. */
const NOT_HISTORY: MessageStatus[] = ['limited', 'undelivered'];

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
  id: number;
  role: MessageRole;
  content: string;
  author_id: string | null;
  discord_message_id: string | null;
  status: MessageStatus;
  created_at: Date;
}

const toMessage = (r: MessageRow): StoredMessage => ({
  id: r.id,
  role: r.role,
  content: r.content,
  authorId: r.author_id,
  discordMessageId: r.discord_message_id,
  status: r.status,
  createdAt: r.created_at,
});

export async function listConversations(db: Queryable): Promise<ConversationSummary[]> {
  const { rows } = await db.query<{
    id: string;
    channel_id: string | null;
    parent_id: string | null;
    created_at: Date;
    messages: number;
    last_message_at: Date | null;
  }>(
    `select c.id, c.channel_id, c.parent_id, c.created_at, count(m.id) as messages, max(m.created_at) as last_message_at
     from conversations c left join messages m on m.conversation_id = c.id
     group by c.id order by max(m.created_at) desc nulls last, c.id`,
  );
  return rows.map((r) => ({
    id: r.id,
    channelId: r.channel_id,
    parentId: r.parent_id,
    messages: r.messages,
    lastMessageAt: r.last_message_at,
    createdAt: r.created_at,
  }));
}

export async function conversationExists(db: Queryable, id: string): Promise<boolean> {
  const { rows } = await db.query('select 1 from conversations where id = $1', [id]);
  return rows.length > 0;
}

/** A message's place in its conversation: its question's, for an answer. */
const TURN = 'coalesce(answer_to, id)';

/** The last `limit` messages of a conversation, oldest first (in turns). */
export async function recentMessages(db: Queryable, conversationId: string, limit: number): Promise<StoredMessage[]> {
  const { rows } = await db.query<MessageRow>(
    `select id, role, content, author_id, discord_message_id, status, created_at from (
       select *, ${TURN} as turn from messages where conversation_id = $1 order by ${TURN} desc, id desc limit $2
     ) recent order by turn, id`,
    [conversationId, limit],
  );
  return rows.map(toMessage);
}

/**
 * The history an answer is written with: the last `limit` messages of the turns before question
 * `before` (all turns when null), oldest first, without refused questions or undelivered replies.
 */
export async function historyBefore(db: Queryable, conversationId: string, limit: number, before: number | null): Promise<StoredMessage[]> {
  const { rows } = await db.query<MessageRow>(
    `select id, role, content, author_id, discord_message_id, status, created_at from (
       select *, ${TURN} as turn from messages
       where conversation_id = $1 and ($3::bigint is null or ${TURN} < $3) and status <> all($4::text[])
       order by ${TURN} desc, id desc limit $2
     ) recent order by turn, id`,
    [conversationId, limit, before, NOT_HISTORY],
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
  const { rows } = await db.query<{ id: number }>(
    `insert into messages (conversation_id, role, content, author_id, discord_message_id, status)
     values ($1, $2, $3, $4, $5, $6) returning id`,
    [conversationId, m.role, dbText(m.content), dbText(m.authorId), dbText(m.discordMessageId), m.status ?? 'complete'],
  );
  return onlyRow(rows, 'appendMessage').id;
}

export interface IncomingRecord {
  id: number;
  status: MessageStatus;
  /** False when this Discord message was stored already (by an earlier run, or a second delivery). */
  created: boolean;
}

/**
 * Stores an accepted Discord message as 'unanswered' — unless it is stored already, in which case
 * that row is returned: a message is stored once, whoever sees it first.
 */
export async function recordIncoming(
  db: Queryable,
  conversationId: string,
  m: { content: string; authorId: string; discordMessageId: string },
): Promise<IncomingRecord> {
  const { rows } = await db.query<{ id: number; status: MessageStatus; created: boolean }>(
    `with found as (
       select id, status from messages where discord_message_id = $4 and role = 'user' order by id limit 1
     ), added as (
       insert into messages (conversation_id, role, content, author_id, discord_message_id, status)
       select $1, 'user', $2, $3, $4, 'unanswered' where not exists (select 1 from found)
       returning id, status
     )
     select id, status, true as created from added
     union all
     select id, status, false as created from found`,
    [conversationId, dbText(m.content), dbText(m.authorId), dbText(m.discordMessageId)],
  );
  const r = onlyRow(rows, 'recordIncoming');
  return { id: r.id, status: r.status, created: r.created };
}

/** Stores an answer and marks its question answered, in one statement; returns the answer's id. */
export async function appendAnswer(
  db: Queryable,
  conversationId: string,
  questionId: number,
  m: { content: string; status: MessageStatus },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `with answered as (
       update messages set status = 'complete' where id = $4 and role = 'user' and status = 'unanswered'
     )
     insert into messages (conversation_id, role, content, status, answer_to) values ($1, 'assistant', $2, $3, $4) returning id`,
    [conversationId, dbText(m.content), m.status, questionId],
  );
  return onlyRow(rows, 'appendAnswer').id;
}

export async function setMessageStatus(db: Queryable, id: number, status: MessageStatus): Promise<void> {
  await db.query('update messages set status = $2 where id = $1', [id, status]);
}

export interface CatchUpPoint {
  conversationId: string;
  /** The Discord id of the conversation's last answered message, or null. */
  lastAnswered: string | null;
  /** When the conversation was last reset (its messages deleted), or null. */
  resetAt: Date | null;
}

/**
 * Where catching up on a conversation starts: its last answered Discord message (what comes
 * after it may not have been answered) and its last reset (what came before was forgotten on
 * purpose, not missed).
 */
export async function catchUpPoint(db: Queryable, conversationId: string): Promise<CatchUpPoint> {
  const { rows } = await db.query<{ last_answered: string | null; reset_at: Date | null }>(
    `select
       (select discord_message_id from messages
        where conversation_id = $1 and role = 'user' and discord_message_id is not null and status <> 'unanswered'
        order by id desc limit 1) as last_answered,
       (select max(at) from audit_log where action = 'convo.reset' and target = $1) as reset_at`,
    [conversationId],
  );
  const r = onlyRow(rows, 'catchUpPoint');
  return { conversationId, lastAnswered: r.last_answered, resetAt: r.reset_at };
}

/** Threads under these channels with a message stored since `since`. */
export async function recentThreads(db: Queryable, parentIds: string[], since: Date): Promise<string[]> {
  if (parentIds.length === 0) return [];
  const { rows } = await db.query<{ id: string }>(
    `select c.id from conversations c
     where c.parent_id = any($1::text[])
       and exists (select 1 from messages m where m.conversation_id = c.id and m.created_at >= $2)
     order by c.id`,
    [parentIds, since],
  );
  return rows.map((r) => r.id);
}

/** Deletes a conversation's messages; returns how many were deleted. */
export async function deleteMessages(db: Queryable, conversationId: string): Promise<number> {
  const { rowCount } = await db.query('delete from messages where conversation_id = $1', [conversationId]);
  return rowCount;
}
