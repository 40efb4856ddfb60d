/** Plain text → text units: blank-line separated blocks, joined into units of about 4000 characters. */
import { cleanLine, collectCompounds, isHardBreak, joinParagraph } from './text.js';
import type { ParagraphLines, TextUnit } from './text.js';

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

export function plainTextUnits(text: string): TextUnit[] {
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
