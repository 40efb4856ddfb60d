import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addChannels, listChannels, removeChannels } from '../../src/channels/service.js';
import { listConversations, resetConversation, showConversation } from '../../src/convo/service.js';
import { instructionsHistory, setInstructions, showInstructions } from '../../src/instructions/service.js';
import type { Db } from '../../src/db/backend.js';
import { appendMessage, ensureConversation } from '../../src/db/conversations.js';
import { effectiveInstructions } from '../../src/db/instructions.js';
import { UserError } from '../../src/errors.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';

const A = '123456789012345678';
const B = '223456789012345678';
const C = '323456789012345678';

for (const kind of BACKENDS) {
  describe(`admin services (${kind})`, () => {
    let t: TestDatabase;
    let db: Db;
    before(async () => {
      t = await createTestDatabase(kind);
      db = await t.open();
    });
    after(async () => {
      await db.close();
      await t.cleanup();
    });

    test('channels: add, change mode, already there, remove, unknown', async () => {
      assert.deepEqual(
        (await addChannels(db, [A, B], 'all', 'alice')).map((c) => c.result),
        ['added', 'added'],
      );
      const again = await addChannels(db, [A], 'mention', 'alice');
      assert.deepEqual(again, [{ id: A, result: 'mode_changed', mode: 'mention', previousMode: 'all' }]);
      assert.equal((await addChannels(db, [A], 'mention', 'alice'))[0]!.result, 'unchanged');
      const list = await listChannels(db);
      assert.deepEqual(
        list.map((c) => [c.id, c.mode, c.addedBy]),
        [
          [A, 'mention', 'alice'],
          [B, 'all', 'alice'],
        ],
      );
      await assert.rejects(
        removeChannels(db, [B, C], 'alice'),
        (e: unknown) => e instanceof UserError && /323456789012345678/.test(e.message),
      );
      assert.equal((await listChannels(db)).length, 2, 'a failed remove removes nothing');
      await removeChannels(db, [B], 'alice');
      assert.deepEqual(
        (await listChannels(db)).map((c) => c.id),
        [A],
      );
      await assert.rejects(addChannels(db, ['12345'], 'all', 'alice'), UserError);
      const { rows } = await db.query<{ action: string }>("select action from audit_log where action like 'channels.%' order by id");
      assert.deepEqual(
        rows.map((r) => r.action),
        ['channels.add', 'channels.add', 'channels.mode', 'channels.remove'],
      );
    });

    test('instructions: global, per-channel override, audit history, bad input', async () => {
      assert.equal((await showInstructions(db)).source, 'none');
      await setInstructions(db, '  Be brief.  ', 'alice');
      assert.deepEqual((({ content, source }) => ({ content, source }))(await showInstructions(db)), {
        content: 'Be brief.',
        source: 'global',
      });
      assert.equal((await setInstructions(db, 'Be brief.', 'bob')).changed, false);
      await setInstructions(db, 'Answer in French.', 'bob', A);
      assert.equal((await showInstructions(db, A)).source, 'channel');
      assert.equal((await effectiveInstructions(db, A))!.content, 'Answer in French.');
      assert.equal((await effectiveInstructions(db, '423456789012345678'))!.content, 'Be brief.');
      await assert.rejects(setInstructions(db, '   ', 'bob'), /empty/);
      await assert.rejects(
        setInstructions(db, 'Be\u0000 brief.', 'bob'),
        (e: unknown) => e instanceof UserError && /NUL character/.test(e.message),
      );
      await assert.rejects(setInstructions(db, 'x', 'bob', C), /not an allowed channel/);
      const history = await instructionsHistory(db, A);
      assert.equal(history.length, 1);
      assert.deepEqual([history[0]!.actor, history[0]!.oldValue, history[0]!.newValue], ['bob', null, 'Answer in French.']);
      await setInstructions(db, 'Be very brief.', 'carol');
      const global = await instructionsHistory(db);
      assert.deepEqual(
        global.map((e) => [e.actor, e.oldValue, e.newValue]),
        [
          ['carol', 'Be brief.', 'Be very brief.'],
          ['alice', null, 'Be brief.'],
        ],
      );
    });

    test('conversations: list, show in order, reset', async () => {
      await ensureConversation(db, { id: A, channelId: A });
      for (let i = 0; i < 5; i++) {
        await appendMessage(db, A, { role: i % 2 ? 'assistant' : 'user', content: `m${i}`, authorId: i % 2 ? null : '99' });
      }
      const list = await listConversations(db);
      assert.deepEqual(
        list.map((c) => [c.id, c.messages]),
        [[A, 5]],
      );
      assert.deepEqual(
        (await showConversation(db, A, 3)).map((m) => m.content),
        ['m2', 'm3', 'm4'],
      );
      await assert.rejects(showConversation(db, B), /no conversation/);
      await assert.rejects(showConversation(db, 'nope'), UserError);
      assert.deepEqual(await resetConversation(db, A, 'alice'), { id: A, deleted: 5 });
      assert.deepEqual(await showConversation(db, A), []);
    });
  });
}
