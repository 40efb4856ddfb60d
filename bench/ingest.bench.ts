/**
 * Ingest speed on native Postgres.
 * 1. A 50-page text PDF with a fake embedder answering in 100 ms per request: end to end
 *    (target ≤ 3 s), against the original design's one chunk per sequential request, in the
 *    same run (target ≥ 20× faster).
 * 2. With a 0 ms embedder: pages/s and chunks/s, split into extract / chunk / embed wait / store.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import type { Db } from '../src/db/backend.js';
import { openDatabase } from '../src/db/open.js';
import { createEmbedder } from '../src/kb/embed.js';
import type { EmbedderOptions } from '../src/kb/embed.js';
import { ingestFile } from '../src/kb/ingest/pipeline.js';
import type { IngestResult } from '../src/kb/ingest/pipeline.js';
import { startEmbeddingsProcess } from './embeddings-process.js';
import { fullPagesManual, longManual } from '../test/support/pdfs.js';
import { median, printTable } from './support.js';

const admin = process.env.TEST_DATABASE_URL!;
const client = new pg.Client({ connectionString: admin });
await client.connect();
const dbName = `copilot_bench_ingest_${process.pid}`;
await client.query(`create database ${dbName}`);
const url = new URL(admin);
url.pathname = `/${dbName}`;

const home = mkdtempSync(join(tmpdir(), 'copilot-bench-ingest-'));
// Two providers in processes of their own: one answering in 100 ms, one at once.
const slow = await startEmbeddingsProcess(100);
const instant = await startEmbeddingsProcess(0);
const configFor = (embeddingsUrl: string) =>
  loadConfig({ databaseUrl: url.toString() }, { COPILOT_HOME: home, EMBEDDINGS_URL: embeddingsUrl });
let config = configFor(instant.url);
const db: Db = await openDatabase(config, { command: 'bench', poolSize: 4 });
const file = join(home, 'manual.pdf');
writeFileSync(file, await fullPagesManual(50));
const sparse = join(home, 'sparse', 'manual.pdf');
(await import('node:fs')).mkdirSync(join(home, 'sparse'));
writeFileSync(sparse, await longManual(50));

async function ingestOnce(options: EmbedderOptions = {}, path = file, earlyEmbedding = true): Promise<IngestResult> {
  // Every measured ingest goes into the same empty knowledge base (indexes emptied too).
  await db.exec("truncate documents, chunks, kb_lexemes, kb_candidates; insert into kb_lexemes (lexeme, chunks) values ('', 0)");
  const embedder = createEmbedder(config, options)!;
  return ingestFile({ db, embedder, maxFileBytes: 100e6, earlyEmbedding }, path);
}

// Warm-up (pdf.js import, first query plans), not measured.
await ingestOnce();

config = configFor(slow.url);
const batched: IngestResult[] = [];
for (let i = 0; i < 5; i++) batched.push(await ingestOnce());
// The original design: extract everything, then one chunk per request, one request at a time.
const sequential = await ingestOnce({ batchSize: 1, concurrency: 1 }, file, false);
const ours = median(batched.map((r) => r.seconds));
const sparseBatched: IngestResult[] = [];
for (let i = 0; i < 3; i++) sparseBatched.push(await ingestOnce({}, sparse));
const sparseSequential = await ingestOnce({ batchSize: 1, concurrency: 1 }, sparse, false);
const sparseOurs = median(sparseBatched.map((r) => r.seconds));
printTable(
  '50-page text PDF, fake embedder 100 ms per request, native Postgres',
  ['document', 'pipeline', 'requests', 'seconds', 'target'],
  [
    [
      `full pages (${batched[0]!.chunks} chunks)`,
      'batched: 32 a request, 8 at once (median of 5)',
      Math.ceil(batched[0]!.chunks / 32),
      ours,
      '≤ 3 s',
    ],
    ['', 'one chunk per sequential request (original design)', sequential.chunks, sequential.seconds, ''],
    ['', 'speed-up', '', `${(sequential.seconds / ours).toFixed(1)}×`, '≥ 20×'],
    [`short pages (${sparseBatched[0]!.chunks} chunks)`, 'batched (median of 3)', Math.ceil(sparseBatched[0]!.chunks / 32), sparseOurs, ''],
    ['', 'one chunk per sequential request', sparseSequential.chunks, sparseSequential.seconds, ''],
    ['', 'speed-up', '', `${(sparseSequential.seconds / sparseOurs).toFixed(1)}×`, ''],
  ],
);

config = configFor(instant.url);
const fast: IngestResult[] = [];
for (let i = 0; i < 5; i++) fast.push(await ingestOnce());
const t = (k: keyof NonNullable<IngestResult['timings']>) => median(fast.map((r) => r.timings![k]));
const total = median(fast.map((r) => r.seconds));
const r0 = fast[0]!;
printTable(
  'Throughput with a 0 ms embedder (median of 5, 50-page PDF)',
  ['stage', 'ms', 'share'],
  [
    ['read + hash', t('readMs'), `${((100 * t('readMs')) / (total * 1000)).toFixed(0)}%`],
    ['extract (pdf.js)', t('extractMs'), `${((100 * t('extractMs')) / (total * 1000)).toFixed(0)}%`],
    ['chunk', t('chunkMs'), `${((100 * t('chunkMs')) / (total * 1000)).toFixed(0)}%`],
    ['embed wait', t('embedMs'), `${((100 * t('embedMs')) / (total * 1000)).toFixed(0)}%`],
    ['store left after reading (one commit)', t('storeMs'), `${((100 * t('storeMs')) / (total * 1000)).toFixed(0)}%`],
    ['total', total * 1000, '100%'],
  ],
);
console.log(`pages/s ${(r0.pages / total).toFixed(0)} · chunks/s ${(r0.chunks / total).toFixed(0)}`);

await db.close();
await slow.close();
await instant.close();
await client.query(`drop database ${dbName} with (force)`);
await client.end();
rmSync(home, { recursive: true, force: true });
