/** Thread names cut at a word, which Discord errors count as a refused thread, and the fallback to the channel. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isThreadRefusal, threadName, withChannelFallback } from '../../src/bot/threads.js';
import type { ReplyTarget } from '../../src/bot/reply.js';

test('threadName: one line, at most 100 characters, cut at a word with an ellipsis', () => {
  assert.equal(threadName('  how do I\nexport?  '), 'how do I export?');
  assert.equal(threadName(''), 'Question');
  const long = `${'word '.repeat(30)}end`;
  const name = threadName(long);
  assert.ok([...name].length <= 100);
  assert.match(name, /^(word )+word…$/);
  assert.equal(threadName('x'.repeat(150)).length, 100, 'a single long word is cut at the limit');
  assert.equal(threadName('a'.repeat(100)), 'a'.repeat(100), 'exactly 100 is kept whole');
});

test('isThreadRefusal: 403s, missing access or permissions, archived or locked threads', () => {
  assert.equal(isThreadRefusal({ status: 403, code: 50013 }), true);
  assert.equal(isThreadRefusal({ status: 400, code: 50083 }), true);
  assert.equal(isThreadRefusal({ status: 400, code: 160005 }), true);
  assert.equal(isThreadRefusal({ status: 500, code: 0 }), false);
  assert.equal(isThreadRefusal({ status: 400, code: 50035 }), false);
  assert.equal(isThreadRefusal(new Error('socket hang up')), false);
});

interface Posted {
  id: string;
  where: string;
}

function target(where: string, log: string[], fail?: unknown): ReplyTarget<Posted> {
  let n = 0;
  return {
    async reply(content) {
      if (fail) throw fail;
      log.push(`${where} reply ${content}`);
      return { id: `${where}${++n}`, where };
    },
    async send(content) {
      if (fail) throw fail;
      log.push(`${where} send ${content}`);
      return { id: `${where}${++n}`, where };
    },
    async edit(m, content) {
      log.push(`${where} edit ${m.id} ${content}`);
    },
    async remove(m) {
      log.push(`${where} remove ${m.id}`);
    },
  };
}

test('withChannelFallback: a refused thread sends the answer to the channel, as a reply, and its edits follow', async () => {
  const log: string[] = [];
  const refusals: unknown[] = [];
  const t = withChannelFallback(
    target('thread', log, { status: 403, code: 50013 }),
    () => target('channel', log),
    (e) => refusals.push(e),
  );
  const m = await t.reply('hello');
  await t.edit(m, 'hello there');
  const f = await t.send('part two');
  await t.remove(f);
  assert.deepEqual(log, ['channel reply hello', 'channel edit channel1 hello there', 'channel send part two', 'channel remove channel2']);
  assert.equal(refusals.length, 1);
  assert.equal(t.fellBack(), true);
});

test('withChannelFallback: other errors are not a refusal and go up; a working thread keeps everything', async () => {
  const log: string[] = [];
  const broken = withChannelFallback(
    target('thread', log, Object.assign(new Error('boom'), { status: 500 })),
    () => target('channel', log),
    () => {},
  );
  await assert.rejects(broken.reply('x'), /boom/);
  assert.deepEqual(log, []);
  const ok = withChannelFallback(
    target('thread', log),
    () => target('channel', log),
    () => assert.fail('no fallback'),
  );
  const m = await ok.reply('a');
  await ok.edit(m, 'b');
  assert.deepEqual(log, ['thread reply a', 'thread edit thread1 b']);
  assert.equal(ok.fellBack(), false);
});
