/**
 * The bot end to end on Postgres: the real discord.js client against the fake Discord, the real
 * AnswerService and database, the fake Groq. Channels, modes, threads, ignored authors, streaming
 * edits and their spacing, splitting, mentions, per-conversation order, gateway resume, REST 429s,
 * the database going away and coming back, the per-user limit, and logs without content.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listConversations, recentMessages } from '../../src/db/conversations.js';
import { UNAVAILABLE_REPLY } from '../../src/bot/handler.js';
import { lastUserMessage, replyFromLastUser } from '../fakes/groq.js';
import type { FakeMessage } from '../fakes/discord.js';
import { fenceCount, sleep, startHarness, until } from './harness.js';
import type { Harness } from './harness.js';

const ALL = '1100000000000000101';
const MENTION = '1100000000000000102';
const OTHER = '1100000000000000103';
const THREAD = '1100000000000000104';
const STREAM = '1100000000000000105';
const LONG = '1100000000000000106';
const PINGS = '1100000000000000107';
const QUEUE = '1100000000000000108';
const CONCURRENT = '1100000000000000109';
const RESUME = '1100000000000000110';
const RATE = '1100000000000000111';
const DBDOWN = '1100000000000000112';
const LIMITED = '1100000000000000113';

const QUESTION = 'how do I keep my export settings between exports?';
const CITED = 'Turn on Remember last used settings under Preferences > Exports [1].';
const NO_PINGS = { parse: [], replied_user: false };
const withoutSources = (text: string) => text.replace(/\n\nSources: .*$/, '');

describe('bot on postgres', () => {
  let h: Harness;
  /** Every question sent, to check that no log line at info level carries one. */
  const questions: string[] = [];
  const latency = { typing: [] as number[], firstPost: [] as number[] };

  /** Sends a user message and records it. */
  async function ask(
    channelId: string,
    content: string,
    extra: { authorId?: string; replyToMessageId?: string; replyPing?: boolean } = {},
  ): Promise<FakeMessage> {
    questions.push(content);
    return h.fake.userMessage({ channelId, content, authorId: extra.authorId ?? h.newUser(), ...extra });
  }

  /** The bot's reply to a user message (a POST with its message_reference). */
  function replyTo(m: FakeMessage): FakeMessage | undefined {
    return [...h.fake.messages.values()].find((x) => x.fromBot && x.messageReference?.message_id === m.id);
  }

  /** Records MESSAGE_CREATE → typing POST and → reply POST for an answered message. */
  function measure(m: FakeMessage): void {
    const typing = h.fake.calls.find((c) => c.method === 'POST' && c.path === `/channels/${m.channelId}/typing` && c.at >= m.at);
    const post = h.fake.calls.find((c) => c.method === 'POST' && c.body?.message_reference?.message_id === m.id && c.status === 200);
    if (typing) latency.typing.push(typing.at - m.at);
    if (post) latency.firstPost.push(post.at - m.at);
  }

  before(async () => {
    h = await startHarness({
      kind: 'postgres',
      proxy: true,
      discord: {
        heartbeatIntervalMs: 500,
        channels: [
          { id: ALL, name: 'general' },
          { id: MENTION, name: 'ask-the-bot' },
          { id: OTHER, name: 'off-topic' },
          { id: THREAD, type: 11, name: 'a-thread', parent_id: ALL },
          ...[STREAM, LONG, PINGS, QUEUE, CONCURRENT, RESUME, RATE, DBDOWN, LIMITED].map((id) => ({ id })),
        ],
      },
      allowed: {
        [ALL]: 'all',
        [MENTION]: 'mention',
        [STREAM]: 'all',
        [LONG]: 'all',
        [PINGS]: 'all',
        [QUEUE]: 'all',
        [CONCURRENT]: 'all',
        [RESUME]: 'all',
        [RATE]: 'all',
        [DBDOWN]: 'all',
        [LIMITED]: 'all',
      },
    });
    assert.equal(h.bot.state(), 'disconnected');
    await h.bot.start();
  });

  after(async () => {
    const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
    if (latency.typing.length > 0) {
      console.log(
        `# latency over ${latency.typing.length} messages: MESSAGE_CREATE → typing POST p50 ${p50(latency.typing)!.toFixed(1)} ms ` +
          `(max ${Math.max(...latency.typing).toFixed(1)}); → reply POST p50 ${p50(latency.firstPost)!.toFixed(1)} ms (instant fake Groq)`,
      );
    }
    await h?.close();
  });

  test('start() resolves when ready; state, ping and guilds report the gateway', async () => {
    assert.equal(h.bot.state(), 'ready');
    assert.equal(h.bot.guilds(), 1);
    await until(() => h.bot.ping() !== null, 3000, 'a heartbeat ack');
    assert.ok(h.bot.ping()! >= 0);
    const identify = h.fake.frames.find((f) => f.dir === 'in' && f.op === 2);
    assert.ok(identify, 'identified');
  });

  test('a message in an allowed channel gets typing at once and a reply with sources; memory is stored', async () => {
    h.groq.setBehavior({ kind: 'ok', reply: CITED });
    const user = h.newUser();
    const q = await ask(ALL, QUESTION, { authorId: user });
    const line = await h.answered(q.id);
    const reply = replyTo(q);
    assert.ok(reply, 'a reply to the question');
    assert.match(reply.content, /^Turn on Remember last used settings under Preferences > Exports \[1\]\.\n\nSources: manual\.pdf p\.\d+$/);
    assert.equal(reply.raw.type, 19);
    const stored = await recentMessages(h.db, ALL, 10);
    assert.deepEqual(
      stored.map((m) => [m.role, m.content, m.authorId, m.discordMessageId]),
      [
        ['user', QUESTION, user, q.id],
        ['assistant', reply.content, null, null],
      ],
    );
    const typing = h.fake.calls.filter((c) => c.method === 'POST' && c.path === `/channels/${ALL}/typing`);
    assert.equal(typing.length, 1);
    assert.ok(
      typing[0]!.at < h.fake.calls.find((c) => c.method === 'POST' && c.body?.message_reference?.message_id === q.id)!.at,
      'typing before the reply',
    );
    measure(q);
    // One info line per handled message, with the numbers and without the content.
    assert.equal(line.level, 30);
    assert.equal(line.channelId, ALL);
    assert.equal(line.userId, user);
    assert.equal(typeof line.msToFirstToken, 'number');
    assert.ok((line.msTotal as number) >= (line.msToFirstToken as number));
    assert.ok((line.passages as number) > 0);
    assert.deepEqual([line.fallback, line.gap, line.limited], [false, false, null]);
    assert.ok(
      (line.msTotal as number) < 1000,
      `an instant answer is complete in ${String(line.msTotal)} ms, not held back by the edit interval`,
    );
    assert.equal(h.metrics.snapshot().counters.replies, 1);
    assert.equal(h.metrics.snapshot().counters.messagesSeen, 1);
    assert.equal(h.metrics.snapshot().latency.count, 1);
  });

  test('silence elsewhere: a channel that is not allowed gets nothing, not even typing', async () => {
    h.groq.setBehavior({ kind: 'ok', reply: CITED });
    const groqBefore = h.groq.chatRequests().length;
    await ask(OTHER, QUESTION);
    // Events are handled in order: once the control message is answered, the other one was seen.
    const control = await ask(ALL, 'how much does the business plan cost per month?');
    await h.answered(control.id);
    assert.deepEqual(
      h.fake.calls.filter((c) => c.path.startsWith(`/channels/${OTHER}`)),
      [],
    );
    assert.equal(h.groq.chatRequests().length, groqBefore + 1);
  });

  test('mention mode: silent without a mention; answers a mention, with the mention stripped from the question', async () => {
    h.groq.setBehavior({ kind: 'ok', reply: CITED });
    await ask(MENTION, QUESTION);
    const q = await ask(MENTION, `<@${h.fake.botId}> ${QUESTION}`);
    await h.answered(q.id);
    const posts = h.messageCalls(MENTION).filter((c) => c.method === 'POST');
    assert.equal(posts.length, 1, 'only the mention was answered');
    assert.equal(posts[0]!.body?.message_reference?.message_id, q.id);
    assert.equal(lastUserMessage(h.groq.chatRequests().at(-1)!.body), QUESTION);
    measure(q);
  });

  test('mention mode: a reply to one of the bot’s messages is answered (even without the reply ping)', async () => {
    const botReply = h.botMessages(MENTION)[0]!;
    h.groq.setBehavior({ kind: 'ok', reply: 'It is stored per user [1].' });
    const q = await ask(MENTION, 'is that stored per user?', { replyToMessageId: botReply.id, replyPing: false });
    assert.equal(q.raw.mentions.length, 0, 'no mention at all, only the reference');
    await h.answered(q.id);
    assert.match(replyTo(q)!.content, /^It is stored per user \[1\]\./);
    // A reply to someone else's message in mention mode stays unanswered.
    const human = await ask(MENTION, 'plain message');
    const other = await ask(MENTION, 'replying to a human', { replyToMessageId: human.id });
    const control = await ask(ALL, 'control question after the reply to a human');
    await h.answered(control.id);
    assert.equal(replyTo(human), undefined);
    assert.equal(replyTo(other), undefined);
  });

  test('a thread whose parent is allowed is answered in the thread, as its own conversation', async () => {
    h.groq.setBehavior({ kind: 'ok', reply: CITED });
    const q = await ask(THREAD, QUESTION);
    await h.answered(q.id);
    const reply = replyTo(q)!;
    assert.equal(reply.channelId, THREAD);
    const conv = (await listConversations(h.db)).find((c) => c.id === THREAD);
    assert.deepEqual([conv?.channelId, conv?.parentId, conv?.messages], [ALL, ALL, 2]);
    measure(q);
  });

  test('bots, the bot itself, system messages and empty messages are ignored', async () => {
    h.groq.setBehavior({ kind: 'ok', reply: CITED });
    const seen = h.metrics.snapshot().counters.messagesSeen;
    const botsBefore = h.botMessages(ALL).length;
    await h.fake.userMessage({ channelId: ALL, content: QUESTION, authorId: '1200000000000000009', authorBot: true });
    await h.fake.userMessage({ channelId: ALL, content: 'webhook says hi', extra: { webhook_id: '1200000000000000010' } });
    await h.fake.userMessage({ channelId: ALL, content: '', type: 7 }); // member joined
    await h.fake.userMessage({ channelId: ALL, content: QUESTION, type: 6 }); // pinned message notice
    await h.fake.userMessage({
      channelId: ALL,
      content: '',
      extra: {
        attachments: [{ id: '1200000000000000011', filename: 'a.png', size: 1, url: 'http://x/a.png', proxy_url: 'http://x/a.png' }],
      },
    });
    await h.fake.userMessage({ channelId: ALL, content: `<@${h.fake.botId}>` });
    const control = await ask(ALL, 'control question after the ignored ones');
    await h.answered(control.id);
    assert.equal(h.metrics.snapshot().counters.messagesSeen, seen + 1, 'only the control message was taken');
    // The bot's own replies come back through the gateway too (as on Discord) and start nothing.
    assert.equal(h.botMessages(ALL).length, botsBefore + 1);
  });

  test('streaming: the reply is posted with the first text and edited at most once per ~1.2 s; the final edit is the full text with sources', async () => {
    const answer =
      Array.from(
        { length: 12 },
        (_, i) => `Step ${i + 1}: open Preferences > Exports and check the remembered setting number ${i + 1}.`,
      ).join(' ') + ' [1]';
    h.groq.setBehavior({ kind: 'ok', reply: answer, chunkSize: 12, delayMs: 40, ttftMs: 100 });
    const q = await ask(STREAM, QUESTION);
    const line = await h.answered(q.id, 20_000);
    const writes = h.messageCalls(STREAM).filter((c) => c.method === 'POST' || c.method === 'PATCH');
    const [post, ...patches] = writes;
    assert.equal(post!.method, 'POST');
    assert.ok(patches.length >= 2, `${patches.length} edits`);
    const streamMs = Math.ceil(answer.length / 12) * 40;
    assert.ok(patches.length <= Math.ceil(streamMs / 1200) + 2, `${patches.length} edits for a ${streamMs} ms stream`);
    for (let i = 1; i < writes.length; i++) {
      const gap = writes[i]!.at - writes[i - 1]!.at;
      assert.ok(gap >= 1100, `edit ${i} came ${gap.toFixed(0)} ms after the previous write`);
    }
    const stored = (await recentMessages(h.db, STREAM, 2)).at(-1)!;
    const final = patches.at(-1)!.body!.content as string;
    assert.equal(final, stored.content);
    assert.match(final, /\n\nSources: manual\.pdf p\.\d+$/);
    assert.ok(final.startsWith(answer));
    for (const w of writes.slice(0, -1)) assert.ok(answer.startsWith(w.body!.content as string), 'drafts are prefixes of the answer');
    assert.equal(replyTo(q)!.content, final);
    // The reply went out with the first text, not after the stream.
    assert.ok(post!.at - q.at < 100 + 250, `first POST ${(post!.at - q.at).toFixed(0)} ms after the message (TTFT 100 ms)`);
    assert.ok((line.msToFirstToken as number) >= 100);
  });

  test('a long answer with a code block is split into messages of at most 2,000 characters with balanced fences', async () => {
    const code = Array.from({ length: 140 }, (_, i) => `    print("line ${i + 1} of the export helper script")  # step ${i + 1}`);
    const answer = `Here is a script that exports every profile [1]:\n\n\`\`\`python\ndef main():\n${code.join('\n')}\n\`\`\`\n\nRun it with python3 after setting the destination.`;
    assert.ok(answer.length > 5000);
    h.groq.setBehavior({ kind: 'ok', reply: answer, chunkSize: 400 });
    const q = await ask(LONG, 'write me a script that exports every profile');
    await h.answered(q.id, 20_000);
    const msgs = h.botMessages(LONG);
    assert.ok(msgs.length >= 3, `${msgs.length} messages`);
    assert.equal(msgs[0]!.messageReference?.message_id, q.id);
    for (const m of msgs.slice(1)) assert.equal(m.messageReference, undefined, 'follow-ups are plain messages');
    for (const m of msgs) {
      assert.ok(m.content.length <= 2000, `${m.content.length} characters`);
      assert.equal(fenceCount(m.content) % 2, 0, `balanced fences in:\n${m.content.slice(0, 80)}…`);
    }
    for (const m of msgs.slice(1, -1)) assert.match(m.content, /^```python\n/, 'a part inside the block reopens it with its language');
    const lines = (s: string) => s.split('\n').filter((l) => l.trim() && fenceCount(l) === 0);
    const stored = (await recentMessages(h.db, LONG, 2)).at(-1)!.content;
    assert.deepEqual(lines(msgs.map((m) => m.content).join('\n')), lines(stored), 'nothing lost or reordered');
    assert.match(msgs.at(-1)!.content, /Sources: manual\.pdf p\.\d+$/);
    for (const c of h.messageCalls(LONG)) if (c.body?.content !== undefined) assert.ok((c.body.content as string).length <= 2000);
  });

  test('model output never pings: allowed_mentions has parse [] and no replied user on the POST and every PATCH', async () => {
    const target = h.fake.userId;
    h.groq.setBehavior({
      kind: 'ok',
      reply: `@everyone @here <@${target}> <@&1300000000000000001> look at this [1]`,
      chunkSize: 6,
      delayMs: 150,
    });
    const q = await ask(PINGS, 'who should I ask?');
    await h.answered(q.id, 20_000);
    const writes = h.messageCalls(PINGS).filter((c) => c.method === 'POST' || c.method === 'PATCH');
    assert.ok(writes.some((c) => c.method === 'PATCH'));
    for (const c of writes) assert.deepEqual(c.body?.allowed_mentions, NO_PINGS, `${c.method} ${c.path}`);
    assert.match(replyTo(q)!.content, /^@everyone @here <@\d+> <@&\d+> look at this/);
  });

  test('two quick messages in one channel are answered in order and stored in order; other channels run alongside', async () => {
    h.groq.setBehavior({ kind: 'ok', reply: replyFromLastUser((question) => `Answer to: ${question}`), ttftMs: 300 });
    const user = h.newUser();
    const first = await ask(QUEUE, 'first question about exports', { authorId: user });
    const second = await ask(QUEUE, 'second question about exports', { authorId: user });
    const t0 = performance.now();
    const others = await Promise.all([1, 2, 3].map((i) => ask(CONCURRENT, `parallel question ${i}`)));
    await h.answered(second.id);
    await Promise.all(others.map((o) => h.answered(o.id)));
    const stored = await recentMessages(h.db, QUEUE, 10);
    assert.deepEqual(
      stored.map((m) => [m.role, withoutSources(m.content)]),
      [
        ['user', 'first question about exports'],
        ['assistant', 'Answer to: first question about exports'],
        ['user', 'second question about exports'],
        ['assistant', 'Answer to: second question about exports'],
      ],
    );
    // The second answer saw the first exchange as history.
    const req = h.groq.chatRequests().find((r) => lastUserMessage(r.body) === 'second question about exports')!;
    const history = req.body!.messages!.slice(1, -1).map((m) => withoutSources(String(m.content)));
    assert.deepEqual(history, ['first question about exports', 'Answer to: first question about exports']);
    assert.ok(replyTo(first)!.at < replyTo(second)!.at);
    // The CONCURRENT channel is one conversation too: its three answers came one after another,
    // while QUEUE's ran at the same time (two conversations, two slots).
    const conc = await recentMessages(h.db, CONCURRENT, 10);
    assert.deepEqual(
      conc.filter((m) => m.role === 'user').map((m) => m.content),
      ['parallel question 1', 'parallel question 2', 'parallel question 3'],
    );
    assert.ok(performance.now() - t0 < 3 * 300 + 1500, 'QUEUE and CONCURRENT were answered concurrently');
  });

  test('different conversations are answered concurrently', async () => {
    h.groq.setBehavior({ kind: 'ok', reply: 'ok [1]', ttftMs: 600 });
    const t0 = performance.now();
    const qs = await Promise.all([ALL, QUEUE, CONCURRENT, THREAD].map((c) => ask(c, `what is the concurrency limit in channel ${c}?`)));
    await Promise.all(qs.map((q) => h.answered(q.id)));
    const elapsed = performance.now() - t0;
    assert.ok(elapsed < 2 * 600, `4 answers with 600 ms TTFT each took ${elapsed.toFixed(0)} ms`);
  });

  test('gateway loss: close 4000 and op 7 are resumed and the bot keeps answering', async () => {
    h.groq.setBehavior({ kind: 'ok', reply: CITED });
    const identifies = h.fake.sessions.identifies;
    const resumes = h.fake.sessions.resumes;
    const states = new Set<string>();
    const sampler = setInterval(() => states.add(h.bot.state()), 1);
    try {
      h.fake.closeGateway(4000);
      const away = await ask(RESUME, 'asked while the gateway was away');
      await h.answered(away.id);
      await until(() => h.fake.sessions.resumes === resumes + 1, 5000, 'resume after close 4000');
      h.fake.requestReconnect();
      await until(() => h.fake.sessions.resumes === resumes + 2, 5000, 'resume after op 7');
      const back = await ask(RESUME, 'asked after op 7');
      await h.answered(back.id);
    } finally {
      clearInterval(sampler);
    }
    assert.equal(h.fake.sessions.identifies, identifies, 'resumed, not identified again');
    assert.equal(h.bot.state(), 'ready');
    assert.ok(states.has('reconnecting'), `states seen: ${[...states].join(', ')}`);
    assert.equal(h.botMessages(RESUME).length, 2);
  });

  test('a REST 429 on the reply and on an edit: waited out, retried once each, the reply completes', async () => {
    const answer = 'The proxy settings are under Preferences > Network, with a PAC file or a fixed host [1]. '.repeat(3).trim();
    h.groq.setBehavior({ kind: 'ok', reply: answer, chunkSize: 10, delayMs: 40 });
    const post = `/channels/${RATE}/messages`;
    h.fake.failNext((m, p) => m === 'POST' && p === post, { status: 429, retryAfter: 0.4 });
    h.fake.failNext((m, p) => m === 'PATCH' && p.startsWith(`${post}/`), { status: 429, retryAfter: 1 });
    const q = await ask(RATE, 'how do I configure the proxy?');
    await h.answered(q.id, 20_000);
    const calls = h.messageCalls(RATE);
    const limited = calls.filter((c) => c.status === 429);
    assert.deepEqual(
      limited.map((c) => c.method),
      ['POST', 'PATCH'],
      'one 429 each, no storm',
    );
    const posts = calls.filter((c) => c.method === 'POST');
    assert.deepEqual(
      posts.map((c) => c.status),
      [429, 200],
    );
    assert.ok(posts[1]!.at - posts[0]!.at >= 390, 'Retry-After honoured');
    const patches = calls.filter((c) => c.method === 'PATCH');
    const i = patches.findIndex((c) => c.status === 429);
    assert.ok(patches[i + 1]!.at - patches[i]!.at >= 990, 'the edit waited its Retry-After');
    assert.ok(patches.length <= 5, `${patches.length} PATCHes`);
    const stored = (await recentMessages(h.db, RATE, 2)).at(-1)!.content;
    assert.equal(replyTo(q)!.content, stored);
  });

  test('database unavailable: a short "temporarily unavailable" reply, counted; answers resume when it is back', async () => {
    h.groq.setBehavior({ kind: 'ok', reply: CITED });
    const errors = h.metrics.snapshot().counters.errors;
    await h.proxy!.down();
    let q: FakeMessage;
    try {
      q = await ask(DBDOWN, QUESTION);
      await h.waitLog((l) => l.messageId === q.id && /unavailable/.test(l.msg));
      await until(() => replyTo(q)?.content === UNAVAILABLE_REPLY, 5000, 'the unavailable reply');
    } finally {
      await h.proxy!.up();
    }
    assert.equal(h.metrics.snapshot().counters.errors, errors + 1);
    const warn = h.logs.find((l) => l.messageId === q.id && /unavailable/.test(l.msg))!;
    assert.equal(warn.level, 40);
    assert.equal(warn.channelId, DBDOWN);
    const again = await ask(DBDOWN, QUESTION);
    await h.answered(again.id);
    assert.match(replyTo(again)!.content, /Sources: manual\.pdf/);
    assert.equal(h.bot.state(), 'ready');
  });

  test('over the per-user limit: one short notice, then silence', async () => {
    h.groq.setBehavior({ kind: 'ok', reply: 'ok [1]' });
    const user = h.newUser();
    const sent: FakeMessage[] = [];
    for (let i = 1; i <= 7; i++) sent.push(await ask(LIMITED, `question number ${i} about exports`, { authorId: user }));
    await h.waitLog((l) => l.messageId === sent[6]!.id);
    const refused = h.logs.filter((l) => l.msg === 'question refused by the rate limit' && l.channelId === LIMITED);
    assert.deepEqual(
      refused.map((l) => [l.messageId, l.notified]),
      [
        [sent[5]!.id, true],
        [sent[6]!.id, false],
      ],
    );
    assert.match(replyTo(sent[5]!)!.content, /^You're asking faster than I can answer — please wait \d+ s and ask again\.$/);
    assert.equal(replyTo(sent[6]!), undefined);
    assert.equal(h.botMessages(LIMITED).length, 6);
    assert.equal(h.metrics.snapshot().counters.rateLimited, 1);
  });

  test('across the run: every POST and PATCH of a message carried allowed_mentions parse []; no info log line carries content', async () => {
    const writes = h.fake.calls.filter((c) => (c.method === 'POST' || c.method === 'PATCH') && /^\/channels\/\d+\/messages/.test(c.path));
    assert.ok(writes.length > 30);
    for (const c of writes) assert.deepEqual(c.body?.allowed_mentions, NO_PINGS, `${c.method} ${c.path}`);
    const info = h.logs.filter((l) => l.level >= 30).map((l) => JSON.stringify(l));
    for (const q of questions) for (const line of info) assert.ok(!line.includes(q), `"${q}" in ${line}`);
    assert.ok(h.logs.filter((l) => l.msg === 'answered').length >= 20);
    // And never a typing storm: one typing POST per accepted message (answers here are short).
    const typing = h.fake.calls.filter((c) => c.path.endsWith('/typing')).length;
    assert.equal(typing, h.metrics.snapshot().counters.messagesSeen);
    await sleep(0);
  });
});
