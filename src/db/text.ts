/**
 * Text on its way into the database. PostgreSQL's text type cannot hold U+0000 (NUL): the db
 * modules pass every string they write through dbText, which drops it, so a stray NUL in a
 * Discord message, a model's reply or a document never makes a write fail.
 */

const NUL = /\u0000/g;

export function dbText(value: string): string;
export function dbText(value: string | null | undefined): string | null;
export function dbText(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return value.includes('\u0000') ? value.replace(NUL, '') : value;
}

/** True when the text holds a NUL (for input that is rejected rather than cleaned). */
export function hasNul(value: string): boolean {
  return value.includes('\u0000');
}
