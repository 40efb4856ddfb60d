/**
 * Hybrid retrieval: pgvector HNSW cosine (top 40) and Postgres full text (top 40) fused by
 * reciprocal rank fusion. The full-text side matches ANY of the question's meaningful lexemes
 * (stop words dropped, stemmed by the 'english' configuration), weighted by rarity (chunks per
 * lexeme are kept in kb_lexemes), so the passage sharing the most rare words ranks first.
 * Also returns a relevance signal for the "not in the knowledge base" decision.
 */
import type { Db, Queryable } from '../db/backend.js';
import { vectorLiteral } from '../db/documents.js';
import { dbText } from '../db/text.js';

export const CANDIDATES = 40;
export const RRF_K = 60;
/** HNSW candidate list size: measured recall@10 ≥ 0.95 at 100k chunks (bench/retrieval). */
export const EF_SEARCH = 100;
/**
 * Candidates come from the rarest lexemes first, adding commoner ones while the rows they match
 * stay under this budget (all lexemes still score): bounded work on a large corpus.
 */
const CANDIDATE_ROW_BUDGET = 300;
/** Candidates (best coverage first) that also get the proximity rank. */
const PROXIMITY_CANDIDATES = 50;
const MIN_SELECTING = 1;

export interface Passage {
  chunkId: number;
  documentId: number;
  documentName: string;
  page: number | null;
  section: string | null;
  content: string;
  /** Fused score (reciprocal rank fusion). */
  score: number;
  /** Cosine similarity to the question (null without vectors). */
  cosine: number | null;
  /** Share of the question's lexeme weight (rarity) this passage contains, 0–1. */
  coverage: number;
  ftsRank: number | null;
  vectorRank: number | null;
}

export interface Relevance {
  /** Combined 0–1 signal; below `threshold` the knowledge base probably does not cover it. */
  score: number;
  coverage: number;
  topCosine: number | null;
  answerable: boolean;
}

export interface RetrievalResult {
  passages: Passage[];
  relevance: Relevance;
  mode: 'hybrid' | 'fulltext' | 'vector';
  lexemes: string[];
}

export interface RetrieveOptions {
  k?: number;
  /** The question's embedding (already normalised), or null for full text alone. */
  queryVector?: number[] | null;
  /** Which sides to use (benchmarks compare them); default both where possible. */
  use?: 'hybrid' | 'fulltext' | 'vector';
}

/**
 * Relevance below this means "probably not in the knowledge base". Lenient on purpose: the
 * model's own judgement (the marker) decides first; this only catches answers that cite nothing
 * after weak retrieval. bench/retrieval reports the separation and the accuracy at this value.
 */
export const RELEVANCE_THRESHOLD = 0.2;

/**
 * Conversational filler of chat questions ("hey, anyone know a way to make…"), as stemmed by the
 * 'english' configuration. Postgres drops classic stop words; these carry no topic either but are
 * rare in manuals, so rarity weighting would otherwise favour any passage that happens to hold them.
 */
export const FILLER_LEXEMES = new Set([
  'hey',
  'hi',
  'hello',
  'hiya',
  'yo',
  'pleas',
  'pls',
  'plz',
  'thank',
  'thx',
  'ty',
  'anyon',
  'someon',
  'somebodi',
  'anybodi',
  'know',
  'want',
  'need',
  'make',
  'way',
  'get',
  'got',
  'go',
  'tri',
  'wonder',
  'like',
  'thing',
  'stuff',
  'guy',
  'folk',
  'possibl',
  'abl',
  'help',
  'question',
  'realli',
  'actual',
  'basic',
  'just',
  'also',
  'still',
  'ok',
  'okay',
  'lol',
  'idk',
  'tbh',
  'btw',
  'sure',
  'anyway',
  'kind',
  'sort',
  'mean',
  'think',
  'tell',
  'explain',
  'ask',
  'said',
  'say',
  'seem',
  'happen',
  'figur',
  'doe',
  'someth',
  'anyth',
  'everyth',
  'noth',
  'again',
  'redo',
  'etc',
  'via',
  'maybe',
  'mayb',
]);

interface Term {
  lexeme: string;
  df: number;
  idf: number;
}

function tsLiteral(lexeme: string): string {
  return `'${lexeme.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

async function queryTerms(db: Queryable, question: string): Promise<{ terms: Term[]; total: number }> {
  const { rows } = await db.query<{ lexeme: string; df: number | null; total: number | null }>(
    `select t.lexeme, s.chunks as df, (select chunks from kb_lexemes where lexeme = '') as total
     from unnest(tsvector_to_array(to_tsvector('english', $1))) as t(lexeme)
     left join kb_lexemes s on s.lexeme = t.lexeme`,
    [question],
  );
  const total = Number(rows[0]?.total ?? 0);
  const terms = rows
    .map((r) => {
      const df = Number(r.df ?? 0);
      return { lexeme: r.lexeme, df, idf: Math.log(1 + (total + 1) / (df + 0.5)) };
    })
    // Single characters and conversational filler are noise in questions.
    .filter((t) => t.lexeme.length > 1 && !FILLER_LEXEMES.has(t.lexeme));
  return { terms, total };
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

async function vectorSearch(db: Db, vector: number[], limit: number): Promise<{ id: number; cosine: number }[]> {
  const iterative = atLeast(await vectorVersion(db), 0, 8);
  // One statement: the settings are local to its own transaction and, through the lateral
  // reference, set before the index scan starts. Iterative scans exist from pgvector 0.8.
  const { rows } = await db.query<{ id: string | number; distance: number }>(
    `select v.id, v.distance from
       (select set_config('hnsw.ef_search', $2, true) as ef, set_config($3, 'relaxed_order', true) as iterative) cfg,
       lateral (select id, embedding <=> $1::vector as distance from chunks
                where embedding is not null and cfg.ef is not null and cfg.iterative is not null
                order by embedding <=> $1::vector limit $4) v`,
    [vectorLiteral(vector), String(Math.max(EF_SEARCH, limit)), iterative ? 'hnsw.iterative_scan' : 'copilot.unused', limit],
  );
  // relaxed_order may return near-sorted results: sort them exactly.
  return rows.map((r) => ({ id: Number(r.id), cosine: 1 - Number(r.distance) })).sort((a, b) => b.cosine - a.cosine);
}

async function fullTextSearch(db: Db, terms: Term[], total: number, limit: number): Promise<{ id: number; rank: number }[]> {
  const known = terms.filter((t) => t.df > 0);
  if (known.length === 0) return [];
  const byRarity = [...known].sort((a, b) => a.df - b.df);
  const selecting: Term[] = [];
  let matched = 0;
  for (const t of byRarity) {
    if (selecting.length >= MIN_SELECTING && matched + t.df > CANDIDATE_ROW_BUDGET) break;
    selecting.push(t);
    matched += t.df;
  }
  // Rows are detoasted once (tsv || ''), scored by rarity-weighted coverage, and only the best
  // get the costlier proximity rank (ts_rank_cd, cover density).
  const { rows } = await db.query<{ id: string | number; score: number }>(
    `with c as materialized (
       select id, tsv || ''::tsvector as tsv from chunks where tsv @@ to_tsquery('simple', $1) limit $6
     ), covered as (
       select id, tsv,
         (select coalesce(sum(w.idf), 0) from unnest($2::tsquery[], $3::float8[]) as w(q, idf) where c.tsv @@ w.q) as covered
       from c order by covered desc, id limit $7
     )
     select id, covered + ts_rank_cd(tsv, to_tsquery('simple', $4), 1) as score
     from covered order by score desc, id limit $5`,
    [
      selecting.map((t) => tsLiteral(t.lexeme)).join(' | '),
      known.map((t) => tsLiteral(t.lexeme)),
      known.map((t) => t.idf),
      known.map((t) => tsLiteral(t.lexeme)).join(' | '),
      limit,
      // Questions made only of very common words: score a bounded sample (vectors carry them).
      CANDIDATE_ROW_BUDGET,
      PROXIMITY_CANDIDATES,
    ],
  );
  return rows.map((r, i) => ({ id: Number(r.id), rank: i + 1 }));
}

async function details(db: Db, ids: number[], terms: Term[]) {
  const { rows } = await db.query<{
    id: string | number;
    document_id: string | number;
    name: string;
    page: number | null;
    section: string | null;
    content: string;
    covered: number;
  }>(
    `select c.id, c.document_id, d.name, c.page, c.section, c.content,
       (select coalesce(sum(w.idf), 0) from unnest($2::tsquery[], $3::float8[]) as w(q, idf) where c.tsv @@ w.q) as covered
     from chunks c join documents d on d.id = c.document_id where c.id = any($1::bigint[])`,
    [ids, terms.map((t) => tsLiteral(t.lexeme)), terms.map((t) => t.idf)],
  );
  return new Map(rows.map((r) => [Number(r.id), r]));
}

/** Combines coverage of the question's rare words with vector similarity (see bench/retrieval). */
export function relevanceScore(coverage: number, topCosine: number | null): number {
  if (topCosine === null) return coverage;
  return 0.6 * coverage + 0.4 * Math.max(0, topCosine);
}

export async function retrieve(db: Db, question: string, options: RetrieveOptions = {}): Promise<RetrievalResult> {
  const k = options.k ?? 5;
  const vector = options.use === 'fulltext' ? null : (options.queryVector ?? null);
  const useText = options.use !== 'vector';
  const { terms, total } = await queryTerms(db, dbText(question));
  const [fts, vec] = await Promise.all([
    useText ? fullTextSearch(db, terms, total, CANDIDATES) : Promise.resolve([]),
    vector ? vectorSearch(db, vector, CANDIDATES) : Promise.resolve([]),
  ]);
  const fused = new Map<number, { score: number; ftsRank: number | null; vectorRank: number | null; cosine: number | null }>();
  const entry = (id: number) => {
    let e = fused.get(id);
    if (!e) fused.set(id, (e = { score: 0, ftsRank: null, vectorRank: null, cosine: null }));
    return e;
  };
  fts.forEach((r) => {
    const e = entry(r.id);
    e.ftsRank = r.rank;
    e.score += 1 / (RRF_K + r.rank);
  });
  vec.forEach((r, i) => {
    const e = entry(r.id);
    e.vectorRank = i + 1;
    e.cosine = r.cosine;
    e.score += 1 / (RRF_K + i + 1);
  });
  const top = [...fused.entries()].sort((a, b) => b[1].score - a[1].score || a[0] - b[0]).slice(0, k);
  const rows =
    top.length > 0
      ? await details(
          db,
          top.map(([id]) => id),
          terms,
        )
      : new Map();
  const totalIdf = terms.reduce((s, t) => s + t.idf, 0);
  const passages: Passage[] = top.flatMap(([id, e]) => {
    const r = rows.get(id);
    if (!r) return [];
    return [
      {
        chunkId: id,
        documentId: Number(r.document_id),
        documentName: r.name,
        page: r.page,
        section: r.section,
        content: r.content,
        score: e.score,
        cosine: e.cosine,
        coverage: totalIdf > 0 ? Number(r.covered) / totalIdf : 0,
        ftsRank: e.ftsRank,
        vectorRank: e.vectorRank,
      },
    ];
  });
  const coverage = Math.max(0, ...passages.slice(0, 3).map((p) => p.coverage));
  const topCosine = vec.length > 0 ? vec[0]!.cosine : null;
  const score = relevanceScore(coverage, topCosine);
  return {
    passages,
    relevance: { score, coverage, topCosine, answerable: passages.length > 0 && score >= RELEVANCE_THRESHOLD },
    mode: vector && useText ? 'hybrid' : vector ? 'vector' : 'fulltext',
    lexemes: terms.map((t) => t.lexeme),
  };
}
