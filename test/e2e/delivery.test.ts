/**
 * Nothing lost, with `copilot serve` as a child process against the fake Discord and Groq, on
 * both backends: messages queued at SIGTERM are stored and answered by the next start (in order,
 * once); messages sent while the gateway session is re-created are answered after the new one;
 * a reply Discord refuses is stored as undelivered, and `convo show` says so.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { snowflake, startFakeDiscord } from '../fakes/discord.js';
import type { FakeDiscord, FakeMessage } from '../fakes/discord.js';
import { replyFromLastUser, startFakeGroq } from '../fakes/groq.js';
import type { FakeGroq } from '../fakes/groq.js';
import { runCli } from '../support/cli.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { startServe } from '../support/serve.js';

const TOKEN = 'test-bot-token';

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

interface ShownMessage {
  role: string;
  content: string;
  status: string;
  discordMessageId: string | null;
}

for (const kind of BACKENDS) {
  describe(`copilot serve: nothing lost (${kind})`, () => {
    let t: TestDatabase;
    let discord: FakeDiscord;
    let groq: FakeGroq;
    let queuedChannel: string;
    let gapChannel: string;
    let refusedChannel: string;

    const env = () => ({
      ...t.env,
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: discord.apiUrl,
      GROQ_API_KEY: 'gsk_test',
      GROQ_BASE_URL: groq.baseURL,
    });
    const ask = (channelId: string, content: string) => discord.userMessage({ channelId, content, authorId: snowflake() });
    const repliesTo = (m: FakeMessage) =>
      discord.calls.filter(
        (c) =>
          c.method === 'POST' &&
          c.status === 200 &&
          (c.body as { message_reference?: { message_id: string } } | undefined)?.message_reference?.message_id === m.id,
      );
    const convo = async (channelId: string): Promise<ShownMessage[]> => {
      const r = await runCli(['--json', 'convo', 'show', channelId, '--limit', '50'], { env: t.env });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as ShownMessage[];
    };

    before(async () => {
      t = await createTestDatabase(kind);
      discord = await startFakeDiscord({ token: TOKEN });
      queuedChannel = discord.channelId;
      gapChannel = discord.addChannel({ name: 'gap', type: 0 }).id;
      refusedChannel = discord.addChannel({ name: 'refused', type: 0 }).id;
      groq = await startFakeGroq({ apiKey: 'gsk_test' });
      const added = await runCli(['channels', 'add', queuedChannel, gapChannel, refusedChannel], { env: t.env });
      assert.equal(added.code, 0, added.stderr);
    });
    after(async () => {
      await discord.close();
      await groq.close();
      await t.cleanup();
    });

    test('SIGTERM with 3 messages queued behind a streaming answer: they are stored, and the next start answers them in order, exactly once', async () => {
      groq.setBehavior({ kind: 'ok', reply: 'word '.repeat(400), chunkSize: 5, delayMs: 60 });
      const first = startServe(env());
      let queued: FakeMessage[];
      let streaming: FakeMessage;
      try {
        await first.waitForLog((l) => l.msg === 'copilot is serving');
        streaming = await ask(queuedChannel, 'tell me everything');
        await discord.waitFor(
          (c) =>
            c.method === 'POST' &&
            (c.body as { message_reference?: { message_id: string } }).message_reference?.message_id === streaming.id,
          10_000,
        );
        queued = [await ask(queuedChannel, 'queued one'), await ask(queuedChannel, 'queued two'), await ask(queuedChannel, 'queued three')];
        // Stored at once, while the first answer still streams (read through the running daemon).
        let shown = await convo(queuedChannel);
        for (let i = 0; i < 50 && shown.length < 4; i++) {
          await sleep(100);
          shown = await convo(queuedChannel);
        }
        assert.deepEqual(
          shown.map((m) => [m.role, m.discordMessageId, m.status]),
          [streaming, ...queued].map((m) => ['user', m.id, 'unanswered']),
        );
      } finally {
        const stopped = await first.stop('SIGTERM');
        assert.equal(stopped.code, 0, first.stderr());
      }
      for (const m of queued) assert.equal(repliesTo(m).length, 0, 'not answered before the shutdown');
      const afterStop = await convo(queuedChannel);
      assert.deepEqual(
        afterStop.map((m) => [m.role, m.status]),
        [
          ['user', 'complete'],
          ['assistant', 'interrupted'],
          ['user', 'unanswered'],
          ['user', 'unanswered'],
          ['user', 'unanswered'],
        ],
      );
      const text = await runCli(['convo', 'show', queuedChannel], { env: t.env });
      assert.equal(text.stdout.match(/\[unanswered\]/g)?.length, 3, text.stdout);

      groq.setBehavior({ kind: 'ok', reply: replyFromLastUser((q) => `Re: ${q}`) });
      const second = startServe(env());
      try {
        for (const m of queued) await second.waitForLog((l) => l.msg === 'answered' && l.messageId === m.id, 30_000);
      } finally {
        assert.equal((await second.stop('SIGTERM')).code, 0, second.stderr());
      }
      for (const m of queued) assert.equal(repliesTo(m).length, 1, `one reply to "${m.content}"`);
      const at = queued.map((m) => repliesTo(m)[0]!.at);
      assert.ok(at[0]! < at[1]! && at[1]! < at[2]!, 'answered in the order sent');
      assert.equal(repliesTo(streaming).length, 1, 'the interrupted answer is not answered again');
      assert.deepEqual(
        (await convo(queuedChannel)).map((m) => [m.role, m.status, m.content.replace(/\n\n.*$/s, '')]),
        [
          ['user', 'complete', 'tell me everything'],
          ['assistant', 'interrupted', afterStop[1]!.content.replace(/\n\n.*$/s, '')],
          ['user', 'complete', 'queued one'],
          ['assistant', 'complete', 'Re: queued one'],
          ['user', 'complete', 'queued two'],
          ['assistant', 'complete', 'Re: queued two'],
          ['user', 'complete', 'queued three'],
          ['assistant', 'complete', 'Re: queued three'],
        ],
      );

      // A third start within the window finds nothing left to answer.
      const replies = discord.calls.filter((c) => c.method === 'POST' && c.path === `/channels/${queuedChannel}/messages`).length;
      const third = startServe(env());
      try {
        const caught = await third.waitForLog((l) => l.msg === 'caught up' && l.channelId === queuedChannel, 30_000);
        assert.equal(caught.toAnswer, 0);
        await sleep(500);
      } finally {
        assert.equal((await third.stop('SIGTERM')).code, 0, third.stderr());
      }
      assert.equal(
        discord.calls.filter((c) => c.method === 'POST' && c.path === `/channels/${queuedChannel}/messages`).length,
        replies,
        'nothing answered twice',
      );
    });

    test('messages sent while the gateway session is re-created (close 4009, op 9 invalid session) are answered after the new session', async () => {
      groq.setBehavior({ kind: 'ok', reply: replyFromLastUser((q) => `Re: ${q}`) });
      const serve = startServe(env());
      try {
        // The start's own catching up is done before the session is dropped.
        await serve.waitForLog((l) => l.msg === 'caught up' && l.channelId === gapChannel);
        for (const [what, drop] of [
          ['close 4009', () => discord.closeGateway(4009, 'Session timed out')],
          ['op 9', () => discord.invalidateSession(false)],
        ] as const) {
          const identifies = discord.sessions.identifies;
          drop();
          // There is no session now: Discord delivers this to nobody.
          const missed = await ask(gapChannel, `sent during ${what}`);
          await serve.waitForLog((l) => l.msg === 'answered' && l.messageId === missed.id, 30_000);
          assert.ok(discord.sessions.identifies > identifies, `a new session after ${what}`);
          assert.equal(repliesTo(missed).length, 1);
          const reply = [...discord.messages.values()].find((x) => x.fromBot && x.messageReference?.message_id === missed.id);
          await until(() => reply!.content.startsWith(`Re: sent during ${what}`), 'the final text');
        }
      } finally {
        const stopped = await serve.stop('SIGTERM');
        assert.equal(stopped.code, 0, `${serve.stderr()} ${JSON.stringify(serve.logs.slice(-12))}`);
      }
      assert.deepEqual(
        (await convo(gapChannel)).map((m) => [m.role, m.status]),
        [
          ['user', 'complete'],
          ['assistant', 'complete'],
          ['user', 'complete'],
          ['assistant', 'complete'],
        ],
      );
    });

    test('SIGTERM while the gateway reconnects still exits 0, promptly', async () => {
      const serve = startServe(env());
      await serve.waitForLog((l) => l.msg === 'copilot is serving');
      discord.closeGateway(4009, 'Session timed out');
      await sleep(50);
      const stopped = await serve.stop('SIGTERM');
      assert.equal(stopped.code, 0, serve.stderr());
      assert.ok(stopped.ms < 10_000, `stopped in ${stopped.ms.toFixed(0)} ms`);
    });

    test('a reply Discord refuses (403) is stored as undelivered; convo show says so', async () => {
      groq.setBehavior({ kind: 'ok', reply: 'An answer nobody will see.' });
      const serve = startServe(env());
      let q: FakeMessage;
      try {
        await serve.waitForLog((l) => l.msg === 'copilot is serving');
        discord.failNext((m, p) => m === 'POST' && p === `/channels/${refusedChannel}/messages`, { status: 403, code: 50013 });
        q = await ask(refusedChannel, 'can you post here?');
        const line = await serve.waitForLog((l) => l.msg === 'answered' && l.messageId === q.id, 20_000);
        assert.equal(line.delivered, false);
      } finally {
        assert.equal((await serve.stop('SIGTERM')).code, 0, serve.stderr());
      }
      assert.equal(repliesTo(q).length, 0);
      assert.deepEqual(
        (await convo(refusedChannel)).map((m) => [m.role, m.status]),
        [
          ['user', 'complete'],
          ['assistant', 'undelivered'],
        ],
      );
      const text = await runCli(['convo', 'show', refusedChannel], { env: t.env });
      assert.match(text.stdout, /copilot \[undelivered\]\n {2}An answer nobody will see\./);
    });
  });
}
