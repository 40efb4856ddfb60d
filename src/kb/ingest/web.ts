/**
 * Ingest of one fetched web document (an HTML page's sections, or a PDF's bytes) through the same
 * steps as a file: chunks → embeddings → one transaction. Named by its normalised URL; the same
 * text again changes nothing but the validators, so it costs no embedding request.
 */
import { createHash } from 'node:crypto';
import type { Queryable } from '../../db/backend.js';
import {
  deleteDocument,
  documentChunkCounts,
  findDocument,
  insertChunks,
  insertDocument,
  setDocumentCollection,
  setWebSource,
  touchWebSource,
  updateLexemeStats,
} from '../../db/documents.js';
import type { DocumentType, WebSource, WebTouch } from '../../db/documents.js';
import { vectorEncoding } from '../../db/vectors.js';
import { UserError } from '../../errors.js';
import { chunkUnits, embeddingInput } from '../chunk.js';
import type { WebDocument } from '../fetch/document.js';
import { normalizeUrl } from '../fetch/url.js';
import { ensureModel } from '../model.js';
import type { TextUnit } from '../text.js';
import type { IngestDeps, IngestResult } from './pipeline.js';
import { newChunk } from './stream.js';

/** Collection names: lower-case letters, digits and dashes, 1 to 32 of them. */
export const COLLECTION_PATTERN = /^[a-z0-9-]{1,32}$/;
export const DEFAULT_COLLECTION = 'default';

export function parseCollection(value: string | undefined, flag = '--collection'): string {
  if (value === undefined) return DEFAULT_COLLECTION;
  if (!COLLECTION_PATTERN.test(value)) {
    throw new UserError(`${flag}: "${value}" is not a collection name (1 to 32 of a-z, 0-9 and -)`, 'bad_collection');
  }
  return value;
}

export interface WebIngestOptions {
  replace?: boolean;
  /** Default: the replaced document's collection, else `default`. */
  collection?: string;
  sourceKind: WebSource['sourceKind'];
  sourceUrl?: string | null;
  /** The name to store under (sync keeps a document's name when its page moved). */
  name?: string;
  /**
   * When the text is the same: hand the new validators to this instead of writing them (`kb sync`
   * writes those of every unchanged page in one statement).
   */
  onUnchanged?: (touch: WebTouch) => void;
}

export interface WebIngestResult extends Omit<IngestResult, 'status'> {
  status: IngestResult['status'] | 'unchanged';
  url: string;
  title: string | null;
}

/** The text a web document holds, and its fingerprint (of the text, not the bytes around it). */
async function readWebDocument(
  name: string,
  doc: WebDocument,
): Promise<{ type: DocumentType; title: string | null; pages: number; units: TextUnit[]; sha256: string }> {
  if (doc.kind === 'html') {
    const sha256 = createHash('sha256')
      .update(JSON.stringify([doc.title, doc.units.map((u) => [u.section, u.text])]))
      .digest('hex');
    return { type: 'html', title: doc.title || null, pages: doc.units.length, units: doc.units, sha256 };
  }
  const { extractPdf } = await import('../pdf/extract.js');
  const { pages, units } = await extractPdf(name, doc.body);
  const sha256 = createHash('sha256').update(doc.body).digest('hex');
  const file = decodeURIComponent(new URL(name).pathname.split('/').pop() ?? '') || null;
  return { type: 'pdf', title: file, pages, units, sha256 };
}

export async function ingestWebDocument(deps: IngestDeps, doc: WebDocument, options: WebIngestOptions): Promise<WebIngestResult> {
  const started = performance.now();
  const name = options.name ?? normalizeUrl(doc.finalUrl);
  const read = await readWebDocument(name, doc);
  const source = (collection: string) => ({
    url: name,
    title: read.title,
    etag: doc.etag,
    lastModified: doc.lastModified,
    fetchedAt: new Date(),
    sourceKind: options.sourceKind,
    sourceUrl: options.sourceUrl ?? null,
    collection,
  });
  const base = { file: doc.url, name, url: name, title: read.title, type: read.type, pages: read.pages, truncated: 0 };

  const previous = await findDocument(deps.db, { name });
  if (previous && previous.sha256 === read.sha256) {
    const touch = { id: previous.id, etag: doc.etag, lastModified: doc.lastModified, fetchedAt: new Date() };
    if (options.onUnchanged) options.onUnchanged(touch);
    else await deps.db.transaction((tx) => touchWebSource(tx, previous.id, touch));
    const counts = await documentChunkCounts(deps.db, previous.id);
    return {
      ...base,
      status: options.replace ? 'unchanged' : 'already_ingested',
      documentId: previous.id,
      chunks: counts.chunks,
      embedded: counts.embedded,
      seconds: (performance.now() - started) / 1000,
    };
  }
  if (previous && !options.replace) {
    throw new UserError(`${doc.url}: a different version of "${name}" is already ingested — add --replace to replace it`, 'name_exists');
  }

  const pieces = chunkUnits(read.units);
  if (pieces.length === 0) throw new UserError(`${doc.url}: no text in the page`, 'no_text');
  let vectors: number[][] | null = null;
  if (deps.embedder) {
    const inputs = pieces.map((c) => embeddingInput(c.section, c.content));
    deps.onProgress?.({ file: doc.url, phase: 'embed', done: 0, total: inputs.length });
    vectors = await deps.embedder.embed(inputs, {
      onProgress: (done) => deps.onProgress?.({ file: doc.url, phase: 'embed', done, total: inputs.length }),
    });
  }
  const chunks = pieces.map((c, i) => newChunk(c, vectors ? vectors[i]! : null));
  const encoding = await vectorEncoding(deps.db, deps.db.kind);
  const documentId = await deps.db.transaction(async (tx: Queryable) => {
    if (vectors && deps.embedder) await ensureModel(tx, deps.embedder.model, vectors[0]!.length);
    const existing = await findDocument(tx, { name });
    if (existing) {
      if (!options.replace)
        throw new UserError(`${doc.url}: "${name}" was ingested meanwhile — add --replace to replace it`, 'name_exists');
      await deleteDocument(tx, existing.id);
    }
    const id = await insertDocument(tx, {
      name,
      sha256: read.sha256,
      bytes: doc.bytes,
      pages: read.pages,
      type: read.type,
      embeddingModel: vectors && deps.embedder ? deps.embedder.model : null,
    });
    await insertChunks(tx, id, chunks, encoding);
    await updateLexemeStats(tx, id, 1);
    const { collection: _c, ...web } = source(options.collection ?? existing?.collection ?? DEFAULT_COLLECTION);
    await setWebSource(tx, id, web);
    await setDocumentCollection(tx, id, options.collection ?? existing?.collection ?? DEFAULT_COLLECTION);
    return id;
  });
  return {
    ...base,
    status: previous ? 'replaced' : 'ingested',
    documentId,
    chunks: chunks.length,
    embedded: vectors ? chunks.length : 0,
    truncated: chunks.filter((c) => c.truncated).length,
    seconds: (performance.now() - started) / 1000,
  };
}
