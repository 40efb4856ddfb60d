/**
 * Candidate answers: after an escalation (or any gap) in a channel with an escalation role, the
 * next message there from a member holding the role is kept as the answer to that question; an
 * operator accepts it into the built-in `answers` document (one chunk per answer, retrieved like
 * any passage, cited `answers § <question>`) or rejects it. Knows nothing of Discord: the bot
 * describes the message (CandidateInput).
 */
import { createHash } from 'node:crypto';
import { recordAudit } from '../db/audit.js';
import type { Db, Queryable } from '../db/backend.js';
import { appendChunk, captureCandidate, decideCandidate, getCandidate, listCandidates, setAnswersModel } from '../db/candidates.js';
import type { Candidate, CandidateReply, CandidateStatus, CaptureResult } from '../db/candidates.js';
import { channelCollections } from '../db/channels.js';
import { findDocument, insertDocument, setDocumentCollection, updateLexemeStats } from '../db/documents.js';
import { UserError } from '../errors.js';
import { embeddingInput, estimateWordPieces, MODEL_MAX_WORD_PIECES } from '../kb/chunk.js';
import type { Embedder } from '../kb/embed.js';
import { ensureModel } from '../kb/model.js';

export type { Candidate, CandidateReply, CandidateStatus, CaptureResult };
export { listCandidates };

/** In a channel (not a thread), a role member's message counts as the answer within this long of the escalation. */
export const CANDIDATE_WINDOW_MS = 30 * 60_000;

/** The built-in document accepted answers go to. */
export const ANSWERS_DOCUMENT = 'answers';

/** A section (and the citation after `answers § `) is the question cut to this many characters. */
export const QUESTION_LABEL_CHARS = 60;

/** What the bot knows of a message that may be a candidate answer. */
export interface CandidateInput {
  authorId: string;
  authorIsBot: boolean;
  webhook: boolean;
  /** Discord message type (0 default, 19 reply). */
  type: number;
  content: string;
  guildId: string | null;
  channelId: string;
  threadParentId: string | null;
  messageId: string;
  /** The message it replies to, or null. */
  replyToMessageId: string | null;
  /** The author's roles in the guild. */
  memberRoleIds: readonly string[];
}

export interface EscalationDirectory {
  get(channelId: string): { escalateRole?: string | null } | null;
}

/**
 * The candidate reply a message would be: a person's message (default or reply type, not empty)
 * in an allowed channel with an escalation role, or a thread under one, from a member holding
 * that role. Null otherwise. Pure: whether an escalation waits for it is the database's answer.
 */
export function candidateReply(m: CandidateInput, botId: string, channels: EscalationDirectory): CandidateReply | null {
  if (m.guildId === null || m.authorId === botId || m.authorIsBot || m.webhook) return null;
  if (m.type !== 0 && m.type !== 19) return null;
  let channelId = m.channelId;
  let entry = channels.get(m.channelId);
  if (!entry && m.threadParentId !== null) {
    channelId = m.threadParentId;
    entry = channels.get(m.threadParentId);
  }
  const role = entry?.escalateRole;
  if (!role || !m.memberRoleIds.includes(role)) return null;
  const answer = m.content.replace(new RegExp(`<@!?${botId}>[ \\t]?`, 'g'), '').trim();
  if (answer === '') return null;
  return {
    conversationId: m.channelId,
    channelId,
    inThread: m.threadParentId !== null,
    replyToId: m.replyToMessageId,
    answer,
    memberId: m.authorId,
    discordMessageId: m.messageId,
  };
}

/** Keeps the reply as a candidate when an escalation waits for it (see captureCandidate). */
export function captureReply(db: Db, reply: CandidateReply, windowMs = CANDIDATE_WINDOW_MS): Promise<CaptureResult> {
  return db.transaction((tx) => captureCandidate(tx, reply, windowMs));
}

/** A candidate id from the command line: a positive whole number, else exit 2. */
export function parseCandidateId(value: string): number {
  const n = /^\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!(n >= 1))
    throw new UserError(`"${value}" is not a candidate id (a number, as \`copilot kb candidates\` lists them)`, 'bad_candidate_id');
  return n;
}

async function pendingCandidate(db: Queryable, id: number, lock: boolean): Promise<Candidate> {
  const c = await getCandidate(db, id, lock);
  if (!c) throw new UserError(`no candidate ${id} — \`copilot kb candidates\` lists them`, 'unknown_candidate');
  if (c.status !== 'pending') {
    throw new UserError(`candidate ${id} is already ${c.status}${c.decidedBy ? ` (by ${c.decidedBy})` : ''}`, `already_${c.status}`);
  }
  return c;
}

export async function showCandidate(db: Db, id: number): Promise<Candidate> {
  const c = await getCandidate(db, id);
  if (!c) throw new UserError(`no candidate ${id} — \`copilot kb candidates\` lists them`, 'unknown_candidate');
  return c;
}

/** A pending candidate, for editing before it is accepted (exit 2 when unknown or decided). */
export function candidateToDecide(db: Db, id: number): Promise<Candidate> {
  return pendingCandidate(db, id, false);
}

/** The `answers` document of a collection: `answers` in `default`, `answers-<collection>` in the others. */
export function answersDocumentName(collection: string): string {
  return collection === 'default' ? ANSWERS_DOCUMENT : `${ANSWERS_DOCUMENT}-${collection}`;
}

/** The question as a section heading: one line, at most QUESTION_LABEL_CHARS characters. */
export function questionLabel(question: string): string {
  const line = question.replace(/\s+/g, ' ').trim();
  const chars = [...line];
  return chars.length <= QUESTION_LABEL_CHARS
    ? line
    : `${chars
        .slice(0, QUESTION_LABEL_CHARS - 1)
        .join('')
        .trimEnd()}…`;
}

/** The chunk text of an accepted answer: the question, then the answer. */
export function answerChunkText(question: string, answer: string): string {
  return `Q: ${question.trim()}\nA: ${answer.trim()}`;
}

export interface Accepted {
  candidate: Candidate;
  document: { id: number; name: string; collection: string; created: boolean };
  chunkId: number;
  embedded: boolean;
}

/**
 * Accepts a pending candidate (its text replaced by `answer` when given): one chunk of the
 * collection's `answers` document (created on first use; the channel's first collection, else
 * `default`), embedded when a provider is configured, the candidate marked accepted by `actor`,
 * and an audit entry — all in one transaction. Unknown or decided → exit 2, nothing written.
 */
export async function acceptCandidate(
  db: Db,
  embedder: Embedder | null,
  id: number,
  o: { actor: string; answer?: string },
): Promise<Accepted> {
  const first = await pendingCandidate(db, id, false);
  const answer = (o.answer ?? first.answer).trim();
  if (answer === '') throw new UserError('the answer is empty — nothing was accepted', 'empty_answer');
  const section = questionLabel(first.question);
  const content = answerChunkText(first.question, answer);
  // The vector is made before the transaction: a failing provider leaves nothing written.
  const vector = embedder ? (await embedder.embed([embeddingInput(section, content)]))[0]! : null;
  return db.transaction(async (tx) => {
    const c = await pendingCandidate(tx, id, true);
    const collection = (await channelCollections(tx, c.channelId))?.[0] ?? 'default';
    const name = answersDocumentName(collection);
    const doc = await findDocument(tx, { name });
    if (doc && doc.type !== 'qa') {
      throw new UserError(
        `a document named "${name}" exists and is not the answers document: rename or remove it first`,
        'answers_name_taken',
      );
    }
    const created = !doc;
    if (vector && embedder) await ensureModel(tx, embedder.model, vector.length);
    const documentId =
      doc?.id ??
      (await insertDocument(tx, {
        name,
        sha256: createHash('sha256').update('').digest('hex'),
        bytes: 0,
        pages: 0,
        type: 'qa',
        embeddingModel: null,
      }));
    if (created && collection !== 'default') await setDocumentCollection(tx, documentId, collection);
    if (doc) await updateLexemeStats(tx, documentId, -1);
    const chunk = await appendChunk(tx, documentId, {
      section,
      content,
      truncated: estimateWordPieces(embeddingInput(section, content)) > MODEL_MAX_WORD_PIECES,
      embedding: vector,
    });
    await updateLexemeStats(tx, documentId, 1);
    await setAnswersModel(tx, documentId, vector ? embedder!.model : null);
    await decideCandidate(tx, id, {
      status: 'accepted',
      decidedBy: o.actor,
      chunkId: chunk.id,
      answer: answer === c.answer ? undefined : answer,
    });
    await recordAudit(tx, { actor: o.actor, action: 'kb.candidate_accept', target: String(id), newValue: `${name} #${chunk.ordinal}` });
    return {
      candidate: { ...c, answer, status: 'accepted', decidedBy: o.actor, decidedAt: new Date(), chunkId: chunk.id },
      document: { id: documentId, name, collection, created },
      chunkId: chunk.id,
      embedded: vector !== null,
    };
  });
}

/** Rejects a pending candidate (by `actor`, audited); unknown or decided → exit 2. */
export async function rejectCandidate(db: Db, id: number, actor: string): Promise<Candidate> {
  return db.transaction(async (tx) => {
    const c = await pendingCandidate(tx, id, true);
    await decideCandidate(tx, id, { status: 'rejected', decidedBy: actor, chunkId: null });
    await recordAudit(tx, { actor, action: 'kb.candidate_reject', target: String(id) });
    return { ...c, status: 'rejected', decidedBy: actor, decidedAt: new Date() };
  });
}
