/** `copilot serve` as a child process against fake Discord and Groq, on both database backends. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeDiscord } from '../fakes/discord.js';
import type { FakeDiscord } from '../fakes/discord.js';
import { startFakeGroq } from '../fakes/groq.js';
import type { FakeGroq } from '../fakes/groq.js';
import { runCli } from '../support/cli.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { getJson, startServe } from '../support/serve.js';
import type { ServeProcess } from '../support/serve.js';

const TOKEN = 'test-bot-token';
const SECRET_CONTENT = 'my-private-question-about-zebras';
const STATUS_TOKEN = 'e2e-status-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${STATUS_TOKEN}` };

function botReplies(discord: FakeDiscord, channelId: string) {
  return discord.calls.filter((c) => c.method === 'POST' && c.path === `/channels/${channelId}/messages` && c.status === 200);
}

for (const kind of BACKENDS) {
  describe(`copilot serve (${kind})`, () => {
    let t: TestDatabase;
    let discord: FakeDiscord;
    let groq: FakeGroq;
    let serve: ServeProcess;
    let other: string;

    before(async () => {
      t = await createTestDatabase(kind);
      discord = await startFakeDiscord({ token: TOKEN, readyDelayMs: 1500 });
      other = discord.addChannel({ name: 'other', type: 0 }).id;
      groq = await startFakeGroq({ apiKey: 'gsk_test' });
      groq.setBehavior({ kind: 'ok', reply: 'Here is the answer.' });
      assert.equal((await runCli(['channels', 'add', discord.channelId], { env: t.env })).code, 0);
      serve = startServe({
        ...t.env,
        DISCORD_TOKEN: TOKEN,
        DISCORD_API_URL: discord.apiUrl,
        GROQ_API_KEY: 'gsk_test',
        GROQ_BASE_URL: groq.baseURL,
        STATUS_TOKEN,
      });
    });
    after(async () => {
      await serve?.stop();
      await discord.close();
      await groq.close();
      await t.cleanup();
    });

    test('/readyz is 503 before READY and 200 after; /healthz 200', async () => {
      await serve.waitForLog((l) => l.msg === 'status endpoint listening');
      const early = await getJson(serve.statusPort(), '/readyz');
      assert.equal(early.status, 503);
      assert.match(String((early.json as { reason: string }).reason), /^discord: /);
      assert.equal((await getJson(serve.statusPort(), '/healthz')).status, 200);
      await serve.waitForLog((l) => l.msg === 'copilot is serving');
      assert.equal((await getJson(serve.statusPort(), '/readyz')).status, 200);
    });

    test('replies in an allowed channel, stays silent elsewhere, and stores the conversation', async () => {
      await serve.waitForLog((l) => l.msg === 'copilot is serving');
      const asked = await discord.userMessage({ channelId: discord.channelId, content: `${SECRET_CONTENT}: how do I export?` });
      await discord.userMessage({ channelId: other, content: 'anyone here?' });
      const reply = await discord.waitFor((c) => c.method === 'POST' && c.path === `/channels/${discord.channelId}/messages`, 10_000);
      assert.equal((reply.body as { message_reference?: { message_id: string } }).message_reference?.message_id, asked.id);
      await serve.waitForLog((l) => l.msg === 'answered' && l.messageId === asked.id);
      await sleep(500);
      assert.equal(botReplies(discord, other).length, 0, 'silent in a channel that is not allowed');
      assert.equal(discord.calls.filter((c) => c.path === `/channels/${other}/typing`).length, 0);
      const convo = await runCli(['--json', 'convo', 'show', discord.channelId], { env: t.env });
      assert.equal(convo.code, 0, convo.stderr);
      const messages = JSON.parse(convo.stdout) as { role: string; content: string }[];
      assert.deepEqual(
        messages.map((m) => m.role),
        ['user', 'assistant'],
      );
      assert.match(messages[1]!.content, /^Here is the answer\./);
    });

    test('a channel added with the CLI while serving is obeyed within 2 s', async () => {
      await serve.waitForLog((l) => l.msg === 'copilot is serving');
      const added = await runCli(['channels', 'add', other], { env: t.env });
      assert.equal(added.code, 0, added.stderr);
      await sleep(2000);
      await discord.userMessage({ channelId: other, content: 'and now?' });
      await discord.waitFor((c) => c.method === 'POST' && c.path === `/channels/${other}/messages`, 10_000);
      const removed = await runCli(['channels', 'remove', other], { env: t.env });
      assert.equal(removed.code, 0, removed.stderr);
      await sleep(2000);
      const before = botReplies(discord, other).length;
      await discord.userMessage({ channelId: other, content: 'still there?' });
      await sleep(1500);
      assert.equal(botReplies(discord, other).length, before, 'a removed channel is silent again');
    });

    test('with STATUS_TOKEN, /status and /metrics need the bearer token; the health checks do not', async () => {
      await serve.waitForLog((l) => l.msg === 'copilot is serving');
      for (const path of ['/status', '/metrics']) {
        for (const headers of [{}, { authorization: 'Bearer not-the-token-at-all-000' }] as Record<string, string>[]) {
          const denied = await getJson(serve.statusPort(), path, headers);
          assert.equal(denied.status, 401, path);
          assert.match(String(denied.headers.get('www-authenticate')), /^Bearer\b/);
          assert.doesNotMatch(denied.body, /counters|copilot_replies_total/);
        }
        assert.equal((await getJson(serve.statusPort(), path, AUTH)).status, 200, path);
      }
      assert.equal((await getJson(serve.statusPort(), '/healthz')).status, 200);
      assert.equal((await getJson(serve.statusPort(), '/readyz')).status, 200);
      assert.ok(!JSON.stringify(serve.logs).includes(STATUS_TOKEN), 'the status token never reaches the logs');
    });

    test('/status and /metrics carry counters but no message content and no secret', async () => {
      const status = await getJson(serve.statusPort(), '/status', AUTH);
      assert.equal(status.status, 200);
      const s = status.json as {
        discord: { state: string; guilds: number };
        database: { backend: string; ok: boolean };
        counters: Record<string, number>;
        config: { allowedChannels: number };
      };
      assert.equal(s.discord.state, 'ready');
      assert.equal(s.discord.guilds, 1);
      assert.deepEqual(s.database, { backend: kind, ok: true });
      assert.ok(s.counters.replies! >= 2);
      const metrics = await getJson(serve.statusPort(), '/metrics', AUTH);
      for (const body of [status.body, metrics.body]) {
        assert.ok(!body.includes(SECRET_CONTENT), 'no message content');
        assert.ok(!body.includes(TOKEN) && !body.includes('gsk_test') && !body.includes(STATUS_TOKEN), 'no secret');
        if (t.url) assert.ok(!body.includes(t.url));
      }
      assert.match(metrics.body, /^copilot_replies_total \d+/m);
      const post = await fetch(`http://127.0.0.1:${serve.statusPort()}/status`, { method: 'POST' });
      assert.equal(post.status, 405);
      const logs = JSON.stringify(serve.logs);
      assert.ok(!logs.includes(TOKEN), 'the token never reaches the logs');
      assert.ok(!logs.includes(SECRET_CONTENT), 'no message content in info logs');
    });

    test('the gateway resumes after a close and the bot keeps answering', async () => {
      const resumes = discord.sessions.resumes;
      discord.closeGateway(4000);
      await serve.waitForLog(() => discord.sessions.resumes > resumes, 15_000).catch(() => undefined);
      for (let i = 0; i < 50 && discord.sessions.resumes === resumes; i++) await sleep(100);
      assert.ok(discord.sessions.resumes > resumes, 'resumed');
      const m = await discord.userMessage({ channelId: discord.channelId, content: 'after the resume?' });
      await serve.waitForLog((l) => l.msg === 'answered' && l.messageId === m.id, 15_000);
    });

    test('SIGTERM exits 0 quickly and releases everything', async () => {
      const stopped = await serve.stop('SIGTERM');
      assert.equal(stopped.code, 0, serve.stderr());
      assert.ok(stopped.ms < 10_000, `stopped in ${stopped.ms} ms`);
      // The database is free again for other commands (the embedded lock is released).
      const list = await runCli(['--json', 'channels', 'list'], { env: t.env });
      assert.equal(list.code, 0, list.stderr);
    });
  });
}

describe('copilot serve: failures', () => {
  let t: TestDatabase;
  let discord: FakeDiscord;
  let groq: FakeGroq;
  before(async () => {
    t = await createTestDatabase('postgres');
    discord = await startFakeDiscord({ token: TOKEN });
    groq = await startFakeGroq({ apiKey: 'gsk_test' });
    assert.equal((await runCli(['channels', 'add', discord.channelId], { env: t.env })).code, 0);
  });
  after(async () => {
    await discord.close();
    await groq.close();
    await t.cleanup();
  });

  test('an invalid token: a clear log line and exit 1, not a hang', async () => {
    const serve = startServe({ ...t.env, DISCORD_TOKEN: 'wrong-token', DISCORD_API_URL: discord.apiUrl });
    const exit = await Promise.race([serve.exited, sleep(40_000).then(() => null)]);
    assert.ok(exit, 'exited by itself');
    assert.equal(exit.code, 1);
    assert.match(serve.stderr(), /token/i);
    assert.ok(!serve.stderr().includes('\n    at '), 'no stack trace');
  });

  test('no DISCORD_TOKEN: exit 2 naming the variable', async () => {
    const serve = startServe({ ...t.env });
    const exit = await serve.exited;
    assert.equal(exit.code, 2);
    assert.match(serve.stderr(), /DISCORD_TOKEN/);
  });

  test('SIGTERM while serve is starting: it finishes starting, stops cleanly and exits 0 (not killed by the signal)', async () => {
    const serve = startServe({ ...t.env, DISCORD_TOKEN: TOKEN, DISCORD_API_URL: discord.apiUrl });
    await serve.waitForLog((l) => l.msg === 'status endpoint listening', 60_000);
    const stopped = await serve.stop('SIGTERM');
    assert.equal(stopped.code, 0, serve.stderr());
    assert.ok(
      serve.logs.some((l) => l.msg === 'stopped'),
      JSON.stringify(serve.logs.slice(-5)),
    );
  });

  test('SIGTERM during a long stream: the reply ends marked "(interrupted)" and the process exits 0 within 10 s', async () => {
    groq.setBehavior({ kind: 'ok', reply: 'word '.repeat(400), chunkSize: 5, delayMs: 60 });
    const serve = startServe({
      ...t.env,
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: discord.apiUrl,
      GROQ_API_KEY: 'gsk_test',
      GROQ_BASE_URL: groq.baseURL,
    });
    await serve.waitForLog((l) => l.msg === 'copilot is serving');
    const m = await discord.userMessage({ channelId: discord.channelId, content: 'tell me everything' });
    const first = await discord.waitFor(
      (c) =>
        c.method === 'POST' &&
        c.path === `/channels/${discord.channelId}/messages` &&
        (c.body as { message_reference?: { message_id: string } }).message_reference?.message_id === m.id,
      10_000,
    );
    assert.ok(first);
    const stopped = await serve.stop('SIGTERM');
    assert.equal(stopped.code, 0, serve.stderr());
    assert.ok(stopped.ms < 10_000, `stopped in ${stopped.ms} ms`);
    const edits = discord.calls.filter((c) => c.method === 'PATCH' && c.path.startsWith(`/channels/${discord.channelId}/messages/`));
    assert.match(String((edits.at(-1)!.body as { content: string }).content), /\(interrupted\)/);
  });
});
