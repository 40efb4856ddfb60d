/**
 * Text helpers shared by every document type: decoding, line cleaning, hyphenation and
 * paragraph joining, and the text unit (a page or a section) that extraction produces.
 */
import { UserError } from '../errors.js';

/** One page (PDF) or section (Markdown, text) of a document's text. */
export interface TextUnit {
  page: number | null;
  section: string | null;
  text: string;
}

/** Section paths join heading titles with this separator ("Setup › Export"). */
export const SECTION_SEPARATOR = ' › ';

/** Bytes → text: UTF-16 by its byte order mark, else UTF-8; binary data is refused. */
export function decodeText(fileName: string, bytes: Uint8Array): string {
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

/** The start of a list item: a bullet, or a number or letter with "." or ")". */
export const LIST_ITEM = /^(?:[-*+•◦▪‣–]\s|\d{1,3}[.)]\s|[a-z][.)]\s)/;
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
  const head = /([\p{L}\p{N}]+)-$/u.exec(prev)?.[1];
  if (head === undefined) return null;
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
  for (const [i, line] of p.lines.entries()) {
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

/** Inside a paragraph: keep a line break before list items and table rows, and after short lines. */
export function isHardBreak(lines: readonly string[], i: number): boolean {
  const line = lines[i];
  const next = lines[i + 1];
  if (line === undefined || next === undefined) return true;
  if (LIST_ITEM.test(next) || next.startsWith('|') || line.includes(' | ') || next.includes(' | ')) return true;
  const longest = Math.max(...lines.map((l) => l.length));
  // a hard-wrapped line ends near the wrap column; a much shorter one was broken on purpose
  return longest >= 40 && line.length + (next.split(' ')[0]?.length ?? 0) + 1 < longest * 0.75;
}
