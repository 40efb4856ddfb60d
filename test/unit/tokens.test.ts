import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLlamaTokenizer, withCache } from '../../src/answer/tokens.js';
import { fitToBudget } from '../../src/answer/budget.js';
import type { ChatMessage } from '../../src/answer/prompt.js';
import type { Passage } from '../../src/kb/retrieve.js';

test('loadLlamaTokenizer: Llama 3 counts, loaded once', async () => {
  const [a, b] = await Promise.all([loadLlamaTokenizer(), loadLlamaTokenizer()]);
  assert.equal(a, b);
  assert.equal(a.count(''), 0);
  assert.equal(a.count('I'), 1);
  assert.equal(a.count('Hello world'), 2);
  assert.ok(a.count('The refund policy is described on page 12 of the handbook.') < 20);
});

test('withCache: counts each long text once, bounded', () => {
  let calls = 0;
  const c = withCache({ count: (t) => (calls++, t.length) }, 2);
  const long = (ch: string): string => ch.repeat(100);
  assert.equal(c.count(long('a')), 100);
  assert.equal(c.count(long('a')), 100);
  assert.equal(calls, 1);
  c.count(long('b'));
  c.count(long('c')); // evicts 'a'
  c.count(long('a'));
  assert.equal(calls, 4);
});

/** Llama 3.1/3.3's chat template, as the server renders it. */
function llamaTemplate(messages: ChatMessage[]): string {
  let s = '<|begin_of_text|>';
  messages.forEach((m, i) => {
    const date = i === 0 && m.role === 'system' ? 'Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n' : '';
    s += `<|start_header_id|>${m.role}<|end_header_id|>\n\n${date}${m.content.trim()}<|eot_id|>`;
  });
  return s + '<|start_header_id|>assistant<|end_header_id|>\n\n';
}

test('fitToBudget with the real tokenizer never undercounts the templated prompt, and is close', async () => {
  const counter = await loadLlamaTokenizer();
  const endings = ['.', '!', '?', ':', ';', ')', ' 🙂', ' 42', '\n- item', '```'];
  for (let seed = 0; seed < 30; seed++) {
    const pick = (i: number): string => endings[(seed * 7 + i) % endings.length]!;
    const passages: Passage[] = Array.from({ length: 4 }, (_, i) => ({
      documentName: `doc${i}.pdf`,
      page: i % 2 ? i : null,
      section: i % 2 ? null : `Part ${seed}`,
      content: `Passage ${i} about refunds, invoices and the café's naïve “quotes”${pick(i)}\n\n  indented line ${seed * i}${pick(i + 1)}`,
      score: 1 / (i + 1),
    }));
    const r = fitToBudget(
      {
        instructions: `You are a helpful bot${pick(5)}`,
        passages,
        history: [
          { role: 'user', content: `earlier question ${seed}${pick(6)}` },
          { role: 'assistant', content: `earlier answer [1]${pick(7)}` },
        ],
        question: `What about refunds${pick(8)}`,
      },
      { counter, contextTokens: 100_000, reserveForAnswer: 1000 },
    );
    const exact = counter.count(llamaTemplate(r.messages));
    assert.ok(r.promptTokens >= exact, `seed ${seed}: estimate ${r.promptTokens} >= exact ${exact}`);
    assert.ok(r.promptTokens - exact <= 0.05 * exact + 25, `seed ${seed}: estimate ${r.promptTokens} close to ${exact}`);
  }
});
