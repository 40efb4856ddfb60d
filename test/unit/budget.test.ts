import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitToBudget } from '../../src/answer/budget.js';
import { type HistoryMessage, type PromptInput, buildMessages } from '../../src/answer/prompt.js';
import type { TokenCounter } from '../../src/answer/tokens.js';
import type { Passage } from '../../src/kb/retrieve.js';

/** One token per whitespace-separated word: easy to reason about. */
const words: TokenCounter = { count: (t) => t.split(/\s+/).filter(Boolean).length };
const opts = { counter: words, messageOverhead: 0, promptOverhead: 0 };

const passage = (name: string, score: number, n: number): Passage => ({
  documentName: name,
  page: 1,
  section: null,
  content: `${name} `.repeat(n).trim(),
  score,
});
const msg = (role: HistoryMessage['role'], label: string, n: number): HistoryMessage => ({
  role,
  content: `${label} `.repeat(n).trim(),
});

const input: PromptInput = {
  instructions: 'Be kind.',
  passages: [passage('a.pdf', 0.9, 100), passage('b.pdf', 0.2, 100), passage('c.pdf', 0.5, 100)],
  history: [msg('user', 'h1', 100), msg('assistant', 'h2', 100), msg('user', 'h3', 100)],
  question: 'What now?',
};

const full = fitToBudget(input, { ...opts, contextTokens: 1_000_000, reserveForAnswer: 0 });

test('everything fits: nothing trimmed, messages exactly as buildMessages builds them', () => {
  assert.deepEqual(full.trimmed, { passages: 0, history: 0 });
  assert.equal(full.overBudget, false);
  assert.deepEqual(full.messages, buildMessages(input));
  assert.deepEqual(full.passages, input.passages);
  const actual = full.messages.reduce((n, m) => n + words.count(m.content), 0);
  assert.ok(full.promptTokens >= actual, `estimate ${full.promptTokens} >= words ${actual}`);
  assert.ok(full.promptTokens - actual < 20, 'and close to it');
});

test('a tiny budget trims the lowest-scoring passages first, keeping the original order', () => {
  const r = fitToBudget(input, { ...opts, contextTokens: full.promptTokens - 50 + 500, reserveForAnswer: 500 });
  assert.deepEqual(r.trimmed, { passages: 1, history: 0 });
  assert.deepEqual(
    r.passages.map((p) => p.documentName),
    ['a.pdf', 'c.pdf'],
  );
  const system = r.messages[0]!.content;
  assert.ok(system.includes('[1] a.pdf p.1') && system.includes('[2] c.pdf p.1'), 'renumbered');
  assert.ok(!system.includes('b.pdf'));
  assert.ok(r.promptTokens <= full.promptTokens - 50 && !r.overBudget);
});

test('passages go down to one before history; then the oldest history; then the last passage', () => {
  const budget = (t: number) => ({ ...opts, contextTokens: t, reserveForAnswer: 0 });
  const steps = [250, 350, 450].map((cut) => fitToBudget(input, budget(full.promptTokens - cut)));
  assert.deepEqual(
    steps.map((r) => r.trimmed),
    [
      { passages: 2, history: 1 },
      { passages: 2, history: 2 },
      { passages: 2, history: 3 },
    ],
  );
  assert.deepEqual(
    steps[0]!.passages.map((p) => p.documentName),
    ['a.pdf'],
    'the best passage is kept longest',
  );
  assert.deepEqual(
    steps[1]!.messages.map((m) => m.content.slice(0, 2)),
    [steps[1]!.messages[0]!.content.slice(0, 2), 'h3', 'Wh'],
    'the newest history message is kept, the question is last',
  );

  const bare = fitToBudget(input, budget(full.promptTokens - 560));
  assert.deepEqual(bare.trimmed, { passages: 3, history: 3 });
  assert.equal(bare.overBudget, false);
  assert.equal(bare.messages.length, 2);
  assert.ok(bare.messages[0]!.content.startsWith('Be kind.'), 'instructions kept');
  assert.equal(bare.messages[1]!.content, 'What now?', 'question kept');
});

test('minPassages: 0 trims every passage before any history', () => {
  const r = fitToBudget(input, { ...opts, contextTokens: full.promptTokens - 250, reserveForAnswer: 0, minPassages: 0 });
  assert.deepEqual(r.trimmed, { passages: 3, history: 0 });
});

test('instructions and question over the budget on their own: returned anyway, flagged', () => {
  const r = fitToBudget(input, { ...opts, contextTokens: 10, reserveForAnswer: 5 });
  assert.equal(r.overBudget, true);
  assert.deepEqual(r.trimmed, { passages: 3, history: 3 });
  assert.equal(r.messages.length, 2);
  assert.ok(r.messages[0]!.content.startsWith('Be kind.'));
  assert.equal(r.messages[1]!.content, 'What now?');
  assert.ok(r.promptTokens > 5);
});

test('per-message and prompt overheads are counted', () => {
  const base = fitToBudget(input, { ...opts, contextTokens: 1e6, reserveForAnswer: 0 });
  const framed = fitToBudget(input, { counter: words, contextTokens: 1e6, reserveForAnswer: 0, messageOverhead: 5, promptOverhead: 30 });
  assert.equal(framed.promptTokens - base.promptTokens, 30 + 5 * 5);
});

test('score ties are trimmed from the end', () => {
  const tied: PromptInput = { ...input, history: [], passages: [passage('x', 0.5, 100), passage('y', 0.5, 100), passage('z', 0.5, 100)] };
  const all = fitToBudget(tied, { ...opts, contextTokens: 1e6, reserveForAnswer: 0 });
  const r = fitToBudget(tied, { ...opts, contextTokens: all.promptTokens - 150, reserveForAnswer: 0 });
  assert.deepEqual(
    r.passages.map((p) => p.documentName),
    ['x'],
  );
});

test("a passage's known token count is used instead of counting", () => {
  let counted = '';
  const spy: TokenCounter = { count: (t) => ((counted += t), words.count(t)) };
  const known = { ...passage('k.pdf', 1, 100), tokens: 7 };
  const r = fitToBudget({ ...input, passages: [known], history: [] }, { ...opts, counter: spy, contextTokens: 1e6, reserveForAnswer: 0 });
  const counting = fitToBudget(
    { ...input, passages: [passage('k.pdf', 1, 100)], history: [] },
    { ...opts, contextTokens: 1e6, reserveForAnswer: 0 },
  );
  assert.equal(counting.promptTokens - r.promptTokens, 100 - 7);
  assert.ok(!counted.includes('k.pdf k.pdf'), 'the passage text was not counted');
});
