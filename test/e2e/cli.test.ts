/** The built binary, spawned as an operator runs it: stdout, --json, exit codes, and the database after. */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../support/cli.js';
import { adminUrl, BACKENDS, createTestDatabase, freshHome } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';

const A = '123456789012345678';
const B = '223456789012345678';

test('--help lists every command group', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  for (const group of ['serve', 'ask', 'chat', 'instructions', 'channels', 'kb', 'convo', 'db', 'doctor', 'config']) {
    assert.match(r.stdout, new RegExp(`^  ${group}\\b`, 'm'), group);
  }
});

test('usage errors exit 2 with one line; with --json as a JSON error on stderr', async () => {
  const home = freshHome(false);
  try {
    const unknown = await runCli(['frobnicate'], { env: { COPILOT_HOME: home } });
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stdout, '');
    assert.equal(unknown.stderr.trim().split('\n').length, 1);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const flag = await runCli(['--json', 'channels', 'list', '--bogus'], { env: { COPILOT_HOME: home } });
    assert.equal(flag.code, 2);
    assert.equal(flag.stdout, '');
    assert.deepEqual(JSON.parse(flag.stderr), { error: { code: 'usage', message: "unknown option '--bogus'" } });
    const badConfig = await runCli(['channels', 'list'], { env: { COPILOT_HOME: home, PORT: 'eighty', LOG_LEVEL: 'loud' } });
    assert.equal(badConfig.code, 2);
    assert.match(badConfig.stderr, /PORT: must be a whole number/);
    assert.match(badConfig.stderr, /LOG_LEVEL: must be one of/);
    assert.equal(existsSync(join(home, 'data')), false, 'bad input created nothing');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('with no DATABASE_URL, `channels add` creates and migrates the embedded database', async () => {
  const home = freshHome(false);
  try {
    const add = await runCli(['channels', 'add', A], { env: { COPILOT_HOME: home } });
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /added 123456789012345678 \(mode all\)/);
    assert.match(add.stderr, /Creating the embedded database/);
    assert.ok(existsSync(join(home, 'data', 'PG_VERSION')));
    assert.equal(existsSync(join(home, 'copilot.lock')), false, 'the lock is released on exit');
    const list = await runCli(['--json', 'channels', 'list'], { env: { COPILOT_HOME: home } });
    assert.equal(list.code, 0, list.stderr);
    const channels = JSON.parse(list.stdout);
    assert.equal(channels.length, 1);
    assert.equal(channels[0].id, A);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

for (const kind of BACKENDS) {
  describe(`copilot CLI (${kind})`, () => {
    let t: TestDatabase;
    const cli = (args: string[], extra: { input?: string; env?: Record<string, string> } = {}) =>
      runCli(args, { env: { ...t.env, ...extra.env }, input: extra.input });
    const query = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
      const db = await t.open();
      try {
        return (await db.query<T>(sql, params)).rows;
      } finally {
        await db.close();
      }
    };

    before(async () => {
      t = await createTestDatabase(kind);
    });
    after(() => t.cleanup());

    test('channels: add, list as a table and as JSON, modes, remove', async () => {
      const add = await cli(['channels', 'add', A, B, '--mode', 'mention']);
      assert.equal(add.code, 0, add.stderr);
      assert.match(add.stdout, /added 123456789012345678 \(mode mention\)/);
      const same = await cli(['channels', 'add', A, '--mode', 'mention']);
      assert.match(same.stdout, /already allowed/);
      const change = await cli(['--json', 'channels', 'add', A]);
      assert.deepEqual(JSON.parse(change.stdout), [{ id: A, result: 'mode_changed', mode: 'all', previousMode: 'mention' }]);
      const list = await cli(['channels', 'list']);
      assert.equal(list.code, 0);
      const lines = list.stdout.trim().split('\n');
      assert.deepEqual(lines[0]!.split('\t'), ['Channel', 'Mode', 'Collections', 'Escalate to', 'Added', 'By']);
      assert.equal(lines.length, 3);
      assert.doesNotMatch(list.stdout, /\u001b\[/, 'no colour when not a TTY');
      const json = JSON.parse((await cli(['--json', 'channels', 'list'])).stdout);
      assert.deepEqual(
        json.map((c: { id: string; mode: string }) => [c.id, c.mode]),
        [
          [A, 'all'],
          [B, 'mention'],
        ],
      );
      const threaded = await cli(['--json', 'channels', 'add', B, '--mode', 'thread']);
      assert.equal(threaded.code, 0, threaded.stderr);
      assert.deepEqual(JSON.parse(threaded.stdout), [{ id: B, result: 'mode_changed', mode: 'thread', previousMode: 'mention' }]);
      assert.deepEqual(await query('select mode from channels where id = $1', [B]), [{ mode: 'thread' }]);
      const removed = await cli(['channels', 'remove', B]);
      assert.equal(removed.code, 0);
      assert.deepEqual(
        (await query<{ id: string }>('select id from channels')).map((r) => r.id),
        [A],
      );
    });

    test('bad channel input exits 2 and changes nothing', async () => {
      const before = await query('select * from channels order by id');
      for (const args of [
        ['channels', 'add', '12345'],
        ['channels', 'add', A, 'abc'],
        ['channels', 'add', A, '--mode', 'sometimes'],
        ['channels', 'remove', '923456789012345678'],
        ['channels', 'add'],
        ['channels', 'add', '00000000000000000'],
        ['channels', 'add', '012345678901234567'],
        ['channels', 'add', '18446744073709551616'],
        ['channels', 'add', '99999999999999999999'],
        ['channels', 'add', '123456789012345678901'],
      ]) {
        const r = await cli(args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      }
      assert.deepEqual(await query('select * from channels order by id'), before);
      const largest = await cli(['channels', 'add', '18446744073709551615']);
      assert.equal(largest.code, 0, largest.stderr);
      assert.equal((await cli(['channels', 'remove', '18446744073709551615'])).code, 0);
      assert.deepEqual(await query('select * from channels order by id'), before);
    });

    test('instructions: set from text, stdin and a file; show; override; history; edit with $EDITOR', async () => {
      assert.equal((await cli(['instructions', 'set', 'Be', 'helpful.'])).code, 0);
      assert.equal((await cli(['instructions', 'show'])).stdout, 'Be helpful.\n');
      const stdin = await cli(['instructions', 'set', '-'], { input: 'From stdin.\n' });
      assert.equal(stdin.code, 0, stdin.stderr);
      const dir = mkdtempSync(join(tmpdir(), 'copilot-instr-'));
      writeFileSync(join(dir, 'rules.md'), '# Rules\nAnswer in French.\n');
      const file = await cli(['instructions', 'set', '--channel', A, '--file', join(dir, 'rules.md')]);
      assert.equal(file.code, 0, file.stderr);
      const shown = JSON.parse((await cli(['--json', 'instructions', 'show', '--channel', A])).stdout);
      assert.equal(shown.content, '# Rules\nAnswer in French.');
      assert.equal(shown.source, 'channel');
      const fallback = JSON.parse((await cli(['--json', 'instructions', 'show', '--channel', B])).stdout);
      assert.deepEqual([fallback.content, fallback.source], ['From stdin.', 'global']);
      // $EDITOR gets the current text in a file and its result is stored.
      writeFileSync(join(dir, 'editor.sh'), '#!/bin/sh\nsed -i "s/stdin/the editor/" "$1"\n');
      chmodSync(join(dir, 'editor.sh'), 0o755);
      const edited = await cli(['instructions', 'edit'], { env: { EDITOR: join(dir, 'editor.sh') } });
      assert.equal(edited.code, 0, edited.stderr);
      assert.equal((await cli(['instructions', 'show'])).stdout, 'From the editor.\n');
      const history = JSON.parse((await cli(['--json', 'instructions', 'show', '--history'])).stdout);
      assert.deepEqual(
        history.map((e: { oldValue: string | null; newValue: string }) => [e.oldValue, e.newValue]),
        [
          ['From stdin.', 'From the editor.'],
          ['Be helpful.', 'From stdin.'],
          [null, 'Be helpful.'],
        ],
      );
      assert.ok(history.every((e: { actor: string }) => e.actor.length > 0));
      rmSync(dir, { recursive: true, force: true });
    });

    test('bad instructions input exits 2 and changes nothing', async () => {
      const bigFile = join(t.home, 'big.md');
      writeFileSync(bigFile, 'word '.repeat(200_000));
      const before = await query('select scope, content from instructions order by scope');
      const audit = await query('select count(*)::int as n from audit_log');
      const dir = mkdtempSync(join(tmpdir(), 'copilot-instr-'));
      const binary = join(dir, 'rules.bin');
      writeFileSync(binary, Buffer.from('Be helpful.\u0000\u0001\u0002 binary tail', 'utf8'));
      const cases: [string[], string | undefined, RegExp][] = [
        [['instructions', 'set', '--file', binary], undefined, /contain a NUL character — is it a binary file\?/],
        [['instructions', 'set', '-'], 'Be kind.\u0000', /NUL character/],
        [['instructions', 'set', '   '], undefined, /empty/],
        [['instructions', 'set', '-'], '\n \n', /empty/],
        [['instructions', 'set', '--file', '/nonexistent/rules.md'], undefined, /cannot read --file .*no such file/],
        [['instructions', 'set', '--file', '/tmp'], undefined, /directory/],
        [['instructions', 'set', '--file', '/dev/zero'], undefined, /^copilot: cannot read --file \/dev\/zero: not a regular file/],
        [['instructions', 'set', '--file', '/dev/null'], undefined, /not a regular file/],
        [['instructions', 'set', '--file', bigFile], undefined, /is too large: instructions are limited to 20000 characters/],
        [['instructions', 'set', '-'], 'x'.repeat(70_000), /^copilot: stdin is too large/],
        [['instructions', 'set', '--channel', '923456789012345678', 'x'], undefined, /not an allowed channel/],
        [['instructions', 'set', '--channel', 'general', 'x'], undefined, /not a Discord channel ID/],
        [['instructions', 'set'], undefined, /give the instructions/],
        [['instructions', 'edit'], undefined, /needs \$EDITOR or a terminal/],
      ];
      for (const [args, input, message] of cases) {
        const r = await cli(args, { input });
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
      assert.deepEqual(await query('select scope, content from instructions order by scope'), before);
      assert.deepEqual(await query('select count(*)::int as n from audit_log'), audit);
      rmSync(bigFile);
      rmSync(dir, { recursive: true, force: true });
    });

    test('instructions set --file takes a file at the character limit, even of 3-byte characters', async () => {
      const file = join(t.home, 'euro.md');
      writeFileSync(file, `\n${'€'.repeat(20_000)}\n\n`);
      const r = await cli(['--json', 'instructions', 'set', '--file', file]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).content.length, 20_000);
      rmSync(file);
    });

    test('convo: list, show, reset needs --yes without a terminal', async () => {
      const db = await t.open();
      const { ensureConversation, appendMessage } = await import('../../src/db/conversations.js');
      await ensureConversation(db, { id: B, channelId: B });
      await appendMessage(db, B, { role: 'user', content: 'How do I export?', authorId: '555555555555555555' });
      await appendMessage(db, B, { role: 'assistant', content: 'Use File → Export.' });
      await db.close();
      const list = JSON.parse((await cli(['--json', 'convo', 'list'])).stdout);
      assert.deepEqual(
        list.map((c: { id: string; messages: number }) => [c.id, c.messages]),
        [[B, 2]],
      );
      const show = await cli(['convo', 'show', B]);
      assert.match(show.stdout, /How do I export\?[\s\S]*File → Export/);
      const refused = await cli(['convo', 'reset', B]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /--yes/);
      assert.equal((await query<{ n: number }>('select count(*)::int as n from messages'))[0]!.n, 2);
      const unknown = await cli(['convo', 'reset', A, '--yes']);
      assert.equal(unknown.code, 2);
      const reset = await cli(['--json', 'convo', 'reset', B, '--yes']);
      assert.deepEqual(JSON.parse(reset.stdout), { id: B, deleted: 2 });
      assert.equal((await query<{ n: number }>('select count(*)::int as n from messages'))[0]!.n, 0);
    });

    test('out-of-range numbers exit 2 with a clear one-line message and change nothing', async () => {
      const db = await t.open();
      const { ensureConversation, appendMessage } = await import('../../src/db/conversations.js');
      await ensureConversation(db, { id: 'cli', channelId: null });
      await appendMessage(db, 'cli', { role: 'user', content: 'a question from the terminal' });
      await db.close();
      const snapshot = () =>
        query(
          'select (select count(*)::int from audit_log) as audit, (select count(*)::int from documents) as docs, (select count(*)::int from messages) as messages',
        );
      const before = await snapshot();
      const cases: [string[], RegExp][] = [
        [['kb', 'show', '999999999999999999999'], /^copilot: no document "999999999999999999999"/],
        [['kb', 'show', '9223372036854775808'], /^copilot: no document "9223372036854775808"/],
        [['kb', 'remove', '99999999999999999999'], /^copilot: no document "99999999999999999999"/],
        [['kb', 'gaps', '--since', '99999999d'], /^copilot: --since reaches back at most 100 years/],
        [['kb', 'gaps', '--since', '99999999999999999999999w'], /^copilot: --since reaches back at most 100 years/],
        [
          ['instructions', 'show', '--history', '--limit', '99999999999999999999'],
          /^copilot: --limit must be a whole number from 1 to 10000 \(got "99999999999999999999"\)/,
        ],
        [['instructions', 'show', '--history', '--limit', '1e3'], /^copilot: --limit must be a whole number/],
        [['convo', 'show', 'cli', '--limit', '99999999999999999999'], /^copilot: --limit must be a whole number from 1 to 10000/],
        [['convo', 'show', 'cli', '--limit', '0x10'], /^copilot: --limit must be a whole number/],
        [['kb', 'search', 'export', '-k', '1e1'], /^copilot: -k must be a whole number from 1 to 50/],
        [['serve', '--port', '65536'], /^copilot: --port must be a port number \(got "65536"\)/],
        [['serve', '--port', '-1'], /^copilot: --port must be a port number \(got "-1"\)/],
      ];
      for (const [args, message] of cases) {
        const r = await cli(args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message, args.join(' '));
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.doesNotMatch(r.stderr, /internal error/);
      }
      const shown = await cli(['convo', 'show', 'cli', '--limit', '10000']);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /a question from the terminal/);
      assert.equal((await cli(['instructions', 'show', '--history', '--limit', '10000'])).code, 0);
      assert.equal((await cli(['kb', 'gaps', '--since', '36500d'])).code, 0);
      assert.deepEqual(await snapshot(), before);
    });

    test('db status, db migrate and doctor', async () => {
      const status = await cli(['--json', 'db', 'status']);
      assert.equal(status.code, 0, status.stderr);
      const s = JSON.parse(status.stdout);
      assert.equal(s.backend, kind);
      assert.match(s.vectorVersion, /^0\.\d+\.\d+$/);
      assert.deepEqual(s.migrations.pending, []);
      const migrate = await cli(['--json', 'db', 'migrate']);
      assert.deepEqual(JSON.parse(migrate.stdout), { applied: [] });
      const doctor = await cli(['--json', 'doctor']);
      assert.equal(doctor.code, 0, doctor.stderr);
      const d = JSON.parse(doctor.stdout);
      assert.equal(d.ok, true);
      assert.deepEqual(d.checks.map((c: { name: string }) => c.name).slice(0, 4), ['config', 'database', 'pgvector', 'migrations']);
    });
  });
}

test("a typo gets commander's suggestion on the same line, and in --json a message without a newline; quoted input loses its control characters", async () => {
  const home = freshHome(false);
  try {
    const plain = await runCli(['chanels', 'list'], { env: { COPILOT_HOME: home } });
    assert.equal(plain.code, 2);
    assert.equal(plain.stderr, "copilot: unknown command 'chanels' (Did you mean channels?) (see `copilot --help`)\n");
    const json = await runCli(['--json', 'kb', 'serch', 'x'], { env: { COPILOT_HOME: home } });
    assert.equal(json.code, 2);
    assert.equal(json.stderr.split('\n').length, 2, 'one line and its newline');
    assert.deepEqual(JSON.parse(json.stderr), { error: { code: 'usage', message: "unknown command 'serch' (Did you mean search?)" } });
    const option = await runCli(['--json', 'channels', 'add', '123456789012345678', '--mdoe', 'all'], { env: { COPILOT_HOME: home } });
    assert.equal(option.code, 2);
    assert.doesNotMatch(JSON.parse(option.stderr).error.message, /\n/);
    assert.match(JSON.parse(option.stderr).error.message, /unknown option '--mdoe' \(Did you mean --mode\?\)/);
    for (const args of [
      ['instructions', 'show', '--channel', '\u001b]0;owned\u0007\u001b[2J'],
      ['--json', 'instructions', 'show', '--channel', '1\u009b2J'],
    ]) {
      const quoted = await runCli(args, { env: { COPILOT_HOME: home } });
      assert.equal(quoted.code, 2);
      assert.match(quoted.stderr, /is not a Discord channel ID/);
      assert.doesNotMatch(
        quoted.stderr,
        /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/,
        'input quoted in an error is printed without control characters',
      );
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('an empty --home, or a home that is a file, exits 2 and creates nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'copilot-home-'));
  try {
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--home', '', 'config', 'set', 'groq-model', 'm'], {}, /^copilot: --home is empty/],
      [['--home', '  ', 'channels', 'list'], {}, /^copilot: --home is empty/],
      [['--home', file, 'channels', 'add', A], {}, /^copilot: --home: .*not-a-folder is not a directory/],
      [['--home', file, 'config', 'set', 'groq-model', 'm'], {}, /is not a directory/],
      [['channels', 'list'], { COPILOT_HOME: file }, /^copilot: COPILOT_HOME: .*not-a-folder is not a directory/],
      [['--json', 'db', 'status'], { COPILOT_HOME: file }, /"code":"bad_config".*COPILOT_HOME: .*not-a-folder is not a directory/],
    ];
    for (const [args, env, message] of cases) {
      const r = await runCli(args, { env, cwd: dir });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.deepEqual(readdirSync(dir), ['not-a-folder'], 'nothing was created in the working directory');
    assert.equal(readFileSync(file, 'utf8'), 'x');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('failing dependencies exit 1 with the reason and no stack trace', () => {
  test('a DATABASE_URL that refuses connections', async () => {
    const home = freshHome(false);
    const r = await runCli(['channels', 'list'], { env: { COPILOT_HOME: home, DATABASE_URL: 'postgres://u:secret-pw@127.0.0.1:1/db' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /connection refused/);
    assert.doesNotMatch(r.stderr, /secret-pw/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    rmSync(home, { recursive: true, force: true });
  });

  test('a wrong password', async () => {
    const url = new URL(adminUrl());
    url.username = 'copilot_pw';
    url.password = 'wrong-password';
    const home = freshHome(false);
    const r = await runCli(['--json', 'channels', 'list'], { env: { COPILOT_HOME: home, DATABASE_URL: url.toString() } });
    rmSync(home, { recursive: true, force: true });
    assert.equal(r.code, 1, r.stderr);
    const { error } = JSON.parse(r.stderr);
    assert.equal(error.code, 'database_auth');
    assert.match(error.message, /password authentication failed/);
    assert.doesNotMatch(r.stderr, /wrong-password/);
  });

  test('a COPILOT_HOME that is not writable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'copilot-home-'));
    writeFileSync(join(dir, 'file'), '');
    const r = await runCli(['channels', 'list'], { env: { COPILOT_HOME: join(dir, 'file', 'home') }, cwd: dir });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /COPILOT_HOME .* is not writable/);
  });
});

test("config set/get/list hide a password given in the URL's query string", async () => {
  const home = freshHome(false);
  try {
    const env = { COPILOT_HOME: home };
    const url = 'postgres://u@127.0.0.1:1/db?sslmode=require&password=hunter3&sslpassword=key-pass-9';
    const set = await runCli(['config', 'set', 'database-url', url], { env });
    assert.equal(set.code, 0, set.stderr);
    assert.equal(JSON.parse(readFileSync(join(home, 'config.json'), 'utf8'))['database-url'], url, 'stored as given');
    const embeddings = await runCli(['config', 'set', 'embeddings-url', 'https://tei:tei-secret@embed.example/embed?api_key=k-secret-1'], {
      env,
    });
    assert.equal(embeddings.code, 0, embeddings.stderr);
    const outputs = [
      set,
      embeddings,
      await runCli(['config', 'get', 'database-url'], { env }),
      await runCli(['--json', 'config', 'get', 'database-url'], { env }),
      await runCli(['config', 'list'], { env }),
      await runCli(['--json', 'config', 'list'], { env }),
    ];
    for (const r of outputs) {
      assert.equal(r.code, 0, r.stderr);
      for (const secret of ['hunter3', 'key-pass-9', 'tei-secret', 'k-secret-1']) {
        assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), `${secret} shown: ${r.stdout}`);
      }
    }
    assert.equal(outputs[2]!.stdout, 'postgres://u@127.0.0.1:1/db?sslmode=require&password=****&sslpassword=****\n');
    assert.match(outputs[4]!.stdout, /https:\/\/tei:\*\*\*\*@embed\.example\/embed\?api_key=\*\*\*\*/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

describe('config profile', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase('postgres');
  });
  after(() => t.cleanup());

  test('set, get, list (password hidden), unset; database-url is used when the environment has none', async () => {
    const home = freshHome(false);
    const env = { COPILOT_HOME: home };
    const withPassword = new URL(t.url!);
    withPassword.password = 'hunter2';
    assert.equal((await runCli(['config', 'set', 'database-url', withPassword.toString()], { env })).code, 0);
    const profile = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8'));
    assert.equal(profile['database-url'], withPassword.toString());
    const get = await runCli(['config', 'get', 'database-url'], { env });
    assert.match(get.stdout, /:\*\*\*\*@/);
    assert.doesNotMatch(get.stdout, /hunter2/);
    const list = await runCli(['--json', 'config', 'list'], { env });
    assert.doesNotMatch(list.stdout, /hunter2/);
    // The profile's database is used: the channel lands in Postgres, not in an embedded folder.
    assert.equal((await runCli(['channels', 'add', A], { env })).code, 0);
    assert.equal(existsSync(join(home, 'data')), false);
    const status = JSON.parse((await runCli(['--json', 'db', 'status'], { env })).stdout);
    assert.equal(status.backend, 'postgres');
    assert.equal((await runCli(['config', 'set', 'nope', 'x'], { env })).code, 2);
    assert.equal((await runCli(['config', 'set', 'database-url', 'mysql://x'], { env })).code, 2);
    assert.equal((await runCli(['config', 'unset', 'database-url'], { env })).code, 0);
    assert.equal((await runCli(['config', 'get', 'database-url'], { env })).code, 2);
    rmSync(home, { recursive: true, force: true });
  });
});
