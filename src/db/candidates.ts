/**
 * Candidate answers: what a member holding a channel's escalation role wrote after an escalation
 * there, kept until an operator accepts it (into the `answers` document) or rejects it.
 */
import type { Queryable } from './backend.js';
import { dbText } from './text.js';
import { vectorText } from './vectors.js';
import { onlyRow } from './rows.js';

export type CandidateStatus = 'pending' | 'accepted' | 'rejected';

export interface Candidate {
  id: number;
  escalationId: number | null;
  conversationId: string;
  channelId: string;
  question: string;
  answer: string;
  memberId: string;
  discordMessageId: string | null;
  status: CandidateStatus;
  decidedBy: string | null;
  decidedAt: Date | null;
  chunkId: number | null;
  createdAt: Date;
}

interface CandidateRow {
  id: number;
  escalation_id: number | null;
  conversation_id: string;
  channel_id: string;
  question: string;
  answer: string;
  member_id: string;
  discord_message_id: string | null;
  status: CandidateStatus;
  decided_by: string | null;
  decided_at: Date | null;
  chunk_id: number | null;
  created_at: Date;
}

const COLUMNS =
  'id, escalation_id, conversation_id, channel_id, question, answer, member_id, discord_message_id, status, decided_by, decided_at, chunk_id, created_at';

const toCandidate = (r: CandidateRow): Candidate => ({
  id: Number(r.id),
  escalationId: r.escalation_id === null ? null : Number(r.escalation_id),
  conversationId: r.conversation_id,
  channelId: r.channel_id,
  question: r.question,
  answer: r.answer,
  memberId: r.member_id,
  discordMessageId: r.discord_message_id,
  status: r.status,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
  chunkId: r.chunk_id === null ? null : Number(r.chunk_id),
  createdAt: r.created_at,
});

/** A role member's message that may answer an escalated question (see src/learn/candidates.ts). */
export interface CandidateReply {
  conversationId: string;
  /** The allowed channel (a thread's parent). */
  channelId: string;
  /** The conversation is a thread (or forum post): any message of the role's members counts. */
  inThread: boolean;
  /** The message it replies to, or null. */
  replyToId: string | null;
  answer: string;
  memberId: string;
  discordMessageId: string;
}

export type CaptureResult = { kind: 'captured'; candidate: Candidate } | { kind: 'already' } | { kind: 'none' };

/**
 * Keeps a role member's message as the candidate answer to the escalation it answers, once per
 * escalation (its replied_at is set in the same transaction): a reply to the escalated question
 * or to the ping, at any time; otherwise, in a thread, the conversation's latest escalation not
 * replied to yet, and in a channel that one only within `windowMs`. 'already': this message was
 * kept before (a message read again when catching up). Run it in a transaction.
 */
export async function captureCandidate(tx: Queryable, r: CandidateReply, windowMs: number): Promise<CaptureResult> {
  const seen = await tx.query('select 1 from kb_candidates where discord_message_id = $1', [r.discordMessageId]);
  if (seen.rows.length > 0) return { kind: 'already' };
  const { rows } = await tx.query<{ id: number; question: string }>(
    `select id, question from escalations
      where replied_at is null and channel_id = $1
        and (
          ($3::text is not null and (question_discord_id = $3 or ping_discord_id = $3))
          or (conversation_id = $2 and ($4 or created_at > now() - make_interval(secs => $5)))
        )
      order by ($3::text is not null and (question_discord_id = $3 or ping_discord_id = $3)) desc, id desc
      limit 1
      for update`,
    [r.channelId, r.conversationId, r.replyToId, r.inThread, windowMs / 1000],
  );
  const e = rows[0];
  if (!e) return { kind: 'none' };
  const claimed = await tx.query('update escalations set replied_at = now() where id = $1 and replied_at is null', [e.id]);
  if (claimed.rowCount === 0) return { kind: 'none' };
  const inserted = await tx.query<CandidateRow>(
    `insert into kb_candidates (escalation_id, conversation_id, channel_id, question, answer, member_id, discord_message_id)
     values ($1, $2, $3, $4, $5, $6, $7) returning ${COLUMNS}`,
    [e.id, r.conversationId, r.channelId, e.question, dbText(r.answer), dbText(r.memberId), r.discordMessageId],
  );
  return { kind: 'captured', candidate: toCandidate(onlyRow(inserted.rows, 'captureCandidate')) };
}

/** Candidates, newest first; only those of `status` when given. */
export async function listCandidates(db: Queryable, status: CandidateStatus | null = null, limit = 1000): Promise<Candidate[]> {
  const { rows } = await db.query<CandidateRow>(
    `select ${COLUMNS} from kb_candidates where ($1::text is null or status = $1) order by id desc limit $2`,
    [status, limit],
  );
  return rows.map(toCandidate);
}

/** One candidate (locked for update with `lock`, inside a transaction), or null. */
export async function getCandidate(db: Queryable, id: number, lock = false): Promise<Candidate | null> {
  const { rows } = await db.query<CandidateRow>(`select ${COLUMNS} from kb_candidates where id = $1${lock ? ' for update' : ''}`, [id]);
  return rows[0] ? toCandidate(rows[0]) : null;
}

/** Records the decision on a pending candidate; false when it was decided already. */
export async function decideCandidate(
  db: Queryable,
  id: number,
  d: { status: 'accepted' | 'rejected'; decidedBy: string; chunkId: number | null; answer?: string },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `update kb_candidates set status = $2, decided_by = $3, decided_at = now(), chunk_id = $4, answer = coalesce($5, answer)
      where id = $1 and status = 'pending'`,
    [id, d.status, dbText(d.decidedBy), d.chunkId, d.answer === undefined ? null : dbText(d.answer)],
  );
  return rowCount > 0;
}

/**
 * Appends one chunk to a document (the next ordinal), with its vector when given; keeps the
 * document's size and content hash in step. Returns the chunk's id.
 */
export async function appendChunk(
  db: Queryable,
  documentId: number,
  c: { section: string; content: string; truncated: boolean; embedding: number[] | null },
): Promise<{ id: number; ordinal: number }> {
  const { rows } = await db.query<{ id: number; ordinal: number }>(
    `insert into chunks (document_id, ordinal, section, content, truncated, embedding)
     select $1, coalesce(max(ordinal) + 1, 0), $2, $3, $4, $5::vector from chunks where document_id = $1
     returning id, ordinal`,
    [documentId, dbText(c.section), dbText(c.content), c.truncated, c.embedding ? vectorText(c.embedding) : null],
  );
  await db.query(
    `update documents d set bytes = s.bytes, sha256 = s.sha256
       from (select coalesce(sum(octet_length(content)), 0) as bytes,
                    encode(sha256(convert_to(coalesce(string_agg(content, E'\\n' order by ordinal), ''), 'UTF8')), 'hex') as sha256
               from chunks where document_id = $1) s
      where d.id = $1`,
    [documentId],
  );
  const row = onlyRow(rows, 'appendChunk');
  return { id: Number(row.id), ordinal: row.ordinal };
}

/** The document's embedding model: `model` when every chunk has a vector (null: not all do). */
export async function setAnswersModel(db: Queryable, documentId: number, model: string | null): Promise<void> {
  await db.query(
    `update documents set embedding_model = case
       when exists (select 1 from chunks where document_id = $1 and embedding is null) then null else $2::text end
     where id = $1`,
    [documentId, model],
  );
}
