/**
 * Ingest: file → type → text per page/section → chunks → embeddings (batched, before any write)
 * → one transaction: document + chunks + lexeme statistics. Same bytes again → no-op; same name
 * with new bytes → exit 2 unless `replace`, which swaps the versions atomically.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Db } from '../db/backend.js';
import { deleteDocument, findDocument, insertChunks, insertDocument, updateLexemeStats } from '../db/documents.js';
import type { NewChunk } from '../db/documents.js';
import { UserError } from '../errors.js';
import { chunkUnits, estimateWordPieces, MODEL_MAX_WORD_PIECES } from './chunk.js';
import type { Embedder } from './embed.js';
import { ensureModel } from './model.js';

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

async function readChecked(path: string, maxBytes: number): Promise<Buffer> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`, 'unreadable_file', { cause: err });
  }
  if (info.isDirectory()) throw new UserError(`${path}: is a directory — give the files inside it`, 'is_directory');
  if (!info.isFile()) throw new UserError(`${path}: not a regular file`, 'not_a_file');
  if (info.size === 0) throw new UserError(`${path}: empty file`, 'empty_file');
  if (info.size > maxBytes) {
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    throw new UserError(
      `${path}: ${mb(info.size)} MB is over the ${mb(maxBytes)} MB limit (COPILOT_MAX_FILE_MB)`,
      'file_too_large',
    );
  }
  try {
    return await readFile(path);
  } catch (err) {
    throw new UserError(`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'unreadable_file', { cause: err });
  }
}

export async function ingestFile(deps: IngestDeps, path: string, options: { replace?: boolean } = {}): Promise<IngestResult> {
  const started = performance.now();
  const name = basename(path);
  const t0 = performance.now();
  const bytes = await readChecked(path, deps.maxFileBytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const readMs = performance.now() - t0;

  const same = await findDocument(deps.db, { sha256 });
  if (same) {
    const { listDocuments } = await import('../db/documents.js');
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
    throw new UserError(
      `${path}: a different version of "${name}" is already ingested — add --replace to replace it`,
      'name_exists',
    );
  }

  const { extractText } = await import('./extract.js');
  const early = deps.embedder && deps.earlyEmbedding !== false ? earlyEmbedding(deps.embedder) : null;
  const t1 = performance.now();
  const extracted = await extractText(name, bytes, {
    onPage: (done, total) => {
      deps.onProgress?.({ file: path, phase: 'extract', done, total });
      // The last page is read: send what is queued while the document is finished.
      if (done === total) early?.flush();
    },
    onPageText: early ? (unit) => early.add(chunkUnits([unit]).map((c) => embeddingInput(c.section, c.content))) : undefined,
  });
  const extractMs = performance.now() - t1;
  const t2 = performance.now();
  const pieces = chunkUnits(extracted.units);
  const chunkMs = performance.now() - t2;
  if (pieces.length === 0) throw new UserError(`${path}: no text in file`, 'no_text');

  // Embeddings first: a provider failure leaves nothing written. Chunks whose text was embedded
  // while the PDF was still being read reuse that vector; the rest are embedded now.
  const t3 = performance.now();
  let vectors: number[][] | null = null;
  if (deps.embedder) {
    const inputs = pieces.map((c) => embeddingInput(c.section, c.content));
    const known = early ? await early.settle() : new Map<string, number[]>();
    const missing = [...new Set(inputs.filter((t) => !known.has(t)))];
    const reused = inputs.length - inputs.filter((t) => !known.has(t)).length;
    deps.onProgress?.({ file: path, phase: 'embed', done: reused, total: inputs.length });
    const fresh = missing.length
      ? await deps.embedder.embed(missing, { onProgress: (done) => deps.onProgress?.({ file: path, phase: 'embed', done: reused + done, total: inputs.length }) })
      : [];
    missing.forEach((t, i) => known.set(t, fresh[i]!));
    vectors = inputs.map((t) => known.get(t)!);
  }
  const embedMs = performance.now() - t3;

  const chunks: NewChunk[] = pieces.map((c, i) => ({
    ordinal: c.ordinal,
    page: c.page,
    section: c.section,
    content: c.content,
    truncated: estimateWordPieces(embeddingInput(c.section, c.content)) > MODEL_MAX_WORD_PIECES,
    embedding: vectors ? vectors[i]! : null,
  }));

  deps.onProgress?.({ file: path, phase: 'store', done: 0, total: chunks.length });
  const t4 = performance.now();
  const documentId = await deps.db.transaction(async (tx) => {
    if (vectors && deps.embedder) await ensureModel(tx, deps.embedder.model, vectors[0]!.length);
    // Inside the transaction: a concurrent ingest of the same name, or a replace, is decided here.
    const existing = await findDocument(tx, { name });
    if (existing) {
      if (!options.replace) {
        throw new UserError(`${path}: "${name}" was ingested meanwhile — add --replace to replace it`, 'name_exists');
      }
      await deleteDocument(tx, existing.id);
    }
    const id = await insertDocument(tx, {
      name,
      sha256,
      bytes: bytes.length,
      pages: extracted.pages,
      type: extracted.type,
      embeddingModel: vectors && deps.embedder ? deps.embedder.model : null,
    });
    await insertChunks(tx, id, chunks);
    await updateLexemeStats(tx, id, 1);
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
}

/**
 * Embeds texts in batches while the document is still being read. Best effort: a failed batch
 * is simply embedded again afterwards (where its error, if it persists, is reported), and at
 * most a few batches are in flight so a slow provider is not flooded.
 */
function earlyEmbedding(embedder: Embedder, batch = 32, maxInFlight = 4) {
  const vectors = new Map<string, number[]>();
  const queue: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let flushing = false;
  const pump = () => {
    while ((queue.length >= batch || (flushing && queue.length > 0)) && inFlight.size < maxInFlight) {
      const texts = queue.splice(0, batch);
      const work: Promise<void> = embedder
        .embed(texts)
        .then((vs) => texts.forEach((t, i) => vectors.set(t, vs[i]!)))
        .catch(() => {})
        .finally(() => {
          inFlight.delete(work);
          pump();
        });
      inFlight.add(work);
    }
  };
  return {
    add(texts: string[]) {
      queue.push(...texts);
      pump();
    },
    /** Sends the rest of the queue, however short. */
    flush() {
      flushing = true;
      pump();
    },
    /** Waits for the batches in flight; what was queued but not sent is left to the caller. */
    async settle(): Promise<Map<string, number[]>> {
      queue.length = 0;
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      return vectors;
    },
  };
}

/** What the embedding model reads for a chunk: its section heading, then its text. */
export function embeddingInput(section: string | null, content: string): string {
  return section ? `${section}\n${content}` : content;
}
