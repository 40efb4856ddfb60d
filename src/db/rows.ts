/** The one row a statement always returns (an insert … returning, an upsert, an aggregate). */
import { DependencyError } from '../errors.js';

/** `rows[0]`, or a database error naming `statement` when there is none (never expected). */
export function onlyRow<T>(rows: readonly T[], statement: string): T {
  const row = rows[0];
  if (row === undefined) throw new DependencyError(`the database returned no row for ${statement}`, 'database_no_row');
  return row;
}
