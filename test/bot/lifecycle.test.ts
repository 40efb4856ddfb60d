/**
 * The bot's lifecycle on Postgres: a graceful stop that lets an answer finish, a stop during a
 * slow stream that interrupts it with a final "(interrupted)" edit, an invalid token at start,
 * and the gateway closing with 4004 after start (fatal).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DependencyError } from '../../src/errors.js';
import { recentMessages } from '../../src/db/conversations.js';
import { startFakeDiscord } from '../fakes/discord.js';
import { startHarness, until } from './harness.js';
import type { Harness } from './harness.js';

const GENERAL = '1100000000000000201';
const SECOND = '1100000000000000202';
const LONG_ANSWER = Array.from({ length: 40 }, (_, i) => `Sentence ${i + 1} of a long answer about export profiles [1].`).join(' ');

describe('bot lifecycle on postgres', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness({
      kind: 'postgres',
      discord: {
        channels: [
          { id: GENERAL, name: 'general' },
          { id: SECOND, name: 'second' },
        ],
      },
      allowed: { [GENERAL]: 'all', [SECOND]: 'all' },
    });
  });
  after(async () => {
    await h?.close();
  });

  test('an invalid token: start() rejects with a clear DependencyError, quickly, and the bot is disconnected', async () => {
    const bot = await h.makeBot({ token: 'not-the-token' });
    const t0 = performance.now();
    await assert.rejects(bot.start(), (err: unknown) => {
      assert.ok(err instanceof DependencyError);
      assert.equal(err.code, 'discord_token_invalid');
      assert.match(err.message, /Discord rejected the bot token.*DISCORD_TOKEN/);
      assert.ok(!err.message.includes('not-the-token'), 'the token is never in the message');
      return true;
    });
    assert.ok(performance.now() - t0 < 5000);
    assert.equal(bot.state(), 'disconnected');
  });

  test('stop() with enough grace lets the answer in flight finish, then disconnects', async () => {
    const bot = await h.makeBot();
    await bot.start();
    h.groq.setBehavior({ kind: 'ok', reply: 'Profiles are listed under File > Profiles [1].', chunkSize: 8, delayMs: 40 });
    const q = await h.fake.userMessage({ channelId: SECOND, content: 'where are the profiles?', authorId: h.newUser() });
    await h.fake.waitFor((c) => c.method === 'POST' && c.body?.message_reference?.message_id === q.id);
    const t0 = performance.now();
    await bot.stop(8000);
    const took = performance.now() - t0;
    assert.equal(bot.state(), 'disconnected');
    const stored = (await recentMessages(h.db, SECOND, 2)).at(-1)!;
    assert.equal(stored.status, 'complete');
    const reply = [...h.fake.messages.values()].find((m) => m.fromBot && m.messageReference?.message_id === q.id)!;
    assert.equal(reply.content, stored.content);
    assert.ok(!reply.content.includes('interrupted'));
    assert.ok(took < 3000, `stop took ${took.toFixed(0)} ms`);
    // Nothing is answered after stop.
    const late = await h.fake.userMessage({ channelId: SECOND, content: 'anyone there?', authorId: h.newUser() });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(
      [...h.fake.messages.values()].find((m) => m.fromBot && m.messageReference?.message_id === late.id),
      undefined,
    );
    // Not left behind for the next test's bot to catch up on.
    h.fake.messages.get(late.id)!.deleted = true;
  });

  test('stop() during a slow stream: past the grace period the answer ends with a final "(interrupted)" edit; queued messages stay stored, unanswered', async () => {
    const bot = await h.makeBot();
    await bot.start();
    h.groq.setBehavior({ kind: 'ok', reply: LONG_ANSWER, chunkSize: 8, delayMs: 100 });
    const user = h.newUser();
    const q = await h.fake.userMessage({ channelId: GENERAL, content: 'tell me everything about export profiles', authorId: user });
    const queued = await h.fake.userMessage({ channelId: GENERAL, content: 'and then about destinations', authorId: user });
    const post = await h.fake.waitFor((c) => c.method === 'POST' && c.body?.message_reference?.message_id === q.id && c.status === 200);
    const replyId = [...h.fake.messages.values()].find((m) => m.fromBot && m.messageReference?.message_id === q.id)!.id;
    await h.fake.waitFor((c) => c.method === 'PATCH' && c.path.endsWith(`/messages/${replyId}`), 5000);
    const t0 = performance.now();
    await bot.stop(1000);
    const took = performance.now() - t0;
    assert.ok(took >= 1000 && took < 1000 + 3000, `stop took ${took.toFixed(0)} ms`);
    assert.equal(bot.state(), 'disconnected');

    const reply = h.fake.messages.get(replyId)!;
    assert.match(reply.content, /\(interrupted\)/);
    assert.ok(reply.content.length < LONG_ANSWER.length, 'cut short');
    assert.ok(LONG_ANSWER.startsWith(reply.content.split(' … ')[0]!.trim()), 'what was streamed, then the mark');
    const lastEdit = reply.edits.at(-1)!;
    assert.ok(lastEdit.at > post.at);
    const stored = await recentMessages(h.db, GENERAL, 10);
    assert.deepEqual(
      stored.map((m) => [m.role, m.status, m.discordMessageId]),
      [
        ['user', 'complete', q.id],
        ['assistant', 'interrupted', null],
        ['user', 'unanswered', queued.id],
      ],
    );
    assert.equal(
      [...h.fake.messages.values()].find((m) => m.fromBot && m.messageReference?.message_id === queued.id),
      undefined,
    );
    assert.ok(
      h.logs.some(
        (l) => l.msg === 'not answered before shutdown: left unanswered for the next start to catch up' && l.messageId === queued.id,
      ),
    );
    assert.ok(h.logs.some((l) => l.msg === 'grace period over: interrupting answers' && l.interrupted === 1 && l.dropped === 1));
  });

  test('the gateway closing with 4004 after start → onFatal with a clear error; state disconnected', async () => {
    const fake = await startFakeDiscord();
    try {
      const bot = await h.makeBot({ token: fake.token, apiUrl: fake.apiUrl });
      const fatal: Error[] = [];
      bot.onFatal((err) => fatal.push(err));
      await bot.start();
      assert.equal(bot.state(), 'ready');
      fake.closeGateway(4004, 'Authentication failed.');
      await until(() => fatal.length > 0, 5000, 'onFatal');
      assert.ok(fatal[0] instanceof DependencyError);
      assert.equal(fatal[0].code, 'discord_token_invalid');
      assert.match(fatal[0].message, /4004/);
      assert.equal(bot.state(), 'disconnected');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(fatal.length, 1, 'reported once');
      await bot.stop(0);
    } finally {
      await fake.close();
    }
  });
});
