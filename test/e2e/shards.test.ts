/**
 * Gateway shards across processes: two `copilot serve` processes on one Postgres, each with one
 * of two shards of the fake Discord, each answering its own guild once; channels and the per-user
 * limit shared through the database; one killed leaves the other answering. The embedded
 * database refuses a partial shard list, and bad shard options are exit 2 before anything starts.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeDiscord } from '../fakes/discord.js';
import type { FakeDiscord } from '../fakes/discord.js';
import { startFakeGroq } from '../fakes/groq.js';
import type { FakeGroq } from '../fakes/groq.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { getJson, startServe } from '../support/serve.js';
import { guildOn } from '../support/shards.js';
import type { ServeProcess } from '../support/serve.js';

const TOKEN = `${Buffer.from('1234567890123456789').toString('base64')}.GhIjKl.test-token-secret-part`;

const G0 = guildOn(0, 1);
const G1 = guildOn(1, 2);

describe('two serve processes, one shard each, on one Postgres', () => {
  let t: TestDatabase;
  let discord: FakeDiscord;
  let groq: FakeGroq;
  let env: Record<string, string>;
  const serves: ServeProcess[] = [];
  const serve = (args: string[], extra: Record<string, string> = {}) => {
    const s = startServe({ ...env, ...extra }, args);
    serves.push(s);
    return s;
  };
  let s0: ServeProcess;
  let s1: ServeProcess;

  const repliesTo = (id: string) => [...discord.messages.values()].filter((x) => x.fromBot && x.messageReference?.message_id === id);
  async function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (pred()) return true;
      await sleep(50);
    }
    return pred();
  }

  before(async () => {
    t = await createTestDatabase('postgres');
    discord = await startFakeDiscord({ token: TOKEN, guilds: [G0, G1], recommendedShards: 2 });
    groq = await startFakeGroq({ apiKey: 'gsk_test' });
    groq.setBehavior({ kind: 'ok', reply: 'Answered.' });
    env = {
      ...t.env,
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: discord.apiUrl,
      GROQ_API_KEY: 'gsk_test',
      GROQ_BASE_URL: groq.baseURL,
      COPILOT_USER_RATE_PER_MINUTE: '5',
    };
    const added = await runCli(['channels', 'add', G0.channels[0]!.id, G1.channels[0]!.id], { env: t.env });
    assert.equal(added.code, 0, added.stderr);
    s0 = serve(['--shards', '0', '--shard-count', '2']);
    s1 = serve([], { SHARDS: '1', SHARD_COUNT: '2' });
    await Promise.all([s0, s1].map((s) => s.waitForLog((l) => l.msg === 'copilot is serving', 90_000)));
  });
  after(async () => {
    for (const s of serves) await s.stop();
    await discord.close();
    await groq.close();
    await t.cleanup();
  });

  test('each process identifies with its own shard and answers its own guild, exactly once', async () => {
    const stats = discord.shardStats().filter((s) => s.connected > 0);
    assert.deepEqual(stats.map((s) => [s.shardId, s.shardCount]).sort(), [
      [0, 2],
      [1, 2],
    ]);
    for (const [s, g] of [
      [s0, G0],
      [s1, G1],
    ] as const) {
      const m = await discord.userMessage({ channelId: g.channels[0]!.id, content: `a question in guild ${g.id}?` });
      await s.waitForLog((l) => l.msg === 'answered' && l.messageId === m.id, 30_000);
      await sleep(500);
      assert.equal(repliesTo(m.id).length, 1, 'one reply');
      const other = s === s0 ? s1 : s0;
      assert.ok(!other.logs.some((l) => l.messageId === m.id && l.msg === 'answered'), 'the other process did not answer it');
    }

    for (const [s, id] of [
      [s0, 0],
      [s1, 1],
    ] as const) {
      const status = await getJson(s.statusPort(), '/status');
      const shards = (status.json as { shards: { id: number; state: string; guilds: number }[] }).shards;
      assert.deepEqual(
        shards.map((x) => [x.id, x.state, x.guilds]),
        [[id, 'ready', 1]],
      );
      assert.equal((await getJson(s.statusPort(), '/readyz')).status, 200);
      const metrics = (await getJson(s.statusPort(), '/metrics')).body;
      assert.match(metrics, new RegExp(`copilot_gateway_ready\\{shard="${id}"\\} 1`));
      assert.match(metrics, new RegExp(`copilot_gateway_guilds\\{shard="${id}"\\} 1`));
    }
  });

  test('a third process asked for a served shard exits 2 naming the one serving it', async () => {
    const third = serve(['--shards', '1', '--shard-count', '2']);
    const exit = await Promise.race([third.exited, sleep(60_000).then(() => null)]);
    assert.ok(exit, 'exited by itself');
    assert.equal(exit.code, 2, third.stderr());
    assert.ok(third.stderr().includes(`\`copilot serve\` pid ${s1.child.pid} on host ${hostname()}`), third.stderr());
    assert.match(third.stderr(), /shard 1/);
    const all = serve([]);
    const exitAll = await Promise.race([all.exited, sleep(60_000).then(() => null)]);
    assert.equal(exitAll?.code, 2, 'every shard: refused while shards are served');
  });

  test('a channel added with the CLI is obeyed by both processes within 2 s', async () => {
    const added = await runCli(['channels', 'add', G0.channels[1]!.id, G1.channels[1]!.id], { env: t.env });
    assert.equal(added.code, 0, added.stderr);
    await sleep(2000);
    const m0 = await discord.userMessage({ channelId: G0.channels[1]!.id, content: 'new channel here, question one?' });
    const m1 = await discord.userMessage({ channelId: G1.channels[1]!.id, content: 'new channel there, question two?' });
    await Promise.all([
      s0.waitForLog((l) => l.msg === 'answered' && l.messageId === m0.id, 30_000),
      s1.waitForLog((l) => l.msg === 'answered' && l.messageId === m1.id, 30_000),
    ]);
  });

  test('one user asking 8 questions across both guilds with a limit of 5: 5 answers and one notice in total', async () => {
    const user = '777777777777777777';
    const asked: { id: string }[] = [];
    for (let i = 0; i < 8; i++) {
      const g = i % 2 === 0 ? G0 : G1;
      asked.push(await discord.userMessage({ channelId: g.channels[0]!.id, authorId: user, content: `limited question number ${i}?` }));
      await sleep(150);
    }
    await waitFor(() => asked.flatMap((m) => repliesTo(m.id)).length >= 6, 30_000);
    await sleep(1500);
    const replies = asked.flatMap((m) => repliesTo(m.id));
    const notices = replies.filter((r) => /asking faster than I can answer/.test(String(r.raw.content)));
    assert.equal(notices.length, 1, 'one notice');
    assert.equal(replies.length - notices.length, 5, 'five answers');
  });

  test('killing one process leaves the other answering its guild', async () => {
    s1.child.kill('SIGKILL');
    await s1.exited;
    const m = await discord.userMessage({
      channelId: G0.channels[0]!.id,
      authorId: '888888888888888881',
      content: 'still there after the other died?',
    });
    await s0.waitForLog((l) => l.msg === 'answered' && l.messageId === m.id, 30_000);
    assert.equal((await getJson(s0.statusPort(), '/readyz')).status, 200);
    // Its shard is free again: a new process takes it.
    const again = serve(['--shards', '1', '--shard-count', '2']);
    await again.waitForLog((l) => l.msg === 'copilot is serving', 90_000);
    const m1 = await discord.userMessage({
      channelId: G1.channels[0]!.id,
      authorId: '888888888888888882',
      content: 'who serves shard one now?',
    });
    await again.waitForLog((l) => l.msg === 'answered' && l.messageId === m1.id, 30_000);
  });
});

describe('shard options are checked before anything starts', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase('embedded');
  });
  after(async () => {
    await t.cleanup();
  });

  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ['an id outside 0..N-1', ['--shards', '0,2', '--shard-count', '2'], {}, /--shards: shard 2 is outside 0\.\.1 \(--shard-count is 2\)/],
    ['a duplicate', ['--shards', '0,1,1', '--shard-count', '3'], {}, /--shards: shard 1 is listed twice/],
    ['a range listed twice', ['--shards', '0-2,2', '--shard-count', '3'], {}, /shard 2 is listed twice/],
    ['a list without a count', ['--shards', '0'], {}, /--shards needs --shard-count/],
    ['a list in SHARDS without SHARD_COUNT', [], { SHARDS: '0-1' }, /SHARDS needs --shard-count \(or SHARD_COUNT\)/],
    ['a count below 1', ['--shards', '0', '--shard-count', '0'], {}, /--shard-count: must be a whole number from 1/],
    ['a bad SHARD_COUNT', [], { SHARD_COUNT: 'many' }, /SHARD_COUNT: must be a whole number from 1 to \d+, or auto/],
    ['a bad list', ['--shards', '1-0', '--shard-count', '2'], {}, /runs backwards/],
    [
      'a partial list on the embedded database',
      ['--shards', '0', '--shard-count', '2'],
      {},
      /embedded database serves one process.*DATABASE_URL/,
    ],
  ];
  for (const [name, args, extra, message] of cases) {
    test(`${name}: exit 2 with a clear message`, async () => {
      const s = startServe({ ...t.env, DISCORD_TOKEN: TOKEN, DISCORD_API_URL: 'http://127.0.0.1:9/api', ...extra }, args);
      const exit = await Promise.race([s.exited, sleep(30_000).then(() => null)]);
      assert.ok(exit, 'exited by itself');
      assert.equal(exit.code, 2, s.stderr());
      assert.match(s.stderr(), message);
      assert.ok(!s.logs.some((l) => l.msg === 'database ready'), 'nothing was opened');
    });
  }

  test('every shard listed with its count on the embedded database is accepted (one process runs them all)', async () => {
    const discord = await startFakeDiscord({ token: TOKEN });
    const s = startServe({ ...t.env, DISCORD_TOKEN: TOKEN, DISCORD_API_URL: discord.apiUrl }, ['--shards', '0', '--shard-count', '1']);
    try {
      await s.waitForLog((l) => l.msg === 'copilot is serving', 90_000);
      const shards = ((await getJson(s.statusPort(), '/status')).json as { shards: { id: number; state: string }[] }).shards;
      assert.deepEqual(
        shards.map((x) => [x.id, x.state]),
        [[0, 'ready']],
      );
    } finally {
      await s.stop();
      await discord.close();
    }
  });
});
