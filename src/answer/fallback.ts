/** The retrieval-only answer: the top passages, briefly quoted with their sources. Pure. */
import type { Passage } from '../kb/retrieve.js';
import { sourceLabel, sourceText } from './prompt.js';

export const FALLBACK_UNAVAILABLE = 'Generated answers are unavailable right now; here is what the knowledge base says:';
export const FALLBACK_NOT_CONFIGURED = 'Generated answers are not set up here; here is what the knowledge base says:';
export const FALLBACK_BUSY = 'I have used up my answer budget for the moment; here is what the knowledge base says:';
export const NOTHING_FOUND = "I couldn't find anything about that in the knowledge base.";

function quote(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${cut.slice(0, space > max * 0.6 ? space : max)}…`;
}

export function fallbackAnswer(passages: Passage[], lead: string, options: { max?: number; quoteChars?: number } = {}): string {
  if (passages.length === 0) return `${NOTHING_FOUND}\n_${lead.replace(/; here is.*$/, '.')}_`;
  const lines = [lead];
  for (const p of passages.slice(0, options.max ?? 3)) {
    lines.push(`> ${quote(p.content, options.quoteChars ?? 280)}`, `— ${sourceText({ label: sourceLabel(p), url: p.url })}`);
  }
  return lines.join('\n');
}
