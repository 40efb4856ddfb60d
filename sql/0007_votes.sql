-- 👍/👎 votes on answers: one per (answer, user); pressing again changes it. A vote goes with its
-- answer (a reset conversation, a forgotten user's messages).
create table votes (
  answer_id bigint not null references messages (id) on delete cascade,
  user_id text not null,
  vote smallint not null check (vote in (-1, 1)),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (answer_id, user_id)
);
create index votes_updated_idx on votes (updated_at);
