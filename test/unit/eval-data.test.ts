/**
 * The evaluation question files in bench/eval/ are well-formed `copilot eval` input about the three
 * generated documents: every named page exists, every key phrase is on its pages (and nowhere else),
 * and questions.jsonl is exactly the retrieval benchmark's set.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { EVAL_QUESTIONS } from '../../bench/eval-set.js';
import { EVAL_DOCUMENTS, EVAL_FILES, judgedTurn, readEvalFile, readEvalLines, turnsOf, type EvalFile } from '../../bench/eval-files.js';
import { extractText } from '../../src/kb/extract.js';
import { longManual, tablesDoc, twoColumnDoc } from '../support/pdfs.js';

const flat = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();
const TURN_FIELDS = new Set(['question', 'answerable', 'file', 'pages', 'key_phrases']);

/** Per document, the text extractText() returns for each page (index 0 = page 1), flattened. */
const pageTexts = new Map<string, string[]>();

before(async () => {
  const docs: [string, () => Promise<Buffer>][] = [
    ['manual.pdf', longManual],
    ['tables.pdf', tablesDoc],
    ['twocolumn.pdf', twoColumnDoc],
  ];
  for (const [name, make] of docs) {
    const x = await extractText(name, await make());
    pageTexts.set(
      name,
      Array.from({ length: x.pages }, (_, i) =>
        flat(
          x.units
            .filter((u) => u.page === i + 1)
            .map((u) => u.text)
            .join(' '),
        ),
      ),
    );
  }
  assert.deepEqual([...pageTexts.keys()], [...EVAL_DOCUMENTS]);
});

function checkTurn(turn: Record<string, unknown>, where: string, judged: boolean): void {
  for (const key of Object.keys(turn)) assert.ok(TURN_FIELDS.has(key), `${where}: unknown field "${key}"`);
  assert.equal(typeof turn.question, 'string', `${where}: question is a string`);
  assert.ok((turn.question as string).trim().length > 0, `${where}: question is not empty`);
  if (!judged) {
    assert.deepEqual(Object.keys(turn), ['question'], `${where}: an earlier turn holds only its question`);
    return;
  }
  if (turn.answerable !== undefined) assert.equal(typeof turn.answerable, 'boolean', `${where}: answerable is a boolean`);
  if (turn.answerable === false) {
    for (const key of ['file', 'pages', 'key_phrases'])
      assert.equal(turn[key], undefined, `${where}: an unanswerable question names no ${key}`);
    return;
  }
  assert.ok(EVAL_DOCUMENTS.includes(turn.file as never), `${where}: file ${String(turn.file)} is one of ${EVAL_DOCUMENTS.join(', ')}`);
  const count = pageTexts.get(turn.file as string)!.length;
  assert.ok(Array.isArray(turn.pages) && turn.pages.length > 0, `${where}: pages is a non-empty array`);
  for (const page of turn.pages as unknown[]) {
    assert.ok(
      Number.isInteger(page) && (page as number) >= 1 && (page as number) <= count,
      `${where}: page ${String(page)} within 1–${count} of ${String(turn.file)}`,
    );
  }
  assert.equal(new Set(turn.pages).size, turn.pages.length, `${where}: no page twice`);
  if (turn.key_phrases !== undefined) {
    assert.ok(Array.isArray(turn.key_phrases) && turn.key_phrases.length > 0, `${where}: key_phrases is a non-empty array`);
    for (const phrase of turn.key_phrases as unknown[])
      assert.ok(typeof phrase === 'string' && phrase.trim().length > 0, `${where}: a key phrase is a non-empty string`);
  }
}

describe('evaluation question files', () => {
  for (const file of EVAL_FILES) {
    test(`${file}: every line is a question or conversation with the required fields, about pages that exist`, () => {
      const lines = readEvalLines(file);
      assert.ok(lines.length > 0);
      for (const { line, text } of lines) {
        const where = `${file}:${line}`;
        let record: unknown;
        assert.doesNotThrow(() => (record = JSON.parse(text)), `${where}: valid JSON`);
        assert.ok(record !== null && typeof record === 'object' && !Array.isArray(record), `${where}: a JSON object`);
        const r = record as Record<string, unknown>;
        if ('turns' in r) {
          assert.deepEqual(Object.keys(r), ['turns'], `${where}: a conversation holds only its turns`);
          assert.ok(Array.isArray(r.turns) && r.turns.length >= 1, `${where}: turns is a non-empty array`);
          r.turns.forEach((t: unknown, i: number) => {
            assert.ok(t !== null && typeof t === 'object', `${where}: turn ${i + 1} is an object`);
            checkTurn(t as Record<string, unknown>, `${where} turn ${i + 1}`, i === (r.turns as unknown[]).length - 1);
          });
        } else {
          checkTurn(r, where, true);
        }
      }
    });

    test(`${file}: every key phrase is on one of its pages and on no other page of the three documents`, () => {
      for (const [i, line] of readEvalFile(file).entries()) {
        const turn = judgedTurn(line);
        for (const phrase of turn.key_phrases ?? []) {
          const found: string[] = [];
          for (const [doc, pages] of pageTexts) {
            for (const [p, text] of pages.entries()) if (text.includes(flat(phrase))) found.push(`${doc} p.${p + 1}`);
          }
          const expected = turn.pages!.map((p) => `${turn.file} p.${p}`);
          assert.ok(found.length > 0, `${file} line ${i + 1}: "${phrase}" is in the text of ${expected.join(' or ')}`);
          // `copilot eval` counts any passage holding a key phrase as a hit: elsewhere, it would be a false one.
          for (const f of found) assert.ok(expected.includes(f), `${file} line ${i + 1}: "${phrase}" also occurs on ${f}`);
        }
      }
    });
  }

  test('questions.jsonl is the question set of bench/eval-set.ts, converted', () => {
    const converted = EVAL_QUESTIONS.map((q) =>
      q.answerable
        ? { question: q.question, answerable: true, file: q.document, pages: [q.page, ...(q.alsoPages ?? [])] }
        : { question: q.question, answerable: false },
    );
    assert.deepEqual(readEvalFile('questions.jsonl'), converted);
  });

  test('conversations and controls: two turns each, the judged one answerable, no question asked twice', () => {
    const sets: [EvalFile, number][] = [
      ['conversations.jsonl', 24],
      ['controls.jsonl', 6],
    ];
    const seen = new Set<string>();
    for (const [file, least] of sets) {
      const lines = readEvalFile(file);
      assert.ok(lines.length >= least, `${file}: at least ${least} conversations`);
      for (const [i, line] of lines.entries()) {
        assert.equal(turnsOf(line).length, 2, `${file} line ${i + 1}: two turns`);
        assert.notEqual(judgedTurn(line).answerable, false, `${file} line ${i + 1}: the judged turn is answerable`);
        const key = turnsOf(line)
          .map((t) => flat(t.question))
          .join(' / ');
        assert.ok(!seen.has(key), `${file} line ${i + 1}: not a repeat`);
        seen.add(key);
      }
    }
  });
});
