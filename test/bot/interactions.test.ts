/**
 * Slash commands and buttons end to end, on both backends: the real discord.js client against the
 * fake Discord (commands, interactions, webhooks, components), the real answer service and
 * database, the fake Groq. Registration, /ask (deferred, streamed, ephemeral when private, refused
 * where not enabled), Stop by the asker and by someone else, 👍/👎 stored and changed, /reset,
 * /forget-me, and the faults: a vote on a forgotten answer, Stop after the end, an expired token.
 * `copilot feedback` and `convo show` read what the buttons stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bot } from '../../src/bot/bot.js';
import { COMMANDS } from '../../src/bot/commands.js';
import { ANSWER_GONE, NOT_ENABLED, ONLY_ASKER } from '../../src/bot/interactions.js';
import { resetConversation } from '../../src/convo/service.js';
import { listAudit } from '../../src/db/audit.js';
import { recentMessages } from '../../src/db/conversations.js';
import { createFeedback } from '../../src/feedback/service.js';
import type { Feedback } from '../../src/feedback/service.js';
import type { FakeInteraction } from '../fakes/discord.js';
import { runCli } from '../support/cli.js';
import { BACKENDS } from '../support/db.js';
import { startHarness, until } from './harness.js';
import type { Harness } from './harness.js';

const ALLOWED = '1100000000000000301';
const OTHER_ALLOWED = '1100000000000000302';
const NOT_ALLOWED = '1100000000000000303';
const CITED = 'Turn on Remember last used settings under Preferences > Exports [1].';
const MANAGE_MESSAGES = 1n << 13n;
const VIEW_AND_SEND = (1n << 10n) | (1n << 11n);

for (const kind of BACKENDS) {
  describe(`slash commands and buttons on ${kind}`, () => {
    let h: Harness;
    let bot: Bot;
    let feedback: Feedback;

    before(async () => {
      h = await startHarness({
        kind,
        allowed: { [ALLOWED]: 'mention', [OTHER_ALLOWED]: 'mention' },
        discord: {
          channels: [
            { id: ALLOWED, name: 'help', type: 0 },
            { id: OTHER_ALLOWED, name: 'help-2', type: 0 },
            { id: NOT_ALLOWED, name: 'random', type: 0 },
          ],
        },
        bot: { editIntervalMs: 50 },
      });
      feedback = createFeedback(h.db);
      bot = await h.makeBot({ feedback, conversations: { reset: (id, actor) => resetConversation(h.db, id, actor) } });
      await bot.start();
      await bot.registerCommands(null);
      h.groq.setBehavior({ kind: 'ok', reply: CITED });
    });
    after(() => h.close());

    const ask = (o: { question: string; private?: boolean; userId?: string; channelId?: string }) =>
      h.fake.slashCommand({
        name: 'ask',
        options: { question: o.question, ...(o.private === undefined ? {} : { private: o.private }) },
        userId: o.userId ?? h.newUser(),
        channelId: o.channelId ?? ALLOWED,
      });
    /** The answer finished: its last message carries the vote buttons. */
    const finished = (i: FakeInteraction) =>
      until(
        () => {
          const o = i.original();
          return o !== undefined && h.fake.buttons(o.id).some((b) => b.emoji?.name === '👍');
        },
        10_000,
        'vote buttons on the answer',
      );
    const emojiOf = (b: { emoji?: { name?: string | null } | null }) => b.emoji?.name;

    test('serve registers the three commands with one bulk overwrite, again without changing their ids', async () => {
      const first = h.fake.commands();
      assert.deepEqual(first.map((c) => c.name).sort(), ['ask', 'forget-me', 'reset']);
      assert.equal(first.find((c) => c.name === 'reset')!.default_member_permissions, MANAGE_MESSAGES.toString());
      await bot.registerCommands(null);
      assert.deepEqual(
        h.fake
          .commands()
          .map((c) => c.id)
          .sort(),
        first.map((c) => c.id).sort(),
      );
      assert.equal(h.fake.calls.filter((c) => c.method === 'PUT' && c.path.endsWith('/commands')).length, 2);
      await bot.registerCommands(h.fake.guildId);
      assert.deepEqual(
        h.fake
          .commands(h.fake.guildId)
          .map((c) => c.name)
          .sort(),
        COMMANDS.map((c) => c.name).sort(),
      );
    });

    test('/ask is deferred at once, then streams the answer with sources into the response, votes at the end', async () => {
      const userId = h.newUser();
      const i = await ask({ question: 'how do I keep my export settings?', userId });
      const cb = await i.waitFor((r) => r.kind === 'callback');
      assert.equal(cb.type, 5);
      assert.equal(cb.ephemeral, false);
      assert.ok(cb.afterMs < 1000, `deferred after ${cb.afterMs} ms`);
      await finished(i);
      const original = i.original()!;
      assert.match(
        original.content,
        /^Turn on Remember last used settings under Preferences > Exports \[1\]\.\n\nSources: manual\.pdf p\.\d+$/,
      );
      const buttons = h.fake.buttons(original.id);
      assert.deepEqual(buttons.map(emojiOf), ['👍', '👎']);
      assert.ok(buttons.every((b) => /^vote:(up|down):\d+$/.test(b.customId!)));
      for (const r of i.responses.filter((x) => x.kind !== 'callback')) assert.deepEqual(r.allowedMentions?.parse, []);
      // While it streamed it carried Stop.
      assert.ok(i.responses.some((r) => JSON.stringify(r.components ?? []).includes('"label":"Stop"')));
      const stored = await recentMessages(h.db, ALLOWED, 10);
      assert.ok(stored.some((m) => m.role === 'user' && m.authorId === userId && m.content === 'how do I keep my export settings?'));
    });

    test('/ask private:true answers ephemerally', async () => {
      const i = await ask({ question: 'where are the export settings kept?', private: true });
      const cb = await i.waitFor((r) => r.kind === 'callback');
      assert.equal(cb.flags & 64, 64);
      await finished(i);
      assert.equal(i.original()!.ephemeral, true);
    });

    test('/ask where the bot is not enabled: an ephemeral notice, nothing stored', async () => {
      const i = await ask({ question: 'anyone here?', channelId: NOT_ALLOWED });
      const cb = await i.waitFor((r) => r.kind === 'callback');
      assert.equal(cb.type, 4);
      assert.equal(cb.ephemeral, true);
      assert.equal(cb.content, NOT_ENABLED);
      assert.deepEqual(await recentMessages(h.db, NOT_ALLOWED, 10), []);
    });

    test('👍 then 👎 from one user: one vote, changed; acknowledged by a deferred update', async () => {
      const i = await ask({ question: 'how do I keep my export settings between exports?' });
      await finished(i);
      const msg = i.original()!;
      const [up, down] = h.fake.buttons(msg.id);
      const voter = h.newUser();
      const before = h.metrics.snapshot().counters;
      const p1 = await h.fake.pressButton({ messageId: msg.id, customId: up!.customId!, userId: voter });
      assert.equal((await p1.waitFor()).type, 6);
      await until(() => h.logs.some((l) => l.msg === 'vote stored' && l.interactionId === p1.id), 5000, 'vote stored');
      let votes = (await feedback.list({ since: null })).filter((v) => v.userId === voter);
      assert.deepEqual(
        votes.map((v) => v.vote),
        ['up'],
      );
      const p2 = await h.fake.pressButton({ messageId: msg.id, customId: down!.customId!, userId: voter });
      assert.equal((await p2.waitFor()).type, 6);
      await until(() => h.logs.some((l) => l.msg === 'vote stored' && l.interactionId === p2.id), 5000, 'vote changed');
      votes = (await feedback.list({ since: null })).filter((v) => v.userId === voter);
      assert.equal(votes.length, 1);
      assert.equal(votes[0]!.vote, 'down');
      assert.equal(votes[0]!.question, 'how do I keep my export settings between exports?');
      assert.match(votes[0]!.answer, /^Turn on Remember last used settings/);
      assert.ok(votes[0]!.sources.length > 0 && votes[0]!.sources.every((s) => s.startsWith('manual.pdf')));
      assert.equal(votes[0]!.channelId, ALLOWED);
      const after = h.metrics.snapshot().counters;
      assert.equal(after.votesUp - before.votesUp, 1);
      assert.equal(after.votesDown - before.votesDown, 1);
      // No visible message was made by either press.
      assert.equal(p1.followUps().length + p2.followUps().length, 0);
    });

    test('Stop: someone else is told only the asker can; the asker stops it; the message keeps what was written', async () => {
      h.groq.setBehavior({
        kind: 'ok',
        reply: 'Exports keep their settings when you turn on the option. '.repeat(30),
        chunkSize: 8,
        delayMs: 15,
      });
      try {
        const asker = h.newUser();
        const i = await ask({ question: 'tell me everything about exports', userId: asker });
        await until(
          () => {
            const o = i.original();
            return o !== undefined && o.content.length > 0 && h.fake.buttons(o.id).some((b) => b.label === 'Stop');
          },
          10_000,
          'Stop on the streaming answer',
        );
        const msg = i.original()!;
        const stop = h.fake.buttons(msg.id).find((b) => b.label === 'Stop')!;
        const other = await h.fake.pressButton({
          messageId: msg.id,
          customId: stop.customId!,
          userId: h.newUser(),
          memberPermissions: VIEW_AND_SEND,
        });
        const refused = await other.waitFor();
        assert.equal(refused.type, 4);
        assert.equal(refused.ephemeral, true);
        assert.equal(refused.content, ONLY_ASKER);
        const mine = await h.fake.pressButton({ messageId: msg.id, customId: stop.customId!, userId: asker });
        assert.equal((await mine.waitFor()).type, 6);
        await until(() => /_\(stopped\)_$/.test(i.original()!.content), 10_000, 'marked stopped');
        await until(() => !h.fake.buttons(msg.id).some((b) => b.label === 'Stop'), 5000, 'Stop removed');
        const final = i.original()!.content;
        assert.ok(final.length < 'Exports keep their settings when you turn on the option. '.repeat(30).length);
        // What was written before the press, then the mark.
        const kept = final.replace(/ … _\(stopped\)_$/, '');
        assert.ok(kept.length > 0 && 'Exports keep their settings when you turn on the option. '.repeat(30).startsWith(kept), final);
        const stored = await recentMessages(h.db, ALLOWED, 50);
        assert.ok(stored.some((m) => m.role === 'assistant' && m.status === 'interrupted'));
        // Stop again after the end: acknowledged, nothing else.
        const late = await h.fake.pressButton({ messageId: msg.id, customId: stop.customId!, userId: asker }).catch(() => null);
        if (late) assert.equal((await late.waitFor()).type, 6);
      } finally {
        h.groq.setBehavior({ kind: 'ok', reply: CITED });
      }
    });

    test('a member with Manage Messages may stop anyone’s answer', async () => {
      h.groq.setBehavior({ kind: 'ok', reply: 'Long answer text about exports. '.repeat(40), chunkSize: 8, delayMs: 15 });
      try {
        const i = await ask({ question: 'explain exports at length' });
        await until(
          () => {
            const o = i.original();
            return o !== undefined && h.fake.buttons(o.id).some((b) => b.label === 'Stop');
          },
          10_000,
          'Stop on the streaming answer',
        );
        const msg = i.original()!;
        const stop = h.fake.buttons(msg.id).find((b) => b.label === 'Stop')!;
        const mod = await h.fake.pressButton({
          messageId: msg.id,
          customId: stop.customId!,
          userId: h.newUser(),
          memberPermissions: VIEW_AND_SEND | MANAGE_MESSAGES,
        });
        assert.equal((await mod.waitFor()).type, 6);
        await until(() => /_\(stopped\)_$/.test(i.original()!.content), 10_000, 'marked stopped');
      } finally {
        h.groq.setBehavior({ kind: 'ok', reply: CITED });
      }
    });

    test('a plain message answer carries the vote buttons too', async () => {
      const m = await h.fake.userMessage({
        channelId: ALLOWED,
        content: `<@${h.fake.botId}> how do I keep my export settings?`,
        authorId: h.newUser(),
      });
      await h.answered(m.id);
      const reply = [...h.fake.messages.values()].find((x) => x.fromBot && x.messageReference?.message_id === m.id)!;
      await until(() => h.fake.buttons(reply.id).length === 2, 5000, 'vote buttons on the reply');
      assert.deepEqual(h.fake.buttons(reply.id).map(emojiOf), ['👍', '👎']);
    });

    test('an expired interaction token: logged, the answer stored as undelivered, the bot goes on', async () => {
      h.fake.failNext((method, path) => method === 'PATCH' && path.startsWith('/webhooks/') && path.includes('original'), {
        status: 404,
        code: 10015,
        message: 'Unknown Webhook',
      });
      const i = await ask({ question: 'will this reach me?' });
      await i.waitFor((r) => r.kind === 'callback');
      await h
        .waitLog((l) => l.msg === 'could not post the reply' && l.messageId === i.id)
        .catch((err: unknown) => {
          console.log(JSON.stringify(h.logs.slice(-8)), JSON.stringify(i.responses.map((r) => [r.kind, r.target, r.status])));
          throw err;
        });
      const stored = await recentMessages(h.db, ALLOWED, 100);
      assert.ok(stored.some((m) => m.role === 'user' && m.content === 'will this reach me?'));
      const after = await ask({ question: 'and this one?' });
      await finished(after);
    });

    test('/reset needs Manage Messages, forgets the channel, is audited with the member id; a vote on a forgotten answer is acknowledged', async () => {
      const i = await ask({ question: 'something to forget', channelId: OTHER_ALLOWED });
      await finished(i);
      const msg = i.original()!;
      const up = h.fake.buttons(msg.id)[0]!;
      const mod = h.newUser();
      await assert.rejects(
        h.fake.slashCommand({ name: 'reset', channelId: OTHER_ALLOWED, userId: h.newUser(), memberPermissions: VIEW_AND_SEND }),
      );
      const r = await h.fake.slashCommand({
        name: 'reset',
        channelId: OTHER_ALLOWED,
        userId: mod,
        memberPermissions: VIEW_AND_SEND | MANAGE_MESSAGES,
      });
      const cb = await r.waitFor((x) => x.kind === 'callback');
      assert.equal(cb.ephemeral, true);
      await r.waitFor((x) => x.kind === 'edit' && /forgot this conversation \(2 messages\)/.test(x.content ?? ''));
      assert.deepEqual(await recentMessages(h.db, OTHER_ALLOWED, 10), []);
      const audit = await listAudit(h.db, { actionPrefix: 'convo.reset', target: OTHER_ALLOWED });
      assert.equal(audit[0]!.actor, `discord:${mod}`);
      const late = await h.fake.pressButton({ messageId: msg.id, customId: up.customId!, userId: h.newUser() });
      assert.equal((await late.waitFor()).type, 6);
      const notice = await late.waitFor((x) => x.kind === 'followup');
      assert.equal(notice.ephemeral, true);
      assert.equal(notice.content, ANSWER_GONE);
    });

    test('/forget-me deletes the caller’s messages everywhere and the replies to them, and nobody else’s', async () => {
      const me = h.newUser();
      const other = h.newUser();
      for (const [userId, channelId] of [
        [me, ALLOWED],
        [me, OTHER_ALLOWED],
        [other, OTHER_ALLOWED],
      ] as const) {
        await finished(await ask({ question: `question from ${userId === me ? 'me' : 'other'}`, userId, channelId }));
      }
      const f = await h.fake.slashCommand({ name: 'forget-me', channelId: ALLOWED, userId: me });
      assert.equal((await f.waitFor((x) => x.kind === 'callback')).ephemeral, true);
      const done = await f.waitFor((x) => x.kind === 'edit');
      assert.equal(done.content, 'Done — I deleted 2 messages of yours and 2 replies to them.');
      const all = [...(await recentMessages(h.db, ALLOWED, 1000)), ...(await recentMessages(h.db, OTHER_ALLOWED, 1000))];
      assert.ok(!all.some((m) => m.authorId === me));
      assert.ok(all.some((m) => m.authorId === other && m.content === 'question from other'));
      assert.equal(all.filter((m) => m.content === 'question from other').length, 1);
      const audit = await listAudit(h.db, { actionPrefix: 'convo.forget_user', target: me });
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.oldValue, '2 messages, 2 replies');

      // What the command line shows (the embedded database has one owner: the bot lets go first).
      await bot.stop(0);
      await h.db.close();
      const list = await runCli(['feedback', '--json'], { env: h.t.env });
      assert.equal(list.code, 0, list.stderr);
      const items = JSON.parse(list.stdout) as { vote: string; channelId: string; question: string; sources: string[] }[];
      assert.ok(
        items.some(
          (v) => v.vote === 'down' && v.channelId === ALLOWED && v.question === 'how do I keep my export settings between exports?',
        ),
      );
      const down = JSON.parse((await runCli(['feedback', 'list', '--down', '--since', '1h', '--json'], { env: h.t.env })).stdout) as {
        vote: string;
      }[];
      assert.ok(down.length > 0 && down.every((v) => v.vote === 'down'));
      const shown = await runCli(['convo', 'show', ALLOWED, '--limit', '100'], { env: h.t.env });
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /👎 1/);
      assert.doesNotMatch(shown.stdout, /question from me/);
      const reset = await runCli(['convo', 'show', OTHER_ALLOWED], { env: h.t.env });
      assert.doesNotMatch(reset.stdout, /something to forget/);
      assert.match(reset.stdout, /question from other/);
      const bad = await runCli(['feedback', 'lst'], { env: h.t.env });
      assert.equal(bad.code, 2);
    });
  });
}
