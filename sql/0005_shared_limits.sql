-- Limits shared by every copilot process on this database: the per-user question limit and the
-- Groq tokens-per-minute budget, both over a sliding window (src/db/limits.ts has the statements).

-- One row per user who asked within the window: the times of their accepted questions (oldest
-- first, at most the limit), and how many refusals followed the last accepted one (capped at 2:
-- 1 is the first refusal, which gets the one notice). Rows whose last accepted question left the
-- window are deleted by later questions.
create table user_question_limits (
  user_id text primary key,
  times timestamptz[] not null,
  refusals integer not null default 0,
  last_at timestamptz not null,
  seen_at timestamptz not null
);
create index user_question_limits_last_at_idx on user_question_limits (last_at);

-- Groq tokens spent (or reserved, before the call returns) at a time. A reservation is settled
-- to the real usage, deleted when no request was made, and otherwise leaves the window like any
-- spending; rows that left the window are deleted by the next reservation.
create table token_spending (
  id bigserial primary key,
  at timestamptz not null,
  tokens integer not null check (tokens >= 0)
);
create index token_spending_at_idx on token_spending (at, id);

-- Reserves p_tokens if the spending within p_window stays at most p_limit; else says when enough
-- of the oldest spending leaves. One call is atomic across connections: it holds a transaction
-- advisory lock, and each statement of a volatile function sees what committed before it began.
-- p_now is for tests; null uses the database clock (the one clock every process shares).
create function copilot_reserve_tokens(p_tokens integer, p_limit bigint, p_window interval, p_now timestamptz)
returns table (reservation_id bigint, retry_ms integer)
language plpgsql volatile as $$
declare
  v_now timestamptz;
  v_used bigint;
  v_at timestamptz;
begin
  perform pg_advisory_xact_lock(720417005);
  v_now := coalesce(p_now, clock_timestamp());
  delete from token_spending where at <= v_now - p_window;
  select coalesce(sum(tokens), 0) into v_used from token_spending;
  if v_used + p_tokens <= p_limit then
    insert into token_spending (at, tokens) values (v_now, p_tokens) returning id into reservation_id;
    retry_ms := null;
    return next;
    return;
  end if;
  select s.at into v_at
  from (select t.at, t.id, sum(t.tokens) over (order by t.at, t.id) as freed from token_spending t) s
  where v_used - s.freed + p_tokens <= p_limit
  order by s.at, s.id
  limit 1;
  reservation_id := null;
  retry_ms := coalesce(greatest(1, ceil(extract(epoch from (v_at + p_window - v_now)) * 1000))::integer,
    (extract(epoch from p_window) * 1000)::integer);
  return next;
end;
$$;
