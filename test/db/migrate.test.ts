import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { databaseError } from '../../src/db/pg-errors.js';
import { loadMigrations, migrate, migrationStatus } from '../../src/db/migrate.js';
import { openPostgres } from '../../src/db/postgres.js';
import { DependencyError } from '../../src/errors.js';
import { runCli } from '../support/cli.js';
import { adminUrl, BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';

const TABLES = [
  'audit_log',
  'channels',
  'chunks',
  'conversations',
  'documents',
  'escalations',
  'instructions',
  'kb_candidates',
  'kb_gaps',
  'kb_lexemes',
  'messages',
  'schema_migrations',
  'settings',
  'token_spending',
  'user_question_limits',
  'votes',
];

for (const kind of BACKENDS) {
  describe(`migrations (${kind})`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await createTestDatabase(kind, { template: false });
    });
    after(() => t.cleanup());

    test('a new database gets the whole schema, recorded once per migration', async () => {
      const db = await t.open();
      try {
        const status = await migrationStatus(db);
        assert.deepEqual(status.pending, []);
        assert.equal(status.applied.length, loadMigrations().length);
        const { rows } = await db.query<{ table_name: string }>(
          "select table_name from information_schema.tables where table_schema = 'public' order by table_name",
        );
        assert.deepEqual(
          rows.map((r) => r.table_name),
          TABLES,
        );
        const { rows: idx } = await db.query<{ indexdef: string }>("select indexdef from pg_indexes where tablename = 'chunks'");
        assert.ok(
          idx.some((i) => /USING hnsw \(embedding vector_cosine_ops\)/.test(i.indexdef)),
          'HNSW cosine index',
        );
        assert.ok(
          idx.some((i) => /USING gin \(tsv\)/.test(i.indexdef)),
          'GIN full-text index',
        );
        // Migrating again is a no-op.
        assert.deepEqual(await migrate(db), []);
      } finally {
        await db.close();
      }
    });

    test('the generated tsvector and the 384-dimension vector column work', async () => {
      const db = await t.open();
      try {
        const { rows: doc } = await db.query<{ id: number }>(
          "insert into documents (name, sha256, bytes, pages, type) values ('a.md', 'x', 1, 1, 'markdown') returning id",
        );
        const vec = `[${Array.from({ length: 384 }, (_, i) => (i === 0 ? 1 : 0)).join(',')}]`;
        await db.query('insert into chunks (document_id, ordinal, content, embedding) values ($1, 0, $2, $3)', [
          doc[0]!.id,
          'Exporting keeps your settings',
          vec,
        ]);
        const { rows } = await db.query<{ hit: boolean }>("select tsv @@ to_tsquery('english', 'setting') as hit from chunks");
        assert.equal(rows[0]!.hit, true);
        await assert.rejects(
          db.query('insert into chunks (document_id, ordinal, content, embedding) values ($1, 1, $2, $3)', [doc[0]!.id, 'x', '[1,2,3]']),
          /dimensions/,
        );
      } finally {
        await db.close();
      }
    });
  });
}

describe('concurrent migrators (postgres)', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase('postgres', { template: false });
  });
  after(() => t.cleanup());

  test('two `copilot db migrate` started at once both succeed and apply each migration once', async () => {
    const [a, b] = await Promise.all([
      runCli(['--json', 'db', 'migrate'], { env: t.env }),
      runCli(['--json', 'db', 'migrate'], { env: t.env }),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const applied = [...JSON.parse(a.stdout).applied, ...JSON.parse(b.stdout).applied];
    assert.equal(applied.length, loadMigrations().length, 'each migration applied by exactly one of them');
    const client = new pg.Client({ connectionString: t.url! });
    await client.connect();
    const { rows } = await client.query('select version, count(*)::int as n from schema_migrations group by version');
    await client.end();
    assert.equal(rows.length, loadMigrations().length);
    assert.ok(rows.every((r) => r.n === 1));
  });

  test('many pools migrating one fresh database in parallel', async () => {
    const fresh = await createTestDatabase('postgres', { template: false });
    try {
      const dbs = await Promise.all(Array.from({ length: 4 }, () => openPostgres({ url: fresh.url!, description: 'test', max: 2 })));
      const results = await Promise.all(dbs.map((db) => migrate(db)));
      assert.equal(results.flat().length, loadMigrations().length);
      await Promise.all(dbs.map((db) => db.close()));
    } finally {
      await fresh.cleanup();
    }
  });
});

describe('Postgres errors become one clear line', () => {
  test('a missing extension names how to install pgvector', async () => {
    // The server's own error for an extension whose files are not installed.
    const client = new pg.Client({ connectionString: adminUrl() });
    await client.connect();
    const err = await client.query('create extension vector_not_installed_probe').catch((e: unknown) => e);
    await client.end();
    const mapped = databaseError(err, '127.0.0.1:5432/x');
    assert.ok(mapped instanceof DependencyError);
    assert.equal(mapped.code, 'pgvector_missing');
    assert.match(mapped.message, /install pgvector/);
  });
});
