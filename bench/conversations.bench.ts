/**
 * Conversational retrieval baselines on bench/eval/conversations.jsonl (follow-ups that need the
 * first turn) and bench/eval/controls.jsonl (a new, self-contained topic in the second turn): hit@5
 * and MRR of hybrid retrieval for the judged turn alone, both turns concatenated, and the first
 * turn alone, over the three generated documents in an embedded database.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/open.js';
import { createEmbedder } from '../src/kb/embed.js';
import { ingestFile } from '../src/kb/ingest/pipeline.js';
import { retrieveForConversation } from '../src/kb/conversational.js';
import { retrieve, type Passage } from '../src/kb/retrieve.js';
import { startFakeEmbeddings } from '../test/fakes/embeddings.js';
import { longManual, tablesDoc, twoColumnDoc } from '../test/support/pdfs.js';
import { judgedTurn, readEvalFile, turnsOf, type EvalFile, type EvalTurn } from './eval-files.js';
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
const weights = (process.env.BENCH_WEIGHTS ?? '0.5').split(',').map(Number);

const methods: [string, (qs: string[]) => () => ReturnType<typeof retrieve>][] = [
  ['judged turn alone', (qs) => bare(qs.at(-1)!)],
  ['all turns concatenated', (qs) => bare(qs.join(' '))],
  ['first turn alone', (qs) => bare(qs[0]!)],
  ...weights.map((w): [string, (qs: string[]) => () => ReturnType<typeof retrieve>] => [
    `with context (retrieveForConversation, weight ${w})`,
    (qs) => () => retrieveForConversation(db, process.env.BENCH_FULLTEXT ? null : embed, qs.at(-1)!, qs.slice(0, -1), { k: K, weight: w }),
  ]),
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
printTable(
  `Conversational retrieval baselines (hybrid, fake bag-of-words embeddings, k = ${K})`,
  ['set', 'query', `hit@${K}`, 'of', 'MRR'],
  rows,
);

await db.close();
await fake.close();
rmSync(home, { recursive: true, force: true });
