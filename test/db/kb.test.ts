/** Knowledge base on both backends: ingest, citations, idempotence, atomic replace, failures, embed, search. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { DEFAULT_EMBEDDINGS_MODEL, loadConfig } from '../../src/config.js';
import type { Db } from '../../src/db/backend.js';
import { DependencyError, UserError } from '../../src/errors.js';
import { createEmbedder } from '../../src/kb/embed.js';
import type { Embedder } from '../../src/kb/embed.js';
import { ingestFile } from '../../src/kb/ingest/pipeline.js';
import type { IngestProgress } from '../../src/kb/ingest/pipeline.js';
import { chunkUnits, embeddingInput } from '../../src/kb/chunk.js';
import { extractText } from '../../src/kb/extract.js';
import { embedMissing, removeDocuments, searchKnowledgeBase } from '../../src/kb/service.js';
import { startFakeEmbeddings } from '../fakes/embeddings.js';
import type { FakeEmbeddings } from '../fakes/embeddings.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { fullPagesManual, hyphenAcrossPagesPdf, longManual, manualFacts, manualPages } from '../support/pdfs.js';

const MB = 1024 * 1024;

function embedderFor(url: string, model = 'test/model-a', options = {}): Embedder {
  return createEmbedder(loadConfig({}, { EMBEDDINGS_URL: url, EMBEDDINGS_MODEL: model, COPILOT_HOME: tmpdir() }), {
    backoffMs: 10,
    ...options,
  })!;
}

async function count(db: Db, sql: string): Promise<number> {
  const { rows } = await db.query<{ n: string | number }>(sql);
  return Number(rows[0]!.n);
}

for (const kind of BACKENDS) {
  describe(`knowledge base (${kind})`, () => {
    let t: TestDatabase;
    let db: Db;
    let fake: FakeEmbeddings;
    let dir: string;
    let manual: string;
    before(async () => {
      t = await createTestDatabase(kind);
      db = await t.open();
      fake = await startFakeEmbeddings();
      dir = mkdtempSync(join(tmpdir(), 'copilot-kb-'));
      manual = join(dir, 'manual.pdf');
      writeFileSync(manual, await longManual());
    });
    after(async () => {
      await db.close();
      await fake.close();
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('a failure half-way through embedding writes nothing; running again completes', async () => {
      fake.setBehavior({ kind: 'failAfter', requests: 1 });
      const embedder = embedderFor(fake.url, 'test/model-a', { attempts: 2, concurrency: 1 });
      await assert.rejects(ingestFile({ db, embedder, maxFileBytes: 25 * MB }, manual), (e: unknown) => {
        return e instanceof DependencyError && /embeddings from .* failed after 2 attempts: HTTP 500/.test(e.message);
      });
      assert.equal(await count(db, 'select count(*) as n from documents'), 0);
      assert.equal(await count(db, 'select count(*) as n from chunks'), 0);
      fake.setBehavior({ kind: 'ok' });
      const embedProgress: number[] = [];
      const r = await ingestFile(
        { db, embedder, maxFileBytes: 25 * MB, onProgress: (p) => p.phase === 'embed' && embedProgress.push(p.done) },
        manual,
      );
      assert.equal(r.status, 'ingested');
      assert.ok(
        embedProgress[0]! >= 32,
        `a batch was embedded while the PDF was still being read (${embedProgress[0]} done when reading ended)`,
      );
      assert.equal(r.pages, 50);
      assert.equal(r.embedded, r.chunks);
    });

    test('chunks keep their page numbers; each page of the manual is cited', async () => {
      const { rows } = await db.query<{ page: number; n: string | number }>(
        'select page, count(*) as n from chunks group by page order by page',
      );
      assert.deepEqual(
        rows.map((r) => r.page),
        manualPages.map((p) => p.page),
      );
      const { rows: sample } = await db.query<{ content: string }>('select content from chunks where page = 9');
      assert.ok(sample.some((c) => c.content.includes(manualPages[8]!.topic.replace(/^\d+\.\s*/, ''))));
      assert.equal(
        await count(db, "select chunks as n from kb_lexemes where lexeme = ''"),
        await count(db, 'select count(*) as n from chunks'),
      );
      assert.equal(await count(db, 'select count(*) as n from chunks where length(content) > 1000'), 0);
    });

    test('search finds the page that holds a fact, in full text, vectors and hybrid', async () => {
      const embedder = embedderFor(fake.url);
      for (const page of [9, 21, 33]) {
        const sentence = manualPages[page - 1]!.paragraphs[1]!;
        const result = await searchKnowledgeBase(db, embedder, sentence, { k: 5 });
        assert.equal(result.mode, 'hybrid');
        assert.equal(result.passages[0]!.page, page, `hybrid for page ${page}`);
        assert.equal(result.passages[0]!.documentName, 'manual.pdf');
        for (const use of ['fulltext', 'vector'] as const) {
          const one = await searchKnowledgeBase(db, embedder, sentence, { k: 5, use });
          assert.equal(one.passages[0]!.page, page, `${use} for page ${page}`);
        }
      }
      const chatty = await searchKnowledgeBase(db, null, 'is there some way to make the proxy thing work w/ my company network??');
      assert.equal(chatty.mode, 'fulltext');
      assert.ok(chatty.passages.length > 0);
    });

    test('identical bytes again: "already ingested", no work', async () => {
      const before = fake.requests.length;
      const r = await ingestFile({ db, embedder: embedderFor(fake.url), maxFileBytes: 25 * MB }, manual);
      assert.equal(r.status, 'already_ingested');
      assert.equal(fake.requests.length, before, 'nothing embedded');
      assert.equal(await count(db, 'select count(*) as n from documents'), 1);
    });

    test('same name, new bytes: refused without --replace; replaced atomically with it', async () => {
      const v2 = join(dir, 'v2', 'manual.pdf');
      rmSync(join(dir, 'v2'), { recursive: true, force: true });
      (await import('node:fs')).mkdirSync(join(dir, 'v2'));
      writeFileSync(v2, await longManual(20));
      const embedder = embedderFor(fake.url);
      await assert.rejects(
        ingestFile({ db, embedder, maxFileBytes: 25 * MB }, v2),
        (e: unknown) => e instanceof UserError && /--replace/.test(e.message),
      );
      // Watch from another connection while replacing: always exactly one manual.pdf, with its chunks.
      let watching = true;
      const seen = new Set<string>();
      let watcher: Promise<void> = Promise.resolve();
      if (t.url) {
        const client = new pg.Client({ connectionString: t.url });
        client.on('error', () => {});
        await client.connect();
        watcher = (async () => {
          while (watching) {
            const { rows } = await client.query(
              "select count(distinct d.id)::int as docs, count(c.id)::int as chunks from documents d join chunks c on c.document_id = d.id where d.name = 'manual.pdf'",
            );
            seen.add(`${rows[0].docs}:${rows[0].chunks > 0}`);
          }
          await client.end();
        })();
      }
      const r = await ingestFile({ db, embedder, maxFileBytes: 25 * MB }, v2, { replace: true });
      watching = false;
      await watcher;
      assert.equal(r.status, 'replaced');
      assert.equal(r.pages, 20);
      if (t.url) assert.deepEqual([...seen], ['1:true'], 'a reader never saw both versions or neither');
      assert.equal(await count(db, "select count(*) as n from documents where name = 'manual.pdf'"), 1);
      assert.equal(await count(db, 'select max(page) as n from chunks'), 20);
      assert.equal(
        await count(db, "select chunks as n from kb_lexemes where lexeme = ''"),
        await count(db, 'select count(*) as n from chunks'),
      );
    });

    test('without an embeddings provider: full text only; `kb embed` fills the vectors in later', async () => {
      const md = join(dir, 'faq.md');
      writeFileSync(
        md,
        '# FAQ\n\n## Billing\n\nInvoices are emailed on the first working day of each month.\n\n## Refunds\n\nRefunds take ten business days.\n',
      );
      const r = await ingestFile({ db, embedder: null, maxFileBytes: 25 * MB }, md);
      assert.equal(r.embedded, 0);
      const result = await searchKnowledgeBase(db, null, 'when do invoices arrive?');
      assert.equal(result.passages[0]!.documentName, 'faq.md');
      assert.equal(result.passages[0]!.section, 'FAQ › Billing');
      assert.equal(result.passages[0]!.page, null);
      const filled = await embedMissing(db, embedderFor(fake.url));
      assert.equal(filled.embedded, r.chunks);
      assert.equal(await count(db, 'select count(*) as n from chunks where embedding is null'), 0);
    });

    test('a different model is a clear error naming `kb embed --rebuild`, which re-embeds at the new dimension', async () => {
      const other = await startFakeEmbeddings({ dim: 256 });
      try {
        const b = embedderFor(other.url, 'test/model-b');
        await assert.rejects(
          searchKnowledgeBase(db, b, 'backups'),
          (e: unknown) => e instanceof UserError && /kb embed --rebuild/.test(e.message),
        );
        const md = join(dir, 'other.md');
        writeFileSync(md, '# Other\n\nSomething else entirely.\n');
        await assert.rejects(ingestFile({ db, embedder: b, maxFileBytes: 25 * MB }, md), /kb embed --rebuild/);
        assert.equal(await count(db, "select count(*) as n from documents where name = 'other.md'"), 0);
        const rebuilt = await embedMissing(db, b, { rebuild: true });
        assert.equal(rebuilt.dimension, 256);
        assert.equal(rebuilt.embedded, await count(db, 'select count(*) as n from chunks'));
        const { rows } = await db.query<{ dims: number }>('select vector_dims(embedding) as dims from chunks limit 1');
        assert.equal(rows[0]!.dims, 256);
        const found = await searchKnowledgeBase(db, b, manualPages[4]!.paragraphs[0]!);
        assert.equal(found.mode, 'hybrid');
        assert.equal(found.passages[0]!.page, 5);
      } finally {
        await other.close();
      }
    });

    test('remove by name or id; unknown names remove nothing', async () => {
      await assert.rejects(
        removeDocuments(db, ['faq.md', 'nope.pdf']),
        (e: unknown) => e instanceof UserError && /nope\.pdf/.test(e.message),
      );
      assert.equal(await count(db, "select count(*) as n from documents where name = 'faq.md'"), 1);
      const { rows } = await db.query<{ id: string | number }>("select id from documents where name = 'faq.md'");
      const removed = await removeDocuments(db, [String(rows[0]!.id), 'manual.pdf']);
      assert.deepEqual(removed.map((d) => d.name).sort(), ['faq.md', 'manual.pdf']);
      assert.equal(await count(db, 'select count(*) as n from chunks'), 0);
      assert.equal(await count(db, 'select coalesce(sum(chunks), 0) as n from kb_lexemes'), 0);
    });
  });
}

describe('embeddings client: batching, bounded concurrency, capped retries', () => {
  let fake: FakeEmbeddings;
  before(async () => {
    fake = await startFakeEmbeddings({ maxBatch: 32 });
  });
  after(() => fake.close());

  test('batches of 32, at most 8 at once, results in order and normalised', async () => {
    fake.setBehavior({ kind: 'ok', delayMs: 50 });
    const texts = Array.from({ length: 300 }, (_, i) => `text number ${i} about exports`);
    const start = fake.requests.length;
    const vectors = await embedderFor(fake.url).embed(texts);
    const reqs = fake.requests.slice(start);
    assert.equal(reqs.length, 10);
    assert.ok(reqs.every((r) => r.batchSize <= 32));
    // 10 batches of 50 ms each: several at once, never more than 8.
    assert.ok(fake.peakInFlight() > 1 && fake.peakInFlight() <= 8, `peak ${fake.peakInFlight()} in flight`);
    const { fakeEmbed } = await import('../fakes/embeddings.js');
    assert.deepEqual(
      vectors[123]!.map((v) => v.toFixed(6)),
      fakeEmbed(texts[123]!, 384).map((v) => v.toFixed(6)),
    );
    assert.ok(Math.abs(Math.hypot(...vectors[0]!) - 1) < 1e-9);
  });

  test('429 with Retry-After is honoured, then succeeds; a provider that keeps failing gives a clear error', async () => {
    fake.setBehavior({ kind: 'rateLimit', retryAfterSec: 0.3, times: 2 });
    const waits: number[] = [];
    const [v] = await embedderFor(fake.url, 'test/model-a', { onRetry: (_: number, ms: number) => waits.push(ms) }).embed(['hello']);
    assert.equal(v!.length, 384);
    assert.deepEqual(waits, [300, 300], 'waited Retry-After twice');
    fake.setBehavior({ kind: 'error', status: 503 });
    await assert.rejects(embedderFor(fake.url, 'm', { attempts: 3 }).embed(['x']), /failed after 3 attempts: HTTP 503/);
    fake.setBehavior({ kind: 'rateLimit', retryAfterSec: 3600 });
    const cappedWaits: number[] = [];
    const capped = embedderFor(fake.url, 'm', {
      attempts: 2,
      maxRetryWaitMs: 200,
      onRetry: (_: number, ms: number) => cappedWaits.push(ms),
    });
    await assert.rejects(capped.embed(['x']), /rate limited/);
    assert.deepEqual(cappedWaits, [200], 'Retry-After capped');
    fake.setBehavior({ kind: 'ok' });
  });
});

describe('on PostgreSQL, PDF chunks are written while the rest is still being read', () => {
  const MODEL = DEFAULT_EMBEDDINGS_MODEL; // the stored model from the start: nothing to settle at the end
  let t: TestDatabase;
  let db: Db;
  let other: pg.Client;
  let fake: FakeEmbeddings;
  let dir: string;
  before(async () => {
    t = await createTestDatabase('postgres');
    db = await t.open();
    other = new pg.Client({ connectionString: t.url! });
    await other.connect();
    fake = await startFakeEmbeddings({ behavior: { kind: 'ok', delayMs: 5 } });
    dir = mkdtempSync(join(tmpdir(), 'copilot-kb-stream-'));
    // One ingest first, so that the reading threads, the HTTP client and the connections are warm
    // and the order of events below reflects the pipeline, not start-up.
    writeFileSync(join(dir, 'warm-up.pdf'), await fullPagesManual(12));
    await ingestFile({ db, embedder: embedderFor(fake.url, MODEL), maxFileBytes: 25 * MB }, join(dir, 'warm-up.pdf'));
    await db.exec("truncate documents, chunks, kb_lexemes, kb_candidates; insert into kb_lexemes (lexeme, chunks) values ('', 0)");
  });
  after(async () => {
    await other.end();
    await db.close();
    await fake.close();
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const phases = () => {
    const events: string[] = [];
    return { events, onProgress: (p: IngestProgress) => events.push(`${p.phase} ${p.done}/${p.total}`) };
  };
  /** Index of the first "store n/…" event with n > 0, and of the event "extract total/total". */
  const order = (events: string[]) => ({
    firstStored: events.findIndex((e) => /^store [1-9]/.test(e)),
    lastPageRead: events.findIndex((e) => /^extract (\d+)\/\1$/.test(e)),
  });

  test('chunks are written before reading ends; the stored rows are what the whole document gives', async () => {
    const file = join(dir, 'manual.pdf');
    const bytes = await fullPagesManual(50);
    writeFileSync(file, bytes);
    const embedder = embedderFor(fake.url, MODEL);
    const { events, onProgress } = phases();
    const r = await ingestFile({ db, embedder, maxFileBytes: 25 * MB, onProgress }, file);
    const { firstStored, lastPageRead } = order(events);
    assert.ok(firstStored >= 0 && firstStored < lastPageRead, `chunks stored while reading: ${events.join(', ')}`);

    const expected = chunkUnits((await extractText('manual.pdf', bytes)).units);
    const vectors = await embedder.embed(expected.map((c) => embeddingInput(c.section, c.content)));
    const { rows } = await db.query<{ ordinal: number; page: number; section: string | null; content: string; embedding: string }>(
      'select ordinal, page, section, content, embedding::text as embedding from chunks where document_id = $1 order by ordinal',
      [r.documentId],
    );
    assert.equal(r.chunks, expected.length);
    assert.deepEqual(
      rows.map((c) => [c.ordinal, c.page, c.section, c.content]),
      expected.map((c) => [c.ordinal, c.page, c.section, c.content]),
    );
    // the vectors went over as binary float4s: each is the provider's, to float4 precision
    rows.forEach((row, i) => {
      const stored = JSON.parse(row.embedding) as number[];
      assert.equal(stored.length, 384);
      const worst = Math.max(...stored.map((x, k) => Math.abs(x - vectors[i]![k]!)));
      assert.ok(worst < 1e-6, `chunk ${i}: off by ${worst}`);
    });
    const { rows: docs } = await db.query<{ name: string; pages: number; embedding_model: string }>(
      'select name, pages, embedding_model from documents',
    );
    assert.deepEqual(docs, [{ name: 'manual.pdf', pages: 50, embedding_model: MODEL }]);
    // hybrid search finds it: the top passage is a chunk that holds the fact asked about
    const fact = manualFacts[7]!.fact;
    const holding = rows.filter((c) => c.content.replace(/\s+/g, ' ').includes(fact.slice(0, 40))).map((c) => c.page);
    assert.ok(holding.length > 0);
    const hits = await searchKnowledgeBase(db, embedder, fact);
    assert.equal(hits.mode, 'hybrid');
    assert.ok(holding.includes(hits.passages[0]!.page!), `top page ${hits.passages[0]?.page}, fact on ${holding.join(', ')}`);
  });

  test('a page whose text changes once the whole document is read is rewritten', async () => {
    const bytes = await hyphenAcrossPagesPdf();
    // read page by page, page 1 alone joins "read-" + "only" into one word
    const early: string[] = [];
    const x = await extractText('flags.pdf', bytes, { onPageText: (u) => early.push(u.text) });
    assert.match(early[0]!, /the readonly flag/);
    assert.match(x.units[0]!.text, /the read-only flag/);
    const file = join(dir, 'flags.pdf');
    writeFileSync(file, bytes);
    const r = await ingestFile({ db, embedder: embedderFor(fake.url, MODEL), maxFileBytes: 25 * MB }, file);
    const { rows } = await db.query<{ page: number; content: string }>(
      'select page, content from chunks where document_id = $1 order by ordinal',
      [r.documentId],
    );
    assert.equal(rows.length, 2);
    assert.match(rows[0]!.content, /the read-only flag of every shared folder/);
    assert.equal(await count(db, `select count(*) as n from chunks where content like '%readonly%'`), 0);
  });

  test('a replace in progress is invisible: others see the old version until the commit', async () => {
    const file = join(dir, 'manual.pdf');
    const before = await db.query<{ id: string }>("select id from documents where name = 'manual.pdf'");
    const oldId = Number(before.rows[0]!.id);
    const oldChunks = await count(db, `select count(*) as n from chunks where document_id = ${oldId}`);
    writeFileSync(file, await fullPagesManual(40));
    const seen: Promise<{ names: string[]; chunks: number }>[] = [];
    const r = await ingestFile(
      {
        db,
        embedder: embedderFor(fake.url, MODEL),
        maxFileBytes: 25 * MB,
        onProgress: (p) => {
          if (p.phase === 'store' && p.done > 0 && p.done < p.total && seen.length === 0) {
            seen.push(
              Promise.all([
                other.query<{ name: string }>('select name from documents order by id'),
                other.query<{ n: string }>('select count(*) as n from chunks'),
              ]).then(([d, c]) => ({ names: d.rows.map((x) => x.name), chunks: Number(c.rows[0]!.n) })),
            );
          }
        },
      },
      file,
      { replace: true },
    );
    assert.equal(seen.length, 1, 'chunks of the new version were written while it was read');
    const during = await seen[0]!;
    const flagsChunks = 2;
    assert.deepEqual(during, { names: ['manual.pdf', 'flags.pdf'], chunks: oldChunks + flagsChunks });
    assert.equal(r.status, 'replaced');
    assert.notEqual(r.documentId, oldId);
    assert.equal(await count(db, `select count(*) as n from chunks where document_id = ${oldId}`), 0);
    assert.equal(await count(db, `select count(*) as n from documents where name = 'manual.pdf' and pages = 40`), 1);
  });

  test('the connection lost while the write transaction waits for chunks: a database error at once, nothing written, no crash', async () => {
    await db.exec("truncate documents, chunks, kb_lexemes, kb_candidates; insert into kb_lexemes (lexeme, chunks) values ('', 0)");
    const file = join(dir, 'manual.pdf');
    writeFileSync(file, await fullPagesManual(80));
    // no vector ever comes back: only the lost connection itself can end the wait
    fake.setBehavior({ kind: 'hang' });
    const events: string[] = [];
    const ingest = ingestFile(
      {
        db,
        embedder: embedderFor(fake.url, MODEL),
        maxFileBytes: 25 * MB,
        onProgress: (p) => events.push(`${p.phase} ${p.done}/${p.total}`),
      },
      file,
    );
    const outcome = ingest.then(
      () => null,
      (err: unknown) => err,
    );
    // the write transaction, open and waiting between statements: its server process is ended
    let killed = 0;
    for (let i = 0; i < 500 && killed === 0; i++) {
      const { rows } = await other.query<{ n: string }>(
        `select count(pg_terminate_backend(pid)) as n from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid() and state = 'idle in transaction'
           and (query like 'insert into documents%' or query like 'insert into chunks%')`,
      );
      killed = Number(rows[0]!.n);
      if (killed === 0) await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(killed, 1, 'the write transaction was found');
    const err = await outcome;
    assert.ok(err instanceof DependencyError, String(err));
    assert.ok(!events.includes('extract 80/80'), `reading stopped early: ${events.slice(-3).join(', ')}`);
    fake.setBehavior({ kind: 'ok', delayMs: 5 });
    assert.equal(await count(db, 'select count(*) as n from documents'), 0);
    assert.equal(await count(db, 'select count(*) as n from chunks'), 0);
    const r = await ingestFile({ db, embedder: embedderFor(fake.url, MODEL), maxFileBytes: 25 * MB }, file);
    assert.equal(r.embedded, r.chunks);
    await db.exec("truncate documents, chunks, kb_lexemes, kb_candidates; insert into kb_lexemes (lexeme, chunks) values ('', 0)");
  });

  test('an embedding failure after chunks were written rolls all of it back; running again completes', async () => {
    await db.exec("truncate documents, chunks, kb_lexemes, kb_candidates; insert into kb_lexemes (lexeme, chunks) values ('', 0)");
    const file = join(dir, 'manual.pdf');
    writeFileSync(file, await fullPagesManual(50));
    fake.setBehavior({ kind: 'failAfter', requests: 1 });
    const embedder = embedderFor(fake.url, MODEL, { attempts: 2 });
    const { events, onProgress } = phases();
    await assert.rejects(
      ingestFile({ db, embedder, maxFileBytes: 25 * MB, onProgress }, file),
      (e: unknown) => e instanceof DependencyError && /HTTP 500/.test(e.message),
    );
    assert.ok(order(events).firstStored >= 0, `chunks had been written before the failure: ${events.join(', ')}`);
    assert.equal(await count(db, 'select count(*) as n from documents'), 0);
    assert.equal(await count(db, 'select count(*) as n from chunks'), 0);
    assert.equal(await count(db, "select count(*) as n from kb_lexemes where lexeme <> ''"), 0);
    fake.setBehavior({ kind: 'ok' });
    const r = await ingestFile({ db, embedder, maxFileBytes: 25 * MB }, file);
    assert.equal(r.embedded, r.chunks);
    assert.equal(await count(db, `select count(*) as n from chunks where embedding is not null`), r.chunks);
    assert.equal(await count(db, `select count(*) as n from documents where name like 'ingesting/%'`), 0);
  });
});
