/**
 * Web documents on both backends against the fake docs site: ingest by URL, sitemap and crawl
 * (main content only, robots.txt honoured, one document per page named by its URL, with its
 * title), and `kb sync` (nothing changed → no embedding request; a changed page alone re-embedded;
 * a removed page reported and kept; a page newly listed in the sitemap added).
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { createChatClient } from '../../src/answer/groq.js';
import { createAnswerService } from '../../src/answer/service.js';
import { loadLlamaTokenizer } from '../../src/answer/tokens.js';
import { loadConfig } from '../../src/config.js';
import type { Db } from '../../src/db/backend.js';
import { addChannels } from '../../src/channels/service.js';
import { listDocuments } from '../../src/db/documents.js';
import { createEmbedder } from '../../src/kb/embed.js';
import type { Embedder } from '../../src/kb/embed.js';
import { WebClient } from '../../src/kb/fetch/client.js';
import type { IngestDeps } from '../../src/kb/ingest/pipeline.js';
import { collectionsOfChannel, moveDocuments, searchKnowledgeBase } from '../../src/kb/service.js';
import { ingestWeb, syncWeb } from '../../src/kb/web.js';
import type { PageOutcome } from '../../src/kb/web.js';
import { startFakeEmbeddings } from '../fakes/embeddings.js';
import { startFakeGroq } from '../fakes/groq.js';
import type { FakeEmbeddings } from '../fakes/embeddings.js';
import { BOILERPLATE, revisionSentence, startFakeWeb } from '../fakes/web.js';
import type { FakeWeb } from '../fakes/web.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';

const disallowed = (path: string) => path.startsWith('/docs/private/') || path.startsWith('/docs/internal/');

async function allChunks(db: Db): Promise<{ name: string; section: string | null; content: string }[]> {
  const { rows } = await db.query<{ name: string; section: string | null; content: string }>(
    'select d.name, c.section, c.content from chunks c join documents d on d.id = c.document_id order by d.id, c.ordinal',
  );
  return rows;
}

for (const kind of BACKENDS) {
  describe(`web documents (${kind})`, () => {
    let web: FakeWeb;
    let fake: FakeEmbeddings;
    let embedder: Embedder;
    const opened: { t: TestDatabase; db: Db; client: WebClient }[] = [];
    before(async () => {
      web = await startFakeWeb();
      fake = await startFakeEmbeddings();
      embedder = createEmbedder(loadConfig({}, { EMBEDDINGS_URL: fake.url, COPILOT_HOME: tmpdir() }), { backoffMs: 10 })!;
    });
    after(async () => {
      for (const o of opened) {
        o.client.close();
        await o.db.close();
        await o.t.cleanup();
      }
      await fake.close();
      await web.close();
    });
    const fresh = async () => {
      const t = await createTestDatabase(kind);
      const db = await t.open();
      const client = new WebClient();
      opened.push({ t, db, client });
      const deps: IngestDeps = { db, embedder, maxFileBytes: 50 * 1024 * 1024 };
      return { db, client, deps };
    };

    test('a sitemap: every listed page one document named by its URL, with its title; no boilerplate; robots honoured', async () => {
      const { db, client, deps } = await fresh();
      web.requests.length = 0;
      const outcomes = await ingestWeb({ deps, client }, [{ kind: 'sitemap', url: web.url('/sitemaps/docs.xml') }]);
      const listed = web.sitemapUrls('/sitemaps/docs.xml');
      const allowed = listed.filter((u) => !disallowed(new URL(u).pathname));
      assert.ok(allowed.length >= 10 && allowed.length < listed.length, `${allowed.length} of ${listed.length}`);

      const docs = await listDocuments(db);
      const byName = new Map(docs.map((d) => [d.name, d]));
      for (const url of allowed) {
        const page = web.page(new URL(url).pathname + new URL(url).search);
        if (page?.status !== 200) continue;
        const d = byName.get(url);
        const o = outcomes.find((x) => x.url === url);
        assert.ok(d, `${url} ingested (${o?.status === 'failed' ? o.error.message : (o?.status ?? 'no outcome')})`);
        assert.equal(d.web?.url, url);
        if (page.kind === 'html') {
          assert.equal(d.type, 'html');
          assert.equal(d.web?.title, page.title);
          assert.equal(d.web?.etag, page.etag);
          assert.equal(d.web?.lastModified, page.lastModified);
        } else assert.equal(d.type, 'pdf');
        assert.equal(d.web?.sourceKind, 'sitemap');
        assert.equal(d.web?.sourceUrl, web.url('/sitemaps/docs.xml'));
        assert.equal(d.collection, 'default');
        assert.equal(d.embedded, d.chunks);
      }
      // Disallowed pages are failures reported as robots, and never requested.
      const failed = outcomes.filter((o): o is Extract<PageOutcome, { status: 'failed' }> => o.status === 'failed');
      for (const url of listed.filter((u) => disallowed(new URL(u).pathname))) {
        assert.equal(byName.has(url), false, url);
        assert.ok(
          failed.some((f) => f.url === url && f.error.code === 'robots'),
          `${url} reported`,
        );
      }
      assert.equal(web.requests.filter((r) => disallowed(r.path)).length, 0);

      // Main content only: no navigation, header, footer or banner text in any chunk.
      const chunks = await allChunks(db);
      const text = chunks.map((c) => `${c.section ?? ''}\n${c.content}`).join('\n');
      for (const marker of Object.values(BOILERPLATE)) assert.equal(text.includes(marker), false, marker);
      // Sections keep the heading path: a page's h2 is under its h1.
      const install = web.page('/docs/install')!;
      const h2 = install.sections.find((s) => s.level === 2)!;
      assert.ok(
        chunks.some((c) => c.name === install.url && c.section === `${install.h1} › ${h2.heading}` && c.content.includes(h2.sentences[0]!)),
        'install page section with its heading path',
      );
    });

    test('an answer cites a page as "Page title § Heading" with its URL in <> (no link preview); --json has sources[].url', async () => {
      const { db, client, deps } = await fresh();
      await ingestWeb({ deps, client }, [{ kind: 'url', url: web.url('/docs/install') }]);
      const install = web.page('/docs/install')!;
      const section = install.sections.find((s) => s.level === 2 && s.sentences.length > 0)!;
      const groq = await startFakeGroq({ apiKey: 'gsk_test' });
      try {
        const home = opened.at(-1)!.t.home;
        const config = loadConfig({}, { COPILOT_HOME: home, GROQ_API_KEY: 'gsk_test', GROQ_BASE_URL: groq.baseURL });
        const chat = await createChatClient(config, { backoffMs: 20, firstTokenTimeoutMs: 2000 });
        const svc = createAnswerService({ db, config, embedder: null, chat, counter: await loadLlamaTokenizer() });
        groq.setBehavior({ kind: 'ok', reply: 'Here is what the handbook says [1].' });
        const r = await svc.answer({ conversationId: 'cli', channelId: null, authorId: 'cli', question: section.sentences[0]! });
        const first = r.sources[0]!;
        assert.equal(first.url, install.url);
        assert.equal(first.label, `${install.title} § ${section.heading}`);
        assert.ok(r.text.endsWith(`Sources: ${install.title} § ${section.heading} <${install.url}>`), r.text);
      } finally {
        await groq.close();
      }
    });

    test('collections restrict retrieval per channel (answers, threads through their parent, kb search); kb move changes it', async () => {
      const { db, client, deps } = await fresh();
      await ingestWeb({ deps, client, collection: 'public' }, [{ kind: 'url', url: web.url('/docs/install') }]);
      await ingestWeb({ deps, client, collection: 'staff' }, [{ kind: 'url', url: web.url('/docs/webhooks') }]);
      const [pub, staff, open] = ['100000000000000001', '100000000000000002', '100000000000000003'];
      await addChannels(db, [pub], 'all', 'test', { collections: ['public'] });
      await addChannels(db, [staff], 'all', 'test', { collections: ['staff', 'other'] });
      await addChannels(db, [open], 'all', 'test');
      const install = web.page('/docs/install')!;
      const question = install.sections.find((x) => x.level === 2 && x.sentences.length > 0)!.sentences[0]!;
      const home = opened.at(-1)!.t.home;
      const config = loadConfig({}, { COPILOT_HOME: home });
      const svc = createAnswerService({ db, config, embedder: null, chat: null, counter: await loadLlamaTokenizer() });
      const ask = async (channelId: string, conversationId = channelId) =>
        (await svc.answer({ conversationId, channelId, authorId: 'u1', question })).sources.map((x) => x.url);
      assert.ok((await ask(pub)).includes(install.url));
      assert.ok((await ask(open)).includes(install.url));
      const fromStaff = await ask(staff);
      assert.equal(fromStaff.includes(install.url), false, fromStaff.join(' '));
      // a thread is answered with its parent channel's collections
      assert.equal((await ask(staff, '100000000000000009')).includes(install.url), false);

      const search = async (channel: string) =>
        (await searchKnowledgeBase(db, null, question, { collections: await collectionsOfChannel(db, channel) })).passages.map(
          (p) => p.url,
        );
      assert.ok((await search(pub)).includes(install.url));
      assert.equal((await search(staff)).includes(install.url), false);
      await assert.rejects(collectionsOfChannel(db, '100000000000000042'), /not an allowed channel/);

      const moved = await moveDocuments(db, [install.url], 'staff');
      assert.deepEqual(
        moved.map((m) => [m.from, m.document.collection]),
        [['public', 'staff']],
      );
      assert.ok((await search(staff)).includes(install.url));
      assert.equal((await search(pub)).includes(install.url), false);
      await assert.rejects(moveDocuments(db, [install.url, 'nope'], 'public'), /no document "nope" — nothing was moved/);
      assert.equal((await listDocuments(db)).find((d) => d.name === install.url)!.collection, 'staff');
    });

    test('a crawl within /docs/: the reachable pages, robots honoured; a page URL and a broken one mixed', async () => {
      const { db, client, deps } = await fresh();
      web.requests.length = 0;
      const outcomes = await ingestWeb({ deps, client }, [
        { kind: 'url', url: web.url('/bad/gone') },
        { kind: 'crawl', url: web.url('/docs/'), maxPages: 100 },
      ]);
      const expected = web
        .pages()
        .filter((p) => p.path.startsWith('/docs/') && p.depth !== undefined && p.status === 200 && !disallowed(p.path))
        .map((p) => p.url)
        .sort();
      const docs = await listDocuments(db);
      assert.deepEqual(docs.map((d) => d.name).sort(), expected);
      assert.ok(docs.every((d) => d.web?.sourceKind === 'crawl'));
      const gone = outcomes.find((o) => o.url === web.url('/bad/gone'));
      assert.equal(gone?.status, 'failed');
      assert.equal(web.requests.filter((r) => disallowed(r.path)).length, 0);
      const text = (await allChunks(db)).map((c) => c.content).join('\n');
      for (const marker of Object.values(BOILERPLATE)) assert.equal(text.includes(marker), false, marker);
    });

    test('sync: nothing changed → no embedding request; a changed page alone re-embedded; removed reported and kept; new page added', async () => {
      const { db, client, deps } = await fresh();
      await ingestWeb({ deps, client }, [{ kind: 'sitemap', url: web.url('/sitemaps/docs.xml') }]);
      const before = await listDocuments(db);
      assert.ok(before.length >= 10);

      fake.requests.length = 0;
      const same = await syncWeb({ deps, client });
      assert.equal(fake.requests.length, 0, 'no embedding request');
      assert.deepEqual(
        { unchanged: same.unchanged, updated: same.updated, added: same.added, gone: same.gone },
        { unchanged: before.length, updated: 0, added: 0, gone: 0 },
      );
      // pages the sitemap lists that robots.txt disallows are skipped, not failures
      assert.equal(same.failed, 0);
      assert.equal(same.pages.length, before.length);
      // Every unchanged page has a new fetch time and keeps its validators.
      const fetchedAt = async () => new Map((await listDocuments(db)).map((d) => [d.id, d.web!] as const));
      const checked = await fetchedAt();
      for (const d of before) {
        const w = checked.get(d.id)!;
        assert.ok(w.fetchedAt > d.web!.fetchedAt, `${d.name}: fetched_at moved on`);
        assert.deepEqual([w.etag, w.lastModified], [d.web!.etag, d.web!.lastModified], d.name);
      }

      // Without validators the server answers 200: identical text still changes nothing.
      web.setValidators({ etag: false, lastModified: false });
      try {
        const again = await syncWeb({ deps, client });
        assert.equal(fake.requests.length, 0, 'no embedding request for identical text');
        assert.equal(again.unchanged, before.length);
        const rechecked = await fetchedAt();
        for (const d of before) {
          const w = rechecked.get(d.id)!;
          assert.ok(w.fetchedAt > checked.get(d.id)!.fetchedAt, `${d.name}: fetched_at moved on without validators`);
          // a 200 without validators does not erase the ones stored
          assert.deepEqual([w.etag, w.lastModified], [d.web!.etag, d.web!.lastModified], d.name);
        }
      } finally {
        web.setValidators({ etag: true, lastModified: true });
      }

      const changed = web.change('/docs/webhooks');
      web.remove('/docs/troubleshooting', 404);
      const added = web.add({
        path: '/docs/faq',
        title: 'FAQ',
        sections: [{ level: 1, heading: 'Frequently asked', blocks: [{ p: ['Relay keeps every delivery log for thirty days.'] }] }],
      });
      try {
        fake.requests.length = 0;
        const r = await syncWeb({ deps, client });
        // The index page lists the new page, so it changed too.
        const updated = r.pages.filter((p) => p.status === 'updated').map((p) => p.url);
        assert.deepEqual(updated.sort(), [web.url('/docs/'), changed.url].sort());
        assert.equal(r.gone, 1);
        assert.equal(r.added, 1);
        assert.equal(r.unchanged, before.length - 3);
        assert.equal(r.pages.find((p) => p.status === 'gone')?.url, web.url('/docs/troubleshooting'));
        assert.equal(r.pages.find((p) => p.status === 'added')?.url, added.url);
        // Only the changed pages and the new one were embedded: nothing of an unchanged page.
        const embedded = fake.requests.flatMap((q) => (Array.isArray(q.inputs) ? q.inputs : [q.inputs ?? ''])).join('\n');
        assert.ok(embedded.includes(revisionSentence('/docs/webhooks', changed.revision)));
        assert.ok(embedded.includes('thirty days'));
        for (const path of ['/docs/install', '/docs/configuration', '/docs/getting-started']) {
          for (const sentence of web.page(path)!.sentences) assert.equal(embedded.includes(sentence), false, `${path}: ${sentence}`);
        }
        const newSentence = revisionSentence('/docs/webhooks', changed.revision);
        const after = await listDocuments(db);
        assert.ok(
          after.some((d) => d.name === web.url('/docs/troubleshooting')),
          'a gone page is kept',
        );
        assert.ok(after.some((d) => d.name === added.url && d.web?.sourceKind === 'sitemap'));
        const chunks = await allChunks(db);
        assert.ok(chunks.some((c) => c.name === changed.url && c.content.includes(newSentence)));
        // The unchanged documents were not rewritten.
        const untouched = before.filter((d) => d.name !== changed.url && d.name !== web.url('/docs/'));
        for (const d of untouched)
          assert.ok(
            after.some((a) => a.id === d.id && a.name === d.name),
            d.name,
          );
      } finally {
        web.restore('/docs/troubleshooting');
      }
    });
  });
}
