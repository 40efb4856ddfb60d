/** The serve lock's key: the bot, whatever its current token, and room for per-shard locks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALL_SHARDS, serveLockKey } from '../../src/db/serve-lock.js';

const id = (snowflake: string) => Buffer.from(snowflake).toString('base64').replace(/=+$/, '');

test('two tokens of the same bot share a key; another bot has another key', () => {
  const a = serveLockKey(`${id('1234567890123456789')}.GhIjKl.first-secret`);
  const b = serveLockKey(`${id('1234567890123456789')}.XyZaBc.reset-secret`);
  const other = serveLockKey(`${id('1234567890123456780')}.GhIjKl.first-secret`);
  assert.deepEqual(a, b);
  assert.notEqual(a.bot, other.bot);
  assert.equal(a.shard, ALL_SHARDS);
  assert.ok(Number.isInteger(a.bot) && a.bot >= -(2 ** 31) && a.bot < 2 ** 31, 'an int4');
});

test('a token that does not carry a bot id is keyed on a hash of the whole token, never the token itself', () => {
  const a = serveLockKey('not-a-discord-token');
  const b = serveLockKey('another-token');
  assert.notEqual(a.bot, b.bot);
  assert.deepEqual(serveLockKey('not-a-discord-token'), a);
  assert.ok(!JSON.stringify(a).includes('token'));
});

test('a shard gets its own key under the same bot', () => {
  const token = `${id('1234567890123456789')}.GhIjKl.x`;
  assert.deepEqual(serveLockKey(token, 3), { bot: serveLockKey(token).bot, shard: 3 });
});
