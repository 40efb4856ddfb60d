/**
 * The Groq token budget shared by two `copilot serve` processes (one shard each) on one Postgres:
 * questions arriving in both processes at once get no more Groq requests than one budget allows,
 * the rest the retrieval-only answer, and the budget is spent once across both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FALLBACK_BUSY } from '../../src/answer/fallback.js';
import { startFakeDiscord } from '../fakes/discord.js';
import type { FakeDiscord, FakeMessage } from '../fakes/discord.js';
import { startFakeGroq } from '../fakes/groq.js';
import type { FakeGroq } from '../fakes/groq.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { startServe } from '../support/serve.js';
import type { ServeProcess } from '../support/serve.js';
import { guildOn } from '../support/shards.js';

const TOKEN = `${Buffer.from('1234567890123456789').toString('base64')}.GhIjKl.test-token-secret-part`;
const G0 = guildOn(0, 3, 3);
const G1 = guildOn(1, 4, 3);
/** Room for two answers' reservations (each its prompt plus 1,000 for the answer), not three. */
const BUDGET = 3000;
/** Groq holds every answer this long before its first byte: all reservations overlap. */
const TTFT_MS = 6000;
/** The busy lead as it ends the retrieval-only answer (with passages it opens it). */
const busyNote = FALLBACK_BUSY.replace(/; here is.*$/, '');

describe('the Groq token budget across two serve processes', () => {
  let t: TestDatabase;
  let discord: FakeDiscord;
  let groq: FakeGroq;
  const serves: ServeProcess[] = [];

  before(async () => {
    t = await createTestDatabase('postgres');
    discord = await startFakeDiscord({ token: TOKEN, guilds: [G0, G1], recommendedShards: 2 });
    groq = await startFakeGroq({ apiKey: 'gsk_test' });
    const env = {
      ...t.env,
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: discord.apiUrl,
      GROQ_API_KEY: 'gsk_test',
      GROQ_BASE_URL: groq.baseURL,
      GROQ_TOKENS_PER_MINUTE: String(BUDGET),
    };
    const added = await runCli(['channels', 'add', ...[G0, G1].flatMap((g) => g.channels.map((c) => c.id))], { env: t.env });
    assert.equal(added.code, 0, added.stderr);
    serves.push(startServe(env, ['--shards', '0', '--shard-count', '2']), startServe(env, ['--shards', '1', '--shard-count', '2']));
    await Promise.all(serves.map((s) => s.waitForLog((l) => l.msg === 'copilot is serving', 90_000)));
  });
  after(async () => {
    for (const s of serves) await s.stop();
    await discord.close();
    await groq.close();
    await t.cleanup();
  });

  const replyTo = (m: FakeMessage) => [...discord.messages.values()].find((x) => x.fromBot && x.messageReference?.message_id === m.id);

  test('six questions at once, three in each process: two Groq requests in all, four retrieval-only answers', async () => {
    groq.setBehavior({ kind: 'ok', reply: 'A generated answer.', ttftMs: TTFT_MS });
    // One question per channel (a channel's questions are answered one after another) and per
    // user, each standing alone (no follow-up rewrite asks Groq too).
    const asked = await Promise.all(
      [G0, G1].flatMap((g, gi) =>
        g.channels.map((c, ci) =>
          discord.userMessage({ channelId: c.id, authorId: `90000000000000000${gi}${ci}`, content: `what does plan ${gi}${ci} include?` }),
        ),
      ),
    );
    for (const m of asked) {
      const s = serves[G0.channels.some((c) => c.id === m.channelId) ? 0 : 1]!;
      await s.waitForLog((l) => l.msg === 'answered' && l.messageId === m.id, 60_000);
    }
    const texts = asked.map((m) => String(replyTo(m)?.raw.content ?? ''));
    const busy = texts.filter((x) => x.includes(busyNote));
    const generated = texts.filter((x) => x.includes('A generated answer.'));
    const refusals = serves.flatMap((s) => s.logs.filter((l) => l.msg === 'Groq token budget exhausted; retrieval-only answer'));
    const detail = JSON.stringify({ texts, refusals });
    assert.equal(groq.chatRequests().length, 2, `Groq requests: ${detail}`);
    assert.equal(generated.length, 2, detail);
    assert.equal(busy.length, 4, detail);
    assert.equal(refusals.length, 4, detail);
    for (const r of refusals) {
      const estimate = Number(r.estimate);
      assert.ok(estimate * 2 <= BUDGET && estimate * 3 > BUDGET, `an estimate of ${estimate} fits the budget twice, not three times`);
    }
  });

  test('once the answers are settled with their real usage, the budget has room again in either process', async () => {
    groq.setBehavior({ kind: 'ok', reply: 'A generated answer.' });
    const before = groq.chatRequests().length;
    const asked: FakeMessage[] = [];
    for (const [i, g] of [G0, G1].entries()) {
      asked.push(
        await discord.userMessage({
          channelId: g.channels[0]!.id,
          authorId: `91000000000000000${i}`,
          content: `how many seats does the enterprise plan number ${i} include?`,
        }),
      );
    }
    for (const [i, m] of asked.entries()) await serves[i]!.waitForLog((l) => l.msg === 'answered' && l.messageId === m.id, 60_000);
    await sleep(200);
    const models = groq
      .chatRequests()
      .slice(before)
      .map((r) => r.body?.model);
    assert.equal(models.length, 2, `one answer request each, no rewrite: ${JSON.stringify(models)}`);
    for (const m of asked) assert.match(String(replyTo(m)?.raw.content), /^A generated answer\./);
  });
});
