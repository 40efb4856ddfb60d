/**
 * The bot's metrics: prom-client counters and histograms on a dedicated Registry (imported lazily:
 * ~80 ms, and only `serve` needs it), plus the exact nearest-rank percentiles of the last
 * LATENCY_WINDOW replies for /status, which a prom-client Summary (estimates over a time window) cannot give.
 */
import type { Counter, Histogram, Registry } from 'prom-client';

/** The counters the bot updates. Prometheus names: `copilot_<snake_case>_total`. */
export const COUNTER_NAMES = [
  'messagesSeen',
  'replies',
  'fallbacks',
  'errors',
  'rateLimited',
  'gaps',
  'votesUp',
  'votesDown',
  'escalations',
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];

const COUNTER_HELP: Record<CounterName, string> = {
  messagesSeen: 'Messages received in allowed channels and considered for an answer',
  replies: 'Answers posted',
  fallbacks: 'Retrieval-only answers (cited passages without a generated answer: Groq unavailable, not configured, or over budget)',
  errors: 'Messages whose handling failed',
  rateLimited: 'Rate-limit notices sent to users',
  gaps: 'Knowledge gaps recorded',
  votesUp: '👍 votes given to answers (a changed vote counts for its new side)',
  votesDown: '👎 votes given to answers (a changed vote counts for its new side)',
  escalations: "Escalation pings posted to a channel's escalation role",
};

/** How many recent reply latencies the percentile window keeps. */
export const LATENCY_WINDOW = 1000;

export interface LatencySummary {
  /** Replies observed since start (all of them, not only the window). */
  count: number;
  /** Percentiles in milliseconds over the last LATENCY_WINDOW replies; null before the first reply. */
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface MetricsSnapshot {
  counters: Record<CounterName, number>;
  latency: LatencySummary;
}

export interface Metrics {
  /** The dedicated registry (process metrics + copilot_*). */
  readonly registry: Registry;
  /** Content-Type for the Prometheus text exposition. */
  readonly contentType: string;
  /** Add `by` (default 1) to a counter. Unknown names throw; negative or non-finite amounts are ignored. */
  inc(name: CounterName, by?: number): void;
  /**
   * Record one reply's total latency and time to first token (null when no token streamed, e.g.
   * a retrieval-only answer). Does NOT increment `replies`: call inc('replies') for that.
   * Histograms are exported in seconds (Prometheus base unit); the arguments are milliseconds.
   */
  observeReply(totalMs: number, firstTokenMs: number | null): void;
  /** Cheap synchronous view for /status. */
  snapshot(): MetricsSnapshot;
  /** Prometheus text exposition of the registry. */
  prometheus(): Promise<string>;
  /** Where the gateway gauges (labelled by shard) read this process's shards at each scrape. */
  watchShards(read: () => { id: number; state: string; ping: number | null; guilds: number }[]): void;
}

/** Latency buckets in seconds: 50 ms .. 60 s. */
const BUCKETS = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30, 60];

const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Nearest-rank percentile of an ascending-sorted array. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
  return sorted[rank - 1]!;
}

export async function createMetrics(): Promise<Metrics> {
  const prom = await import('prom-client');
  const register: Registry = new prom.Registry();
  prom.collectDefaultMetrics({ register });

  const counters = {} as Record<CounterName, Counter>;
  const values = {} as Record<CounterName, number>;
  for (const name of COUNTER_NAMES) {
    counters[name] = new prom.Counter({
      name: `copilot_${snake(name)}_total`,
      help: COUNTER_HELP[name],
      registers: [register],
    });
    values[name] = 0;
  }
  const replyLatency: Histogram = new prom.Histogram({
    name: 'copilot_reply_latency_seconds',
    help: 'Time from receiving a message to the final reply edit',
    buckets: BUCKETS,
    registers: [register],
  });
  const firstToken: Histogram = new prom.Histogram({
    name: 'copilot_first_token_seconds',
    help: 'Time from receiving a message to the first streamed token',
    buckets: BUCKETS,
    registers: [register],
  });

  let readShards: Parameters<Metrics['watchShards']>[0] = () => [];
  const shardGauge = (name: string, help: string, value: (s: ReturnType<typeof readShards>[number]) => number | null) =>
    new prom.Gauge({
      name,
      help,
      labelNames: ['shard'],
      registers: [register],
      collect() {
        this.reset();
        for (const s of readShards()) {
          const v = value(s);
          if (v !== null) this.set({ shard: String(s.id) }, v);
        }
      },
    });
  shardGauge('copilot_gateway_ready', 'Whether the gateway shard is ready (1) or not (0)', (s) => (s.state === 'ready' ? 1 : 0));
  shardGauge('copilot_gateway_ping_seconds', 'Gateway heartbeat latency of the shard', (s) => (s.ping === null ? null : s.ping / 1000));
  shardGauge('copilot_gateway_guilds', 'Guilds on the shard', (s) => s.guilds);

  const ring = new Float64Array(LATENCY_WINDOW);
  let next = 0;
  let filled = 0;
  let observed = 0;

  const valid = (ms: number): boolean => Number.isFinite(ms) && ms >= 0;

  return {
    registry: register,
    contentType: register.contentType,
    inc(name, by = 1) {
      const counter = counters[name];
      if (!counter) throw new Error(`unknown metric counter: ${String(name)}`);
      if (!Number.isFinite(by) || by < 0) return;
      counter.inc(by);
      values[name] += by;
    },
    observeReply(totalMs, firstTokenMs) {
      if (!valid(totalMs)) return;
      replyLatency.observe(totalMs / 1000);
      if (firstTokenMs !== null && valid(firstTokenMs)) firstToken.observe(firstTokenMs / 1000);
      ring[next] = totalMs;
      next = (next + 1) % LATENCY_WINDOW;
      if (filled < LATENCY_WINDOW) filled++;
      observed++;
    },
    snapshot() {
      const sorted = ring.slice(0, filled).sort();
      const at = (p: number): number | null => {
        const v = percentile(sorted, p);
        return v === null ? null : Math.round(v);
      };
      return {
        counters: { ...values },
        latency: { count: observed, p50: at(50), p90: at(90), p99: at(99) },
      };
    },
    prometheus: () => register.metrics(),
    watchShards(read) {
      readShards = read;
    },
  };
}
