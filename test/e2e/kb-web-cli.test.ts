/**
 * `copilot kb ingest URL…`, `kb list`, `kb show` and `kb sync` through the built binary against
 * the fake docs site: URLs and files mixed, each failure one line, exit 2, the others ingested.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFakeEmbeddings } from '../fakes/embeddings.js';
import type { FakeEmbeddings } from '../fakes/embeddings.js';
import { startFakeWeb } from '../fakes/web.js';
import type { FakeWeb } from '../fakes/web.js';
import { runCli } from '../support/cli.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';

for (const kind of BACKENDS) {
  describe(`copilot kb with web pages (${kind})`, () => {
    let t: TestDatabase;
    let fake: FakeEmbeddings;
    let web: FakeWeb;
    let dir: string;
    const cli = (args: string[]) => runCli(args, { env: { ...t.env, EMBEDDINGS_URL: fake.url }, cwd: dir });
    before(async () => {
      t = await createTestDatabase(kind);
      fake = await startFakeEmbeddings();
      web = await startFakeWeb();
      dir = mkdtempSync(join(tmpdir(), 'copilot-kbweb-'));
      writeFileSync(join(dir, 'notes.md'), '# Notes\n\nThe on-call rota changes every Monday at nine.\n');
    });
    after(async () => {
      await web.close();
      await fake.close();
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('bad collection name or URL: one line, exit 2, nothing fetched', async () => {
      web.requests.length = 0;
      const bad = await cli(['kb', 'ingest', '--collection', 'Staff Only', web.url('/docs/install')]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--collection: "Staff Only" is not a collection name/);
      const url = await cli(['kb', 'ingest', 'ftp://example.com/x']);
      assert.equal(url.code, 2);
      assert.equal(url.stderr.trim().split('\n').length, 1, url.stderr);
      assert.equal(web.requests.length, 0);
    });

    test('collections: bad names exit 2; channels list and kb list show them; kb move', async () => {
      const bad = await cli(['channels', 'add', '100000000000000001', '--collections', 'docs,Staff!']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--collections: "Staff!" is not a collection name/);
      const added = await cli(['channels', 'add', '100000000000000001', '--collections', 'docs,staff']);
      assert.equal(added.code, 0, added.stderr);
      const listed = JSON.parse((await cli(['--json', 'channels', 'list'])).stdout) as { id: string; collections: string[] | null }[];
      assert.deepEqual(listed.find((c) => c.id === '100000000000000001')?.collections, ['docs', 'staff']);
      assert.match((await cli(['channels', 'list'])).stdout, /docs, staff/);

      const ingested = await cli(['kb', 'ingest', '--collection', 'staff', 'notes.md']);
      assert.equal(ingested.code, 0, ingested.stderr);
      const badMove = await cli(['kb', 'move', 'notes.md', '--collection', 'UPPER']);
      assert.equal(badMove.code, 2);
      const move = await cli(['kb', 'move', 'notes.md', '--collection', 'docs']);
      assert.equal(move.code, 0, move.stderr);
      assert.match(move.stdout, /staff → docs/);
      const docs = JSON.parse((await cli(['--json', 'kb', 'list'])).stdout) as { name: string; collection: string }[];
      assert.equal(docs.find((d) => d.name === 'notes.md')?.collection, 'docs');
      const scoped = await cli(['--json', 'kb', 'search', '--channel', '100000000000000001', 'on-call', 'rota']);
      assert.equal(scoped.code, 0, scoped.stderr);
      assert.equal((JSON.parse(scoped.stdout) as { results: { document: string }[] }).results[0]?.document, 'notes.md');
      const unknown = await cli(['kb', 'search', '--channel', '100000000000000099', 'rota']);
      assert.equal(unknown.code, 2);
      await cli(['kb', 'remove', 'notes.md']);
    });

    test('URLs and files mixed: failures one line each, exit 2, the others ingested; list, show and sync', async () => {
      const install = web.page('/docs/install')!;
      const r = await cli([
        'kb',
        'ingest',
        web.url('/docs/install?utm_source=newsletter#requirements'),
        'notes.md',
        web.url('/bad/gone'),
        web.url('/bad/archive'),
        web.url('/docs/manual'),
      ]);
      assert.equal(r.code, 2, r.stderr);
      const failures = r.stderr.split('\n').filter((l) => l.startsWith('✗'));
      assert.equal(failures.length, 2, r.stderr);
      assert.ok(failures.some((l) => l.includes('/bad/gone')));
      assert.ok(failures.some((l) => l.includes('/bad/archive')));

      const list = JSON.parse((await cli(['--json', 'kb', 'list'])).stdout) as {
        name: string;
        type: string;
        collection: string;
        web: { url: string; title: string | null; fetchedAt: string } | null;
      }[];
      assert.deepEqual(list.map((d) => d.name).sort(), [install.url, web.url('/docs/manual'), 'notes.md'].sort());
      const page = list.find((d) => d.name === install.url)!;
      assert.equal(page.type, 'html');
      assert.equal(page.web?.title, install.title);
      assert.ok(page.web?.fetchedAt);
      assert.equal(list.find((d) => d.name === web.url('/docs/manual'))!.type, 'pdf');
      assert.equal(list.find((d) => d.name === 'notes.md')!.web, null);

      const table = await cli(['kb', 'list']);
      assert.match(table.stdout, new RegExp(install.title));
      const show = await cli(['kb', 'show', install.url]);
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /sections:/);
      assert.ok(show.stdout.includes(`${install.h1} › ${install.sections[1]!.heading}`), show.stdout);

      fake.requests.length = 0;
      const sync = await cli(['--json', 'kb', 'sync']);
      assert.equal(sync.code, 0, sync.stderr);
      const summary = JSON.parse(sync.stdout) as { unchanged: number; updated: number; failed: number };
      assert.deepEqual([summary.unchanged, summary.updated, summary.failed], [2, 0, 0]);
      assert.equal(fake.requests.length, 0);

      web.change('/docs/install');
      const text = await cli(['kb', 'sync', install.url]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`updated ${install.url.replace(/[.?]/g, '\\$&')}`));
      assert.match(text.stdout, /Unchanged/);
      const unknown = await cli(['kb', 'sync', 'notes.md']);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /not a web document: "notes.md"/);
    });
  });
}
