/**
 * Messages/s with the fake Discord's two gateway shards served by one `copilot serve` process
 * (both shards) and by two (one shard each), on one native Postgres, in the same run: the
 * configurations alternate, each round a fresh start, with instant fakes (Groq TTFT 20 ms).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startServe } from '../test/support/serve.js';
import type { ServeProcess } from '../test/support/serve.js';
import { guildOn } from '../test/support/shards.js';
import { TTFT_MS, serveBench, shippedNodeOptions, standaloneQuestion } from './serve-fixture.js';
import { median, printTable } from './support.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WARMUP = 100;
const TOKEN = `${Buffer.from('1234567890123456789').toString('base64')}.GhIjKl.bench-token-part`;

const guilds = [guildOn(0, 1, 25), guildOn(1, 2, 25)];
const channels = guilds.flatMap((g) => g.channels.map((c) => c.id));
const bench = await serveBench({ token: TOKEN, discord: { guilds, recommendedShards: 2 }, channels: () => channels });
const { discord, replyPosts, waitReplies } = bench;
// The daemons run as shipped: with the node flags of the Dockerfile's CMD.
const shipped = shippedNodeOptions();
const env = { ...bench.env, NODE_OPTIONS: shipped };

let sent = 0;
/** Sends `count` messages over every channel of both guilds at once; resolves when all are answered. */
async function burst(count: number): Promise<number> {
  const target = replyPosts() + count;
  const started = performance.now();
  for (let i = 0; i < count; i++, sent++) {
    void discord.userMessage({
      channelId: channels[sent % channels.length]!,
      content: standaloneQuestion(sent),
      authorId: String(700000000000000000n + BigInt(sent % 5000)),
    });
  }
  await waitReplies(target);
  return count / ((performance.now() - started) / 1000);
}

/** Starts the processes (each with its shard arguments), measures, stops them. */
async function measure(shardArgs: string[][]): Promise<number> {
  const serves: ServeProcess[] = shardArgs.map((args) => startServe(env, args));
  try {
    await Promise.all(serves.map((s) => s.waitForLog((l) => l.msg === 'copilot is serving', 90_000)));
    await sleep(1000);
    await burst(WARMUP);
    return await burst(MESSAGES);
  } finally {
    for (const s of serves) await s.stop();
  }
}

const one: number[] = [];
const two: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  one.push(await measure([['--shards', '0-1', '--shard-count', '2']]));
  two.push(
    await measure([
      ['--shards', '0', '--shard-count', '2'],
      ['--shards', '1', '--shard-count', '2'],
    ]),
  );
}

printTable(
  `messages/s over ${channels.length} channels in 2 guilds on 2 shards, ${MESSAGES} messages a round, ${ROUNDS} rounds alternating, one native Postgres (Groq TTFT ${TTFT_MS} ms, NODE_OPTIONS="${shipped}")`,
  ['configuration', 'messages/s (median)', 'each round'],
  [
    ['1 process, shards 0-1', median(one), one.map((x) => x.toFixed(1)).join(' · ')],
    ['2 processes, one shard each', median(two), two.map((x) => x.toFixed(1)).join(' · ')],
  ],
);

await bench.close();
