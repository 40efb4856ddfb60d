/**
 * `/ask` with instant fakes on native Postgres (`copilot serve` as a child process):
 * INTERACTION_CREATE → deferred callback (target p50 ≤ 5 ms) and → first streamed text in the
 * response (target ≤ the fake's time to first token + 30 ms, p50).
 */
import { startServe } from '../test/support/serve.js';
import { TTFT_MS, serveBench } from './serve-fixture.js';
import { percentile, printTable } from './support.js';

const ASKS = Number(process.env.BENCH_ASKS ?? 200);
const bench = await serveBench();
const { discord } = bench;
const serve = startServe(bench.env);
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
await bench.close();
