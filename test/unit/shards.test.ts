/** Shard lists and counts: parsing, the checks between them, and who registers slash commands. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../src/errors.js';
import {
  assertShardsFitDatabase,
  clientShardOptions,
  holdsShardZero,
  parseShardCount,
  parseShardList,
  shardPlan,
} from '../../src/serve/shards.js';

test('a list of ids and ranges, sorted; duplicates, backwards ranges and junk are refused', () => {
  assert.deepEqual(parseShardList('0,2'), [0, 2]);
  assert.deepEqual(parseShardList('4, 0-2'), [0, 1, 2, 4]);
  assert.match(String(parseShardList('0-2,1')), /shard 1 is listed twice/);
  assert.match(String(parseShardList('3-1')), /runs backwards/);
  for (const bad of ['', 'a', '-1', '1.5', '0,,1', '0-']) assert.equal(typeof parseShardList(bad), 'string', bad);
});

test('a count is auto or a whole number from 1', () => {
  assert.equal(parseShardCount('auto'), 'auto');
  assert.equal(parseShardCount(' 4 '), 4);
  for (const bad of ['0', '-1', '2.5', 'many', '']) assert.equal(typeof parseShardCount(bad), 'object', bad);
});

test('the plan: a list needs a count, ids must lie in 0..N-1; without options every shard, auto', () => {
  assert.deepEqual(shardPlan(null, null), { ids: null, count: 'auto' });
  assert.deepEqual(shardPlan('1', '2'), { ids: [1], count: 2 });
  assert.deepEqual(shardPlan('0-1', 'auto'), { ids: [0, 1], count: 'auto' });
  assert.throws(
    () => shardPlan('0', null),
    (e: unknown) => e instanceof UserError && /--shards needs --shard-count/.test(e.message),
  );
  assert.throws(
    () => shardPlan('0,3', '3'),
    (e: unknown) => e instanceof UserError && /shard 3 is outside 0\.\.2/.test(e.message),
  );
  assert.throws(() => shardPlan(null, '0'), UserError);
});

test('shard 0 registers the slash commands: every shard, or a list with 0', () => {
  assert.equal(holdsShardZero(shardPlan(null, null)), true);
  assert.equal(holdsShardZero(shardPlan('0,2', '4')), true);
  assert.equal(holdsShardZero(shardPlan('1-3', '4')), false);
});

test('the embedded database refuses a partial list, naming DATABASE_URL; discord.js gets ids and count', () => {
  assert.throws(() => assertShardsFitDatabase(shardPlan('0', '2'), 2, true), /DATABASE_URL/);
  assertShardsFitDatabase(shardPlan('0-1', '2'), 2, true);
  assertShardsFitDatabase(shardPlan('0', '2'), 2, false);
  assert.deepEqual(clientShardOptions(shardPlan('1', '2'), 2), { shards: [1], shardCount: 2 });
  assert.deepEqual(clientShardOptions(shardPlan(null, '3'), 3), { shards: [0, 1, 2], shardCount: 3 });
  assert.deepEqual(clientShardOptions(shardPlan(null, null), null), { shards: 'auto' });
});
