/** Navigation pages on both backends: flagged at ingest, stored and searchable, ranked below the sections they list. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Db } from '../../src/db/backend.js';
import { ingestFile } from '../../src/kb/ingest/pipeline.js';
import { retrieve } from '../../src/kb/retrieve.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { NAVIGATION_CHAPTERS, navigationDoc } from '../support/pdfs.js';

for (const kind of BACKENDS) {
  describe(`navigation pages (${kind})`, () => {
    let t: TestDatabase;
    let db: Db;
    let dir: string;

    before(async () => {
      t = await createTestDatabase(kind);
      db = await t.open();
      dir = mkdtempSync(join(tmpdir(), 'copilot-nav-'));
      writeFileSync(join(dir, 'guide.pdf'), await navigationDoc());
      await ingestFile({ db, embedder: null, maxFileBytes: 50e6 }, join(dir, 'guide.pdf'));
    });
    after(async () => {
      await db.close();
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('the contents and index pages are flagged; the chapters and the short support page are not', async () => {
      const { rows } = await db.query<{ page: number; navigation: boolean }>(
        'select page, bool_or(navigation) as navigation from chunks group by page order by page',
      );
      assert.deepEqual(
        rows.map((r) => [r.page, r.navigation]),
        [1, 2, 3, 4, 5, 6, 7].map((p) => [p, p <= 2]),
      );
    });

    test('a table of contents never outranks the section it lists for a question about that section', async () => {
      for (const [i, title] of NAVIGATION_CHAPTERS.entries()) {
        const r = await retrieve(db, `${title.toLowerCase()}?`, { k: 7 });
        const pages = r.passages.map((p) => p.page);
        const section = pages.indexOf(i + 3);
        assert.ok(section >= 0, `${title}: its page is retrieved (${pages.join(', ')})`);
        for (const nav of [1, 2]) {
          const at = pages.indexOf(nav);
          assert.ok(at === -1 || at > section, `${title}: page ${nav} ranks below page ${i + 3} (${pages.join(', ')})`);
        }
      }
    });

    test('navigation pages stay searchable', async () => {
      const r = await retrieve(db, 'contents index', { k: 7 });
      assert.ok(
        r.passages.some((p) => p.page === 1 || p.page === 2),
        r.passages.map((p) => p.page).join(', '),
      );
    });

    test('a short content page is found first for its question', async () => {
      const r = await retrieve(db, 'when is phone support open?', { k: 3 });
      assert.equal(r.passages[0]!.page, 7);
    });
  });
}
