/**
 * The retrieval-only answer: the top passages, each quoted at the sentences that best match the
 * question, with their sources; or, when nothing matches, a plain sentence saying so. Pure.
 */
import type { Passage } from '../kb/retrieve.js';
import { sourceLabel, sourceText } from './prompt.js';

export const FALLBACK_UNAVAILABLE = 'Generated answers are unavailable right now; here is what the knowledge base says:';
export const FALLBACK_NOT_CONFIGURED = 'Generated answers are not set up here; here is what the knowledge base says:';
export const FALLBACK_BUSY = 'I have used up my answer budget for the moment; here is what the knowledge base says:';
export const NOTHING_FOUND = 'Nothing in the knowledge base matches that.';

function quote(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${cut.slice(0, space > max * 0.6 ? space : max)}…`;
}

/** Common words that say nothing about which sentence answers. */
const STOP = new Set(
  'a an and are can could did do does for from has have how i in is it its me my of on or our should that the their then there this to was we what when where which who why will with would you your'.split(
    ' ',
  ),
);

/** A word's comparable form: lower case, the first five letters (export, exports, exported). */
const termOf = (word: string) => word.toLowerCase().slice(0, 5);

function termsOf(text: string): Set<string> {
  const words = text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}_-]*/gu) ?? [];
  return new Set(words.filter((w) => w.length > 1 && !STOP.has(w)).map(termOf));
}

/** The text's sentences (flattened whitespace), split after . ! ? before a capital, digit or quote. */
export function sentencesOf(text: string): string[] {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat ? flat.split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}"'([])/u) : [];
}

/**
 * The sentence(s) of `text` that best match `question`, within `max` characters: the best
 * sentence (most question terms, weighted by how few sentences share each), then its neighbours while
 * they fit, with an ellipsis where text was left out. Without a match: the start of the text.
 */
export function focusedQuote(text: string, question: string, max: number): string {
  const sentences = sentencesOf(text);
  const wanted = termsOf(question);
  const terms = sentences.map(termsOf);
  // A question term counts the more, the fewer of the passage's sentences share it.
  const spread = new Map<string, number>();
  for (const set of terms) for (const term of set) if (wanted.has(term)) spread.set(term, (spread.get(term) ?? 0) + 1);
  let best = -1;
  let bestScore = 0;
  terms.forEach((set, i) => {
    let score = 0;
    for (const term of set) if (wanted.has(term)) score += 1 / spread.get(term)!;
    if (score > bestScore) [best, bestScore] = [i, score];
  });
  if (best < 0) return quote(text, max);
  let from = best;
  let to = best;
  let length = sentences[best]!.length;
  for (;;) {
    const next = sentences[to + 1];
    const previous = sentences[from - 1];
    if (next !== undefined && length + 1 + next.length <= max) [to, length] = [to + 1, length + 1 + next.length];
    else if (previous !== undefined && length + 1 + previous.length <= max) [from, length] = [from - 1, length + 1 + previous.length];
    else break;
  }
  const body = quote(sentences.slice(from, to + 1).join(' '), max);
  const cutBefore = from > 0 ? '… ' : '';
  const cutAfter = to < sentences.length - 1 && !body.endsWith('…') ? ' …' : '';
  return `${cutBefore}${body}${cutAfter}`;
}

export function fallbackAnswer(
  passages: Passage[],
  lead: string,
  options: { max?: number; quoteChars?: number; question?: string } = {},
): string {
  if (passages.length === 0) return `${NOTHING_FOUND}\n_${lead.replace(/; here is.*$/, '.')}_`;
  const lines = [lead];
  const max = options.quoteChars ?? 280;
  for (const p of passages.slice(0, options.max ?? 3)) {
    const text = options.question ? focusedQuote(p.content, options.question, max) : quote(p.content, max);
    lines.push(`> ${text}`, `— ${sourceText({ label: sourceLabel(p), url: p.url })}`);
  }
  return lines.join('\n');
}
