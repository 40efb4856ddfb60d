import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitMessage } from '../../src/bot/split.js';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
  return { next, int, pick };
}

const WORDS = [
  'the',
  'refund',
  'policy',
  'is',
  'clear:',
  'naïve',
  'café',
  '🙂',
  'x',
  'knowledge',
  'base',
  '(see',
  'page',
  '12)',
  'Discord',
  '"quoted"',
  '—',
  'a',
  'verylongishword',
];
const LANGS = ['', 'ts', 'python', 'json', 'sh'];

function generate(seed: number, limit: number): string {
  const r = rng(seed);
  const blocks: string[] = [];
  const nBlocks = r.int(1, 12);
  for (let b = 0; b < nBlocks; b++) {
    const kind = r.int(0, 9);
    if (kind <= 4) {
      const sentences: string[] = [];
      for (let s = r.int(1, 8); s > 0; s--) {
        const ws: string[] = [];
        for (let w = r.int(1, 25); w > 0; w--) ws.push(r.pick(WORDS));
        sentences.push(ws.join(' ') + r.pick(['.', '!', '?', '.', '']));
      }
      blocks.push(sentences.join(r.pick([' ', ' ', '  ', '\n'])));
    } else if (kind <= 6) {
      const lang = r.pick(LANGS);
      const fence = r.next() < 0.85 ? '```' : '~~~';
      const lines: string[] = [];
      for (let l = r.int(1, 40); l > 0; l--) {
        const indent = ' '.repeat(r.int(0, 3) * 2);
        lines.push(r.next() < 0.1 ? '' : `${indent}const v${r.int(0, 999)} = call(${r.pick(WORDS)}, ${r.int(0, 99)});`);
      }
      blocks.push(`${fence}${lang}\n${lines.join('\n')}\n${fence}`);
    } else if (kind === 7) {
      // A word longer than a part (a URL, a hash).
      const n = r.int(Math.floor(limit / 2), limit * 2);
      blocks.push(`see https://example.com/${'abcdefghij'.repeat(Math.ceil(n / 10)).slice(0, n)} now`);
    } else if (kind === 8) {
      const items: string[] = [];
      for (let i = r.int(1, 10); i > 0; i--) items.push(`- item ${r.pick(WORDS)} ${r.pick(WORDS)} ${r.pick(WORDS)}`);
      blocks.push(items.join('\n'));
    } else {
      blocks.push('🙂'.repeat(r.int(1, limit)));
    }
  }
  let text = blocks.join(r.pick(['\n\n', '\n', '\n\n\n']));
  if (r.next() < 0.1) text += `\n\`\`\`${r.pick(LANGS)}\nunclosed();`; // streaming: the block is not closed yet
  return text;
}

type Fence = { marker: string; info: string } | null;

/** The fence open after `text`, by the same rules as Discord's markdown (``` or ~~~, 3+). */
function fenceAfter(text: string): Fence {
  let open: Fence = null;
  for (const line of text.split('\n')) {
    const m = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (!m) continue;
    if (!open && !(m[1]![0] === '`' && m[2]!.includes('`'))) open = { marker: m[1]!, info: m[2]!.trim() };
    else if (open && m[1]![0] === open.marker[0] && m[1]!.length >= open.marker.length && m[2]!.trim() === '') open = null;
  }
  return open;
}

const isSpace = (c: string | undefined): boolean => c !== undefined && ' \t\r\n'.includes(c);

/** Every part fits, is the original text (plus fence lines), covers it all, breaks no word. */
function check(text: string, parts: string[], limit: number, stats = { reopened: 0, wordCuts: 0 }): void {
  const where = `limit ${limit}, text ${JSON.stringify(text.slice(0, 80))}…`;
  let cursor = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    assert.ok(part.length <= limit, `part ${i} has ${part.length} > ${limit} chars; ${where}`);
    assert.ok(part.trim().length > 0, `part ${i} is blank; ${where}`);

    // A block open where this part starts must be reopened, with its language tag.
    const openHere = fenceAfter(text.slice(0, cursor));
    let body = part;
    if (i > 0 && openHere) {
      const reopen = `${openHere.marker}${openHere.info}\n`;
      assert.ok(part.startsWith(reopen), `part ${i} reopens the block as ${JSON.stringify(reopen)}; ${where}`);
      body = body.slice(reopen.length);
      stats.reopened++;
    }
    // The part continues the original after the whitespace dropped at the break (a line's
    // indentation may be kept, so it may start anywhere in that whitespace).
    const gapEnd = (() => {
      let g = cursor;
      while (isSpace(text[g])) g++;
      return g;
    })();
    const at = (b: string): number => {
      for (let p = cursor; p <= gapEnd; p++) if (text.startsWith(b, p)) return p;
      return -1;
    };
    let start = at(body);
    let closed = false;
    if (start === -1) {
      const m = /\n(`{3,}|~{3,})$/.exec(body);
      assert.ok(m, `part ${i} is not the original text; ${where}`);
      body = body.slice(0, m.index);
      start = at(body);
      closed = true;
    }
    assert.notEqual(start, -1, `part ${i} continues the original text; ${where}`);
    const end = start + body.length;
    if (closed) assert.ok(fenceAfter(text.slice(0, end)), `part ${i} closes only an open block; ${where}`);
    if (i < parts.length - 1 || !fenceAfter(text)) {
      assert.equal(fenceAfter(part), null, `part ${i} leaves no block open; ${where}`);
    }

    cursor = end;
    if (i < parts.length - 1 && !isSpace(text[end])) {
      // Cut inside a word: only allowed when the word alone is longer than a part.
      let a = end;
      let b = end;
      while (a > 0 && !isSpace(text[a - 1])) a--;
      while (b < text.length && !isSpace(text[b])) b++;
      stats.wordCuts++;
      assert.ok(b - a > limit - 40, `part ${i} breaks the ${b - a}-char word ${JSON.stringify(text.slice(a, b))}; ${where}`);
      assert.ok(!(text.charCodeAt(end) >= 0xdc00 && text.charCodeAt(end) <= 0xdfff), 'no surrogate pair is cut');
    }
  }
  assert.equal(text.slice(cursor).trim(), '', `the parts cover the whole text; ${where}`);
}

test('splitMessage: invariants over generated texts (prose, lists, code blocks, long words, emoji)', () => {
  let multi = 0;
  const stats = { reopened: 0, wordCuts: 0 };
  for (let seed = 1; seed <= 600; seed++) {
    const limit = [2000, 300, 120, 64][seed % 4]!;
    const text = generate(seed, limit);
    const parts = splitMessage(text, limit);
    if (parts.length > 1) multi++;
    check(text, parts, limit, stats);
  }
  assert.ok(multi > 400, `most generated texts needed splitting (${multi})`);
  assert.ok(stats.reopened > 100 && stats.wordCuts > 100, `code blocks and long words were split: ${JSON.stringify(stats)}`);
});

test('splitMessage: short text is returned as is; blank text gives no parts', () => {
  assert.deepEqual(splitMessage('hello'), ['hello']);
  assert.deepEqual(splitMessage('x'.repeat(2000)), ['x'.repeat(2000)]);
  assert.deepEqual(splitMessage(' \n '), []);
});

test('splitMessage: prefers a paragraph break, then a line, then a sentence, then a word', () => {
  const para = 'a'.repeat(30) + ' ' + 'b'.repeat(30) + '\n\n' + 'c'.repeat(30) + '. ' + 'd'.repeat(30);
  assert.deepEqual(splitMessage(para, 100), ['a'.repeat(30) + ' ' + 'b'.repeat(30), 'c'.repeat(30) + '. ' + 'd'.repeat(30)]);
  const line = 'one two three four five six seven\neight. nine ten eleven twelve thirteen';
  assert.deepEqual(splitMessage(line, 60), ['one two three four five six seven', 'eight. nine ten eleven twelve thirteen']);
  const sentence = 'The first sentence is right here. Second one follows it closely and runs on';
  assert.deepEqual(splitMessage(sentence, 50), ['The first sentence is right here.', 'Second one follows it closely and runs on']);
  const early = 'Short one. Then a long sentence that runs on and on and on';
  assert.deepEqual(
    splitMessage(early, 50),
    ['Short one. Then a long sentence that runs on and', 'on and on'],
    'a break under half full loses to a fuller one',
  );
  const word = 'alpha beta gamma delta epsilon zeta eta theta iota kappa';
  assert.deepEqual(splitMessage(word, 30), ['alpha beta gamma delta epsilon', 'zeta eta theta iota kappa']);
});

test('splitMessage: a code block split across parts is closed and reopened with its language', () => {
  const code = Array.from({ length: 40 }, (_, i) => `    print(${i})  # line ${i}`).join('\n');
  const text = `Here is the script:\n\n\`\`\`python\n${code}\n\`\`\`\n\nThat is all.`;
  const parts = splitMessage(text, 400);
  assert.ok(parts.length >= 3);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    assert.ok(p.length <= 400);
    if (i > 0) assert.ok(p.startsWith('```python\n    print('), `part ${i} reopens with the tag and keeps indentation`);
    if (i < parts.length - 1) assert.ok(p.endsWith('\n```'), `part ${i} closes the fence`);
  }
  assert.ok(parts[parts.length - 1]!.endsWith('```\n\nThat is all.'));
  // No part is cut mid-line inside the code.
  for (const p of parts) for (const l of p.split('\n')) assert.ok(!l.startsWith('    ') || /# line \d+$/.test(l), l);
});

test('splitMessage: a word longer than the limit is cut, and only that word', () => {
  const long = 'z'.repeat(250);
  const parts = splitMessage(`short words ${long} tail`, 100);
  assert.deepEqual(parts, ['short words', 'z'.repeat(100), 'z'.repeat(100), 'z'.repeat(50) + ' tail']);
  const emoji = '🙂'.repeat(80); // 160 UTF-16 units
  const e = splitMessage(emoji, 51);
  assert.ok(e.every((p) => p.length <= 51 && !/^[\udc00-\udfff]|[\ud800-\udbff]$/.test(p)));
  assert.equal(e.join(''), emoji);
});
