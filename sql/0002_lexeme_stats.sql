-- How many chunks hold each lexeme (the row '' holds the number of chunks): rarity weights for
-- full-text retrieval without scanning the corpus at question time. Maintained on ingest/remove.
create table kb_lexemes (
  lexeme text primary key,
  chunks integer not null check (chunks >= 0)
);
insert into kb_lexemes (lexeme, chunks) select '', count(*) from chunks;
insert into kb_lexemes (lexeme, chunks)
  select lexeme, count(*) from chunks, unnest(tsvector_to_array(tsv)) as lexeme group by lexeme;
