-- Searches must not scan a growing GIN pending list between vacuums: index entries are written
-- at insert time instead (ingest is rare, questions are frequent).
alter index chunks_tsv_idx set (fastupdate = off);
