/**
 * Conversational retrieval on bench/eval/conversations.jsonl (follow-ups that need the
 * first turn) and bench/eval/controls.jsonl (a new, self-contained topic in the second turn): hit@5
 * and MRR of hybrid retrieval for the judged turn alone, both turns concatenated, the first turn
 * alone and retrieveForConversation (the answer path); then the single questions of
 * bench/eval-set.ts (hit@5 and relevance AUC), over the three generated documents in an embedded database.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/open.js';
import { createEmbedder } from '../src/kb/embed.js';
import { ingestFile } from '../src/kb/ingest/pipeline.js';
import { CONTEXT_WEIGHT, retrieveForConversation } from '../src/kb/conversational.js';
import { retrieve, type Passage } from '../src/kb/retrieve.js';
import { startFakeEmbeddings } from '../test/fakes/embeddings.js';
import { longManual, tablesDoc, twoColumnDoc } from '../test/support/pdfs.js';
import { judgedTurn, readEvalFile, turnsOf, type EvalFile, type EvalTurn } from './eval-files.js';
import { EVAL_QUESTIONS } from './eval-set.js';
import { printTable } from './support.js';

const K = 5;
const flat = (s: string) => s.toLowerCase().replace(/\s+/g, ' ');

/** The `copilot eval` rule: from `file` on one of `pages`, or holding one of `key_phrases`. */
function isHit(p: Passage, t: EvalTurn): boolean {
  const onPage = p.documentName === t.file && (!t.pages || (p.page !== null && t.pages.includes(p.page)));
  return onPage || (t.key_phrases ?? []).some((k) => flat(p.content).includes(flat(k)));
}

const home = mkdtempSync(join(tmpdir(), 'copilot-bench-conv-'));
const fake = await startFakeEmbeddings();
const config = loadConfig({ home }, { COPILOT_HOME: home, EMBEDDINGS_URL: fake.url });
const db = await openDatabase(config, { command: 'bench' });
const embedder = createEmbedder(config)!;
const docs: [string, () => Promise<Buffer>][] = [
  ['manual.pdf', longManual],
  ['tables.pdf', tablesDoc],
  ['twocolumn.pdf', twoColumnDoc],
];
for (const [name, make] of docs) {
  writeFileSync(join(home, name), await make());
  await ingestFile({ db, embedder, maxFileBytes: 100e6 }, join(home, name));
}

const embed = async (text: string) => (await embedder.embed([text]))[0]!;
const bare = (query: string) => async () => retrieve(db, query, { k: K, queryVector: await embed(query) });
const weights = (process.env.BENCH_WEIGHTS ?? String(CONTEXT_WEIGHT)).split(',').map(Number);

const methods: [string, (qs: string[]) => () => ReturnType<typeof retrieve>][] = [
  ['judged turn alone', (qs) => bare(qs.at(-1)!)],
  ['all turns concatenated', (qs) => bare(qs.join(' '))],
  ['first turn alone', (qs) => bare(qs[0]!)],
  ...weights.map((w): [string, (qs: string[]) => () => ReturnType<typeof retrieve>] => [
    `with context (retrieveForConversation, weight ${w})`,
    (qs) => () => retrieveForConversation(db, embed, qs.at(-1)!, qs.slice(0, -1), { k: K, weight: w }),
  ]),
  [
    `with context, full text only (weight ${CONTEXT_WEIGHT})`,
    (qs) => () => retrieveForConversation(db, null, qs.at(-1)!, qs.slice(0, -1), { k: K }),
  ],
];
const rows: (string | number)[][] = [];
for (const file of ['conversations.jsonl', 'controls.jsonl'] as EvalFile[]) {
  const lines = readEvalFile(file);
  const ranks = methods.map(() => [] as number[]);
  for (const line of lines) {
    const questions = turnsOf(line).map((t) => t.question);
    for (const [i, [, run]] of methods.entries()) {
      const r = await run(questions)();
      ranks[i]!.push(r.passages.findIndex((p) => isHit(p, judgedTurn(line))) + 1);
    }
    if (process.env.BENCH_VERBOSE) console.log(`${file}: ${ranks.map((r) => r.at(-1) || '-').join(' ')}  ${questions.join(' → ')}`);
  }
  for (const [i, [name]] of methods.entries()) {
    const hits = ranks[i]!.filter((r) => r > 0).length;
    const mrr = ranks[i]!.reduce((s, r) => s + (r > 0 ? 1 / r : 0), 0) / lines.length;
    rows.push([file, name, `${((100 * hits) / lines.length).toFixed(1)}%`, `${hits}/${lines.length}`, mrr.toFixed(3)]);
  }
}
// Single questions (bench/eval-set.ts): the answer path's retrieval with no earlier turn must
// equal plain retrieval; and the separation of answerable from unanswerable by the relevance score.
function auc(positives: number[], negatives: number[]): number {
  let wins = 0;
  for (const p of positives) for (const n of negatives) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / (positives.length * negatives.length);
}
type Single = { hits: number; pos: number[]; neg: number[]; matchPos: number[]; matchNeg: number[] };
const single: Record<'plain retrieve' | 'retrieveForConversation, no earlier turn', Single> = {
  'plain retrieve': { hits: 0, pos: [], neg: [], matchPos: [], matchNeg: [] },
  'retrieveForConversation, no earlier turn': { hits: 0, pos: [], neg: [], matchPos: [], matchNeg: [] },
};
for (const q of EVAL_QUESTIONS) {
  const vector = await embed(q.question);
  const results = {
    'plain retrieve': await retrieve(db, q.question, { k: K, queryVector: vector }),
    'retrieveForConversation, no earlier turn': await retrieveForConversation(db, embed, q.question, [], { k: K }),
  };
  for (const [name, r] of Object.entries(results) as [keyof typeof single, Awaited<ReturnType<typeof retrieve>>][]) {
    const s = single[name];
    (q.answerable ? s.pos : s.neg).push(r.relevance.score);
    (q.answerable ? s.matchPos : s.matchNeg).push(r.relevance.match);
    const pages = [q.page!, ...(q.alsoPages ?? [])];
    if (q.answerable && r.passages.some((p) => p.documentName === q.document && p.page !== null && pages.includes(p.page))) s.hits++;
  }
}
const answerable = EVAL_QUESTIONS.filter((q) => q.answerable).length;
for (const [name, s] of Object.entries(single)) {
  rows.push([
    'questions (single)',
    name,
    `${((100 * s.hits) / answerable).toFixed(1)}%`,
    `${s.hits}/${answerable}`,
    `AUC ${auc(s.pos, s.neg).toFixed(3)} (match: ${auc(s.matchPos, s.matchNeg).toFixed(3)})`,
  ]);
}
// Follow-ups are all answerable: how many would the retrieval-only answer wrongly call unmatched.
for (const file of ['conversations.jsonl', 'controls.jsonl'] as EvalFile[]) {
  const lines = readEvalFile(file);
  let unmatched = 0;
  for (const line of lines) {
    const questions = turnsOf(line).map((t) => t.question);
    const r = await retrieveForConversation(db, embed, questions.at(-1)!, questions.slice(0, -1), { k: K });
    if (!r.relevance.matches) unmatched++;
  }
  rows.push([file, 'with context: judged turn below the match threshold', '', `${unmatched}/${lines.length}`, '']);
}

printTable(
  `Conversational retrieval (hybrid unless noted, fake bag-of-words embeddings, k = ${K})`,
  ['set', 'query', `hit@${K}`, 'of', 'MRR (single: relevance AUC)'],
  rows,
);

await db.close();
await fake.close();
rmSync(home, { recursive: true, force: true });
