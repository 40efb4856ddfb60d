/**
 * `copilot kb candidates` through the built binary, on both backends: list (the default) and
 * show; accept stores the Q/A as a chunk of the `answers` document (type qa, created on first use,
 * embedded, in the channel's first collection — `answers-<collection>` outside `default`), a second
 * accept grows it, `kb search` finds it as `answers § <question>`; the decision is kept (by the OS
 * user, when, audited); unknown ids, decided ones and --edit without a terminal or EDITOR exit 2
 * and change nothing; a failing embeddings provider exits 1 and writes nothing; `kb remove
 * answers` leaves the candidates' status.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addChannels } from '../../src/channels/service.js';
import { claimEscalation } from '../../src/db/escalations.js';
import { captureReply } from '../../src/learn/candidates.js';
import { startFakeEmbeddings } from '../fakes/embeddings.js';
import type { FakeEmbeddings } from '../fakes/embeddings.js';
import { runCli } from '../support/cli.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';

const CHANNEL = '123456789012345678';
const SUPPORT = '223456789012345678';
const ROLE = '345678901234567890';
const MOD = '445678901234567890';

interface CandidateJson {
  id: number;
  status: string;
  question: string;
  answer: string;
  memberId: string;
  channelId: string;
  decidedBy: string | null;
  decidedAt: string | null;
  chunkId: number | null;
}

const SEEDS = [
  {
    channel: CHANNEL,
    question: 'How do I reset the flux capacitor on the DeLorean model 12 after a failed jump?',
    answer: 'Hold the reset pin for ten seconds.',
  },
  { channel: CHANNEL, question: 'Which fuel does the Mr. Fusion unit take?', answer: 'Banana peels and beer cans.' },
  { channel: CHANNEL, question: 'Is time travel covered by the warranty?', answer: 'lol no' },
  { channel: SUPPORT, question: 'Which cable connects the hoverboard charger?', answer: 'the blue one i think' },
];

for (const kind of BACKENDS) {
  describe(`kb candidates (${kind})`, () => {
    let t: TestDatabase;
    let fake: FakeEmbeddings;
    let dir: string;
    const ids: number[] = [];
    const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env: { ...t.env, EMBEDDINGS_URL: fake.url, ...env } });
    const candidate = async (id: number) =>
      JSON.parse((await cli(['--json', 'kb', 'candidates', 'show', String(id)])).stdout) as CandidateJson;
    const docs = async () =>
      JSON.parse((await cli(['--json', 'kb', 'list'])).stdout) as {
        name: string;
        type: string;
        collection: string;
        chunks: number;
        embedded: number;
      }[];

    before(async () => {
      t = await createTestDatabase(kind);
      fake = await startFakeEmbeddings();
      dir = mkdtempSync(join(tmpdir(), 'copilot-candidates-'));
      const db = await t.open();
      try {
        await addChannels(db, [CHANNEL], 'all', 'test', { escalateRole: ROLE });
        await addChannels(db, [SUPPORT], 'all', 'test', { escalateRole: ROLE, collections: ['support', 'other'] });
        for (const [i, s] of SEEDS.entries()) {
          await db.transaction((tx) =>
            claimEscalation(
              tx,
              {
                conversationId: s.channel,
                channelId: s.channel,
                inThread: false,
                answerId: 1000 + i,
                question: s.question,
                questionDiscordId: String(500000000000000000n + BigInt(i)),
                roleId: ROLE,
                reason: 'gap',
              },
              0,
            ),
          );
          const r = await captureReply(db, {
            conversationId: s.channel,
            channelId: s.channel,
            inThread: false,
            replyToId: null,
            answer: s.answer,
            memberId: MOD,
            discordMessageId: String(600000000000000000n + BigInt(i)),
          });
          assert.equal(r.kind, 'captured');
          if (r.kind === 'captured') ids.push(r.candidate.id);
        }
      } finally {
        await db.close();
      }
    });
    after(async () => {
      await fake?.close();
      rmSync(dir, { recursive: true, force: true });
      await t?.cleanup();
    });

    test('list (the default) and show', async () => {
      const listed = await cli(['--json', 'kb', 'candidates']);
      assert.equal(listed.code, 0, listed.stderr);
      const rows = JSON.parse(listed.stdout) as CandidateJson[];
      assert.deepEqual(
        rows.map((r) => [r.id, r.status]).reverse(),
        ids.map((id) => [id, 'pending']),
      );
      const table = await cli(['kb', 'candidates', 'list']);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, new RegExp(`^${ids[0]}\\tpending\\t.*\\t${CHANNEL}\\t${MOD}\\tHow do I reset the flux capacitor`, 'm'));
      const shown = await cli(['kb', 'candidates', 'show', String(ids[0])]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /How do I reset the flux capacitor on the DeLorean model 12 after a failed jump\?\n/);
      assert.match(shown.stdout, /^Hold the reset pin for ten seconds\.$/m);
      const bad = await cli(['kb', 'candidates', '--status', 'maybe']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--status must be one of pending, accepted, rejected/);
    });

    test('unknown and malformed ids exit 2', async () => {
      for (const verb of ['show', 'accept', 'reject']) {
        const unknown = await cli(['kb', 'candidates', verb, '999999']);
        assert.equal(unknown.code, 2, `${verb}: ${unknown.stderr}`);
        assert.match(unknown.stderr, /no candidate 999999/);
        const bad = await cli(['kb', 'candidates', verb, 'abc']);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /"abc" is not a candidate id/);
      }
    });

    test('a failing embeddings provider: exit 1, nothing written', async () => {
      const r = await cli(['kb', 'candidates', 'accept', String(ids[0])], { EMBEDDINGS_URL: 'http://127.0.0.1:1/embed' });
      assert.equal(r.code, 1, r.stderr);
      assert.equal((await candidate(ids[0]!)).status, 'pending');
      assert.equal((await docs()).length, 0);
    });

    test('accept: a chunk of the answers document, embedded, found by kb search as answers § …; a second one grows it', async () => {
      const r = await cli(['kb', 'candidates', 'accept', String(ids[0])]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /accepted candidate \d+ into answers \(created\) in collection default/);
      let answers = (await docs()).find((d) => d.name === 'answers')!;
      assert.deepEqual([answers.type, answers.collection, answers.chunks, answers.embedded], ['qa', 'default', 1, 1]);
      const c = await candidate(ids[0]!);
      assert.equal(c.status, 'accepted');
      assert.equal(c.decidedBy, userInfo().username);
      assert.ok(c.decidedAt && Date.now() - Date.parse(c.decidedAt) < 120_000);
      assert.ok(c.chunkId);

      const again = await cli(['kb', 'candidates', 'accept', String(ids[0])]);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /already accepted/);
      const rejectAccepted = await cli(['kb', 'candidates', 'reject', String(ids[0])]);
      assert.equal(rejectAccepted.code, 2);
      assert.match(rejectAccepted.stderr, /already accepted/);

      assert.equal((await cli(['kb', 'candidates', 'accept', String(ids[1])])).code, 0);
      answers = (await docs()).find((d) => d.name === 'answers')!;
      assert.deepEqual([answers.chunks, answers.embedded], [2, 2]);

      const search = await cli(['kb', 'search', 'reset', 'the', 'flux', 'capacitor']);
      assert.equal(search.code, 0, search.stderr);
      assert.match(
        search.stdout.split('\n')[1]!,
        /^1\t[\d.]+\tanswers\t§ How do I reset the flux capacitor on the DeLorean model 12…\tQ: How do I reset/,
      );
      const json = JSON.parse((await cli(['--json', 'kb', 'search', 'fuel', 'for', 'Mr.', 'Fusion'])).stdout) as {
        mode: string;
        results: { document: string; section: string; content: string }[];
      };
      assert.equal(json.mode, 'hybrid');
      assert.equal(json.results[0]!.document, 'answers');
      assert.equal(json.results[0]!.section, 'Which fuel does the Mr. Fusion unit take?');
      assert.equal(json.results[0]!.content, 'Q: Which fuel does the Mr. Fusion unit take?\nA: Banana peels and beer cans.');

      const db = await t.open();
      try {
        const { rows } = await db.query<{ actor: string; target: string }>(
          "select actor, target from audit_log where action = 'kb.candidate_accept' order by id",
        );
        assert.deepEqual(
          rows.map((x) => [x.actor, x.target]),
          [ids[0], ids[1]].map((id) => [userInfo().username, String(id)]),
        );
      } finally {
        await db.close();
      }
    });

    test('reject: kept as rejected; rejecting or accepting it again exits 2', async () => {
      const r = await cli(['kb', 'candidates', 'reject', String(ids[2])]);
      assert.equal(r.code, 0, r.stderr);
      const c = await candidate(ids[2]!);
      assert.deepEqual([c.status, c.decidedBy, c.chunkId], ['rejected', userInfo().username, null]);
      for (const verb of ['reject', 'accept']) {
        const again = await cli(['kb', 'candidates', verb, String(ids[2])]);
        assert.equal(again.code, 2);
        assert.match(again.stderr, /already rejected/);
      }
      assert.equal((await docs()).find((d) => d.name === 'answers')!.chunks, 2);
    });

    test('accept --edit: without a terminal or EDITOR exit 2; with EDITOR the tidied text goes to the channel’s first collection', async () => {
      const noTty = await cli(['kb', 'candidates', 'accept', String(ids[3]), '--edit']);
      assert.equal(noTty.code, 2);
      assert.match(noTty.stderr, /--edit needs \$EDITOR or a terminal/);
      assert.equal((await candidate(ids[3]!)).status, 'pending');

      const editor = join(dir, 'editor.sh');
      writeFileSync(editor, `#!/bin/sh\nprintf 'Use the blue USB-C cable that came in the box.\\n' > "$1"\n`);
      chmodSync(editor, 0o755);
      const r = await cli(['kb', 'candidates', 'accept', String(ids[3]), '--edit'], { EDITOR: editor });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /into answers-support \(created\) in collection support/);
      const c = await candidate(ids[3]!);
      assert.equal(c.status, 'accepted');
      assert.equal(c.answer, 'Use the blue USB-C cable that came in the box.');
      const doc = (await docs()).find((d) => d.name === 'answers-support')!;
      assert.deepEqual([doc.type, doc.collection, doc.chunks], ['qa', 'support', 1]);
      const search = JSON.parse((await cli(['--json', 'kb', 'search', 'hoverboard', 'charger', 'cable', '--channel', SUPPORT])).stdout) as {
        results: { document: string; content: string }[];
      };
      assert.equal(search.results[0]!.document, 'answers-support');
      assert.match(search.results[0]!.content, /A: Use the blue USB-C cable/);
    });

    test('kb remove answers: the document goes, the candidates keep their status', async () => {
      const r = await cli(['kb', 'remove', 'answers']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        (await docs()).some((d) => d.name === 'answers'),
        false,
      );
      for (const id of [ids[0]!, ids[1]!]) {
        const c = await candidate(id);
        assert.deepEqual([c.status, c.chunkId], ['accepted', null]);
      }
      const db = await t.open();
      try {
        const { rows } = await db.query<{ n: number }>('select count(*)::int as n from kb_lexemes where lexeme = $1', ['flux']);
        assert.equal(rows[0]!.n, 0, 'its words left the full-text statistics');
      } finally {
        await db.close();
      }
    });
  });
}
