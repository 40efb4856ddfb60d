/**
 * Proves test/fakes/discord.ts against the real discord.js v14 Client: login, ready, messageCreate,
 * reply/edit/typing over REST, threads, an injected 429, gateway resume (close 4000 and op 7),
 * heartbeats, the MessageContent intent, and a wrong token failing fast; then application commands,
 * slash command and button interactions with their Discord constraints, threads and forum posts,
 * roles and who a message pings, several guilds on several shards, and the application id.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import {
  ActionRowBuilder,
  ApplicationCommandOptionType,
  ButtonBuilder,
  ButtonStyle,
  ChannelType,
  Client,
  DiscordjsErrorCodes,
  Events,
  GatewayIntentBits,
  MessageFlags,
  MessageType,
  PermissionFlagsBits,
  Routes,
  type ButtonInteraction,
  type ChatInputApplicationCommandData,
  type ChatInputCommandInteraction,
  type ForumChannel,
  type GuildMember,
  type Interaction,
  type Message,
  type TextChannel,
  type ThreadChannel,
} from 'discord.js';
import { WebSocket } from 'ws';
import { shardOf, startFakeDiscord, type FakeDiscord } from './discord.js';

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

function nextInteraction<T extends Interaction = Interaction>(
  client: Client,
  pred: (i: Interaction) => boolean = () => true,
  ms = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (i: Interaction) => {
      if (!pred(i)) return;
      clearTimeout(timer);
      client.off(Events.InteractionCreate, on);
      resolve(i as T);
    };
    const timer = setTimeout(() => {
      client.off(Events.InteractionCreate, on);
      reject(new Error('no matching interactionCreate in time'));
    }, ms);
    client.on(Events.InteractionCreate, on);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function loggedIn(client: Client, fake: FakeDiscord): Promise<Client> {
  const ready = once(client, Events.ClientReady);
  await client.login(fake.token);
  await ready;
  return client;
}

/** Rejects with a DiscordAPIError of this HTTP status and Discord code. */
function apiError(status: number, code: number) {
  return (e: { status?: number; code?: number }) => {
    assert.equal(e.status, status, `status ${e.status}, code ${e.code}`);
    assert.equal(e.code, code);
    return true;
  };
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
    assert.deepEqual(
      mine.map((c) => c.status),
      [429, 200],
    );
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

describe('fake Discord: application commands and interactions', () => {
  let fake: FakeDiscord;
  let client: Client;
  let channel: TextChannel;
  const askCommand: ChatInputApplicationCommandData = {
    name: 'ask',
    description: 'Ask a question',
    options: [
      { type: ApplicationCommandOptionType.String, name: 'question', description: 'Your question', required: true, maxLength: 500 },
      { type: ApplicationCommandOptionType.Boolean, name: 'private', description: 'Only you see the answer' },
    ],
  };
  const resetCommand: ChatInputApplicationCommandData = {
    name: 'reset',
    description: 'Forget this conversation',
    defaultMemberPermissions: PermissionFlagsBits.ManageMessages,
  };
  const profileCommand: ChatInputApplicationCommandData = {
    name: 'profile',
    description: 'Show a profile',
    options: [{ type: ApplicationCommandOptionType.User, name: 'user', description: 'Whose', required: true }],
  };

  before(async () => {
    fake = await startFakeDiscord();
    client = await loggedIn(makeClient(fake), fake);
    channel = client.channels.cache.get(fake.channelId) as TextChannel;
  });

  after(async () => {
    await client?.destroy();
    await fake?.close();
  });

  test('commands are registered by bulk overwrite: stored with ids, default_member_permissions recorded', async () => {
    const set = await client.application!.commands.set([askCommand, resetCommand]);
    assert.equal(set.size, 2);
    const put = await fake.waitFor((c) => c.method === 'PUT' && c.path === `/applications/${fake.applicationId}/commands`);
    assert.equal(put.status, 200);
    const stored = fake.commands();
    assert.deepEqual(
      stored.map((c) => c.name),
      ['ask', 'reset'],
    );
    const reset = stored.find((c) => c.name === 'reset')!;
    assert.equal(reset.default_member_permissions, String(PermissionFlagsBits.ManageMessages));
    assert.equal(stored.find((c) => c.name === 'ask')!.default_member_permissions, null);
    assert.ok(set.has(reset.id));
    assert.equal(set.get(reset.id)!.defaultMemberPermissions?.has(PermissionFlagsBits.ManageMessages), true);
    const askId = stored.find((c) => c.name === 'ask')!.id;

    // Overwriting keeps the id of a command that stays and drops the ones not listed.
    const again = await client.application!.commands.set([askCommand]);
    assert.deepEqual([...again.keys()], [askId]);
    assert.deepEqual(
      fake.commands().map((c) => c.name),
      ['ask'],
    );
    const fetched = await client.application!.commands.fetch();
    assert.deepEqual([...fetched.keys()], [askId]);

    // Guild commands are a separate list.
    const guild = client.guilds.cache.get(fake.guildId)!;
    await guild.commands.set([{ name: 'forget-me', description: 'Delete what I said' }]);
    assert.deepEqual(
      fake.commands(fake.guildId).map((c) => [c.name, c.guild_id]),
      [['forget-me', fake.guildId]],
    );
    assert.deepEqual(
      fake.commands().map((c) => c.name),
      ['ask'],
    );

    // Discord's validation: lowercase names, 1–100 character descriptions, unique names.
    await assert.rejects(client.application!.commands.set([{ name: 'Ask', description: 'x' }]), apiError(400, 50035));
    await assert.rejects(client.application!.commands.set([{ name: 'ask', description: '' }]), apiError(400, 50035));
    await assert.rejects(client.application!.commands.set([askCommand, askCommand]), apiError(400, 50035));
    assert.deepEqual(
      fake.commands().map((c) => c.name),
      ['ask'],
      'a rejected overwrite changes nothing',
    );
    await client.application!.commands.set([askCommand, resetCommand, profileCommand]);
  });

  test('a slash command arrives as interactionCreate; an ephemeral defer, edit and follow-up are recorded in order', async () => {
    const created: string[] = [];
    const onCreate = (m: Message) => created.push(m.id);
    client.on(Events.MessageCreate, onCreate);
    try {
      const got = nextInteraction<ChatInputCommandInteraction>(client);
      const h = await fake.slashCommand({ name: 'ask', options: { question: 'What is Relay?', private: true }, locale: 'fr' });
      const i = await got;
      assert.ok(i.isChatInputCommand());
      assert.equal(i.id, h.id);
      assert.equal(i.commandName, 'ask');
      assert.equal(i.commandId, fake.commands().find((c) => c.name === 'ask')!.id);
      assert.equal(i.options.getString('question'), 'What is Relay?');
      assert.equal(i.options.getBoolean('private'), true);
      assert.equal(i.user.id, fake.userId);
      assert.equal(i.channelId, fake.channelId);
      assert.equal(i.guildId, fake.guildId);
      assert.equal(i.applicationId, fake.applicationId);
      assert.equal(i.locale, 'fr');
      assert.ok(i.memberPermissions?.has(PermissionFlagsBits.SendMessages));
      assert.equal(i.memberPermissions?.has(PermissionFlagsBits.ManageMessages), false);
      assert.ok(i.appPermissions.has(PermissionFlagsBits.SendMessages));
      assert.equal(h.raw.version, 1);
      assert.equal(typeof h.raw.member.permissions, 'string');

      await i.deferReply({ flags: MessageFlags.Ephemeral });
      assert.ok(h.original()!.raw.flags & MessageFlags.Loading, 'a deferred response is a loading message');
      await i.editReply('Relay is a message bus.');
      const more = await i.followUp({ content: 'Sources: handbook', flags: MessageFlags.Ephemeral });

      assert.deepEqual(
        h.responses.map((r) => [r.kind, r.type ?? null, r.status]),
        [
          ['callback', 5, 204],
          ['edit', null, 200],
          ['followup', null, 200],
        ],
      );
      assert.ok(h.responses[0]!.ephemeral);
      assert.equal(h.responses[1]!.content, 'Relay is a message bus.');
      assert.equal(h.responses[1]!.target, '@original');
      assert.ok(h.responses[0]!.at <= h.responses[1]!.at && h.responses[1]!.at <= h.responses[2]!.at);
      assert.ok(h.responses.every((r) => r.afterMs >= 0));
      assert.equal(h.callback?.type, 5);

      const original = h.original()!;
      assert.equal(original.content, 'Relay is a message bus.');
      assert.equal(original.raw.flags & MessageFlags.Loading, 0);
      assert.ok(original.ephemeral);
      assert.equal(original.visibleTo, fake.userId);
      assert.equal(original.channelId, fake.channelId);
      assert.deepEqual(
        h.followUps().map((m) => m.id),
        [more.id],
      );
      assert.ok(h.followUps()[0]!.ephemeral);
      assert.equal(h.followUps()[0]!.raw.interaction_metadata.original_response_message_id, original.id);

      // Ephemeral messages reach nobody else: not dispatched, not in the channel's history.
      const history = await channel.messages.fetch({ limit: 50 });
      assert.ok(!history.has(original.id) && !history.has(more.id));
      await assert.rejects(channel.messages.fetch({ message: original.id, force: true }), apiError(404, 10008));
      assert.ok(!created.includes(original.id) && !created.includes(more.id));
      // …but the interaction's webhook still reads it.
      assert.equal((await i.fetchReply()).content, 'Relay is a message bus.');
    } finally {
      client.off(Events.MessageCreate, onCreate);
    }
  });

  test('a public reply is a channel message from the app, with the interaction, dispatched to the bot', async () => {
    const got = nextInteraction<ChatInputCommandInteraction>(client);
    const h = await fake.slashCommand({ name: 'ask', options: { question: 'Who runs this?' } });
    const i = await got;
    const seen = nextMessage(client, (m) => m.interactionMetadata?.id === i.id);
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId('stop').setLabel('Stop').setStyle(ButtonStyle.Danger),
    );
    await i.reply({ content: `Asked by <@${fake.userId}>`, components: [row] });
    const m = await seen;
    assert.equal(m.type, MessageType.ChatInputCommand);
    assert.equal(m.author.id, fake.botId);
    assert.equal(m.webhookId, fake.applicationId);
    assert.equal(m.interactionMetadata?.user.id, fake.userId);

    const stored = h.original()!;
    assert.equal(stored.id, m.id);
    assert.equal(stored.ephemeral, undefined);
    assert.equal(stored.raw.interaction.name, 'ask');
    assert.equal(stored.raw.application_id, fake.applicationId);
    assert.deepEqual(
      fake.buttons(stored.id).map((b) => [b.customId, b.label, b.style]),
      [['stop', 'Stop', ButtonStyle.Danger]],
    );
    assert.deepEqual(fake.pinged(stored).users, [fake.userId], 'interactions parse user mentions by default');
    assert.ok((await channel.messages.fetch({ limit: 10 })).has(stored.id));

    // Discord takes one initial response per interaction (discord.js guards this, so call REST directly).
    await assert.rejects(
      client.rest.post(Routes.interactionCallback(i.id, i.token), { body: { type: 4, data: { content: 'again' } }, auth: false }),
      apiError(400, 40060),
    );
    assert.deepEqual(
      h.responses.map((r) => [r.kind, r.status, r.code ?? null]),
      [
        ['callback', 204, null],
        ['callback', 400, 40060],
      ],
    );
    assert.equal(h.callback?.type, 4);
    // A type-6 response is for components only.
    const got2 = nextInteraction<ChatInputCommandInteraction>(client);
    const h2 = await fake.slashCommand({ name: 'ask', options: { question: 'x' } });
    const i2 = await got2;
    await assert.rejects(
      client.rest.post(Routes.interactionCallback(i2.id, i2.token), { body: { type: 6 }, auth: false }),
      apiError(400, 50035),
    );
    const res = await i2.reply({ content: 'ok', withResponse: true });
    assert.deepEqual(
      h2.responses.map((r) => r.status),
      [400, 200],
    );
    assert.equal(res.interaction.id, i2.id);
    assert.equal(res.interaction.responseMessageId, h2.original()!.id);
    assert.equal(res.resource?.message?.content, 'ok');
  });

  test('a follow-up right after a defer edits the loading message, as Discord does', async () => {
    const got = nextInteraction<ChatInputCommandInteraction>(client);
    const h = await fake.slashCommand({ name: 'ask', options: { question: 'Defer then follow up' } });
    const i = await got;
    await i.deferReply();
    const m = await i.followUp({ content: 'answer', flags: MessageFlags.Ephemeral });
    assert.equal(m.id, h.original()!.id);
    assert.equal(h.original()!.ephemeral, undefined, 'the defer decided: not ephemeral');
    assert.equal(h.followUps().length, 0);
    assert.equal(h.responses[1]!.editsOriginal, true);
    const next = await i.followUp('second');
    assert.notEqual(next.id, m.id);
    assert.equal(fake.messages.get(next.id)!.raw.message_reference.message_id, m.id);

    // Follow-ups are edited and deleted by id through the same webhook; so is @original.
    const deleted = new Promise<string[]>((resolve) => {
      const ids: string[] = [];
      const on = (x: Message | { id: string }) => {
        ids.push(x.id);
        if (ids.length === 2) {
          client.off(Events.MessageDelete, on);
          resolve(ids);
        }
      };
      client.on(Events.MessageDelete, on);
    });
    await i.editReply({ message: next.id, content: 'second, edited' });
    assert.equal(fake.messages.get(next.id)!.content, 'second, edited');
    await i.deleteReply(next.id);
    await i.deleteReply();
    assert.ok(fake.messages.get(next.id)!.deleted && fake.messages.get(m.id)!.deleted);
    assert.deepEqual(
      h.responses.slice(-3).map((r) => [r.kind, r.target, r.status]),
      [
        ['edit', next.id, 200],
        ['delete', next.id, 204],
        ['delete', '@original', 204],
      ],
    );
    assert.deepEqual((await deleted).sort(), [m.id, next.id].sort());
    await assert.rejects(i.editReply('gone'), apiError(404, 10008));
    // A message that is not this interaction's is not reachable through its token.
    const other = await channel.send('unrelated');
    await assert.rejects(i.editReply({ message: other.id, content: 'hijack' }), apiError(404, 10008));
  });

  test('Discord time limits: no callback after the window (10062), no webhook after the token lifetime (10015)', async () => {
    const quick = await startFakeDiscord({ interactionCallbackWindowMs: 1000, interactionTokenTtlMs: 3000 });
    const c = await loggedIn(makeClient(quick), quick);
    try {
      await c.rest.put(Routes.applicationCommands(quick.applicationId), { body: [{ name: 'ask', description: 'Ask' }] });
      const got = nextInteraction<ChatInputCommandInteraction>(c);
      const h = await quick.slashCommand({ name: 'ask' });
      const late = await got;
      await sleep(1200);
      await assert.rejects(late.reply('too late'), apiError(404, 10062));
      // An interaction never acknowledged in time takes its token with it.
      await assert.rejects(
        c.rest.post(Routes.webhook(quick.applicationId, late.token), { body: { content: 'x' }, auth: false }),
        apiError(404, 10015),
      );
      assert.deepEqual(
        h.responses.map((r) => [r.kind, r.code]),
        [
          ['callback', 10062],
          ['followup', 10015],
        ],
      );

      const got2 = nextInteraction<ChatInputCommandInteraction>(c);
      await quick.slashCommand({ name: 'ask' });
      const i = await got2;
      await i.deferReply();
      await i.editReply('in time');
      await sleep(3200);
      await assert.rejects(i.editReply('after 15 minutes'), apiError(404, 10015));
      await assert.rejects(i.followUp('after 15 minutes'), apiError(404, 10015));
    } finally {
      await c.destroy();
      await quick.close();
    }
  });

  test('default_member_permissions: a member without them cannot run the command; a role grants it', async () => {
    await assert.rejects(fake.slashCommand({ name: 'reset' }), /cannot use \/reset/);
    const mod = fake.addRole({ name: 'Moderator', permissions: ['ManageMessages'] });
    const guild = client.guilds.cache.get(fake.guildId)!;
    await until(() => guild.roles.cache.has(mod.id));
    fake.setMemberRoles(fake.userId, [mod.id]);
    try {
      assert.ok(fake.permissionsOf(fake.userId, fake.channelId) & PermissionFlagsBits.ManageMessages);
      const got = nextInteraction<ChatInputCommandInteraction>(client);
      const h = await fake.slashCommand({ name: 'reset' });
      const i = await got;
      assert.ok(i.memberPermissions?.has(PermissionFlagsBits.ManageMessages));
      assert.ok((i.member as GuildMember).roles.cache.has(mod.id));
      assert.deepEqual(h.raw.member.roles, [mod.id]);
      await i.reply({ content: 'Forgotten.', flags: MessageFlags.Ephemeral });
      assert.ok(h.original()!.ephemeral);
      // Administrators see every command; an explicit override is used as is.
      const got2 = nextInteraction<ChatInputCommandInteraction>(client);
      await fake.slashCommand({ name: 'reset', userId: fake.addUser({ name: 'admin' }).id, memberPermissions: ['Administrator'] });
      assert.ok((await got2).memberPermissions?.has(PermissionFlagsBits.Administrator));
    } finally {
      fake.setMemberRoles(fake.userId, []);
    }
  });

  test('options are checked against the registered definition; a user option is resolved', async () => {
    await assert.rejects(fake.slashCommand({ name: 'nope' }), /not registered/);
    await assert.rejects(fake.slashCommand({ name: 'ask' }), /needs option "question"/);
    await assert.rejects(fake.slashCommand({ name: 'ask', options: { question: 5 } }), /expects a string/);
    await assert.rejects(fake.slashCommand({ name: 'ask', options: { question: 'x'.repeat(501) } }), /longer than 500/);
    await assert.rejects(fake.slashCommand({ name: 'ask', options: { question: 'q', extra: 'x' } }), /no option "extra"/);
    const bob = fake.addUser({ name: 'bob' });
    const got = nextInteraction<ChatInputCommandInteraction>(client);
    const h = await fake.slashCommand({ name: 'profile', options: { user: bob.id } });
    const i = await got;
    assert.equal(i.options.getUser('user')?.id, bob.id);
    assert.equal(i.options.getUser('user')?.username, 'bob');
    assert.deepEqual(Object.keys(h.raw.data.resolved.users), [bob.id]);
  });

  test('a button press arrives as a ButtonInteraction; deferUpdate then editReply edit the message it was on', async () => {
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId('stop:1').setLabel('Stop').setStyle(ButtonStyle.Danger),
    );
    const sent = await channel.send({ content: 'streaming…', components: [row] });
    assert.deepEqual(fake.buttons(sent.id), [
      { customId: 'stop:1', label: 'Stop', emoji: null, style: ButtonStyle.Danger, disabled: false, url: null, row: 0 },
    ]);
    const got = nextInteraction<ButtonInteraction>(client);
    const h = await fake.pressButton({ messageId: sent.id, customId: 'stop:1' });
    const i = await got;
    assert.ok(i.isButton());
    assert.equal(i.customId, 'stop:1');
    assert.equal(i.message.id, sent.id);
    assert.equal(i.user.id, fake.userId);
    assert.equal(h.raw.type, 3);
    assert.equal(h.raw.data.component_type, 2);
    assert.equal(h.raw.message.id, sent.id);

    const updated = new Promise<Message>((resolve) => {
      const on = (_old: unknown, m: Message) => {
        if (m.id !== sent.id || m.content !== 'stopped') return;
        client.off(Events.MessageUpdate, on);
        resolve(m);
      };
      client.on(Events.MessageUpdate, on);
    });
    await i.deferUpdate();
    await i.editReply({ content: 'stopped', components: [] });
    await updated;
    assert.deepEqual(
      h.responses.map((r) => [r.kind, r.type ?? null, r.target ?? null, r.messageId]),
      [
        ['callback', 6, null, sent.id],
        ['edit', null, '@original', sent.id],
      ],
    );
    assert.equal(fake.messages.get(sent.id)!.content, 'stopped');
    assert.deepEqual(fake.buttons(sent.id), []);
    await assert.rejects(fake.pressButton({ messageId: sent.id, customId: 'stop:1' }), /no button/);
  });

  test('update (type 7) replaces the message; emoji buttons; disabled buttons cannot be pressed; bad components are refused', async () => {
    const vote = (disabled: boolean) =>
      new ActionRowBuilder<ButtonBuilder>().addComponents(
        new ButtonBuilder().setCustomId('vote:up').setEmoji('👍').setStyle(ButtonStyle.Secondary).setDisabled(disabled),
        new ButtonBuilder().setCustomId('vote:down').setEmoji('👎').setStyle(ButtonStyle.Secondary).setDisabled(disabled),
      );
    const sent = await channel.send({ content: 'final answer', components: [vote(false)] });
    assert.deepEqual(
      fake.buttons(sent.id).map((b) => [b.customId, b.emoji?.name, b.label]),
      [
        ['vote:up', '👍', null],
        ['vote:down', '👎', null],
      ],
    );
    const got = nextInteraction<ButtonInteraction>(client);
    const h = await fake.pressButton({ messageId: sent.id, customId: 'vote:down' });
    const i = await got;
    await i.update({ components: [vote(true)] });
    assert.equal(h.callback?.type, 7);
    assert.equal(fake.messages.get(sent.id)!.content, 'final answer');
    assert.ok(fake.buttons(sent.id).every((b) => b.disabled));
    await assert.rejects(fake.pressButton({ messageId: sent.id, customId: 'vote:up' }), /disabled/);

    const dup = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId('same').setLabel('A').setStyle(ButtonStyle.Primary),
      new ButtonBuilder().setCustomId('same').setLabel('B').setStyle(ButtonStyle.Primary),
    );
    await assert.rejects(channel.send({ content: 'x', components: [dup] }), apiError(400, 50035));
  });

  test('a reply to a button press replies to its message; only the invoking user sees and presses an ephemeral one', async () => {
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId('more').setLabel('More').setStyle(ButtonStyle.Primary),
    );
    const sent = await channel.send({ content: 'answer', components: [row] });
    const got = nextInteraction<ButtonInteraction>(client);
    const h = await fake.pressButton({ messageId: sent.id, customId: 'more' });
    const i = await got;
    const undo = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId('undo').setLabel('Undo').setStyle(ButtonStyle.Secondary),
    );
    await i.reply({ content: 'Thanks for the vote', flags: MessageFlags.Ephemeral, components: [undo] });
    const reply = h.original()!;
    assert.equal(reply.raw.type, MessageType.Reply);
    assert.equal(reply.raw.message_reference.message_id, sent.id);
    assert.equal(reply.raw.interaction_metadata.interacted_message_id, sent.id);
    assert.ok(reply.ephemeral);
    const other = fake.addUser({ name: 'carol' });
    await assert.rejects(fake.pressButton({ messageId: reply.id, customId: 'undo', userId: other.id }), /ephemeral/);
    const got2 = nextInteraction<ButtonInteraction>(client);
    await fake.pressButton({ messageId: reply.id, customId: 'undo' });
    assert.equal((await got2).message.id, reply.id);
  });
});

describe('fake Discord: threads and forum channels', () => {
  let fake: FakeDiscord;
  let client: Client;
  let text: TextChannel;
  const textId = '1100000000000000101';
  const forumId = '1100000000000000102';
  const tagId = '1100000000000000103';

  before(async () => {
    fake = await startFakeDiscord({
      channels: [
        { id: textId, type: 0, name: 'general' },
        {
          id: forumId,
          type: 15,
          name: 'help',
          available_tags: [{ id: tagId, name: 'bug', moderated: false, emoji_id: null, emoji_name: null }],
        },
      ],
    });
    client = await loggedIn(makeClient(fake), fake);
    text = client.channels.cache.get(textId) as TextChannel;
  });

  after(async () => {
    await client?.destroy();
    await fake?.close();
  });

  async function userQuestion(content: string): Promise<Message> {
    const got = nextMessage(client, (m) => m.content === content);
    await fake.userMessage({ channelId: textId, content });
    return got;
  }

  test('message.startThread: the thread takes the message id, THREAD_CREATE says newly created, the message gets the thread', async () => {
    const m = await userQuestion('How do I rotate keys?');
    // discord.js emits threadCreate from the REST answer; the gateway's THREAD_CREATE follows.
    const gateway = new Promise<{ t: string; d: { id: string; newly_created?: boolean } }[]>((resolve) => {
      const seen: { t: string; d: { id: string; newly_created?: boolean } }[] = [];
      const on = (p: { t: string; d: { id: string; newly_created?: boolean } }) => {
        if (p.d?.id !== m.id) return;
        seen.push(p);
        if (p.t === 'MESSAGE_UPDATE') {
          client.off(Events.Raw, on);
          resolve(seen);
        }
      };
      client.on(Events.Raw, on);
    });
    const th = await m.startThread({ name: 'How do I rotate keys?', autoArchiveDuration: 60 });
    assert.equal(th.id, m.id);
    assert.equal(th.type, ChannelType.PublicThread);
    assert.equal(th.parentId, textId);
    assert.equal(th.ownerId, fake.botId);
    assert.equal(th.autoArchiveDuration, 60);
    const events = await gateway;
    assert.deepEqual(
      events.map((e) => [e.t, e.d.newly_created ?? null]),
      [
        ['THREAD_CREATE', true],
        ['THREAD_MEMBERS_UPDATE', null],
        ['MESSAGE_UPDATE', null],
      ],
    );
    const post = await fake.waitFor((c) => c.method === 'POST' && c.path === `/channels/${textId}/messages/${m.id}/threads`);
    assert.equal(post.status, 201);
    assert.equal(post.body?.name, 'How do I rotate keys?');
    const starter = fake.messages.get(m.id)!;
    assert.ok(starter.raw.flags & MessageFlags.HasThread);
    assert.equal(starter.raw.thread.id, th.id);
    assert.deepEqual(fake.threadMembers(th.id), [fake.botId]);
    await until(() => th.members.cache.has(fake.botId));

    // Messages in the thread carry its id as channel_id.
    const answer = await th.send('Use the rotate command.');
    assert.equal(fake.messages.get(answer.id)!.raw.channel_id, th.id);
    const got = nextMessage(client, (x) => x.content === 'thanks');
    await fake.userMessage({ channelId: th.id, content: 'thanks' });
    const reply = await got;
    assert.equal(reply.channelId, th.id);
    assert.ok(reply.channel.isThread());
    assert.deepEqual(fake.threadMembers(th.id), [fake.botId, fake.userId], 'posting in a thread joins it');

    // Discord's limits.
    const m2 = await userQuestion('long name');
    await assert.rejects(m2.startThread({ name: 'x'.repeat(101) }), apiError(400, 50035));
    await assert.rejects(client.rest.post(Routes.threads(textId, m.id), { body: { name: 'again' } }), apiError(400, 160004));
    await assert.rejects(
      client.rest.post(Routes.threads(textId, m2.id), { body: { name: 'ok', auto_archive_duration: 30 } }),
      apiError(400, 50035),
    );
    await assert.rejects(client.rest.post(Routes.threads(forumId, m2.id), { body: { name: 'ok' } }), apiError(400, 50024));
  });

  test('without Create Public Threads the bot gets 403 50013, and discord.js sees the overwrite', async () => {
    const m = await userQuestion('deny me');
    fake.denyBotPermissions(textId, ['CreatePublicThreads']);
    try {
      await until(() => text.permissionsFor(client.user!)?.has(PermissionFlagsBits.CreatePublicThreads) === false);
      await assert.rejects(m.startThread({ name: 'denied' }), apiError(403, 50013));
      assert.ok(!fake.channels.has(m.id));
      // Threads follow their parent's overwrites: no Send Messages in Threads → no posting in one.
      const th = await client.channels.fetch(fake.addChannel({ type: 11, name: 'existing', parent_id: textId }).id);
      fake.denyBotPermissions(textId, ['SendMessagesInThreads']);
      await assert.rejects((th as ThreadChannel).send('x'), apiError(403, 50013));
      await text.send('the channel itself still works');
    } finally {
      fake.setPermissionOverwrite(textId, { id: fake.botId, type: 1 });
    }
    await until(() => text.permissionsFor(client.user!)?.has(PermissionFlagsBits.CreatePublicThreads) === true);
    assert.equal((await m.startThread({ name: 'allowed' })).id, m.id);
  });

  test('archived threads: a message unarchives an unlocked one; a locked one refuses with 50083', async () => {
    const m = await userQuestion('archive me');
    const th = await m.startThread({ name: 'archive me' });
    const mine = await th.send('first answer');
    fake.archiveThread(th.id);
    await until(() => th.archived === true);
    await th.send('posting revives it');
    await until(() => th.archived === false);
    assert.equal(fake.channels.get(th.id)!.thread_metadata.archived, false);

    fake.archiveThread(th.id, { locked: true });
    await until(() => th.archived === true && th.locked === true);
    await assert.rejects(th.send('nope'), apiError(400, 50083));
    await assert.rejects(mine.edit('edited'), apiError(400, 50083));
    await assert.rejects(fake.userMessage({ channelId: th.id, content: 'me neither' }), /archived and locked/);

    // GUILD_CREATE lists active threads only.
    const other = await loggedIn(makeClient(fake), fake);
    try {
      assert.equal(other.channels.cache.has(th.id), false);
      const active = [...fake.channels.values()].find((c) => c.type === 11 && !c.thread_metadata.archived)!;
      assert.ok(other.channels.cache.get(active.id)?.isThread());
    } finally {
      await other.destroy();
    }
    fake.unarchiveThread(th.id);
    const again = await loggedIn(makeClient(fake), fake);
    try {
      const seen = again.channels.cache.get(th.id) as ThreadChannel | undefined;
      assert.ok(seen?.isThread());
      assert.ok(seen.members.cache.has(fake.botId), "GUILD_CREATE carries the bot's thread membership");
    } finally {
      await again.destroy();
    }
  });

  test("thread edits follow Discord's rules: the creator may rename and archive, locking needs Manage Threads", async () => {
    const m = await userQuestion('edit my thread');
    const th = await m.startThread({ name: 'first name' });
    await th.setName('second name');
    assert.equal(fake.channels.get(th.id)!.name, 'second name');
    await assert.rejects(th.setLocked(true), apiError(403, 50013));
    const active = await client.guilds.cache.get(fake.guildId)!.channels.fetchActiveThreads();
    assert.ok(active.threads.has(th.id));
    await th.setArchived(true);
    assert.equal(fake.channels.get(th.id)!.thread_metadata.archived, true);
    assert.ok(!(await client.guilds.cache.get(fake.guildId)!.channels.fetchActiveThreads()).threads.has(th.id));
    const archived = await text.threads.fetchArchived({ type: 'public' });
    assert.ok(archived.threads.has(th.id));
    await assert.rejects(th.setName('while archived'), apiError(400, 50083));
    await th.setArchived(false);
    assert.equal(fake.channels.get(th.id)!.thread_metadata.archived, false);
  });

  test('a thread without a message: a public one is announced in the parent (type 18); private is the default', async () => {
    const th = await text.threads.create({ name: 'side topic', type: ChannelType.PublicThread });
    assert.equal(th.type, ChannelType.PublicThread);
    const notice = [...fake.messages.values()].find(
      (x) => x.raw.type === MessageType.ThreadCreated && x.raw.message_reference?.channel_id === th.id,
    );
    assert.equal(notice?.channelId, textId);
    assert.equal(notice?.content, 'side topic');
    const raw = (await client.rest.post(Routes.threads(textId), { body: { name: 'private by default' } })) as { type: number; id: string };
    assert.equal(raw.type, ChannelType.PrivateThread);
    assert.ok(![...fake.messages.values()].some((x) => x.raw.message_reference?.channel_id === raw.id));
    // Joining and leaving a thread.
    const joinable = (await client.channels.fetch(
      fake.addChannel({ type: 11, name: 'user thread', parent_id: textId }).id,
    )) as ThreadChannel;
    assert.deepEqual(fake.threadMembers(joinable.id), [fake.userId]);
    await joinable.join();
    assert.deepEqual(fake.threadMembers(joinable.id), [fake.userId, fake.botId]);
    await until(() => joinable.members.cache.has(fake.botId));
    await joinable.leave();
    assert.deepEqual(fake.threadMembers(joinable.id), [fake.userId]);
  });

  test('forum channels: the bot creates a post; THREAD_CREATE comes before the starter message, whose id is the thread id', async () => {
    const forum = client.channels.cache.get(forumId) as ForumChannel;
    assert.equal(forum.type, ChannelType.GuildForum);
    assert.deepEqual(
      forum.availableTags.map((t) => t.name),
      ['bug'],
    );
    const order: string[] = [];
    const onThread = (t: ThreadChannel) => order.push(`thread ${t.id}`);
    const onMessage = (m: Message) => order.push(`message ${m.id} in ${m.channelId}`);
    client.on(Events.ThreadCreate, onThread);
    client.on(Events.MessageCreate, onMessage);
    try {
      const post = await forum.threads.create({ name: 'Release notes', message: { content: 'v2 is out' }, appliedTags: [tagId] });
      assert.equal(post.type, ChannelType.PublicThread);
      assert.equal(post.parentId, forumId);
      assert.deepEqual(post.appliedTags, [tagId]);
      const starter = fake.messages.get(post.id)!;
      assert.equal(starter.content, 'v2 is out');
      assert.equal(starter.channelId, post.id);
      await until(() => order.length >= 2);
      assert.deepEqual(order.slice(0, 2), [`thread ${post.id}`, `message ${post.id} in ${post.id}`]);
      await assert.rejects(forum.threads.create({ name: 'no body', message: {} }), apiError(400, 50006));
      await assert.rejects(forum.threads.create({ name: 'bad tag', message: { content: 'x' }, appliedTags: ['1'] }), apiError(400, 50035));
      await assert.rejects(client.rest.post(Routes.channelMessages(forumId), { body: { content: 'x' } }), apiError(400, 50008));
    } finally {
      client.off(Events.ThreadCreate, onThread);
      client.off(Events.MessageCreate, onMessage);
    }
  });

  test('fake.forumPost: a user post arrives as THREAD_CREATE then MESSAGE_CREATE in a thread of the forum', async () => {
    const order: string[] = [];
    const onThread = (t: ThreadChannel, newly: boolean) => order.push(`thread ${t.id} ${newly}`);
    client.on(Events.ThreadCreate, onThread);
    try {
      const got = nextMessage(client, (m) => m.content === 'I cannot log in since v2');
      const onMessage = (m: Message) => order.push(`message ${m.id}`);
      client.on(Events.MessageCreate, onMessage);
      const { thread, message } = await fake.forumPost({
        forumId,
        title: 'Login broken',
        content: 'I cannot log in since v2',
        appliedTags: [tagId],
      });
      const m = await got;
      client.off(Events.MessageCreate, onMessage);
      assert.equal(thread.id, message.id);
      assert.equal(m.id, thread.id);
      assert.equal(m.channelId, thread.id);
      assert.equal(m.author.id, fake.userId);
      assert.ok(m.channel.isThread());
      assert.equal(m.channel.parentId, forumId);
      assert.equal(m.channel.parent?.type, ChannelType.GuildForum);
      assert.equal(m.channel.name, 'Login broken');
      assert.equal(m.channel.ownerId, fake.userId);
      assert.deepEqual(order, [`thread ${thread.id} true`, `message ${thread.id}`]);
      assert.equal((await m.channel.fetchStarterMessage())?.id, thread.id);
      assert.deepEqual(fake.threadMembers(thread.id), [fake.userId], 'the bot is not in a post it did not join');
      const post = m.channel as ThreadChannel;
      await post.send('Try clearing the cache.');
      assert.deepEqual(fake.threadMembers(thread.id), [fake.userId, fake.botId]);
      await until(() => post.members.cache.has(fake.botId));
      // Commands cannot run in the forum itself, nor in an archived post.
      await client.application!.commands.set([{ name: 'ask', description: 'Ask' }]);
      await assert.rejects(fake.slashCommand({ name: 'ask', channelId: forumId }), /is a forum/);
      fake.archiveThread(thread.id);
      await assert.rejects(fake.slashCommand({ name: 'ask', channelId: thread.id }), /archived/);
      fake.unarchiveThread(thread.id);
      const got2 = nextInteraction<ChatInputCommandInteraction>(client);
      await fake.slashCommand({ name: 'ask', channelId: thread.id });
      const i = await got2;
      assert.equal(i.channelId, thread.id);
      assert.ok(i.channel?.isThread());
    } finally {
      client.off(Events.ThreadCreate, onThread);
    }
  });
});

describe('fake Discord: roles and who a message pings', () => {
  let fake: FakeDiscord;
  let client: Client;
  let channel: TextChannel;

  before(async () => {
    fake = await startFakeDiscord();
    client = await loggedIn(makeClient(fake), fake);
    channel = client.channels.cache.get(fake.channelId) as TextChannel;
  });

  after(async () => {
    await client?.destroy();
    await fake?.close();
  });

  test('members carry their roles in MESSAGE_CREATE and GET /guilds/{g}/members/{u}', async () => {
    const guild = client.guilds.cache.get(fake.guildId)!;
    const helpers = fake.addRole({ name: 'Helpers', mentionable: true });
    await until(() => guild.roles.cache.has(helpers.id));
    const bob = fake.addUser({ name: 'bob' });
    fake.setMemberRoles(bob.id, [helpers.id]);
    const got = nextMessage(client, (m) => m.author.id === bob.id);
    await fake.userMessage({ channelId: fake.channelId, content: 'I can help', authorId: bob.id });
    const m = await got;
    assert.ok(m.member?.roles.cache.has(helpers.id));
    assert.deepEqual(fake.messages.get(m.id)!.raw.member.roles, [helpers.id]);
    const fetched = await guild.members.fetch({ user: bob.id, force: true });
    assert.ok(fetched.roles.cache.has(helpers.id));
    assert.deepEqual(fake.member(bob.id).roles, [helpers.id]);
    assert.throws(() => fake.setMemberRoles(bob.id, ['1']), /no role/);
    // Several at once go over the gateway (op 8, user_ids).
    const many = await guild.members.fetch({ user: [bob.id, fake.userId] });
    assert.deepEqual([...many.keys()].sort(), [bob.id, fake.userId].sort());
    assert.ok(many.get(bob.id)?.roles.cache.has(helpers.id));
  });

  test("pinged() follows Discord's allowed_mentions rules", async () => {
    const helpers = fake.addRole({ name: 'Responders', mentionable: true });
    const staff = fake.addRole({ name: 'Staff' }); // not mentionable, as roles are by default
    const bob = fake.addUser({ name: 'bob2' });
    const alice = fake.userId;
    const send = async (content: string, allowedMentions?: object) => {
      const m = await channel.send(allowedMentions ? { content, allowedMentions } : { content });
      return fake.pinged(m.id);
    };
    const body = `<@&${helpers.id}> <@&${staff.id}> <@${bob.id}> <@${alice}> @everyone`;

    // No allowed_mentions: everything parsed; a role that is not mentionable and @everyone need Mention Everyone.
    assert.deepEqual(await send(body), { users: [bob.id, alice], roles: [helpers.id], everyone: false, repliedUser: null });
    // Escalation style: nobody but one role.
    assert.deepEqual(await send(body, { parse: [], roles: [helpers.id] }), {
      users: [],
      roles: [helpers.id],
      everyone: false,
      repliedUser: null,
    });
    assert.deepEqual(await send(body, { parse: [] }), { users: [], roles: [], everyone: false, repliedUser: null });
    // An explicit list only pings those also in the content.
    assert.deepEqual((await send(`<@${bob.id}>`, { users: [bob.id, alice] })).users, [bob.id]);
    assert.deepEqual((await send(body, { parse: ['users', 'roles'], users: [] })).roles, [helpers.id]);
    // parse and an explicit list of the same kind are mutually exclusive.
    await assert.rejects(channel.send({ content: body, allowedMentions: { parse: ['users'], users: [bob.id] } }), apiError(400, 50035));
    await assert.rejects(channel.send({ content: body, allowedMentions: { parse: ['roles'], roles: [helpers.id] } }), apiError(400, 50035));

    // With Mention Everyone (through a role), the bot reaches non-mentionable roles and @everyone.
    const announcer = fake.addRole({ name: 'Announcer', permissions: ['MentionEveryone'] });
    fake.setMemberRoles(fake.botId, [announcer.id]);
    assert.deepEqual(await send(body, { parse: ['roles', 'everyone'] }), {
      users: [],
      roles: [helpers.id, staff.id],
      everyone: true,
      repliedUser: null,
    });
    fake.setMemberRoles(fake.botId, []);

    // Replies ping their author unless allowed_mentions says otherwise (replied_user defaults to false then).
    const got = nextMessage(client, (m) => m.content === 'a question');
    await fake.userMessage({ channelId: fake.channelId, content: 'a question', authorId: bob.id });
    const q = await got;
    const r1 = await q.reply('an answer');
    assert.deepEqual(fake.pinged(r1.id), { users: [bob.id], roles: [], everyone: false, repliedUser: bob.id });
    const r2 = await q.reply({ content: 'quiet answer', allowedMentions: { parse: [] } });
    assert.equal(fake.pinged(r2.id).repliedUser, null);
    const r3 = await q.reply({ content: 'loud answer', allowedMentions: { parse: [], repliedUser: true } });
    assert.equal(fake.pinged(r3.id).repliedUser, bob.id);

    // Role mentions are recorded on the message; an edit notifies no one.
    const m = await channel.send({ content: 'no pings yet', allowedMentions: { parse: [], roles: [helpers.id] } });
    await m.edit({ content: `<@&${helpers.id}> now`, allowedMentions: { parse: [], roles: [helpers.id] } });
    assert.deepEqual(fake.messages.get(m.id)!.raw.mention_roles, [helpers.id]);
    assert.deepEqual(fake.pinged(m.id).roles, []);
    // A user's message pings too.
    const u = await fake.userMessage({ channelId: fake.channelId, content: `<@&${helpers.id}> help`, authorId: bob.id });
    assert.deepEqual(fake.pinged(u).roles, [helpers.id]);
  });
});

describe('fake Discord: several guilds on several shards', () => {
  // Snowflakes whose shard, (id >> 22) % 2, is 0 and 1.
  const guildA = String(300_000_000_000n << 22n);
  const guildB = String(300_000_000_001n << 22n);
  const chanA = '1100000000000000201';
  const chanB = '1100000000000000202';
  let fake: FakeDiscord;
  let c0: Client;
  let c1: Client;

  function shardClient(shard: number, count: number): Client {
    return new Client({
      intents: [Guilds, GuildMessages, MessageContent],
      shards: [shard],
      shardCount: count,
      rest: { api: fake.apiUrl, globalRequestsPerSecond: 10_000 },
      ws: { buildIdentifyThrottler: async () => ({ waitForIdentify: async () => {} }) },
    });
  }

  before(async () => {
    fake = await startFakeDiscord({
      heartbeatIntervalMs: 400,
      recommendedShards: 2,
      guilds: [
        { id: guildA, name: 'Alpha', channels: [{ id: chanA, name: 'alpha-general' }] },
        { id: guildB, name: 'Beta', channels: [{ id: chanB, name: 'beta-general' }] },
      ],
    });
  });

  after(async () => {
    await c0?.destroy();
    await c1?.destroy();
    await fake?.close();
  });

  test('GET /gateway/bot recommends the configured shard count', async () => {
    assert.equal(shardOf(guildA, 2), 0);
    assert.equal(shardOf(guildB, 2), 1);
    const res = await fetch(`${fake.apiUrl}/v10/gateway/bot`, { headers: { authorization: `Bot ${fake.token}` } });
    const info = (await res.json()) as { shards: number; session_start_limit: { max_concurrency: number } };
    assert.equal(info.shards, 2);
    assert.equal(info.session_start_limit.max_concurrency, 1);
    assert.deepEqual(fake.guildIds, [guildA, guildB]);
    assert.equal(fake.guildId, guildA);
    assert.equal(fake.channelId, chanA);
  });

  test('two discord.js clients with shards [0] and [1] of 2 get only their own guild and its events', async () => {
    c0 = await loggedIn(shardClient(0, 2), fake);
    c1 = await loggedIn(shardClient(1, 2), fake);
    assert.deepEqual([...c0.guilds.cache.keys()], [guildA]);
    assert.deepEqual([...c1.guilds.cache.keys()], [guildB]);
    assert.ok(c0.channels.cache.has(chanA) && !c0.channels.cache.has(chanB));
    assert.ok(c1.channels.cache.has(chanB) && !c1.channels.cache.has(chanA));

    const seenBy0: string[] = [];
    const on0 = (m: Message) => seenBy0.push(m.channelId);
    c0.on(Events.MessageCreate, on0);
    try {
      const inB = nextMessage(c1, (m) => m.content === 'hello beta');
      await fake.userMessage({ channelId: chanB, content: 'hello beta' });
      await inB;
      const inA = nextMessage(c0, (m) => m.content === 'hello alpha');
      await fake.userMessage({ channelId: chanA, content: 'hello alpha' });
      await inA;
      assert.deepEqual(seenBy0, [chanA], 'shard 0 never saw guild B');

      // Interactions follow the guild's shard too.
      await c1.guilds.cache.get(guildB)!.commands.set([{ name: 'ask', description: 'Ask' }]);
      const got = nextInteraction(c1);
      const h = await fake.slashCommand({ name: 'ask', channelId: chanB });
      assert.equal((await got).id, h.id);
      await assert.rejects(fake.slashCommand({ name: 'ask', channelId: chanA }), /not registered/);
    } finally {
      c0.off(Events.MessageCreate, on0);
    }

    assert.deepEqual(fake.connectedShards(), [0, 1]);
    assert.deepEqual(
      fake.shardStats().map((s) => [s.shardId, s.shardCount, s.identifies, s.resumes, s.connected]),
      [
        [0, 2, 1, 0, 1],
        [1, 2, 1, 0, 1],
      ],
    );
    assert.ok(fake.sessions.identifiesTooSoon >= 1, 'two identifies within 5 s with max_concurrency 1');

    // Closing one shard's connection: only that shard resumes.
    const resumed = once(c1, Events.ShardResume);
    fake.closeGateway(4000, 'shard 1 only', 1);
    await resumed;
    assert.deepEqual(
      fake.shardStats().map((s) => [s.shardId, s.resumes]),
      [
        [0, 0],
        [1, 1],
      ],
    );
  });

  test('an invalid shard closes with 4010; another shard count is recorded, and refused when strict', async () => {
    const identify = async (url: string, shard: unknown) => {
      const ws = new WebSocket(`${url}/?v=10&encoding=json`);
      await once(ws, 'message');
      ws.send(JSON.stringify({ op: 2, d: { token: fake.token, intents: 513, properties: {}, shard } }));
      return new Promise<number | 'ready'>((resolve) => {
        ws.on('message', (data: Buffer) => {
          if (JSON.parse(data.toString()).t === 'READY') {
            ws.close();
            resolve('ready');
          }
        });
        ws.on('close', (code: number) => resolve(code));
      });
    };
    assert.equal(await identify(fake.gatewayUrl, [2, 2]), 4010);
    assert.equal(await identify(fake.gatewayUrl, [0, 0]), 4010);
    const mismatches = fake.sessions.shardCountMismatches;
    assert.equal(await identify(fake.gatewayUrl, [0, 3]), 'ready', 'Discord lets sessions use other shard counts');
    assert.equal(fake.sessions.shardCountMismatches, mismatches + 1);

    const strict = await startFakeDiscord({ strictShardCount: true, token: fake.token });
    const c = await loggedIn(makeClient(strict), strict);
    try {
      assert.equal(await identify(strict.gatewayUrl, [0, 2]), 4010);
      assert.equal(await identify(strict.gatewayUrl, [0, 1]), 'ready');
    } finally {
      await c.destroy();
      await strict.close();
    }
  });
});

describe('fake Discord: application id, token and privileged intents', () => {
  test('realisticToken: the first segment is base64 of the bot id; READY and the API give the application id', async () => {
    const fake = await startFakeDiscord({ realisticToken: true, applicationId: '1100000000000000301' });
    const client = makeClient(fake);
    try {
      const parts = fake.token.split('.');
      assert.equal(parts.length, 3);
      assert.equal(Buffer.from(parts[0]!, 'base64').toString(), fake.botId);
      assert.doesNotMatch(parts[0]!, /=/);
      await loggedIn(client, fake);
      assert.equal(client.application?.id, '1100000000000000301');
      assert.equal(client.user?.id, fake.botId);
      const app = (await client.rest.get(Routes.oauth2CurrentApplication())) as { id: string; bot: { id: string } };
      assert.equal(app.id, '1100000000000000301');
      assert.equal(app.bot.id, fake.botId);
      // Commands live under the application id, not the bot id.
      await assert.rejects(client.rest.put(Routes.applicationCommands(fake.botId), { body: [] }), apiError(403, 50001));
      await client.application.commands.set([{ name: 'ask', description: 'Ask' }]);
      assert.equal(fake.commands()[0]!.application_id, '1100000000000000301');
    } finally {
      await client.destroy();
      await fake.close();
    }
    const plain = await startFakeDiscord();
    try {
      assert.equal(plain.applicationId, plain.botId);
      assert.match(plain.token, /^fake-bot-token\./);
    } finally {
      await plain.close();
    }
  });

  test('messageContentIntent: false → close 4014 for a client that asks for it; fine without it', async () => {
    const fake = await startFakeDiscord({ messageContentIntent: false });
    const asking = makeClient(fake);
    const polite = makeClient(fake, [Guilds, GuildMessages]);
    try {
      const closed = once(asking, Events.ShardDisconnect) as Promise<[{ code: number }, number]>;
      const login = asking.login(fake.token).then(
        () => 'resolved',
        () => 'rejected',
      );
      const [event] = await closed;
      assert.equal(event.code, 4014);
      assert.notEqual(await Promise.race([login, sleep(3000).then(() => 'pending')]), 'resolved');
      assert.equal(fake.liveSessions(), 0);
      await loggedIn(polite, fake);
      assert.equal(fake.liveSessions(), 1);
    } finally {
      await asking.destroy();
      await polite.destroy();
      await fake.close();
    }
  });
});
