/**
 * The evaluation question files in bench/eval/ (the `copilot eval` JSON Lines format, see
 * bench/eval/README.md), read by the benchmarks and checked by test/unit/eval-data.test.ts.
 */
import { readFileSync } from 'node:fs';

/** The documents the questions are about, as ingested: test/support/pdfs.ts generates them. */
export const EVAL_DOCUMENTS = ['manual.pdf', 'tables.pdf', 'twocolumn.pdf'] as const;
export const EVAL_FILES = ['questions.jsonl', 'conversations.jsonl', 'controls.jsonl'] as const;
export type EvalFile = (typeof EVAL_FILES)[number];

export interface EvalTurn {
  question: string;
  /** Defaults to true. */
  answerable?: boolean;
  file?: string;
  pages?: number[];
  key_phrases?: string[];
}

/** One line: a single question, or a conversation whose last turn is judged. */
export type EvalLine = EvalTurn | { turns: EvalTurn[] };

/** From dist/bench/ (compiled) back to the repository's bench/eval/. */
const EVAL_DIR = new URL('../../bench/eval/', import.meta.url);

/** The non-empty lines of an evaluation file, numbered from 1. */
export function readEvalLines(file: EvalFile): { line: number; text: string }[] {
  return readFileSync(new URL(file, EVAL_DIR), 'utf8')
    .split('\n')
    .map((text, i) => ({ line: i + 1, text }))
    .filter((l) => l.text.trim() !== '');
}

export function readEvalFile(file: EvalFile): EvalLine[] {
  return readEvalLines(file).map((l) => JSON.parse(l.text) as EvalLine);
}

/** The turns of a line: a single question is a conversation of one turn. */
export const turnsOf = (line: EvalLine): EvalTurn[] => ('turns' in line ? line.turns : [line]);

/** The turn a line is judged on: its last. */
export const judgedTurn = (line: EvalLine): EvalTurn => turnsOf(line).at(-1)!;
