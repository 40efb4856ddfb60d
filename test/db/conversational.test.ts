/** Retrieval that follows the conversation, on both backends: a follow-up finds the first turn's document with Groq off. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAnswerService } from '../../src/answer/service.js';
import { loadLlamaTokenizer } from '../../src/answer/tokens.js';
import type { TokenCounter } from '../../src/answer/tokens.js';
import { loadConfig } from '../../src/config.js';
import type { Db } from '../../src/db/backend.js';
import { ingestFile } from '../../src/kb/ingest/pipeline.js';
import { retrieveForConversation } from '../../src/kb/conversational.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { longManual, tablesDoc } from '../support/pdfs.js';

const CHANNEL = '223456789012345678';
const USER = '555555555555555555';

for (const kind of BACKENDS) {
  describe(`conversational retrieval (${kind})`, () => {
    let t: TestDatabase;
    let db: Db;
    let counter: TokenCounter;
    let dir: string;

    before(async () => {
      t = await createTestDatabase(kind);
      db = await t.open();
      counter = await loadLlamaTokenizer();
      dir = mkdtempSync(join(tmpdir(), 'copilot-convo-'));
      writeFileSync(join(dir, 'manual.pdf'), await longManual());
      writeFileSync(join(dir, 'tables.pdf'), await tablesDoc());
      for (const f of ['manual.pdf', 'tables.pdf']) await ingestFile({ db, embedder: null, maxFileBytes: 50e6 }, join(dir, f));
    });
    after(async () => {
      await db.close();
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    const onLimits = (sources: { document: string; page: number | null }[]) =>
      sources.some((s) => s.document === 'tables.pdf' && s.page === 2);

    test('a follow-up in a channel retrieves the first turn’s document with Groq off; alone it does not', async () => {
      const config = loadConfig({}, { COPILOT_HOME: t.home });
      const service = createAnswerService({ db, config, embedder: null, chat: null, counter });
      const first = await service.answer({
        conversationId: CHANNEL,
        channelId: CHANNEL,
        authorId: USER,
        question: 'how many exports per day can we run on team?',
      });
      assert.ok(onLimits(first.sources), 'the first turn finds the plan limits');
      const followUp = 'what happens when we hit it?';
      const second = await service.answer({ conversationId: CHANNEL, channelId: CHANNEL, authorId: USER, question: followUp });
      assert.equal(second.fallback, true);
      assert.ok(onLimits(second.sources), `the follow-up finds the plan limits: ${second.sources.map((s) => s.label).join(', ')}`);
      const alone = await service.answer({ conversationId: '323456789012345678', channelId: null, authorId: USER, question: followUp });
      assert.ok(!onLimits(alone.sources), 'without the first turn the follow-up does not find it');
    });

    test('a new, self-contained topic keeps its own passages after an unrelated turn', async () => {
      const r = await retrieveForConversation(db, null, 'what does error E-3003 mean?', ['how much is the business plan?'], { k: 3 });
      assert.equal(r.passages[0]!.documentName, 'manual.pdf');
      assert.match(r.passages[0]!.content, /E-3003/);
    });
  });
}
