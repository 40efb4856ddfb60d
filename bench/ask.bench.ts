/**
 * `/ask` with instant fakes on native Postgres (`copilot serve` as a child process):
 * INTERACTION_CREATE → deferred callback (target p50 ≤ 5 ms) and → first streamed text in the
 * response (target ≤ the fake's time to first token + 30 ms, p50).
 */
import { startFakeDiscord } from '../test/fakes/discord.js';
import { startFakeGroq } from '../test/fakes/groq.js';
import { runCli } from '../test/support/cli.js';
import { createTestDatabase } from '../test/support/db.js';
import { startServe } from '../test/support/serve.js';
import { percentile, printTable } from './support.js';

const TTFT_MS = 20;
const ASKS = Number(process.env.BENCH_ASKS ?? 200);
const t = await createTestDatabase('postgres');
const discord = await startFakeDiscord({
  token: 'bench-token',
  rateLimit: { limit: 1_000_000, windowMs: 1000 },
  dispatchOwnMessages: false,
});
const groq = await startFakeGroq({ apiKey: 'gsk_bench' });
groq.setBehavior({ kind: 'ok', reply: 'Short answer from the fake.', ttftMs: TTFT_MS });
await runCli(['channels', 'add', discord.channelId], { env: t.env });
const serve = startServe({
  ...t.env,
  DISCORD_TOKEN: 'bench-token',
  DISCORD_API_URL: discord.apiUrl,
  GROQ_API_KEY: 'gsk_bench',
  GROQ_BASE_URL: groq.baseURL,
  COPILOT_USER_RATE_PER_MINUTE: '10000',
  GROQ_TOKENS_PER_MINUTE: '10000000',
  DISCORD_REST_GLOBAL_RPS: '100000',
});
await serve.waitForLog((l) => l.msg === 'copilot is serving', 60_000);

const deferred: number[] = [];
const firstText: number[] = [];
for (let n = 0; n < ASKS; n++) {
  const i = await discord.slashCommand({ name: 'ask', options: { question: `how do exports work? (${n})` }, userId: discord.userId });
  const cb = await i.waitFor((r) => r.kind === 'callback', 10_000);
  const first = await i.waitFor((r) => r.kind === 'edit' && r.status < 300 && Boolean(r.content), 10_000);
  // The answer ends (vote buttons) before the next question, as one user asking in turn.
  await i.waitFor((r) => r.kind === 'edit' && JSON.stringify(r.components ?? []).includes('vote:'), 10_000);
  if (n >= 10) {
    deferred.push(cb.afterMs);
    firstText.push(first.afterMs);
  }
}

printTable(
  `/ask through copilot serve with instant fakes (Groq TTFT ${TTFT_MS} ms), native Postgres, ${deferred.length} asks after 10 warm-up`,
  ['measure', 'value', 'target'],
  [
    ['INTERACTION_CREATE → deferred callback, p50 ms', percentile(deferred, 50), '≤ 5'],
    ['INTERACTION_CREATE → deferred callback, p95 ms', percentile(deferred, 95), ''],
    ['INTERACTION_CREATE → first streamed text, p50 ms', percentile(firstText, 50), `≤ ${TTFT_MS + 30}`],
    ['INTERACTION_CREATE → first streamed text, p95 ms', percentile(firstText, 95), ''],
  ],
);

const stopped = await serve.stop();
console.log(`serve stopped with code ${stopped.code} in ${stopped.ms.toFixed(0)} ms`);
await discord.close();
await groq.close();
await t.cleanup();
