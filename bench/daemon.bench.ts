/**
 * The daemon with instant fakes on native Postgres (`copilot serve` as a child process):
 * MESSAGE_CREATE → typing POST (target p50 ≤ 5 ms) and → first reply POST (target ≤ the fake's
 * time to first token + 30 ms, p50; a follow-up that is rewritten first makes two Groq requests,
 * so its target is two times to first token + 30 ms); messages/s sustained over many channels
 * (target ≥ 50); idle RSS (target ≤ 150 MB) and RSS after 10,000 messages (flat).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServe } from '../test/support/serve.js';
import { TTFT_MS, serveBench, shippedNodeOptions, standaloneQuestion as standalone } from './serve-fixture.js';
import { percentile, printTable } from './support.js';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 10_000);
const bench = await serveBench({ channels: (d) => Array.from({ length: 50 }, (_, i) => d.addChannel({ name: `c${i}`, type: 0 }).id) });
const { discord, groq, channels } = bench;
// The daemon runs as shipped: with the node flags of the Dockerfile's CMD.
const shipped = shippedNodeOptions();
const serve = startServe({ ...bench.env, NODE_OPTIONS: shipped });
await serve.waitForLog((l) => l.msg === 'copilot is serving', 60_000);
const pid = serve.child.pid!;
const rssMb = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const statusPort = serve.statusPort();
/** Live JavaScript heap, from the daemon's own /metrics. */
async function heapMb(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? NaN) / 1048576;
}

const { waitReplies } = bench;

/** A follow-up that looks context-dependent: rewritten by the small model first, then answered. */
const followUp = (n: number) => `and what about ${n}?`;

// Latency: one message at a time, over the channels.
await sleep(2000);
const idleRss = rssMb();
async function latency(count: number, first: number, text: (n: number) => string) {
  const typing: number[] = [];
  const firstReply: number[] = [];
  const groqBefore = groq.chatRequests().length;
  for (let i = 0; i < count; i++) {
    const n = first + i;
    const channelId = channels[n % channels.length]!;
    const before = discord.calls.length;
    const sent = performance.now();
    const m = await discord.userMessage({ channelId, content: text(n), authorId: String(600000000000000000n + BigInt(n)) });
    await waitReplies(n + 1);
    const calls = discord.calls.slice(before);
    const typingCall = calls.find((c) => c.path === `/channels/${channelId}/typing`);
    const reply = calls.find(
      (c) => c.method === 'POST' && (c.body as { message_reference?: { message_id: string } })?.message_reference?.message_id === m.id,
    );
    if (typingCall) typing.push(typingCall.at - sent);
    if (reply) firstReply.push(reply.at - sent);
  }
  return { typing, firstReply, groqPerMessage: (groq.chatRequests().length - groqBefore) / count };
}
const single = await latency(200, 0, standalone);
const follow = await latency(100, 200, followUp);
const { typing, firstReply } = single;

// Throughput and memory: the rest in waves over all channels.
let done = 300;
const rssAt: [number, number, number][] = [[done, rssMb(), await heapMb()]];
const started = performance.now();
while (done < TOTAL) {
  const wave = Math.min(1000, TOTAL - done);
  for (let i = 0; i < wave; i++) {
    const n = done + i;
    void discord.userMessage({
      channelId: channels[n % channels.length]!,
      content: standalone(n),
      authorId: String(700000000000000000n + BigInt(n % 5000)),
    });
  }
  done += wave;
  await waitReplies(done);
  rssAt.push([done, rssMb(), await heapMb()]);
}
const seconds = (performance.now() - started) / 1000;
const rate = (TOTAL - 300) / seconds;
await sleep(3000);
const afterRss = rssMb();

printTable(
  `copilot serve with instant fakes (Groq TTFT ${TTFT_MS} ms), native Postgres, NODE_OPTIONS="${shipped}"`,
  ['measure', 'value', 'target'],
  [
    ['MESSAGE_CREATE → typing POST, p50 ms', percentile(typing, 50), '≤ 5'],
    ['MESSAGE_CREATE → typing POST, p95 ms', percentile(typing, 95), ''],
    ['MESSAGE_CREATE → first reply POST, p50 ms', percentile(firstReply, 50), `≤ ${TTFT_MS + 30}`],
    ['MESSAGE_CREATE → first reply POST, p95 ms', percentile(firstReply, 95), ''],
    [`  Groq requests per question`, single.groqPerMessage, '1'],
    ['follow-up (rewritten first) → first reply POST, p50 ms', percentile(follow.firstReply, 50), `≤ ${2 * TTFT_MS + 30}`],
    ['follow-up (rewritten first) → first reply POST, p95 ms', percentile(follow.firstReply, 95), ''],
    [`  Groq requests per follow-up`, follow.groqPerMessage, '2'],
    [`throughput over ${channels.length} channels, messages/s (${TOTAL - 300} messages)`, rate, '≥ 50'],
    ['idle RSS after start, MB', idleRss, '≤ 150'],
    [`RSS after ${TOTAL} messages (3 s idle), MB`, afterRss, 'flat'],
  ],
);
console.log(
  `RSS / JS heap used by messages handled: ${rssAt.map(([n, mb, heap]) => `${n}: ${mb.toFixed(0)}/${heap.toFixed(0)} MB`).join(' · ')}`,
);

const stopped = await serve.stop();
console.log(`serve stopped with code ${stopped.code} in ${stopped.ms.toFixed(0)} ms`);
await bench.close();
