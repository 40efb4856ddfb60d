// long: the conversational filler list takes a quarter of it; the retrieval steps read top to bottom.
/**
 * Hybrid retrieval: the nearest chunks by cosine (top 40) and full-text candidates (top 40) fused
 * by reciprocal rank fusion, the full-text side weighting the question's lexemes by rarity; and
 * the relevance signal for the "not in the knowledge base" decision. The statements are in
 * db/search.ts.
 */
import type { Db } from '../db/backend.js';
import { fullTextCandidates, nearestChunks, passagesById, questionLexemes } from '../db/search.js';
import type { PassageRow } from '../db/search.js';
import { cosineStandout, idfOf, MATCH_THRESHOLD, matchScore } from './match.js';

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

/** A passage of the knowledge base as an answer quotes and cites it. */
export interface Passage {
  documentName: string;
  /** A web document's page title and URL (null for files). */
  title?: string | null;
  url?: string | null;
  page: number | null;
  section: string | null;
  content: string;
  /** Fused score (reciprocal rank fusion): higher ranks first. */
  score: number;
  /** Llama 3 tokens in `content.trim()`, if known (e.g. counted at ingest); saves counting. */
  tokens?: number;
}

/** A passage as retrieval found it, with the signals that ranked it. */
export interface RetrievedPassage extends Passage {
  chunkId: number;
  documentId: number;
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
  /**
   * The evidence that a passage answers: the rarity the best of the top passages shares with the
   * question, in units of the rarest possible lexeme, moved by how far the nearest chunk stands out
   * from the other vector candidates (see kb/match.ts).
   */
  match: number;
  /** Whether `match` reaches MATCH_THRESHOLD: false means nothing in the knowledge base matches. */
  matches: boolean;
}

export interface RetrievalResult {
  passages: RetrievedPassage[];
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
  /**
   * Earlier turns of the conversation: their lexemes also score, at `weight` times their rarity
   * (lexemes of the question itself keep their full weight). The query vector should already
   * hold them (see retrieveForConversation).
   */
  context?: { text: string; weight: number };
  /** Only documents in these collections (a channel's); null or absent: all. */
  collections?: string[] | null;
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

/** The texts' lexemes weighted by rarity; single characters and conversational filler are noise in questions. */
async function lexemeTerms(db: Db, texts: string[]): Promise<{ terms: Term[][]; totalChunks: number }> {
  const { lexemes, totalChunks } = await questionLexemes(db, texts);
  const terms = lexemes.map((list) =>
    list
      .map(({ lexeme, chunks: df }) => ({ lexeme, df, idf: idfOf(df, totalChunks) }))
      .filter((t) => t.lexeme.length > 1 && !FILLER_LEXEMES.has(t.lexeme)),
  );
  return { terms, totalChunks };
}

/** The question's terms, then the context's that the question lacks, at `weight` times their rarity. */
async function queryTerms(
  db: Db,
  question: string,
  context?: { text: string; weight: number },
): Promise<{ terms: Term[]; totalChunks: number }> {
  const withContext = context !== undefined && context.text.trim() !== '' && context.weight > 0;
  const { terms, totalChunks } = await lexemeTerms(db, withContext ? [question, context.text] : [question]);
  const [own = [], earlier = []] = terms;
  if (!withContext) return { terms: own, totalChunks };
  const seen = new Set(own.map((t) => t.lexeme));
  return {
    terms: [...own, ...earlier.filter((t) => !seen.has(t.lexeme)).map((t) => ({ ...t, idf: t.idf * context.weight }))],
    totalChunks,
  };
}

/** Full-text candidates: selected by the rarest lexemes within a row budget, scored by all of them. */
async function fullTextSearch(
  db: Db,
  terms: Term[],
  limit: number,
  collections: string[] | null = null,
): Promise<{ id: number; rank: number }[]> {
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
  const ids = await fullTextCandidates(db, {
    selecting: selecting.map((t) => t.lexeme),
    scoring: known.map((t) => ({ lexeme: t.lexeme, weight: t.idf })),
    limit,
    // Questions made only of very common words: score a bounded sample (vectors carry them).
    sample: CANDIDATE_ROW_BUDGET,
    proximity: PROXIMITY_CANDIDATES,
    collections,
  });
  return ids.map((id, i) => ({ id, rank: i + 1 }));
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
  // The vector search does not wait for the question's lexemes.
  const termsLoad = queryTerms(db, question, options.context);
  const [{ terms, totalChunks }, fts, vec] = await Promise.all([
    termsLoad,
    useText ? termsLoad.then((q) => fullTextSearch(db, q.terms, CANDIDATES, options.collections ?? null)) : Promise.resolve([]),
    vector ? nearestChunks(db, vector, CANDIDATES, EF_SEARCH, options.collections ?? null) : Promise.resolve([]),
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
      ? await passagesById(
          db,
          top.map(([id]) => id),
          terms.map((t) => ({ lexeme: t.lexeme, weight: t.idf })),
        )
      : new Map<number, PassageRow>();
  const totalIdf = terms.reduce((s, t) => s + t.idf, 0);
  const passages: RetrievedPassage[] = top.flatMap(([id, e]) => {
    const r = rows.get(id);
    if (!r) return [];
    return [
      {
        chunkId: id,
        documentId: r.documentId,
        documentName: r.documentName,
        title: r.title,
        url: r.url,
        page: r.page,
        section: r.section,
        content: r.content,
        score: e.score,
        cosine: e.cosine,
        coverage: totalIdf > 0 ? r.covered / totalIdf : 0,
        ftsRank: e.ftsRank,
        vectorRank: e.vectorRank,
      },
    ];
  });
  const coverage = Math.max(0, ...passages.slice(0, 3).map((p) => p.coverage));
  const topCosine = vec.length > 0 ? vec[0]!.cosine : null;
  const score = relevanceScore(coverage, topCosine);
  const match = matchScore(
    coverage * totalIdf,
    totalChunks,
    cosineStandout(
      vec.map((r) => r.cosine),
      CANDIDATES,
    ),
  );
  return {
    passages,
    relevance: {
      score,
      coverage,
      topCosine,
      answerable: passages.length > 0 && score >= RELEVANCE_THRESHOLD,
      match,
      matches: passages.length > 0 && match >= MATCH_THRESHOLD,
    },
    mode: vector && useText ? 'hybrid' : vector ? 'vector' : 'fulltext',
    lexemes: terms.map((t) => t.lexeme),
  };
}
