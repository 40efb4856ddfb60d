/** Knowledge-base operations behind `copilot kb`: list, show, remove, search, embed, gaps. */
import type { Db } from '../db/backend.js';
import {
  chunksMissingEmbeddings,
  countChunks,
  deleteDocument,
  documentChunks,
  documentSections,
  findDocument,
  listDocuments,
  markDocumentsEmbedded,
  setDocumentCollection,
  setEmbeddings,
} from '../db/documents.js';
import type { ChunkView, DocumentRow, DocumentSummary } from '../db/documents.js';
import { channelCollections, getChannel } from '../db/channels.js';
import { setEmbeddingModel } from '../db/settings.js';
import { DependencyError, UserError } from '../errors.js';
import { embedQuestions } from './embed.js';
import type { Embedder } from './embed.js';
import { embeddingInput } from './chunk.js';
import { checkQueryModel, ensureModel } from './model.js';
import { contextOf, retrieveForConversation } from './conversational.js';
import type { RetrievalResult, RetrieveOptions } from './retrieve.js';

export { listDocuments };
export { listGaps } from '../db/gaps.js';

async function resolve(db: Db, ref: string): Promise<DocumentRow | null> {
  // A number too large to be an id (ids are bigints well below 2^53) can only be a name.
  if (/^\d+$/.test(ref) && Number.isSafeInteger(Number(ref))) {
    const byId = await findDocument(db, { id: Number(ref) });
    if (byId) return byId;
  }
  return findDocument(db, { name: ref });
}

export async function showDocument(
  db: Db,
  ref: string,
  chunks = 3,
): Promise<{ document: DocumentSummary; sections: string[]; chunks: ChunkView[] }> {
  const doc = await resolve(db, ref);
  if (!doc) throw new UserError(`no document "${ref}" — \`copilot kb list\` shows them`, 'unknown_document');
  const summary = (await listDocuments(db)).find((d) => d.id === doc.id)!;
  return { document: summary, sections: await documentSections(db, doc.id), chunks: await documentChunks(db, doc.id, chunks) };
}

/** Every ref as a document (duplicates once), or a UserError naming the unknown ones: nothing is `verb`. */
async function resolveAll(db: Db, refs: string[], verb: string): Promise<DocumentRow[]> {
  const found: DocumentRow[] = [];
  const unknown: string[] = [];
  for (const ref of refs) {
    const doc = await resolve(db, ref);
    if (doc) {
      if (!found.some((d) => d.id === doc.id)) found.push(doc);
    } else unknown.push(ref);
  }
  if (unknown.length > 0) {
    throw new UserError(`no document ${unknown.map((u) => `"${u}"`).join(', ')} — nothing was ${verb}`, 'unknown_document');
  }
  return found;
}

export async function removeDocuments(db: Db, refs: string[]): Promise<DocumentRow[]> {
  if (refs.length === 0) throw new UserError('give at least one document id or name', 'missing_argument');
  return db.transaction(async (tx) => {
    const found = await resolveAll(tx as Db, refs, 'removed');
    for (const doc of found) await deleteDocument(tx, doc.id);
    return found;
  });
}

/** Moves documents to a collection, all or none (an unknown one changes nothing). */
export async function moveDocuments(db: Db, refs: string[], collection: string): Promise<{ document: DocumentRow; from: string }[]> {
  if (refs.length === 0) throw new UserError('give at least one document id or name', 'missing_argument');
  return db.transaction(async (tx) => {
    const found = await resolveAll(tx as Db, refs, 'moved');
    for (const doc of found) await setDocumentCollection(tx, doc.id, collection);
    return found.map((d) => ({ document: { ...d, collection }, from: d.collection }));
  });
}

/** The collections an allowed channel retrieves from (null: all); exit 2 for a channel not allowed. */
export async function collectionsOfChannel(db: Db, channelId: string): Promise<string[] | null> {
  if (!(await getChannel(db, channelId))) {
    throw new UserError(`${channelId} is not an allowed channel — \`copilot channels list\` shows them`, 'unknown_channel');
  }
  return channelCollections(db, channelId);
}

/**
 * Embeds the question (when a provider is configured and vectors are stored) and retrieves. A
 * failing or slow provider (past QUESTION_EMBED_BUDGET_MS) leaves full text alone, with a warning.
 */
export async function searchKnowledgeBase(
  db: Db,
  embedder: Embedder | null,
  query: string,
  options: Omit<RetrieveOptions, 'queryVector' | 'context'> & {
    embedBudgetMs?: number;
    /** Earlier user turns of a conversation (oldest first): retrieved as the bot does a follow-up. */
    previousTurns?: string[];
  } = {},
): Promise<RetrievalResult & { notice?: string; warning?: string }> {
  const text = query.trim();
  if (!text) throw new UserError('the search query is empty', 'empty_query');
  const { embedBudgetMs, previousTurns = [], ...retrieveOptions } = options;
  const context = contextOf(previousTurns);
  let queryVector: number[] | null = null;
  let contextVector: number[] | null = null;
  let notice: string | undefined;
  let warning: string | undefined;
  if (embedder) {
    if ((await checkQueryModel(db, embedder.model)) === 'ok') {
      try {
        // The message and its context in one request, as the answer service embeds them.
        [queryVector = null, contextVector = null] = await embedQuestions(embedder, context ? [text, context] : [text], {
          budgetMs: embedBudgetMs,
        });
      } catch (err) {
        if (!(err instanceof DependencyError)) throw err;
        warning = `${err.message}: full-text search only`;
      }
    } else {
      notice = 'no vectors stored yet: full-text search only (run `copilot kb embed`)';
    }
  } else if ((await countChunks(db)).embedded > 0) {
    notice = 'no embeddings provider configured (HF_TOKEN or EMBEDDINGS_URL): full-text search only';
  }
  const result = await retrieveForConversation(db, null, text, previousTurns, {
    ...retrieveOptions,
    messageVector: queryVector,
    contextVector,
  });
  return { ...result, notice, warning };
}

export interface EmbedProgress {
  done: number;
  total: number;
}

/**
 * Fills in missing vectors in committed batches (interrupting loses at most one batch of work;
 * running again continues). `rebuild` first re-embeds a probe to learn the new dimension, then
 * clears every vector and the column takes the new model's dimension.
 */
export async function embedMissing(
  db: Db,
  embedder: Embedder | null,
  options: { rebuild?: boolean; batch?: number; onProgress?: (p: EmbedProgress) => void } = {},
): Promise<{ embedded: number; model: string; dimension: number; rebuilt: boolean }> {
  if (!embedder) {
    throw new UserError('no embeddings provider configured: set HF_TOKEN or EMBEDDINGS_URL, then run `copilot kb embed`', 'no_embedder');
  }
  const [probe] = await embedder.embed(['dimension probe']);
  const dimension = probe!.length;
  if (options.rebuild) {
    await db.transaction((tx) => setEmbeddingModel(tx, { model: embedder.model, dimension }));
  } else {
    await db.transaction((tx) => ensureModel(tx, embedder.model, dimension));
  }
  const counts = await countChunks(db);
  const total = counts.chunks - counts.embedded;
  const batch = options.batch ?? 256;
  let done = 0;
  let after = 0;
  options.onProgress?.({ done, total });
  for (;;) {
    const missing = await chunksMissingEmbeddings(db, batch, after);
    if (missing.length === 0) break;
    const vectors = await embedder.embed(missing.map((c) => embeddingInput(c.section, c.content)));
    if (vectors[0]!.length !== dimension) {
      throw new DependencyError(
        `the embeddings provider changed dimension mid-way (${dimension} → ${vectors[0]!.length})`,
        'embeddings_bad_output',
      );
    }
    await db.transaction(async (tx) => {
      await setEmbeddings(
        tx,
        missing.map((c) => c.id),
        vectors,
      );
      await markDocumentsEmbedded(
        tx,
        embedder.model,
        missing.map((c) => c.id),
      );
    });
    done += missing.length;
    after = missing[missing.length - 1]!.id;
    options.onProgress?.({ done, total });
  }
  return { embedded: done, model: embedder.model, dimension, rebuilt: Boolean(options.rebuild) };
}
