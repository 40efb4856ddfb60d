/**
 * Candidate answers against the fake Discord with the real discord.js client, on both backends:
 * after a gap is escalated, a message from a member holding the channel's escalation role is kept
 * as the candidate answer (question, answer, member, channel, conversation, escalation; replied_at
 * set) and not answered — in a thread any such message, once per escalation; in a channel a reply
 * to the question (even after 30 minutes) or the next message within 30 minutes, not after; in a
 * `mention` channel without a mention too. Someone without the role is answered as usual.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NOT_IN_KB_MARKER } from '../../src/answer/prompt.js';
import { addChannels, listChannels } from '../../src/channels/service.js';
import { listCandidates } from '../../src/db/candidates.js';
import { snowflake } from '../fakes/discord.js';
import type { FakeMessage } from '../fakes/discord.js';
import { BACKENDS } from '../support/db.js';
import { startHarness } from './harness.js';
import type { Harness } from './harness.js';

const GAP_REPLY = `${NOT_IN_KB_MARKER} The knowledge base does not cover that.`;
const PLAIN_REPLY = 'Restart it from the settings page.';

for (const kind of BACKENDS) {
  describe(`candidate answers (${kind})`, () => {
    const PARENT = snowflake();
    const THREAD = snowflake();
    const NEXT = snowflake();
    const REPLY = snowflake();
    const LATE = snowflake();
    const MENTION = snowflake();
    let h: Harness;
    let role: string;
    let moderator: string;

    before(async () => {
      h = await startHarness({
        kind,
        discord: {
          channels: [
            { id: PARENT },
            { id: NEXT },
            { id: REPLY },
            { id: LATE },
            { id: MENTION },
            { id: THREAD, type: 11, name: 'a-thread', parent_id: PARENT },
          ],
        },
        allowed: {},
      });
      role = h.fake.addRole({ name: 'Moderators', mentionable: true }).id as string;
      moderator = h.fake.addUser({ name: 'mod' }).id;
      h.fake.setMemberRoles(moderator, [role]);
      await addChannels(h.db, [PARENT, NEXT, REPLY, LATE], 'all', 'test', { escalateRole: role });
      await addChannels(h.db, [MENTION], 'mention', 'test', { escalateRole: role });
      const channels = new Map((await listChannels(h.db)).map((c) => [c.id, { mode: c.mode, escalateRole: c.escalateRole }]));
      const bot = await h.makeBot({
        channels: { get: (id) => channels.get(id) ?? null, ids: () => [...channels.keys()] },
        escalation: { db: h.db, cooldownMs: 10 * 60_000 },
      });
      await bot.start();
    });
    after(async () => {
      await h?.close();
    });

    /** A question answered as a gap and escalated (pinged, or within the cool-down). */
    async function escalatedGap(channelId: string, question: string, mentionsBot = false): Promise<FakeMessage> {
      h.groq.setBehavior({ kind: 'ok', reply: GAP_REPLY });
      const q = await h.fake.userMessage({ channelId, content: question, authorId: h.newUser(), mentionsBot });
      assert.equal((await h.answered(q.id)).gap, true);
      await h.waitLog(
        (l) => l.msg === 'escalation' && l.conversationId === channelId && (l.outcome === 'pinged' || l.outcome === 'cooldown'),
      );
      return q;
    }

    const kept = (messageId: string) => h.waitLog((l) => l.msg === 'candidate answer kept' && l.messageId === messageId);

    /** A plain question from someone else, answered: everything queued before it in the channel was handled. */
    async function settle(channelId: string): Promise<void> {
      h.groq.setBehavior({ kind: 'ok', reply: PLAIN_REPLY });
      const q = await h.fake.userMessage({ channelId, content: 'how do I restart the agent?', authorId: h.newUser(), mentionsBot: true });
      await h.answered(q.id);
    }

    const wasAnswered = (messageId: string) => h.logs.some((l) => l.msg === 'answered' && l.messageId === messageId);

    test('in a thread: the role member’s message is kept, once per escalation, and not answered', async () => {
      await escalatedGap(THREAD, 'does the toaster firmware support bluetooth?');
      const m = await h.fake.userMessage({
        channelId: THREAD,
        content: 'Yes, from firmware 2.1 on: Settings → Radio.',
        authorId: moderator,
      });
      await kept(m.id);
      const [c, ...more] = (await listCandidates(h.db)).filter((x) => x.conversationId === THREAD);
      assert.equal(more.length, 0);
      assert.equal(c!.question, 'does the toaster firmware support bluetooth?');
      assert.equal(c!.answer, 'Yes, from firmware 2.1 on: Settings → Radio.');
      assert.equal(c!.memberId, moderator);
      assert.equal(c!.channelId, PARENT);
      assert.equal(c!.discordMessageId, m.id);
      assert.equal(c!.status, 'pending');
      const { rows } = await h.db.query<{ id: number; replied_at: Date | null }>(
        'select id, replied_at from escalations where conversation_id = $1',
        [THREAD],
      );
      assert.equal(rows.length, 1);
      assert.equal(Number(rows[0]!.id), c!.escalationId);
      assert.ok(rows[0]!.replied_at, 'replied_at set');

      // A second message of the role: no escalation waits any more → answered like anyone's.
      h.groq.setBehavior({ kind: 'ok', reply: PLAIN_REPLY });
      const second = await h.fake.userMessage({ channelId: THREAD, content: 'and how do I restart the agent?', authorId: moderator });
      await h.answered(second.id);
      assert.equal(wasAnswered(m.id), false, 'the kept answer got no reply');
      assert.equal((await listCandidates(h.db)).filter((x) => x.conversationId === THREAD).length, 1);
    });

    test('in a channel: someone without the role is answered; the role’s next message within 30 minutes is kept', async () => {
      const q = await escalatedGap(NEXT, 'what is the warranty on the moon rover?');
      h.groq.setBehavior({ kind: 'ok', reply: PLAIN_REPLY });
      const other = await h.fake.userMessage({ channelId: NEXT, content: 'I think it is two years', authorId: h.newUser() });
      await h.answered(other.id);
      assert.equal((await listCandidates(h.db)).filter((x) => x.conversationId === NEXT).length, 0, 'not a candidate: no role');
      const m = await h.fake.userMessage({ channelId: NEXT, content: 'Five years, parts and labour.', authorId: moderator });
      await kept(m.id);
      await settle(NEXT);
      assert.equal(wasAnswered(m.id), false);
      const [c] = (await listCandidates(h.db)).filter((x) => x.conversationId === NEXT);
      assert.equal(c!.question, q.content);
      assert.equal(c!.answer, 'Five years, parts and labour.');
    });

    test('in a channel: a reply to the question is kept even after 30 minutes', async () => {
      const q = await escalatedGap(REPLY, 'can the rover climb stairs?');
      await h.db.query("update escalations set created_at = created_at - interval '31 minutes' where conversation_id = $1", [REPLY]);
      const m = await h.fake.userMessage({
        channelId: REPLY,
        content: 'Only three steps at a time.',
        authorId: moderator,
        replyToMessageId: q.id,
      });
      await kept(m.id);
      await settle(REPLY);
      assert.equal(wasAnswered(m.id), false);
      const [c] = (await listCandidates(h.db)).filter((x) => x.conversationId === REPLY);
      assert.equal(c!.question, 'can the rover climb stairs?');
      assert.equal(c!.answer, 'Only three steps at a time.');
    });

    test('in a channel: the role’s message more than 30 minutes later is a question like any other', async () => {
      await escalatedGap(LATE, 'does the rover float?');
      await h.db.query("update escalations set created_at = created_at - interval '31 minutes' where conversation_id = $1", [LATE]);
      h.groq.setBehavior({ kind: 'ok', reply: PLAIN_REPLY });
      const m = await h.fake.userMessage({ channelId: LATE, content: 'how do I restart the agent?', authorId: moderator });
      await h.answered(m.id);
      assert.equal((await listCandidates(h.db)).filter((x) => x.conversationId === LATE).length, 0);
      const { rows } = await h.db.query<{ replied_at: Date | null }>('select replied_at from escalations where conversation_id = $1', [
        LATE,
      ]);
      assert.equal(rows[0]!.replied_at, null);
    });

    test('in a mention channel: the role’s message is kept without mentioning the bot', async () => {
      await escalatedGap(MENTION, 'is there a night mode for the rover?', true);
      const m = await h.fake.userMessage({ channelId: MENTION, content: 'Yes: hold the lamp button for 3 s.', authorId: moderator });
      await kept(m.id);
      const [c] = (await listCandidates(h.db)).filter((x) => x.conversationId === MENTION);
      assert.equal(c!.answer, 'Yes: hold the lamp button for 3 s.');
      assert.equal(c!.question, 'is there a night mode for the rover?');
    });
  });
}
