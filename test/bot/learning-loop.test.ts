/**
 * The learning loop end to end, on both backends: a gap in a thread of a channel with an
 * escalation role → one ping of that role only → a moderator's reply in the thread → a candidate
 * (`kb candidates`) → `kb candidates accept` → `kb search` finds it as `answers § <question>` →
 * the same question asked again (`copilot ask --channel`) is answered from it and cites it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NOT_IN_KB_MARKER } from '../../src/answer/prompt.js';
import { addChannels, listChannels } from '../../src/channels/service.js';
import type { Bot } from '../../src/bot/bot.js';
import { snowflake } from '../fakes/discord.js';
import { runCli } from '../support/cli.js';
import { BACKENDS } from '../support/db.js';
import { startHarness, TEST_ENV } from './harness.js';
import type { Harness } from './harness.js';

const QUESTION = 'does the toaster firmware support bluetooth pairing?';
const ANSWER = 'Yes, since firmware 2.1: hold the toast lever for five seconds to pair.';

for (const kind of BACKENDS) {
  describe(`learning loop (${kind})`, () => {
    const PARENT = snowflake();
    const THREAD = snowflake();
    let h: Harness;
    let bot: Bot;
    let role: string;
    let moderator: string;

    before(async () => {
      h = await startHarness({
        kind,
        discord: { channels: [{ id: PARENT }, { id: THREAD, type: 11, name: 'toaster', parent_id: PARENT }] },
        allowed: {},
      });
      role = h.fake.addRole({ name: 'Moderators', mentionable: true }).id as string;
      moderator = h.fake.addUser({ name: 'mod' }).id;
      h.fake.setMemberRoles(moderator, [role]);
      await addChannels(h.db, [PARENT], 'all', 'test', { escalateRole: role });
      const channels = new Map((await listChannels(h.db)).map((c) => [c.id, { mode: c.mode, escalateRole: c.escalateRole }]));
      bot = await h.makeBot({
        channels: { get: (id) => channels.get(id) ?? null, ids: () => [...channels.keys()] },
        escalation: { db: h.db, cooldownMs: 10 * 60_000 },
      });
      await bot.start();
    });
    after(async () => {
      await h?.close();
    });

    test('gap → ping → moderator reply → candidate → accept → kb search → the question answered from it', async () => {
      h.groq.setBehavior({ kind: 'ok', reply: `${NOT_IN_KB_MARKER} The knowledge base does not cover that.` });
      const q = await h.fake.userMessage({ channelId: THREAD, content: QUESTION, authorId: h.newUser() });
      assert.equal((await h.answered(q.id)).gap, true);
      await h.waitLog((l) => l.msg === 'escalation' && l.conversationId === THREAD && l.outcome === 'pinged');
      const pings = h.botMessages(THREAD).filter((m) => m.content.includes('needs a human'));
      assert.equal(pings.length, 1);
      assert.deepEqual(h.fake.pinged(pings[0]!), { users: [], roles: [role], everyone: false, repliedUser: null });

      const reply = await h.fake.userMessage({ channelId: THREAD, content: ANSWER, authorId: moderator });
      await h.waitLog((l) => l.msg === 'candidate answer kept' && l.messageId === reply.id);

      // The command line takes over (the embedded database has one owner: the bot lets go first).
      await bot.stop(0);
      await h.db.close();
      const env = { ...h.t.env, GROQ_BASE_URL: h.groq.baseURL, ...TEST_ENV };
      const cli = (args: string[]) => runCli(args, { env });
      const listed = await cli(['--json', 'kb', 'candidates']);
      assert.equal(listed.code, 0, listed.stderr);
      const [candidate, ...others] = JSON.parse(listed.stdout) as { id: number; question: string; answer: string; memberId: string }[];
      assert.equal(others.length, 0);
      assert.deepEqual([candidate!.question, candidate!.answer, candidate!.memberId], [QUESTION, ANSWER, moderator]);

      const accepted = await cli(['kb', 'candidates', 'accept', String(candidate!.id)]);
      assert.equal(accepted.code, 0, accepted.stderr);

      const search = await cli(['kb', 'search', QUESTION]);
      assert.equal(search.code, 0, search.stderr);
      assert.match(
        search.stdout.split('\n')[1]!,
        new RegExp(`^1\\t[\\d.]+\\tanswers\\t§ ${QUESTION.replace('?', '\\?')}\\tQ: ${QUESTION.replace('?', '\\?')}`),
      );

      h.groq.setBehavior({ kind: 'ok', reply: 'Yes: hold the toast lever for five seconds [1].' });
      const asked = await cli(['ask', '--channel', PARENT, QUESTION]);
      assert.equal(asked.code, 0, asked.stderr);
      assert.match(asked.stdout, new RegExp(`Sources: answers § ${QUESTION.replace('?', '\\?')}`));
      const system = h.groq.chatRequests().at(-1)!.body!.messages![0]!.content as string;
      assert.match(
        system,
        new RegExp(`\\[1\\] answers § ${QUESTION.replace('?', '\\?')}\\nQ: ${QUESTION.replace('?', '\\?')}\\nA: ${ANSWER}`),
      );
    });
  });
}
