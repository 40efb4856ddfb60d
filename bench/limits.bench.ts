/**
 * What the shared limits add to each answer on native Postgres: one question taken, one token
 * reservation and its settlement (three statements), alone and with 8 callers at once on one
 * pool, next to three empty round trips (the floor on this machine at that moment). Target: a few
 * milliseconds at most.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SharedTokenBudget, SharedUserRateLimiter } from '../src/answer/shared-limits.js';
import { loadConfig } from '../src/config.js';
import { spendingRows } from '../src/db/limits.js';
import { openDatabase } from '../src/db/open.js';
import { percentile, printTable } from './support.js';

const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
await admin.connect();
const dbName = `copilot_bench_limits_${process.pid}`;
await admin.query(`create database ${dbName}`);
const url = new URL(process.env.TEST_DATABASE_URL!);
url.pathname = `/${dbName}`;
const home = mkdtempSync(join(tmpdir(), 'copilot-bench-limits-'));
const config = loadConfig({ databaseUrl: url.toString() }, { COPILOT_HOME: home });
const db = await openDatabase(config, { command: 'bench', poolSize: 8 });

const USERS = 1000;
const SEQUENTIAL = 500;
const CALLERS = 8;
const PER_CALLER = 100;

interface Sample {
  total: number;
  take: number;
  reserve: number;
  settle: number;
}

/** One answer's worth of limit checks: the estimate is reserved, then settled lower. */
async function once(users: SharedUserRateLimiter, tokens: SharedTokenBudget, i: number): Promise<Sample & { granted: boolean }> {
  const t0 = performance.now();
  const taken = await users.take(`user${i % USERS}`);
  const t1 = performance.now();
  const reserved = await tokens.reserve(2_000);
  const t2 = performance.now();
  if (reserved.ok) await tokens.settle(reserved.reservation, 1_500);
  const t3 = performance.now();
  if (!taken.ok) throw new Error('the question limit refused in the benchmark');
  return { total: t3 - t0, take: t1 - t0, reserve: t2 - t1, settle: t3 - t2, granted: reserved.ok };
}

/** The floor on this machine at this moment: three round trips that do nothing. */
async function baseline(callers: number, iterations: number): Promise<number[]> {
  const totals: number[] = [];
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = 0; i < iterations; i++) {
        const t0 = performance.now();
        for (let q = 0; q < 3; q++) await db.query('select 1');
        totals.push(performance.now() - t0);
      }
    }),
  );
  return totals;
}

async function run(tokensPerMinute: number, callers: number, iterations: number) {
  await db.query('delete from user_question_limits');
  await db.query('delete from token_spending');
  const users = new SharedUserRateLimiter({ db, perMinute: 1_000_000 });
  const tokens = new SharedTokenBudget({ db, tokensPerMinute });
  for (let i = 0; i < 50; i++) await once(users, tokens, i); // warm the pool and the plans
  const samples: (Sample & { granted: boolean })[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async (_, c) => {
      for (let i = 0; i < iterations; i++) samples.push(await once(users, tokens, c * iterations + i));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { samples, perSecond: samples.length / seconds, rows: await spendingRows(db) };
}

const rows: (string | number)[][] = [];
for (const [callers, iterations] of [
  [1, SEQUENTIAL],
  [CALLERS, PER_CALLER],
]) {
  const totals = await baseline(callers!, iterations!);
  rows.push([
    `baseline: 3 × select 1, ${callers === 1 ? 'sequential' : `${callers} callers`}`,
    String(totals.length),
    percentile(totals, 50),
    percentile(totals, 95),
    '',
    '',
    '',
    '',
    '',
  ]);
}
for (const [label, tokensPerMinute] of [
  ['granted (10M TPM)', 10_000_000],
  ['budget spent (12k TPM: refused)', 12_000],
] as const) {
  for (const [callers, iterations] of [
    [1, SEQUENTIAL],
    [CALLERS, PER_CALLER],
  ]) {
    const r = await run(tokensPerMinute, callers!, iterations!);
    const col = (k: keyof Sample, p: number) =>
      percentile(
        r.samples.map((s) => s[k]),
        p,
      );
    rows.push([
      `${label}, ${callers === 1 ? 'sequential' : `${callers} callers`}`,
      String(r.samples.length),
      col('total', 50),
      col('total', 95),
      col('take', 50),
      col('reserve', 50),
      col('settle', 50),
      r.perSecond,
      String(r.rows),
    ]);
  }
}

printTable(
  'Shared limits per answer on native Postgres: question taken + tokens reserved + settled (ms)',
  ['case', 'answers', 'p50', 'p95', 'take p50', 'reserve p50', 'settle p50', 'answers/s', 'spending rows'],
  rows,
);

await db.close();
await admin.query(`drop database ${dbName} with (force)`);
await admin.end();
rmSync(home, { recursive: true, force: true });
