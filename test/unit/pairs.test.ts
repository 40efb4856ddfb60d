/** adjacentPairs: each element with the next one. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adjacentPairs } from '../../src/util/pairs.js';

test('adjacentPairs gives each element with the next, in order, and nothing for fewer than two', () => {
  assert.deepEqual(adjacentPairs([1, 2, 3, 4]), [
    [1, 2],
    [2, 3],
    [3, 4],
  ]);
  assert.deepEqual(adjacentPairs(['a', 'b']), [['a', 'b']]);
  assert.deepEqual(adjacentPairs([7]), []);
  assert.deepEqual(adjacentPairs([]), []);
  assert.deepEqual(adjacentPairs([undefined, 0]), [[undefined, 0]], 'undefined elements are elements too');
});
