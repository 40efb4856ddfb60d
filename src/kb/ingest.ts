/**
 * Ingest: file → type → text per page/section → chunks → embeddings (batched, before any write)
 * → one transaction: document + chunks + lexeme statistics. Same bytes again → no-op; same name
 * with new bytes → exit 2 unless `replace`, which swaps the versions atomically.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Db, Queryable } from '../db/backend.js';
import {
  deleteDocument,
  findDocument,
  insertChunks,
  insertDocument,
  updateDocument,
  updateLexemeStats,
  vectorEncoding,
} from '../db/documents.js';
import type { NewChunk, VectorEncoding } from '../db/documents.js';
import { getEmbeddingSettings } from '../db/settings.js';
import { UserError } from '../errors.js';
import { chunkUnits, estimateWordPieces, MODEL_MAX_WORD_PIECES } from './chunk.js';
import type { Chunk } from './chunk.js';
import type { TextUnit } from './text.js';
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
    throw new UserError(
      `${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`,
      'unreadable_file',
      { cause: err },
    );
  }
  if (info.isDirectory()) throw new UserError(`${path}: is a directory — give the files inside it`, 'is_directory');
  if (!info.isFile()) throw new UserError(`${path}: not a regular file`, 'not_a_file');
  if (info.size === 0) throw new UserError(`${path}: empty file`, 'empty_file');
  if (info.size > maxBytes) {
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    throw new UserError(`${path}: ${mb(info.size)} MB is over the ${mb(maxBytes)} MB limit (COPILOT_MAX_FILE_MB)`, 'file_too_large');
  }
  try {
    return await readFile(path);
  } catch (err) {
    throw new UserError(`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'unreadable_file', {
      cause: err,
    });
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
    throw new UserError(`${path}: a different version of "${name}" is already ingested — add --replace to replace it`, 'name_exists');
  }

  const { extractText } = await import('./extract.js');
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
          })
        : await deps.db.transaction(async (tx) => {
            await claim(tx);
            const id = await insertDocument(tx, document);
            await insertChunks(tx, id, chunks, encoding);
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
  } catch (err) {
    // Whatever was written while reading is rolled back before the error is reported.
    await (stream as ChunkStream | null)?.abort(err);
    throw err;
  }
}

/**
 * Whether chunks can be written as they come: with no provider, or when the stored vectors'
 * model is the provider's (a new model or dimension is settled at the end, in one transaction).
 */
async function streamingSettings(db: Db, embedder: Embedder | null): Promise<{ dimension: number | null } | null> {
  if (!embedder) return { dimension: null };
  const stored = await getEmbeddingSettings(db);
  return stored.model === embedder.model ? { dimension: stored.dimension } : null;
}

interface StreamOptions {
  sha256: string;
  bytes: number;
  encoding: VectorEncoding;
  /** The stored vectors' dimension; null: no provider, chunks are written without vectors. */
  dimension: number | null;
  vectorFor: (input: string) => number[] | undefined;
  /** Called after each write: chunks written so far, chunks known so far. */
  onWritten?: (done: number, known: number) => void;
}

/**
 * Chunks written while a PDF is still being read, each as soon as its vector is back, into a
 * transaction that stays open until the document is complete. The document row carries a name
 * no file can have (it contains "/") until `finish` gives it its own; chunks whose final text
 * differs from what was written early (hyphenation is settled over the whole document) are
 * rewritten. Nothing is visible to anyone else before the commit, and `abort` rolls it all back.
 */
class ChunkStream {
  private readonly waiting: NewChunk[] = [];
  private readonly queue: NewChunk[] = [];
  private readonly written = new Map<number, NewChunk>();
  private wake: (() => void) | null = null;
  private end: { chunks: NewChunk[]; complete: (tx: Queryable, id: number) => Promise<void> } | { error: unknown } | null = null;
  private abandoned = false;
  private readonly result: Promise<number>;

  constructor(
    db: Db,
    private readonly options: StreamOptions,
  ) {
    this.result = db.transaction((tx) => this.run(tx));
    // reported by finish(), or at the next page; swallowed by abort()
    this.result.catch((err: unknown) => {
      if (!this.end) this.failure = err instanceof Error ? err : new Error(String(err));
    });
  }

  /** Set when the transaction failed by itself, before the ingest ended it. */
  failure: Error | null = null;

  add(pieces: Chunk[]): void {
    for (const c of pieces) this.waiting.push(newChunk(c, null));
    this.collect();
  }

  /** Moves chunks whose vectors are back to the write queue. */
  collect(): void {
    if (this.abandoned) return;
    for (let i = 0; i < this.waiting.length;) {
      const c = this.waiting[i]!;
      const vector = this.options.dimension === null ? null : this.options.vectorFor(embeddingInput(c.section, c.content));
      if (this.options.dimension !== null && !vector) {
        i++;
        continue;
      }
      if (vector && vector.length !== this.options.dimension) {
        // the provider's dimension is not the stored one: settled at the end, in one transaction
        this.abandoned = true;
        this.end ??= { error: new Error('abandoned') };
      }
      this.queue.push({ ...c, embedding: vector ?? null });
      this.waiting.splice(i, 1);
    }
    this.wake?.();
  }

  /** False when writing early was given up (and rolled back): store the usual way instead. */
  async usable(): Promise<boolean> {
    if (!this.abandoned) return true;
    await this.result.catch(() => {});
    return false;
  }

  /** Writes what differs from `chunks`, runs `complete` for the document row, and commits. */
  finish(chunks: NewChunk[], complete: (tx: Queryable, id: number) => Promise<void>): Promise<number> {
    this.end ??= { chunks, complete };
    this.wake?.();
    return this.result;
  }

  async abort(error: unknown): Promise<void> {
    this.end ??= { error };
    this.wake?.();
    await this.result.catch(() => {});
  }

  private async run(tx: Queryable): Promise<number> {
    // The transaction waits on reading and embedding between statements; a server-side idle limit
    // must not cut it short (its length is bounded by the provider's capped retries).
    await tx.exec('set local idle_in_transaction_session_timeout = 0');
    // a connection lost while waiting for chunks ends the wait at once
    let lost: Error | null = null;
    void tx.lost?.then((err) => {
      lost = err;
      this.wake?.();
    });
    const id = await insertDocument(tx, {
      name: `ingesting/${randomUUID()}`,
      sha256: this.options.sha256,
      bytes: this.options.bytes,
      pages: 0,
      type: 'pdf',
      embeddingModel: null,
    });
    for (;;) {
      if (this.end && 'error' in this.end) throw this.end.error;
      if (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        await insertChunks(tx, id, batch, this.options.encoding);
        for (const c of batch) this.written.set(c.ordinal, c);
        this.options.onWritten?.(this.written.size, this.written.size + this.queue.length + this.waiting.length);
        continue;
      }
      if (this.end) break;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
      if (lost) throw lost;
    }
    const { chunks, complete } = this.end;
    const same = (a: NewChunk, b: NewChunk) => a.page === b.page && a.section === b.section && a.content === b.content;
    const rewrite = chunks.filter((c) => !this.written.has(c.ordinal) || !same(this.written.get(c.ordinal)!, c));
    const rewritten = new Set(rewrite.map((c) => c.ordinal));
    const drop = [...this.written.keys()].filter((o) => o >= chunks.length || rewritten.has(o));
    if (drop.length > 0) await tx.query('delete from chunks where document_id = $1 and ordinal = any($2::int[])', [id, drop]);
    await insertChunks(tx, id, rewrite, this.options.encoding);
    await complete(tx, id);
    await updateLexemeStats(tx, id, 1);
    return id;
  }
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
  let onBatch = () => {};
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
          onBatch();
        });
      inFlight.add(work);
    }
  };
  return {
    /** Called after each batch, whether its vectors came back or not. */
    onBatch(fn: () => void) {
      onBatch = fn;
    },
    vector(text: string): number[] | undefined {
      return vectors.get(text);
    },
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

/** A chunk as stored: truncated when the model reads less than its whole input. */
function newChunk(c: Chunk, embedding: number[] | null): NewChunk {
  const truncated = estimateWordPieces(embeddingInput(c.section, c.content)) > MODEL_MAX_WORD_PIECES;
  return { ordinal: c.ordinal, page: c.page, section: c.section, content: c.content, truncated, embedding };
}

/** What the embedding model reads for a chunk: its section heading, then its text. */
export function embeddingInput(section: string | null, content: string): string {
  return section ? `${section}\n${content}` : content;
}
