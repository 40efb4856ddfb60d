/** What the CLI prints: control characters never reach the terminal; --json keeps the data as is. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createOutput, printable } from '../../src/cli/output.js';

const EVIL = 'a\u001b]0;title\u0007b\u001b[2Jc\u001b[31md\u009b2Je\rf\u0000g\u007fh\u0008i\tj\nk';

function sink(isTTY = false) {
  let text = '';
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        text += chunk.toString('utf8');
        cb();
      },
    }),
    { isTTY },
  );
  return { stream, text: () => text };
}

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

test('printable: control characters removed, tab and newline kept; colour sequences only when asked', () => {
  assert.equal(printable(EVIL), 'a]0;titleb[2Jcd2Jefghi\tj\nk');
  assert.equal(printable(EVIL, true), 'a]0;titleb[2Jc\u001b[31md2Jefghi\tj\nk');
  assert.equal(printable('plain — ünïcödé ✓ 👍'), 'plain — ünïcödé ✓ 👍');
});

test('lines, streamed text, table cells and notes are printed without control characters', async () => {
  for (const tty of [false, true]) {
    const out = sink(tty);
    const err = sink(false);
    const o = await createOutput({ json: false, stdout: out.stream, stderr: err.stream });
    o.line(`line ${EVIL}`);
    o.write(`stream ${EVIL}`);
    await o.table(['Question'], [[`cell ${EVIL}`], [null], [3]]);
    o.note(`note ${EVIL}`);
    o.warn(`warn ${EVIL}`);
    // On a colour terminal only colour sequences (ESC [ n m) may remain.
    const colourless = (text: string) => (o.color ? text.replace(/\u001b\[[0-9;]*m/g, '') : text);
    assert.doesNotMatch(colourless(out.text()), CONTROL, `stdout (tty ${tty})`);
    assert.doesNotMatch(colourless(err.text()), CONTROL, `stderr (tty ${tty})`);
    assert.match(out.text(), /line a\]0;titleb\[2Jc/);
    assert.match(out.text(), /stream a\]0;titleb/);
    assert.match(out.text(), /cell a\]0;titleb/);
    assert.match(err.text(), /note a\]0;titleb[\s\S]*warn a\]0;titleb/);
  }
});

test('--json prints the data as stored (JSON-escaped), and nothing else on stdout', async () => {
  const out = sink(false);
  const o = await createOutput({ json: true, stdout: out.stream, stderr: sink().stream });
  o.line(EVIL);
  o.write(EVIL);
  await o.table(['x'], [[EVIL]]);
  o.data({ content: EVIL });
  assert.doesNotMatch(out.text(), CONTROL, 'JSON escapes every control character, DEL and C1 included');
  assert.equal(JSON.parse(out.text()).content, EVIL);
});
