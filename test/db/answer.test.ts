/** The answer service on both backends against a fake Groq: prompt, budget, sources, fallbacks, gaps, limits, memory. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addChannels } from '../../src/channels/service.js';
import { setInstructions } from '../../src/instructions/service.js';
import { createChatClient, FIRST_TOKEN_BUDGET_MS } from '../../src/answer/groq.js';
import { NOTHING_FOUND } from '../../src/answer/fallback.js';
import { createAnswerService, INTERRUPTED_NOTE } from '../../src/answer/service.js';
import type { AnswerService } from '../../src/answer/service.js';
import { loadLlamaTokenizer } from '../../src/answer/tokens.js';
import type { TokenCounter } from '../../src/answer/tokens.js';
import { loadConfig } from '../../src/config.js';
import type { Db } from '../../src/db/backend.js';
import { appendMessage, ensureConversation, recentMessages } from '../../src/db/conversations.js';
import { listGaps } from '../../src/db/gaps.js';
import { createEmbedder } from '../../src/kb/embed.js';
import { ingestFile } from '../../src/kb/ingest/pipeline.js';
import { embedMissing } from '../../src/kb/service.js';
import { startFakeEmbeddings } from '../fakes/embeddings.js';
import { startFakeGroq } from '../fakes/groq.js';
import type { ChatRequestBody, FakeGroq } from '../fakes/groq.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { longManual, manualPages } from '../support/pdfs.js';

const CHANNEL = '123456789012345678';
const USER = '555555555555555555';
/** Questions the manual does not answer though they share some of its words (see bench/retrieval for the measured separation). */
const UNANSWERABLE = {
  'full text': 'how do i change my nickname on this discord server',
  hybrid: 'who is the ceo of acme anyway',
};
const systemOf = (body: ChatRequestBody | undefined) => String(body?.messages?.[0]?.content ?? '');

for (const kind of BACKENDS) {
  describe(`answer service (${kind})`, () => {
    let t: TestDatabase;
    let db: Db;
    let groq: FakeGroq;
    let counter: TokenCounter;
    let dir: string;
    let conv = 0;

    async function service(
      env: Record<string, string> = {},
      extra: { contextTokens?: number; reserveForAnswer?: number } = {},
      fresh = true,
    ): Promise<AnswerService> {
      // On Postgres the limits are shared by every service on the database: each test starts a fresh window.
      if (fresh) for (const table of ['token_spending', 'user_question_limits']) await db.query(`delete from ${table}`);
      const config = loadConfig({}, { COPILOT_HOME: t.home, GROQ_API_KEY: 'gsk_test', GROQ_BASE_URL: groq.baseURL, ...env });
      const chat = await createChatClient(config, { backoffMs: 20, maxRateLimitWaitMs: 500, firstTokenTimeoutMs: 2000 });
      return createAnswerService({ db, config, embedder: null, chat, counter, ...extra });
    }
    const newConversation = () => `9${String(++conv).padStart(17, '0')}`;

    before(async () => {
      t = await createTestDatabase(kind);
      db = await t.open();
      groq = await startFakeGroq({ apiKey: 'gsk_test' });
      counter = await loadLlamaTokenizer();
      dir = mkdtempSync(join(tmpdir(), 'copilot-answer-'));
      writeFileSync(join(dir, 'manual.pdf'), await longManual());
      await ingestFile({ db, embedder: null, maxFileBytes: 50e6 }, join(dir, 'manual.pdf'));
      await addChannels(db, [CHANNEL], 'all', 'test');
      await setInstructions(db, 'You are the Acme support bot.', 'test');
      await setInstructions(db, 'Answer in the style of a pirate.', 'test', CHANNEL);
    });
    after(async () => {
      await db.close();
      await groq.close();
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('the prompt holds the instructions first, passages with sources, history in order, the question last; the answer ends with its sources', async () => {
      groq.setBehavior({ kind: 'ok', reply: 'Turn on Remember last used settings under Preferences > Exports [1].' });
      await ensureConversation(db, { id: CHANNEL, channelId: CHANNEL });
      await appendMessage(db, CHANNEL, { role: 'user', content: 'earlier question', authorId: USER });
      await appendMessage(db, CHANNEL, { role: 'assistant', content: 'earlier answer' });
      const deltas: string[] = [];
      const r = await (
        await service()
      ).answer(
        { conversationId: CHANNEL, channelId: CHANNEL, authorId: USER, question: 'how do i keep my export settings between exports?' },
        (d) => deltas.push(d),
      );
      const body = groq.chatRequests().at(-1)!.body!;
      const messages = body.messages!;
      const system = systemOf(body);
      assert.ok(system.startsWith('Answer in the style of a pirate.'), 'the channel override comes first');
      assert.match(system, /\[1\] manual\.pdf p\.\d+\n/);
      assert.deepEqual(
        messages.slice(1).map((m) => [m.role, m.content]),
        [
          ['user', 'earlier question'],
          ['assistant', 'earlier answer'],
          ['user', 'how do i keep my export settings between exports?'],
        ],
      );
      assert.equal(body.model, 'llama-3.3-70b-versatile');
      assert.equal(body.stream, true);
      const firstSource = /\[1\] (manual\.pdf p\.\d+)/.exec(system)![1]!;
      assert.equal(r.text, `Turn on Remember last used settings under Preferences > Exports [1].\n\nSources: ${firstSource}`);
      assert.equal(deltas.join(''), r.answer);
      assert.ok(deltas.length > 1, 'streamed in pieces');
      assert.deepEqual([r.fallback, r.gap, r.interrupted], [false, false, false]);
      const stored = await recentMessages(db, CHANNEL, 10);
      assert.deepEqual(
        stored.slice(-2).map((m) => [m.role, m.content, m.status]),
        [
          ['user', 'how do i keep my export settings between exports?', 'complete'],
          ['assistant', r.text, 'complete'],
        ],
      );
      assert.equal(stored.at(-2)!.authorId, USER);
    });

    test('a tiny budget trims passages first, then the oldest history; never the instructions or the question', async () => {
      const id = newConversation();
      await ensureConversation(db, { id });
      for (let i = 0; i < 6; i++)
        await appendMessage(db, id, { role: i % 2 ? 'assistant' : 'user', content: `history message number ${i} `.repeat(20) });
      groq.setBehavior({ kind: 'ok', reply: 'ok' });
      const question = 'what does error E-2305 mean when uploading over sftp?';
      const full = await (await service()).answer({ conversationId: id, channelId: null, authorId: USER, question });
      assert.equal(full.trimmed.passages + full.trimmed.history, 0);
      const tiny = await (
        await service({}, { contextTokens: 1100, reserveForAnswer: 300 })
      ).answer({ conversationId: id, channelId: null, authorId: USER, question });
      const body = groq.chatRequests().at(-1)!.body!;
      assert.ok(tiny.trimmed.passages > 0, 'passages trimmed');
      assert.ok(systemOf(body).startsWith('You are the Acme support bot.'));
      assert.equal(body.messages!.at(-1)!.content, question);
      const history = body.messages!.slice(1, -1).map((m) => String(m.content));
      if (tiny.trimmed.history > 0) {
        // What is kept is the most recent history, in order.
        const all = (await recentMessages(db, id, 20)).map((m) => m.content);
        const kept = all.slice(all.length - 2 - history.length, all.length - 2);
        assert.deepEqual(history, kept);
      }
      assert.equal(tiny.passagesUsed, 5 - tiny.trimmed.passages);
      assert.ok(tiny.passagesUsed < full.passagesUsed);
    });

    test('a 429 storm, 5xx errors and no key all give the retrieval-only fallback with sources', async () => {
      const question = 'how does the proxy configuration work with a PAC file?';
      groq.setBehavior({ kind: 'rateLimit', retryAfterSec: 0.2, times: 100 });
      const before429 = groq.chatRequests().length;
      const limited = await (await service()).answer({ conversationId: newConversation(), channelId: null, authorId: '1', question });
      assert.equal(limited.fallback, true);
      assert.match(limited.text, /^Generated answers are unavailable right now; here is what the knowledge base says:\n> /);
      assert.match(limited.text, /Sources: manual\.pdf p\.\d+/);
      assert.equal(groq.chatRequests().length - before429, 3, 'Retry-After honoured within the cap, then gave up');

      groq.setBehavior({ kind: 'error', status: 500 });
      const before500 = groq.chatRequests().length;
      const failed = await (await service()).answer({ conversationId: newConversation(), channelId: null, authorId: '2', question });
      assert.equal(failed.fallback, true);
      assert.equal(groq.chatRequests().length - before500, 3, 'two retries after a 500');

      const beforeNoKey = groq.chatRequests().length;
      const config = loadConfig({}, { COPILOT_HOME: t.home });
      const noKey = await createAnswerService({ db, config, embedder: null, chat: null, counter }).answer({
        conversationId: newConversation(),
        channelId: null,
        authorId: '3',
        question,
      });
      assert.equal(noKey.fallback, true);
      assert.match(noKey.text, /^Generated answers are not set up here/);
      assert.equal(groq.chatRequests().length, beforeNoKey, 'no Groq call without a key');
      groq.setBehavior({ kind: 'ok' });
    });

    test('a stream cut half-way keeps the partial answer, marked and stored as interrupted', async () => {
      const id = newConversation();
      groq.setBehavior({
        kind: 'cut',
        afterChars: 30,
        reply: 'The agent makes a backup every night at 02:00 local time [1] and keeps fourteen.',
      });
      const r = await (await service()).answer({ conversationId: id, channelId: null, authorId: USER, question: 'when are backups made?' });
      assert.equal(r.interrupted, true);
      assert.ok(r.answer.startsWith('The agent makes a backup every'));
      assert.ok(r.answer.endsWith(INTERRUPTED_NOTE));
      const stored = await recentMessages(db, id, 5);
      assert.deepEqual(
        stored.map((m) => [m.role, m.status]),
        [
          ['user', 'complete'],
          ['assistant', 'interrupted'],
        ],
      );
      groq.setBehavior({ kind: 'ok' });
    });

    test('NUL characters (which Postgres text cannot hold) are dropped from the question, the reply and the gap', async () => {
      const id = newConversation();
      groq.setBehavior({ kind: 'ok', reply: '[[NOT_IN_KB]] No\u0000 idea about\u0000 comets.' });
      const r = await (
        await service()
      ).answer({ conversationId: id, channelId: null, authorId: USER, question: 'what are comets\u0000 made of?' });
      assert.equal(r.fallback, false);
      const stored = await recentMessages(db, id, 5);
      assert.deepEqual(
        stored.map((m) => [m.role, m.content, m.status]),
        [
          ['user', 'what are comets made of?', 'complete'],
          ['assistant', 'No idea about comets.', 'complete'],
        ],
      );
      const gaps = await listGaps(db, new Date(Date.now() - 60_000));
      assert.ok(
        gaps.some((g) => g.question === 'what are comets made of?'),
        'the gap is recorded without the NUL',
      );
      groq.setBehavior({ kind: 'ok' });
    });

    test('an off-topic question is answered as such (marker stripped) and recorded as a gap', async () => {
      groq.setBehavior({ kind: 'ok', reply: "[[NOT_IN_KB]] The knowledge base doesn't cover the weather, sorry." });
      const svc = await service();
      const question = "what's the weather like in paris today?";
      const r = await svc.answer({ conversationId: newConversation(), channelId: null, authorId: '7', question });
      assert.equal(r.gap, true);
      assert.equal(r.text, "The knowledge base doesn't cover the weather, sorry.");
      await svc.answer({
        conversationId: newConversation(),
        channelId: null,
        authorId: '8',
        question: "What's the weather like in Paris today",
      });
      const gaps = await listGaps(db, new Date(Date.now() - 60_000));
      assert.equal(gaps[0]!.count, 2);
      assert.match(gaps[0]!.question, /weather like in paris/i);
      groq.setBehavior({ kind: 'ok' });
    });

    test('the per-user limit: a short notice once, then silence, and no Groq call', async () => {
      groq.setBehavior({ kind: 'ok', reply: 'fine [1]' });
      const svc = await service({ COPILOT_USER_RATE_PER_MINUTE: '2' });
      const id = newConversation();
      const ask = () => svc.answer({ conversationId: id, channelId: null, authorId: 'spammer', question: 'how do I export to parquet?' });
      const before = groq.chatRequests().length;
      const results = [await ask(), await ask(), await ask(), await ask()];
      assert.deepEqual(
        results.map((r) => r.limited),
        [null, null, 'user', 'user'],
      );
      assert.match(results[2]!.text, /please wait \d+ s/);
      assert.equal(results[3]!.text, '');
      assert.equal(groq.chatRequests().length - before, 2);
      const other = await svc.answer({ conversationId: id, channelId: null, authorId: 'someone-else', question: 'and csv?' });
      assert.equal(other.limited, null, 'limits are per user');
    });

    test('a refused question is neither embedded nor stored, though its reads start with the limit check', async () => {
      const embeddings = await startFakeEmbeddings();
      try {
        const config = loadConfig({}, { COPILOT_HOME: t.home, EMBEDDINGS_URL: embeddings.url, COPILOT_USER_RATE_PER_MINUTE: '1' });
        for (const table of ['token_spending', 'user_question_limits']) await db.query(`delete from ${table}`);
        const embedder = createEmbedder(config)!;
        await embedMissing(db, embedder);
        const svc = createAnswerService({ db, config, embedder, chat: null, counter });
        const id = newConversation();
        const ask = () => svc.answer({ conversationId: id, channelId: CHANNEL, authorId: 'once', question: 'how do I export to parquet?' });
        assert.equal((await ask()).limited, null);
        const embedded = embeddings.requests.length;
        assert.ok(embedded > 0, 'the allowed question was embedded');
        assert.equal((await ask()).limited, 'user');
        assert.equal(embeddings.requests.length, embedded, 'no embedding request for the refused one');
        assert.deepEqual(
          (await recentMessages(db, id, 10)).map((m) => m.role),
          ['user', 'assistant'],
        );
      } finally {
        await embeddings.close();
      }
    });

    test(
      kind === 'postgres'
        ? 'two services on one Postgres (two processes) share the per-user limit and the token budget'
        : 'two services on the embedded database keep their own limits (it serves one process)',
      async () => {
        groq.setBehavior({ kind: 'ok', reply: 'fine [1]' });
        const env = { COPILOT_USER_RATE_PER_MINUTE: '3', GROQ_TOKENS_PER_MINUTE: '3000' };
        const [one, two] = [await service(env), await service(env, {}, false)];
        const ask = (svc: AnswerService, authorId: string) =>
          svc.answer({ conversationId: newConversation(), channelId: null, authorId, question: 'how do I export to parquet?' });
        const user = [await ask(one, 'u1'), await ask(two, 'u1'), await ask(one, 'u1'), await ask(two, 'u1'), await ask(one, 'u1')];
        const budget = [await ask(one, 'u2'), await ask(two, 'u3')];
        if (kind === 'postgres') {
          assert.deepEqual(
            user.map((r) => r.limited),
            [null, null, null, 'user', 'user'],
          );
          assert.match(user[3]!.text, /please wait \d+ s/, 'one notice, from whichever process refused first');
          assert.equal(user[4]!.text, '');
          // The first answer spent the budget; the others in this window fall back, on either service.
          assert.deepEqual(
            [...user.slice(0, 3), ...budget].map((r) => r.fallback),
            [false, true, true, true, true],
          );
        } else {
          // Three questions on one, two on the other: each under its own limit of 3.
          assert.deepEqual(
            user.map((r) => r.limited),
            [null, null, null, null, null],
          );
          // Each service spends its own budget once.
          assert.deepEqual(
            [...user, ...budget].map((r) => r.fallback),
            [false, false, true, true, true, true, true],
          );
        }
      },
    );

    test('the token budget: over it, the retrieval-only answer and no Groq call', async () => {
      const svc = await service({ GROQ_TOKENS_PER_MINUTE: '3000' });
      const before = groq.chatRequests().length;
      const first = await svc.answer({
        conversationId: newConversation(),
        channelId: null,
        authorId: 'a',
        question: 'how are backups kept?',
      });
      assert.equal(first.fallback, false);
      const second = await svc.answer({
        conversationId: newConversation(),
        channelId: null,
        authorId: 'b',
        question: 'how are backups kept?',
      });
      assert.equal(second.fallback, true);
      assert.match(second.text, /used up my answer budget/);
      assert.equal(groq.chatRequests().length - before, 1);
      void manualPages;
    });

    test('a hanging Groq: the retrieval-only answer once the first-token budget is spent, not a minute later', async () => {
      // The client's own defaults: the budget under test is FIRST_TOKEN_BUDGET_MS (10 s).
      const config = loadConfig({}, { COPILOT_HOME: t.home, GROQ_API_KEY: 'gsk_test', GROQ_BASE_URL: groq.baseURL });
      const svc = createAnswerService({ db, config, embedder: null, chat: await createChatClient(config), counter });
      groq.setBehavior({ kind: 'hang' });
      try {
        const t0 = performance.now();
        const r = await svc.answer({
          conversationId: newConversation(),
          channelId: null,
          authorId: 'h1',
          question: 'how are backups kept?',
        });
        const ms = performance.now() - t0;
        assert.equal(r.fallback, true);
        assert.match(r.text, /^Generated answers are unavailable right now/);
        assert.ok(ms < 20_000, `answered in ${ms.toFixed(0)} ms (three 20 s attempts before)`);
        assert.ok(ms >= FIRST_TOKEN_BUDGET_MS - 1000, `waited for the budget (${ms.toFixed(0)} ms)`);
      } finally {
        groq.setBehavior({ kind: 'ok' });
      }
    });

    test("a hanging embeddings server: the answer goes on with full text after the question budget, well under ingest's 30 s timeout", async () => {
      const embeddings = await startFakeEmbeddings();
      try {
        const config = loadConfig(
          {},
          { COPILOT_HOME: t.home, GROQ_API_KEY: 'gsk_test', GROQ_BASE_URL: groq.baseURL, EMBEDDINGS_URL: embeddings.url },
        );
        // Ingest's policy (30 s per attempt, 4 attempts) is what the app builds; vectors are stored first.
        const embedder = createEmbedder(config)!;
        await embedMissing(db, embedder);
        const warnings: string[] = [];
        const log = { info() {}, warn: (_o: object, msg?: string) => void warnings.push(msg ?? '') };
        const chat = await createChatClient(config, { backoffMs: 20 });
        const svc = createAnswerService({ db, config, embedder, chat, counter, log });
        groq.setBehavior({ kind: 'ok', reply: 'Backups are kept for fourteen days [1].' });
        embeddings.setBehavior({ kind: 'hang' });
        const asked = embeddings.requests.length;
        const t0 = performance.now();
        const r = await svc.answer({
          conversationId: newConversation(),
          channelId: null,
          authorId: 'h2',
          question: 'how long are backups kept?',
        });
        const ms = performance.now() - t0;
        assert.ok(embeddings.requests.length > asked, 'the question was sent for embedding');
        assert.equal(r.fallback, false);
        assert.ok(r.passagesUsed > 0, 'full-text retrieval found passages');
        assert.match(r.text, /^Backups are kept for fourteen days \[1\]\.\n\nSources: /);
        assert.ok(ms < 10_000, `answered in ${ms.toFixed(0)} ms`);
        assert.ok(warnings.includes('question embedding failed; full-text retrieval only'), warnings.join('; '));
      } finally {
        await embeddings.close();
      }
    });

    test('without Groq, a question nothing matches gets a plain "nothing matches" and a gap; an answerable one still gets quotes with file and page', async () => {
      const embeddings = await startFakeEmbeddings();
      try {
        const config = loadConfig({}, { COPILOT_HOME: t.home, EMBEDDINGS_URL: embeddings.url });
        const embedder = createEmbedder(config)!;
        await embedMissing(db, embedder);
        const since = new Date(Date.now() - 1000);
        for (const [mode, withVectors] of [
          ['full text', null],
          ['hybrid', embedder],
        ] as const) {
          const svc = createAnswerService({ db, config, embedder: withVectors, chat: null, counter });
          const unmatched = UNANSWERABLE[mode];
          const none = await svc.answer({ conversationId: newConversation(), channelId: null, authorId: 'm1', question: unmatched });
          assert.ok(none.relevance!.coverage > 0, `${mode}: the question shares words with the manual (${none.relevance!.coverage})`);
          assert.equal(none.relevance!.matches, false, `${mode}: match ${none.relevance!.match}`);
          assert.equal(none.fallback, true);
          assert.equal(none.text, `${NOTHING_FOUND}\n_Generated answers are not set up here._`);
          assert.deepEqual(none.sources, []);
          assert.equal(none.gap, true);
          const found = await svc.answer({
            conversationId: newConversation(),
            channelId: null,
            authorId: 'm2',
            question: 'how does the proxy configuration work with a PAC file?',
          });
          assert.equal(found.relevance!.matches, true, `${mode}: match ${found.relevance!.match}`);
          assert.match(
            found.text,
            /^Generated answers are not set up here; here is what the knowledge base says:\n> .*\n— manual\.pdf p\.\d+/,
          );
          assert.match(found.text, /Sources: manual\.pdf p\.\d+/);
          assert.equal(found.gap, false);
        }
        const gaps = (await listGaps(db, since)).map((g) => g.question);
        assert.deepEqual(gaps.filter((q) => Object.values(UNANSWERABLE).includes(q)).sort(), Object.values(UNANSWERABLE).sort());
      } finally {
        await embeddings.close();
      }
    });
  });
}
