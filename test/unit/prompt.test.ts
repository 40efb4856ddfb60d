import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MarkerStripper,
  NOT_IN_KB_MARKER,
  buildMessages,
  citedIndexes,
  formatSources,
  sourceLabel,
  stripMarker,
} from '../../src/answer/prompt.js';
import type { Passage } from '../../src/kb/retrieve.js';

const passage = (documentName: string, page: number | null, section: string | null, content: string, score = 1): Passage => ({
  documentName,
  page,
  section,
  content,
  score,
});

test('sourceLabel: page, else section, else the name', () => {
  assert.equal(sourceLabel(passage('handbook.pdf', 12, null, '')), 'handbook.pdf p.12');
  assert.equal(sourceLabel(passage('faq.md', null, 'Billing', '')), 'faq.md § Billing');
  assert.equal(sourceLabel(passage('notes.txt', null, null, '')), 'notes.txt');
  assert.equal(sourceLabel(passage('notes.txt', null, '  ', '')), 'notes.txt');
  assert.equal(sourceLabel(passage('a.pdf', 0, 'x', '')), 'a.pdf p.0');
});

test('sourceLabel: a web page by its title and the heading the passage is under; formatSources adds its URL in <>', () => {
  const url = 'https://docs.example.com/install';
  const page = (section: string | null, title: string | null, pageNo: number | null = null): Passage => ({
    ...passage(url, pageNo, section, 'x'),
    title,
    url,
  });
  assert.equal(sourceLabel(page('Install › Requirements', 'Install Relay')), 'Install Relay § Requirements');
  assert.equal(sourceLabel(page('Install', 'Install Relay')), 'Install Relay § Install');
  assert.equal(sourceLabel(page(null, null)), url);
  assert.equal(sourceLabel({ ...page(null, 'manual.pdf', 3) }), 'manual.pdf p.3');
  assert.equal(
    formatSources([page('Install › Requirements', 'Install Relay'), passage('faq.md', null, 'Billing', 'y')]),
    `Sources: Install Relay § Requirements <${url}> · faq.md § Billing`,
  );
});

test('buildMessages: instructions first, then guidance, passages with sources, history in order, question last', () => {
  const messages = buildMessages({
    instructions: 'You are Pip, the helper of the Acme server. Answer in English.',
    passages: [
      passage('handbook.pdf', 12, null, 'Refunds take 14 days.', 0.9),
      passage('faq.md', null, 'Billing', 'Invoices are sent monthly.', 0.5),
    ],
    history: [
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first answer' },
      { role: 'user', content: 'second question' },
    ],
    question: 'How long do refunds take?',
  });

  assert.deepEqual(
    messages.map((m) => m.role),
    ['system', 'user', 'assistant', 'user', 'user'],
  );
  const system = messages[0]!.content;
  assert.ok(system.startsWith('You are Pip, the helper of the Acme server.'), 'instructions come first');
  const at = (s: string): number => {
    const i = system.indexOf(s);
    assert.notEqual(i, -1, `system message contains ${JSON.stringify(s)}`);
    return i;
  };
  assert.ok(at('cite') > at('Answer in English.'));
  assert.ok(at(NOT_IN_KB_MARKER) > at('Answer in English.'));
  assert.ok(at('[1] handbook.pdf p.12\nRefunds take 14 days.') > at(NOT_IN_KB_MARKER));
  assert.ok(at('[2] faq.md § Billing\nInvoices are sent monthly.') > at('[1] handbook.pdf p.12'));
  assert.deepEqual(
    messages.slice(1).map((m) => m.content),
    ['first question', 'first answer', 'second question', 'How long do refunds take?'],
  );
});

test('buildMessages: no passages still explains the marker; empty instructions are omitted', () => {
  const [system, question] = buildMessages({ instructions: '  ', passages: [], history: [], question: 'hi?' });
  assert.equal(system!.role, 'system');
  assert.ok(system!.content.includes(NOT_IN_KB_MARKER));
  assert.ok(!system!.content.includes('[1]'));
  assert.ok(!system!.content.startsWith('\n'));
  assert.deepEqual(question, { role: 'user', content: 'hi?' });
});

test('citedIndexes: the forms models use, ignoring code and links', () => {
  assert.deepEqual(citedIndexes('Refunds take 14 days [2]. Invoices monthly [1][3].'), [1, 2, 3]);
  assert.deepEqual(citedIndexes('See [1, 4] and [2-3].'), [1, 2, 3, 4]);
  assert.deepEqual(citedIndexes('Use `arr[5]` or\n```js\nx[6]\n```\nand [2]'), [2]);
  assert.deepEqual(citedIndexes('a [link](http://x) [7](http://y) and [0]'), []);
  assert.deepEqual(citedIndexes('no citations here'), []);
});

test('formatSources: cited ones when cited, else all; same document and page once', () => {
  const ps = [
    passage('handbook.pdf', 12, null, 'a'),
    passage('faq.md', null, 'Billing', 'b'),
    passage('handbook.pdf', 12, null, 'c'),
    passage('handbook.pdf', 13, null, 'd'),
  ];
  assert.equal(formatSources(ps), 'Sources: handbook.pdf p.12 · faq.md § Billing · handbook.pdf p.13');
  assert.equal(formatSources(ps, [2]), 'Sources: faq.md § Billing');
  assert.equal(formatSources(ps, [4, 1, 3]), 'Sources: handbook.pdf p.12 · handbook.pdf p.13');
  assert.equal(formatSources(ps, [9]), formatSources(ps), 'citations of unknown numbers fall back to all');
  assert.equal(formatSources(ps, []), formatSources(ps));
  assert.equal(formatSources([]), '');
  assert.equal(formatSources(ps, citedIndexes('Refunds take two weeks [3].')), 'Sources: handbook.pdf p.12');
});

test('stripMarker: removes the marker and the space after it', () => {
  assert.deepEqual(stripMarker(`${NOT_IN_KB_MARKER} The knowledge base does not cover that.`), {
    text: 'The knowledge base does not cover that.',
    marked: true,
  });
  assert.deepEqual(stripMarker(`\n  ${NOT_IN_KB_MARKER}\n\nNot covered.`), { text: 'Not covered.', marked: true });
  assert.deepEqual(stripMarker('Refunds take 14 days [1].'), { text: 'Refunds take 14 days [1].', marked: false });
  assert.deepEqual(stripMarker('Partly covered. [[NOT_IN_KB]] The rest is not.'), {
    text: 'Partly covered. The rest is not.',
    marked: true,
  });
  assert.deepEqual(stripMarker('[[NOT_IN'), { text: '[[NOT_IN', marked: false }, 'an unfinished marker is text');
  assert.deepEqual(stripMarker(''), { text: '', marked: false });
});

test('MarkerStripper: streamed in any pieces gives the same text, holding back only a possible marker prefix', () => {
  const samples = [
    `${NOT_IN_KB_MARKER} The knowledge base does not cover refunds. [1]`,
    'Refunds take 14 days [1][2]. See [[the handbook]].',
    `  ${NOT_IN_KB_MARKER}${NOT_IN_KB_MARKER}  x`,
    '[[[NOT_IN_KB]]] odd',
    '[',
    'ends with [[NOT',
  ];
  for (const sample of samples) {
    const whole = stripMarker(sample);
    for (let size = 1; size <= 5; size++) {
      const s = new MarkerStripper();
      let out = '';
      for (let i = 0; i < sample.length; i += size) out += s.push(sample.slice(i, i + size));
      out += s.end();
      assert.equal(out, whole.text, `${JSON.stringify(sample)} in pieces of ${size}`);
      assert.equal(s.marked, whole.marked);
    }
  }

  const s = new MarkerStripper();
  assert.equal(s.push('Refunds take'), 'Refunds take', 'plain text passes at once');
  assert.equal(s.push(' 14 days ['), ' 14 days ', 'a "[" is held back');
  assert.equal(s.push('1]'), '[1]', 'and released as soon as it cannot be the marker');
  assert.equal(s.marked, false);

  const m = new MarkerStripper();
  assert.equal(m.push('[[NOT_'), '');
  assert.equal(m.marked, false);
  assert.equal(m.push('IN_KB]] '), '');
  assert.equal(m.marked, true);
  assert.equal(m.push('Not covered.'), 'Not covered.');
  assert.equal(m.end(), '');
});
