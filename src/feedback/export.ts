/**
 * `copilot feedback export`: the 👍 answers as a question file for `copilot eval` — each answer's
 * question with the file (and pages) of the sources it cited, so an operator's golden set grows
 * from real use. Sources are read back from the answer's `Sources:` line and matched to the
 * documents the knowledge base still has; an answer none of whose sources is left is skipped.
 */
import type { Db } from '../db/backend.js';
import { listDocuments } from '../db/documents.js';
import type { DocumentSummary } from '../db/documents.js';
import { upvotedAnswers } from '../db/votes.js';
import { splitAnswer } from './service.js';

/** One line of the question file, in `copilot eval`'s format. */
export interface ExportedQuestion {
  question: string;
  file: string;
  pages?: number[];
}

export interface FeedbackExport {
  questions: ExportedQuestion[];
  /** 👍 answers left out: no source, or none the knowledge base still has. */
  skipped: number;
}

/** A source label (as formatSources wrote it) → its document's name and page, or null when no document matches. */
export function sourceDocument(label: string, docs: DocumentSummary[]): { file: string; page: number | null } | null {
  const web = /^(.*) <(\S+)>$/.exec(label);
  if (web) {
    const doc = docs.find((d) => d.web?.url === web[2] || d.name === web[2]);
    return doc ? { file: doc.name, page: null } : null;
  }
  let best: { file: string; page: number | null } | null = null;
  for (const d of docs) {
    if (d.web) continue;
    let page: number | null = null;
    if (label === d.name || label.startsWith(`${d.name} § `)) page = null;
    else {
      const m = label.startsWith(`${d.name} p.`) ? /^ p\.(\d+)$/.exec(label.slice(d.name.length)) : null;
      if (!m) continue;
      page = Number(m[1]);
    }
    if (!best || d.name.length > best.file.length) best = { file: d.name, page };
  }
  return best;
}

/** The question file lines for the 👍 answers (votes since `since`, all when null); one line per question. */
export async function exportFeedback(db: Db, since: Date | null): Promise<FeedbackExport> {
  const [answers, docs] = await Promise.all([upvotedAnswers(db, since), listDocuments(db)]);
  const questions: ExportedQuestion[] = [];
  const seen = new Set<string>();
  let skipped = 0;
  for (const a of answers) {
    const found = splitAnswer(a.answer)
      .sources.map((s) => sourceDocument(s, docs))
      .filter((s) => s !== null);
    const question = a.question.trim();
    if (found.length === 0 || question === '') {
      skipped++;
      continue;
    }
    // One file per line (the format judges one): the first source's, with its pages among the sources.
    const file = found[0]!.file;
    const key = `${question.toLowerCase().replace(/\s+/g, ' ')}\n${file}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const pages = [...new Set(found.filter((s) => s.file === file && s.page !== null).map((s) => s.page!))].sort((x, y) => x - y);
    questions.push(pages.length > 0 ? { question, file, pages } : { question, file });
  }
  return { questions, skipped };
}
