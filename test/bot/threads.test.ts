/**
 * Channel mode `thread` and forum channels end to end, on both database backends: the real
 * discord.js client against the fake Discord. A mention opens a public thread named after the
 * question and the answer goes there; the thread is the conversation (follow-ups answered without
 * a mention, with its memory); a forum post is answered in the post with its title in the
 * question; when Discord refuses the thread, the answer goes to the channel with one warning.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { showConversation } from '../../src/convo/service.js';
import { threadName } from '../../src/bot/threads.js';
import { echoReply, lastUserMessage } from '../fakes/groq.js';
import type { FakeMessage } from '../fakes/discord.js';
import { BACKENDS } from '../support/db.js';
import { sleep, startHarness } from './harness.js';
import type { Harness } from './harness.js';

const THREADED = '1100000000000000401';
const FORUM = '1100000000000000402';
const NO_THREADS = '1100000000000000403';
const NO_THREAD_POSTS = '1100000000000000404';

const LONG_QUESTION =
  'how do I keep my export settings between exports when I switch between the desktop app and the web app every other day?';

for (const kind of BACKENDS) {
  describe(`threads and forums on ${kind}`, () => {
    let h: Harness;
    const mention = (text: string) => `<@${h.fake.botId}> ${text}`;
    const ask = (channelId: string, content: string, authorId = h.newUser()): Promise<FakeMessage> =>
      h.fake.userMessage({ channelId, content, authorId });
    /** The chat request whose last user message contains `text`. */
    const requestFor = (text: string) => h.groq.chatRequests().find((r) => lastUserMessage(r.body).includes(text));

    before(async () => {
      h = await startHarness({
        kind,
        knowledge: false,
        discord: {
          channels: [
            { id: THREADED, name: 'help' },
            { id: FORUM, type: 15, name: 'questions' },
            { id: NO_THREADS, name: 'no-threads' },
            { id: NO_THREAD_POSTS, name: 'no-thread-posts' },
          ],
        },
        allowed: { [THREADED]: 'thread', [FORUM]: 'all', [NO_THREADS]: 'thread', [NO_THREAD_POSTS]: 'thread' },
      });
      h.groq.setBehavior({ kind: 'ok', reply: echoReply, chunkSize: 40 });
      await h.bot.start();
    });
    after(async () => {
      await h?.close();
    });

    test('a mention opens a thread named after the question; the thread is the conversation', async () => {
      const user = h.newUser();
      const unaddressed = await ask(THREADED, 'is anyone here?', user);
      const q = await ask(THREADED, mention(LONG_QUESTION), user);
      await h.answered(q.id);

      const open = h.fake.calls.find((c) => c.method === 'POST' && c.path === `/channels/${THREADED}/messages/${q.id}/threads`);
      assert.ok(open, 'the thread was opened on the question');
      assert.ok(open.status === 200 || open.status === 201, `opened (${open.status})`);
      const name = open.body?.name as string;
      assert.equal(name, threadName(LONG_QUESTION));
      assert.ok([...name].length <= 100, name);
      assert.ok(LONG_QUESTION.startsWith(name.replace(/…$/, '')), 'cut at a word of the question');
      assert.ok(LONG_QUESTION.split(' ').includes(name.replace(/…$/, '').split(' ').at(-1)!), 'ends on a whole word');
      const thread = h.fake.channels.get(q.id);
      assert.equal(thread?.type, 11, 'a public thread with the message id');
      assert.equal(thread?.name, name);

      // The answer is in the thread, not in the channel.
      const inThread = h.botMessages(q.id);
      assert.equal(inThread.length, 1);
      assert.match(inThread[0]!.content, /Echo: .*export settings between exports/);
      assert.equal(h.botMessages(THREADED).length, 0, 'nothing posted in the channel');
      assert.equal(
        h.logs.some((l) => l.msg === 'answered' && l.messageId === unaddressed.id),
        false,
        'an unaddressed message in a thread channel is not answered',
      );

      // A follow-up in the thread, without a mention, is answered there with the thread's memory.
      const follow = await ask(q.id, 'and on the web app only?', user);
      await h.answered(follow.id);
      assert.equal(h.botMessages(q.id).length, 2);
      const request = requestFor('and on the web app only?');
      assert.ok(request, 'the follow-up was asked');
      const earlier = JSON.stringify(request.body?.messages);
      assert.ok(earlier.includes('switch between the desktop app'), 'the first question is in the follow-up memory');

      const stored = await showConversation(h.db, q.id);
      assert.deepEqual(
        stored.map((m) => m.role),
        ['user', 'assistant', 'user', 'assistant'],
      );
      assert.ok(stored[0]!.content.includes('desktop app and the web app'));
      assert.equal(stored[2]!.content, 'and on the web app only?');
      assert.equal(stored[3]!.status, 'complete');
    });

    test('a thread the bot did not start follows the channel: mentions only', async () => {
      const other = h.fake.addChannel({ type: 11, name: 'someone-elses', parent_id: THREADED });
      await sleep(100);
      const quiet = await ask(other.id, 'does this get answered?');
      const loud = await ask(other.id, mention('and this one?'));
      await h.answered(loud.id);
      assert.equal(h.botMessages(other.id).length, 1);
      assert.equal(
        h.logs.some((l) => l.msg === 'answered' && l.messageId === quiet.id),
        false,
      );
      assert.equal(
        h.fake.calls.filter((c) => c.path.startsWith(`/channels/${other.id}/messages/`) && c.path.endsWith('/threads')).length,
        0,
      );
    });

    test('a forum post is answered in the post, its title and first message together; later messages too', async () => {
      const author = h.newUser();
      const { thread, message } = await h.fake.forumPost({
        forumId: FORUM,
        title: 'Export settings keep resetting',
        content: 'every time I reopen the app my PDF settings are gone',
        authorId: author,
      });
      await h.answered(message.id);
      const request = requestFor('every time I reopen the app');
      assert.ok(request);
      const question = lastUserMessage(request.body);
      assert.ok(question.includes('Export settings keep resetting'), 'the title is in the question');
      const posted = h.botMessages(thread.id);
      assert.equal(posted.length, 1, 'answered in the post');
      assert.match(posted[0]!.content, /Export settings keep resetting/);

      const later = await ask(thread.id, 'still happening after an update', author);
      await h.answered(later.id);
      assert.equal(h.botMessages(thread.id).length, 2);
      const stored = await showConversation(h.db, thread.id);
      assert.equal(stored.filter((m) => m.role === 'user').length, 2);
    });

    test('Discord refusing threads: the answer goes to the channel, with one warning per channel', async () => {
      h.fake.denyBotPermissions(NO_THREADS, ['CreatePublicThreads']);
      h.fake.denyBotPermissions(NO_THREAD_POSTS, ['SendMessagesInThreads']);
      await sleep(100);
      for (const channelId of [NO_THREADS, NO_THREAD_POSTS]) {
        const first = await ask(channelId, mention('first question about exports'));
        await h.answered(first.id);
        const second = await ask(channelId, mention('second question about exports'));
        await h.answered(second.id);
        const replies = h.botMessages(channelId);
        assert.equal(replies.length, 2, `both answered in ${channelId}`);
        assert.deepEqual(
          replies.map((r) => r.messageReference?.message_id),
          [first.id, second.id],
          'each as a reply to its question',
        );
        const warnings = h.logs.filter((l) => l.level === 40 && l.channelId === channelId && /refused a thread/.test(l.msg));
        assert.equal(warnings.length, 1, `one warning for ${channelId}`);
      }
      const refused = h.fake.calls.filter(
        (c) => c.path === `/channels/${NO_THREADS}/messages/${h.botMessages(NO_THREADS)[0]!.messageReference?.message_id}/threads`,
      );
      assert.equal(refused[0]?.status, 403);
    });
  });
}
