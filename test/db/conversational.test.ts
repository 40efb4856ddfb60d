/** Retrieval that follows the conversation, on both backends: a follow-up finds the first turn's document with Groq off. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createChatClient } from '../../src/answer/groq.js';
import { looksContextDependent } from '../../src/answer/rewrite.js';
import { createAnswerService } from '../../src/answer/service.js';
import { loadLlamaTokenizer } from '../../src/answer/tokens.js';
import type { TokenCounter } from '../../src/answer/tokens.js';
import { loadConfig } from '../../src/config.js';
import type { Db } from '../../src/db/backend.js';
import { createEmbedder } from '../../src/kb/embed.js';
import { ingestFile } from '../../src/kb/ingest/pipeline.js';
import { retrieveForConversation } from '../../src/kb/conversational.js';
import { fakeEmbed } from '../fakes/embeddings.js';
import { startFakeGroq } from '../fakes/groq.js';
import type { FakeGroq } from '../fakes/groq.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { longManual, tablesDoc } from '../support/pdfs.js';

const CHANNEL = '223456789012345678';
const USER = '555555555555555555';
// Each Groq test asks as its own user: on Postgres the per-user question limit is shared by every service on the database.
const REWRITE_USER = '555555555555555556';
const FALLBACK_USER = '555555555555555557';

for (const kind of BACKENDS) {
  describe(`conversational retrieval (${kind})`, () => {
    let t: TestDatabase;
    let db: Db;
    let counter: TokenCounter;
    let dir: string;
    let groq: FakeGroq;

    before(async () => {
      groq = await startFakeGroq({ apiKey: 'gsk_test' });
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
      await groq.close();
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

    test('a follow-up with no words of its own is matched against the whole knowledge base through the earlier turn', async () => {
      // "and then?" is all stop words: its evidence comes from the earlier turn's lexemes alone.
      const r = await retrieveForConversation(db, null, 'and then?', ['what does error E-3003 mean?'], { k: 3 });
      assert.match(r.passages[0]?.content ?? '', /E-3003/);
      assert.ok(r.relevance.match > 0, `match ${r.relevance.match}: scored against the chunks in the knowledge base, not against none`);
      assert.equal(r.relevance.matches, true);
    });

    test('a new, self-contained topic keeps its own passages after an unrelated turn', async () => {
      const r = await retrieveForConversation(db, null, 'what does error E-3003 mean?', ['how much is the business plan?'], { k: 3 });
      assert.equal(r.passages[0]!.documentName, 'manual.pdf');
      assert.match(r.passages[0]!.content, /E-3003/);
    });

    const REWRITE_MODEL = 'llama-3.1-8b-instant';
    const rewrites = () => groq.chatRequests().filter((r) => r.body?.model === REWRITE_MODEL);
    async function withGroq() {
      const config = loadConfig({}, { COPILOT_HOME: t.home, GROQ_API_KEY: 'gsk_test', GROQ_BASE_URL: groq.baseURL });
      const chat = await createChatClient(config, { backoffMs: 20, maxRateLimitWaitMs: 500, firstTokenTimeoutMs: 2000 });
      return createAnswerService({ db, config, embedder: null, chat, counter });
    }

    test('a rewrite is requested only for a context-dependent follow-up, with the rewrite model, and its question is retrieved', async () => {
      const conversation = '423456789012345678';
      const service = await withGroq();
      groq.setBehavior({
        kind: 'ok',
        reply: (body) => (body.model === REWRITE_MODEL ? 'What happens when the Team plan daily export limit is reached?' : 'See [1].'),
      });
      const before = rewrites().length;
      await service.answer({
        conversationId: conversation,
        channelId: null,
        authorId: REWRITE_USER,
        question: 'how many exports per day can we run on team?',
      });
      assert.equal(rewrites().length, before, 'a first, self-contained question is not rewritten');
      await service.answer({
        conversationId: conversation,
        channelId: null,
        authorId: REWRITE_USER,
        question: 'unrelated, but does the agent restart on its own after a crash?',
      });
      assert.equal(rewrites().length, before, 'a self-contained new topic is not rewritten');
      const r = await service.answer({
        conversationId: conversation,
        channelId: null,
        authorId: REWRITE_USER,
        question: 'what happens when we hit it?',
      });
      const sent = rewrites().slice(before);
      assert.equal(sent.length, 1, 'the follow-up is rewritten once');
      assert.match(
        String(sent[0]!.body!.messages!.at(-1)!.content),
        /how many exports per day can we run on team\?[\s\S]*what happens when we hit it\?/,
      );
      assert.equal(sent[0]!.body!.stream ?? false, false);
      const answerRequest = groq.chatRequests().at(-1)!;
      assert.equal(answerRequest.body!.model, 'llama-3.3-70b-versatile');
      assert.match(String(answerRequest.body!.messages![0]!.content), /tables\.pdf p\.2/);
      assert.equal(r.fallback, false);
    });

    test('a failed rewrite falls back silently to retrieval with the conversation', async () => {
      const conversation = '523456789012345678';
      const service = await withGroq();
      groq.setBehavior({ kind: 'ok', reply: 'See [1].' });
      await service.answer({
        conversationId: conversation,
        channelId: null,
        authorId: FALLBACK_USER,
        question: 'how many exports per day can we run on team?',
      });
      const before = rewrites().length;
      groq.setBehavior({ kind: 'error', status: 503, times: 1 });
      const r = await service.answer({
        conversationId: conversation,
        channelId: null,
        authorId: FALLBACK_USER,
        question: 'what happens when we hit it?',
      });
      assert.equal(rewrites().length, before + 1, 'the rewrite was tried');
      assert.equal(groq.chatRequests().at(-1)!.answeredWith, 'ok', 'the answer itself was served');
      assert.equal(r.fallback, false);
      assert.equal(r.answer, 'Echo: what happens when we hit it?', 'answered by the main model after the failed rewrite');
      assert.match(String(groq.chatRequests().at(-1)!.body!.messages![0]!.content), /tables\.pdf p\.2/);
    });

    test('context dependence: pronouns, ellipsis, continuations and very short messages', () => {
      for (const m of [
        'what happens when we hit it?',
        'and on mac?',
        'which one is the default then',
        'what about db2... not in the list',
        'how long?',
      ])
        assert.equal(looksContextDependent(m), true, m);
      for (const m of ['how many exports per day can we run on team?', 'what does error E-3003 mean?', 'how do i turn on debug logging?'])
        assert.equal(looksContextDependent(m), false, m);
    });

    // Last: it stores vectors, which the Groq-off tests above do without.
    test('a follow-up’s message and previous turns are embedded in one request', async () => {
      const config = loadConfig({}, { COPILOT_HOME: t.home, EMBEDDINGS_URL: 'http://127.0.0.1:9/unused', EMBEDDINGS_MODEL: 'test/fake' });
      const calls: string[][] = [];
      const embedder = createEmbedder(config, {}, async (texts) => {
        calls.push(texts);
        return texts.map((x) => fakeEmbed(x, 384));
      })!;
      writeFileSync(join(dir, 'vectors.txt'), 'Export limits reset at midnight UTC. Extra exports queue until then.\n');
      await ingestFile({ db, embedder, maxFileBytes: 50e6 }, join(dir, 'vectors.txt'));
      const service = createAnswerService({ db, config, embedder, chat: null, counter });
      const conversation = '623456789012345678';
      const question = { conversationId: conversation, channelId: null, authorId: '555555555555555558' };
      await service.answer({ ...question, question: 'how many exports per day can we run on team?' });
      calls.length = 0;
      await service.answer({ ...question, question: 'what happens when we hit it?' });
      assert.deepEqual(calls, [['what happens when we hit it?', 'how many exports per day can we run on team?']]);
    });
  });
}
