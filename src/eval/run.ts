/**
 * `copilot eval`: each question retrieved the way the bot retrieves it (and, with `answers`,
 * answered through the answer service in a throwaway conversation), judged against its expected
 * file, pages or key phrases, and summed up as hit@k, MRR, per-file hit rates, gap flags and latency.
 */
import { randomUUID } from 'node:crypto';
import type { AnswerService } from '../answer/service.js';
import type { Db } from '../db/backend.js';
import { forgetConversation } from '../db/eval.js';
import type { Embedder } from '../kb/embed.js';
import { searchKnowledgeBase } from '../kb/service.js';
import type { Passage } from '../kb/retrieve.js';
import type { EvalCase } from './questions.js';

export interface EvalDeps {
  db: Db;
  embedder: Embedder | null;
  /** The answer service; required with `answers`. */
  answers?: AnswerService;
}

export interface EvalOptions {
  k: number;
  /** The channel whose settings apply (its instructions; its collections where they exist). */
  channelId?: string | null;
  /** That channel's collections: retrieval only from them (null or absent: all). */
  collections?: string[] | null;
  answers?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** A question retrieved by full text alone because its embedding failed. */
  onWarning?: (message: string) => void;
}

export interface CaseResult {
  line: number;
  question: string;
  answerable: boolean;
  file: string | null;
  expected: string;
  /** Rank (1-based) of the first passage that counts as a hit, null when none does (or unanswerable). */
  rank: number | null;
  hit: boolean;
  got: string[];
  latencyMs: number;
  /** How it was retrieved: hybrid, or full text alone (no vectors, or the embedding failed). */
  mode: string;
  /** With `answers`: the answer service flagged it a gap ("not in the knowledge base"). */
  gap: boolean | null;
}

export interface EvalReport {
  questions: number;
  k: number;
  hit_at_k: number;
  mrr: number;
  answerable: number;
  unanswerable: number;
  hits: number;
  /** With `answers`: unanswerable questions flagged as gaps, answerable ones wrongly flagged. */
  gaps: { flagged: number; false_flags: number } | null;
  latency_ms: { p50: number; p95: number };
  per_file: { file: string; questions: number; hits: number; hit_rate: number }[];
  misses: { question: string; expected: string; got: string[] }[];
  results: CaseResult[];
}

const squash = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();

/** Whether a passage counts as a hit: from the file (on one of the pages, when given) or holding a key phrase. */
export function passageHits(
  c: Pick<EvalCase, 'file' | 'pages' | 'keyPhrases'>,
  p: Pick<Passage, 'documentName' | 'page' | 'content'>,
): boolean {
  if (c.file !== null && p.documentName === c.file && (c.pages === null || (p.page !== null && c.pages.includes(p.page)))) return true;
  if (c.keyPhrases.length > 0) {
    const text = squash(p.content);
    return c.keyPhrases.some((k) => text.includes(squash(k)));
  }
  return false;
}

/** Rank (1-based) of the first hit among the passages, or null. */
export function hitRank(
  c: Pick<EvalCase, 'file' | 'pages' | 'keyPhrases'>,
  passages: Pick<Passage, 'documentName' | 'page' | 'content'>[],
): number | null {
  const i = passages.findIndex((p) => passageHits(c, p));
  return i < 0 ? null : i + 1;
}

export function expectedLabel(c: EvalCase): string {
  if (!c.answerable) return '(not answerable)';
  const parts: string[] = [];
  if (c.file !== null) parts.push(c.pages ? `${c.file} p.${c.pages.join(',')}` : c.file);
  if (c.keyPhrases.length > 0) parts.push(`"${c.keyPhrases[0]}"${c.keyPhrases.length > 1 ? ` +${c.keyPhrases.length - 1}` : ''}`);
  return parts.join(' or ');
}

function sourceOf(p: Passage): string {
  return p.page !== null ? `${p.documentName} p.${p.page}` : p.section ? `${p.documentName} § ${p.section}` : p.documentName;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Retrieval for one case, as the bot retrieves for a message: the judged question with the earlier
 * turns as its memory (conversational retrieval), embedded when a provider is configured, hybrid
 * over the knowledge base or the channel's collections. Nothing is stored: no conversation is written.
 */
async function retrieveFor(
  deps: EvalDeps,
  c: EvalCase,
  k: number,
  collections: string[] | null,
): Promise<{ passages: Passage[]; mode: string; warning?: string }> {
  // A measurement waits longer for the question's embedding than a chat does: a slow provider must
  // not turn into a full-text figure without saying so (a failure still does, and is reported).
  const r = await searchKnowledgeBase(deps.db, deps.embedder, c.question, {
    k,
    collections,
    previousTurns: c.earlier,
    embedBudgetMs: EVAL_EMBED_BUDGET_MS,
  });
  return { passages: r.passages, mode: r.mode, warning: r.warning };
}

/** How long eval waits for one question's embedding, retries included. */
export const EVAL_EMBED_BUDGET_MS = 15_000;

/** Asks a conversation's turns through the answer service in a conversation of its own, then forgets it. */
async function answerFor(deps: EvalDeps, c: EvalCase, channelId: string | null): Promise<boolean> {
  const answers = deps.answers!;
  const conversationId = `eval:${randomUUID()}`;
  // One asker per case: the per-user rate limit is for people, not for an evaluation run.
  const authorId = conversationId;
  try {
    for (const question of c.earlier) await answers.answer({ conversationId, channelId, authorId, question });
    const result = await answers.answer({ conversationId, channelId, authorId, question: c.question });
    return result.gap;
  } finally {
    await forgetConversation(deps.db, conversationId);
  }
}

export async function runEval(deps: EvalDeps, cases: EvalCase[], options: EvalOptions): Promise<EvalReport> {
  const { k } = options;
  if (options.answers && !deps.answers) throw new Error('internal: runEval with answers needs the answer service');
  const results: CaseResult[] = [];
  options.onProgress?.(0, cases.length);
  for (const c of cases) {
    const started = performance.now();
    const { passages, mode, warning } = await retrieveFor(deps, c, k, options.collections ?? null);
    if (warning) options.onWarning?.(`line ${c.line}: ${warning}`);
    const latencyMs = performance.now() - started;
    const rank = c.answerable ? hitRank(c, passages) : null;
    const gap = options.answers ? await answerFor(deps, c, options.channelId ?? null) : null;
    results.push({
      line: c.line,
      question: c.question,
      answerable: c.answerable,
      file: c.file,
      expected: expectedLabel(c),
      rank,
      hit: rank !== null,
      got: passages.map(sourceOf),
      latencyMs,
      mode,
      gap,
    });
    options.onProgress?.(results.length, cases.length);
  }
  return summarise(results, k, Boolean(options.answers));
}

export function summarise(results: CaseResult[], k: number, answers: boolean): EvalReport {
  const answerable = results.filter((r) => r.answerable);
  const hits = answerable.filter((r) => r.hit).length;
  const byFile = new Map<string, { questions: number; hits: number }>();
  for (const r of answerable) {
    const file = r.file ?? '(key phrases)';
    const row = byFile.get(file) ?? { questions: 0, hits: 0 };
    row.questions++;
    if (r.hit) row.hits++;
    byFile.set(file, row);
  }
  const latencies = results.map((r) => r.latencyMs);
  const round = (n: number) => Math.round(n * 10000) / 10000;
  return {
    questions: results.length,
    k,
    hit_at_k: answerable.length ? round(hits / answerable.length) : 0,
    mrr: answerable.length ? round(answerable.reduce((s, r) => s + (r.rank ? 1 / r.rank : 0), 0) / answerable.length) : 0,
    answerable: answerable.length,
    unanswerable: results.length - answerable.length,
    hits,
    gaps: answers
      ? {
          flagged: results.filter((r) => !r.answerable && r.gap).length,
          false_flags: results.filter((r) => r.answerable && r.gap).length,
        }
      : null,
    latency_ms: { p50: Math.round(percentile(latencies, 50) * 10) / 10, p95: Math.round(percentile(latencies, 95) * 10) / 10 },
    per_file: [...byFile].map(([file, v]) => ({ file, questions: v.questions, hits: v.hits, hit_rate: round(v.hits / v.questions) })),
    misses: answerable.filter((r) => !r.hit).map((r) => ({ question: r.question, expected: r.expected, got: r.got })),
    results,
  };
}
