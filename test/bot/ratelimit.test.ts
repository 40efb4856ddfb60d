/**
 * Tight route limits (3 requests per 5 s per channel and route; Discord's edit limit is about
 * 5 per 5 s): long streamed answers in one channel complete without a single 429, because edits
 * are spaced, one request per reply is in flight, and discord.js waits out an exhausted bucket
 * (from the X-RateLimit headers) before sending.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { recentMessages } from '../../src/db/conversations.js';
import { startHarness } from './harness.js';
import type { Harness } from './harness.js';

const CHANNEL = '1100000000000000501';

describe('bot under Discord-like rate limits (postgres)', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness({
      kind: 'postgres',
      discord: { channels: [{ id: CHANNEL }], rateLimit: { limit: 3, windowMs: 5000 } },
      allowed: { [CHANNEL]: 'all' },
    });
    await h.bot.start();
  });
  after(async () => {
    await h?.close();
  });

  test('two long streamed answers (several messages each) in one channel: no 429 at all, both complete', async () => {
    const paragraph = (n: number) =>
      `Paragraph ${n}: ${'the export designer keeps every profile setting in one place '.repeat(12).trim()}.`;
    const answer = Array.from({ length: 6 }, (_, i) => paragraph(i + 1)).join('\n\n') + ' [1]';
    assert.ok(answer.length > 4000);
    h.groq.setBehavior({ kind: 'ok', reply: answer, chunkSize: 60, delayMs: 40 });
    const user = h.newUser();
    const a = await h.fake.userMessage({ channelId: CHANNEL, content: 'describe the export designer', authorId: user });
    const b = await h.fake.userMessage({ channelId: CHANNEL, content: 'describe it once more', authorId: user });
    await h.answered(a.id, 60_000);
    await h.answered(b.id, 60_000);
    const calls = h.fake.calls.filter((c) => c.path.startsWith(`/channels/${CHANNEL}/`));
    assert.deepEqual(
      calls.filter((c) => c.status === 429).map((c) => `${c.method} ${c.path}`),
      [],
    );
    // The limit was reached: some writes had to wait for the bucket to reset.
    const patches = calls.filter((c) => c.method === 'PATCH');
    assert.ok(patches.length > 3, `${patches.length} PATCHes`);
    assert.ok(patches.at(-1)!.at - patches[0]!.at >= 5000, 'more than one 5 s window of edits');
    const stored = (await recentMessages(h.db, CHANNEL, 10)).filter((m) => m.role === 'assistant').map((m) => m.content);
    assert.equal(stored.length, 2);
    const shown = h.botMessages(CHANNEL).map((m) => m.content);
    const words = (s: string) => s.replace(/\s+/g, ' ').trim();
    // Each answer's messages, in order, read as the stored answer.
    const perAnswer = shown.length / 2;
    assert.ok(perAnswer >= 3, `${shown.length} messages`);
    assert.equal(words(shown.slice(0, perAnswer).join(' ')), words(stored[0]!));
    assert.equal(words(shown.slice(perAnswer).join(' ')), words(stored[1]!));
    for (const m of shown) assert.ok(m.length <= 2000);
  });
});
