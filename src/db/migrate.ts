/**
 * Numbered migrations from sql/NNNN_name.sql. Each runs in its own transaction that takes an
 * advisory lock and records itself first, so two migrators started at once both succeed and
 * every migration is applied exactly once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Db, Queryable } from './backend.js';

const SQL_DIR = fileURLToPath(new URL('../../../sql/', import.meta.url));
/** Arbitrary constant: pg_advisory_xact_lock key shared by every copilot migrator. */
const MIGRATION_LOCK = 720_417_003;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export interface MigrationStatus {
  applied: { version: number; name: string; appliedAt: Date }[];
  pending: { version: number; name: string }[];
  /** Versions recorded in the database that this copilot does not know (a newer copilot ran). */
  unknown: number[];
}

let cached: Migration[] | null = null;
export function loadMigrations(): Migration[] {
  if (cached) return cached;
  cached = readdirSync(SQL_DIR)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      sql: readFileSync(SQL_DIR + file, 'utf8'),
    }));
  return cached;
}

const CREATE_TABLE = `create table if not exists schema_migrations (
  version integer primary key,
  name text not null,
  applied_at timestamptz not null default now()
)`;

async function appliedVersions(db: Queryable): Promise<{ version: number; name: string; applied_at: Date }[] | null> {
  try {
    const { rows } = await db.query<{ version: number; name: string; applied_at: Date }>(
      'select version, name, applied_at from schema_migrations order by version',
    );
    return rows;
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return null; // no table yet
    throw err;
  }
}

export async function migrationStatus(db: Db): Promise<MigrationStatus> {
  const known = loadMigrations();
  const rows = (await appliedVersions(db)) ?? [];
  const done = new Set(rows.map((r) => r.version));
  return {
    applied: rows.map((r) => ({ version: r.version, name: r.name, appliedAt: r.applied_at })),
    pending: known.filter((m) => !done.has(m.version)).map(({ version, name }) => ({ version, name })),
    unknown: rows.filter((r) => !known.some((m) => m.version === r.version)).map((r) => r.version),
  };
}

/** Applies pending migrations; returns the ones this call applied. */
export async function migrate(db: Db): Promise<Migration[]> {
  const known = loadMigrations();
  const rows = await appliedVersions(db);
  if (rows && known.every((m) => rows.some((r) => r.version === m.version))) return [];
  const applied: Migration[] = [];
  for (const migration of known) {
    const did = await db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await tx.exec(CREATE_TABLE);
      const { rows: seen } = await tx.query('select 1 from schema_migrations where version = $1', [migration.version]);
      if (seen.length > 0) return false;
      await tx.query('insert into schema_migrations (version, name) values ($1, $2)', [migration.version, migration.name]);
      await tx.exec(migration.sql);
      return true;
    });
    if (did) applied.push(migration);
  }
  return applied;
}
