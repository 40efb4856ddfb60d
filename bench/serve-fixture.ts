/**
 * What the daemon benchmarks share: native Postgres, instant fakes (Groq TTFT 20 ms), the allowed
 * channels, the environment of `copilot serve` with limits out of the way, and counting replies.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeDiscord } from '../test/fakes/discord.js';
import type { FakeDiscord, FakeDiscordOptions } from '../test/fakes/discord.js';
import { startFakeGroq } from '../test/fakes/groq.js';
import type { FakeGroq } from '../test/fakes/groq.js';
import { runCli } from '../test/support/cli.js';
import { createTestDatabase } from '../test/support/db.js';
import type { TestDatabase } from '../test/support/db.js';

export const TTFT_MS = 20;

/** A question that stands alone (more than four words, nothing pointing back): one Groq request. */
export const standaloneQuestion = (n: number) => `How do I configure relay setting number ${n} for my server?`;

/** The node flags of the Dockerfile's CMD (the daemon as shipped), unless BENCH_NODE_OPTIONS says otherwise. */
export function shippedNodeOptions(): string {
  const cmd = /^CMD \[(.*)\]$/m.exec(readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8'))?.[1];
  if (cmd === undefined) throw new Error('the Dockerfile has no CMD [...] line');
  return process.env.BENCH_NODE_OPTIONS ?? (JSON.parse(`[${cmd}]`) as string[]).filter((a) => a.startsWith('--')).join(' ');
}

export interface ServeBench {
  t: TestDatabase;
  discord: FakeDiscord;
  groq: FakeGroq;
  /** The allowed channels' ids. */
  channels: string[];
  /** The environment of `copilot serve` (add NODE_OPTIONS for the shipped flags). */
  env: Record<string, string | undefined>;
  /** Reply POSTs the fake Discord has received so far. */
  replyPosts(): number;
  /** Waits until `n` replies have been posted (throws after `timeoutMs`). */
  waitReplies(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Native Postgres and the fakes; `channels(discord)` names the channels to allow (default: the
 * fake's own channel).
 */
export async function serveBench(
  options: { token?: string; discord?: Omit<FakeDiscordOptions, 'token'>; channels?: (discord: FakeDiscord) => string[] } = {},
): Promise<ServeBench> {
  const token = options.token ?? 'bench-token';
  const t = await createTestDatabase('postgres');
  const discord = await startFakeDiscord({
    rateLimit: { limit: 1_000_000, windowMs: 1000 },
    dispatchOwnMessages: false,
    ...options.discord,
    token,
  });
  const groq = await startFakeGroq({ apiKey: 'gsk_bench' });
  groq.setBehavior({ kind: 'ok', reply: 'Short answer from the fake.', ttftMs: TTFT_MS });
  const channels = options.channels?.(discord) ?? [discord.channelId];
  const added = await runCli(['channels', 'add', ...channels], { env: t.env });
  if (added.code !== 0) throw new Error(`channels add failed: ${added.stderr}`);
  const replyPosts = () => discord.calls.filter((c) => c.method === 'POST' && /\/messages$/.test(c.path)).length;
  return {
    t,
    discord,
    groq,
    channels,
    env: {
      ...t.env,
      DISCORD_TOKEN: token,
      DISCORD_API_URL: discord.apiUrl,
      GROQ_API_KEY: 'gsk_bench',
      GROQ_BASE_URL: groq.baseURL,
      COPILOT_USER_RATE_PER_MINUTE: '10000',
      GROQ_TOKENS_PER_MINUTE: '10000000',
      DISCORD_REST_GLOBAL_RPS: '100000',
    },
    replyPosts,
    async waitReplies(n, timeoutMs = 300_000) {
      const deadline = Date.now() + timeoutMs;
      while (replyPosts() < n && Date.now() < deadline) await sleep(20);
      if (replyPosts() < n) throw new Error(`only ${replyPosts()} of ${n} replies`);
    },
    async close() {
      await discord.close();
      await groq.close();
      await t.cleanup();
    },
  };
}
