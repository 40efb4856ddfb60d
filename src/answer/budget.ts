/**
 * Fits the prompt into a token budget. Pure: the token counter is passed in.
 *
 * The estimate is the sum of the counts of the prompt's pieces exactly as buildMessages renders
 * them (the instructions and guidance, each passage's label line and text, each history message,
 * the question), plus the separators between them, plus the chat template's framing: a fixed
 * `promptOverhead` (begin-of-text, the date lines Llama 3.3's template adds to the system
 * message, the assistant header) and `messageOverhead` per message (header tokens and
 * end-of-turn). Counting the pieces rather than the joined prompt lets a caching counter reuse
 * the counts of passages and instructions across questions; it never undercounts the joined
 * prompt (pieces split at the same pre-token boundaries, and a join can only merge tokens).
 *
 * Trimming order: the lowest-scoring passages (ties: the later one) down to `minPassages`, then
 * the oldest history messages, then the remaining passages. The instructions and the question
 * are never trimmed; if they alone exceed the budget they are returned anyway with
 * `overBudget: true`.
 */
import type { Passage } from '../kb/retrieve.js';
import type { TokenCounter } from './tokens.js';
import {
  type ChatMessage,
  type HistoryMessage,
  type PromptInput,
  PART_SEPARATOR,
  PASSAGES_HEADING,
  buildMessages,
  passageLabelLine,
  systemHead,
} from './prompt.js';

/** Default prompt + answer allowance: small, to suit Groq's free tier (12,000 tokens a minute). */
export const DEFAULT_CONTEXT_TOKENS = 7_000;
export const DEFAULT_RESERVE_FOR_ANSWER = 1_000;
export const DEFAULT_MESSAGE_OVERHEAD = 5;
export const DEFAULT_PROMPT_OVERHEAD = 30;

export interface BudgetOptions {
  counter: TokenCounter;
  /** Tokens allowed for prompt + answer (at most the model's window). */
  contextTokens: number;
  /** Tokens kept free for the answer (send it as max_tokens). */
  reserveForAnswer: number;
  /** Passages kept while history is trimmed (default 1); 0 trims all passages first. */
  minPassages?: number;
  messageOverhead?: number;
  promptOverhead?: number;
}

export interface BudgetResult {
  messages: ChatMessage[];
  /** Estimated prompt tokens of `messages` (an upper bound; compare with Groq's usage). */
  promptTokens: number;
  /** The passages kept, in their original order; citation [n] refers to passages[n - 1]. */
  passages: Passage[];
  history: HistoryMessage[];
  /** How many passages and history messages were left out. */
  trimmed: { passages: number; history: number };
  /** True when even the instructions and the question alone exceed the budget. */
  overBudget: boolean;
}

export function fitToBudget(input: PromptInput, opts: BudgetOptions): BudgetResult {
  const { counter } = opts;
  const msgOverhead = opts.messageOverhead ?? DEFAULT_MESSAGE_OVERHEAD;
  const minPassages = Math.max(0, opts.minPassages ?? 1);
  const budget = opts.contextTokens - opts.reserveForAnswer;
  const sep = counter.count(PART_SEPARATOR);

  const framing = (opts.promptOverhead ?? DEFAULT_PROMPT_OVERHEAD) + 2 * msgOverhead + counter.count(input.question);
  const fixedWithout = framing + counter.count(systemHead(input.instructions, false));
  const fixedWith = framing + counter.count(systemHead(input.instructions, true)) + sep + counter.count(PASSAGES_HEADING);

  const passageCost = (p: Passage, n: number): number =>
    sep + counter.count(passageLabelLine(p, n)) + 1 + (p.tokens ?? counter.count(p.content.trim()));
  // Costs with the original numbering; renumbering after trimming only shortens the labels.
  const pCost = input.passages.map((p, i) => passageCost(p, i + 1));
  const hCost = input.history.map((m) => msgOverhead + counter.count(m.content));

  const keptP = input.passages.map(() => true);
  let nP = input.passages.length;
  let sumP = pCost.reduce((a, b) => a + b, 0);
  let firstH = 0;
  let sumH = hCost.reduce((a, b) => a + b, 0);
  const total = (): number => (nP > 0 ? fixedWith + sumP : fixedWithout) + sumH;

  const dropOrder = input.passages
    .map((p, i) => ({ score: p.score, i }))
    .sort((a, b) => a.score - b.score || b.i - a.i)
    .map((x) => x.i);
  let next = 0;
  const dropPassage = (): void => {
    const i = dropOrder[next++]!;
    keptP[i] = false;
    nP--;
    sumP -= pCost[i]!;
  };

  while (total() > budget && nP > minPassages) dropPassage();
  while (total() > budget && firstH < hCost.length) sumH -= hCost[firstH++]!;
  while (total() > budget && nP > 0) dropPassage();

  const passages = input.passages.filter((_, i) => keptP[i]);
  const history = input.history.slice(firstH);
  const promptTokens = (passages.length > 0 ? fixedWith + passages.reduce((a, p, i) => a + passageCost(p, i + 1), 0) : fixedWithout) + sumH;

  return {
    messages: buildMessages({ instructions: input.instructions, passages, history, question: input.question }),
    promptTokens,
    passages,
    history,
    trimmed: { passages: input.passages.length - passages.length, history: firstH },
    overBudget: promptTokens > budget,
  };
}
