/**
 * How values come back from the database, the same on both backends: int8 (bigint: ids, counts)
 * as a number, set once for `pg` in postgres.ts and for PGlite in embedded.ts. Timestamps come
 * back as Dates, jsonb parsed, int4 and float8 as numbers on both already.
 */

/** The type oid of int8. */
export const INT8_OID = 20;

/** int8 as a number. Ids and counts stay far below 2^53; a value beyond it is refused rather than rounded. */
export function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`the database returned ${text}, beyond the integers a number holds exactly`);
  return n;
}
