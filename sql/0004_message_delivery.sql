-- Every accepted message is stored at once: 'unanswered' until its answer is stored ('complete'),
-- or 'limited' when the per-user limit refused it. A reply Discord refused is 'undelivered'.
alter table messages drop constraint messages_status_check;
alter table messages add constraint messages_status_check
  check (status in ('complete', 'interrupted', 'failed', 'fallback', 'unanswered', 'limited', 'undelivered'));

-- Questions are stored on arrival, answers later: an answer names its question, and a
-- conversation reads in turns (each question, then its answer) ordered by coalesce(answer_to, id).
alter table messages add column answer_to bigint references messages (id) on delete set null;
create index messages_turn_idx on messages (conversation_id, (coalesce(answer_to, id)), id);

-- Catching up after a restart or a new gateway session looks a Discord message up by its id.
create index messages_discord_message_idx on messages (discord_message_id) where discord_message_id is not null;
