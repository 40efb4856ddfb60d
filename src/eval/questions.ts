/**
 * Question files for `copilot eval`: JSON Lines, one question (or a `turns` conversation whose last
 * turn is judged) per line. Every bad line is reported with its number before anything runs.
 */
import { UserError } from '../errors.js';

export interface EvalCase {
  /** 1-based line number in the file. */
  line: number;
  /** The judged question (a conversation's last turn). */
  question: string;
  /** A conversation's earlier turns, oldest first (its memory); empty for a single question. */
  earlier: string[];
  answerable: boolean;
  file: string | null;
  pages: number[] | null;
  keyPhrases: string[];
}

type Problem = { line: number; message: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One judged turn's fields; a string when something is wrong. */
function judged(o: Record<string, unknown>): Omit<EvalCase, 'line' | 'earlier'> | string {
  if (typeof o.question !== 'string' || !o.question.trim()) return 'no "question" (a non-empty string)';
  if (o.answerable !== undefined && typeof o.answerable !== 'boolean') return '"answerable" must be true or false';
  const answerable = o.answerable ?? true;
  if (o.file !== undefined && (typeof o.file !== 'string' || !o.file.trim())) return '"file" must be a document name';
  if (o.pages !== undefined && (!Array.isArray(o.pages) || !o.pages.every((p) => Number.isInteger(p) && (p as number) >= 1))) {
    return '"pages" must be a list of page numbers (1 and up)';
  }
  if (o.key_phrases !== undefined && (!Array.isArray(o.key_phrases) || !o.key_phrases.every((p) => typeof p === 'string' && p.trim()))) {
    return '"key_phrases" must be a list of non-empty strings';
  }
  const file = o.file?.trim() ?? null;
  const keyPhrases = (o.key_phrases as string[] | undefined) ?? [];
  if (answerable && file === null && keyPhrases.length === 0)
    return 'an answerable question needs "file" or "key_phrases" to judge a hit by';
  if (o.pages !== undefined && file === null) return '"pages" needs "file"';
  const pages = (o.pages as number[] | undefined) ?? null;
  return { question: o.question.trim(), answerable, file, pages: pages && pages.length > 0 ? pages : null, keyPhrases };
}

/** Parses a question file; throws one UserError listing every bad line. */
export function parseQuestionFile(text: string, name = 'questions file'): EvalCase[] {
  const cases: EvalCase[] = [];
  const problems: Problem[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (!raw.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      problems.push({ line, message: 'not JSON' });
      return;
    }
    if (!isObject(value)) {
      problems.push({ line, message: 'not a JSON object' });
      return;
    }
    if (value.turns !== undefined) {
      const turns = value.turns;
      if (!Array.isArray(turns) || turns.length === 0 || !turns.every(isObject)) {
        problems.push({ line, message: '"turns" must be a non-empty list of objects' });
        return;
      }
      const earlier: string[] = [];
      for (const t of turns.slice(0, -1)) {
        if (typeof t.question !== 'string' || !t.question.trim()) {
          problems.push({ line, message: 'a turn has no "question"' });
          return;
        }
        earlier.push(t.question.trim());
      }
      const last = judged(turns[turns.length - 1] as Record<string, unknown>);
      if (typeof last === 'string') problems.push({ line, message: `last turn: ${last}` });
      else cases.push({ line, earlier, ...last });
      return;
    }
    const one = judged(value);
    if (typeof one === 'string') problems.push({ line, message: one });
    else cases.push({ line, earlier: [], ...one });
  });
  if (problems.length > 0) throw badLines(name, problems);
  if (cases.length === 0) throw new UserError(`${name}: no questions in it`, 'empty_eval_file');
  return cases;
}

/** Lines naming a document the knowledge base does not have. */
export function checkFiles(cases: EvalCase[], documents: string[], name = 'questions file'): void {
  const known = new Set(documents);
  const problems = cases
    .filter((c) => c.file !== null && !known.has(c.file))
    .map((c) => ({ line: c.line, message: `unknown file "${c.file}" (\`copilot kb list\` shows the documents)` }));
  if (problems.length > 0) throw badLines(name, problems);
}

function badLines(name: string, problems: Problem[]): UserError {
  const shown = problems.slice(0, 20).map((p) => `line ${p.line}: ${p.message}`);
  if (problems.length > shown.length) shown.push(`… and ${problems.length - shown.length} more`);
  return new UserError(`${name}: ${problems.length} bad line(s), nothing was run — ${shown.join('; ')}`, 'bad_eval_file');
}
