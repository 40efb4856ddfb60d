/**
 * `copilot eval --channel ID` through the built binary: retrieval as the bot does it in that
 * channel — only its collections, and a `turns` conversation's earlier turns as its memory — while
 * the channel's own stored memory stays as it was; a channel that is not allowed is exit 2.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../support/cli.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';

const CHANNEL = '223456789012345678';

for (const kind of BACKENDS) {
  describe(`copilot eval --channel (${kind})`, () => {
    let t: TestDatabase;
    let dir: string;
    const f = (name: string) => join(dir, name);
    // Full text alone (no embeddings provider): what each question finds is decided by its words.
    const cli = (args: string[]) => runCli(args, { env: t.env, cwd: dir, timeoutMs: 120_000 });
    const ok = async (args: string[]) => {
      const r = await cli(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };

    before(async () => {
      t = await createTestDatabase(kind);
      dir = mkdtempSync(join(tmpdir(), 'copilot-eval-channel-'));
      writeFileSync(f('payroll.md'), '# Payroll\n\nStaff payroll closes on the twenty-fifth; the quorble form goes to finance.\n');
      writeFileSync(f('kettle.md'), '# Zephyr kettle warranty\n\nThe Zephyr kettle warranty covers the heating plate for three years.\n');
      await ok(['kb', 'ingest', 'payroll.md', '--collection', 'staff']);
      await ok(['kb', 'ingest', 'kettle.md']);
      await ok(['channels', 'add', CHANNEL, '--collections', 'default']);
    });
    after(async () => {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test("the channel's collections and the earlier turns as memory, as the bot retrieves; its memory untouched", async () => {
      // The channel's real memory: one exchange stored by `ask --channel`.
      await ok(['ask', '--channel', CHANNEL, 'what does the Zephyr kettle warranty cover']);
      const memory = await ok(['--json', 'convo', 'show', CHANNEL]);
      assert.equal((JSON.parse(memory) as unknown[]).length, 2);

      writeFileSync(
        f('q.jsonl'),
        [
          { question: 'when does staff payroll close?', file: 'payroll.md' },
          { turns: [{ question: 'tell me about the Zephyr kettle warranty' }, { question: 'and for how long?', file: 'kettle.md' }] },
          { question: 'and for how long?', file: 'kettle.md' },
        ]
          .map((l) => JSON.stringify(l))
          .join('\n') + '\n',
      );
      const hits = async (args: string[]) =>
        (JSON.parse(await ok(['--json', 'eval', 'q.jsonl', ...args])) as { results: { hit: boolean }[] }).results.map((r) => r.hit);

      // Everywhere: the payroll question hits; the follow-up hits with its earlier turn, not alone.
      assert.deepEqual(await hits([]), [true, true, false]);
      // In the channel, which retrieves from `default` only, the payroll page is out of reach.
      assert.deepEqual(await hits(['--channel', CHANNEL]), [false, true, false]);
      assert.deepEqual(await hits(['--channel', CHANNEL, '--answers']), [false, true, false]);

      assert.equal(await ok(['--json', 'convo', 'show', CHANNEL]), memory, "the channel's memory is unchanged");
      assert.deepEqual(
        (JSON.parse(await ok(['--json', 'convo', 'list'])) as { id: string }[]).map((c) => c.id),
        [CHANNEL],
        'no other conversation is left behind',
      );
    });

    test('a channel that is not allowed: exit 2 before anything runs', async () => {
      writeFileSync(f('one.jsonl'), JSON.stringify({ question: 'when does staff payroll close?', file: 'payroll.md' }) + '\n');
      const r = await cli(['eval', 'one.jsonl', '--channel', '323456789012345678']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /323456789012345678 is not an allowed channel/);
      assert.equal(r.stdout, '');
    });
  });
}
