/**
 * Escalation against the fake Discord, on both backends: a gap in a channel with an escalation
 * role → one message in that conversation pinging only the role (allowed_mentions checked, and who
 * Discord notified); a second gap there within the cool-down → no ping; the same answer escalated
 * again (as a 👎 would) → no ping; a thread of the channel escalates in the thread; a channel
 * without a role → nothing. Counted in the metrics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NOT_IN_KB_MARKER } from '../../src/answer/prompt.js';
import { addChannels, listChannels } from '../../src/channels/service.js';
import type { Bot } from '../../src/bot/bot.js';
import { countEscalations } from '../../src/db/escalations.js';
import { createFeedback } from '../../src/feedback/service.js';
import type { Feedback } from '../../src/feedback/service.js';
import { snowflake } from '../fakes/discord.js';
import type { FakeMessage } from '../fakes/discord.js';
import { BACKENDS } from '../support/db.js';
import { startHarness } from './harness.js';
import type { Harness } from './harness.js';

const GAP_REPLY = `${NOT_IN_KB_MARKER} The knowledge base does not cover that.`;

for (const kind of BACKENDS) {
  describe(`escalation (${kind})`, () => {
    const ESCALATING = snowflake();
    const SECOND = snowflake();
    const PLAIN = snowflake();
    const THREAD = snowflake();
    const VOTED = snowflake();
    let h: Harness;
    let bot: Bot;
    let role: string;
    let feedback: Feedback;

    before(async () => {
      h = await startHarness({
        kind,
        discord: {
          channels: [
            { id: ESCALATING },
            { id: SECOND },
            { id: PLAIN },
            { id: VOTED },
            { id: THREAD, type: 11, name: 'a-thread', parent_id: SECOND },
          ],
        },
        allowed: { [PLAIN]: 'all' },
      });
      // Discord pings a role from a bot only when the role is mentionable (or the bot may mention everyone).
      role = h.fake.addRole({ name: 'Moderators', mentionable: true }).id as string;
      await addChannels(h.db, [ESCALATING, SECOND, VOTED], 'all', 'test', { escalateRole: role });
      feedback = createFeedback(h.db);
      const channels = new Map((await listChannels(h.db)).map((c) => [c.id, { mode: c.mode, escalateRole: c.escalateRole }]));
      bot = await h.makeBot({
        channels: { get: (id) => channels.get(id) ?? null, ids: () => [...channels.keys()] },
        escalation: { db: h.db, cooldownMs: 10 * 60_000 },
        feedback,
      });
      await bot.start();
      h.groq.setBehavior({ kind: 'ok', reply: GAP_REPLY });
    });
    after(async () => {
      await h?.close();
    });

    const escalations = (channelId: string): FakeMessage[] => h.botMessages(channelId).filter((m) => m.content.includes('needs a human'));

    /** A question answered as a gap (the escalation, if any, is logged before 'answered'). */
    async function gapIn(channelId: string, question: string): Promise<FakeMessage> {
      const q = await h.fake.userMessage({ channelId, content: question, authorId: h.newUser() });
      const line = await h.answered(q.id);
      assert.equal(line.gap, true, 'the answer is a gap');
      return q;
    }

    test('a gap pings the role once, and nobody else', async () => {
      await gapIn(ESCALATING, 'what does error E-9999 mean on the moon base?');
      await h.waitLog((l) => l.msg === 'escalation' && l.conversationId === ESCALATING && l.outcome === 'pinged');
      const pings = escalations(ESCALATING);
      assert.equal(pings.length, 1);
      assert.equal(pings[0]!.content, `<@&${role}> — this question needs a human.`);
      assert.deepEqual(pings[0]!.allowedMentions, { parse: [], roles: [role] });
      assert.deepEqual(h.fake.pinged(pings[0]!), { users: [], roles: [role], everyone: false, repliedUser: null });
      assert.equal(h.metrics.snapshot().counters.escalations, 1);
      assert.equal(await countEscalations(h.db), 1);
    });

    test('a second gap in the conversation within the cool-down pings no one', async () => {
      await gapIn(ESCALATING, 'and what about error E-8888 on mars?');
      await h.waitLog((l) => l.msg === 'escalation' && l.conversationId === ESCALATING && l.outcome === 'cooldown');
      assert.equal(escalations(ESCALATING).length, 1);
      assert.equal(h.metrics.snapshot().counters.escalations, 1);
    });

    test('the same answer escalated again (a 👎 after the gap) pings no one; a thread escalates in the thread', async () => {
      const q = await gapIn(THREAD, 'is there a plugin for the toaster firmware?');
      await h.waitLog((l) => l.msg === 'escalation' && l.conversationId === THREAD && l.outcome === 'pinged');
      assert.equal(escalations(THREAD).length, 1);
      assert.equal(escalations(SECOND).length, 0, 'posted in the thread, not its parent');
      const line = h.logs.find((l) => l.msg === 'escalation' && l.conversationId === THREAD)!;
      const again = await bot.escalate({
        conversationId: THREAD,
        channelId: SECOND,
        inThread: true,
        answerId: line.answerId as number,
        question: 'is there a plugin for the toaster firmware?',
        questionDiscordId: q.id,
        reason: 'downvote',
      });
      assert.equal(again, 'already');
      assert.equal(escalations(THREAD).length, 1);
      assert.equal(h.metrics.snapshot().counters.escalations, 2);
    });

    test('a channel without an escalation role: a gap, and no ping', async () => {
      await gapIn(PLAIN, 'what colour is the ceo’s car?');
      assert.equal(escalations(PLAIN).length, 0);
      assert.equal(
        h.logs.some((l) => l.msg === 'escalation' && l.conversationId === PLAIN),
        false,
      );
    });
    test('a 👎 from the asker escalates an answer once; a 👎 from someone else, or a 👍, does not', async () => {
      h.groq.setBehavior({ kind: 'ok', reply: 'Restart it from the settings page.' });
      try {
        const asker = h.newUser();
        const q = await h.fake.userMessage({ channelId: VOTED, content: 'how do I restart the agent?', authorId: asker });
        const line = await h.answered(q.id);
        assert.notEqual(line.gap, true, 'not a gap: nothing escalated yet');
        const { rows } = await h.db.query<{ id: number }>(
          "select id from messages where conversation_id = $1 and role = 'assistant' order by id desc limit 1",
          [VOTED],
        );
        const answerId = Number(rows[0]!.id);
        await feedback.vote(answerId, h.newUser(), -1);
        await feedback.vote(answerId, asker, 1);
        assert.equal(escalations(VOTED).length, 0, 'a 👎 from someone else and a 👍 ping no one');
        await feedback.vote(answerId, asker, -1);
        await h.waitLog((l) => l.msg === 'escalation' && l.conversationId === VOTED && l.outcome === 'pinged');
        const pings = escalations(VOTED);
        assert.equal(pings.length, 1);
        assert.deepEqual(pings[0]!.allowedMentions, { parse: [], roles: [role] });
        await feedback.vote(answerId, asker, 1);
        await feedback.vote(answerId, asker, -1);
        await h.waitLog((l) => l.msg === 'escalation' && l.conversationId === VOTED && l.outcome === 'already');
        assert.equal(escalations(VOTED).length, 1, 'a second 👎 on the same answer pings no one');
      } finally {
        h.groq.setBehavior({ kind: 'ok', reply: GAP_REPLY });
      }
    });
  });
}
