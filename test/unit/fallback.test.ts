/** The retrieval-only answer quotes, per passage, the sentence that best matches the question, with its source. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FALLBACK_UNAVAILABLE, fallbackAnswer, focusedQuote, sentencesOf } from '../../src/answer/fallback.js';
import type { Passage } from '../../src/kb/retrieve.js';

const KEEPING =
  'Keeping settings between exports. By default every new export starts from the factory settings, so options such as the delimiter, the date format or the destination have to be chosen again each time. Many teams prefer the program to remember what they used last. ' +
  'To keep your settings, open Preferences > Exports and turn on Remember last used settings. From then on a new export starts with the format options and the destination of your previous export. ' +
  'The choice is stored per user, so colleagues on the same computer keep their own defaults. Administrators can switch the behaviour on for everyone with exports.remember_last = true in exporter.toml.';

const passage = (content: string, page: number): Passage => ({ documentName: 'manual.pdf', page, section: null, content, score: 1 });

test('the fallback quote contains the sentence that matches the question, cut with ellipses, file and page kept', () => {
  const text = fallbackAnswer([passage(KEEPING, 7)], FALLBACK_UNAVAILABLE, { question: 'how do I turn on remember last used settings?' });
  const [lead, quoted, source] = text.split('\n');
  assert.equal(lead, FALLBACK_UNAVAILABLE);
  assert.ok(quoted!.includes('open Preferences > Exports and turn on Remember last used settings.'), quoted);
  assert.ok(quoted!.startsWith('> … '), `cut before: ${quoted}`);
  assert.ok(!quoted!.includes('Keeping settings between exports.'), 'the heading is left out');
  assert.ok(quoted!.length <= 2 + 2 + 280 + 2, `within the quote length: ${quoted!.length}`);
  assert.equal(source, '— manual.pdf p.7');
});

test('a later sentence is found for another question, and the end is marked when cut', () => {
  const q = focusedQuote(KEEPING, 'who decides the default for everyone? administrators?', 120);
  assert.match(q, /Administrators can switch the behaviour on for everyone/);
  assert.ok(q.startsWith('… '), q);
  const first = focusedQuote(KEEPING, 'what are the factory settings of a new export', 250);
  assert.match(first, /By default every new export starts from the factory settings/);
  assert.ok(first.endsWith(' …'), first);
});

test('without a question or a matching word the quote is the start of the passage', () => {
  const plain = fallbackAnswer([passage(KEEPING, 7)], FALLBACK_UNAVAILABLE).split('\n')[1]!;
  assert.ok(plain.startsWith('> Keeping settings between exports.'), plain);
  assert.equal(focusedQuote('Short page. Two lines.', 'zebra xylophone', 280), 'Short page. Two lines.');
});

test('sentences split after a full stop before a capital, not inside exporter.toml or 4.2.1', () => {
  assert.deepEqual(sentencesOf('Install 4.2.1 first. Then edit exporter.toml and restart.  Done!'), [
    'Install 4.2.1 first.',
    'Then edit exporter.toml and restart.',
    'Done!',
  ]);
});
