/**
 * Slash commands, buttons and thread mode through `copilot serve` as a child process, against the
 * fake Discord and Groq: /ask deferred then streamed with its sources, ephemeral when private,
 * refused where not enabled; a 👍 changed to 👎 and listed by `copilot feedback`; Stop pressed by
 * someone else refused; a thread-mode channel answering a follow-up in its thread without a mention.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { NOT_ENABLED, ONLY_ASKER } from '../../src/bot/interactions.js';
import { startFakeDiscord } from '../fakes/discord.js';
import type { FakeDiscord, FakeInteraction } from '../fakes/discord.js';
import { startFakeEmbeddings } from '../fakes/embeddings.js';
import type { FakeEmbeddings } from '../fakes/embeddings.js';
import { lastUserMessage, startFakeGroq } from '../fakes/groq.js';
import type { FakeGroq } from '../fakes/groq.js';
import { runCli } from '../support/cli.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { longManual } from '../support/pdfs.js';
import { startServe } from '../support/serve.js';
import type { ServeProcess } from '../support/serve.js';

const TOKEN = `${Buffer.from('1234567890123456789').toString('base64')}.GhIjKl.test-token-secret-part`;
const CITED = 'Turn on Remember last used settings under Preferences > Exports [1].';
const LONG = 'Exports keep their settings when you turn on the option. '.repeat(30);
const VIEW_AND_SEND = (1n << 10n) | (1n << 11n);

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return;
    await sleep(50);
  }
  if (!pred()) throw new Error(`not within ${ms} ms: ${what}`);
}

for (const kind of BACKENDS) {
  describe(`slash commands, buttons and threads through copilot serve (${kind})`, () => {
    let t: TestDatabase;
    let discord: FakeDiscord;
    let groq: FakeGroq;
    let embeddings: FakeEmbeddings;
    let serve: ServeProcess;
    let env: Record<string, string>;
    let notAllowed: string;
    let threaded: string;
    let users = 0;
    const newUser = () => String(500000000000000000n + BigInt(++users));

    before(async () => {
      t = await createTestDatabase(kind);
      discord = await startFakeDiscord({ token: TOKEN });
      notAllowed = discord.addChannel({ name: 'random', type: 0 }).id;
      threaded = discord.addChannel({ name: 'help-threads', type: 0 }).id;
      groq = await startFakeGroq({ apiKey: 'gsk_test' });
      groq.setBehavior({ kind: 'ok', reply: CITED });
      embeddings = await startFakeEmbeddings();
      env = {
        ...t.env,
        DISCORD_TOKEN: TOKEN,
        DISCORD_API_URL: discord.apiUrl,
        GROQ_API_KEY: 'gsk_test',
        GROQ_BASE_URL: groq.baseURL,
        EMBEDDINGS_URL: embeddings.url,
        GROQ_TOKENS_PER_MINUTE: '10000000',
      };
      writeFileSync(join(t.home, 'manual.pdf'), await longManual(12));
      const ingested = await runCli(['kb', 'ingest', join(t.home, 'manual.pdf')], { env });
      assert.equal(ingested.code, 0, ingested.stderr);
      for (const args of [[discord.channelId], [threaded, '--mode', 'thread']]) {
        const added = await runCli(['channels', 'add', ...args], { env });
        assert.equal(added.code, 0, added.stderr);
      }
      serve = startServe(env);
      await serve.waitForLog((l) => l.msg === 'copilot is serving', 60_000);
      await serve.waitForLog((l) => l.msg === 'slash commands registered globally', 60_000);
    });
    after(async () => {
      await serve?.stop();
      await discord.close();
      await groq.close();
      await embeddings.close();
      await t.cleanup();
    });

    const ask = (o: { question: string; private?: boolean; userId?: string; channelId?: string }) =>
      discord.slashCommand({
        name: 'ask',
        options: { question: o.question, ...(o.private === undefined ? {} : { private: o.private }) },
        userId: o.userId ?? newUser(),
        channelId: o.channelId ?? discord.channelId,
      });
    /** The answer ended: its response carries the vote buttons. */
    const finished = (i: FakeInteraction) =>
      until(
        () => {
          const o = i.original();
          return o !== undefined && discord.buttons(o.id).some((b) => b.emoji?.name === '👍');
        },
        30_000,
        'vote buttons on the answer',
      );

    test('/ask: deferred at once, the answer streamed into the response with its sources, Stop while streaming, votes at the end', async () => {
      groq.setBehavior({ kind: 'ok', reply: CITED, chunkSize: 8, delayMs: 20 });
      try {
        const i = await ask({ question: 'how do I keep my export settings?' });
        const cb = await i.waitFor((r) => r.kind === 'callback', 30_000);
        assert.equal(cb.type, 5, 'deferred');
        assert.equal(cb.ephemeral, false);
        await finished(i);
        const edits = i.responses.filter((r) => r.kind === 'edit' && r.status < 300);
        assert.ok(edits.length >= 2, `streamed in ${edits.length} edits`);
        assert.ok(
          edits.some((r) => r.content && CITED.startsWith(r.content) && r.content.length < CITED.length),
          'a part of the answer was shown before the end',
        );
        assert.ok(
          edits.some((r) => JSON.stringify(r.components ?? []).includes('"label":"Stop"')),
          'Stop while streaming',
        );
        const original = i.original()!;
        assert.match(
          original.content,
          /^Turn on Remember last used settings under Preferences > Exports \[1\]\.\n\nSources: manual\.pdf p\.\d+$/,
        );
        assert.deepEqual(
          discord.buttons(original.id).map((b) => b.emoji?.name),
          ['👍', '👎'],
        );
        assert.ok(!discord.buttons(original.id).some((b) => b.label === 'Stop'), 'Stop gone at the end');
        for (const r of i.responses.filter((x) => x.kind !== 'callback')) assert.deepEqual(r.allowedMentions?.parse, []);
      } finally {
        groq.setBehavior({ kind: 'ok', reply: CITED });
      }
    });

    test('/ask private:true answers ephemerally', async () => {
      const asker = newUser();
      const i = await ask({ question: 'where are the export settings kept?', private: true, userId: asker });
      const cb = await i.waitFor((r) => r.kind === 'callback', 30_000);
      assert.equal(cb.flags & 64, 64);
      await finished(i);
      assert.equal(i.original()!.ephemeral, true);
      assert.equal(i.original()!.visibleTo, asker);
    });

    test('/ask where the bot is not enabled: an ephemeral notice, nothing stored', async () => {
      const i = await ask({ question: 'anyone here?', channelId: notAllowed });
      const cb = await i.waitFor((r) => r.kind === 'callback', 30_000);
      assert.equal(cb.type, 4);
      assert.equal(cb.ephemeral, true);
      assert.equal(cb.content, NOT_ENABLED);
      // Nothing stored: there is no conversation for that channel at all.
      const shown = await runCli(['--json', 'convo', 'show', notAllowed], { env });
      assert.equal(shown.code, 2, shown.stdout);
      assert.match(shown.stdout + shown.stderr, new RegExp(`no conversation for ${notAllowed}`));
    });

    test('👍 then 👎 from one user: one vote, changed, listed by copilot feedback', async () => {
      const question = 'how do I keep my export settings between exports?';
      const i = await ask({ question });
      await finished(i);
      const msg = i.original()!;
      const [up, down] = discord.buttons(msg.id);
      const voter = newUser();
      const p1 = await discord.pressButton({ messageId: msg.id, customId: up!.customId!, userId: voter });
      assert.equal((await p1.waitFor(undefined, 30_000)).type, 6);
      await serve.waitForLog((l) => l.msg === 'vote stored' && l.interactionId === p1.id, 30_000);
      const p2 = await discord.pressButton({ messageId: msg.id, customId: down!.customId!, userId: voter });
      assert.equal((await p2.waitFor(undefined, 30_000)).type, 6);
      const changed = await serve.waitForLog((l) => l.msg === 'vote stored' && l.interactionId === p2.id, 30_000);
      assert.equal(changed.changed, true);
      assert.equal(p1.followUps().length + p2.followUps().length, 0, 'no visible message');

      const listed = await runCli(['feedback', '--json'], { env });
      assert.equal(listed.code, 0, listed.stderr);
      const votes = (
        JSON.parse(listed.stdout) as { userId: string; vote: string; question: string; answer: string; sources: string[] }[]
      ).filter((v) => v.userId === voter);
      assert.equal(votes.length, 1, listed.stdout);
      assert.equal(votes[0]!.vote, 'down');
      assert.equal(votes[0]!.question, question);
      assert.match(votes[0]!.answer, /^Turn on Remember last used settings/);
      assert.ok(votes[0]!.sources.length > 0 && votes[0]!.sources.every((s) => s.startsWith('manual.pdf')), listed.stdout);
      const downOnly = await runCli(['feedback', 'list', '--down', '--since', '1h'], { env });
      assert.equal(downOnly.code, 0, downOnly.stderr);
      assert.match(downOnly.stdout, /how do I keep my export settings between exports\?/);
    });

    test('Stop pressed by someone else: an ephemeral refusal; the asker stops it', async () => {
      groq.setBehavior({ kind: 'ok', reply: LONG, chunkSize: 8, delayMs: 20 });
      try {
        const asker = newUser();
        const i = await ask({ question: 'tell me everything about exports', userId: asker });
        await until(
          () => {
            const o = i.original();
            return o !== undefined && o.content.length > 0 && discord.buttons(o.id).some((b) => b.label === 'Stop');
          },
          30_000,
          'Stop on the streaming answer',
        );
        const msg = i.original()!;
        const stop = discord.buttons(msg.id).find((b) => b.label === 'Stop')!;
        const other = await discord.pressButton({
          messageId: msg.id,
          customId: stop.customId!,
          userId: newUser(),
          memberPermissions: VIEW_AND_SEND,
        });
        const refused = await other.waitFor(undefined, 30_000);
        assert.equal(refused.type, 4);
        assert.equal(refused.ephemeral, true);
        assert.equal(refused.content, ONLY_ASKER);
        const mine = await discord.pressButton({ messageId: msg.id, customId: stop.customId!, userId: asker });
        assert.equal((await mine.waitFor(undefined, 30_000)).type, 6);
        await until(() => /_\(stopped\)_$/.test(i.original()!.content), 30_000, 'marked stopped');
        assert.ok(i.original()!.content.length < LONG.length);
      } finally {
        groq.setBehavior({ kind: 'ok', reply: CITED });
      }
    });

    test('a thread-mode channel: a mention opens a thread, a follow-up there is answered without a mention', async () => {
      const user = newUser();
      const q = await discord.userMessage({
        channelId: threaded,
        authorId: user,
        content: `<@${discord.botId}> how do I keep my export settings?`,
      });
      await serve.waitForLog((l) => l.msg === 'answered' && l.messageId === q.id, 30_000);
      assert.equal(discord.channels.get(q.id)?.type, 11, 'a public thread on the question');
      const inThread = () => [...discord.messages.values()].filter((m) => m.fromBot && m.channelId === q.id);
      assert.equal(inThread().length, 1);
      assert.equal([...discord.messages.values()].filter((m) => m.fromBot && m.channelId === threaded).length, 0, 'nothing in the channel');

      const follow = await discord.userMessage({ channelId: q.id, authorId: user, content: 'and does that apply to the web app as well?' });
      await serve.waitForLog((l) => l.msg === 'answered' && l.messageId === follow.id, 30_000);
      await until(() => inThread().length === 2, 10_000, 'the follow-up answered in the thread');
      const request = groq.chatRequests().find((r) => lastUserMessage(r.body) === 'and does that apply to the web app as well?');
      assert.ok(request, 'the follow-up was asked');
      assert.ok(JSON.stringify(request.body?.messages).includes('how do I keep my export settings?'), 'with the thread as its memory');
    });
  });
}
