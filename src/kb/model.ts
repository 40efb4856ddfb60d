/**
 * The stored vectors' model and dimension. Vectors of one model only are ever compared: a
 * different model is a clear error naming `copilot kb embed --rebuild`, unless no vector is
 * stored yet, in which case the column simply takes the new model's dimension.
 */
import type { Queryable } from '../db/backend.js';
import { hasStoredVectors } from '../db/documents.js';
import { getEmbeddingSettings, setEmbeddingModel } from '../db/settings.js';
import { UserError } from '../errors.js';

export function modelMismatch(stored: { model: string; dimension: number }, model: string, dimension?: number): UserError {
  const what = stored.model !== model ? `model ${stored.model}` : `${stored.dimension} dimensions`;
  const now = stored.model !== model ? `EMBEDDINGS_MODEL is ${model}` : `${model} now returns ${dimension} dimensions`;
  return new UserError(
    `the stored vectors were made with ${what}, but ${now} — run \`copilot kb embed --rebuild\` to re-embed everything (or set EMBEDDINGS_MODEL back)`,
    'embedding_model_mismatch',
  );
}

/** Makes the column ready for vectors of `model`/`dimension`, or throws the mismatch error. */
export async function ensureModel(db: Queryable, model: string, dimension: number): Promise<void> {
  const stored = await getEmbeddingSettings(db);
  if (stored.model === model && stored.dimension === dimension) return;
  if (await hasStoredVectors(db)) throw modelMismatch(stored, model, dimension);
  await setEmbeddingModel(db, { model, dimension });
}

/** Before searching with query vectors of `model`: throws when stored vectors are of another model. */
export async function checkQueryModel(db: Queryable, model: string): Promise<'ok' | 'no_vectors'> {
  const [stored, vectors] = await Promise.all([getEmbeddingSettings(db), hasStoredVectors(db)]);
  if (!vectors) return 'no_vectors';
  if (stored.model !== model) throw modelMismatch(stored, model);
  return 'ok';
}
