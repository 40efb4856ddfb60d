/**
 * `copilot invite`, `doctor` and `serve` against the fake Discord: the invite link with the
 * application id Discord gives (or, when Discord cannot be reached, the one in the token) and the
 * exact permission integer; no token → exit 2 naming DISCORD_TOKEN. `serve` logs the link at
 * start, and a gateway refusing the Message Content intent (close 4014) ends it with exit 1 and
 * a line naming the Developer Portal switch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFakeDiscord } from '../fakes/discord.js';
import type { FakeDiscord } from '../fakes/discord.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { startServe } from '../support/serve.js';

const APP_ID = '1300000000000000777';
const PERMISSIONS = '309237713920';
const link = (id: string) =>
  `https://discord.com/oauth2/authorize?client_id=${id}&scope=bot+applications.commands&permissions=${PERMISSIONS}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the invite link', () => {
  let t: TestDatabase;
  let discord: FakeDiscord;
  before(async () => {
    t = await createTestDatabase('postgres');
    // An application id that is not the bot's: it can only come from GET /oauth2/applications/@me.
    discord = await startFakeDiscord({ applicationId: APP_ID, realisticToken: true });
  });
  after(async () => {
    await discord.close();
    await t.cleanup();
  });
  const env = () => ({ ...t.env, DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl });

  test('copilot invite prints the link with the application id from Discord and exactly the five permissions', async () => {
    const r = await runCli(['invite'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), link(APP_ID));
    assert.ok(discord.calls.some((c) => c.method === 'GET' && c.path === '/oauth2/applications/@me'));

    const json = await runCli(['--json', 'invite'], { env: env() });
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), { url: link(APP_ID), applicationId: APP_ID, permissions: PERMISSIONS, source: 'discord' });
  });

  test('Discord unreachable: the application id is decoded from the token', async () => {
    const r = await runCli(['--json', 'invite'], { env: { ...env(), DISCORD_API_URL: 'http://127.0.0.1:9/api' } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      url: link(discord.botId),
      applicationId: discord.botId,
      permissions: PERMISSIONS,
      source: 'token',
    });
  });

  test('no DISCORD_TOKEN: exit 2 naming it, and doctor skips the link', async () => {
    const r = await runCli(['invite'], { env: t.env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /DISCORD_TOKEN/);
    assert.equal(r.stdout, '');
    const bad = await runCli(['invite'], { env: { ...t.env, DISCORD_TOKEN: 'not-a-token', DISCORD_API_URL: 'http://127.0.0.1:9/api' } });
    assert.equal(bad.code, 1, 'neither Discord nor the token knows the id');
    assert.match(bad.stderr, /application id/);
  });

  test('copilot doctor prints the link', async () => {
    const r = await runCli(['doctor'], { env: env() });
    assert.ok(r.stdout.includes(link(APP_ID)), r.stdout);
  });

  test('copilot serve logs the link once at start', async () => {
    const serve = startServe(env());
    try {
      await serve.waitForLog((l) => l.msg === 'copilot is serving', 30_000);
      const line = await serve.waitForLog((l) => typeof l.invite === 'string', 5000);
      assert.equal(line.invite, link(APP_ID));
      await sleep(200);
      assert.equal(serve.logs.filter((l) => typeof l.invite === 'string').length, 1);
    } finally {
      await serve.stop();
    }
  });
});

describe('copilot serve without the Message Content intent', () => {
  let t: TestDatabase;
  let discord: FakeDiscord;
  before(async () => {
    t = await createTestDatabase('postgres');
    discord = await startFakeDiscord({ messageContentIntent: false });
  });
  after(async () => {
    await discord.close();
    await t.cleanup();
  });

  test('gateway close 4014: one clear line naming the Developer Portal switch, exit 1', async () => {
    const serve = startServe({ ...t.env, DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl });
    const exit = await Promise.race([serve.exited, sleep(40_000).then(() => null)]);
    assert.ok(exit, 'exited by itself');
    assert.equal(exit.code, 1);
    assert.match(serve.stderr(), /gateway close 4014.*"Message Content Intent".*Discord Developer Portal/);
    assert.ok(!serve.stderr().includes('\n    at '), 'no stack trace');
  });
});
