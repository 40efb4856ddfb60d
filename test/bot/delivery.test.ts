/**
 * Nothing lost, on both backends: messages are stored as they are accepted, what arrives while
 * there is no gateway session is caught up after the new one (also in threads), a message is
 * never answered twice when catching up races the live event, a reply Discord refuses is stored
 * as undelivered, and a NUL character in a message does not lose it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { showConversation } from '../../src/convo/service.js';
import { recentMessages } from '../../src/db/conversations.js';
import type { FakeMessage } from '../fakes/discord.js';
import { replyFromLastUser } from '../fakes/groq.js';
import { BACKENDS } from '../support/db.js';
import { sleep, startHarness, until } from './harness.js';
import type { Harness } from './harness.js';

const QUEUED = '1100000000000000401';
const REFUSED = '1100000000000000402';
const NUL = '1100000000000000403';
const GAP = '1100000000000000404';
const THREAD = '1100000000000000405';
const RACE = '1100000000000000406';
const ORDER = '1100000000000000407';

for (const kind of BACKENDS) {
  describe(`nothing lost (${kind})`, () => {
    let h: Harness;

    /** The bot's replies to a user message (POSTs carrying its message_reference). */
    const repliesTo = (m: FakeMessage) => [...h.fake.messages.values()].filter((x) => x.fromBot && x.messageReference?.message_id === m.id);
    const ask = (channelId: string, content: string) => h.fake.userMessage({ channelId, content, authorId: h.newUser() });

    before(async () => {
      h = await startHarness({
        kind,
        knowledge: false,
        discord: {
          channels: [
            { id: QUEUED, name: 'queued' },
            { id: REFUSED, name: 'refused' },
            { id: NUL, name: 'nul' },
            { id: GAP, name: 'gap' },
            { id: THREAD, type: 11, name: 'a-thread', parent_id: GAP },
            { id: RACE, name: 'race' },
            { id: ORDER, name: 'order' },
          ],
        },
        allowed: { [QUEUED]: 'all', [REFUSED]: 'all', [NUL]: 'all', [GAP]: 'all', [RACE]: 'all', [ORDER]: 'all' },
      });
      await h.bot.start();
    });
    after(async () => {
      await h?.close();
    });

    test('messages queued behind a streaming answer are stored at once, as unanswered, then answered in order', async () => {
      h.groq.setBehavior({
        kind: 'ok',
        reply: replyFromLastUser((q) => `Answer to ${q}: ${'word '.repeat(30)}`),
        chunkSize: 8,
        delayMs: 40,
      });
      const first = await ask(QUEUED, 'first');
      await h.fake.waitFor((c) => c.method === 'POST' && c.body?.message_reference?.message_id === first.id);
      const queued = [await ask(QUEUED, 'second'), await ask(QUEUED, 'third'), await ask(QUEUED, 'fourth')];
      // Stored while the first answer still streams.
      let stored = await recentMessages(h.db, QUEUED, 10);
      for (let i = 0; i < 100 && stored.length < 4; i++) {
        await sleep(20);
        stored = await recentMessages(h.db, QUEUED, 10);
      }
      assert.deepEqual(
        stored.map((m) => [m.role, m.content, m.discordMessageId, m.status]),
        [first, ...queued].map((q) => ['user', q.content, q.id, 'unanswered']),
      );
      assert.equal(repliesTo(queued[0]!).length, 0, 'not answered yet');
      for (const q of queued) await h.answered(q.id, 20_000);
      const final = await recentMessages(h.db, QUEUED, 10);
      assert.deepEqual(
        final.map((m) => [m.role, m.status]),
        Array.from({ length: 4 }, () => [
          ['user', 'complete'],
          ['assistant', 'complete'],
        ]).flat(),
      );
      assert.deepEqual(
        final.filter((m) => m.role === 'user').map((m) => m.content),
        ['first', 'second', 'third', 'fourth'],
      );
      assert.match(final[7]!.content, /^Answer to fourth:/);
      const at = queued.map((q) => repliesTo(q)[0]!.at);
      assert.ok(at[0]! < at[1]! && at[1]! < at[2]!, 'answered in order');
    });

    test('a reply Discord refuses (403, then 404) is stored as undelivered', async () => {
      h.groq.setBehavior({ kind: 'ok', reply: 'You cannot see this.' });
      for (const spec of [
        { status: 403 as const, code: 50013 },
        { status: 404 as const, code: 10003 },
      ]) {
        h.fake.failNext((m, p) => m === 'POST' && p === `/channels/${REFUSED}/messages`, spec);
        const q = await ask(REFUSED, `refused with ${spec.status}`);
        const line = await h.answered(q.id);
        assert.equal(line.delivered, false);
        assert.equal(repliesTo(q).length, 0);
      }
      const shown = await showConversation(h.db, REFUSED);
      assert.deepEqual(
        shown.map((m) => [m.role, m.status]),
        [
          ['user', 'complete'],
          ['assistant', 'undelivered'],
          ['user', 'complete'],
          ['assistant', 'undelivered'],
        ],
      );
      assert.ok(h.logs.some((l) => l.msg === 'could not post the reply' && l.channelId === REFUSED));
    });

    test('a message with a NUL character is answered and stored without it', async () => {
      h.groq.setBehavior({ kind: 'ok', reply: replyFromLastUser((q) => `You asked: ${q}`) });
      const q = await ask(NUL, 'what is\u0000 a null byte?');
      await h.answered(q.id);
      const [reply] = repliesTo(q);
      assert.match(reply!.content, /^You asked: what is\u0000? a null byte\?/);
      assert.doesNotMatch(reply!.content, /something went wrong/i);
      const stored = await recentMessages(h.db, NUL, 5);
      assert.deepEqual(
        stored.map((m) => [m.role, m.status]),
        [
          ['user', 'complete'],
          ['assistant', 'complete'],
        ],
      );
      assert.equal(stored[0]!.content, 'what is a null byte?');
      assert.ok(!stored[1]!.content.includes('\u0000'), 'the reply is stored without it too');
    });

    test('messages sent while the session is re-created (close 4009, op 9) are answered after the new session, in the channel and its thread', async () => {
      h.groq.setBehavior({ kind: 'ok', reply: replyFromLastUser((q) => `Re: ${q}`) });
      // The thread has a recent stored message, so catching up covers it.
      const inThread = await ask(THREAD, 'a thread question');
      await h.answered(inThread.id);
      for (const drop of [() => h.fake.closeGateway(4009), () => h.fake.invalidateSession(false)]) {
        const identifies = h.fake.sessions.identifies;
        drop();
        // No session exists now: Discord delivers these to nobody.
        const missed = [await ask(GAP, 'missed one'), await ask(GAP, 'missed two'), await ask(THREAD, 'missed in the thread')];
        await until(() => h.fake.sessions.identifies > identifies, 15_000, 'a new session');
        for (const m of missed) await h.answered(m.id, 15_000);
        for (const m of missed) assert.equal(repliesTo(m).length, 1, `one reply to "${m.content}"`);
        assert.ok(repliesTo(missed[0]!)[0]!.at < repliesTo(missed[1]!)[0]!.at, 'in order');
      }
      const channel = await recentMessages(h.db, GAP, 10);
      assert.deepEqual(
        channel.filter((m) => m.role === 'user').map((m) => m.content),
        ['missed one', 'missed two', 'missed one', 'missed two'],
      );
      assert.ok(channel.every((m) => m.status === 'complete'));
      const thread = await recentMessages(h.db, THREAD, 10);
      assert.deepEqual(
        thread.filter((m) => m.role === 'user').map((m) => m.content),
        ['a thread question', 'missed in the thread', 'missed in the thread'],
      );
      assert.equal(h.bot.state(), 'ready');
    });

    test('catching up never stores a message it read ahead of an older one that arrived live', async () => {
      h.groq.setBehavior({ kind: 'ok', reply: replyFromLastUser((q) => `Re: ${q}`) });
      const first = await ask(ORDER, 'before the new session');
      await h.answered(first.id, 20_000);
      // The new session's catch-up read of the channel is slow; meanwhile one message arrives live
      // (it waits behind the catch-up) and a newer one is in the channel before its event arrives.
      const caughtUp = () => h.logs.filter((l) => l.msg === 'caught up' && l.channelId === ORDER).length;
      const caughtBefore = caughtUp();
      const read = h.fake.delayNext((method, path) => method === 'GET' && path === `/channels/${ORDER}/messages`, 4000);
      const identifies = h.fake.sessions.identifies;
      h.fake.invalidateSession(false);
      await until(() => h.fake.sessions.identifies > identifies, 30_000, 'a new session');
      await read;
      const live = await ask(ORDER, 'older, arrived live');
      await sleep(500); // its event is handled (the catch-up read is held for 4 s)
      h.fake.holdGateway();
      const newer = await ask(ORDER, 'newer, its event delayed');
      await until(() => caughtUp() > caughtBefore, 15_000, 'the catch-up read');
      await sleep(300);
      h.fake.releaseGateway();
      for (const m of [live, newer]) await h.answered(m.id, 20_000);
      await sleep(300);
      const stored = await recentMessages(h.db, ORDER, 20);
      assert.deepEqual(
        stored.filter((m) => m.role === 'user').map((m) => m.content),
        [first, live, newer].map((m) => m.content),
        'stored in the order sent',
      );
      for (const m of [live, newer]) assert.equal(repliesTo(m).length, 1, `one reply to "${m.content}"`);
      assert.ok(repliesTo(live)[0]!.at < repliesTo(newer)[0]!.at, 'answered in the order sent');
    });

    test('catching up racing the live events: every message answered exactly once, in order', async () => {
      h.groq.setBehavior({ kind: 'ok', reply: replyFromLastUser((q) => `Re: ${q}`) });
      const sent: FakeMessage[] = [];
      let n = 0;
      const send = async () => sent.push(await ask(RACE, `race ${n++}`));
      // Twice: the session is dropped, messages sent meanwhile are missed by the gateway, and a
      // burst is sent the moment the new session identifies — those arrive live while catching
      // up reads the channel, and its read may return them too.
      for (let round = 0; round < 2; round++) {
        await send();
        const identifies = h.fake.sessions.identifies;
        h.fake.invalidateSession(false);
        for (let i = 0; i < 3; i++) await send();
        await until(() => h.fake.sessions.identifies > identifies, 30_000, 'a new session');
        for (let i = 0; i < 5; i++) await send();
        await until(() => h.fake.liveSessions() === 1, 10_000, 'the session is live');
      }
      for (const m of sent) await h.answered(m.id, 20_000);
      await sleep(500);
      for (const m of sent) assert.equal(repliesTo(m).length, 1, `one reply to "${m.content}"`);
      const stored = await recentMessages(h.db, RACE, 100);
      assert.deepEqual(
        stored.filter((m) => m.role === 'user').map((m) => m.content),
        sent.map((m) => m.content),
        'each stored once, in order',
      );
      assert.ok(stored.every((m) => m.status === 'complete'));
      const replyAt = sent.map((m) => repliesTo(m)[0]!.at);
      assert.deepEqual(
        [...replyAt].sort((a, b) => a - b),
        replyAt,
        'answered in the order sent',
      );
    });
  });
}
