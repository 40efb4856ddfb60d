/**
 * `copilot feedback export` through the built binary, on both backends: one line per answer with
 * more 👍 than 👎, in `copilot eval`'s format (question, the file and pages of the sources it
 * cited); answers without a source still in the knowledge base are left out; JSON Lines on stdout,
 * `--out FILE`, or an array with --json; and `copilot eval` runs the exported file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { appendAnswer, appendMessage, ensureConversation } from '../../src/db/conversations.js';
import { recordVote } from '../../src/db/votes.js';
import { runCli } from '../support/cli.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { longManual } from '../support/pdfs.js';

const CHANNEL = '123456789012345678';
const INSTALLER = 'windows installer keeps bailing out with 1603, anyone know whats up';
const ARM = 'anyone got it running on a raspberry pi? like arm linux';

for (const kind of BACKENDS) {
  describe(`feedback export (${kind})`, () => {
    let t: TestDatabase;
    let dir: string;
    const cli = (args: string[]) => runCli(args, { env: t.env, cwd: dir, timeoutMs: 120_000 });

    before(async () => {
      t = await createTestDatabase(kind);
      dir = mkdtempSync(join(tmpdir(), 'copilot-export-'));
      writeFileSync(join(dir, 'manual.pdf'), await longManual(12));
      const ingested = await cli(['kb', 'ingest', 'manual.pdf']);
      assert.equal(ingested.code, 0, ingested.stderr);
      const db = await t.open();
      try {
        await ensureConversation(db, { id: CHANNEL, channelId: CHANNEL });
        const answer = async (question: string, text: string, votes: (1 | -1)[]) => {
          const q = await appendMessage(db, CHANNEL, { role: 'user', content: question, authorId: '223456789012345678' });
          const a = await appendAnswer(db, CHANNEL, q, { content: text, status: 'complete' });
          for (const [i, v] of votes.entries()) await recordVote(db, a, String(300000000000000000n + BigInt(i)), v);
        };
        await answer(INSTALLER, 'Run it as administrator [1].\n\nSources: manual.pdf p.3 · manual.pdf p.2', [1]);
        await answer(ARM, 'Yes, there is an ARM build [1].\n\nSources: manual.pdf p.4', [1, 1, -1]);
        await answer('does it run on the moon?', 'No [1].\n\nSources: manual.pdf p.5', [1, -1, -1]);
        await answer('what about the old handbook?', 'See the handbook [1].\n\nSources: handbook.pdf p.1', [1]);
        await answer('thanks!', 'You are welcome.', [1]);
        await answer(INSTALLER, 'Run it as administrator [1].\n\nSources: manual.pdf p.3', [1]);
      } finally {
        await db.close();
      }
    });
    after(async () => {
      rmSync(dir, { recursive: true, force: true });
      await t?.cleanup();
    });

    test('JSON Lines of the 👍 answers: question, file and pages; the rest left out', async () => {
      const r = await cli(['feedback', 'export']);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown);
      assert.deepEqual(lines, [
        { question: INSTALLER, file: 'manual.pdf', pages: [3] },
        { question: ARM, file: 'manual.pdf', pages: [4] },
      ]);
      assert.match(r.stderr, /2 question\(s\) exported \(2 👍 answer\(s\) without a source still in the knowledge base left out\)/);
      const json = await cli(['--json', 'feedback', 'export']);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout), lines);
    });

    test('--out FILE is a question file `copilot eval` runs', async () => {
      const r = await cli(['feedback', 'export', '--out', 'golden.jsonl']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(readFileSync(join(dir, 'golden.jsonl'), 'utf8').trim().split('\n').length, 2);
      const evaluated = await cli(['--json', 'eval', 'golden.jsonl', '-k', '5']);
      assert.equal(evaluated.code, 0, evaluated.stderr);
      const report = JSON.parse(evaluated.stdout) as { questions: number; answerable: number; results: { question: string }[] };
      assert.equal(report.questions, 2);
      assert.equal(report.answerable, 2);
      assert.deepEqual(
        report.results.map((x) => x.question),
        [INSTALLER, ARM],
      );
      const bad = await cli(['feedback', 'export', '--since', 'yesterday']);
      assert.equal(bad.code, 2);
    });
  });
}
