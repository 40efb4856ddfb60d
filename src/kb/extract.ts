/**
 * Text extraction: detects a file's type and hands it to its reader — PDF (per page, read in
 * threads, loaded only when a PDF is read), Markdown (per heading section) or plain text.
 */
import type { DocumentType } from '../db/documents.js';
import { UserError } from '../errors.js';
import { markdownUnits } from './markdown.js';
import type { PdfExtractOptions } from './pdf/extract.js';
import { plainTextUnits } from './plaintext.js';
import { decodeText } from './text.js';
import type { TextUnit } from './text.js';

export interface Extracted {
  type: DocumentType;
  /** PDF page count; for Markdown and text the number of units. */
  pages: number;
  units: TextUnit[];
}

/** Options for PDF files (the other types are read in one go). */
export type ExtractOptions = PdfExtractOptions;

const EXTENSIONS: Record<string, DocumentType> = {
  '.pdf': 'pdf',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.txt': 'text',
  '.text': 'text',
};

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
  if (type === 'pdf') {
    const { extractPdf } = await import('./pdf/extract.js');
    return { type, ...(await extractPdf(fileName, bytes, opts)) };
  }
  const text = decodeText(fileName, bytes);
  const units = type === 'markdown' ? markdownUnits(text) : plainTextUnits(text);
  if (units.length === 0) throw new UserError(`${fileName}: no text in file (it contains only whitespace)`, 'no_text');
  return { type, pages: units.length, units };
}
