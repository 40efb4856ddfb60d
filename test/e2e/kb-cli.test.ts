/** `copilot kb` through the built binary: bad inputs (one line, exit 2, nothing written), mixed batches, list/show/search/remove. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFakeEmbeddings } from '../fakes/embeddings.js';
import type { FakeEmbeddings } from '../fakes/embeddings.js';
import { spawn } from 'node:child_process';
import pg from 'pg';
import { baseEnv, BIN, runCli } from '../support/cli.js';
import { adminUrl, BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import {
  corruptPdf,
  encryptedPdf,
  fullPagesManual,
  longManual,
  scannedPdf,
  tablesDoc,
  truncatedPdf,
  whitespacePdf,
} from '../support/pdfs.js';

for (const kind of BACKENDS) {
  describe(`copilot kb (${kind})`, () => {
    let t: TestDatabase;
    let fake: FakeEmbeddings;
    let dir: string;
    const f = (name: string) => join(dir, name);
    const cli = (args: string[], env: Record<string, string> = {}) =>
      runCli(args, { env: { ...t.env, EMBEDDINGS_URL: fake.url, ...env }, cwd: dir });
    const documents = async () =>
      JSON.parse((await cli(['--json', 'kb', 'list'])).stdout) as { name: string; chunks: number; embedded: number }[];

    before(async () => {
      t = await createTestDatabase(kind);
      fake = await startFakeEmbeddings();
      dir = mkdtempSync(join(tmpdir(), 'copilot-kbcli-'));
      writeFileSync(f('manual.pdf'), await longManual(12));
      writeFileSync(f('tables.pdf'), await tablesDoc());
      writeFileSync(f('empty.pdf'), '');
      writeFileSync(f('fake.pdf'), 'this is not a PDF at all');
      writeFileSync(f('corrupt.pdf'), await corruptPdf());
      writeFileSync(f('truncated.pdf'), await truncatedPdf());
      writeFileSync(f('secret.pdf'), await encryptedPdf());
      writeFileSync(f('scan.pdf'), await scannedPdf());
      writeFileSync(f('blank.pdf'), await whitespacePdf());
      writeFileSync(f('blank.txt'), '   \n\n\t  \n');
      writeFileSync(f('report.docx'), 'PK\u0003\u0004 fake docx');
      writeFileSync(f('big.txt'), 'word '.repeat(500_000));
      mkdirSync(f('folder.md'));
    });
    after(async () => {
      await fake.close();
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('each bad file: one clear line, exit 2, nothing written', async () => {
      const cases: [string, RegExp, Record<string, string>?][] = [
        ['missing.pdf', /missing\.pdf: no such file/],
        ['folder.md', /folder\.md: is a directory/],
        ['report.docx', /unsupported file type \.docx/],
        ['empty.pdf', /empty\.pdf: empty file/],
        ['fake.pdf', /fake\.pdf: not a PDF/],
        ['corrupt.pdf', /corrupt\.pdf: could not be read as a PDF: damaged or truncated/],
        ['truncated.pdf', /truncated\.pdf: could not be read as a PDF: damaged or truncated/],
        ['secret.pdf', /secret\.pdf: .*password protected/],
        ['scan.pdf', /scan\.pdf: no extractable text — OCR it first/],
        ['blank.pdf', /blank\.pdf: no (extractable )?text/],
        ['blank.txt', /blank\.txt: no text in file/],
        ['big.txt', /big\.txt: 2\.4 MB is over the 1\.0 MB limit/, { COPILOT_MAX_FILE_MB: '1' }],
      ];
      for (const [name, message, env] of cases) {
        const r = await cli(['kb', 'ingest', name], env);
        assert.equal(r.code, 2, `${name}: ${r.stderr}`);
        assert.match(r.stderr, message, name);
        assert.doesNotMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
        assert.equal(r.stderr.split('\n').filter((l) => l.includes(name)).length, 1, `${name}: reported once: ${r.stderr}`);
      }
      assert.deepEqual(await documents(), []);
    });

    test('several files: good ones ingested, bad ones reported, exit 2; the table and JSON summary', async () => {
      const r = await cli(['--json', 'kb', 'ingest', 'manual.pdf', 'fake.pdf', 'tables.pdf', 'secret.pdf']);
      assert.equal(r.code, 2, r.stderr);
      const results = JSON.parse(r.stdout) as { file: string; status: string; pages?: number; chunks?: number; error?: { code: string } }[];
      assert.deepEqual(
        results.map((x) => [x.file, x.status]),
        [
          ['manual.pdf', 'ingested'],
          ['fake.pdf', 'failed'],
          ['tables.pdf', 'ingested'],
          ['secret.pdf', 'failed'],
        ],
      );
      assert.equal(results[0]!.pages, 12);
      assert.equal(results[3]!.error!.code, 'pdf_encrypted');
      assert.match(r.stderr, /2 of 4 file\(s\) not ingested/);
      const docs = await documents();
      assert.deepEqual(
        docs.map((d) => d.name),
        ['manual.pdf', 'tables.pdf'],
      );
      assert.ok(docs.every((d) => d.chunks > 0 && d.embedded === d.chunks));
      const again = await cli(['kb', 'ingest', 'manual.pdf']);
      assert.equal(again.code, 0);
      assert.match(again.stderr, /already ingested/);
      assert.match(again.stdout, /^File\tStatus\tPages\tChunks\tEmbedded\tSeconds\nmanual\.pdf\talready ingested\t12\t/);
    });

    test('a changed file needs --replace', async () => {
      mkdirSync(f('v2'), { recursive: true });
      writeFileSync(f('v2/manual.pdf'), await longManual(6));
      const refused = await cli(['kb', 'ingest', 'v2/manual.pdf']);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /add --replace/);
      const replaced = await cli(['--json', 'kb', 'ingest', 'v2/manual.pdf', '--replace']);
      assert.equal(replaced.code, 0, replaced.stderr);
      assert.equal(JSON.parse(replaced.stdout)[0].status, 'replaced');
      assert.equal((await documents()).find((d) => d.name === 'manual.pdf')!.chunks < 12, true);
    });

    test('search, show and remove', async () => {
      const search = await cli(['--json', 'kb', 'search', 'what', 'does', 'error', 'E-4012', 'mean?', '-k', '3']);
      assert.equal(search.code, 0, search.stderr);
      const s = JSON.parse(search.stdout);
      assert.equal(s.mode, 'hybrid');
      assert.ok(s.results.length > 0 && s.results.length <= 3);
      assert.deepEqual(Object.keys(s.results[0]).sort(), [
        'content',
        'cosine',
        'coverage',
        'document',
        'page',
        'rank',
        'score',
        'section',
        'title',
        'url',
      ]);
      const table = await cli(['kb', 'search', 'licence', 'key']);
      assert.match(table.stdout, /^#\tScore\tFile\tPage\tSnippet\n1\t/);
      // Embeddings down or hanging: full text with a warning, exit 0 — within the short question budget.
      const refused = await cli(['--json', 'kb', 'search', 'error', 'E-4012'], { EMBEDDINGS_URL: 'http://127.0.0.1:1/embed' });
      assert.equal(refused.code, 0, refused.stderr);
      assert.match(refused.stderr, /^warning: embeddings from 127\.0\.0\.1:1 (failed|did not answer).*: full-text search only$/m);
      assert.equal(JSON.parse(refused.stdout).mode, 'fulltext');
      assert.ok(JSON.parse(refused.stdout).results.length > 0);
      fake.setBehavior({ kind: 'hang' });
      try {
        const hanging = await cli(['kb', 'search', 'licence', 'key']);
        assert.equal(hanging.code, 0, hanging.stderr);
        assert.match(hanging.stderr, /warning: embeddings from 127\.0\.0\.1:\d+ did not answer within 2 s: full-text search only/);
        assert.match(hanging.stdout, /^#\tScore\tFile\tPage\tSnippet\n1\t/);
        assert.ok(hanging.ms < 15_000, `searched in ${hanging.ms.toFixed(0)} ms, not after ingest's 30 s timeout`);
      } finally {
        fake.setBehavior({ kind: 'ok' });
      }
      assert.equal((await cli(['kb', 'search', 'x', '-k', '0'])).code, 2);
      const show = await cli(['kb', 'show', 'tables.pdf']);
      assert.equal(show.code, 0);
      assert.match(show.stdout, /tables\.pdf \(id \d+, pdf\)/);
      assert.equal((await cli(['kb', 'show', 'nothing.pdf'])).code, 2);
      const badRemove = await cli(['kb', 'remove', 'tables.pdf', 'nothing.pdf']);
      assert.equal(badRemove.code, 2);
      assert.equal((await documents()).length, 2);
      assert.equal((await cli(['kb', 'remove', 'tables.pdf'])).code, 0);
      assert.deepEqual(
        (await documents()).map((d) => d.name),
        ['manual.pdf'],
      );
    });

    test('without a provider: said once, stored for full text; an unreachable provider exits 1 and writes nothing', async () => {
      writeFileSync(f('notes.md'), '# Notes\n\nThe staging server restarts every Sunday at 04:00.\n');
      const r = await runCli(['kb', 'ingest', 'notes.md'], { env: t.env, cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr.match(/no embeddings provider configured/g)?.length, 1);
      writeFileSync(f('more.md'), '# More\n\nSomething new.\n');
      const down = await cli(['kb', 'ingest', 'more.md'], { EMBEDDINGS_URL: 'http://127.0.0.1:1/embed' });
      assert.equal(down.code, 1, down.stderr);
      assert.match(down.stderr, /embeddings from 127\.0\.0\.1:1 failed/);
      assert.ok(!(await documents()).some((d) => d.name === 'more.md'));
      const embed = await cli(['--json', 'kb', 'embed']);
      assert.equal(embed.code, 0, embed.stderr);
      assert.equal(JSON.parse(embed.stdout).embedded, 1);
    });
  });
}

test('on a fresh machine, the first `kb ingest` creates the embedded database and ingests in the same run', async () => {
  const fresh = await createTestDatabase('embedded', { template: false });
  const fake = await startFakeEmbeddings();
  try {
    const file = join(fresh.home, 'manual.pdf');
    writeFileSync(file, await longManual(6));
    const env = { ...fresh.env, EMBEDDINGS_URL: fake.url };
    for (const extra of [{}, { EMBEDDINGS_URL: '' }]) {
      // with a provider (vectors), then a second file without one (no vectors), each on a new home
      const r = await runCli(['kb', 'ingest', file], { env: { ...env, ...extra } });
      assert.equal(r.code, 0, r.stderr);
      const list = JSON.parse((await runCli(['--json', 'kb', 'list'], { env })).stdout) as { chunks: number; embedded: number }[];
      assert.equal(list.length, 1);
      assert.ok(list[0]!.chunks > 0);
      assert.equal(list[0]!.embedded, 'EMBEDDINGS_URL' in extra ? 0 : list[0]!.chunks);
      rmSync(join(fresh.home, 'data'), { recursive: true, force: true });
      rmSync(join(fresh.home, 'config.json'), { force: true });
    }
  } finally {
    await fake.close();
    await fresh.cleanup();
  }
});

for (const kind of BACKENDS) {
  test(`Ctrl-C or a crash half-way through \`kb ingest\` leaves nothing behind; running it again completes (${kind})`, async () => {
    const t = await createTestDatabase(kind);
    // slow enough that the command is caught with chunks written (PostgreSQL) or vectors pending
    const fake = await startFakeEmbeddings({ behavior: { kind: 'ok', delayMs: 400 } });
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    try {
      const file = join(t.home, 'manual.pdf');
      writeFileSync(file, await fullPagesManual(50));
      const env = { ...t.env, EMBEDDINGS_URL: fake.url };
      const dbName = t.url ? new URL(t.url).pathname.slice(1) : null;
      const caughtHalfWay = async () => {
        if (!dbName) return fake.requests.length > 0;
        const { rows } = await admin.query<{ n: string }>(
          `select count(*) as n from pg_stat_activity
           where datname = $1 and xact_start is not null and query like 'insert into chunks%'`,
          [dbName],
        );
        return Number(rows[0]!.n) > 0;
      };
      for (const signal of ['SIGINT', 'SIGKILL'] as const) {
        const child = spawn(process.execPath, [BIN, 'kb', 'ingest', file], { env: baseEnv(env), cwd: t.home, stdio: 'ignore' });
        const exited = new Promise((resolve) => child.on('exit', resolve));
        let caught = false;
        for (let i = 0; i < 1000 && !caught && child.exitCode === null; i++) {
          caught = await caughtHalfWay();
          if (!caught) await new Promise((r) => setTimeout(r, 10));
        }
        assert.ok(caught, `${signal}: the ingest was caught half-way`);
        child.kill(signal);
        await exited;
        const list = await runCli(['--json', 'kb', 'list'], { env });
        assert.equal(list.code, 0, list.stderr);
        assert.deepEqual(JSON.parse(list.stdout), [], `${signal}: nothing written`);
      }
      fake.setBehavior({ kind: 'ok' });
      const again = await runCli(['kb', 'ingest', file], { env });
      assert.equal(again.code, 0, again.stderr);
      const docs = JSON.parse((await runCli(['--json', 'kb', 'list'], { env })).stdout) as {
        name: string;
        chunks: number;
        embedded: number;
      }[];
      assert.equal(docs.length, 1);
      assert.equal(docs[0]!.name, 'manual.pdf');
      assert.ok(docs[0]!.chunks > 150);
      assert.equal(docs[0]!.embedded, docs[0]!.chunks);
    } finally {
      await admin.end();
      await fake.close();
      await t.cleanup();
    }
  });
}
