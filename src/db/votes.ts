/**
 * Votes on answers (👍 = 1, 👎 = -1), one per (answer, user), and what `copilot feedback` lists:
 * each vote with its answer, the question it answered and the conversation's channel.
 */
import type { Queryable } from './backend.js';
import { dbText } from './text.js';
import { onlyRow } from './rows.js';

export type VoteValue = 1 | -1;

export interface VoteRecord {
  answerId: number;
  userId: string;
  vote: VoteValue;
  /** The vote this one replaced, or null when it is the user's first on this answer. */
  previous: VoteValue | null;
}

/**
 * Stores (or changes) a user's vote on an answer. Null when there is no such answer (deleted, reset,
 * or not an answer).
 */
export async function recordVote(db: Queryable, answerId: number, userId: string, vote: VoteValue): Promise<VoteRecord | null> {
  const { rows } = await db.query<{ previous: number | null; found: boolean }>(
    `with answer as (
       select id from messages where id = $1 and role = 'assistant'
     ), before as (
       select vote from votes where answer_id = $1 and user_id = $2
     ), saved as (
       insert into votes (answer_id, user_id, vote) select id, $2, $3 from answer
       on conflict (answer_id, user_id) do update set vote = excluded.vote, updated_at = now()
       returning answer_id
     )
     select (select vote from before) as previous, exists (select 1 from saved) as found`,
    [answerId, dbText(userId), vote],
  );
  const r = onlyRow(rows, 'recordVote');
  if (!r.found) return null;
  return { answerId, userId, vote, previous: r.previous === null ? null : (Number(r.previous) as VoteValue) };
}

export interface FeedbackRow {
  at: Date;
  answerId: number;
  userId: string;
  vote: VoteValue;
  conversationId: string;
  /** The allowed channel (a thread's parent), else the conversation. */
  channelId: string;
  question: string | null;
  answer: string;
}

/** Votes changed since `since` (all when null), newest first; only 👎 with `down`. */
export async function listVotes(db: Queryable, o: { since: Date | null; down: boolean; limit: number }): Promise<FeedbackRow[]> {
  const { rows } = await db.query<{
    updated_at: Date;
    answer_id: number;
    user_id: string;
    vote: number;
    conversation_id: string;
    channel_id: string | null;
    parent_id: string | null;
    question: string | null;
    answer: string;
  }>(
    `select v.updated_at, v.answer_id, v.user_id, v.vote, a.conversation_id, c.channel_id, c.parent_id,
            q.content as question, a.content as answer
     from votes v
     join messages a on a.id = v.answer_id
     join conversations c on c.id = a.conversation_id
     left join messages q on q.id = a.answer_to
     where ($1::timestamptz is null or v.updated_at >= $1) and (not $2 or v.vote = -1)
     order by v.updated_at desc, v.answer_id desc limit $3`,
    [o.since, o.down, o.limit],
  );
  return rows.map((r) => ({
    at: r.updated_at,
    answerId: Number(r.answer_id),
    userId: r.user_id,
    vote: Number(r.vote) as VoteValue,
    conversationId: r.conversation_id,
    channelId: r.parent_id ?? r.channel_id ?? r.conversation_id,
    question: r.question,
    answer: r.answer,
  }));
}

/** Votes up and down on each of these answers. */
export async function votesFor(db: Queryable, answerIds: number[]): Promise<Map<number, { up: number; down: number }>> {
  const out = new Map<number, { up: number; down: number }>();
  if (answerIds.length === 0) return out;
  const { rows } = await db.query<{ answer_id: number; up: number; down: number }>(
    `select answer_id, count(*) filter (where vote = 1)::int as up, count(*) filter (where vote = -1)::int as down
     from votes where answer_id = any($1::bigint[]) group by answer_id`,
    [answerIds],
  );
  for (const r of rows) out.set(Number(r.answer_id), { up: Number(r.up), down: Number(r.down) });
  return out;
}

/** Every vote stored, up and down. */
export async function voteTotals(db: Queryable): Promise<{ up: number; down: number }> {
  const { rows } = await db.query<{ up: number; down: number }>(
    `select count(*) filter (where vote = 1)::int as up, count(*) filter (where vote = -1)::int as down from votes`,
  );
  const row = onlyRow(rows, 'voteTotals');
  return { up: Number(row.up), down: Number(row.down) };
}

/**
 * Deletes every message a user wrote, in every conversation, and the answers to them; returns
 * how many of each.
 */
export async function deleteUserMessages(db: Queryable, userId: string): Promise<{ messages: number; replies: number }> {
  const { rows } = await db.query<{ messages: number; replies: number }>(
    `with mine as (
       select id from messages where role = 'user' and author_id = $1
     ), replies as (
       delete from messages where role = 'assistant' and answer_to in (select id from mine) returning id
     ), gone as (
       delete from messages where id in (select id from mine) returning id
     )
     select (select count(*) from gone)::int as messages, (select count(*) from replies)::int as replies`,
    [dbText(userId)],
  );
  const row = onlyRow(rows, 'deleteUserMessages');
  return { messages: Number(row.messages), replies: Number(row.replies) };
}

/** An answer more of whose votes are 👍 than 👎, with its question (for `copilot feedback export`). */
export interface UpvotedAnswer {
  answerId: number;
  question: string;
  answer: string;
  up: number;
  down: number;
  lastVoteAt: Date;
}

/** Answers with more 👍 than 👎 (votes changed since `since`, all when null), newest vote first. */
export async function upvotedAnswers(db: Queryable, since: Date | null): Promise<UpvotedAnswer[]> {
  const { rows } = await db.query<{
    answer_id: number;
    question: string;
    answer: string;
    up: number;
    down: number;
    last_vote_at: Date;
  }>(
    `select a.id as answer_id, q.content as question, a.content as answer,
            count(*) filter (where v.vote = 1)::int as up, count(*) filter (where v.vote = -1)::int as down,
            max(v.updated_at) as last_vote_at
     from votes v
     join messages a on a.id = v.answer_id
     join messages q on q.id = a.answer_to
     group by a.id, q.content, a.content
     having count(*) filter (where v.vote = 1) > count(*) filter (where v.vote = -1)
        and ($1::timestamptz is null or max(v.updated_at) >= $1)
     order by max(v.updated_at) desc, a.id desc`,
    [since],
  );
  return rows.map((r) => ({
    answerId: Number(r.answer_id),
    question: r.question,
    answer: r.answer,
    up: Number(r.up),
    down: Number(r.down),
    lastVoteAt: r.last_vote_at,
  }));
}
