/**
 * The prompt sent to Groq, and the text conventions around it (citations, sources, the
 * "not in the knowledge base" marker). Pure: no I/O.
 *
 * Layout (one system message, then history, then the question):
 *   system: <operator instructions>  ---  <guidance>  <numbered passages with their sources>
 *   user/assistant: history, oldest first
 *   user: the question
 */
import type { Passage } from '../kb/retrieve.js';
import { SECTION_SEPARATOR } from '../kb/text.js';

export interface HistoryMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface PromptInput {
  instructions: string;
  passages: Passage[];
  history: HistoryMessage[];
  question: string;
}

/** The model starts an answer the passages do not support with this; it is never shown. */
export const NOT_IN_KB_MARKER = '[[NOT_IN_KB]]';

/**
 * "handbook.pdf p.12", "faq.md § Billing", or the document name alone; a web page by its title
 * and the heading the passage is under: "Install Relay § Requirements".
 */
export function sourceLabel(p: Pick<Passage, 'documentName' | 'page' | 'section' | 'title' | 'url'>): string {
  const web = Boolean(p.url);
  const name = web ? p.title?.trim() || p.url! : p.documentName;
  if (p.page !== null && p.page !== undefined) return `${name} p.${p.page}`;
  const section = web ? p.section?.split(SECTION_SEPARATOR).pop()?.trim() : p.section?.trim();
  if (section) return `${name} § ${section}`;
  return name;
}

/** A source as shown after an answer: its label, and a web page's URL in <> (no link preview in Discord). */
export function sourceText(s: { label: string; url?: string | null }): string {
  return s.url ? `${s.label} <${s.url}>` : s.label;
}

const GUIDANCE_WITH_PASSAGES = `\
You answer questions in a Discord community. The numbered passages below come from the community's knowledge base.
- When the passages are relevant, answer from them and cite each passage you use by its number in square brackets, like [1] or [2][3]. Cite only passages you actually used; never invent sources or numbers.
- When the passages do not cover the question, begin your answer with ${NOT_IN_KB_MARKER} and then say plainly that the knowledge base does not cover it. You may still help from general knowledge if the instructions above allow it, but make clear that part is not from the knowledge base.
- Greetings, thanks and general chat need no passages, no citations and no marker.
- Be concise. Discord markdown is fine.`;

const GUIDANCE_NO_PASSAGES = `\
You answer questions in a Discord community that has a knowledge base, but nothing in it matched this question.
- If the question asks for information that would come from the knowledge base, begin your answer with ${NOT_IN_KB_MARKER} and then say plainly that the knowledge base does not cover it. You may still help from general knowledge if the instructions above allow it, but make clear that part is not from the knowledge base.
- Greetings, thanks and general chat need no marker.
- Be concise. Discord markdown is fine.`;

/** Instructions + guidance: the part of the system message that never changes with trimming. */
export function systemHead(instructions: string, hasPassages: boolean): string {
  const guidance = hasPassages ? GUIDANCE_WITH_PASSAGES : GUIDANCE_NO_PASSAGES;
  const ops = instructions.trim();
  return ops ? `${ops}\n\n---\n\n${guidance}` : guidance;
}

export const PASSAGES_HEADING = 'Knowledge base passages:';
/** Joins the head, the heading and each passage in the system message. */
export const PART_SEPARATOR = '\n\n';

/** The label line of passage number `n` (1-based), e.g. "[2] faq.md § Billing". */
export function passageLabelLine(p: Passage, n: number): string {
  return `[${n}] ${sourceLabel(p)}`;
}

export function renderPassage(p: Passage, n: number): string {
  return `${passageLabelLine(p, n)}\n${p.content.trim()}`;
}

export function buildSystemMessage(instructions: string, passages: Passage[]): string {
  const head = systemHead(instructions, passages.length > 0);
  if (passages.length === 0) return head;
  return [head, PASSAGES_HEADING, ...passages.map((p, i) => renderPassage(p, i + 1))].join(PART_SEPARATOR);
}

export function buildMessages(input: PromptInput): ChatMessage[] {
  return [
    { role: 'system', content: buildSystemMessage(input.instructions, input.passages) },
    ...input.history.map((m): ChatMessage => ({ role: m.role, content: m.content })),
    { role: 'user', content: input.question },
  ];
}

/**
 * The citation numbers (1-based, as the model wrote them) found in an answer, ascending and
 * unique. Understands [1], [1][2], [1, 3] and [2-4]; ignores code (`x[1]` is not a citation).
 */
export function citedIndexes(answer: string): number[] {
  const prose = answer.replace(/```[\s\S]*?(?:```|$)/g, ' ').replace(/`[^`\n]*`/g, ' ');
  const found = new Set<number>();
  for (const m of prose.matchAll(/\[(\d{1,3}(?:\s*[,–-]\s*\d{1,3})*)\](?!\()/g)) {
    for (const piece of m[1]!.split(',')) {
      const range = piece.split(/[–-]/).map((s) => Number.parseInt(s.trim(), 10));
      const [from, to = from] = range as [number, number?];
      if (Number.isNaN(to) || to < from || to - from > 50) {
        found.add(from);
        if (!Number.isNaN(to)) found.add(to);
        continue;
      }
      for (let n = from; n <= to; n++) found.add(n);
    }
  }
  return [...found].filter((n) => n >= 1).sort((a, b) => a - b);
}

/**
 * "Sources: handbook.pdf p.12 · faq.md § Billing". `usedIndexes` are 1-based citation numbers
 * (as from `citedIndexes`); when any of them names a given passage only those are listed,
 * otherwise all passages are. Same label (document + page or section) is listed once.
 * Returns '' when there is nothing to list.
 */
export function formatSources(passages: Passage[], usedIndexes?: number[]): string {
  const valid = (usedIndexes ?? []).filter((n) => Number.isInteger(n) && n >= 1 && n <= passages.length);
  const chosen = valid.length > 0 ? [...new Set(valid)].sort((a, b) => a - b).map((n) => passages[n - 1]!) : passages;
  const labels = [...new Set(chosen.map((p) => sourceText({ label: sourceLabel(p), url: p.url })))];
  return labels.length > 0 ? `Sources: ${labels.join(' · ')}` : '';
}

/**
 * Removes the NOT_IN_KB marker from streamed text. `push(delta)` returns what can be shown now;
 * it holds back only a tail that could still be the start of the marker ("[", "[[NOT"…), so
 * ordinary text and citations like "[1]" pass through at once. Whitespace right after a marker
 * (and at the very start of the answer) is dropped. `end()` flushes what was held back.
 */
export class MarkerStripper {
  private held = '';
  private skipSpace = true;
  private found = false;

  /** True once the marker has been seen anywhere in the text. */
  get marked(): boolean {
    return this.found;
  }

  push(delta: string): string {
    let buf = this.held + delta;
    let out = '';
    for (;;) {
      if (this.skipSpace) {
        const trimmed = buf.trimStart();
        if (trimmed.length === 0) {
          this.held = '';
          return out;
        }
        buf = trimmed;
        this.skipSpace = false;
      }
      const at = buf.indexOf(NOT_IN_KB_MARKER);
      if (at === -1) break;
      this.found = true;
      out += buf.slice(0, at);
      buf = buf.slice(at + NOT_IN_KB_MARKER.length);
      this.skipSpace = true;
    }
    const keep = markerPrefixTail(buf);
    this.held = buf.slice(buf.length - keep);
    return out + buf.slice(0, buf.length - keep);
  }

  end(): string {
    const rest = this.held;
    this.held = '';
    return rest;
  }
}

/** Length of the longest suffix of `s` that is a proper prefix of the marker. */
function markerPrefixTail(s: string): number {
  const max = Math.min(s.length, NOT_IN_KB_MARKER.length - 1);
  for (let k = max; k > 0; k--) {
    if (NOT_IN_KB_MARKER.startsWith(s.slice(s.length - k))) return k;
  }
  return 0;
}

/** The whole-text form of MarkerStripper: same result as streaming the text in any pieces. */
export function stripMarker(text: string): { text: string; marked: boolean } {
  const s = new MarkerStripper();
  const out = s.push(text) + s.end();
  return { text: out, marked: s.marked };
}
