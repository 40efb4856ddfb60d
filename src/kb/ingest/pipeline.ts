/**
 * Ingest: file → text per page or section → chunks → embeddings → one transaction (document,
 * chunks, lexeme statistics), into which, on PostgreSQL, a PDF's chunks are written while it is
 * still being read. Same bytes again → no-op; same name with new bytes → exit 2 unless `replace`,
 * which swaps the versions atomically.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { Db, Queryable } from '../../db/backend.js';
import {
  deleteDocument,
  findDocument,
  insertChunks,
  insertDocument,
  setDocumentCollection,
  updateDocument,
  updateLexemeStats,
} from '../../db/documents.js';
import { vectorEncoding } from '../../db/vectors.js';
import { UserError } from '../../errors.js';
import { chunkUnits, embeddingInput } from '../chunk.js';
import type { Embedder } from '../embed.js';
import { ensureModel } from '../model.js';
import type { TextUnit } from '../text.js';
import { earlyEmbedding } from './early.js';
import { readChecked } from './file.js';
import { ChunkStream, newChunk, streamingSettings } from './stream.js';

export interface IngestProgress {
  file: string;
  phase: 'extract' | 'embed' | 'store';
  done: number;
  total: number;
}

export interface IngestDeps {
  db: Db;
  embedder: Embedder | null;
  maxFileBytes: number;
  onProgress?: (p: IngestProgress) => void;
  /** Embed while the PDF is still being read (default true; benchmarks turn it off for the old design). */
  earlyEmbedding?: boolean;
}

export interface IngestTimings {
  readMs: number;
  extractMs: number;
  chunkMs: number;
  embedMs: number;
  storeMs: number;
}

export interface IngestResult {
  file: string;
  name: string;
  status: 'ingested' | 'replaced' | 'already_ingested';
  documentId: number;
  type: string;
  pages: number;
  chunks: number;
  embedded: number;
  truncated: number;
  seconds: number;
  timings?: IngestTimings;
}

export async function ingestFile(
  deps: IngestDeps,
  path: string,
  options: { replace?: boolean; collection?: string } = {},
): Promise<IngestResult> {
  const started = performance.now();
  const name = basename(path);
  const t0 = performance.now();
  const bytes = await readChecked(path, deps.maxFileBytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const readMs = performance.now() - t0;

  const same = await findDocument(deps.db, { sha256 });
  if (same) {
    const { listDocuments } = await import('../../db/documents.js');
    const summary = (await listDocuments(deps.db)).find((d) => d.id === same.id)!;
    return {
      file: path,
      name: same.name,
      status: 'already_ingested',
      documentId: same.id,
      type: same.type,
      pages: same.pages,
      chunks: summary.chunks,
      embedded: summary.embedded,
      truncated: 0,
      seconds: (performance.now() - started) / 1000,
    };
  }
  const previous = await findDocument(deps.db, { name });
  if (previous && !options.replace) {
    throw new UserError(`${path}: a different version of "${name}" is already ingested — add --replace to replace it`, 'name_exists');
  }

  const { extractText } = await import('../extract.js');
  const pipelined = deps.earlyEmbedding !== false;
  const early = deps.embedder && pipelined ? earlyEmbedding(deps.embedder) : null;
  const encoding = await vectorEncoding(deps.db, deps.db.kind);
  // On PostgreSQL, PDF chunks are written while the rest is still being read (index upkeep runs
  // in the server meanwhile), in a transaction that commits only once the document is complete.
  const streamable = pipelined && deps.db.kind === 'postgres' ? await streamingSettings(deps.db, deps.embedder) : null;
  let stream: ChunkStream | null = null;
  let nextOrdinal = 0;
  const onPageText = (unit: TextUnit) => {
    // the write transaction failed (e.g. the database went away): stop reading now
    if (stream?.failure) throw stream.failure;
    const pieces = chunkUnits([unit]).map((c) => ({ ...c, ordinal: nextOrdinal++ }));
    early?.add(pieces.map((c) => embeddingInput(c.section, c.content)));
    if (streamable) {
      stream ??= new ChunkStream(deps.db, {
        sha256,
        bytes: bytes.length,
        encoding,
        dimension: streamable.dimension,
        vectorFor: (t) => early?.vector(t),
        onWritten: (done, known) => deps.onProgress?.({ file: path, phase: 'store', done, total: known }),
      });
      stream.add(pieces);
    }
  };
  if (early && streamable) early.onBatch(() => stream?.collect());

  try {
    const t1 = performance.now();
    const extracted = await extractText(name, bytes, {
      onPage: (done, total) => {
        deps.onProgress?.({ file: path, phase: 'extract', done, total });
        // The last page is read: send what is queued while the document is finished.
        if (done === total) early?.flush();
      },
      onPageText: early || streamable ? onPageText : undefined,
    });
    const extractMs = performance.now() - t1;
    const t2 = performance.now();
    const pieces = chunkUnits(extracted.units);
    const chunkMs = performance.now() - t2;
    if (pieces.length === 0) throw new UserError(`${path}: no text in file`, 'no_text');

    // Embeddings before the commit: a provider failure leaves nothing written. Chunks whose
    // text was embedded while the PDF was still being read reuse that vector.
    const t3 = performance.now();
    let vectors: number[][] | null = null;
    if (deps.embedder) {
      const inputs = pieces.map((c) => embeddingInput(c.section, c.content));
      const known = early ? await early.settle() : new Map<string, number[]>();
      const missing = [...new Set(inputs.filter((t) => !known.has(t)))];
      const reused = inputs.length - inputs.filter((t) => !known.has(t)).length;
      deps.onProgress?.({ file: path, phase: 'embed', done: reused, total: inputs.length });
      const fresh = missing.length
        ? await deps.embedder.embed(missing, {
            onProgress: (done) => deps.onProgress?.({ file: path, phase: 'embed', done: reused + done, total: inputs.length }),
          })
        : [];
      missing.forEach((t, i) => known.set(t, fresh[i]!));
      vectors = inputs.map((t) => known.get(t)!);
    }
    const embedMs = performance.now() - t3;

    const chunks = pieces.map((c, i) => newChunk(c, vectors ? vectors[i]! : null));

    deps.onProgress?.({ file: path, phase: 'store', done: 0, total: chunks.length });
    const t4 = performance.now();
    const document = {
      name,
      sha256,
      bytes: bytes.length,
      pages: extracted.pages,
      type: extracted.type,
      embeddingModel: vectors && deps.embedder ? deps.embedder.model : null,
    };
    // A replaced document keeps its collection unless another is given.
    const collection = options.collection ?? previous?.collection ?? 'default';
    // Inside the transaction: the model, and a concurrent ingest of the same name or a replace.
    const claim = async (tx: Queryable) => {
      if (vectors && deps.embedder) await ensureModel(tx, deps.embedder.model, vectors[0]!.length);
      const existing = await findDocument(tx, { name });
      if (existing) {
        if (!options.replace) throw new UserError(`${path}: "${name}" was ingested meanwhile — add --replace to replace it`, 'name_exists');
        await deleteDocument(tx, existing.id);
      }
    };
    const active = stream as ChunkStream | null;
    const documentId =
      active && (await active.usable())
        ? await active.finish(chunks, async (tx, id) => {
            await claim(tx);
            await updateDocument(tx, id, document);
            await setDocumentCollection(tx, id, collection);
          })
        : await deps.db.transaction(async (tx) => {
            await claim(tx);
            const id = await insertDocument(tx, document);
            await insertChunks(tx, id, chunks, encoding);
            await updateLexemeStats(tx, id, 1);
            await setDocumentCollection(tx, id, collection);
            return id;
          });
    const storeMs = performance.now() - t4;
    deps.onProgress?.({ file: path, phase: 'store', done: chunks.length, total: chunks.length });

    return {
      file: path,
      name,
      status: previous ? 'replaced' : 'ingested',
      documentId,
      type: extracted.type,
      pages: extracted.pages,
      chunks: chunks.length,
      embedded: vectors ? chunks.length : 0,
      truncated: chunks.filter((c) => c.truncated).length,
      seconds: (performance.now() - started) / 1000,
      timings: { readMs, extractMs, chunkMs, embedMs, storeMs },
    };
  } catch (err) {
    // Whatever was written while reading is rolled back before the error is reported.
    await (stream as ChunkStream | null)?.abort(err);
    throw err;
  }
}
