/**
 * Retrieval quality and speed.
 * 1. Quality: the evaluation set (bench/eval/questions.jsonl, through `copilot eval`'s module) over the three generated documents —
 *    hit@5 for full text alone, vectors alone and hybrid; how well the relevance signal
 *    separates answerable from unanswerable questions (ROC AUC, accuracy at the threshold),
 *    against the top cosine alone; the `match` evidence against the relevance score it replaced for
 *    the retrieval-only answer, hybrid and full text alone, and the gap flags of `copilot eval
 *    --answers` without Groq (the answer service's retrieval-only path) against the rule before it
 *    (a gap only when nothing at all was retrieved). BENCH_SKIP_SPEED=1 runs this part alone.
 * 2. Speed on native Postgres with 100k chunks of 384 dimensions: p50/p95 of the search
 *    (query embedding excluded) and recall@10 of the HNSW scan at the chosen ef_search against
 *    exact search. PGlite at 10k chunks too.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import type { Db } from '../src/db/backend.js';
import { insertChunks, insertDocument, updateLexemeStats } from '../src/db/documents.js';
import type { NewChunk } from '../src/db/documents.js';
import { openDatabase } from '../src/db/open.js';
import { vectorText } from '../src/db/vectors.js';
import { createEmbedder } from '../src/kb/embed.js';
import { ingestFile } from '../src/kb/ingest/pipeline.js';
import { EF_SEARCH, RELEVANCE_THRESHOLD, retrieve } from '../src/kb/retrieve.js';
import { MATCH_THRESHOLD } from '../src/kb/match.js';
import { createAnswerService } from '../src/answer/service.js';
import { loadLlamaTokenizer } from '../src/answer/tokens.js';
import { startFakeEmbeddings } from '../test/fakes/embeddings.js';
import { longManual, tablesDoc, twoColumnDoc } from '../test/support/pdfs.js';
import { parseQuestionFile } from '../src/eval/questions.js';
import { hitRank, runEval } from '../src/eval/run.js';
import { percentile, printTable } from './support.js';

const admin = process.env.TEST_DATABASE_URL!;

async function freshPostgres(name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  const db = `copilot_bench_${name}_${process.pid}`;
  await client.query(`drop database if exists ${db} with (force)`);
  await client.query(`create database ${db}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${db}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${db} with (force)`);
      await c.end();
    },
  };
}

function auc(positives: number[], negatives: number[]): number {
  let wins = 0;
  for (const p of positives) for (const n of negatives) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / (positives.length * negatives.length);
}

// ---------------------------------------------------------------- quality
async function quality(): Promise<void> {
  const { url, drop } = await freshPostgres('quality');
  const home = mkdtempSync(join(tmpdir(), 'copilot-bench-'));
  const fake = await startFakeEmbeddings();
  const config = loadConfig({ databaseUrl: url }, { COPILOT_HOME: home, EMBEDDINGS_URL: fake.url });
  const db = await openDatabase(config, { command: 'bench' });
  const embedder = createEmbedder(config)!;
  const files: [string, Buffer][] = [
    ['manual.pdf', await longManual()],
    ['tables.pdf', await tablesDoc()],
    ['twocolumn.pdf', await twoColumnDoc()],
  ];
  for (const [name, bytes] of files) {
    writeFileSync(join(home, name), bytes);
    await ingestFile({ db, embedder, maxFileBytes: 100e6 }, join(home, name));
  }
  // The question set in `copilot eval` format; hybrid hit@5 is what `copilot eval` computes, through
  // the same module, so the benchmark and the command cannot drift apart.
  const cases = parseQuestionFile(readFileSync(new URL('../../bench/eval/questions.jsonl', import.meta.url), 'utf8'));
  const report = await runEval({ db, embedder }, cases, { k: 5 });
  const hits: Record<string, number> = { fulltext: 0, vector: 0, hybrid: report.hits };
  const answerable = cases.filter((q) => q.answerable);
  const signals: {
    answerable: boolean;
    relevance: number;
    cosine: number;
    coverage: number;
    match: number;
    ftRelevance: number;
    ftMatch: number;
    ftNone: boolean;
    none: boolean;
  }[] = [];
  const fulltextSignals = new Map<string, { relevance: number; match: number; none: boolean }>();
  const misses = report.misses.map((m) => `${m.expected}: ${m.question}`);
  for (const q of cases) {
    const [vector] = await embedder.embed([q.question]);
    for (const use of ['fulltext', 'vector', 'hybrid'] as const) {
      const r = await retrieve(db, q.question, { k: 5, queryVector: vector, use });
      if (use === 'fulltext') {
        fulltextSignals.set(q.question, { relevance: r.relevance.score, match: r.relevance.match, none: r.passages.length === 0 });
      }
      if (use === 'hybrid') {
        const ft = fulltextSignals.get(q.question)!;
        signals.push({
          answerable: q.answerable,
          relevance: r.relevance.score,
          cosine: r.relevance.topCosine ?? 0,
          coverage: r.relevance.coverage,
          match: r.relevance.match,
          ftRelevance: ft.relevance,
          ftMatch: ft.match,
          ftNone: ft.none,
          none: r.passages.length === 0,
        });
        continue;
      }
      if (q.answerable && hitRank(q, r.passages) !== null) hits[use]!++;
    }
  }
  printTable(
    `Retrieval quality: ${cases.length} questions (${answerable.length} answerable) over 3 documents`,
    ['retrieval', 'hit@5', 'of'],
    [
      ['full text alone', `${((100 * hits.fulltext!) / answerable.length).toFixed(1)}%`, `${hits.fulltext}/${answerable.length}`],
      ['vectors alone', `${((100 * hits.vector!) / answerable.length).toFixed(1)}%`, `${hits.vector}/${answerable.length}`],
      ['hybrid (RRF)', `${((100 * hits.hybrid!) / answerable.length).toFixed(1)}%`, `${hits.hybrid}/${answerable.length}`],
    ],
  );
  const pos = signals.filter((s) => s.answerable);
  const neg = signals.filter((s) => !s.answerable);
  const accuracy = signals.filter((s) => s.relevance >= RELEVANCE_THRESHOLD === s.answerable).length / signals.length;
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
  printTable(
    'Answerable vs unanswerable separation (ROC AUC: 1 = perfect, 0.5 = chance)',
    ['signal', 'AUC', 'answerable range', 'unanswerable range'],
    [
      [
        'top cosine alone',
        auc(
          pos.map((s) => s.cosine),
          neg.map((s) => s.cosine),
        ).toFixed(3),
        range(pos.map((s) => s.cosine)),
        range(neg.map((s) => s.cosine)),
      ],
      [
        'rare-lexeme coverage alone',
        auc(
          pos.map((s) => s.coverage),
          neg.map((s) => s.coverage),
        ).toFixed(3),
        range(pos.map((s) => s.coverage)),
        range(neg.map((s) => s.coverage)),
      ],
      [
        'combined relevance',
        auc(
          pos.map((s) => s.relevance),
          neg.map((s) => s.relevance),
        ).toFixed(3),
        range(pos.map((s) => s.relevance)),
        range(neg.map((s) => s.relevance)),
      ],
    ],
  );
  // The retrieval-only answer's "nothing matches" decision: the relevance score it used (before)
  // against `match` (after), on each side, and what `copilot eval --answers` flags without Groq.
  const side = (label: string, key: 'relevance' | 'match' | 'ftRelevance' | 'ftMatch') => [
    label,
    auc(
      pos.map((s) => s[key]),
      neg.map((s) => s[key]),
    ).toFixed(3),
    range(pos.map((s) => s[key])),
    range(neg.map((s) => s[key])),
  ];
  printTable(
    'Retrieval-only "nothing matches" signal: before (relevance score) vs after (match), ROC AUC',
    ['signal', 'AUC', 'answerable range', 'unanswerable range'],
    [
      side('hybrid: relevance (before)', 'relevance'),
      side('hybrid: match (after)', 'match'),
      side('full text alone: relevance (before)', 'ftRelevance'),
      side('full text alone: match (after)', 'ftMatch'),
    ],
  );
  const counter = await loadLlamaTokenizer();
  const flagRows: (string | number)[][] = [];
  for (const [label, withVectors] of [
    ['hybrid (embeddings)', true],
    ['full text alone (no embeddings)', false],
  ] as const) {
    const answers = createAnswerService({ db, config, embedder: withVectors ? embedder : null, chat: null, counter });
    const run = await runEval({ db, embedder: withVectors ? embedder : null, answers }, cases, { k: 5, answers: true });
    const none = signals.filter((s) => (withVectors ? s.none : s.ftNone));
    const below = signals.filter((s) => (withVectors ? s.match : s.ftMatch) < MATCH_THRESHOLD);
    flagRows.push(
      [
        label,
        'before: only when nothing is retrieved',
        `${none.filter((s) => !s.answerable).length}/${neg.length}`,
        `${none.filter((s) => s.answerable).length}/${pos.length}`,
      ],
      [
        label,
        `after: match < ${MATCH_THRESHOLD} (eval --answers)`,
        `${run.gaps!.flagged}/${run.unanswerable}`,
        `${run.gaps!.false_flags}/${run.answerable}`,
      ],
      [
        label,
        'after: match < threshold (retrieval)',
        `${below.filter((s) => !s.answerable).length}/${neg.length}`,
        `${below.filter((s) => s.answerable).length}/${pos.length}`,
      ],
    );
  }
  printTable('Gap flags of the retrieval-only answer (Groq off)', ['retrieval', 'rule', 'unanswerable flagged', 'false flags'], flagRows);
  const recallA = pos.filter((s) => s.relevance >= RELEVANCE_THRESHOLD).length / pos.length;
  const rejectU = neg.filter((s) => s.relevance < RELEVANCE_THRESHOLD).length / neg.length;
  console.log(
    `copilot eval (same module): hit@5 ${(100 * report.hit_at_k).toFixed(1)}%, MRR ${report.mrr.toFixed(3)}, p50 ${report.latency_ms.p50} ms`,
  );
  console.log(
    `at the threshold ${RELEVANCE_THRESHOLD}: accuracy ${(100 * accuracy).toFixed(1)}%, answerable kept ${(100 * recallA).toFixed(1)}%, unanswerable flagged ${(100 * rejectU).toFixed(1)}%`,
  );
  if (process.env.BENCH_VERBOSE) for (const m of misses) console.log(`  hybrid miss: ${m}`);
  await db.close();
  await fake.close();
  await drop();
  rmSync(home, { recursive: true, force: true });
}

// ---------------------------------------------------------------- speed
// A synthetic corpus shaped like documentation: words follow a Zipf law, and each chunk belongs
// to one of many topics whose own words it repeats (embeddings of real passages cluster by
// topic the same way). Questions are a handful of words from one chunk plus chatter.
const VOCAB = Array.from({ length: 30_000 }, (_, i) => {
  let s = '';
  let n = i + 7;
  const letters = 'abcdefghiklmnoprstuvwy';
  do {
    s += letters[n % letters.length];
    n = Math.floor(n / letters.length);
  } while (n > 0 || s.length < 4);
  return s;
});
let seed = 42;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const zipfWord = () => VOCAB[Math.min(VOCAB.length - 1, Math.floor(Math.exp(rand() * Math.log(VOCAB.length))) - 1)]!;
const TOPICS = Array.from({ length: 3000 }, () => Array.from({ length: 25 }, () => VOCAB[Math.floor(rand() * VOCAB.length)]!));
// Dense vectors like a sentence model's: a topic centroid plus the chunk's own deviation; a
// question's vector lies near the chunk it was drawn from.
const DIM = 384;
const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const CENTROIDS = TOPICS.map(() => unit(Array.from({ length: DIM }, gauss)));
const corpus: { text: string; vector: number[] }[] = [];
function syntheticChunk(): { text: string; vector: number[] } {
  const t = Math.floor(rand() * TOPICS.length);
  const topic = TOPICS[t]!;
  const words = Array.from({ length: 150 }, () => (rand() < 0.35 ? topic[Math.floor(rand() * topic.length)]! : zipfWord()));
  const vector = unit(CENTROIDS[t]!.map((c) => c + gauss() * (0.9 / Math.sqrt(DIM))));
  return { text: words.join(' '), vector };
}
function questionFor(chunk: { text: string; vector: number[] }): { text: string; vector: number[] } {
  const words = chunk.text.split(' ');
  const picked = Array.from({ length: 5 }, () => words[Math.floor(rand() * words.length)]!);
  return {
    text: [...picked, zipfWord(), zipfWord()].join(' '),
    vector: unit(chunk.vector.map((c) => c + gauss() * (0.5 / Math.sqrt(DIM)))),
  };
}

async function loadSynthetic(db: Db, chunks: number): Promise<void> {
  await db.exec('drop index if exists chunks_embedding_idx');
  const perDoc = 1000;
  for (let d = 0; d < chunks / perDoc; d++) {
    const rows: NewChunk[] = Array.from({ length: perDoc }, (_, i) => {
      const chunk = syntheticChunk();
      if (corpus.length < 5000) corpus.push(chunk);
      return { ordinal: i, page: 1 + Math.floor(i / 3), section: null, content: chunk.text, truncated: false, embedding: chunk.vector };
    });
    await db.transaction(async (tx) => {
      const id = await insertDocument(tx, {
        name: `doc-${d}.pdf`,
        sha256: `s${d}`,
        bytes: 1,
        pages: Math.ceil(perDoc / 3),
        type: 'pdf',
        embeddingModel: 'fake',
      });
      await insertChunks(tx, id, rows);
      await updateLexemeStats(tx, id, 1);
    });
  }
  const started = performance.now();
  await db.exec('create index chunks_embedding_idx on chunks using hnsw (embedding vector_cosine_ops)');
  // As autovacuum would: visibility map and statistics current.
  await db.exec('vacuum analyze chunks');
  console.log(`  ${chunks} chunks loaded; HNSW index built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function speed(label: string, db: Db, queries: number): Promise<(string | number)[]> {
  const asked = Array.from({ length: queries }, (_, i) => questionFor(corpus[(i * 37) % corpus.length]!));
  const questions = asked.map((q) => q.text);
  const vectors = asked.map((q) => q.vector);
  for (let i = 0; i < 10; i++) await retrieve(db, questions[i]!, { queryVector: vectors[i] }); // warm up
  const times: number[] = [];
  let recall = 0;
  for (let i = 0; i < queries; i++) {
    const t0 = performance.now();
    await retrieve(db, questions[i]!, { queryVector: vectors[i], k: 5 });
    times.push(performance.now() - t0);
  }
  const recallQueries = Math.min(queries, 100);
  for (let i = 0; i < recallQueries; i++) {
    const v = vectorText(vectors[i]!);
    const approx = await db.transaction(async (tx) => {
      await tx.query(`select set_config('hnsw.ef_search', $1, true)`, [String(EF_SEARCH)]);
      await tx.query(`select set_config('hnsw.iterative_scan', 'relaxed_order', true)`);
      return (
        await tx.query<{ id: string }>('select id from chunks where embedding is not null order by embedding <=> $1::vector limit 10', [v])
      ).rows;
    });
    const exact = await db.transaction(async (tx) => {
      await tx.query("select set_config('enable_indexscan', 'off', true)");
      return (await tx.query<{ id: string }>('select id from chunks order by embedding <=> $1::vector limit 10', [v])).rows;
    });
    const truth = new Set(exact.map((r) => String(r.id)));
    recall += approx.filter((r) => truth.has(String(r.id))).length / 10;
  }
  return [label, queries, percentile(times, 50), percentile(times, 95), (recall / recallQueries).toFixed(3)];
}

if (!process.env.BENCH_SKIP_QUALITY) await quality();
if (process.env.BENCH_SKIP_SPEED) process.exit(0);

const rows: (string | number)[][] = [];
{
  const n = Number(process.env.BENCH_CHUNKS ?? 100_000);
  const { url, drop } = await freshPostgres('speed');
  corpus.length = 0;
  const db = await openDatabase(loadConfig({ databaseUrl: url }, { COPILOT_HOME: tmpdir() }), { command: 'bench', poolSize: 4 });
  console.log(`\nloading ${n} synthetic chunks into native Postgres…`);
  await loadSynthetic(db, n);
  rows.push(await speed(`native Postgres, ${n / 1000}k chunks`, db, 300));
  await db.close();
  if (!process.env.BENCH_KEEP) await drop();
}
{
  const n = Number(process.env.BENCH_EMBEDDED_CHUNKS ?? 10_000);
  const home = mkdtempSync(join(tmpdir(), 'copilot-bench-emb-'));
  const db = await openDatabase(loadConfig({ home }, {}), { command: 'bench' });
  corpus.length = 0;
  console.log(`loading ${n} synthetic chunks into embedded PGlite…`);
  await loadSynthetic(db, n);
  rows.push(await speed(`embedded PGlite, ${n / 1000}k chunks`, db, 100));
  await db.close();
  rmSync(home, { recursive: true, force: true });
}
printTable(
  `Search latency (query embedding excluded; ef_search ${EF_SEARCH}; targets native: p50 ≤ 10 ms, p95 ≤ 25 ms, recall@10 ≥ 0.95)`,
  ['database', 'queries', 'p50 ms', 'p95 ms', 'recall@10'],
  rows,
);
