-- The learning loop: a channel's escalation role, the answers escalated to it (or left as gaps
-- there), and the escalation role's replies kept as candidate answers (src/db/escalations.ts).

alter table channels add column escalate_role text check (escalate_role ~ '^[0-9]{17,20}$');

-- One row per answer that was a gap (or got a 👎) in a channel with an escalation role: `pinged`
-- says whether the role was pinged (at most once per conversation per cool-down). The unique
-- answer id is what makes a second escalation of the same answer a no-op, across processes.
create table escalations (
  id bigserial primary key,
  conversation_id text not null,
  channel_id text not null,
  in_thread boolean not null,
  answer_id bigint not null unique,
  question text not null,
  question_discord_id text,
  role_id text not null,
  reason text not null check (reason in ('gap', 'downvote')),
  pinged boolean not null,
  ping_discord_id text,
  -- Set once a member holding the role replied (their reply became a candidate).
  replied_at timestamptz,
  created_at timestamptz not null default now()
);
create index escalations_conversation_idx on escalations (conversation_id, created_at);

create table kb_candidates (
  id bigserial primary key,
  escalation_id bigint references escalations (id) on delete set null,
  conversation_id text not null,
  channel_id text not null,
  question text not null,
  answer text not null,
  member_id text not null,
  discord_message_id text,
  status text not null default 'pending' check (status in ('pending', 'accepted', 'rejected')),
  decided_by text,
  decided_at timestamptz,
  chunk_id bigint,
  created_at timestamptz not null default now()
);
create index kb_candidates_status_idx on kb_candidates (status, created_at);
