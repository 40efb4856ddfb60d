/**
 * The limits every copilot process on one database shares (tables user_question_limits and
 * token_spending): the per-user question limit and the Groq token budget, over a sliding window
 * on the database clock, the one clock that processes on several machines share (`now` replaces
 * it in tests only: one database's rows must all come from one clock).
 *
 * Atomic across connections, one statement per operation:
 * - a question is one upsert of the user's row: INSERT … ON CONFLICT DO UPDATE locks the row and
 *   computes the new state from it as locked (the latest version, even one committed after the
 *   statement began), so concurrent questions of one user queue on that row and hold up nobody else;
 * - a reservation is one call of copilot_reserve_tokens (sql/0005): the budget is a sum over
 *   many rows, which no row lock covers, so the function takes a transaction advisory lock and
 *   then reads the spending with a fresh snapshot. The lock lasts that one statement (no network
 *   round trip while it is held) and needs no session, so a transaction pooler is fine;
 * - settling and refunding only lower or add spending, so they take no lock.
 * Call these on the pool, not inside a transaction (its locks would be held until it ends).
 * Rows are deleted by the statements themselves once they leave the window: a question deletes
 * a batch of expired users (skipping rows others hold), a reservation every expired spending.
 */
import type { Queryable } from './backend.js';
import { onlyRow } from './rows.js';

export const LIMIT_WINDOW_MS = 60_000;

export type UserQuestionDecision = { ok: true } | { ok: false; retryInMs: number; firstRefusal: boolean };

export interface LimitOptions {
  /** The window's length (default 60 s); shorter in tests. */
  windowMs?: number;
  /** Epoch milliseconds instead of the database clock (tests only). */
  now?: number;
}

/** Expired users deleted by each question: more than one, so a backlog shrinks. */
const SWEEP_BATCH = 64;

// $1 user, $2 perMinute, $3 now (null: the database clock), $4 window in ms. The upsert runs
// first and the sweep reads its result, so a question waits on at most its own user's row, and
// holds no other row while it waits (two sweeps waiting on each other's users would deadlock).
// The update reads the clock again once it holds the row: a question that waited for it is
// counted at the time it was taken, never before the questions it waited for.
const TAKE_QUESTION = `
  with clock as (
    select now, now - $4::integer * interval '1 millisecond' as cutoff
    from (select coalesce($3::timestamptz, clock_timestamp()) as now) c
  ),
  taken as (
    insert into user_question_limits as u (user_id, times, refusals, last_at, seen_at)
    select $1::text, array[clock.now], 0, clock.now, clock.now from clock
    on conflict (user_id) do update set (times, refusals, last_at, seen_at) = (
      select
        case when cardinality(w.times) < $2::integer then w.times || w.now else w.times end,
        case when cardinality(w.times) < $2::integer then 0 else least(u.refusals + 1, 2) end,
        case when cardinality(w.times) < $2::integer then w.now else u.last_at end,
        w.now
      from (
        select n.now, array(select t from unnest(u.times) t where t > n.now - $4::integer * interval '1 millisecond' order by t) as times
        from (select coalesce($3::timestamptz, clock_timestamp()) as now offset 0) n
        offset 0
      ) w
    )
    returning u.refusals, case when u.refusals > 0 then greatest(1, ceil(extract(epoch from (
      u.times[cardinality(u.times) - $2::integer + 1] + $4::integer * interval '1 millisecond' - u.seen_at)) * 1000))::integer
    end as retry_ms
  ),
  swept as (
    delete from user_question_limits
    where user_id in (
      select l.user_id from user_question_limits l
      where exists (select 1 from taken)
        and l.last_at <= (select cutoff from clock) and l.user_id <> $1::text
      order by l.last_at
      limit ${SWEEP_BATCH}
      for update skip locked
    )
  )
  select refusals, retry_ms from taken`;

function windowOf(options: LimitOptions): number {
  const ms = options.windowMs ?? LIMIT_WINDOW_MS;
  if (!(ms >= 1) || !Number.isInteger(ms)) throw new RangeError('windowMs must be a whole number of milliseconds, at least 1');
  return ms;
}

const nowParam = (options: LimitOptions): Date | null => (options.now === undefined ? null : new Date(options.now));

/**
 * At most `perMinute` accepted questions per user in any window, counted across every process.
 * `firstRefusal` is true on the first refusal after an accepted question (one notice, then
 * silence until the window lets the user in again).
 */
export async function takeUserQuestion(
  db: Queryable,
  userId: string,
  perMinute: number,
  options: LimitOptions = {},
): Promise<UserQuestionDecision> {
  if (!(perMinute >= 1)) throw new RangeError('perMinute must be at least 1');
  const { rows } = await db.query<{ refusals: number; retry_ms: number | null }>(TAKE_QUESTION, [
    userId,
    Math.floor(perMinute),
    nowParam(options),
    windowOf(options),
  ]);
  const row = onlyRow(rows, 'takeUserQuestion');
  if (row.refusals === 0) return { ok: true };
  return { ok: false, retryInMs: row.retry_ms!, firstRefusal: row.refusals === 1 };
}

/** Users with a row (asked within the window, or not yet swept): for tests and metrics. */
export async function trackedUsers(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('select count(*)::integer as n from user_question_limits');
  return onlyRow(rows, 'trackedUsers').n;
}

/** Tokens taken from the budget before a call: settle or refund it once, with this object. */
export interface TokenReservation {
  /** The spending row; null for a reservation of no tokens. */
  readonly id: string | null;
  readonly tokens: number;
}

export type TokenReserveDecision = { ok: true; reservation: TokenReservation } | { ok: false; retryInMs: number; tooLarge?: true };

/**
 * Reserves `tokens` if the spending within the window stays at most `limit`; a request larger
 * than the whole budget is refused with `tooLarge`, any other refusal says when to retry.
 */
export async function reserveTokens(
  db: Queryable,
  tokens: number,
  limit: number,
  options: LimitOptions = {},
): Promise<TokenReserveDecision> {
  if (!(limit >= 1)) throw new RangeError('limit must be at least 1');
  const windowMs = windowOf(options);
  const n = Math.max(0, Math.ceil(tokens));
  if (n > limit) return { ok: false, retryInMs: windowMs, tooLarge: true };
  if (n === 0) return { ok: true, reservation: { id: null, tokens: 0 } };
  const { rows } = await db.query<{ reservation_id: string | null; retry_ms: number | null }>(
    "select reservation_id::text, retry_ms from copilot_reserve_tokens($1::integer, $2::bigint, $3::integer * interval '1 millisecond', $4::timestamptz)",
    [n, Math.floor(limit), windowMs, nowParam(options)],
  );
  const row = onlyRow(rows, 'reserveTokens');
  if (row.reservation_id !== null) return { ok: true, reservation: { id: row.reservation_id, tokens: n } };
  return { ok: false, retryInMs: row.retry_ms! };
}

/**
 * Corrects a reservation with the actual usage: lowers it to `actual`, or charges the shortfall
 * as new spending now (as the in-process budget does). A reservation that already left the
 * window only has its shortfall charged.
 */
export async function settleTokens(
  db: Queryable,
  reservation: TokenReservation,
  actual: number,
  options: LimitOptions = {},
): Promise<void> {
  const used = Math.max(0, Math.ceil(actual));
  if (used < reservation.tokens) {
    if (reservation.id !== null)
      await db.query('update token_spending set tokens = least(tokens, $2) where id = $1', [reservation.id, used]);
  } else if (used > reservation.tokens) {
    await db.query('insert into token_spending (at, tokens) values (coalesce($1::timestamptz, clock_timestamp()), $2)', [
      nowParam(options),
      used - reservation.tokens,
    ]);
  }
}

/** Gives a reservation back when no request was made. */
export async function refundTokens(db: Queryable, reservation: TokenReservation): Promise<void> {
  if (reservation.id !== null) await db.query('delete from token_spending where id = $1', [reservation.id]);
}

/** Tokens spent or reserved within the window. */
export async function tokensUsed(db: Queryable, options: LimitOptions = {}): Promise<number> {
  const { rows } = await db.query<{ n: string | number }>(
    `select coalesce(sum(tokens), 0)::bigint as n from token_spending
     where at > coalesce($1::timestamptz, clock_timestamp()) - $2::integer * interval '1 millisecond'`,
    [nowParam(options), windowOf(options)],
  );
  return Number(onlyRow(rows, 'tokensUsed').n);
}

/** Spending rows stored (in the window, or not yet deleted): for tests and metrics. */
export async function spendingRows(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('select count(*)::integer as n from token_spending');
  return onlyRow(rows, 'spendingRows').n;
}
