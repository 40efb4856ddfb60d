/**
 * The bot wired for tests: the fake Discord and the fake Groq stand in for the outside world;
 * the AnswerService, the database (either backend; Postgres optionally behind a TCP proxy that
 * can take it away), metrics and the pino logger are the real ones.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';
import { addChannels, listChannels } from '../../src/channels/service.js';
import { createChatClient } from '../../src/answer/groq.js';
import { createAnswerService } from '../../src/answer/service.js';
import type { AnswerService } from '../../src/answer/service.js';
import { loadLlamaTokenizer } from '../../src/answer/tokens.js';
import { createBot } from '../../src/bot/bot.js';
import type { Bot, BotDeps } from '../../src/bot/bot.js';
import { loadConfig } from '../../src/config.js';
import type { BackendKind, Db } from '../../src/db/backend.js';
import { openDatabase } from '../../src/db/open.js';
import { createMetrics } from '../../src/bot/metrics.js';
import type { Metrics } from '../../src/bot/metrics.js';
import { ingestFile } from '../../src/kb/ingest/pipeline.js';
import { snowflake, startFakeDiscord } from '../fakes/discord.js';
import type { FakeDiscord, FakeDiscordOptions, FakeMessage, RestCall } from '../fakes/discord.js';
import { startFakeGroq } from '../fakes/groq.js';
import type { FakeGroq } from '../fakes/groq.js';
import { createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { longManual } from '../support/pdfs.js';
import { startTcpProxy } from './tcp-proxy.js';
import type { TcpProxy } from './tcp-proxy.js';

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export interface HarnessOptions {
  kind: BackendKind;
  /** Allowed channels and their modes (ids must exist in the fake). */
  allowed: Record<string, 'all' | 'mention' | 'thread'>;
  discord?: FakeDiscordOptions;
  bot?: Partial<BotDeps>;
  /** Put a TCP proxy between the bot and Postgres (postgres only). */
  proxy?: boolean;
  /** Ingest the Acme manual so answers have sources (default true). */
  knowledge?: boolean;
}

export interface Harness {
  fake: FakeDiscord;
  groq: FakeGroq;
  t: TestDatabase;
  db: Db;
  proxy: TcpProxy | null;
  answers: AnswerService;
  metrics: Metrics;
  logs: LogLine[];
  log: Logger;
  bot: Bot;
  /** Another bot over the same fakes and database (closed with the harness). */
  makeBot(overrides?: Partial<BotDeps>): Promise<Bot>;
  /** A new human author (each test its own, so the per-user limit never interferes). */
  newUser(): string;
  /** The first log line matching pred (already written or future). */
  waitLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Waits for the bot's 'answered' line for this user message. */
  answered(messageId: string, timeoutMs?: number): Promise<LogLine>;
  /** The bot's messages in a channel, oldest first. */
  botMessages(channelId: string): FakeMessage[];
  /** REST calls to a channel's messages (POST/PATCH/DELETE). */
  messageCalls(channelId: string): RestCall[];
  close(): Promise<void>;
}

export const TEST_ENV = {
  GROQ_API_KEY: 'gsk_test',
  GROQ_TOKENS_PER_MINUTE: '10000000',
};

export async function startHarness(o: HarnessOptions): Promise<Harness> {
  const cleanups: (() => unknown)[] = [];
  const fake = await startFakeDiscord(o.discord);
  cleanups.push(() => fake.close());
  const groq = await startFakeGroq({ apiKey: TEST_ENV.GROQ_API_KEY });
  cleanups.push(() => groq.close());
  const t = await createTestDatabase(o.kind);
  cleanups.push(() => t.cleanup());

  let proxy: TcpProxy | null = null;
  let db: Db;
  if (o.proxy && t.url) {
    const url = new URL(t.url);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    cleanups.push(() => proxy!.close());
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    db = await openDatabase(loadConfig({}, { COPILOT_HOME: t.home, DATABASE_URL: url.toString() }, t.home), {
      command: 'serve',
      poolSize: 4,
    });
  } else {
    db = await t.open('serve');
  }
  cleanups.push(() => db.close());

  if (o.knowledge !== false) {
    const dir = mkdtempSync(join(tmpdir(), 'copilot-bot-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'manual.pdf'), await longManual());
    await ingestFile({ db, embedder: null, maxFileBytes: 50e6 }, join(dir, 'manual.pdf'));
  }
  for (const mode of ['all', 'mention', 'thread'] as const) {
    const ids = Object.entries(o.allowed)
      .filter(([, m]) => m === mode)
      .map(([id]) => id);
    if (ids.length > 0) await addChannels(db, ids, mode, 'test');
  }
  // What serve keeps fresh from the channels table.
  const modes = new Map((await listChannels(db)).map((c) => [c.id, { mode: c.mode }]));
  const channels = { get: (id: string) => modes.get(id) ?? null, ids: () => [...modes.keys()] };

  const config = loadConfig({}, { COPILOT_HOME: t.home, GROQ_BASE_URL: groq.baseURL, ...TEST_ENV }, t.home);
  const chat = await createChatClient(config, { backoffMs: 20, maxRateLimitWaitMs: 500, firstTokenTimeoutMs: 5000 });
  const answers = createAnswerService({ db, config, embedder: null, chat, counter: await loadLlamaTokenizer() });
  const metrics = await createMetrics();

  const logs: LogLine[] = [];
  const logWaiters = new Set<(l: LogLine) => void>();
  const log = pino(
    { level: 'debug' },
    {
      write(line: string) {
        const parsed = JSON.parse(line) as LogLine;
        logs.push(parsed);
        for (const w of [...logWaiters]) w(parsed);
      },
    },
  );

  const makeBot = async (overrides: Partial<BotDeps> = {}): Promise<Bot> => {
    const b = await createBot({
      token: fake.token,
      apiUrl: fake.apiUrl,
      restGlobalRequestsPerSecond: 10_000,
      answers,
      channels,
      metrics,
      log,
      ...o.bot,
      ...overrides,
    });
    cleanups.push(() => b.stop(0));
    return b;
  };
  const bot = await makeBot();

  const waitLog = (pred: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> => {
    const hit = logs.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const waiter = (l: LogLine) => {
        if (!pred(l)) return;
        clearTimeout(timer);
        logWaiters.delete(waiter);
        resolve(l);
      };
      const timer = setTimeout(() => {
        logWaiters.delete(waiter);
        reject(
          new Error(
            `no matching log line within ${timeoutMs} ms (last: ${logs
              .slice(-3)
              .map((l) => l.msg)
              .join('; ')})`,
          ),
        );
      }, timeoutMs);
      logWaiters.add(waiter);
    });
  };

  return {
    fake,
    groq,
    t,
    db,
    proxy,
    answers,
    metrics,
    logs,
    log,
    bot,
    makeBot,
    newUser: () => snowflake(),
    waitLog,
    answered: (messageId, timeoutMs) => waitLog((l) => l.msg === 'answered' && l.messageId === messageId, timeoutMs),
    botMessages: (channelId) =>
      [...fake.messages.values()].filter((m) => m.fromBot && m.channelId === channelId && !m.deleted).sort((a, b) => a.at - b.at),
    messageCalls: (channelId) => fake.calls.filter((c) => c.path.startsWith(`/channels/${channelId}/messages`)),
    async close() {
      for (const fn of cleanups.reverse()) {
        try {
          await fn();
        } catch {
          /* keep closing the rest */
        }
      }
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when cond() holds (polling), rejects after timeoutMs. */
export async function until(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** Fence lines (``` or ~~~) in a message: balanced when even. */
export function fenceCount(text: string): number {
  return text.split('\n').filter((l) => /^ {0,3}(`{3,}|~{3,})/.test(l)).length;
}
