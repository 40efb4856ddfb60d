/**
 * `copilot eval` through the built binary on a small generated corpus: hit@k and MRR equal what
 * `kb search` gives for the same questions; --min-hit exit codes; `turns` conversations; bad lines
 * reported with their numbers (exit 2, nothing run); --answers counts gap flags and leaves no
 * conversation or gap behind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFakeEmbeddings } from '../fakes/embeddings.js';
import type { FakeEmbeddings } from '../fakes/embeddings.js';
import { runCli } from '../support/cli.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { longManual, tablesDoc } from '../support/pdfs.js';

const EVAL_SET = new URL('../../../bench/eval/questions.jsonl', import.meta.url);

interface Line {
  question: string;
  answerable?: boolean;
  file?: string;
  pages?: number[];
}

/** The questions of the project's set that the 12-page manual and the tables document can answer, and the unanswerable ones. */
function questions(): Line[] {
  return readFileSync(EVAL_SET, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Line)
    .filter((q) => q.answerable === false || q.file === 'tables.pdf' || (q.file === 'manual.pdf' && Math.max(...q.pages!) <= 12));
}

/** A small mix (each question of it is also searched with `kb search`): 8 answerable, 2 not. */
function subset(): Line[] {
  const all = questions();
  return [...all.filter((q) => q.answerable !== false).slice(0, 8), ...all.filter((q) => q.answerable === false).slice(0, 2)];
}

interface Report {
  questions: number;
  k: number;
  hit_at_k: number;
  mrr: number;
  answerable: number;
  unanswerable: number;
  gaps: { flagged: number; false_flags: number } | null;
  latency_ms: { p50: number; p95: number };
  per_file: { file: string; questions: number; hits: number }[];
  misses: { question: string }[];
  results: { line: number; question: string; rank: number | null; hit: boolean; got: string[]; gap: boolean | null }[];
}

for (const kind of BACKENDS) {
  describe(`copilot eval (${kind})`, () => {
    let t: TestDatabase;
    let fake: FakeEmbeddings;
    let dir: string;
    const f = (name: string) => join(dir, name);
    const cli = (args: string[], env: Record<string, string | undefined> = {}) =>
      runCli(args, { env: { ...t.env, EMBEDDINGS_URL: fake.url, ...env }, cwd: dir, timeoutMs: 120_000 });
    const write = (name: string, lines: unknown[]) =>
      writeFileSync(f(name), lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');

    before(async () => {
      t = await createTestDatabase(kind);
      fake = await startFakeEmbeddings();
      dir = mkdtempSync(join(tmpdir(), 'copilot-eval-'));
      writeFileSync(f('manual.pdf'), await longManual(12));
      writeFileSync(f('tables.pdf'), await tablesDoc());
      const r = await cli(['kb', 'ingest', 'manual.pdf', 'tables.pdf']);
      assert.equal(r.code, 0, r.stderr);
    });
    after(async () => {
      await fake.close();
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('hit@k and MRR equal what `kb search` gives for the same questions', async () => {
      const set = subset();
      write('q.jsonl', set);
      const k = 3;
      const r = await cli(['--json', 'eval', 'q.jsonl', '-k', String(k)]);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as Report;
      const answerable = set.filter((q) => q.answerable !== false);
      assert.equal(report.questions, set.length);
      assert.equal(report.answerable, answerable.length);
      assert.equal(report.unanswerable, set.length - answerable.length);
      assert.equal(report.gaps, null, 'no gap figures without --answers');
      assert.deepEqual(new Set(report.results.map((x) => (x as unknown as { mode: string }).mode)), new Set(['hybrid']), r.stderr);

      let hits = 0;
      let reciprocal = 0;
      const byFile = new Map<string, number>();
      for (const [i, q] of answerable.entries()) {
        // Both sides must have embedded the question: on a loaded machine `kb search` may miss its
        // 2 s embedding budget and fall back to full text, so it is asked again then.
        type Searched = { mode: string; results: { rank: number; document: string; page: number | null }[] };
        const search = async (): Promise<Searched> => {
          const s = await cli(['--json', 'kb', 'search', '-k', String(k), q.question]);
          assert.equal(s.code, 0, s.stderr);
          return JSON.parse(s.stdout) as Searched;
        };
        let searched = await search();
        for (let attempt = 1; attempt < 4 && searched.mode !== 'hybrid'; attempt++) searched = await search();
        assert.equal(searched.mode, 'hybrid', 'kb search embedded the question');
        const found = searched.results;
        const first = found.find((p) => p.document === q.file && p.page !== null && q.pages!.includes(p.page));
        const mine = report.results.find((x) => x.question === q.question)!;
        assert.equal(mine.rank, first?.rank ?? null, `question ${i}: ${q.question}`);
        if (first) {
          hits++;
          reciprocal += 1 / first.rank;
          byFile.set(q.file!, (byFile.get(q.file!) ?? 0) + 1);
        }
      }
      // The set is not trivial at k = 3: some questions hit, some miss.
      assert.ok(hits > 0 && hits < answerable.length, `hits ${hits} of ${answerable.length}`);
      assert.equal(report.hit_at_k, Math.round((hits / answerable.length) * 10000) / 10000);
      assert.equal(report.mrr, Math.round((reciprocal / answerable.length) * 10000) / 10000);
      assert.equal(report.misses.length, answerable.length - hits);
      for (const row of report.per_file) assert.equal(row.hits, byFile.get(row.file) ?? 0, row.file);
      assert.ok(report.latency_ms.p95 >= report.latency_ms.p50 && report.latency_ms.p50 > 0);

      // The table: one row per question, then the summary line.
      const text = await cli(['eval', 'q.jsonl', '-k', String(k)]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`hit@3 ${((100 * hits) / answerable.length).toFixed(1)}% \\(${hits}/${answerable.length}\\)`));
      assert.match(text.stdout, /\tmiss\t/);
      assert.match(text.stdout, /\thit\t1\t/);
    });

    test('--min-hit: exit 0 at or above, 1 below, 2 for a value that is not a share', async () => {
      write('q.jsonl', subset());
      const report = JSON.parse((await cli(['--json', 'eval', 'q.jsonl', '-k', '3'])).stdout) as Report;
      assert.ok(report.hit_at_k > 0 && report.hit_at_k < 1, `hit@3 ${report.hit_at_k}`);
      assert.equal((await cli(['eval', 'q.jsonl', '-k', '3', '--min-hit', String(report.hit_at_k)])).code, 0);
      assert.equal((await cli(['eval', 'q.jsonl', '-k', '3', '--min-hit', `${Math.floor(100 * report.hit_at_k)}%`])).code, 0);
      const below = await cli(['eval', 'q.jsonl', '-k', '3', '--min-hit', String(Math.min(1, report.hit_at_k + 0.01))]);
      assert.equal(below.code, 1, below.stderr);
      assert.match(below.stderr, /is below --min-hit/);
      for (const bad of ['1.5', 'abc', '-0.2', '120%']) {
        const r = await cli(['eval', 'q.jsonl', '--min-hit', bad]);
        assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
        assert.match(r.stderr, /--min-hit must be a share/);
      }
    });

    test('a `turns` conversation is judged on its last turn', async () => {
      const last = { question: 'how many scheduled jobs can i have on the cheapest plan', file: 'tables.pdf', pages: [2] };
      write('turns.jsonl', [{ turns: [{ question: 'what does error E-4501 mean' }, last] }]);
      const r = await cli(['--json', 'eval', 'turns.jsonl']);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as Report;
      assert.equal(report.questions, 1);
      assert.equal(report.results[0]!.question, last.question);
      assert.equal(report.results[0]!.line, 1);
      assert.equal(report.results[0]!.got.length, 5);
    });

    test('bad lines are reported with their numbers, exit 2, before anything runs', async () => {
      write('bad.jsonl', [
        { question: 'how much is the team tier per user per month', file: 'tables.pdf', pages: [1] },
        'this is not json',
        { file: 'tables.pdf', pages: [1] },
        '',
        { question: 'where is the handbook', file: 'handbook.pdf' },
        { turns: [{ question: 'first' }, { answerable: true }] },
      ]);
      const r = await cli(['eval', 'bad.jsonl']);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '', 'nothing ran');
      assert.match(r.stderr, /line 2: not JSON/);
      assert.match(r.stderr, /line 3: no "question"/);
      assert.match(r.stderr, /line 6: last turn: no "question"/);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      // Syntax first, then the files named: an unknown file alone.
      write('unknown.jsonl', [
        { question: 'how much is the team tier', file: 'tables.pdf' },
        { question: 'where is the handbook', file: 'handbook.pdf' },
      ]);
      const u = await cli(['--json', 'eval', 'unknown.jsonl']);
      assert.equal(u.code, 2, u.stderr);
      assert.equal(u.stdout, '');
      assert.match(JSON.parse(u.stderr).error.message, /line 2: unknown file "handbook\.pdf"/);
      assert.equal((await cli(['eval', 'missing.jsonl'])).code, 2);
      assert.equal((await cli(['eval', 'bad.jsonl', '--channel', '123'])).code, 2);
    });

    test('--answers (Groq off, full text) counts gap flags and leaves no conversation or gap behind', async () => {
      write('answers.jsonl', [
        { question: 'how much is the team tier per user per month', file: 'tables.pdf', pages: [1] },
        { question: 'zqxv blorft wibbleplonk?', answerable: false },
        {
          // Retrieval for a follow-up also uses the earlier turns: both are words no document has.
          turns: [{ question: 'blatherskite gronk?' }, { question: 'frobnicate quuxlet zorp?', answerable: false }],
        },
      ]);
      // Without an embeddings provider retrieval is full text: words no document has find nothing.
      const noVectors = { EMBEDDINGS_URL: undefined };
      const r = await cli(['--json', 'eval', 'answers.jsonl', '--answers'], noVectors);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as Report;
      assert.deepEqual(report.gaps, { flagged: 2, false_flags: 0 });
      assert.deepEqual(
        report.results.map((x) => x.gap),
        [false, true, true],
      );
      assert.deepEqual(JSON.parse((await cli(['--json', 'convo', 'list'])).stdout), []);
      assert.deepEqual(JSON.parse((await cli(['--json', 'kb', 'gaps'])).stdout), []);
    });
  });
}
