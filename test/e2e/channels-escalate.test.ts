/** `copilot channels add --escalate-role` through the built binary: sets the role on a channel already added (keeping its mode), `list` shows it, a bad role exits 2 and changes nothing. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../support/cli.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';

const CHANNEL = '123456789012345678';
const ROLE = '345678901234567890';

for (const kind of BACKENDS) {
  describe(`channels --escalate-role (${kind})`, () => {
    let t: TestDatabase;
    const cli = (args: string[]) => runCli(args, { env: t.env });
    const list = async () =>
      JSON.parse((await cli(['--json', 'channels', 'list'])).stdout) as { id: string; mode: string; escalateRole: string | null }[];
    before(async () => {
      t = await createTestDatabase(kind);
    });
    after(async () => {
      await t.cleanup();
    });

    test('updates a channel already added, keeps its mode; list shows the role; bad role → exit 2, nothing changed', async () => {
      assert.equal((await cli(['channels', 'add', CHANNEL, '--mode', 'mention'])).code, 0);
      const r = await cli(['channels', 'add', CHANNEL, '--escalate-role', ROLE]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`updated ${CHANNEL} · escalates to role ${ROLE}`));
      assert.deepEqual(
        (await list()).map((c) => [c.id, c.mode, c.escalateRole]),
        [[CHANNEL, 'mention', ROLE]],
      );
      assert.match((await cli(['channels', 'list'])).stdout, new RegExp(`${CHANNEL}\tmention\tall\trole ${ROLE}\t`));
      for (const bad of ['moderators', '123', '<@&345678901234567890>']) {
        const b = await cli(['channels', 'add', CHANNEL, '--escalate-role', bad]);
        assert.equal(b.code, 2, `${bad}: ${b.stderr}`);
        assert.match(b.stderr, /is not a Discord role ID/);
      }
      assert.deepEqual(
        (await list()).map((c) => [c.id, c.mode, c.escalateRole]),
        [[CHANNEL, 'mention', ROLE]],
      );
      // Without --escalate-role, add behaves as before: --mode defaults to all.
      assert.equal((await cli(['channels', 'add', CHANNEL])).code, 0);
      assert.deepEqual(
        (await list()).map((c) => [c.mode, c.escalateRole]),
        [['all', ROLE]],
      );
    });
  });
}
