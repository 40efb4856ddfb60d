/** Smoke test on the embedded database: the bot answers in an allowed channel and a thread, and stores memory. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listConversations, recentMessages } from '../../src/db/conversations.js';
import { startHarness } from './harness.js';
import type { Harness } from './harness.js';

const GENERAL = '1100000000000000301';
const THREAD = '1100000000000000302';
const QUIET = '1100000000000000303';

describe('bot on the embedded database', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness({
      kind: 'embedded',
      discord: {
        channels: [
          { id: GENERAL, name: 'general' },
          { id: THREAD, type: 11, name: 'thread', parent_id: GENERAL },
          { id: QUIET, name: 'quiet' },
        ],
      },
      allowed: { [GENERAL]: 'all' },
    });
    await h.bot.start();
  });
  after(async () => {
    await h?.close();
  });

  test('answers with sources in the channel and in its thread, silent elsewhere; memory stored per conversation', async () => {
    h.groq.setBehavior({
      kind: 'ok',
      reply: 'Turn on Remember last used settings under Preferences > Exports [1].',
      chunkSize: 10,
      delayMs: 20,
    });
    await h.fake.userMessage({ channelId: QUIET, content: 'how do I keep my export settings?', authorId: h.newUser() });
    const q = await h.fake.userMessage({
      channelId: GENERAL,
      content: 'how do I keep my export settings between exports?',
      authorId: h.newUser(),
    });
    const line = await h.answered(q.id);
    const t = await h.fake.userMessage({ channelId: THREAD, content: 'and in a thread?', authorId: h.newUser() });
    await h.answered(t.id);

    const [reply] = h.botMessages(GENERAL);
    assert.equal(reply!.messageReference?.message_id, q.id);
    assert.match(
      reply!.content,
      /^Turn on Remember last used settings under Preferences > Exports \[1\]\.\n\nSources: manual\.pdf p\.\d+$/,
    );
    assert.deepEqual(
      h.fake.calls.filter((c) => c.path.startsWith(`/channels/${QUIET}`)),
      [],
    );
    const stored = await recentMessages(h.db, GENERAL, 10);
    assert.deepEqual(
      stored.map((m) => [m.role, m.content]),
      [
        ['user', 'how do I keep my export settings between exports?'],
        ['assistant', reply!.content],
      ],
    );
    const thread = (await listConversations(h.db)).find((c) => c.id === THREAD);
    assert.deepEqual([thread?.channelId, thread?.parentId, thread?.messages], [GENERAL, GENERAL, 2]);
    assert.ok((line.passages as number) > 0);
    assert.equal(line.fallback, false);
  });
});
