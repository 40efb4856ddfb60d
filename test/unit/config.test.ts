/** Config validation and redaction: STATUS_TOKEN, the data folder, URLs shown to the operator. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { UserError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { redactUrl } from '../../src/redact.js';

const dir = mkdtempSync(join(tmpdir(), 'copilot-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = (extra: Record<string, string>) => ({ COPILOT_HOME: dir, ...extra });

test('STATUS_TOKEN: unset → null; a usable token is kept; a short or spaced one is a config problem', () => {
  assert.equal(loadConfig({}, env({}), dir).statusToken, null);
  assert.equal(loadConfig({}, env({ STATUS_TOKEN: '   ' }), dir).statusToken, null, 'empty means unset, like every variable');
  const token = 'a3f1c9e0b7d24e6f8a1b2c3d4e5f6a7b';
  assert.equal(loadConfig({}, env({ STATUS_TOKEN: token }), dir).statusToken, token);
  for (const bad of ['short', 'has a space in the middle', 'tab\tinside-0123456789', 'ünicode-token-0123456789']) {
    assert.throws(
      () => loadConfig({}, env({ STATUS_TOKEN: bad }), dir),
      (err: unknown) =>
        err instanceof UserError && /^STATUS_TOKEN: must be at least 16 characters/.test(err.message) && !err.message.includes(bad),
      bad,
    );
  }
});

test('the logger redacts STATUS_TOKEN wherever it appears', async () => {
  const token = 'Zq9-status-token-value-42';
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  const log = await createLogger(loadConfig({}, env({ STATUS_TOKEN: token }), dir), sink);
  log.warn({ header: `x ${token} y` }, `token ${token}`);
  const out = lines.join('');
  assert.match(out, /x \*\*\*\* y/);
  assert.ok(!out.includes(token), out);
});

test('redactUrl hides passwords in the user info and in query parameters, and nothing else', () => {
  assert.equal(redactUrl('postgres://u:pw@h:5432/db'), 'postgres://u:****@h:5432/db');
  assert.equal(
    redactUrl('postgresql://u@h/db?sslmode=verify-full&password=p%40ss&sslpassword=k&PASSWORD=x'),
    'postgresql://u@h/db?sslmode=verify-full&password=****&sslpassword=****&PASSWORD=****',
  );
  assert.equal(redactUrl('https://h/embed?api_key=a&token=b&model=m'), 'https://h/embed?api_key=****&token=****&model=m');
  assert.equal(
    redactUrl('postgres://u@h/db?sslmode=require&application_name=copilot'),
    'postgres://u@h/db?sslmode=require&application_name=copilot',
  );
  assert.equal(redactUrl('not a url'), '(unparseable URL)');
});

test('the data folder: an empty --home or a file is a config problem; an empty COPILOT_HOME means the default', () => {
  const file = join(dir, 'a-file');
  writeFileSync(file, '');
  const problem = (f: () => unknown, pattern: RegExp) =>
    assert.throws(f, (err: unknown) => err instanceof UserError && err.code === 'bad_config' && pattern.test(err.message));
  problem(() => loadConfig({ home: '' }, {}, dir), /^--home is empty/);
  problem(() => loadConfig({ home: ' ' }, { COPILOT_HOME: dir }, dir), /^--home is empty/);
  problem(() => loadConfig({ home: file }, {}, dir), /^--home: .*a-file is not a directory/);
  problem(() => loadConfig({}, { COPILOT_HOME: file }, dir), /^COPILOT_HOME: .*a-file is not a directory/);
  // Every problem at once.
  problem(() => loadConfig({}, { COPILOT_HOME: file, PORT: 'x' }, dir), /not a directory.*\nPORT: must be/);
  assert.equal(loadConfig({}, { COPILOT_HOME: '  ' }, dir).home, join(homedir(), '.copilot'));
  assert.equal(
    loadConfig({ home: join(dir, 'new') }, {}, dir).home,
    join(dir, 'new'),
    'a missing folder is fine: it is created when needed',
  );
});

test('GROQ_REWRITE_MODEL: unset → the default small model; empty → no rewrite; a name is kept', () => {
  assert.equal(loadConfig({}, env({}), dir).groqRewriteModel, 'llama-3.1-8b-instant');
  assert.equal(loadConfig({}, env({ GROQ_REWRITE_MODEL: '' }), dir).groqRewriteModel, '');
  assert.equal(loadConfig({}, env({ GROQ_REWRITE_MODEL: '  ' }), dir).groqRewriteModel, '');
  assert.equal(loadConfig({}, env({ GROQ_REWRITE_MODEL: 'my-model' }), dir).groqRewriteModel, 'my-model');
});
