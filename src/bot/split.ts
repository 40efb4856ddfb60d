/**
 * Splits a reply into Discord messages of at most `limit` characters. Pure.
 *
 * Each part ends where the text reads best within the limit: a paragraph break, else a line
 * break, else the end of a sentence, else a space (each preferred only if it leaves the part at
 * least half full; otherwise the last break of any kind). A word is cut only when it alone is
 * longer than a part. Inside a fenced code block only line breaks are used if there are any; a
 * part that ends inside a block closes the fence, and the next part reopens it with the same
 * language tag. The whitespace at a break is dropped (except a new line's indentation).
 * Lengths are UTF-16 units (never fewer than Discord's characters); surrogate pairs are not cut.
 */

interface Fence {
  marker: string;
  info: string;
}

interface Line {
  start: number;
  /** Fence open at the start of this line. */
  before: Fence | null;
  opens: boolean;
  closes: boolean;
}

type Kind = 'para' | 'line' | 'sentence' | 'word';

interface Cut {
  /** The part ends here. */
  start: number;
  /** The next part starts here. */
  end: number;
  kind: Kind;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

function scanLines(text: string): Line[] {
  const lines: Line[] = [];
  let state: Fence | null = null;
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    const end = nl === -1 ? text.length : nl;
    const m = FENCE.exec(text.slice(start, end).replace(/\r$/, ''));
    const line: Line = { start, before: state, opens: false, closes: false };
    if (m) {
      const marker = m[1]!;
      const rest = m[2]!;
      if (state === null && !(marker[0] === '`' && rest.includes('`'))) {
        line.opens = true;
        state = { marker, info: rest.trim() };
      } else if (state !== null && marker[0] === state.marker[0] && marker.length >= state.marker.length && rest.trim() === '') {
        line.closes = true;
        state = null;
      }
    }
    lines.push(line);
    if (nl === -1) return lines;
    start = nl + 1;
  }
}

export function splitMessage(text: string, limit = 2000): string[] {
  if (!(limit >= 1)) throw new RangeError('limit must be at least 1');
  if (text.trim() === '') return [];
  if (text.length <= limit) return [text];

  const lines = scanLines(text);
  const lineAt = (p: number): number => {
    let lo = 0;
    let hi = lines.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lines[mid]!.start <= p) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  // A fence is carried across parts only if reopening and closing it leave room for content.
  const carry = (f: Fence | null): Fence | null => (f && reopenLine(f).length + closeLine(f).length <= limit / 2 ? f : null);
  const fenceAt = (p: number): Fence | null => carry(lines[lineAt(p)]!.before);
  const closeLen = (f: Fence | null): number => (f ? closeLine(f).length : 0);

  const parts: string[] = [];
  let pos = 0;
  let open: Fence | null = null;
  for (;;) {
    const prefix = open ? reopenLine(open) : '';
    if (prefix.length + text.length - pos <= limit) {
      if (text.slice(pos).trim() !== '') parts.push(prefix + text.slice(pos));
      return parts;
    }
    const room = limit - prefix.length;
    const cut = chooseCut(text, pos, room, lines, lineAt, fenceAt, closeLen) ?? hardCut(text, pos, room, fenceAt, closeLen);
    const f = fenceAt(cut.end);
    parts.push(prefix + text.slice(pos, cut.start) + (f ? closeLine(f) : ''));
    pos = cut.end;
    open = f;
  }
}

function reopenLine(f: Fence): string {
  return `${f.marker}${f.info}\n`;
}

function closeLine(f: Fence): string {
  return `\n${f.marker}`;
}

function chooseCut(
  text: string,
  pos: number,
  room: number,
  lines: Line[],
  lineAt: (p: number) => number,
  fenceAt: (p: number) => Fence | null,
  closeLen: (f: Fence | null) => number,
): Cut | null {
  const cuts: Cut[] = [];
  const ws = /[ \t\r\n]+/g;
  let from = pos;
  while (from < text.length && ' \t\r\n'.includes(text[from]!)) from++;
  ws.lastIndex = from + 1;
  for (let m = ws.exec(text); m && m.index <= pos + room; m = ws.exec(text)) {
    const start = m.index;
    const run = m[0];
    if (start + run.length >= text.length) break; // trailing whitespace: nothing follows
    if (start - pos + closeLen(fenceAt(start + run.length)) > room) continue;
    const newlines = run.split('\n').length - 1;
    if (newlines > 0) {
      const end = start + run.lastIndexOf('\n') + 1;
      const here = lines[lineAt(start)]!;
      const next = lines[lineAt(end)]!;
      if (here.opens) continue; // would leave an empty block behind
      if (next.closes && fenceAt(end)) continue; // would reopen a block only to close it
      cuts.push({ start, end, kind: newlines > 1 ? 'para' : 'line' });
    } else {
      const line = lines[lineAt(start)]!;
      if (line.opens || line.closes) continue;
      const before = text.slice(Math.max(pos, start - 2), start);
      cuts.push({ start, end: start + run.length, kind: /[.!?]["'”’)\]*_]?$/.test(before) ? 'sentence' : 'word' });
    }
  }
  if (cuts.length === 0) return null;

  const inCode = (c: Cut): boolean => fenceAt(c.start) !== null;
  const half = pos + Math.floor(room / 2);
  for (const minStart of [half, pos + 1]) {
    for (const kind of ['para', 'line', 'sentence', 'word'] as const) {
      for (let i = cuts.length - 1; i >= 0; i--) {
        const c = cuts[i]!;
        if (c.start < minStart) break;
        if (c.kind === kind && (kind === 'para' || kind === 'line' || !inCode(c))) return c;
      }
    }
  }
  return cuts[cuts.length - 1]!;
}

function hardCut(
  text: string,
  pos: number,
  room: number,
  fenceAt: (p: number) => Fence | null,
  closeLen: (f: Fence | null) => number,
): Cut {
  let at = pos + room;
  const f = fenceAt(at);
  if (f) at -= closeLen(f);
  if (at > pos + 1 && isLowSurrogate(text.charCodeAt(at)) && isHighSurrogate(text.charCodeAt(at - 1))) at--;
  at = Math.max(at, pos + 1);
  return { start: at, end: at, kind: 'word' };
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
