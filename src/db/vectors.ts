/**
 * The one place a vector is put in its wire form: pgvector's text form (its toSql), or, for a
 * `vector[]` parameter over `pg` to PostgreSQL, array_recv's binary form.
 */
import { toSql } from 'pgvector';
import type { Queryable } from './backend.js';
import { onlyRow } from './rows.js';

/**
 * How vectors travel to the server: as pgvector text (PGlite, and anything else), or, over `pg`
 * to PostgreSQL, as one binary `vector[]` parameter that the server neither formats nor parses.
 */
export type VectorEncoding = { binary: false } | { binary: true; vectorOid: number };

export const TEXT_VECTORS: VectorEncoding = { binary: false };

/** The encoding for `kind` of database: binary through `pg` to PostgreSQL (needs pgvector's type oid). */
export async function vectorEncoding(db: Queryable, kind: 'postgres' | 'embedded'): Promise<VectorEncoding> {
  if (kind !== 'postgres') return TEXT_VECTORS;
  const { rows } = await db.query<{ oid: number }>("select 'vector'::regtype::oid as oid");
  return { binary: true, vectorOid: onlyRow(rows, 'vectorEncoding').oid };
}

/** A vector in pgvector's text form, for a `$n::vector` (or text) parameter. */
export function vectorText(v: number[]): string {
  return toSql(v) as string;
}

/** A value for a `$n::vector[]` parameter (`$n::text[]` when the encoding is text). */
export function vectorArray(vectors: (number[] | null)[], encoding: VectorEncoding): Buffer | (string | null)[] {
  if (!encoding.binary) return vectors.map((v) => (v ? vectorText(v) : null));
  // array_recv's format: dimensions, null flag, element type, size and lower bound, then each
  // element as its length and vector_recv's format (int16 dimension, int16 unused, float4s).
  const size = 20 + vectors.reduce((n, v) => n + 4 + (v ? 4 + 4 * v.length : 0), 0);
  const buf = Buffer.allocUnsafe(size);
  let at = buf.writeInt32BE(1, 0);
  at = buf.writeInt32BE(vectors.some((v) => !v) ? 1 : 0, at);
  at = buf.writeUInt32BE(encoding.vectorOid, at);
  at = buf.writeInt32BE(vectors.length, at);
  at = buf.writeInt32BE(1, at);
  for (const v of vectors) {
    if (!v) {
      at = buf.writeInt32BE(-1, at);
      continue;
    }
    at = buf.writeInt32BE(4 + 4 * v.length, at);
    at = buf.writeInt16BE(v.length, at);
    at = buf.writeInt16BE(0, at);
    for (const x of v) at = buf.writeFloatBE(x, at);
  }
  return buf;
}
