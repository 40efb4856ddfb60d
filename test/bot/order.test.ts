/** SerialByKey: one task at a time per key, in order; a reservation holds its place. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerialByKey } from '../../src/bot/order.js';

const tick = () => new Promise((r) => setImmediate(r));

test('tasks of a key run one after another in the order asked for; a failure does not stop the next', async () => {
  const order = new SerialByKey();
  const log: string[] = [];
  let release!: () => void;
  const first = order.run('a', async () => {
    log.push('a1 start');
    await new Promise<void>((r) => (release = r));
    log.push('a1 end');
    throw new Error('a1 failed');
  });
  const second = order.run('a', async () => {
    log.push('a2');
    return 2;
  });
  const other = order.run('b', async () => log.push('b1'));
  await tick();
  assert.deepEqual(log, ['a1 start', 'b1']);
  release();
  await assert.rejects(first, /a1 failed/);
  assert.equal(await second, 2);
  await other;
  assert.deepEqual(log, ['a1 start', 'b1', 'a1 end', 'a2']);
  await tick();
  assert.equal(order.size, 0, 'nothing kept once settled');
});

test('a reservation holds its place: later tasks wait until it is filled and its work is done', async () => {
  const order = new SerialByKey();
  const log: string[] = [];
  void order.run('a', async () => log.push('before'));
  const fill = order.reserve('a');
  const after = order.run('a', async () => log.push('after'));
  await tick();
  await tick();
  assert.deepEqual(log, ['before']);
  fill(async () => {
    log.push('reserved 1');
    await tick();
    log.push('reserved 2');
  });
  fill(async () => void log.push('ignored'));
  await after;
  assert.deepEqual(log, ['before', 'reserved 1', 'reserved 2', 'after']);
});

test('a reservation filled with failing work still lets the next task run', async () => {
  const order = new SerialByKey();
  const fill = order.reserve('a');
  const next = order.run('a', async () => 'ran');
  fill(async () => {
    throw new Error('boom');
  });
  assert.equal(await next, 'ran');
});
