/** Escalations of answers to a channel's role, and the candidate answers its members gave. */
import type { Queryable } from './backend.js';
import { dbText } from './text.js';
import { onlyRow } from './rows.js';

export interface NewEscalation {
  conversationId: string;
  channelId: string;
  inThread: boolean;
  answerId: number;
  question: string;
  questionDiscordId: string | null;
  roleId: string;
  reason: 'gap' | 'downvote';
}

export interface EscalationRow extends NewEscalation {
  id: number;
  pinged: boolean;
  createdAt: Date;
}

/**
 * Records the escalation of an answer, once: null when that answer was escalated before. `pinged`
 * is false when the conversation's role was pinged less than `cooldownMs` ago. Serialised per
 * conversation (a transaction advisory lock), so two processes cannot both ping; run it in a
 * transaction.
 */
export async function claimEscalation(tx: Queryable, e: NewEscalation, cooldownMs: number): Promise<EscalationRow | null> {
  await tx.query(`select pg_advisory_xact_lock(hashtext('copilot_escalation:' || $1))`, [e.conversationId]);
  const recent = await tx.query<{ n: number }>(
    `select count(*)::int as n from escalations where conversation_id = $1 and pinged and created_at > now() - make_interval(secs => $2)`,
    [e.conversationId, cooldownMs / 1000],
  );
  const pinged = onlyRow(recent.rows, 'claimEscalation').n === 0;
  const { rows } = await tx.query<{ id: number; created_at: Date }>(
    `insert into escalations (conversation_id, channel_id, in_thread, answer_id, question, question_discord_id, role_id, reason, pinged)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (answer_id) do nothing returning id, created_at`,
    [e.conversationId, e.channelId, e.inThread, e.answerId, dbText(e.question), e.questionDiscordId, e.roleId, e.reason, pinged],
  );
  if (!rows[0]) return null;
  return { ...e, id: Number(rows[0].id), pinged, createdAt: rows[0].created_at };
}

/** The ping was posted (its message id), or could not be: then it does not count for the cool-down. */
export async function recordPing(db: Queryable, id: number, discordMessageId: string | null): Promise<void> {
  if (discordMessageId === null) await db.query('update escalations set pinged = false where id = $1', [id]);
  else await db.query('update escalations set ping_discord_id = $2 where id = $1', [id, discordMessageId]);
}

export async function countEscalations(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('select count(*)::int as n from escalations where pinged');
  return onlyRow(rows, 'countEscalations').n;
}

/** The answer a vote was given to, with its question: what an escalation on a 👎 needs. */
export interface VotedAnswer {
  conversationId: string;
  channelId: string | null;
  parentId: string | null;
  question: string | null;
  questionDiscordId: string | null;
  askerId: string | null;
}

export async function votedAnswer(db: Queryable, answerId: number): Promise<VotedAnswer | null> {
  const { rows } = await db.query<{
    conversation_id: string;
    channel_id: string | null;
    parent_id: string | null;
    question: string | null;
    question_discord_id: string | null;
    asker_id: string | null;
  }>(
    `select m.conversation_id, c.channel_id, c.parent_id, q.content as question,
            q.discord_message_id as question_discord_id, q.author_id as asker_id
       from messages m
       join conversations c on c.id = m.conversation_id
       left join messages q on q.id = m.answer_to
      where m.id = $1 and m.role = 'assistant'`,
    [answerId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    conversationId: r.conversation_id,
    channelId: r.channel_id,
    parentId: r.parent_id,
    question: r.question,
    questionDiscordId: r.question_discord_id,
    askerId: r.asker_id,
  };
}
