-- Chunks recognised at ingest as navigation (a table of contents, an index, a list of figures):
-- stored and searchable, but ranked below content.
alter table chunks add column navigation boolean not null default false;
