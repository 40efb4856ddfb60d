/**
 * PDF page layout, pure: positioned text items → paragraphs of lines, in reading order (columns
 * split at their gutter, full-width rows where they sit, table rows kept whole).
 */
import { cleanLine, LIST_ITEM } from '../text.js';
import type { ParagraphLines } from '../text.js';
import { adjacentPairs } from '../../util/pairs.js';

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
  const upper = s[mid] ?? 0;
  return s.length % 2 ? upper : ((s[mid - 1] ?? upper) + upper) / 2;
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
  const covered = (k: number) => cover[k] ?? 0;
  for (const row of rows) {
    for (const [a, b] of row.spans) {
      for (let k = Math.floor((a - minX) / bin); k < Math.ceil((b - minX) / bin); k++) cover[k] = covered(k) + 1;
    }
  }
  const allowance = Math.max(1, Math.floor(rows.length * 0.1));
  const size = median(rows.map((r) => r.size));
  const lo = Math.floor((extent * 0.3) / bin);
  const hi = Math.ceil((extent * 0.7) / bin);
  let best: Gutter | null = null;
  for (let k = lo; k <= hi; k++) {
    if (covered(k) > allowance) continue;
    let end = k;
    while (end + 1 < nBins && covered(end + 1) <= allowance) end++;
    let start = k;
    while (start - 1 >= 0 && covered(start - 1) <= allowance) start--;
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
  const steps = adjacentPairs(rows);
  const usual = median(steps.map(([above, row]) => above.y - row.y).filter((d) => d > 0));
  const footer = steps
    .slice(-3)
    .reverse()
    .find(([above, row]) => above.y - row.y > 2.5 * usual && above.y - row.y > 2 * row.size);
  if (footer) for (const row of rows.slice(rows.indexOf(footer[1]))) spanningSet.add(row);
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
  for (const [above, line] of adjacentPairs(lines)) {
    const d = above.y - line.y;
    if (d > 0 && d < 2.5 * line.size) deltas.push(d);
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
    if (prev && /\p{L}-$/u.test(prev.lines.at(-1)!) && /^\p{Ll}/u.test(p.lines[0] ?? '')) {
      prev.hardBreakAfter[prev.hardBreakAfter.length - 1] = false;
      prev.lines.push(...p.lines);
      prev.hardBreakAfter.push(...p.hardBreakAfter);
    } else merged.push(p);
  }
  return merged;
}
