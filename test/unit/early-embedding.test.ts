/** Early embedding during ingest: batches of 32, at most 4 in flight, best effort, the rest sent on flush. */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { createEmbedder } from '../../src/kb/embed.js';
import { earlyEmbedding } from '../../src/kb/ingest/early.js';
import { startFakeEmbeddings } from '../fakes/embeddings.js';
import type { FakeEmbeddings } from '../fakes/embeddings.js';

let fake: FakeEmbeddings;
before(async () => {
  fake = await startFakeEmbeddings();
});
after(() => fake.close());

const embedder = (options: { timeoutMs?: number } = {}) =>
  createEmbedder(loadConfig({}, { EMBEDDINGS_URL: fake.url, COPILOT_HOME: tmpdir() }), { attempts: 1, ...options })!;
const texts = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} text ${i}`);

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  for (const start = Date.now(); !check(); await sleep(10)) {
    if (Date.now() - start > ms) throw new Error('timed out waiting');
  }
}

test('at most 4 batches of 32 in flight; a failed batch is left out; flush sends the short rest', async () => {
  fake.setBehavior({ kind: 'hang' });
  const start = fake.requests.length;
  let batches = 0;
  const early = earlyEmbedding(embedder({ timeoutMs: 3000 }));
  early.onBatch(() => batches++);
  const all = texts(200, 'a'); // 6 full batches and 8 more
  early.add(all);
  await waitFor(() => fake.requests.length - start >= 4);
  await sleep(200);
  const sent = () => fake.requests.slice(start);
  assert.deepEqual(
    sent().map((r) => r.batchSize),
    [32, 32, 32, 32],
    'four batches in flight, the rest waits',
  );
  // the four hanging batches time out (best effort); the next two and, once flushed, the rest are embedded
  fake.setBehavior({ kind: 'ok' });
  await waitFor(() => sent().length === 6);
  early.flush();
  const vectors = await early.settle();
  assert.deepEqual(
    sent().map((r) => r.batchSize),
    [32, 32, 32, 32, 32, 32, 8],
  );
  assert.equal(batches, 7, 'onBatch after every batch, failed or not');
  assert.deepEqual([...vectors.keys()].sort(), all.slice(128).sort(), 'only the batches that came back');
  assert.equal(early.vector(all[199]!)?.length, 384);
  assert.equal(early.vector(all[0]!), undefined);
});

test('settle waits for the batches in flight and leaves what was not sent to the caller', async () => {
  fake.setBehavior({ kind: 'ok', delayMs: 50 });
  const start = fake.requests.length;
  const early = earlyEmbedding(embedder());
  const all = texts(40, 'b');
  early.add(all);
  const vectors = await early.settle();
  assert.equal(vectors.size, 32, 'the full batch came back');
  assert.ok(
    all.slice(32).every((t) => !vectors.has(t)),
    'the short rest was never sent',
  );
  assert.deepEqual(
    fake.requests.slice(start).map((r) => r.batchSize),
    [32],
  );
});
