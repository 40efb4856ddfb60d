/**
 * Feedback on answers: 👍/👎 votes stored per (answer, user), listed for `copilot feedback`, and
 * announced to whoever subscribes (onVote) — e.g. an escalation when an answer gets a 👎. Also
 * `/forget-me`: a user's stored messages deleted everywhere (audited without content).
 * Knows nothing of Discord.
 */
import type { Db } from '../db/backend.js';
import { recordAudit } from '../db/audit.js';
import { deleteUserMessages, listVotes, recordVote, voteTotals, votesFor } from '../db/votes.js';
import type { VoteRecord, VoteValue } from '../db/votes.js';
import { errorMessage } from '../errors.js';

export type { VoteRecord, VoteValue } from '../db/votes.js';
export { votesFor, voteTotals };

export type VoteListener = (answerId: number, userId: string, vote: VoteValue, record: VoteRecord) => void | Promise<void>;

export interface FeedbackItem {
  at: Date;
  answerId: number;
  userId: string;
  vote: 'up' | 'down';
  conversationId: string;
  channelId: string;
  question: string | null;
  /** The answer's first line. */
  answer: string;
  /** The labels of its `Sources:` line. */
  sources: string[];
}

const SOURCES_PREFIX = 'Sources: ';

/** An answer as stored (text, then a blank line and `Sources: a · b`) → its first line and sources. */
export function splitAnswer(content: string): { firstLine: string; sources: string[] } {
  const paragraphs = content.split('\n\n');
  const last = paragraphs.at(-1) ?? '';
  const sources =
    paragraphs.length > 1 && last.startsWith(SOURCES_PREFIX)
      ? last
          .slice(SOURCES_PREFIX.length)
          .split(' · ')
          .map((s) => s.trim())
          .filter(Boolean)
      : [];
  const firstLine = content.split('\n').find((l) => l.trim() !== '') ?? '';
  return { firstLine: firstLine.trim(), sources };
}

export interface Feedback {
  /** Stores or changes a vote; null when the answer no longer exists. Listeners hear of every stored vote. */
  vote(answerId: number, userId: string, vote: VoteValue): Promise<VoteRecord | null>;
  /** Subscribes to votes (called after each one is stored; a failing listener is logged, never thrown). */
  onVote(fn: VoteListener): void;
  list(o: { since: Date | null; down?: boolean; limit?: number }): Promise<FeedbackItem[]>;
  totals(): Promise<{ up: number; down: number }>;
  /** Deletes every message the user wrote and the answers to them (audited, without content). */
  forgetUser(userId: string, actor: string): Promise<{ messages: number; replies: number }>;
}

export function createFeedback(db: Db, log?: { warn(o: object, msg?: string): void }): Feedback {
  const listeners: VoteListener[] = [];
  return {
    async vote(answerId, userId, vote) {
      const record = await recordVote(db, answerId, userId, vote);
      if (!record) return null;
      for (const fn of listeners) {
        try {
          await fn(answerId, userId, vote, record);
        } catch (err) {
          log?.warn({ answerId, err: errorMessage(err) }, 'vote listener failed');
        }
      }
      return record;
    },
    onVote(fn) {
      listeners.push(fn);
    },
    async list(o) {
      const rows = await listVotes(db, { since: o.since, down: o.down ?? false, limit: o.limit ?? 1000 });
      return rows.map((r) => {
        const { firstLine, sources } = splitAnswer(r.answer);
        return {
          at: r.at,
          answerId: r.answerId,
          userId: r.userId,
          vote: r.vote === 1 ? 'up' : 'down',
          conversationId: r.conversationId,
          channelId: r.channelId,
          question: r.question,
          answer: firstLine,
          sources,
        };
      });
    },
    totals: () => voteTotals(db),
    forgetUser: (userId, actor) =>
      db.transaction(async (tx) => {
        const deleted = await deleteUserMessages(tx, userId);
        await recordAudit(tx, {
          actor,
          action: 'convo.forget_user',
          target: userId,
          oldValue: `${deleted.messages} messages, ${deleted.replies} replies`,
        });
        return deleted;
      }),
  };
}
