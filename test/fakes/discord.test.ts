/**
 * Proves test/fakes/discord.ts against the real discord.js v14 Client: login, ready, messageCreate,
 * reply/edit/typing over REST, threads, an injected 429, gateway resume (close 4000 and op 7),
 * heartbeats, the MessageContent intent, and a wrong token failing fast.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Client, DiscordjsErrorCodes, Events, GatewayIntentBits, type Message } from 'discord.js';
import { WebSocket } from 'ws';
import { startFakeDiscord, type FakeDiscord } from './discord.js';

const { Guilds, GuildMessages, MessageContent } = GatewayIntentBits;

function makeClient(fake: FakeDiscord, intents: number[] = [Guilds, GuildMessages, MessageContent]): Client {
  return new Client({
    intents,
    rest: { api: fake.apiUrl, globalRequestsPerSecond: 10_000 },
    // The default throttler fetches /gateway/bot again and spaces identifies 5 s apart per bucket.
    ws: { buildIdentifyThrottler: async () => ({ waitForIdentify: async () => {} }) },
  });
}

function nextMessage(client: Client, pred: (m: Message) => boolean, ms = 5000): Promise<Message> {
  return new Promise((resolve, reject) => {
    const on = (m: Message) => {
      if (!pred(m)) return;
      clearTimeout(timer);
      client.off(Events.MessageCreate, on);
      resolve(m);
    };
    const timer = setTimeout(() => {
      client.off(Events.MessageCreate, on);
      reject(new Error('no matching messageCreate in time'));
    }, ms);
    client.on(Events.MessageCreate, on);
  });
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('fake Discord with the real discord.js client', () => {
  let fake: FakeDiscord;
  let client: Client;
  let textId: string;
  let threadId: string;

  before(async () => {
    textId = '1100000000000000001';
    threadId = '1100000000000000002';
    fake = await startFakeDiscord({
      heartbeatIntervalMs: 400,
      channels: [
        { id: textId, type: 0, name: 'general' },
        { id: threadId, type: 11, name: 'help-thread', parent_id: textId },
      ],
    });
    client = makeClient(fake);
  });

  after(async () => {
    await client?.destroy();
    await fake?.close();
  });

  test('snowflakes and gateway info look like Discord', async () => {
    for (const id of [fake.botId, fake.guildId, fake.userId]) assert.match(id, /^\d{17,20}$/);
    const res = await fetch(`${fake.apiUrl}/v10/gateway/bot`, { headers: { authorization: `Bot ${fake.token}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const info = (await res.json()) as { url: string; session_start_limit: { max_concurrency: number } };
    assert.equal(info.url, fake.gatewayUrl);
    assert.equal(info.session_start_limit.max_concurrency, 1);
    const bad = await fetch(`${fake.apiUrl}/v10/users/@me`, { headers: { authorization: 'Bot nope' } });
    assert.equal(bad.status, 401);
    await bad.body?.cancel();
  });

  test('login succeeds and clientReady fires with the guild, channels and thread', async () => {
    const ready = once(client, Events.ClientReady);
    assert.equal(await client.login(fake.token), fake.token);
    await ready;
    assert.equal(client.user?.id, fake.botId);
    assert.equal(client.application?.id, fake.botId);
    const guild = client.guilds.cache.get(fake.guildId);
    assert.ok(guild?.available);
    assert.ok(client.channels.cache.get(textId)?.isTextBased());
    assert.ok(client.channels.cache.get(threadId)?.isThread());
    assert.equal(fake.sessions.identifies, 1);
    assert.equal(fake.liveSessions(), 1);
  });

  test('messageCreate receives an injected user message', async () => {
    const got = nextMessage(client, (m) => m.content.includes('hello bot'));
    const sent = await fake.userMessage({ channelId: textId, content: `<@${fake.botId}> hello bot` });
    const m = await got;
    assert.equal(m.id, sent.id);
    assert.equal(m.content, `<@${fake.botId}> hello bot`);
    assert.equal(m.author.id, fake.userId);
    assert.equal(m.author.bot, false);
    assert.equal(m.channelId, textId);
    assert.equal(m.guildId, fake.guildId);
    assert.ok(m.mentions.has(client.user!));
    assert.ok(m.member, 'guild messages carry a member');

    const other = nextMessage(client, (msg) => msg.content === 'no mention');
    await fake.userMessage({ channelId: textId, content: 'no mention', authorId: '1200000000000000009', authorBot: true });
    const o = await other;
    assert.equal(o.author.bot, true);
    assert.equal(o.mentions.users.size, 0);
  });

  test('reply, edit and typing are recorded', async () => {
    const got = nextMessage(client, (m) => m.content === 'question?');
    const q = await fake.userMessage({ channelId: textId, content: 'question?' });
    const m = await got;

    assert.ok(m.channel.isSendable());
    await m.channel.sendTyping();
    const typing = await fake.waitFor((c) => c.method === 'POST' && c.path === `/channels/${textId}/typing`);
    assert.equal(typing.status, 204);

    const reply = await m.reply({ content: 'thinking…', allowedMentions: { parse: [] } });
    assert.equal(reply.author.id, fake.botId);
    assert.equal(reply.reference?.messageId, q.id);
    const post = await fake.waitFor((c) => c.method === 'POST' && c.path === `/channels/${textId}/messages`);
    assert.deepEqual(post.body?.allowed_mentions, { parse: [] });
    assert.equal(post.body?.message_reference?.message_id, q.id);
    assert.equal(post.status, 200);
    const stored = fake.messages.get(reply.id)!;
    assert.ok(stored.fromBot);
    assert.deepEqual(stored.allowedMentions, { parse: [] });
    assert.equal(stored.raw.type, 19);
    assert.equal(stored.raw.referenced_message.id, q.id);
    assert.equal(stored.raw.mentions.length, 0, 'allowed_mentions without replied_user does not ping');

    const edited = await reply.edit('final answer');
    assert.equal(edited.content, 'final answer');
    assert.ok(edited.editedTimestamp);
    const patch = await fake.waitFor((c) => c.method === 'PATCH' && c.path === `/channels/${textId}/messages/${reply.id}`);
    assert.equal(patch.body?.content, 'final answer');
    assert.equal(stored.content, 'final answer');
    assert.equal(stored.edits.length, 1);
    assert.equal(stored.edits[0]!.content, 'final answer');
    assert.ok(stored.edits[0]!.at >= post.at);

    // The fake answers like Discord for over-long content.
    await assert.rejects(reply.edit('x'.repeat(2001)), (e: { status?: number; code?: number }) => e.status === 400 && e.code === 50035);
  });

  test('a message in a thread arrives with isThread() and parentId', async () => {
    const got = nextMessage(client, (m) => m.content === 'in thread');
    await fake.userMessage({ channelId: threadId, content: 'in thread' });
    const m = await got;
    assert.ok(m.channel.isThread());
    assert.equal(m.channel.parentId, textId);
    assert.equal(m.channelId, threadId);

    // A thread created after login arrives via THREAD_CREATE.
    const created = once(client, Events.ThreadCreate);
    const late = fake.addChannel({ type: 11, name: 'late-thread', parent_id: textId });
    await created;
    const got2 = nextMessage(client, (msg) => msg.content === 'late');
    await fake.userMessage({ channelId: late.id, content: 'late' });
    const m2 = await got2;
    assert.ok(m2.channel.isThread());
    assert.equal(m2.channel.parentId, textId);
  });

  test('a 429 on the messages route is honoured and retried', async () => {
    const channel = client.channels.cache.get(textId);
    assert.ok(channel?.isSendable());
    const path = `/channels/${textId}/messages`;
    fake.failNext((method, p) => method === 'POST' && p === path, { status: 429, retryAfter: 0.3 });
    const before = fake.calls.length;
    const t0 = performance.now();
    const sent = await channel.send('after 429');
    assert.equal(sent.content, 'after 429');
    const mine = fake.calls.slice(before).filter((c) => c.method === 'POST' && c.path === path);
    assert.deepEqual(mine.map((c) => c.status), [429, 200]);
    assert.ok(mine[1]!.at - mine[0]!.at >= 290, `retried after ${mine[1]!.at - mine[0]!.at} ms`);
    assert.ok(performance.now() - t0 >= 290);

    // A 500 is retried at once by discord.js.
    fake.failNext((method, p) => method === 'POST' && p === path, { status: 500 });
    const again = await channel.send('after 500');
    assert.equal(again.content, 'after 500');
  });

  test('closeGateway(4000) → the client resumes and gets the events it missed', async () => {
    const resumes = fake.sessions.resumes;
    const resumed = once(client, Events.ShardResume);
    fake.closeGateway(4000);
    // Sent while disconnected: buffered in the session and replayed on RESUME.
    const got = nextMessage(client, (m) => m.content === 'while away');
    await fake.userMessage({ channelId: textId, content: 'while away' });
    await resumed;
    await got;
    assert.equal(fake.sessions.resumes, resumes + 1);
    assert.equal(fake.sessions.identifies, 1);

    const got2 = nextMessage(client, (m) => m.content === 'after resume');
    await fake.userMessage({ channelId: textId, content: 'after resume' });
    await got2;
  });

  test('requestReconnect() (op 7) → the client resumes', async () => {
    const resumes = fake.sessions.resumes;
    const resumed = once(client, Events.ShardResume);
    fake.requestReconnect();
    await resumed;
    assert.equal(fake.sessions.resumes, resumes + 1);
    assert.equal(fake.sessions.identifies, 1);
    const got = nextMessage(client, (m) => m.content === 'after op 7');
    await fake.userMessage({ channelId: textId, content: 'after op 7' });
    await got;
  });

  test('heartbeats are acknowledged', async () => {
    await until(() => fake.sessions.heartbeats >= 1 && client.ws.ping >= 0);
    assert.ok(fake.frames.some((f) => f.dir === 'out' && f.op === 11));
  });

  test('without the MessageContent intent, content is empty unless the bot is mentioned', async () => {
    const c2 = makeClient(fake, [Guilds, GuildMessages]);
    try {
      const ready = once(c2, Events.ClientReady);
      await c2.login(fake.token);
      await ready;
      const plain = nextMessage(c2, (m) => m.author.id === fake.userId);
      const sent = await fake.userMessage({ channelId: textId, content: 'secret words' });
      const m = await plain;
      assert.equal(m.id, sent.id);
      assert.equal(m.content, '');
      const mention = nextMessage(c2, (msg) => msg.content.includes('ping'));
      await fake.userMessage({ channelId: textId, content: 'ping', mentionsBot: true });
      assert.equal((await mention).content, 'ping');
    } finally {
      await c2.destroy();
    }
  });

  test('a wrong token fails login instead of hanging', async () => {
    const bad = makeClient(fake);
    try {
      await assert.rejects(bad.login('not-the-token'), (e: { code?: string }) => e.code === DiscordjsErrorCodes.TokenInvalid);
    } finally {
      await bad.destroy();
    }
    const unauthorized = fake.calls.filter((c) => c.status === 401 && c.path === '/gateway/bot');
    assert.ok(unauthorized.length >= 1);
  });

  test('IDENTIFY with a wrong token on the gateway → close 4004', async () => {
    const ws = new WebSocket(`${fake.gatewayUrl}/?v=10&encoding=json`);
    const [hello] = (await once(ws, 'message')) as [Buffer];
    assert.equal(JSON.parse(hello.toString()).op, 10);
    ws.send(JSON.stringify({ op: 2, d: { token: 'wrong', intents: 513, properties: {} } }));
    const [code] = (await once(ws, 'close')) as [number];
    assert.equal(code, 4004);
  });
});
