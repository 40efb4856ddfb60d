/** onlyRow: the one row a statement always returns, or a named database error. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onlyRow } from '../../src/db/rows.js';
import { DependencyError } from '../../src/errors.js';

test('onlyRow returns the first row', () => {
  const rows = [{ id: 7 }, { id: 8 }];
  assert.equal(onlyRow(rows, 'insertDocument'), rows[0]);
});

test('onlyRow with no row is a database error naming the statement (exit 1), not a TypeError later', () => {
  assert.throws(
    () => onlyRow([], 'insertDocument'),
    (err: unknown) =>
      err instanceof DependencyError && err.exitCode === 1 && err.message === 'the database returned no row for insertDocument',
  );
});
