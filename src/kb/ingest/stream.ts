/** The chunk stream: on PostgreSQL, a PDF's chunks written while the rest is still being read. */
import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../../db/backend.js';
import { allowIdleInTransaction, deleteChunks, insertChunks, insertDocument, updateLexemeStats } from '../../db/documents.js';
import type { NewChunk } from '../../db/documents.js';
import type { VectorEncoding } from '../../db/vectors.js';
import { getEmbeddingSettings } from '../../db/settings.js';
import { embeddingInput, estimateWordPieces, MODEL_MAX_WORD_PIECES } from '../chunk.js';
import type { Chunk } from '../chunk.js';
import type { Embedder } from '../embed.js';
import { isNavigation } from './navigation.js';

/**
 * Whether chunks can be written as they come: with no provider, or when the stored vectors'
 * model is the provider's (a new model or dimension is settled at the end, in one transaction).
 */
export async function streamingSettings(db: Db, embedder: Embedder | null): Promise<{ dimension: number | null } | null> {
  if (!embedder) return { dimension: null };
  const stored = await getEmbeddingSettings(db);
  return stored.model === embedder.model ? { dimension: stored.dimension } : null;
}

export interface StreamOptions {
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
export class ChunkStream {
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
    // The transaction waits on reading and embedding between statements.
    await allowIdleInTransaction(tx);
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
    if (drop.length > 0) await deleteChunks(tx, id, drop);
    await insertChunks(tx, id, rewrite, this.options.encoding);
    await complete(tx, id);
    await updateLexemeStats(tx, id, 1);
    return id;
  }
}

/** A chunk as stored: truncated when the model reads less than its whole input; navigation pages marked. */
export function newChunk(c: Chunk, embedding: number[] | null): NewChunk {
  const truncated = estimateWordPieces(embeddingInput(c.section, c.content)) > MODEL_MAX_WORD_PIECES;
  const navigation = isNavigation(c.content, c.section);
  return { ordinal: c.ordinal, page: c.page, section: c.section, content: c.content, truncated, embedding, navigation };
}
