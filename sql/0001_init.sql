-- The whole schema: settings, instructions, channels, conversations and messages, documents and
-- chunks (full text + vectors), knowledge gaps, and the audit log.
create extension if not exists vector;

-- Small key/value settings (embedding model and dimension of stored vectors, ...).
create table settings (
  key text primary key,
  value jsonb not null,
  updated_at timestamptz not null default now()
);
insert into settings (key, value) values
  ('embedding', '{"model": "sentence-transformers/all-MiniLM-L6-v2", "dimension": 384}');

-- System instructions: scope 'global', or a channel id for a per-channel override.
create table instructions (
  scope text primary key check (scope = 'global' or scope ~ '^[0-9]{17,20}$'),
  content text not null check (length(btrim(content)) > 0),
  updated_at timestamptz not null default now(),
  updated_by text not null
);

-- Channels the bot answers in; threads whose parent is listed are answered too.
create table channels (
  id text primary key check (id ~ '^[0-9]{17,20}$'),
  mode text not null default 'all' check (mode in ('all', 'mention')),
  added_at timestamptz not null default now(),
  added_by text not null
);

-- One conversation per channel or thread (or 'cli' for the command line).
create table conversations (
  id text primary key,
  channel_id text,
  parent_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table messages (
  id bigserial primary key,
  conversation_id text not null references conversations (id) on delete cascade,
  role text not null check (role in ('user', 'assistant')),
  content text not null,
  author_id text,
  discord_message_id text,
  status text not null default 'complete' check (status in ('complete', 'interrupted', 'failed', 'fallback')),
  created_at timestamptz not null default clock_timestamp()
);
create index messages_conversation_idx on messages (conversation_id, id);

create table documents (
  id bigserial primary key,
  name text not null unique,
  sha256 text not null,
  bytes bigint not null,
  pages integer not null,
  type text not null check (type in ('pdf', 'markdown', 'text')),
  embedding_model text,
  created_at timestamptz not null default now()
);

create table chunks (
  id bigserial primary key,
  document_id bigint not null references documents (id) on delete cascade,
  ordinal integer not null,
  page integer,
  section text,
  content text not null,
  truncated boolean not null default false,
  tsv tsvector generated always as (to_tsvector('english'::regconfig, coalesce(section, '') || ' ' || content)) stored,
  embedding vector(384),
  unique (document_id, ordinal)
);
create index chunks_tsv_idx on chunks using gin (tsv);
create index chunks_embedding_idx on chunks using hnsw (embedding vector_cosine_ops);

-- Questions the knowledge base could not answer.
create table kb_gaps (
  id bigserial primary key,
  question text not null,
  normalized text not null,
  conversation_id text,
  created_at timestamptz not null default now()
);
create index kb_gaps_created_idx on kb_gaps (created_at);

create table audit_log (
  id bigserial primary key,
  at timestamptz not null default now(),
  actor text not null,
  action text not null,
  target text,
  old_value text,
  new_value text
);

-- Changes to what the running bot obeys bump a counter (polled on the embedded database) and
-- send a NOTIFY (Postgres).
create sequence config_version;
create function copilot_config_changed() returns trigger language plpgsql as $$
begin
  perform nextval('config_version');
  perform pg_notify('copilot_config', tg_table_name);
  return null;
end;
$$;
create trigger channels_changed after insert or update or delete on channels
  for each statement execute function copilot_config_changed();
create trigger instructions_changed after insert or update or delete on instructions
  for each statement execute function copilot_config_changed();
