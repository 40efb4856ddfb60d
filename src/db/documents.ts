// long: documents, their chunks and web validators, and the lexeme statistics kept with them are written together in the same transactions.
/** Documents and their chunks (full text + vectors), and the lexeme statistics kept with them. */
import type { Queryable } from './backend.js';
import { dbText } from './text.js';
import { TEXT_VECTORS, vectorArray, vectorText } from './vectors.js';
import { onlyRow } from './rows.js';

export type DocumentType = 'pdf' | 'markdown' | 'text' | 'html' | 'qa';

export interface DocumentRow {
  id: number;
  name: string;
  sha256: string;
  bytes: number;
  pages: number;
  type: DocumentType;
  embeddingModel: string | null;
  createdAt: Date;
  collection: string;
  /** Set for a document fetched from the web. */
  web: WebSource | null;
}

/** Where a web document came from, and what its server said last time (for `kb sync`). */
export interface WebSource {
  url: string;
  title: string | null;
  etag: string | null;
  lastModified: string | null;
  fetchedAt: Date;
  /** How it came in: a URL given, a sitemap, a crawl (sourceUrl: the sitemap or the start page). */
  sourceKind: 'url' | 'sitemap' | 'crawl';
  sourceUrl: string | null;
}

export interface DocumentSummary extends DocumentRow {
  chunks: number;
  embedded: number;
}

export interface NewChunk {
  ordinal: number;
  page: number | null;
  section: string | null;
  content: string;
  truncated: boolean;
  embedding: number[] | null;
  /** A table of contents, an index or a list of figures: ranked below content. */
  navigation?: boolean;
}

interface Row {
  id: number;
  name: string;
  sha256: string;
  bytes: number;
  pages: number;
  type: DocumentType;
  embedding_model: string | null;
  created_at: Date;
  collection: string;
  url: string | null;
  title: string | null;
  etag: string | null;
  last_modified: string | null;
  fetched_at: Date | null;
  source_kind: WebSource['sourceKind'] | null;
  source_url: string | null;
}

const toDocument = (r: Row): DocumentRow => ({
  id: r.id,
  name: r.name,
  sha256: r.sha256,
  bytes: r.bytes,
  pages: r.pages,
  type: r.type,
  embeddingModel: r.embedding_model,
  createdAt: r.created_at,
  collection: r.collection,
  web:
    r.url !== null
      ? {
          url: r.url,
          title: r.title,
          etag: r.etag,
          lastModified: r.last_modified,
          fetchedAt: r.fetched_at!,
          sourceKind: r.source_kind ?? 'url',
          sourceUrl: r.source_url,
        }
      : null,
});

const COLUMNS =
  'd.id, d.name, d.sha256, d.bytes, d.pages, d.type, d.embedding_model, d.created_at, d.collection, ' +
  'd.url, d.title, d.etag, d.last_modified, d.fetched_at, d.source_kind, d.source_url';

export async function listDocuments(db: Queryable): Promise<DocumentSummary[]> {
  const { rows } = await db.query<Row & { chunks: number; embedded: number }>(
    `select ${COLUMNS}, count(c.id) as chunks, count(c.embedding) as embedded
     from documents d left join chunks c on c.document_id = d.id group by d.id order by d.id`,
  );
  return rows.map((r) => ({ ...toDocument(r), chunks: r.chunks, embedded: r.embedded }));
}

export async function findDocument(db: Queryable, by: { id?: number; name?: string; sha256?: string }): Promise<DocumentRow | null> {
  const { rows } = await db.query<Row>(
    `select ${COLUMNS} from documents d
     where ($1::bigint is null or d.id = $1) and ($2::text is null or d.name = $2) and ($3::text is null or d.sha256 = $3)
     order by d.id limit 1`,
    [by.id ?? null, by.name ?? null, by.sha256 ?? null],
  );
  return rows[0] ? toDocument(rows[0]) : null;
}

export async function insertDocument(
  db: Queryable,
  d: { name: string; sha256: string; bytes: number; pages: number; type: DocumentType; embeddingModel: string | null },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `insert into documents (name, sha256, bytes, pages, type, embedding_model) values ($1, $2, $3, $4, $5, $6) returning id`,
    [dbText(d.name), d.sha256, d.bytes, d.pages, d.type, d.embeddingModel],
  );
  return onlyRow(rows, 'insertDocument').id;
}

/** Gives a document row its final name and metadata (see ChunkStream in kb/ingest/stream.ts). */
export async function updateDocument(
  db: Queryable,
  id: number,
  d: { name: string; pages: number; type: DocumentType; embeddingModel: string | null },
): Promise<void> {
  await db.query('update documents set name = $2, pages = $3, type = $4, embedding_model = $5 where id = $1', [
    id,
    dbText(d.name),
    d.pages,
    d.type,
    d.embeddingModel,
  ]);
}

/** Records where a web document came from (in the transaction that stores it). */
export async function setWebSource(db: Queryable, id: number, w: WebSource): Promise<void> {
  await db.query(
    `update documents set url = $2, title = $3, etag = $4, last_modified = $5, fetched_at = $6, source_kind = $7, source_url = $8
     where id = $1`,
    [id, dbText(w.url), dbText(w.title), dbText(w.etag), dbText(w.lastModified), w.fetchedAt, w.sourceKind, dbText(w.sourceUrl)],
  );
}

/** A re-fetch that changed nothing: new validators and fetch time, the same text. */
export async function touchWebSource(
  db: Queryable,
  id: number,
  w: { etag: string | null; lastModified: string | null; fetchedAt: Date },
): Promise<void> {
  await db.query(
    'update documents set etag = coalesce($2, etag), last_modified = coalesce($3, last_modified), fetched_at = $4 where id = $1',
    [id, dbText(w.etag), dbText(w.lastModified), w.fetchedAt],
  );
}

/** New validators and fetch time of an unchanged web document (`kb sync`). */
export interface WebTouch {
  id: number;
  etag: string | null;
  lastModified: string | null;
  fetchedAt: Date;
}

/** touchWebSource for many documents in one statement (a sync of a whole site writes once). */
export async function touchWebSources(db: Queryable, touches: WebTouch[]): Promise<void> {
  if (touches.length === 0) return;
  await db.query(
    `update documents d set etag = coalesce(t.etag, d.etag), last_modified = coalesce(t.last_modified, d.last_modified),
       fetched_at = t.fetched_at::timestamptz
     from unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) as t(id, etag, last_modified, fetched_at)
     where d.id = t.id`,
    [
      touches.map((t) => t.id),
      touches.map((t) => dbText(t.etag)),
      touches.map((t) => dbText(t.lastModified)),
      touches.map((t) => t.fetchedAt.toISOString()),
    ],
  );
}

/** How many chunks one document has, and how many of them are embedded. */
export async function documentChunkCounts(db: Queryable, id: number): Promise<{ chunks: number; embedded: number }> {
  const { rows } = await db.query<{ chunks: number; embedded: number }>(
    'select count(*)::int as chunks, count(embedding)::int as embedded from chunks where document_id = $1',
    [id],
  );
  return rows[0] ?? { chunks: 0, embedded: 0 };
}

export async function setDocumentCollection(db: Queryable, id: number, collection: string): Promise<void> {
  await db.query('update documents set collection = $2 where id = $1', [id, collection]);
}

/** Documents fetched from the web, oldest first. */
export async function listWebDocuments(db: Queryable): Promise<DocumentRow[]> {
  const { rows } = await db.query<Row>(`select ${COLUMNS} from documents d where d.url is not null order by d.id`);
  return rows.map(toDocument);
}

/** Inserts chunks in multi-row batches (one statement per batch). */
export async function insertChunks(
  db: Queryable,
  documentId: number,
  chunks: NewChunk[],
  encoding = TEXT_VECTORS,
  batch = 500,
): Promise<void> {
  for (let i = 0; i < chunks.length; i += batch) {
    const part = chunks.slice(i, i + batch);
    await db.query(
      // PGlite serialises only arrays of the types it knows: vectors go to it as text[].
      `insert into chunks (document_id, ordinal, page, section, content, truncated, embedding, navigation)
       select $1, t.ordinal, t.page, t.section, t.content, t.truncated, t.embedding::vector, t.navigation
       from unnest($2::int[], $3::int[], $4::text[], $5::text[], $6::bool[], $7::${encoding.binary ? 'vector' : 'text'}[], $8::bool[])
         as t(ordinal, page, section, content, truncated, embedding, navigation)`,
      [
        documentId,
        part.map((c) => c.ordinal),
        part.map((c) => c.page),
        part.map((c) => dbText(c.section)),
        part.map((c) => dbText(c.content)),
        part.map((c) => c.truncated),
        vectorArray(
          part.map((c) => c.embedding),
          encoding,
        ),
        part.map((c) => c.navigation ?? false),
      ],
    );
  }
}

const DOCUMENT_LEXEMES = `
  select '' as lexeme, count(*) as n from chunks where document_id = $1
  union all
  select lexeme, count(*) from chunks, unnest(tsvector_to_array(tsv)) as lexeme where document_id = $1 group by lexeme`;

/** Adds (sign 1) or removes (sign -1) a document's chunks from the lexeme statistics. */
export async function updateLexemeStats(db: Queryable, documentId: number, sign: 1 | -1): Promise<void> {
  if (sign > 0) {
    await db.query(
      `insert into kb_lexemes (lexeme, chunks)
       select lexeme, n from (${DOCUMENT_LEXEMES}) s where n > 0 order by lexeme
       on conflict (lexeme) do update set chunks = kb_lexemes.chunks + excluded.chunks`,
      [documentId],
    );
    return;
  }
  await db.query(
    `update kb_lexemes k set chunks = greatest(0, k.chunks - s.n)
     from (${DOCUMENT_LEXEMES}) s where k.lexeme = s.lexeme`,
    [documentId],
  );
  await db.query("delete from kb_lexemes where chunks = 0 and lexeme <> ''");
}

export async function deleteDocument(db: Queryable, id: number): Promise<void> {
  await updateLexemeStats(db, id, -1);
  await db.query('delete from documents where id = $1', [id]);
}

/** Deletes the chunks of a document with these ordinals. */
export async function deleteChunks(db: Queryable, documentId: number, ordinals: number[]): Promise<void> {
  await db.query('delete from chunks where document_id = $1 and ordinal = any($2::int[])', [documentId, ordinals]);
}

/**
 * Lets this transaction wait between statements for as long as it needs: a transaction that
 * writes chunks while the document is still being read must not be cut short by a server-side
 * idle limit (its length is bounded by the provider's capped retries).
 */
export async function allowIdleInTransaction(tx: Queryable): Promise<void> {
  await tx.exec('set local idle_in_transaction_session_timeout = 0');
}

export interface ChunkView {
  id: number;
  ordinal: number;
  page: number | null;
  section: string | null;
  content: string;
  truncated: boolean;
  embedded: boolean;
}

export async function documentChunks(db: Queryable, documentId: number, limit: number): Promise<ChunkView[]> {
  const { rows } = await db.query<ChunkView>(
    `select id, ordinal, page, section, content, truncated, embedding is not null as embedded
     from chunks where document_id = $1 order by ordinal limit $2`,
    [documentId, limit],
  );
  return rows;
}

/** A document's distinct section paths, in the order they first appear. */
export async function documentSections(db: Queryable, documentId: number): Promise<string[]> {
  const { rows } = await db.query<{ section: string }>(
    `select section from chunks where document_id = $1 and section is not null group by section order by min(ordinal)`,
    [documentId],
  );
  return rows.map((r) => r.section);
}

/** Chunks without a vector, oldest first. */
export async function chunksMissingEmbeddings(
  db: Queryable,
  limit: number,
  afterId = 0,
): Promise<{ id: number; content: string; section: string | null }[]> {
  const { rows } = await db.query<{ id: number; content: string; section: string | null }>(
    'select id, content, section from chunks where embedding is null and id > $2 order by id limit $1',
    [limit, afterId],
  );
  return rows;
}

/** Whether any chunk has a vector. */
export async function hasStoredVectors(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>('select count(*) as n from (select 1 from chunks where embedding is not null limit 1) s');
  return onlyRow(rows, 'hasStoredVectors').n > 0;
}

/** Records `model` on the documents of these chunks whose every chunk now has a vector. */
export async function markDocumentsEmbedded(db: Queryable, model: string, chunkIds: number[]): Promise<void> {
  await db.query(
    `update documents d set embedding_model = $1
     where d.id in (select document_id from chunks where id = any($2::bigint[]))
       and not exists (select 1 from chunks c where c.document_id = d.id and c.embedding is null)`,
    [model, chunkIds],
  );
}

export async function setEmbeddings(db: Queryable, ids: number[], vectors: number[][]): Promise<void> {
  await db.query(
    `update chunks c set embedding = v.embedding::vector
     from unnest($1::bigint[], $2::text[]) as v(id, embedding) where c.id = v.id`,
    [ids, vectors.map(vectorText)],
  );
}

export async function countChunks(db: Queryable): Promise<{ documents: number; chunks: number; embedded: number }> {
  const { rows } = await db.query<{ documents: number; chunks: number; embedded: number }>(
    'select (select count(*) from documents) as documents, count(*) as chunks, count(embedding) as embedded from chunks',
  );
  return onlyRow(rows, 'countChunks');
}
