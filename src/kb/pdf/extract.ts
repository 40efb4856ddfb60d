/**
 * PDF → text units, one per page: pages are read and laid out by the reading threads (pool.ts),
 * then rendered here with hyphenation decided across the whole document.
 */
import { UserError } from '../../errors.js';
import { collectCompounds, joinParagraph } from '../text.js';
import type { ParagraphLines, TextUnit } from '../text.js';
import { readPdfPages } from './pool.js';

export interface PdfExtractOptions {
  /** Called after each page has been read. */
  onPage?: (done: number, total: number) => void;
  /**
   * Called with each page's provisional text as soon as the page is read (hyphenation decided
   * from that page alone), so that work on it can start early; the returned units are final and
   * may differ slightly.
   */
  onPageText?: (unit: TextUnit) => void;
  /** Reading threads (default: one per core, at most four; 0 reads in this thread). */
  readers?: number;
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

export async function extractPdf(
  fileName: string,
  bytes: Uint8Array,
  opts: PdfExtractOptions = {},
): Promise<{ pages: number; units: TextUnit[] }> {
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
    const { pdfDrawsText } = await import('./read.js');
    if (await pdfDrawsText(fileName, bytes)) {
      throw new UserError(`${fileName}: no text in file (its text is only whitespace)`, 'no_text');
    }
    throw new UserError(`${fileName}: no extractable text — OCR it first (it has no text layer, e.g. a scan)`, 'pdf_no_text');
  }
  return { pages: total, units };
}
