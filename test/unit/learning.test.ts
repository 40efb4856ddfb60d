/**
 * The pure parts of the learning loop: which messages may be candidate answers (a person's, in an
 * escalating channel or a thread under it, holding the role), the question as a citation label,
 * and source labels read back into documents and pages for `feedback export`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DocumentSummary } from '../../src/db/documents.js';
import { sourceDocument } from '../../src/feedback/export.js';
import { candidateReply, questionLabel } from '../../src/learn/candidates.js';
import type { CandidateInput } from '../../src/learn/candidates.js';

const BOT = '100000000000000001';
const CHANNEL = '200000000000000002';
const THREAD = '300000000000000003';
const ROLE = '400000000000000004';
const MOD = '500000000000000005';

const channels = {
  get: (id: string) => (id === CHANNEL ? { escalateRole: ROLE } : id === '600000000000000006' ? { escalateRole: null } : null),
};

const message = (o: Partial<CandidateInput> = {}): CandidateInput => ({
  authorId: MOD,
  authorIsBot: false,
  webhook: false,
  type: 0,
  content: 'Hold the reset pin.',
  guildId: '700000000000000007',
  channelId: CHANNEL,
  threadParentId: null,
  messageId: '800000000000000008',
  replyToMessageId: null,
  memberRoleIds: [ROLE],
  ...o,
});

test('candidateReply: a role member’s message in the channel or a thread under it', () => {
  assert.deepEqual(candidateReply(message(), BOT, channels), {
    conversationId: CHANNEL,
    channelId: CHANNEL,
    inThread: false,
    replyToId: null,
    answer: 'Hold the reset pin.',
    memberId: MOD,
    discordMessageId: '800000000000000008',
  });
  const inThread = candidateReply(message({ channelId: THREAD, threadParentId: CHANNEL, type: 19, replyToMessageId: '9' }), BOT, channels);
  assert.deepEqual([inThread?.conversationId, inThread?.channelId, inThread?.inThread, inThread?.replyToId], [THREAD, CHANNEL, true, '9']);
  assert.equal(candidateReply(message({ content: `<@${BOT}> Hold it.` }), BOT, channels)?.answer, 'Hold it.');
});

test('candidateReply: not without the role, from a bot or webhook, a system message, empty, elsewhere or in a DM', () => {
  for (const o of [
    { memberRoleIds: [] },
    { memberRoleIds: ['999999999999999999'] },
    { authorIsBot: true },
    { webhook: true },
    { authorId: BOT },
    { type: 7 },
    { content: `<@${BOT}>` },
    { channelId: '600000000000000006' },
    { channelId: '610000000000000006' },
    { guildId: null },
  ] satisfies Partial<CandidateInput>[]) {
    assert.equal(candidateReply(message(o), BOT, channels), null, JSON.stringify(o));
  }
});

test('questionLabel: one line, at most 60 characters', () => {
  assert.equal(questionLabel('How do I\n reset it?'), 'How do I reset it?');
  const long = questionLabel('x'.repeat(100));
  assert.equal([...long].length, 60);
  assert.ok(long.endsWith('…'));
});

test('sourceDocument: file p.N, file § section, a web page by its URL, the longest name; unknown → null', () => {
  const doc = (name: string, url: string | null = null) => ({ name, web: url ? { url } : null }) as unknown as DocumentSummary;
  const docs = [
    doc('manual.pdf'),
    doc('manual.pdf p.2 notes.md'),
    doc('answers'),
    doc('https://docs.example.com/install', 'https://docs.example.com/install'),
  ];
  assert.deepEqual(sourceDocument('manual.pdf p.12', docs), { file: 'manual.pdf', page: 12 });
  assert.deepEqual(sourceDocument('manual.pdf p.2 notes.md § Setup', docs), { file: 'manual.pdf p.2 notes.md', page: null });
  assert.deepEqual(sourceDocument('answers § How do I reset it?', docs), { file: 'answers', page: null });
  assert.deepEqual(sourceDocument('Install § Requirements <https://docs.example.com/install>', docs), {
    file: 'https://docs.example.com/install',
    page: null,
  });
  assert.equal(sourceDocument('gone.pdf p.1', docs), null);
  assert.equal(sourceDocument('Old § x <https://gone.example.com/>', docs), null);
  assert.equal(sourceDocument('manual.pdfx', docs), null);
});
