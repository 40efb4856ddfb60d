/** Questions the knowledge base could not answer. */
import type { Queryable } from './backend.js';
import { dbText } from './text.js';

export interface GapSummary {
  question: string;
  count: number;
  lastAskedAt: Date;
}

/** Lower-case, punctuation and extra spaces removed: the same question asked twice counts twice. */
export function normaliseQuestion(question: string): string {
  return question
    .toLowerCase()
    .replace(/<@!?\d+>/g, ' ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export async function recordGap(db: Queryable, question: string, conversationId: string | null): Promise<void> {
  await db.query('insert into kb_gaps (question, normalized, conversation_id) values ($1, $2, $3)', [
    dbText(question),
    dbText(normaliseQuestion(question)),
    dbText(conversationId),
  ]);
}

export async function listGaps(db: Queryable, since: Date, limit = 100): Promise<GapSummary[]> {
  const { rows } = await db.query<{ question: string; count: number; last_asked_at: Date }>(
    `select (array_agg(question order by created_at desc))[1] as question, count(*) as count, max(created_at) as last_asked_at
     from kb_gaps where created_at >= $1 group by normalized order by count(*) desc, max(created_at) desc limit $2`,
    [since, limit],
  );
  return rows.map((r) => ({ question: r.question, count: r.count, lastAskedAt: r.last_asked_at }));
}
