import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { chunkUnits, estimateWordPieces, type Chunk } from '../../src/kb/chunk.js';
import { extractText, type Extracted } from '../../src/kb/extract.js';
import type { TextUnit } from '../../src/kb/text.js';
import { longManual, manualFacts, tablesDoc, twoColumnDoc } from '../support/pdfs.js';

const flat = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Deterministic prose: sentences of varied length, grouped into paragraphs. */
function prose(paragraphs: number, sentencesPer: number, seed = 1): string {
  const words =
    'export settings profile agent schedule destination folder proxy licence backup restore column filter row table file format network server account'.split(
      ' ',
    );
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8) % 1000;
  const out: string[] = [];
  for (let p = 0; p < paragraphs; p++) {
    const sentences: string[] = [];
    for (let k = 0; k < sentencesPer; k++) {
      const n = 6 + (next() % 18);
      const ws = Array.from({ length: n }, () => words[next() % words.length]!);
      ws[0] = ws[0]![0]!.toUpperCase() + ws[0]!.slice(1);
      sentences.push(`${ws.join(' ')} ${p}x${k}.`);
    }
    out.push(sentences.join(' '));
  }
  return out.join('\n\n');
}

function assertWellFormed(chunks: Chunk[], size: number): void {
  chunks.forEach((c, i) => {
    assert.equal(c.ordinal, i, 'ordinals 0..n-1');
    assert.ok(c.content.trim().length > 0, 'no empty chunks');
    assert.equal(c.content, c.content.trim());
    assert.ok(c.content.length <= size, `chunk ${i} is ${c.content.length} chars > ${size}`);
  });
}

/** Length of the longest suffix of a that is a prefix of b. */
function overlapLength(a: string, b: string): number {
  for (let n = Math.min(a.length, b.length); n > 0; n--) if (a.endsWith(b.slice(0, n))) return n;
  return 0;
}

describe('chunkUnits on prose', () => {
  const text = prose(12, 8);
  const units: TextUnit[] = [{ page: 3, section: null, text }];
  const chunks = chunkUnits(units);

  test('sizes, ordinals, page kept', () => {
    assertWellFormed(chunks, 1000);
    assert.ok(chunks.length >= Math.ceil(text.length / 1000));
    assert.ok(chunks.every((c) => c.page === 3 && c.section === null));
    const avg = chunks.reduce((n, c) => n + c.content.length, 0) / chunks.length;
    assert.ok(avg >= 600, `chunks are not needlessly small (avg ${avg})`);
  });

  test('~15% overlap between neighbours', () => {
    const overlaps = chunks.slice(1).map((c, i) => overlapLength(chunks[i]!.content, c.content));
    for (const o of overlaps) assert.ok(o >= 40 && o <= 350, `overlap ${o}`);
    const avg = overlaps.reduce((a, b) => a + b, 0) / overlaps.length;
    assert.ok(avg >= 90 && avg <= 240, `average overlap ${avg}`);
  });

  test('cuts on sentence or paragraph boundaries, never inside a word', () => {
    for (const c of chunks) {
      assert.match(c.content, /^[A-Z]/, 'starts at a sentence');
      assert.match(c.content, /\.$/, 'ends at a sentence');
      const at = text.indexOf(c.content);
      assert.ok(at >= 0, 'chunk is a verbatim slice of the page');
      assert.ok(at === 0 || /\s/.test(text[at - 1]!));
      const end = at + c.content.length;
      assert.ok(end === text.length || /\s/.test(text[end]!));
    }
  });

  test('everything is covered', () => {
    for (const sentence of text.match(/[^.]+\./g)!) {
      assert.ok(
        chunks.some((c) => c.content.includes(sentence.trim())),
        sentence,
      );
    }
  });

  test('prefers paragraph boundaries when paragraphs fit', () => {
    const paras = prose(10, 2, 7); // short paragraphs (~200–300 chars)
    const cs = chunkUnits([{ page: 1, section: null, text: paras }], { overlap: 0 });
    assertWellFormed(cs, 1000);
    for (const c of cs.slice(0, -1)) {
      const end = paras.indexOf(c.content) + c.content.length;
      assert.equal(paras.slice(end, end + 2), '\n\n', `ends at a paragraph: …${c.content.slice(-30)}`);
    }
  });

  test('deterministic', () => {
    assert.deepEqual(chunkUnits(units), chunks);
  });
});

describe('chunkUnits boundaries of last resort', () => {
  test('a long sentence is cut between words', () => {
    const words = Array.from({ length: 600 }, (_, i) => `word${i}`).join(' ');
    const cs = chunkUnits([{ page: 1, section: null, text: words }]);
    assertWellFormed(cs, 1000);
    for (const c of cs) assert.match(c.content, /^word\d+( word\d+)*$/, 'whole words only');
    const seen = new Set(cs.flatMap((c) => c.content.split(' ')));
    assert.equal(seen.size, 600);
  });

  test('a giant "word" is split hard, never above 1.2 × size', () => {
    const giant = 'x'.repeat(5000);
    const cs = chunkUnits([{ page: 1, section: null, text: `start ${giant} end` }], { size: 500, overlap: 75 });
    assertWellFormed(cs, 500);
    assert.ok(cs.every((c) => c.content.length <= 600));
    assert.ok(
      cs
        .map((c) => c.content)
        .join('')
        .replace(/[^x]/g, '').length >= 5000,
    );
  });

  test('dense technical text stays within the model input by estimate', () => {
    const dense = Array.from({ length: 400 }, (_, i) => `E-${1000 + i}/x;`).join(' ');
    const cs = chunkUnits([{ page: 1, section: null, text: dense }]);
    assertWellFormed(cs, 1000);
    for (const c of cs) assert.ok(estimateWordPieces(c.content) <= 256, `${estimateWordPieces(c.content)} pieces`);
    assert.ok(
      cs.some((c) => c.content.length < 900),
      'the word-piece bound shortened chunks',
    );
  });

  test('custom size and overlap', () => {
    const cs = chunkUnits([{ page: null, section: 'A', text: prose(6, 6, 3) }], { size: 400, overlap: 60 });
    assertWellFormed(cs, 400);
    assert.ok(cs.length >= 8);
    const overlaps = cs.slice(1).map((c, i) => overlapLength(cs[i]!.content, c.content));
    assert.ok(overlaps.filter((o) => o > 0).length >= overlaps.length * 0.6);
    assert.ok(overlaps.every((o) => o <= 140));
  });
});

describe('chunkUnits keeps pages and sections apart', () => {
  test('a chunk never spans two pages; tiny pages stand alone', () => {
    const units: TextUnit[] = [
      { page: 1, section: null, text: prose(3, 6, 11) },
      { page: 2, section: null, text: 'Only a footer.' },
      { page: 3, section: null, text: prose(4, 6, 12) },
    ];
    const cs = chunkUnits(units);
    assertWellFormed(cs, 1000);
    assert.deepEqual([...new Set(cs.map((c) => c.page))], [1, 2, 3]);
    assert.deepEqual(
      cs.filter((c) => c.page === 2).map((c) => c.content),
      ['Only a footer.'],
    );
    for (const c of cs) assert.ok(units.find((u) => u.page === c.page)!.text.includes(c.content));
    // pages in order, ordinals ascending with them
    const pages = cs.map((c) => c.page!);
    assert.deepEqual(
      pages,
      [...pages].sort((a, b) => a - b),
    );
  });

  test('sections: consecutive units of one section are chunked together, others apart', () => {
    const units: TextUnit[] = [
      { page: null, section: 'Setup', text: 'Install it.' },
      { page: null, section: 'Setup', text: 'Then run it.' },
      { page: null, section: 'Setup › Export', text: 'Choose a format.' },
    ];
    const cs = chunkUnits(units);
    assert.deepEqual(
      cs.map((c) => [c.section, c.content]),
      [
        ['Setup', 'Install it.\n\nThen run it.'],
        ['Setup › Export', 'Choose a format.'],
      ],
    );
  });

  test('no chunks from empty or whitespace units', () => {
    assert.deepEqual(chunkUnits([]), []);
    assert.deepEqual(chunkUnits([{ page: 1, section: null, text: '  \n\n ' }]), []);
  });

  test('whitespace is normalised but line and paragraph breaks survive', () => {
    const cs = chunkUnits([{ page: 1, section: null, text: 'a  b\t c\r\nd\n\n\n\ne' }]);
    assert.equal(cs[0]!.content, 'a b c\nd\n\ne');
  });
});

describe('chunking the generated documents', () => {
  let manual: Extracted;
  let chunks: Chunk[];
  before(async () => {
    manual = await extractText('manual.pdf', await longManual(50));
    chunks = chunkUnits(manual.units);
  });

  test('every chunk cites a page, and every fact lands in a chunk of its page', () => {
    assertWellFormed(chunks, 1000);
    assert.ok(chunks.every((c) => c.page !== null && c.page >= 1 && c.page <= 50));
    for (const f of manualFacts) {
      const pages = new Set(chunks.filter((c) => flat(c.content).includes(f.fact)).map((c) => c.page));
      assert.deepEqual([...pages], [f.page], f.fact);
    }
  });

  test('chunks fit all-MiniLM-L6-v2 (256 word pieces) by estimate', () => {
    for (const c of chunks) assert.ok(estimateWordPieces(c.content) <= 256);
  });

  test('table rows are never cut in the middle', async () => {
    const x = await extractText('plans.pdf', await tablesDoc());
    const cs = chunkUnits(x.units, { size: 300, overlap: 45 });
    assertWellFormed(cs, 300);
    for (const c of cs) {
      for (const line of c.content.split('\n')) {
        if (!line.includes(' | ')) continue;
        const page = x.units.find((u) => u.page === c.page)!.text;
        assert.ok(page.split('\n').includes(line), `whole row: ${line}`);
      }
    }
  });

  test('two-column pages chunk in reading order', async () => {
    const x = await extractText('news.pdf', await twoColumnDoc());
    const cs = chunkUnits(x.units);
    assertWellFormed(cs, 1000);
    assert.ok(cs.some((c) => c.content.includes('the same export now finishes in eleven minutes.')));
  });
});

describe('estimateWordPieces', () => {
  test('short words are one piece each, plus [CLS] and [SEP]', () => {
    assert.equal(estimateWordPieces(''), 2);
    assert.equal(estimateWordPieces('the cat sat'), 5);
  });
  test('punctuation, numbers, long words and CJK cost more', () => {
    assert.ok(estimateWordPieces('E-2107, proxy: 407!') >= 8);
    assert.ok(estimateWordPieces('internationalisation') > estimateWordPieces('nation'));
    assert.ok(estimateWordPieces('2024031712') >= 5);
    assert.equal(estimateWordPieces('東京都'), 5);
    assert.ok(estimateWordPieces('camelCaseSettingName') >= 4);
  });
  test('about 1000 characters of English prose come near but under 256', () => {
    const text = prose(1, 12, 5).slice(0, 1000);
    const n = estimateWordPieces(text);
    assert.ok(n > 150 && n <= 256, String(n));
  });
});
