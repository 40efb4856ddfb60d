/** StreamingReply against a recording target: post at once, throttled edits, one request in flight, parts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamingReply } from '../../src/bot/reply.js';
import type { ReplyTarget } from '../../src/bot/reply.js';

interface Op {
  op: 'reply' | 'send' | 'edit' | 'remove';
  id: number;
  content?: string;
  at: number;
}

function recorder(o: { editMs?: number; failEdit?: (id: number) => unknown; failPost?: unknown } = {}) {
  const ops: Op[] = [];
  let next = 1;
  let inFlight = 0;
  let maxInFlight = 0;
  const track = async <T>(fn: () => T, ms = 0): Promise<T> => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      if (ms) await new Promise((r) => setTimeout(r, ms));
      return fn();
    } finally {
      inFlight--;
    }
  };
  const target: ReplyTarget<{ id: number }> = {
    reply: (content) =>
      track(() => {
        if (o.failPost) throw o.failPost;
        const id = next++;
        ops.push({ op: 'reply', id, content, at: performance.now() });
        return { id };
      }),
    send: (content) =>
      track(() => {
        const id = next++;
        ops.push({ op: 'send', id, content, at: performance.now() });
        return { id };
      }),
    edit: (m, content) =>
      track(() => {
        const err = o.failEdit?.(m.id);
        if (err) throw err;
        ops.push({ op: 'edit', id: m.id, content, at: performance.now() });
      }, o.editMs),
    remove: (m) => track(() => void ops.push({ op: 'remove', id: m.id, at: performance.now() })),
  };
  return { target, ops, maxInFlight: () => maxInFlight };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the first text is posted at once; later text is coalesced into edits at most once per interval', async () => {
  const { target, ops } = recorder();
  const reply = new StreamingReply(target, { intervalMs: 150 });
  const t0 = performance.now();
  let text = '';
  for (let i = 0; i < 20; i++) {
    text += `word${i} `;
    reply.update(text);
    await sleep(20);
  }
  await reply.finish(`${text}\n\nSources: a.pdf p.1`);
  assert.equal(ops[0]!.op, 'reply');
  assert.equal(ops[0]!.content, 'word0 ');
  assert.ok(ops[0]!.at - t0 < 20, `posted after ${ops[0]!.at - t0} ms`);
  const edits = ops.filter((o) => o.op === 'edit');
  // ~400 ms of streaming at one edit per 150 ms, plus the final edit.
  assert.ok(edits.length >= 2 && edits.length <= 4, `${edits.length} edits`);
  for (let i = 1; i < ops.length; i++) assert.ok(ops[i]!.at - ops[i - 1]!.at >= 145, `spacing ${ops[i]!.at - ops[i - 1]!.at} ms`);
  assert.equal(edits.at(-1)!.content, `${text}\n\nSources: a.pdf p.1`);
  assert.equal(reply.shown, `${text}\n\nSources: a.pdf p.1`);
});

test('one request in flight: a slow edit (a 429 being waited out) holds back the next, with no pile-up', async () => {
  const { target, ops, maxInFlight } = recorder({ editMs: 300 });
  const reply = new StreamingReply(target, { intervalMs: 100 });
  reply.update('a');
  for (let i = 0; i < 30; i++) {
    await sleep(20);
    reply.update('a'.repeat(i + 2));
  }
  await reply.finish('done');
  assert.equal(maxInFlight(), 1);
  const edits = ops.filter((o) => o.op === 'edit');
  // 600 ms of updates, each edit taking 300 ms + 100 ms spacing: about 2 drafts, then the final.
  assert.ok(edits.length <= 4, `${edits.length} edits`);
  assert.equal(edits.at(-1)!.content, 'done');
});

test('past the limit: parts are posted in order, unchanged parts are not edited, extra parts are removed', async () => {
  const { target, ops } = recorder();
  const reply = new StreamingReply(target, { intervalMs: 50, limit: 100 });
  const para = (n: number) => `${'x'.repeat(60)} ${n}.`;
  reply.update(para(1));
  await sleep(5);
  reply.update(`${para(1)}\n\n${para(2)}\n\n${para(3)}`);
  await sleep(200);
  assert.deepEqual(
    ops.map((o) => [o.op, o.id]),
    [
      ['reply', 1],
      ['send', 2],
      ['send', 3],
    ],
  );
  // The final text is shorter than the draft: part 3 goes away, part 1 is left alone.
  const last = `${'y'.repeat(50)} end`;
  await reply.finish(`${para(1)}\n\n${last}`);
  assert.deepEqual(
    ops.slice(3).map((o) => [o.op, o.id, o.content]),
    [
      ['edit', 2, last],
      ['remove', 3, undefined],
    ],
  );
  for (const o of ops) assert.ok(!o.content || o.content.length <= 100);
});

test('a reply deleted by someone (10008) is left alone; a failed post rejects finish()', async () => {
  const gone = Object.assign(new Error('Unknown Message'), { code: 10008 });
  const errors: unknown[] = [];
  const { target, ops } = recorder({ failEdit: () => gone });
  const reply = new StreamingReply(target, { intervalMs: 10, onEditError: (e) => errors.push(e) });
  reply.update('first');
  await sleep(20);
  reply.update('second');
  await reply.finish('third');
  assert.deepEqual(
    ops.map((o) => o.op),
    ['reply'],
  );
  assert.equal(errors.length, 1, 'one failed edit, then no more attempts');

  const denied = Object.assign(new Error('Missing Permissions'), { code: 50013 });
  const failing = new StreamingReply(recorder({ failPost: denied }).target, { intervalMs: 10 });
  failing.update('text');
  await assert.rejects(failing.finish('text'), /Missing Permissions/);
});

test('urgent finish skips the throttle wait', async () => {
  const { target, ops } = recorder();
  const reply = new StreamingReply(target, { intervalMs: 5000 });
  reply.update('partial');
  await sleep(10);
  reply.update('partial and more');
  const t0 = performance.now();
  await reply.finish('partial … (interrupted)', { urgent: true });
  assert.ok(performance.now() - t0 < 100);
  assert.deepEqual(
    ops.map((o) => o.content),
    ['partial', 'partial … (interrupted)'],
  );
});

test('an answer complete before its first draft edit was due is shown at once, not after the interval', async () => {
  const { target, ops } = recorder();
  const reply = new StreamingReply(target, { intervalMs: 5000 });
  const t0 = performance.now();
  reply.update('The');
  reply.update('The answer is');
  await reply.finish('The answer is 42.\n\nSources: a.pdf p.1');
  assert.ok(performance.now() - t0 < 100, `${performance.now() - t0} ms`);
  assert.deepEqual(
    ops.map((o) => [o.op, o.content]),
    [
      ['reply', 'The'],
      ['edit', 'The answer is 42.\n\nSources: a.pdf p.1'],
    ],
  );
});
