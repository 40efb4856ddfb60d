/**
 * Fresh databases for tests, on both backends: a new database in the native cluster
 * (TEST_DATABASE_URL), or a new embedded folder copied from the migrated template.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Config } from '../../src/config.js';
import { loadConfig } from '../../src/config.js';
import type { BackendKind, Db } from '../../src/db/backend.js';
import { openDatabase } from '../../src/db/open.js';

export const BACKENDS: BackendKind[] = ['postgres', 'embedded'];

export interface TestDatabase {
  kind: BackendKind;
  /** COPILOT_HOME for this test (always a fresh temporary folder). */
  home: string;
  /** DATABASE_URL for the postgres backend, null for embedded. */
  url: string | null;
  config: Config;
  /** Environment for spawning the CLI against this database. */
  env: Record<string, string>;
  open(command?: string): Promise<Db>;
  cleanup(): Promise<void>;
}

let counter = 0;

export function adminUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests with `npm test`');
  return url;
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh home folder; with `template`, the migrated embedded database is copied into it. */
export function freshHome(template = true): string {
  const home = mkdtempSync(join(tmpdir(), 'copilot-test-'));
  const source = process.env.COPILOT_TEST_TEMPLATE;
  if (template && source) cpSync(join(source, 'data'), join(home, 'data'), { recursive: true });
  return home;
}

export async function createTestDatabase(kind: BackendKind, options: { template?: boolean } = {}): Promise<TestDatabase> {
  const home = freshHome(options.template ?? true);
  let url: string | null = null;
  let dbName: string | null = null;
  if (kind === 'postgres') {
    dbName = `copilot_t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
    await adminQuery(`create database ${dbName}`);
    const parsed = new URL(adminUrl());
    parsed.pathname = `/${dbName}`;
    url = parsed.toString();
  }
  const env: Record<string, string> = { COPILOT_HOME: home };
  if (url) env.DATABASE_URL = url;
  const config = loadConfig({}, { ...env }, home);
  return {
    kind,
    home,
    url,
    config,
    env,
    open: (command = 'test') => openDatabase(config, { command }),
    async cleanup() {
      if (dbName) await adminQuery(`drop database if exists ${dbName} with (force)`);
      rmSync(home, { recursive: true, force: true });
    },
  };
}
