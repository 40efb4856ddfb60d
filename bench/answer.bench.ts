/**
 * Answer preparation: time from a question to the Groq request being sent (effective
 * instructions, history, query embedding, hybrid retrieval, prompt, token count) with a fake
 * Groq that answers at once and a 0 ms embedder, over a 10k-chunk knowledge base on native
 * Postgres, the follow-up rewrite off. Targets: p50 ≤ 15 ms, p95 ≤ 40 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createChatClient } from '../src/answer/groq.js';
import { createAnswerService } from '../src/answer/service.js';
import { loadLlamaTokenizer } from '../src/answer/tokens.js';
import { loadConfig } from '../src/config.js';
import { appendMessage, ensureConversation } from '../src/db/conversations.js';
import { insertChunks, insertDocument, updateLexemeStats } from '../src/db/documents.js';
import { openDatabase } from '../src/db/open.js';
import { setEmbeddingModel } from '../src/db/settings.js';
import { createEmbedder } from '../src/kb/embed.js';
import { fakeEmbed } from '../test/fakes/embeddings.js';
import { startFakeGroq } from '../test/fakes/groq.js';
import { manualPages } from '../test/support/pdfs.js';
import { percentile, printTable } from './support.js';

const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
await admin.connect();
const dbName = `copilot_bench_answer_${process.pid}`;
await admin.query(`create database ${dbName}`);
const url = new URL(process.env.TEST_DATABASE_URL!);
url.pathname = `/${dbName}`;
const home = mkdtempSync(join(tmpdir(), 'copilot-bench-answer-'));
const groq = await startFakeGroq({ apiKey: 'gsk_bench' });
groq.setBehavior({ kind: 'ok', reply: 'Answer [1].' });
const config = loadConfig(
  { databaseUrl: url.toString() },
  {
    COPILOT_HOME: home,
    GROQ_API_KEY: 'gsk_bench',
    GROQ_BASE_URL: groq.baseURL,
    // Prepare time is measured without the follow-up rewrite call.
    GROQ_REWRITE_MODEL: '',
    EMBEDDINGS_URL: 'http://127.0.0.1:9/unused',
    EMBEDDINGS_MODEL: 'bench/fake',
    COPILOT_USER_RATE_PER_MINUTE: '10000',
    GROQ_TOKENS_PER_MINUTE: '10000000',
  },
);
const db = await openDatabase(config, { command: 'bench', poolSize: 8 });

// 10k chunks: the manual's paragraphs, varied, with the fake embedder's vectors.
const paragraphs = manualPages.flatMap((p) => p.paragraphs);
await db.transaction((tx) => setEmbeddingModel(tx, { model: 'bench/fake', dimension: 384 }));
for (let d = 0; d < 10; d++) {
  const chunks = Array.from({ length: 1000 }, (_, i) => {
    const content = `${paragraphs[(d * 1000 + i) % paragraphs.length]} (revision ${d}.${i})`;
    return { ordinal: i, page: 1 + (i % 50), section: null, content, truncated: false, embedding: fakeEmbed(content, 384) };
  });
  await db.transaction(async (tx) => {
    const id = await insertDocument(tx, {
      name: `manual-${d}.pdf`,
      sha256: `s${d}`,
      bytes: 1,
      pages: 50,
      type: 'pdf',
      embeddingModel: 'bench/fake',
    });
    await insertChunks(tx, id, chunks);
    await updateLexemeStats(tx, id, 1);
  });
}
await db.exec('vacuum analyze');

// The embedder's remote call answers at once (a 0 ms provider); batching, normalising and model
// checks are the real code.
const embedder = createEmbedder(config, {}, async (texts) => texts.map((t) => fakeEmbed(t, 384)))!;
const chat = await createChatClient(config);
const counter = await loadLlamaTokenizer();
const answers = createAnswerService({ db, config, embedder, chat, counter });

const channel = '123456789012345678';
await ensureConversation(db, { id: channel, channelId: channel });
for (let i = 0; i < 10; i++)
  await appendMessage(db, channel, { role: i % 2 ? 'assistant' : 'user', content: `earlier message ${i} about exports and backups` });

const questions = [
  'hey is there a way to make the export keep my old settings??',
  'what does error E-2305 mean when uploading over sftp',
  'how do i set up the proxy with a PAC file',
  'can i get a refund on the yearly plan',
  'why does excel chop my rows after a million',
  'how often are backups made and how many are kept',
];
for (let i = 0; i < 20; i++)
  await answers.answer({ conversationId: channel, channelId: channel, authorId: 'warm', question: questions[i % questions.length]! });

const prepare: number[] = [];
const toRequest: number[] = [];
const RUNS = 300;
for (let i = 0; i < RUNS; i++) {
  const sentBefore = groq.chatRequests().length;
  const startedAt = Date.now();
  const r = await answers.answer({
    conversationId: channel,
    channelId: channel,
    authorId: `u${i % 50}`,
    question: `${questions[i % questions.length]} (${i})`,
  });
  prepare.push(r.timings.prepareMs);
  const req = groq.chatRequests()[sentBefore];
  if (req) toRequest.push(req.receivedAt - startedAt);
}
printTable(
  `Question → Groq request (10k chunks, native Postgres, ${RUNS} questions with 10 messages of history)`,
  ['measure', 'p50 ms', 'p95 ms', 'target'],
  [
    [
      'prepared (config, history, embedding, retrieval, prompt, tokens)',
      percentile(prepare, 50),
      percentile(prepare, 95),
      'p50 ≤ 15, p95 ≤ 40',
    ],
    ['request received by the fake Groq (ms clock)', percentile(toRequest, 50), percentile(toRequest, 95), ''],
  ],
);

await db.close();
await groq.close();
await admin.query(`drop database ${dbName} with (force)`);
await admin.end();
rmSync(home, { recursive: true, force: true });
