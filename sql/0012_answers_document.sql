-- The built-in `answers` document: accepted candidate answers become its chunks (type 'qa'). A
-- candidate keeps its status when that chunk goes (`kb remove answers`): its chunk id turns null.
alter table documents drop constraint documents_type_check;
alter table documents add constraint documents_type_check check (type in ('pdf', 'markdown', 'text', 'html', 'qa'));
alter table kb_candidates add constraint kb_candidates_chunk_fk foreign key (chunk_id) references chunks (id) on delete set null;
create index kb_candidates_message_idx on kb_candidates (discord_message_id) where discord_message_id is not null;
