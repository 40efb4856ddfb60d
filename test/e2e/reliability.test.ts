/** Reliability under load and through a database outage, with `copilot serve` as a child process. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startFakeDiscord } from '../fakes/discord.js';
import type { FakeDiscord } from '../fakes/discord.js';
import { startFakeGroq } from '../fakes/groq.js';
import type { FakeGroq } from '../fakes/groq.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase, freshHome } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { startServe } from '../support/serve.js';

const TOKEN = 'test-bot-token';
const CLUSTER = fileURLToPath(new URL('../../../scripts/pg-cluster.sh', import.meta.url));
const LOAD_ENV = {
  COPILOT_USER_RATE_PER_MINUTE: '10000',
  GROQ_TOKENS_PER_MINUTE: '10000000',
  DISCORD_REST_GLOBAL_RPS: '100000',
};

describe('500 messages over 20 channels at once (instant fakes)', () => {
  let t: TestDatabase;
  let discord: FakeDiscord;
  let groq: FakeGroq;
  before(async () => {
    t = await createTestDatabase('postgres');
    discord = await startFakeDiscord({ token: TOKEN, rateLimit: { limit: 100_000, windowMs: 1000 } });
    groq = await startFakeGroq({ apiKey: 'gsk_test' });
    groq.setBehavior({ kind: 'ok', reply: (body) => `re: ${String(body.messages?.at(-1)?.content ?? '')}` });
  });
  after(async () => {
    await discord.close();
    await groq.close();
    await t.cleanup();
  });

  test('500 replies, 1,000 stored messages, order kept in each channel, nothing lost', async () => {
    const channels = Array.from({ length: 20 }, (_, i) => discord.addChannel({ name: `c${i}`, type: 0 }).id);
    assert.equal((await runCli(['channels', 'add', ...channels], { env: t.env })).code, 0);
    const serve = startServe({
      ...t.env,
      ...LOAD_ENV,
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: discord.apiUrl,
      GROQ_API_KEY: 'gsk_test',
      GROQ_BASE_URL: groq.baseURL,
      LOG_LEVEL: 'warn',
    });
    try {
      await sleep(100);
      // serve logs at warn here: wait for readiness through the status endpoint instead.
      for (let i = 0; i < 300; i++) {
        const ready =
          serve.logs.length === 0 &&
          (await fetch(`http://127.0.0.1:${await portOf(serve)}/readyz`)
            .then((r) => r.status)
            .catch(() => 0)) === 200;
        if (ready) break;
        await sleep(100);
      }
      const sent: string[][] = channels.map(() => []);
      const started = performance.now();
      await Promise.all(
        channels.map(async (channelId, c) => {
          for (let i = 0; i < 25; i++) {
            const content = `question ${c}-${i}`;
            sent[c]!.push(content);
            await discord.userMessage({ channelId, content, authorId: String(BigInt('400000000000000000') + BigInt(c * 100 + i)) });
          }
        }),
      );
      const deadline = Date.now() + 120_000;
      const replies = () =>
        discord.calls.filter((x) => x.method === 'POST' && /\/channels\/\d+\/messages$/.test(x.path) && x.status === 200).length;
      while (replies() < 500 && Date.now() < deadline) await sleep(100);
      const seconds = (performance.now() - started) / 1000;
      assert.equal(replies(), 500, 'every message got its reply');
      const client = new pg.Client({ connectionString: t.url! });
      await client.connect();
      for (let i = 0; i < 50; i++) {
        const { rows } = await client.query('select count(*)::int as n from messages');
        if (rows[0].n >= 1000) break;
        await sleep(100);
      }
      const { rows: total } = await client.query('select count(*)::int as n from messages');
      assert.equal(total[0].n, 1000);
      for (const [c, channelId] of channels.entries()) {
        // In turns: each question, then its answer (questions are stored on arrival, answers later).
        const { rows } = await client.query(
          'select role, content from messages where conversation_id = $1 order by coalesce(answer_to, id), id',
          [channelId],
        );
        assert.deepEqual(
          rows.filter((r) => r.role === 'user').map((r) => r.content),
          sent[c],
          `order in channel ${c}`,
        );
        rows.forEach((r, i) => assert.equal(r.role, i % 2 === 0 ? 'user' : 'assistant', `alternating in channel ${c}`));
        rows.forEach(
          (r, i) => i % 2 === 1 && assert.ok(r.content.startsWith(`re: ${rows[i - 1].content}`), 'each answer follows its question'),
        );
      }
      await client.end();
      const errors = serve.logs.filter((l) => Number(l.level) >= 50);
      assert.deepEqual(errors, []);
      console.log(`# 500 messages over 20 channels answered in ${seconds.toFixed(1)} s (${(500 / seconds).toFixed(0)} messages/s)`);
    } finally {
      const stopped = await serve.stop();
      assert.equal(stopped.code, 0, serve.stderr());
    }
  });
});

async function portOf(serve: ReturnType<typeof startServe>): Promise<number> {
  // At LOG_LEVEL=warn the "listening" line is not logged: ask the OS which port the child listens on.
  for (let i = 0; i < 100; i++) {
    try {
      return serve.statusPort();
    } catch {
      const out = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
      const line = out.split('\n').find((l) => l.includes(`pid=${serve.child.pid},`) && l.includes('127.0.0.1:'));
      if (line) {
        const ports = [...line.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
        if (ports.length) return ports[0]!;
      }
    }
    await sleep(100);
  }
  throw new Error('no status port');
}

describe('Postgres restarted under serve', () => {
  let cluster: { url: string; dir: string };
  let discord: FakeDiscord;
  let groq: FakeGroq;
  let home: string;
  before(async () => {
    const out = execFileSync('bash', [CLUSTER, 'start'], { encoding: 'utf8' });
    cluster = { url: /TEST_DATABASE_URL=(\S+);/.exec(out)![1]!, dir: /PG_CLUSTER_DIR=(\S+)/.exec(out)![1]! };
    discord = await startFakeDiscord({ token: TOKEN });
    groq = await startFakeGroq({ apiKey: 'gsk_test' });
    groq.setBehavior({ kind: 'ok', reply: 'All good.' });
    home = freshHome(false);
  });
  after(async () => {
    await discord.close();
    await groq.close();
    execFileSync('bash', [CLUSTER, 'stop', cluster.dir]);
  });

  test('the user gets "temporarily unavailable" during the outage; the bot answers again afterwards without a restart', async () => {
    const env = { COPILOT_HOME: home, DATABASE_URL: cluster.url };
    assert.equal((await runCli(['channels', 'add', discord.channelId], { env })).code, 0);
    const serve = startServe({
      ...env,
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: discord.apiUrl,
      GROQ_API_KEY: 'gsk_test',
      GROQ_BASE_URL: groq.baseURL,
    });
    try {
      await serve.waitForLog((l) => l.msg === 'copilot is serving');
      const before = await discord.userMessage({ channelId: discord.channelId, content: 'first question' });
      await serve.waitForLog((l) => l.msg === 'answered' && l.messageId === before.id);

      execFileSync('bash', [CLUSTER, 'pause', cluster.dir]);
      const during = await discord.userMessage({ channelId: discord.channelId, content: 'question during the outage' });
      const apology = await discord.waitFor(
        (c) =>
          c.method === 'POST' && (c.body as { message_reference?: { message_id: string } })?.message_reference?.message_id === during.id,
        30_000,
      );
      assert.match(String((apology.body as { content: string }).content), /temporarily unavailable/);
      const ready = await fetch(`http://127.0.0.1:${serve.statusPort()}/readyz`);
      assert.equal(ready.status, 503, 'not ready while the database is down');

      execFileSync('bash', [CLUSTER, 'resume', cluster.dir]);
      let answered = false;
      for (let i = 0; i < 10 && !answered; i++) {
        const after = await discord.userMessage({
          channelId: discord.channelId,
          content: `question after the outage ${i}`,
          authorId: `50000000000000000${i}`,
        });
        const reply = await discord.waitFor(
          (c) =>
            c.method === 'POST' && (c.body as { message_reference?: { message_id: string } })?.message_reference?.message_id === after.id,
          30_000,
        );
        answered = /^All good/.test(String((reply.body as { content: string }).content));
        if (!answered) await sleep(1000);
      }
      assert.ok(answered, 'answers again after the database came back');
      assert.equal((await fetch(`http://127.0.0.1:${serve.statusPort()}/readyz`)).status, 200);
      // The serve lock went with the restarted server's sessions; it was taken again, so a second serve is refused.
      await serve.waitForLog((l) => l.msg === 'serve lock taken again', 30_000);
      const second = startServe({ ...env, DISCORD_TOKEN: TOKEN, DISCORD_API_URL: discord.apiUrl });
      const refused = await second.exited;
      assert.equal(refused.code, 2, second.stderr());
      assert.match(second.stderr(), new RegExp(`pid ${serve.child.pid} on host .* already serves this bot`));
    } finally {
      const stopped = await serve.stop();
      assert.equal(stopped.code, 0, serve.stderr());
    }
  });
});
