/**
 * CLI start-up: `copilot --help` against bare `node -e 0` (target: within 100 ms, medians of
 * ≥ 10 interleaved runs), and `copilot channels list` wall time on native Postgres (target
 * ≤ 350 ms) and on the embedded database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { median, percentile, printTable, timeCommand } from './support.js';
import { BIN } from '../test/support/cli.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const node = process.execPath;
const env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };

const bare: number[] = [];
const help: number[] = [];
timeCommand(node, [BIN, '--help'], env); // warm the file cache
for (let i = 0; i < RUNS; i++) {
  bare.push(timeCommand(node, ['-e', '0'], env));
  help.push(timeCommand(node, [BIN, '--help'], env));
}

// channels list on native Postgres, in a database of its own.
const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
await admin.connect();
const dbName = `copilot_bench_startup_${process.pid}`;
await admin.query(`create database ${dbName}`);
const url = new URL(process.env.TEST_DATABASE_URL!);
url.pathname = `/${dbName}`;
const home = mkdtempSync(join(tmpdir(), 'copilot-bench-'));
const pgEnv = { ...env, DATABASE_URL: url.toString(), COPILOT_HOME: home };
spawnSync(node, [BIN, 'channels', 'add', '123456789012345678', '223456789012345678'], { env: pgEnv });
const embEnv = { ...env, COPILOT_HOME: join(home, 'embedded') };
spawnSync(node, [BIN, 'channels', 'add', '123456789012345678', '223456789012345678'], { env: embEnv });
const listPg: number[] = [];
const listEmb: number[] = [];
for (let i = 0; i < RUNS; i++) {
  listPg.push(timeCommand(node, [BIN, 'channels', 'list'], pgEnv));
  listEmb.push(timeCommand(node, [BIN, 'channels', 'list'], embEnv));
}
await admin.query(`drop database ${dbName} with (force)`);
await admin.end();
rmSync(home, { recursive: true, force: true });

const overhead = median(help) - median(bare);
printTable(
  `CLI start-up (${RUNS} runs each, ms)`,
  ['command', 'p50', 'p90', 'target', 'met'],
  [
    ['node -e 0', median(bare), percentile(bare, 90), '', ''],
    ['copilot --help', median(help), percentile(help, 90), '', ''],
    ['--help − bare node', overhead, '', '≤ 100', overhead <= 100 ? 'yes' : 'NO'],
    ['channels list (native Postgres)', median(listPg), percentile(listPg, 90), '≤ 350', median(listPg) <= 350 ? 'yes' : 'NO'],
    ['channels list (embedded PGlite)', median(listEmb), percentile(listEmb, 90), 'report', ''],
  ],
);
