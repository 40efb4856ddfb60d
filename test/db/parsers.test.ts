/** Values come back as the same JS types from PostgreSQL, PGlite and PGlite shared over its socket. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Db } from '../../src/db/backend.js';
import { openDatabase } from '../../src/db/open.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';

const ways = [...BACKENDS.map((kind) => ({ kind, share: false })), { kind: 'embedded' as const, share: true }];

for (const { kind, share } of ways) {
  describe(`value types (${kind}${share ? ', shared over its socket' : ''})`, () => {
    let t: TestDatabase;
    let db: Db;
    before(async () => {
      t = await createTestDatabase(kind);
      db = await openDatabase(t.config, { command: 'test', share });
    });
    after(async () => {
      await db.close();
      await t.cleanup();
    });

    test('int8 ids and counts are numbers; timestamps Dates; jsonb parsed', async () => {
      const { rows } = await db.query<Record<string, unknown>>(
        `select 42::int8 as id, count(*) as n, 9007199254740991::int8 as largest, now() as at,
           '{"model": "m", "dimension": 3}'::jsonb as value, 7 as i, 0.5::float8 as f
         from (values (1), (2)) v(x)`,
      );
      const r = rows[0]!;
      assert.deepEqual(
        { id: r.id, n: r.n, largest: r.largest, value: r.value, i: r.i, f: r.f },
        { id: 42, n: 2, largest: 9007199254740991, value: { model: 'm', dimension: 3 }, i: 7, f: 0.5 },
      );
      assert.ok(r.at instanceof Date);
    });

    test('an int8 beyond 2^53 is refused, not rounded; the connection goes on', async () => {
      await assert.rejects(db.query('select 9007199254740993::int8 as n'), /9007199254740993, beyond the integers a number holds exactly/);
      assert.deepEqual((await db.query('select 1::int8 as n')).rows, [{ n: 1 }]);
    });
  });
}
