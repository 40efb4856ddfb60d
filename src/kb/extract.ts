/**
 * Text extraction for the knowledge base: PDF (pdf.js, per page), Markdown (per heading section)
 * and plain text (blank-line separated blocks). Pure: bytes in, text units out, no I/O.
 *
 * PDF pages are read by pdf.js in reading threads (pdf-readers.ts), which is loaded only when a
 * PDF is read.
 */
import { UserError } from '../errors.js';

export type DocumentType = 'pdf' | 'markdown' | 'text';

export interface TextUnit {
  page: number | null;
  section: string | null;
  text: string;
}

export interface Extracted {
  type: DocumentType;
  /** PDF page count; for Markdown and text the number of units. */
  pages: number;
  units: TextUnit[];
}

export interface ExtractOptions {
  /** Called after each PDF page has been read. */
  onPage?: (done: number, total: number) => void;
  /**
   * Called with each PDF page's provisional text as soon as the page is read (hyphenation
   * decided from that page alone), so that work on it can start early; the returned units are
   * final and may differ slightly.
   */
  onPageText?: (unit: TextUnit) => void;
  /** PDF reading threads (default: one per core, at most four; 0 reads in this thread). */
  readers?: number;
}

const EXTENSIONS: Record<string, DocumentType> = {
  '.pdf': 'pdf',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.txt': 'text',
  '.text': 'text',
};

/** Section paths join heading titles with this separator ("Setup › Export"). */
export const SECTION_SEPARATOR = ' › ';

function extensionOf(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

function startsWithPdfHeader(bytes: Uint8Array): boolean {
  // The header must come first; tolerate up to 1 KB of leading junk, as PDF readers do.
  const limit = Math.min(bytes.length - 5, 1024);
  for (let i = 0; i <= limit; i++) {
    if (
      bytes[i] === 0x25 && // %
      bytes[i + 1] === 0x50 && // P
      bytes[i + 2] === 0x44 && // D
      bytes[i + 3] === 0x46 && // F
      bytes[i + 4] === 0x2d // -
    ) {
      return true;
    }
  }
  return false;
}

export function detectType(fileName: string, bytes: Uint8Array): DocumentType {
  const ext = extensionOf(fileName);
  const type = EXTENSIONS[ext];
  if (!type) {
    const what = ext ? `unsupported file type ${ext}` : 'unsupported file type (no extension)';
    throw new UserError(`${fileName}: ${what} — use PDF, Markdown (.md) or text (.txt)`, 'unsupported_type');
  }
  if (bytes.length === 0) throw new UserError(`${fileName}: empty file (0 bytes)`, 'empty_file');
  if (type === 'pdf' && !startsWithPdfHeader(bytes)) {
    throw new UserError(`${fileName}: not a PDF (the file does not start with %PDF-)`, 'not_pdf');
  }
  return type;
}

export async function extractText(fileName: string, bytes: Uint8Array, opts: ExtractOptions = {}): Promise<Extracted> {
  const type = detectType(fileName, bytes);
  if (type === 'pdf') return extractPdf(fileName, bytes, opts);
  const text = decodeText(fileName, bytes);
  const units = type === 'markdown' ? markdownUnits(text) : plainTextUnits(text);
  if (units.length === 0) throw new UserError(`${fileName}: no text in file (it contains only whitespace)`, 'no_text');
  return { type, pages: units.length, units };
}

// ---------------------------------------------------------------------------------------------
// Text decoding and cleaning shared by all types

function decodeText(fileName: string, bytes: Uint8Array): string {
  let text: string;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) text = new TextDecoder('utf-16le').decode(bytes.subarray(2));
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) text = new TextDecoder('utf-16be').decode(bytes.subarray(2));
  else {
    const head = bytes.subarray(0, 8192);
    if (head.includes(0)) throw new UserError(`${fileName}: not a text file (it contains binary data)`, 'not_text');
    text = new TextDecoder('utf-8').decode(bytes); // strips a UTF-8 BOM, replaces invalid bytes
  }
  return text.replace(/\r\n?/g, '\n');
}

const LIGATURES: Record<string, string> = {
  '\ufb00': 'ff',
  '\ufb01': 'fi',
  '\ufb02': 'fl',
  '\ufb03': 'ffi',
  '\ufb04': 'ffl',
  '\ufb05': 'st',
  '\ufb06': 'st',
};

/** One line of text: ligatures expanded, invisible characters dropped, whitespace collapsed. */
export function cleanLine(line: string): string {
  return line
    .replace(/[\ufb00-\ufb06]/g, (c) => LIGATURES[c] ?? c)
    .replace(/[\u200b-\u200d\u2060\ufeff]/g, '')
    .replace(/[\u0000-\u0008\u000e-\u001f\u007f]/g, '')
    .replace(/[\s\u00a0\u2000-\u200a\u202f\u205f\u3000]+/g, ' ')
    .trim();
}

const LIST_ITEM = /^(?:[-*+•◦▪‣–]\s|\d{1,3}[.)]\s|[a-z][.)]\s)/;
const SOFT_HYPHEN = '\u00ad';

type Join = ' ' | '\n' | '' | '-';

/**
 * Joins the lines of one paragraph. A line that ends with a letter and a hyphen (or a soft
 * hyphen) followed by a line starting with a lowercase letter is a word broken at the line end:
 * it is joined without the hyphen ("configu-" + "ration") unless the hyphenated compound occurs
 * elsewhere in the document ("read-only"), in which case the hyphen stays. Codes split at their
 * hyphen ("E-" + "4012") are joined with the hyphen and no space.
 */
function hyphenJoin(prev: string, next: string, compounds: ReadonlySet<string>): { join: Join; prev: string } | null {
  if (prev.endsWith(SOFT_HYPHEN)) return { join: '', prev: prev.slice(0, -1) };
  const m = /([\p{L}\p{N}]+)-$/u.exec(prev);
  if (!m) return null;
  const head = m[1]!;
  if (/^\p{Ll}/u.test(next)) {
    if (!/\p{L}$/u.test(head)) return { join: '-', prev: prev.slice(0, -1) };
    const tail = /^[\p{L}\p{N}]+/u.exec(next)?.[0] ?? '';
    const compound = `${head}-${tail}`.toLowerCase();
    if (compounds.has(compound)) return { join: '-', prev: prev.slice(0, -1) };
    return { join: '', prev: prev.slice(0, -1) };
  }
  if (/^[\p{Lu}\p{N}]/u.test(next)) return { join: '-', prev: prev.slice(0, -1) };
  return null;
}

/** Hyphenated words that occur inside lines ("read-only"), lowercased: hyphens that belong. */
export function collectCompounds(lines: Iterable<string>): Set<string> {
  const set = new Set<string>();
  const re = /[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)+/gu;
  for (const line of lines) {
    for (const m of line.matchAll(re)) {
      const parts = m[0].toLowerCase().split('-');
      for (let i = 0; i + 1 < parts.length; i++) set.add(`${parts[i]}-${parts[i + 1]}`);
    }
  }
  return set;
}

/** A paragraph as lines with the break after each (true = keep the line break). */
export interface ParagraphLines {
  lines: string[];
  hardBreakAfter: boolean[];
}

export function joinParagraph(p: ParagraphLines, compounds: ReadonlySet<string>): string {
  let out = '';
  for (let i = 0; i < p.lines.length; i++) {
    let line = p.lines[i]!;
    const next = p.lines[i + 1];
    if (next === undefined) {
      out += line;
      break;
    }
    const hy = hyphenJoin(line, next, compounds);
    if (hy) {
      out += hy.prev + (hy.join === '-' ? '-' : '');
      continue;
    }
    out += line + (p.hardBreakAfter[i] ? '\n' : ' ');
  }
  return out
    .replace(/[ \t]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .trim();
}

// ---------------------------------------------------------------------------------------------
// Plain text

const TEXT_UNIT_TARGET = 4000;

function blocksOf(text: string): ParagraphLines[] {
  const blocks: ParagraphLines[] = [];
  for (const raw of text.split(/\n[ \t\u00a0]*\n/)) {
    const lines = raw
      .split('\n')
      .map(cleanLine)
      .filter((l) => l.length > 0);
    if (lines.length === 0) continue;
    blocks.push({ lines, hardBreakAfter: lines.map((_, i) => isHardBreak(lines, i)) });
  }
  return blocks;
}

/** Inside a paragraph: keep a line break before list items and table rows, and after short lines. */
function isHardBreak(lines: readonly string[], i: number): boolean {
  const line = lines[i]!;
  const next = lines[i + 1];
  if (next === undefined) return true;
  if (LIST_ITEM.test(next) || next.startsWith('|') || line.includes(' | ') || next.includes(' | ')) return true;
  const longest = Math.max(...lines.map((l) => l.length));
  // a hard-wrapped line ends near the wrap column; a much shorter one was broken on purpose
  return longest >= 40 && line.length + (next.split(' ')[0]?.length ?? 0) + 1 < longest * 0.75;
}

function plainTextUnits(text: string): TextUnit[] {
  const blocks = blocksOf(text);
  const compounds = collectCompounds(blocks.flatMap((b) => b.lines));
  const units: TextUnit[] = [];
  let current = '';
  for (const block of blocks) {
    const para = joinParagraph(block, compounds);
    if (!para) continue;
    if (current && current.length + para.length + 2 > TEXT_UNIT_TARGET) {
      units.push({ page: null, section: null, text: current });
      current = '';
    }
    current = current ? `${current}\n\n${para}` : para;
  }
  if (current) units.push({ page: null, section: null, text: current });
  return units;
}

// ---------------------------------------------------------------------------------------------
// Markdown

const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})/;
const SETEXT_H1 = /^ {0,3}=+[ \t]*$/;
const SETEXT_H2 = /^ {0,3}-+[ \t]*$/;
const THEMATIC_BREAK = /^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$/;
const TABLE_DELIMITER = /^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*$/;
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]]+\]:[ \t]*\S+.*$/;

const ESCAPABLE = '\\`*_{}[]()#+-.!|>~<';
const ESCAPE_BASE = 0xe000; // private use area: escaped characters survive the inline clean-up

/** Strips inline Markdown noise: link targets, images, emphasis markers, inline code ticks, tags. */
export function stripInlineMarkdown(line: string): string {
  let s = line.replace(/\\([\\`*_{}[\]()#+\-.!|>~<])/g, (_, c: string) => String.fromCharCode(ESCAPE_BASE + ESCAPABLE.indexOf(c)));
  s = s
    .replace(/(`+)(.+?)\1/g, (_, __, code: string) => code.trim())
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+(?:"[^"]*"|'[^']*'))?\)/g, '$1')
    .replace(/\[([^\]]+)\]\[[^\]]*\]/g, '$1')
    .replace(/<((?:https?|mailto):[^>\s]+)>/g, '$1')
    .replace(/<!--.*?-->/g, '')
    .replace(/<\/?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?\/?>/g, '')
    .replace(/(\*\*|__)(?=\S)(.+?)(?<=\S)\1/g, '$2')
    .replace(/(^|[^*\w])\*(?=[^\s*])([^*]*?[^\s*])\*(?![*\w])/g, '$1$2')
    .replace(/(^|[^_\p{L}\p{N}])_(?=[^\s_])([^_]*?[^\s_])_(?![_\p{L}\p{N}])/gu, '$1$2')
    .replace(/~~(?=\S)(.+?)(?<=\S)~~/g, '$1');
  return s.replace(/[\ue000-\ue014]/g, (c) => ESCAPABLE[c.charCodeAt(0) - ESCAPE_BASE] ?? c);
}

function markdownTableRow(line: string): string | null {
  const t = line.trim();
  if (!t.startsWith('|') || t.length < 2) return null;
  const cells = t
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
  return cells.join(' | ');
}

interface MdSection {
  heading: string | null;
  path: string | null;
  paragraphs: ParagraphLines[];
}

function markdownUnits(source: string): TextUnit[] {
  let text = source;
  const front = /^---\n[\s\S]*?\n(?:---|\.\.\.)[ \t]*(?:\n|$)/.exec(text);
  if (front) text = text.slice(front[0].length);
  const lines = text.split('\n');

  const stack: (string | undefined)[] = [];
  const sections: MdSection[] = [];
  let current: MdSection = { heading: null, path: null, paragraphs: [] };
  let para: string[] = []; // raw lines of the paragraph being read
  let paraKind: 'text' | 'code' = 'text';
  let fence: string | null = null;

  const flushPara = () => {
    if (para.length === 0) return;
    let cleaned: string[];
    if (paraKind === 'code') cleaned = para.map(cleanLine).filter((l) => l);
    else
      cleaned = para
        .map((l) => {
          const row = markdownTableRow(l);
          const stripped = row ?? stripInlineMarkdown(l.replace(/^ {0,3}(?:>[ \t]?)+/, ''));
          return cleanLine(stripped.replace(/^#{1,6}\s+/, ''));
        })
        .filter((l) => l);
    if (cleaned.length > 0) {
      const hard = cleaned.map((l, i) => paraKind === 'code' || isMarkdownHardBreak(para, cleaned, i));
      current.paragraphs.push({ lines: cleaned, hardBreakAfter: hard });
    }
    para = [];
    paraKind = 'text';
  };
  const startSection = (level: number, title: string) => {
    flushPara();
    sections.push(current);
    stack[level - 1] = title;
    stack.length = level;
    const path = stack.filter((t): t is string => !!t).join(SECTION_SEPARATOR) || null;
    current = { heading: title || null, path, paragraphs: [] };
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (fence) {
      const close = FENCE_OPEN.exec(line);
      if (close && close[1]![0] === fence[0] && close[1]!.length >= fence.length && line.trim() === close[1]) {
        fence = null;
        flushPara();
      } else {
        para.push(line);
      }
      continue;
    }
    const open = FENCE_OPEN.exec(line);
    if (open && !(open[1]![0] === '`' && line.slice(line.indexOf('`') + open[1]!.length).includes('`'))) {
      flushPara();
      fence = open[1]!;
      paraKind = 'code';
      continue;
    }
    const atx = ATX_HEADING.exec(line);
    if (atx) {
      startSection(atx[1]!.length, cleanLine(stripInlineMarkdown(atx[2] ?? '')));
      continue;
    }
    if (para.length === 1 && paraKind === 'text' && (SETEXT_H1.test(line) || SETEXT_H2.test(line))) {
      const title = cleanLine(stripInlineMarkdown(para[0]!));
      const isListOrQuote = LIST_ITEM.test(para[0]!.trim()) || /^ {0,3}>/.test(para[0]!);
      if (title && !isListOrQuote) {
        para = [];
        startSection(SETEXT_H1.test(line) ? 1 : 2, title);
        continue;
      }
    }
    if (line.trim() === '') {
      flushPara();
      continue;
    }
    if (THEMATIC_BREAK.test(line) || TABLE_DELIMITER.test(line) || REFERENCE_DEFINITION.test(line)) {
      if (THEMATIC_BREAK.test(line)) flushPara();
      continue;
    }
    para.push(line);
  }
  flushPara();
  sections.push(current);

  const all = sections.flatMap((s) => s.paragraphs.flatMap((p) => p.lines));
  const compounds = collectCompounds(all);
  const withBody = sections.filter((s) => s.paragraphs.length > 0);
  const keep = withBody.length > 0 ? withBody : sections.filter((s) => s.heading);
  const units: TextUnit[] = [];
  for (const s of keep) {
    const body = s.paragraphs.map((p) => joinParagraph(p, compounds)).filter((t) => t);
    const text = [s.heading, ...body].filter((t): t is string => !!t).join('\n\n');
    if (text.trim()) units.push({ page: null, section: s.path, text });
  }
  return units;
}

function isMarkdownHardBreak(raw: readonly string[], cleaned: readonly string[], i: number): boolean {
  if (i >= cleaned.length - 1) return true;
  const rawLine = raw[i] ?? '';
  if (/ {2,}$|\\$/.test(rawLine)) return true; // explicit Markdown line break
  return isHardBreak(cleaned, i) || LIST_ITEM.test(cleaned[i + 1]!);
}

// ---------------------------------------------------------------------------------------------
// PDF page layout (pure; exported for tests): positioned text items → paragraphs of lines

export interface PositionedText {
  str: string;
  /** Baseline origin in PDF user space (y grows upwards). */
  x: number;
  y: number;
  width: number;
  /** Font size. */
  size: number;
}

interface Row {
  y: number;
  size: number;
  items: PositionedText[];
  /** x extent of the row, and its intervals with word gaps filled. */
  x0: number;
  x1: number;
  spans: [number, number][];
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Groups items into rows by baseline (top to bottom), items in a row left to right. */
function groupRows(items: PositionedText[]): Row[] {
  const sorted = [...items].sort((a, b) => b.y - a.y || a.x - b.x);
  const rows: Row[] = [];
  for (const it of sorted) {
    const row = rows.at(-1);
    if (row && Math.abs(row.y - it.y) <= Math.max(1, 0.45 * Math.min(row.size, it.size))) {
      row.items.push(it);
      row.size = Math.max(row.size, it.size);
    } else {
      rows.push({ y: it.y, size: it.size, items: [it], x0: 0, x1: 0, spans: [] });
    }
  }
  for (const row of rows) {
    row.items.sort((a, b) => a.x - b.x);
    row.x0 = Math.min(...row.items.map((i) => i.x));
    row.x1 = Math.max(...row.items.map((i) => i.x + i.width));
    const spans: [number, number][] = [];
    for (const it of row.items) {
      const last = spans.at(-1);
      // gaps narrower than ~1 em are spaces between words, not gutters or table columns
      if (last && it.x - last[1] < 1.0 * row.size) last[1] = Math.max(last[1], it.x + it.width);
      else spans.push([it.x, it.x + it.width]);
    }
    row.spans = spans;
  }
  return rows;
}

interface Gutter {
  from: number;
  to: number;
}

/**
 * Finds a vertical gutter between two columns of prose: an x range near the middle of the text
 * that (almost) no row crosses, with several rows of text on each side that fill their column
 * (tables, whose rows are short cells with gaps, are not split).
 */
function findGutter(rows: Row[]): Gutter | null {
  if (rows.length < 6) return null;
  const minX = Math.min(...rows.map((r) => r.x0));
  const maxX = Math.max(...rows.map((r) => r.x1));
  const extent = maxX - minX;
  if (extent < 150) return null;
  const bin = 2;
  const nBins = Math.ceil(extent / bin) + 1;
  const cover = new Uint16Array(nBins);
  for (const row of rows) {
    for (const [a, b] of row.spans) {
      for (let k = Math.floor((a - minX) / bin); k < Math.ceil((b - minX) / bin); k++) cover[k]!++;
    }
  }
  const allowance = Math.max(1, Math.floor(rows.length * 0.1));
  const size = median(rows.map((r) => r.size));
  const lo = Math.floor((extent * 0.3) / bin);
  const hi = Math.ceil((extent * 0.7) / bin);
  let best: Gutter | null = null;
  for (let k = lo; k <= hi; k++) {
    if (cover[k]! > allowance) continue;
    let end = k;
    while (end + 1 < nBins && cover[end + 1]! <= allowance) end++;
    let start = k;
    while (start - 1 >= 0 && cover[start - 1]! <= allowance) start--;
    const g = { from: minX + start * bin, to: minX + (end + 1) * bin };
    if (g.to - g.from >= Math.max(6, 0.6 * size) && (!best || g.to - g.from > best.to - best.from)) best = g;
    k = end;
  }
  if (!best) return null;
  const g = best;
  const left = rows.filter((r) => r.spans.some(([, b]) => b <= g.from + 1));
  const right = rows.filter((r) => r.spans.some(([a]) => a >= g.to - 1));
  if (left.length < 3 || right.length < 3) return null;
  const isProse = (side: Row[], pick: (r: Row) => [number, number][], sideWidth: number) => {
    const spans = side.map(pick);
    const gappy = spans.filter((s) => s.length > 1).length;
    const fill = median(spans.map((s) => s.reduce((n, [a, b]) => n + (b - a), 0)));
    return gappy <= side.length * 0.2 && fill >= sideWidth * 0.5;
  };
  const leftWidth = g.from - minX;
  const rightWidth = maxX - g.to;
  const ok =
    isProse(left, (r) => r.spans.filter(([, b]) => b <= g.from + 1), leftWidth) &&
    isProse(right, (r) => r.spans.filter(([a]) => a >= g.to - 1), rightWidth);
  return ok ? g : null;
}

/** Orders items for reading: columns left then right, full-width rows (titles) where they sit. */
function readingOrder(items: PositionedText[], depth = 0): PositionedText[][] {
  const rows = groupRows(items);
  const gutter = depth < 3 ? findGutter(rows) : null;
  if (!gutter) return [items];
  const spanning = rows.filter((r) => r.spans.some(([a, b]) => a < gutter.to - 1 && b > gutter.from + 1));
  const spanningSet = new Set(spanning);
  // a footer set apart below the columns belongs after both of them, not in the column it sits under
  const deltas = rows.slice(1).map((r, i) => rows[i]!.y - r.y);
  const usual = median(deltas.filter((d) => d > 0));
  for (let k = rows.length - 1; k >= Math.max(1, rows.length - 3); k--) {
    if (deltas[k - 1]! > 2.5 * usual && deltas[k - 1]! > 2 * rows[k]!.size) {
      for (let j = k; j < rows.length; j++) spanningSet.add(rows[j]!);
      break;
    }
  }
  const blocks: PositionedText[][] = [];
  let region: { left: PositionedText[]; right: PositionedText[] } = { left: [], right: [] };
  const flush = () => {
    if (region.left.length) blocks.push(...readingOrder(region.left, depth + 1));
    if (region.right.length) blocks.push(...readingOrder(region.right, depth + 1));
    region = { left: [], right: [] };
  };
  for (const row of rows) {
    if (spanningSet.has(row)) {
      flush();
      blocks.push(row.items);
      continue;
    }
    for (const it of row.items) (it.x + it.width / 2 < (gutter.from + gutter.to) / 2 ? region.left : region.right).push(it);
  }
  flush();
  return blocks;
}

interface Line {
  text: string;
  y: number;
  size: number;
  x0: number;
  x1: number;
  table: boolean;
}

function rowToLine(row: Row): Line {
  let text = '';
  let prevEnd = -Infinity;
  let table = false;
  for (const it of row.items) {
    const s = it.str;
    if (text) {
      const gap = it.x - prevEnd;
      if (gap > 1.5 * row.size) {
        text = text.trimEnd() + ' | ';
        table = true;
      } else if (gap > 0.12 * it.size && !/\s$/.test(text) && !/^\s/.test(s)) text += ' ';
    }
    text += s;
    prevEnd = Math.max(prevEnd, it.x + it.width);
  }
  return { text: cleanLine(text), y: row.y, size: row.size, x0: row.x0, x1: row.x1, table };
}

/** Splits one column's lines into paragraphs by vertical gaps, font size changes and table rows. */
function paragraphsOf(items: PositionedText[]): ParagraphLines[] {
  const lines = groupRows(items)
    .map(rowToLine)
    .filter((l) => l.text);
  if (lines.length === 0) return [];
  const deltas: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const d = lines[i - 1]!.y - lines[i]!.y;
    if (d > 0 && d < 2.5 * lines[i]!.size) deltas.push(d);
  }
  const lineGap = median(deltas) || 1.2 * median(lines.map((l) => l.size));
  const right = Math.max(...lines.map((l) => l.x1));
  const paragraphs: ParagraphLines[] = [];
  let cur: Line[] = [];
  const close = () => {
    if (cur.length === 0) return;
    paragraphs.push({
      lines: cur.map((l) => l.text),
      hardBreakAfter: cur.map((l, i) => {
        const next = cur[i + 1];
        if (!next) return true;
        if (l.table || next.table || LIST_ITEM.test(next.text)) return true;
        // if the next line's first word would have fitted here, this line was ended on purpose
        const charWidth = (l.x1 - l.x0) / Math.max(1, l.text.length);
        const firstWord = (next.text.split(' ')[0] ?? '').length * charWidth;
        return right - l.x1 > firstWord + 2 * l.size;
      }),
    });
    cur = [];
  };
  for (const line of lines) {
    const prev = cur.at(-1);
    if (prev) {
      const d = prev.y - line.y;
      const sizeChange = Math.abs(prev.size - line.size) > 0.15 * Math.max(prev.size, line.size);
      if (d > lineGap * 1.35 + 0.5 || d < 0 || sizeChange || prev.table !== line.table) close();
    }
    cur.push(line);
  }
  close();
  return paragraphs;
}

/** Lays out one page: reading order (columns), lines, paragraphs. */
export function layoutPage(items: PositionedText[]): ParagraphLines[] {
  const usable = items.filter((i) => i.str.trim() !== '' && Number.isFinite(i.x) && Number.isFinite(i.y));
  if (usable.length === 0) return [];
  const paragraphs = readingOrder(usable).flatMap(paragraphsOf);
  // a word hyphenated at the foot of a column continues at the head of the next one
  const merged: ParagraphLines[] = [];
  for (const p of paragraphs) {
    const prev = merged.at(-1);
    if (prev && /\p{L}-$/u.test(prev.lines.at(-1)!) && /^\p{Ll}/u.test(p.lines[0]!)) {
      prev.hardBreakAfter[prev.hardBreakAfter.length - 1] = false;
      prev.lines.push(...p.lines);
      prev.hardBreakAfter.push(...p.hardBreakAfter);
    } else merged.push(p);
  }
  return merged;
}

/** Renders laid-out pages to text, resolving hyphenation across the whole document. */
export function renderPages(pages: ParagraphLines[][]): string[] {
  const compounds = collectCompounds(pages.flatMap((p) => p.flatMap((para) => para.lines.map((l) => l.replace(/-$/, '')))));
  return pages.map((paras) =>
    paras
      .map((p) => joinParagraph(p, compounds))
      .filter((t) => t)
      .join('\n\n'),
  );
}

// ---------------------------------------------------------------------------------------------
// PDF: pages read by pdf.js in reading threads (pdf.ts, pdf-readers.ts), laid out there, and
// rendered here with hyphenation decided across the whole document

async function extractPdf(fileName: string, bytes: Uint8Array, opts: ExtractOptions): Promise<Extracted> {
  const { readPdfPages } = await import('./pdf-readers.js');
  const laid: ParagraphLines[][] = [];
  const { total, sections } = await readPdfPages(
    fileName,
    bytes,
    (page, total, paragraphs, section) => {
      laid.push(paragraphs);
      if (opts.onPageText) {
        const [text] = renderPages([paragraphs]);
        if (text?.trim()) opts.onPageText({ page, section, text });
      }
      opts.onPage?.(page, total);
    },
    opts.readers,
  );
  const units: TextUnit[] = [];
  renderPages(laid).forEach((text, i) => {
    if (text.trim()) units.push({ page: i + 1, section: sections[i] ?? null, text });
  });
  if (units.length === 0) {
    const { pdfDrawsText } = await import('./pdf.js');
    if (await pdfDrawsText(fileName, bytes)) {
      throw new UserError(`${fileName}: no text in file (its text is only whitespace)`, 'no_text');
    }
    throw new UserError(`${fileName}: no extractable text — OCR it first (it has no text layer, e.g. a scan)`, 'pdf_no_text');
  }
  return { type: 'pdf', pages: total, units };
}
