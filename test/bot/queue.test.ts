/** The per-conversation queue: order within a conversation, concurrency across them, cancelling. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConversationQueue } from '../../src/bot/queue.js';

const tick = () => new Promise((r) => setImmediate(r));

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('one job at a time per conversation, in order; other conversations run alongside', async () => {
  const q = new ConversationQueue({ maxConcurrent: 4 });
  const log: string[] = [];
  const gates = new Map<string, ReturnType<typeof deferred>>();
  const job = (name: string) => {
    const d = deferred();
    gates.set(name, d);
    return {
      run: async () => {
        log.push(`start ${name}`);
        await d.promise;
        log.push(`end ${name}`);
      },
      cancel: () => log.push(`cancel ${name}`),
    };
  };
  q.push('a', job('a1'));
  q.push('a', job('a2'));
  q.push('b', job('b1'));
  await tick();
  assert.deepEqual(log, ['start a1', 'start b1']);
  assert.equal(q.running, 2);
  assert.equal(q.waiting, 1);
  gates.get('b1')!.resolve();
  await tick();
  assert.deepEqual(log.slice(2), ['end b1']);
  gates.get('a1')!.resolve();
  await tick();
  assert.deepEqual(log.slice(3), ['end a1', 'start a2']);
  gates.get('a2')!.resolve();
  await q.idle();
  assert.deepEqual(log.slice(5), ['end a2']);
});

test('the cap holds, and conversations get free slots in the order they became ready', async () => {
  const q = new ConversationQueue({ maxConcurrent: 2 });
  let running = 0;
  let peak = 0;
  const started: string[] = [];
  const job = (name: string) => ({
    run: async () => {
      started.push(name);
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
    },
    cancel: () => {},
  });
  for (const k of ['c1', 'c2', 'c3', 'c4', 'c5']) q.push(k, job(k));
  q.push('c1', job('c1b'));
  await q.idle();
  assert.equal(peak, 2);
  assert.deepEqual(started.slice(0, 5), ['c1', 'c2', 'c3', 'c4', 'c5']);
  assert.equal(started.at(-1), 'c1b');
});

test('a failing job is reported and does not stop the conversation', async () => {
  const errors: unknown[] = [];
  const q = new ConversationQueue({ maxConcurrent: 1, onError: (e) => errors.push(e) });
  const done: string[] = [];
  q.push('a', { run: async () => Promise.reject(new Error('boom')), cancel: () => {} });
  q.push('a', { run: async () => void done.push('second'), cancel: () => {} });
  await q.idle();
  assert.deepEqual(done, ['second']);
  assert.equal((errors[0] as Error).message, 'boom');
});

test('cancelPending drops what has not started and leaves running jobs alone', async () => {
  const q = new ConversationQueue({ maxConcurrent: 1 });
  const d = deferred();
  const log: string[] = [];
  q.push('a', {
    run: async () => {
      log.push('run a1');
      await d.promise;
    },
    cancel: () => log.push('cancel a1'),
  });
  q.push('a', { run: async () => void log.push('run a2'), cancel: () => log.push('cancel a2') });
  q.push('b', { run: async () => void log.push('run b1'), cancel: () => log.push('cancel b1') });
  await tick();
  assert.equal(q.cancelPending(), 2);
  d.resolve();
  await q.idle();
  assert.deepEqual(log, ['run a1', 'cancel a2', 'cancel b1']);
  assert.equal(q.waiting, 0);
});

test('pushFront puts jobs ahead of those waiting in a conversation, in the order given', async () => {
  const q = new ConversationQueue({ maxConcurrent: 2 });
  const log: string[] = [];
  const gate = deferred();
  const job = (name: string, wait?: Promise<void>) => ({
    run: async () => {
      log.push(name);
      await wait;
    },
    cancel: () => log.push(`cancel ${name}`),
  });
  // A running job that, like catching up, finds older messages while newer ones wait behind it.
  q.push('a', job('fetch', gate.promise));
  q.push('a', job('live'));
  await tick();
  q.pushFront('a', [job('old1'), job('old2')]);
  // Into an idle conversation, pushFront starts the jobs at once.
  q.pushFront('b', [job('b1'), job('b2')]);
  await tick();
  assert.deepEqual(log, ['fetch', 'b1', 'b2']);
  gate.resolve();
  await q.idle();
  assert.deepEqual(log, ['fetch', 'b1', 'b2', 'old1', 'old2', 'live']);
  q.pushFront('c', []);
  assert.equal(q.waiting, 0);
});
