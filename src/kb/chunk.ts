/**
 * Cuts extracted text units into overlapping chunks (~`size` characters, ~15% overlap, never more
 * than `size` nor the embedding model's 256 word pieces) at the strongest boundary near the size,
 * one page or section at a time so every chunk carries its citation. Pure.
 */
import type { TextUnit } from './text.js';

export interface Chunk {
  ordinal: number;
  page: number | null;
  section: string | null;
  content: string;
}

export interface ChunkOptions {
  /** Target (and maximum) chunk length in characters; default 1000. */
  size?: number;
  /** Characters repeated from the end of one chunk at the start of the next; default 150. */
  overlap?: number;
  /** Upper bound on estimateWordPieces(chunk); default 256 (all-MiniLM-L6-v2's input). */
  maxWordPieces?: number;
}

export const DEFAULT_CHUNK_SIZE = 1000;
export const DEFAULT_CHUNK_OVERLAP = 150;
/** all-MiniLM-L6-v2 reads at most 256 word pieces (including [CLS] and [SEP]). */
export const MODEL_MAX_WORD_PIECES = 256;

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/**
 * A rough estimate of the number of WordPiece tokens (BERT uncased vocabulary, as used by
 * all-MiniLM-L6-v2) for `text`, including [CLS] and [SEP]: short words are one piece, long or rare
 * words several, every punctuation mark one, digit runs about one per two digits, CJK one per
 * character. Meant to err high on technical text, so that a chunk under the limit is embedded whole.
 */
export function estimateWordPieces(text: string): number {
  let n = 2;
  for (const m of text.matchAll(/[\p{L}\p{M}]+|\p{N}+|[^\s\p{L}\p{M}\p{N}]/gu)) {
    const tok = m[0];
    const c = tok.codePointAt(0)!;
    const first = tok.charAt(0);
    if (/\p{N}/u.test(first)) n += tok.length <= 2 ? 1 : Math.ceil(tok.length / 2);
    else if (!/[\p{L}\p{M}]/u.test(first)) n += 1;
    else if (CJK.test(String.fromCodePoint(c))) n += [...tok].length;
    else {
      const len = [...tok].length;
      const caseChanges = (tok.match(/\p{Ll}\p{Lu}/gu) ?? []).length; // camelCase splits
      const nonAscii = /[^\x00-\x7f]/.test(tok) ? 0.5 : 0;
      const base = len <= 3 ? 1 : len <= 7 ? 1.1 : len <= 10 ? 1.4 : 1.4 + (len - 10) * 0.25;
      n += base + caseChanges + nonAscii;
    }
  }
  return Math.ceil(n);
}

interface Boundary {
  /** Index where the next piece of text starts (just after the whitespace run). */
  at: number;
  strength: number;
}

const PARAGRAPH = 5;
const LINE = 4;
const SENTENCE = 3;
const CLAUSE = 2;
const WORD = 1;

function boundariesOf(text: string): Boundary[] {
  const out: Boundary[] = [];
  for (const m of text.matchAll(/\s+/g)) {
    const ws = m[0];
    const at = m.index + ws.length;
    if (at >= text.length || m.index === 0) continue;
    let strength = WORD;
    if (/\n[^\S\n]*\n/.test(ws)) strength = PARAGRAPH;
    else if (ws.includes('\n')) strength = LINE;
    else {
      const before = text.slice(Math.max(0, m.index - 4), m.index).replace(/[)"'’”\]»]+$/, '');
      const next = text.charAt(at);
      if (
        /[.!?…]$/.test(before) &&
        !/\p{Ll}/u.test(next) &&
        !/\b(?:e\.g|i\.e|etc|vs|cf)\.$/i.test(text.slice(Math.max(0, m.index - 5), m.index))
      )
        strength = SENTENCE;
      else if (/[;:]$/.test(before) || / [|–—]$/.test(text.slice(m.index - 2, m.index))) strength = CLAUSE;
      else if (before.endsWith(',')) strength = CLAUSE - 0.5;
    }
    out.push({ at, strength });
  }
  return out;
}

/** The last index ≤ limit where text may be cut without splitting a surrogate pair. */
function safeCut(text: string, limit: number): number {
  const code = text.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
}

function chunkText(text: string, size: number, overlap: number, maxPieces: number): string[] {
  const n = text.length;
  const bounds = boundariesOf(text);
  const out: string[] = [];
  const fits = (s: number, e: number) => estimateWordPieces(text.slice(s, e)) <= maxPieces;
  // first boundary index with at > x (binary search)
  const firstAfter = (x: number) => {
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((bounds[mid]?.at ?? Infinity) <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  /** Where a chunk starting at s and at most limit long should end. */
  const pickEnd = (s: number, maxEnd: number): number => {
    let limit = Math.min(n, maxEnd);
    for (;;) {
      if (limit >= n && fits(s, n)) return n;
      // strongest boundary in the last 40% of the window, the furthest among equals
      const windowStart = s + Math.floor((limit - s) * 0.6);
      let best: Boundary | null = null;
      let anyLast: Boundary | null = null;
      for (let k = firstAfter(s), b = bounds[k]; b !== undefined && b.at <= limit; b = bounds[++k]) {
        anyLast = b;
        if (b.at >= windowStart && (!best || b.strength >= best.strength)) best = b;
      }
      let e = (best ?? anyLast)?.at ?? safeCut(text, limit);
      if (e <= s) e = safeCut(text, Math.min(n, s + Math.max(1, limit - s)));
      if (fits(s, e) || e - s <= 16) return e;
      limit = s + Math.max(16, Math.floor((e - s) * 0.9));
    }
  };

  let s = 0;
  while (s < n) {
    let e = pickEnd(s, s + size);
    // a tiny remainder would stand alone as mostly overlap: cut earlier so the last two balance
    if (e < n && n - e < size * 0.15) {
      const balanced = pickEnd(s, s + Math.min(size, Math.ceil((n - s + overlap) * 0.55)));
      if (balanced > s + size * 0.3) e = balanced;
    }
    const content = text.slice(s, e).trim();
    if (content) out.push(content);
    if (e >= n) break;

    // next chunk starts ~overlap characters before e, at the strongest nearby boundary
    let next = e;
    if (overlap > 0) {
      const target = e - overlap;
      let best: Boundary | null = null;
      let bestScore = -Infinity;
      const from = firstAfter(Math.max(s, e - Math.min(overlap * 1.6, size * 0.35)));
      for (let k = from, b = bounds[k]; b !== undefined && b.at < e; b = bounds[++k]) {
        if (b.at <= s || e - b.at < overlap * 0.4) continue;
        const score = (b.strength >= SENTENCE ? 2 : 0) - Math.abs(b.at - target) / overlap;
        if (score > bestScore) {
          bestScore = score;
          best = b;
        }
      }
      if (best) next = best.at;
    }
    s = next;
    while (s < n && /\s/.test(text.charAt(s))) s++;
  }
  return out;
}

function normalise(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

export function chunkUnits(units: TextUnit[], opts: ChunkOptions = {}): Chunk[] {
  const size = Math.max(50, Math.floor(opts.size ?? DEFAULT_CHUNK_SIZE));
  const overlap = Math.max(0, Math.min(Math.floor(opts.overlap ?? DEFAULT_CHUNK_OVERLAP), Math.floor(size / 2)));
  const maxPieces = opts.maxWordPieces ?? MODEL_MAX_WORD_PIECES;

  // consecutive units with the same page and section are chunked together
  const groups: { page: number | null; section: string | null; texts: string[] }[] = [];
  for (const u of units) {
    const last = groups.at(-1);
    if (last && last.page === u.page && last.section === u.section) last.texts.push(u.text);
    else groups.push({ page: u.page, section: u.section, texts: [u.text] });
  }

  const chunks: Chunk[] = [];
  for (const g of groups) {
    const text = normalise(g.texts.join('\n\n'));
    if (!text) continue;
    for (const content of chunkText(text, size, overlap, maxPieces)) {
      chunks.push({ ordinal: chunks.length, page: g.page, section: g.section, content });
    }
  }
  return chunks;
}

/** What the embedding model reads for a chunk: its section heading, then its text. */
export function embeddingInput(section: string | null, content: string): string {
  return section ? `${section}\n${content}` : content;
}
