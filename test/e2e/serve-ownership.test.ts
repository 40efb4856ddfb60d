/**
 * One `serve` per home (embedded) and per bot (Postgres): a second one refuses to start and
 * names the first. The embedded database's socket admits only the owner of COPILOT_HOME.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { serveLockKey } from '../../src/db/serve-lock.js';
import { startFakeDiscord } from '../fakes/discord.js';
import type { FakeDiscord } from '../fakes/discord.js';
import { startFakeGroq } from '../fakes/groq.js';
import type { FakeGroq } from '../fakes/groq.js';
import { runCli } from '../support/cli.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { startServe } from '../support/serve.js';
import type { ServeProcess } from '../support/serve.js';

// Shaped like a real token: the first segment is the bot's id in base64.
const TOKEN = `${Buffer.from('1234567890123456789').toString('base64')}.GhIjKl.test-token-secret-part`;

for (const kind of BACKENDS) {
  describe(`one copilot serve per ${kind === 'embedded' ? 'home' : 'bot and database'} (${kind})`, () => {
    let t: TestDatabase;
    let discord: FakeDiscord;
    let groq: FakeGroq;
    let env: Record<string, string>;
    const serves: ServeProcess[] = [];
    const serve = () => {
      const s = startServe(env);
      serves.push(s);
      return s;
    };

    before(async () => {
      t = await createTestDatabase(kind);
      discord = await startFakeDiscord({ token: TOKEN });
      groq = await startFakeGroq({ apiKey: 'gsk_test' });
      groq.setBehavior({ kind: 'ok', reply: 'Only once.' });
      env = { ...t.env, DISCORD_TOKEN: TOKEN, DISCORD_API_URL: discord.apiUrl, GROQ_API_KEY: 'gsk_test', GROQ_BASE_URL: groq.baseURL };
      assert.equal((await runCli(['channels', 'add', discord.channelId], { env: t.env })).code, 0);
    });
    after(async () => {
      for (const s of serves) await s.stop();
      await discord.close();
      await groq.close();
      await t.cleanup();
    });

    test("a second serve exits 2 naming the first one's pid; the first keeps answering, once; after it stops a new serve starts", async () => {
      const first = serve();
      await first.waitForLog((l) => l.msg === 'copilot is serving', 60_000);
      const second = serve();
      const exit = await Promise.race([second.exited, sleep(60_000).then(() => null)]);
      assert.ok(exit, 'the second serve exited by itself');
      assert.equal(exit.code, 2, second.stderr());
      assert.match(second.stderr(), new RegExp(`pid ${first.child.pid}\\b`));
      if (kind === 'embedded') assert.match(second.stderr(), /already serves this home/);
      else
        assert.ok(
          second.stderr().includes(`\`copilot serve\` pid ${first.child.pid} on host ${hostname()} already serves this bot`),
          second.stderr(),
        );
      assert.ok(!second.stderr().includes(TOKEN) && !second.stderr().includes('test-token-secret-part'), 'no token in the message');
      assert.equal(discord.sessions.identifies, 1, 'the second serve never connected to Discord');

      const m = await discord.userMessage({ channelId: discord.channelId, content: 'who answers this?' });
      await first.waitForLog((l) => l.msg === 'answered' && l.messageId === m.id, 20_000);
      await sleep(1000);
      const replies = [...discord.messages.values()].filter((x) => x.fromBot && x.messageReference?.message_id === m.id);
      assert.equal(replies.length, 1, 'one reply');
      const convo = await runCli(['--json', 'convo', 'show', discord.channelId], { env: t.env });
      assert.equal(convo.code, 0, convo.stderr);
      const stored = (JSON.parse(convo.stdout) as { role: string; content: string }[]).filter((x) => x.content === 'who answers this?');
      assert.equal(stored.length, 1, 'stored once');

      const stopped = await first.stop();
      assert.equal(stopped.code, 0, first.stderr());
      const next = serve();
      await next.waitForLog((l) => l.msg === 'copilot is serving', 60_000);
      assert.equal((await next.stop()).code, 0, next.stderr());
    });

    if (kind === 'postgres') {
      test('a lock lost while the database was away and taken by another process: serve logs a fatal line and exits 1', async () => {
        const s = serve();
        await s.waitForLog((l) => l.msg === 'copilot is serving', 60_000);
        const other = new pg.Client({ connectionString: t.url! });
        await other.connect();
        try {
          const key = serveLockKey(TOKEN);
          // The lock's session goes away (as in a database restart) and someone else takes the lock at once.
          const { rows } = await other.query<{ ok: boolean }>(
            'select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1',
            [`copilot serve host=${hostname()} pid=${s.child.pid}`],
          );
          assert.deepEqual(
            rows.map((r) => r.ok),
            [true],
          );
          let taken = false;
          for (let i = 0; i < 200 && !taken; i++) {
            taken = (await other.query<{ t: boolean }>('select pg_try_advisory_lock($1::int4, $2::int4) as t', [key.bot, key.shard]))
              .rows[0]!.t;
            if (!taken) await sleep(5);
          }
          assert.ok(taken, 'the test took the lock');
          const exit = await Promise.race([s.exited, sleep(30_000).then(() => null)]);
          assert.ok(exit, 'serve stopped by itself');
          assert.equal(exit.code, 1, s.stderr());
          const fatal = s.logs.find((l) => l.level === 60);
          assert.match(String(fatal?.err), /started serving this bot/);
          assert.match(s.stderr(), /started serving this bot/);
        } finally {
          await other.end();
        }
      });
    }

    if (kind === 'embedded') {
      test('while serve runs, its socket refuses a client without the password or with a wrong one (28P01); the CLI works; the secret stays in the 0600 lock file', async () => {
        const s = serve();
        await s.waitForLog((l) => l.msg === 'copilot is serving', 60_000);
        const lockPath = join(t.home, 'copilot.lock');
        assert.equal(statSync(lockPath).mode & 0o777, 0o600);
        const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as { port: number; secret: string };
        assert.ok(lock.port > 0 && lock.secret.length >= 32);
        for (const password of [undefined, 'wrong', lock.secret.slice(1)]) {
          const c = new pg.Client({
            host: '127.0.0.1',
            port: lock.port,
            user: 'postgres',
            database: 'postgres',
            ...(password === undefined ? {} : { password }),
          });
          c.on('error', () => {});
          await assert.rejects(
            c.connect().then(() => c.query('select content from messages')),
            (err: { code?: string }) => err.code === '28P01',
            `password ${password === undefined ? '(none)' : 'wrong'}`,
          );
          await c.end().catch(() => {});
        }
        const outputs: string[] = [];
        for (const args of [
          ['--json', 'channels', 'list'],
          ['--json', 'db', 'status'],
          ['--json', '--verbose', 'kb', 'list'],
          ['--json', 'convo', 'list'],
        ]) {
          const r = await runCli(args, { env: t.env });
          assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
          outputs.push(r.stdout, r.stderr);
        }
        assert.ok(
          JSON.parse(outputs[0]!).some((c: { id: string }) => c.id === discord.channelId),
          'the CLI read through the socket',
        );
        const bad = await runCli(['--json', 'instructions', 'set', '--channel', '999999999999999999', 'x'], { env: t.env });
        assert.equal(bad.code, 2);
        outputs.push(bad.stdout, bad.stderr);
        await s.stop();
        for (const text of [...outputs, JSON.stringify(s.logs), s.stderr()])
          assert.ok(!text.includes(lock.secret), 'the secret never appears');
      });
    }
  });
}
