/** The message gate: who, where, which mode, and the question without the bot's mention. Pure. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gate, stripMention } from '../../src/bot/gate.js';
import type { GateInput } from '../../src/bot/gate.js';

const BOT = '900000000000000001';
const USER = '900000000000000002';
const ALL = '100000000000000001';
const MENTION = '100000000000000002';
const OTHER = '100000000000000003';
const THREAD = '100000000000000004';
const GUILD = '100000000000000009';
const THREADED = '100000000000000005';
const FORUM = '100000000000000006';
const modes = new Map<string, { mode: 'all' | 'mention' | 'thread' }>([
  [ALL, { mode: 'all' }],
  [MENTION, { mode: 'mention' }],
  [THREADED, { mode: 'thread' }],
  [FORUM, { mode: 'all' }],
]);
const channels = { get: (id: string) => modes.get(id) ?? null };

const msg = (o: Partial<GateInput> = {}): GateInput => ({
  authorId: USER,
  authorIsBot: false,
  webhook: false,
  type: 0,
  content: 'how do I export?',
  guildId: GUILD,
  channelId: ALL,
  threadParentId: null,
  mentionedUserIds: [],
  repliedToUserId: null,
  ...o,
});

test('a human message in an `all` channel is answered with its conversation and channel', () => {
  assert.deepEqual(gate(msg(), BOT, channels), {
    accept: true,
    conversationId: ALL,
    channelId: ALL,
    parentId: null,
    mode: 'all',
    addressed: false,
    openThread: false,
    question: 'how do I export?',
  });
});

test('channels that are not listed, direct messages, bots, webhooks and the bot itself are ignored', () => {
  assert.deepEqual(gate(msg({ channelId: OTHER }), BOT, channels), { accept: false, reason: 'channel' });
  assert.deepEqual(gate(msg({ guildId: null }), BOT, channels), { accept: false, reason: 'dm' });
  assert.deepEqual(gate(msg({ authorIsBot: true }), BOT, channels), { accept: false, reason: 'bot' });
  assert.deepEqual(gate(msg({ webhook: true }), BOT, channels), { accept: false, reason: 'bot' });
  assert.deepEqual(gate(msg({ authorId: BOT, authorIsBot: true }), BOT, channels), { accept: false, reason: 'self' });
});

test('system messages are ignored; default and reply messages are not', () => {
  for (const type of [6, 7, 8, 18, 21])
    assert.deepEqual(gate(msg({ type }), BOT, channels), { accept: false, reason: 'system' }, `type ${type}`);
  assert.equal(gate(msg({ type: 19 }), BOT, channels).accept, true);
});

test('empty messages, and messages that are only the mention, are ignored', () => {
  assert.deepEqual(gate(msg({ content: '' }), BOT, channels), { accept: false, reason: 'empty' });
  assert.deepEqual(gate(msg({ content: '  \n ' }), BOT, channels), { accept: false, reason: 'empty' });
  assert.deepEqual(gate(msg({ content: `<@${BOT}>`, mentionedUserIds: [BOT] }), BOT, channels), { accept: false, reason: 'empty' });
});

test('mention mode: only when the bot is mentioned or replied to', () => {
  assert.deepEqual(gate(msg({ channelId: MENTION }), BOT, channels), { accept: false, reason: 'not-mentioned' });
  assert.deepEqual(gate(msg({ channelId: MENTION, mentionedUserIds: [USER] }), BOT, channels), { accept: false, reason: 'not-mentioned' });
  const mentioned = gate(msg({ channelId: MENTION, content: `<@${BOT}> how do I export?`, mentionedUserIds: [BOT] }), BOT, channels);
  assert.equal(mentioned.accept && mentioned.question, 'how do I export?');
  assert.equal(mentioned.accept && mentioned.addressed, true);
  const replied = gate(msg({ channelId: MENTION, type: 19, repliedToUserId: BOT }), BOT, channels);
  assert.equal(replied.accept && replied.question, 'how do I export?');
  // A reply to someone else is not addressed to the bot.
  assert.equal(gate(msg({ channelId: MENTION, type: 19, repliedToUserId: USER }), BOT, channels).accept, false);
});

test('a thread is answered by its parent channel’s mode; the conversation is the thread', () => {
  assert.deepEqual(gate(msg({ channelId: THREAD, threadParentId: ALL }), BOT, channels), {
    accept: true,
    conversationId: THREAD,
    channelId: ALL,
    parentId: ALL,
    mode: 'all',
    addressed: false,
    openThread: false,
    question: 'how do I export?',
  });
  assert.deepEqual(gate(msg({ channelId: THREAD, threadParentId: MENTION }), BOT, channels), { accept: false, reason: 'not-mentioned' });
  assert.deepEqual(gate(msg({ channelId: THREAD, threadParentId: OTHER }), BOT, channels), { accept: false, reason: 'channel' });
  // A thread listed by itself is answered with its own mode.
  const listed = { get: (id: string) => (id === THREAD ? { mode: 'all' as const } : null) };
  const own = gate(msg({ channelId: THREAD, threadParentId: MENTION }), BOT, listed);
  assert.equal(own.accept && own.channelId, THREAD);
  assert.equal(own.accept && own.parentId, MENTION);
});

test('stripMention removes the bot’s mention (both forms) and nobody else’s', () => {
  assert.equal(stripMention(`<@${BOT}> hi there`, BOT), 'hi there');
  assert.equal(stripMention(`hey <@!${BOT}> what is E-2305?`, BOT), 'hey what is E-2305?');
  assert.equal(stripMention(`ask <@${USER}> or <@${BOT}>`, BOT), `ask <@${USER}> or`);
  assert.equal(stripMention('```\ncode  stays\n```', BOT), '```\ncode  stays\n```');
});

test('mode thread: a mention opens a thread on the message (its id is the conversation); other messages are not answered', () => {
  const id = '100000000000000077';
  assert.deepEqual(gate(msg({ channelId: THREADED, messageId: id }), BOT, channels), { accept: false, reason: 'not-mentioned' });
  const d = gate(
    msg({ channelId: THREADED, messageId: id, content: `<@${BOT}> how do I export?`, mentionedUserIds: [BOT] }),
    BOT,
    channels,
  );
  assert.deepEqual(d, {
    accept: true,
    conversationId: id,
    channelId: THREADED,
    parentId: THREADED,
    mode: 'thread',
    addressed: true,
    openThread: true,
    question: 'how do I export?',
  });
  const reply = gate(msg({ channelId: THREADED, messageId: id, repliedToUserId: BOT, type: 19 }), BOT, channels);
  assert.equal(reply.accept && reply.openThread, true, 'a reply to the bot opens one too');
});

test('mode thread: in a thread the bot started every message is answered; in another thread mentions only', () => {
  const inBots = gate(
    msg({ channelId: THREAD, threadParentId: THREADED, threadOwnerId: BOT, messageId: '100000000000000078' }),
    BOT,
    channels,
  );
  assert.equal(inBots.accept, true);
  assert.equal(inBots.accept && inBots.openThread, false);
  assert.equal(inBots.accept && inBots.conversationId, THREAD);
  assert.deepEqual(gate(msg({ channelId: THREAD, threadParentId: THREADED, threadOwnerId: USER }), BOT, channels), {
    accept: false,
    reason: 'not-mentioned',
  });
  const mentioned = gate(msg({ channelId: THREAD, threadParentId: THREADED, threadOwnerId: USER, mentionedUserIds: [BOT] }), BOT, channels);
  assert.equal(mentioned.accept && !mentioned.openThread && mentioned.conversationId === THREAD, true);
});

test('a forum post: its first message asks the title and the text together; later messages the text', () => {
  const post = '100000000000000079';
  const starter = gate(
    msg({ channelId: post, messageId: post, threadParentId: FORUM, inForumPost: true, threadName: 'Exports reset', content: 'every time' }),
    BOT,
    channels,
  );
  assert.equal(starter.accept && starter.question, 'Exports reset\n\nevery time');
  assert.equal(starter.accept && starter.conversationId, post);
  const later = gate(
    msg({
      channelId: post,
      messageId: '100000000000000080',
      threadParentId: FORUM,
      inForumPost: true,
      threadName: 'Exports reset',
      content: 'still',
    }),
    BOT,
    channels,
  );
  assert.equal(later.accept && later.question, 'still');
});
