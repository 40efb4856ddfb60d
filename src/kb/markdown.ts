/**
 * Markdown → text units, one per heading section (its path of headings as the section): front
 * matter, fences, tables, link targets and emphasis markers handled, hard breaks kept.
 */
import { cleanLine, collectCompounds, isHardBreak, joinParagraph, LIST_ITEM, SECTION_SEPARATOR } from './text.js';
import type { ParagraphLines, TextUnit } from './text.js';

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

export function markdownUnits(source: string): TextUnit[] {
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

  for (const line of lines) {
    if (fence) {
      const close = FENCE_OPEN.exec(line)?.[1];
      if (close !== undefined && close[0] === fence[0] && close.length >= fence.length && line.trim() === close) {
        fence = null;
        flushPara();
      } else {
        para.push(line);
      }
      continue;
    }
    const open = FENCE_OPEN.exec(line)?.[1];
    if (open !== undefined && !(open[0] === '`' && line.slice(line.indexOf('`') + open.length).includes('`'))) {
      flushPara();
      fence = open;
      paraKind = 'code';
      continue;
    }
    const [, hashes, heading] = ATX_HEADING.exec(line) ?? [];
    if (hashes !== undefined) {
      startSection(hashes.length, cleanLine(stripInlineMarkdown(heading ?? '')));
      continue;
    }
    const [only] = para;
    if (only !== undefined && para.length === 1 && paraKind === 'text' && (SETEXT_H1.test(line) || SETEXT_H2.test(line))) {
      const title = cleanLine(stripInlineMarkdown(only));
      const isListOrQuote = LIST_ITEM.test(only.trim()) || /^ {0,3}>/.test(only);
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
  return isHardBreak(cleaned, i) || LIST_ITEM.test(cleaned[i + 1] ?? '');
}
