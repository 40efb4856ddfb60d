/**
 * The retrieval statements: the question's lexemes and how many chunks hold each, the nearest
 * chunks by cosine (pgvector HNSW), full-text candidates, and the passages' text and coverage.
 * How they are combined and ranked is kb/retrieve.ts's business.
 */
import type { Db, Queryable } from './backend.js';
import { dbText } from './text.js';
import { vectorText } from './vectors.js';

export interface QuestionLexeme {
  lexeme: string;
  /** Chunks holding it (0 when none does). */
  chunks: number;
}

/** A lexeme and its weight (its rarity), for coverage scores. */
export interface WeightedLexeme {
  lexeme: string;
  weight: number;
}

/** A lexeme as a tsquery literal. */
function tsLiteral(lexeme: string): string {
  return `'${lexeme.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * Each text's lexemes (stop words dropped, stemmed by the 'english' configuration) with their chunk
 * counts, and all chunks: one statement for the question and its conversation's earlier turns.
 */
export async function questionLexemes(db: Queryable, texts: string[]): Promise<{ lexemes: QuestionLexeme[][]; totalChunks: number }> {
  const { rows } = await db.query<{ text_no: number; lexeme: string; df: number | null; total: number | null }>(
    `select q.text_no::integer as text_no, t.lexeme, s.chunks as df, (select chunks from kb_lexemes where lexeme = '') as total
     from unnest($1::text[]) with ordinality as q(body, text_no)
     cross join lateral unnest(tsvector_to_array(to_tsvector('english', q.body))) with ordinality as t(lexeme, n)
     left join kb_lexemes s on s.lexeme = t.lexeme
     order by q.text_no, t.n`,
    [texts.map(dbText)],
  );
  const lexemes: QuestionLexeme[][] = texts.map(() => []);
  for (const r of rows) lexemes[r.text_no - 1]?.push({ lexeme: r.lexeme, chunks: r.df ?? 0 });
  return { lexemes, totalChunks: rows[0]?.total ?? 0 };
}

const versionCache = new WeakMap<object, Promise<string | null>>();
function vectorVersion(db: Db): Promise<string | null> {
  let v = versionCache.get(db);
  if (!v) {
    v = db.query<{ v: string }>("select extversion as v from pg_extension where extname = 'vector'").then((r) => r.rows[0]?.v ?? null);
    versionCache.set(db, v);
  }
  return v;
}

function atLeast(version: string | null, major: number, minor: number): boolean {
  if (!version) return false;
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/** The `limit` chunks nearest to `vector` by cosine, nearest first (navigation chunks last), the HNSW candidate list at least `efSearch`. */
export async function nearestChunks(
  db: Db,
  vector: number[],
  limit: number,
  efSearch: number,
  collections: string[] | null = null,
): Promise<{ id: number; cosine: number }[]> {
  const iterative = atLeast(await vectorVersion(db), 0, 8);
  // One statement: the settings are local to its own transaction and, through the lateral
  // reference, set before the index scan starts. Iterative scans exist from pgvector 0.8.
  const { rows } = await db.query<{ id: number; distance: number; navigation: boolean }>(
    `select v.id, v.distance, v.navigation from
       (select set_config('hnsw.ef_search', $2, true) as ef, set_config($3, 'relaxed_order', true) as iterative) cfg,
       lateral (select id, embedding <=> $1::vector as distance, navigation from chunks
                where embedding is not null and cfg.ef is not null and cfg.iterative is not null
                  and ($5::text[] is null or document_id in (select id from documents where collection = any($5::text[])))
                order by embedding <=> $1::vector limit $4) v`,
    [vectorText(vector), String(Math.max(efSearch, limit)), iterative ? 'hnsw.iterative_scan' : 'copilot.unused', limit, collections],
  );
  // relaxed_order may return near-sorted results: sort them exactly, navigation chunks after content.
  return rows
    .sort((a, b) => Number(a.navigation) - Number(b.navigation) || a.distance - b.distance)
    .map((r) => ({ id: r.id, cosine: 1 - r.distance }));
}

export interface FullTextQuery {
  /** Lexemes a candidate must hold one of. */
  selecting: string[];
  /** Lexemes that score a candidate, by the summed weight of those it holds. */
  scoring: WeightedLexeme[];
  /** Candidates scored at most (a bounded sample when the selecting lexemes are common). */
  sample: number;
  /** The best-covered candidates that also get the proximity rank (ts_rank_cd, cover density). */
  proximity: number;
  limit: number;
  /** Only chunks of documents in these collections (null or absent: all). */
  collections?: string[] | null;
}

/** Chunk ids of the best full-text candidates, best first, navigation chunks after content. */
export async function fullTextCandidates(db: Queryable, q: FullTextQuery): Promise<number[]> {
  // Rows are detoasted once (tsv || ''), scored by weighted coverage, and only the best get the
  // costlier proximity rank.
  const { rows } = await db.query<{ id: number; score: number }>(
    `with c as materialized (
       select id, tsv || ''::tsvector as tsv, navigation from chunks where tsv @@ to_tsquery('simple', $1)
         and ($8::text[] is null or document_id in (select id from documents where collection = any($8::text[]))) limit $6
     ), covered as (
       select id, tsv, navigation,
         (select coalesce(sum(w.idf), 0) from unnest($2::tsquery[], $3::float8[]) as w(q, idf) where c.tsv @@ w.q) as covered
       from c order by covered desc, id limit $7
     )
     select id, covered + ts_rank_cd(tsv, to_tsquery('simple', $4), 1) as score
     from covered order by navigation, score desc, id limit $5`,
    [
      q.selecting.map(tsLiteral).join(' | '),
      q.scoring.map((t) => tsLiteral(t.lexeme)),
      q.scoring.map((t) => t.weight),
      q.scoring.map((t) => tsLiteral(t.lexeme)).join(' | '),
      q.limit,
      q.sample,
      q.proximity,
      q.collections ?? null,
    ],
  );
  return rows.map((r) => r.id);
}

export interface PassageRow {
  chunkId: number;
  documentId: number;
  documentName: string;
  title: string | null;
  url: string | null;
  page: number | null;
  section: string | null;
  content: string;
  /** Summed weight of the scoring lexemes the chunk holds. */
  covered: number;
}

/** The chunks `ids` with their document's name and their coverage of `scoring`, by chunk id. */
export async function passagesById(db: Queryable, ids: number[], scoring: WeightedLexeme[]): Promise<Map<number, PassageRow>> {
  const { rows } = await db.query<{
    id: number;
    document_id: number;
    name: string;
    title: string | null;
    url: string | null;
    page: number | null;
    section: string | null;
    content: string;
    covered: number;
  }>(
    `select c.id, c.document_id, d.name, d.title, d.url, c.page, c.section, c.content,
       (select coalesce(sum(w.idf), 0) from unnest($2::tsquery[], $3::float8[]) as w(q, idf) where c.tsv @@ w.q) as covered
     from chunks c join documents d on d.id = c.document_id where c.id = any($1::bigint[])`,
    [ids, scoring.map((t) => tsLiteral(t.lexeme)), scoring.map((t) => t.weight)],
  );
  return new Map(
    rows.map((r) => [
      r.id,
      {
        chunkId: r.id,
        documentId: r.document_id,
        documentName: r.name,
        title: r.title,
        url: r.url,
        page: r.page,
        section: r.section,
        content: r.content,
        covered: r.covered,
      },
    ]),
  );
}
