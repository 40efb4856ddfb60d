/**
 * Stress on the embedded database shared by `copilot serve`: CLI writers, ingests through the
 * daemon's socket and Discord messages all at once, for several rounds — nothing may fail.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeDiscord } from '../fakes/discord.js';
import type { FakeDiscord } from '../fakes/discord.js';
import { startFakeEmbeddings } from '../fakes/embeddings.js';
import type { FakeEmbeddings } from '../fakes/embeddings.js';
import { lastUserMessage, startFakeGroq } from '../fakes/groq.js';
import type { FakeGroq } from '../fakes/groq.js';
import { runCli } from '../support/cli.js';
import type { CliResult } from '../support/cli.js';
import { createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { longManual } from '../support/pdfs.js';
import { startServe } from '../support/serve.js';
import type { ServeProcess } from '../support/serve.js';

const TOKEN = 'test-bot-token';
const ROUNDS = 3;
const WRITERS = 8; // of each kind: `instructions set --channel` and `channels add`
const INGESTS = 2;
const MESSAGES = 8;
const LOAD_ENV = { COPILOT_USER_RATE_PER_MINUTE: '10000', GROQ_TOKENS_PER_MINUTE: '10000000', DISCORD_REST_GLOBAL_RPS: '100000' };

describe('copilot serve on the embedded database: concurrent clients through its socket', () => {
  let db: TestDatabase;
  let discord: FakeDiscord;
  let groq: FakeGroq;
  let embeddings: FakeEmbeddings;
  let serve: ServeProcess;
  let env: Record<string, string>;
  const talk: string[] = [];
  const allowed: string[] = [];

  before(async () => {
    db = await createTestDatabase('embedded');
    discord = await startFakeDiscord({ token: TOKEN, rateLimit: { limit: 100_000, windowMs: 1000 } });
    groq = await startFakeGroq({ apiKey: 'gsk_test' });
    groq.setBehavior({ kind: 'ok', reply: (body) => `re: ${lastUserMessage(body)}` });
    embeddings = await startFakeEmbeddings();
    env = { ...db.env, EMBEDDINGS_URL: embeddings.url };
    for (let i = 0; i < 4; i++) talk.push(discord.addChannel({ name: `talk${i}`, type: 0 }).id);
    for (let i = 0; i < WRITERS; i++) allowed.push(String(600000000000000000n + BigInt(i)));
    const added = await runCli(['channels', 'add', ...talk, ...allowed], { env });
    assert.equal(added.code, 0, added.stderr);
    for (let i = 0; i < ROUNDS * INGESTS; i++) writeFileSync(join(db.home, `manual-${i}.pdf`), await longManual(3 + i));
    serve = startServe({
      ...env,
      ...LOAD_ENV,
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: discord.apiUrl,
      GROQ_API_KEY: 'gsk_test',
      GROQ_BASE_URL: groq.baseURL,
    });
    await serve.waitForLog((l) => l.msg === 'copilot is serving', 60_000);
  });
  after(async () => {
    await serve?.stop();
    await discord.close();
    await groq.close();
    await embeddings.close();
    await db.cleanup();
  });

  test(`${ROUNDS} rounds of ${WRITERS * 2} CLI writers, ${INGESTS} ingests and ${MESSAGES} messages at once: every command and every answer succeeds`, async (t) => {
    const failures: string[] = [];
    let commands = 0;
    let ingests = 0;
    let messages = 0;
    let rounds = 0;
    const started = performance.now();
    for (let round = 0; round < ROUNDS; round++) {
      const newIds = Array.from({ length: WRITERS }, (_, i) => String(700000000000000000n + BigInt(round * 100 + i)));
      const texts = allowed.map((id) => `round ${round}: answer briefly in ${id}`);
      const cli = (args: string[]) => runCli(args, { env, timeoutMs: 60_000 });
      const check = (what: string, r: CliResult) => {
        if (r.code !== 0) failures.push(`round ${round} ${what}: exit ${r.code}: ${r.stderr.trim()}`);
      };
      const asked: { id: string; channelId: string; content: string }[] = [];
      await Promise.all([
        ...allowed.map(async (id, i) =>
          check(`instructions set --channel ${id}`, await cli(['instructions', 'set', '--channel', id, texts[i]!])),
        ),
        ...newIds.map(async (id) => check(`channels add ${id}`, await cli(['channels', 'add', id]))),
        ...Array.from({ length: INGESTS }, async (_, i) =>
          check(`kb ingest manual-${round * INGESTS + i}.pdf`, await cli(['kb', 'ingest', `manual-${round * INGESTS + i}.pdf`])),
        ),
        ...Array.from({ length: MESSAGES }, async (_, i) => {
          const channelId = talk[i % talk.length]!;
          const content = `round ${round} question ${i}: how do I export?`;
          const m = await discord.userMessage({ channelId, content, authorId: String(800000000000000000n + BigInt(round * 100 + i)) });
          asked.push({ id: m.id, channelId, content });
        }),
      ]);
      rounds++;
      commands += WRITERS * 2;
      ingests += INGESTS;
      messages += MESSAGES;

      // Every message gets its reply (bounded wait), and the reply is the answer, not an apology.
      const replyTo = (id: string) => [...discord.messages.values()].find((m) => m.fromBot && m.messageReference?.message_id === id);
      const answered = (id: string) => serve.logs.some((l) => l.msg === 'answered' && l.messageId === id);
      const deadline = Date.now() + 60_000;
      while (asked.some((a) => !answered(a.id)) && Date.now() < deadline) await sleep(100);
      for (const a of asked) {
        if (!answered(a.id)) failures.push(`round ${round}: "${a.content}" not answered`);
        const reply = replyTo(a.id);
        if (!reply) failures.push(`round ${round}: no reply to "${a.content}"`);
        else if (!reply.content.startsWith(`re: ${a.content}`))
          failures.push(`round ${round}: reply to "${a.content}" was "${reply.content.slice(0, 80)}"`);
      }

      // The results are stored: channels, instructions, documents, and both messages of each exchange.
      const list = await cli(['--json', 'channels', 'list']);
      check('channels list', list);
      const ids = new Set((JSON.parse(list.stdout || '[]') as { id: string }[]).map((c) => c.id));
      for (const id of newIds) if (!ids.has(id)) failures.push(`round ${round}: channel ${id} not stored`);
      for (const [i, id] of allowed.entries()) {
        const shown = await cli(['--json', 'instructions', 'show', '--channel', id]);
        check(`instructions show --channel ${id}`, shown);
        const content = shown.code === 0 ? (JSON.parse(shown.stdout) as { content: string }).content : null;
        if (content !== texts[i]) failures.push(`round ${round}: instructions of ${id} are "${content}"`);
      }
      const docs = await cli(['--json', 'kb', 'list']);
      check('kb list', docs);
      const names = new Set((JSON.parse(docs.stdout || '[]') as { name: string }[]).map((d) => d.name));
      for (let i = 0; i < INGESTS; i++)
        if (!names.has(`manual-${round * INGESTS + i}.pdf`)) failures.push(`round ${round}: manual-${round * INGESTS + i}.pdf not stored`);
      for (const channelId of talk) {
        const convo = await cli(['--json', 'convo', 'show', channelId, '--limit', '1000']);
        check(`convo show ${channelId}`, convo);
        const stored = convo.code === 0 ? (JSON.parse(convo.stdout) as { role: string; content: string }[]) : [];
        for (const a of asked.filter((x) => x.channelId === channelId)) {
          const at = stored.findIndex((m) => m.role === 'user' && m.content === a.content);
          if (at < 0) failures.push(`round ${round}: "${a.content}" not stored`);
          else if (!(stored[at + 1]?.role === 'assistant' && stored[at + 1]!.content.startsWith(`re: ${a.content}`)))
            failures.push(`round ${round}: the answer to "${a.content}" not stored`);
        }
      }
      if (failures.length > 0) break; // no use going on: report what failed
    }
    const seconds = (performance.now() - started) / 1000;
    t.diagnostic(
      `shared embedded database: ${rounds} rounds, each ${WRITERS * 2} CLI writers + ${INGESTS} kb ingests + ${MESSAGES} Discord messages at once; ` +
        `in all ${commands} commands, ${ingests} ingests, ${messages} messages; ${failures.length} failures; ${seconds.toFixed(1)} s`,
    );
    if (failures.length > 0) t.diagnostic(`first failures: ${failures.slice(0, 10).join(' | ')}`);
    assert.deepEqual(failures, []);
    const errors = serve.logs.filter((l) => Number(l.level) >= 50);
    assert.deepEqual(errors, [], 'no error logged by serve');
    const stopped = await serve.stop('SIGTERM');
    assert.equal(stopped.code, 0, serve.stderr());
    assert.ok(stopped.ms < 10_000, `stopped in ${stopped.ms} ms, without the forced exit`);
    assert.ok(!serve.logs.some((l) => l.msg === 'shutdown took too long; exiting'));
  });
});
