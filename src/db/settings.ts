/** Small settings: the model and dimension of the stored vectors. */
import type { Queryable } from './backend.js';

export interface EmbeddingSettings {
  model: string;
  dimension: number;
}

export async function getEmbeddingSettings(db: Queryable): Promise<EmbeddingSettings> {
  const { rows } = await db.query<{ value: EmbeddingSettings }>("select value from settings where key = 'embedding'");
  return rows[0]?.value ?? { model: 'sentence-transformers/all-MiniLM-L6-v2', dimension: 384 };
}

/**
 * Records a new model and gives the vector column its dimension (dropping every stored vector;
 * callers do this only when none are stored, or for `kb embed --rebuild`).
 */
export async function setEmbeddingModel(db: Queryable, settings: EmbeddingSettings): Promise<void> {
  if (!Number.isInteger(settings.dimension) || settings.dimension < 1 || settings.dimension > 16000) {
    throw new Error(`bad embedding dimension ${settings.dimension}`);
  }
  const current = await getEmbeddingSettings(db);
  if (current.dimension !== settings.dimension) {
    await db.exec('drop index if exists chunks_embedding_idx');
    // The dimension is a validated integer: type modifiers cannot be bound as parameters.
    await db.exec(`alter table chunks alter column embedding type vector(${settings.dimension}) using null`);
    await db.exec('create index chunks_embedding_idx on chunks using hnsw (embedding vector_cosine_ops)');
  } else {
    await db.query('update chunks set embedding = null where embedding is not null');
  }
  await db.query(
    `insert into settings (key, value, updated_at) values ('embedding', $1::jsonb, now())
     on conflict (key) do update set value = excluded.value, updated_at = now()`,
    [JSON.stringify(settings)],
  );
  await db.query('update documents set embedding_model = null');
}
