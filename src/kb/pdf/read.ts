/**
 * Reading PDF pages with pdf.js (loaded lazily, in the thread that reads): text items → laid-out
 * paragraphs, per page, in the reading threads (worker.ts) or the calling thread.
 */
import { UserError } from '../../errors.js';
import { cleanLine, SECTION_SEPARATOR } from '../text.js';
import type { ParagraphLines } from '../text.js';
import { layoutPage } from './layout.js';
import type { PositionedText } from './layout.js';

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
type PdfDoc = Awaited<ReturnType<PdfJs['getDocument']>['promise']>;

let pdfjsLoading: Promise<PdfJs> | null = null;

/**
 * Imports pdf.js once (it costs ~120–200 ms) with its worker module registered as
 * `globalThis.pdfjsWorker`, so it runs in this thread without resolving a worker file or URL.
 */
export async function loadPdfJs(): Promise<PdfJs> {
  pdfjsLoading ??= (async () => {
    // The legacy build's polyfills replace Array.prototype.push, JSON.parse and JSON.stringify
    // for the whole thread with slower spec-edge-case versions (a quarter of pdf.js's own time
    // goes to push alone). The built-in ones are correct for everything pdf.js and we do.
    const natives = { push: Array.prototype.push, parse: JSON.parse, stringify: JSON.stringify };
    // Importing the worker module and registering it makes pdf.js run in this thread without
    // resolving a worker file at run time (which breaks when the code is bundled).
    const workerSpecifier = 'pdfjs-dist/legacy/build/pdf.worker.mjs';
    try {
      const [pdfjs, worker] = await Promise.all([
        import('pdfjs-dist/legacy/build/pdf.mjs'),
        import(workerSpecifier) as Promise<{ WorkerMessageHandler: unknown }>,
      ]);
      const g = globalThis as { pdfjsWorker?: { WorkerMessageHandler: unknown } };
      g.pdfjsWorker ??= { WorkerMessageHandler: worker.WorkerMessageHandler };
      return pdfjs;
    } finally {
      Object.defineProperty(Array.prototype, 'push', { value: natives.push, writable: true, configurable: true, enumerable: false });
      JSON.parse = natives.parse;
      JSON.stringify = natives.stringify;
    }
  })();
  try {
    return await pdfjsLoading;
  } catch (err) {
    pdfjsLoading = null;
    throw err;
  }
}

const ignore = () => {};

export function damaged(fileName: string, err: unknown): UserError {
  const detail = err instanceof Error && err.message ? ` (${err.message.replace(/\s+/g, ' ').slice(0, 120)})` : '';
  return new UserError(`${fileName}: could not be read as a PDF: damaged or truncated${detail}`, 'pdf_damaged', { cause: err });
}

interface PdfTextItem {
  str?: string;
  transform?: number[];
  width?: number;
  height?: number;
}

function toPositioned(item: PdfTextItem): PositionedText | null {
  const t = item.transform;
  if (typeof item.str !== 'string' || !t || t.length < 6) return null;
  const [a, b, c, d, e, f] = t as [number, number, number, number, number, number];
  // horizontal text only: rotated text is kept apart, in stream order
  const size = Math.hypot(c, d) || item.height || 10;
  if (Math.abs(b) > 0.05 * Math.abs(a) + 0.01) return null;
  return { str: item.str, x: e, y: f, width: item.width ?? 0, size };
}

/** Pages one reader requests from pdf.js at once: pdf.js leaves gaps one page alone cannot fill. */
const PAGES_AT_ONCE = 4;

export interface ReadPdfOptions {
  /** This reader's share of the pages: page n is read when (n - 1) % of === shard. */
  shard?: number;
  of?: number;
  /** Also read the outline (bookmarks) for each page's section title. */
  outline?: boolean;
  /** Called once the document is open: its page count, and the section titles if asked for. */
  onOpen?: (total: number, sections: (string | null)[] | null) => void;
  /** Called with each page of this reader's share, in page order. */
  onPage?: (page: number, paragraphs: ParagraphLines[]) => void;
  /** Checked between groups of pages: true stops reading (another reader failed). */
  cancelled?: () => boolean;
}

/** Opens the PDF and reads this reader's share of its pages. Errors are UserErrors naming the file. */
export async function readPdf(fileName: string, bytes: Uint8Array, opts: ReadPdfOptions = {}): Promise<void> {
  const shard = opts.shard ?? 0;
  const of = opts.of ?? 1;
  await withDocument(fileName, bytes, async (doc) => {
    const total = doc.numPages;
    if (!Number.isInteger(total) || total < 1) throw damaged(fileName, new Error('no pages'));
    opts.onOpen?.(total, opts.outline ? await pageSections(doc, total) : null);
    const mine: number[] = [];
    for (let n = shard + 1; n <= total; n += of) mine.push(n);
    const readPage = async (n: number) => {
      const page = await doc.getPage(n);
      try {
        return await page.getTextContent();
      } finally {
        page.cleanup();
      }
    };
    for (let start = 0; start < mine.length; start += PAGES_AT_ONCE) {
      if (opts.cancelled?.()) return;
      const numbers = mine.slice(start, start + PAGES_AT_ONCE);
      // allSettled: every page's promise is awaited, so none can reject unhandled later.
      const contents = await Promise.allSettled(numbers.map(readPage));
      for (const [i, content] of contents.entries()) {
        if (content.status === 'rejected') {
          if (content.reason instanceof UserError) throw content.reason;
          throw damaged(fileName, content.reason);
        }
        const items: PositionedText[] = [];
        const rotated: string[] = []; // rotated text (margin notes, stamps): after the page, in stream order
        for (const raw of content.value.items as PdfTextItem[]) {
          const p = toPositioned(raw);
          if (p) items.push(p);
          else if (typeof raw.str === 'string' && raw.str.trim()) rotated.push(cleanLine(raw.str));
        }
        const paragraphs = layoutPage(items);
        if (rotated.length) paragraphs.push({ lines: rotated, hardBreakAfter: rotated.map(() => true) });
        const page = numbers[i];
        if (page === undefined) throw new Error(`page text ${i} of a batch of ${numbers.length} has no page number`);
        opts.onPage?.(page, paragraphs);
      }
    }
  });
}

/** Whether any of the first pages draws text at all (to tell whitespace-only text from a scan). */
export async function pdfDrawsText(fileName: string, bytes: Uint8Array): Promise<boolean> {
  const pdfjs = await loadPdfJs();
  const show = new Set<number>([
    pdfjs.OPS.showText,
    pdfjs.OPS.showSpacedText,
    pdfjs.OPS.nextLineShowText,
    pdfjs.OPS.nextLineSetSpacingShowText,
  ]);
  try {
    return await withDocument(fileName, bytes, async (doc) => {
      for (let n = 1; n <= Math.min(doc.numPages, 3); n++) {
        const page = await doc.getPage(n);
        const list = await page.getOperatorList();
        page.cleanup();
        if (list.fnArray.some((fn) => show.has(fn))) return true;
      }
      return false;
    });
  } catch {
    return false;
  }
}

/**
 * Opens the document, hands it to `use`, and always destroys the loading task: every pdf.js
 * promise is awaited or caught, so a damaged file can neither reject unhandled nor leak memory.
 */
async function withDocument<T>(fileName: string, bytes: Uint8Array, use: (doc: PdfDoc) => Promise<T>): Promise<T> {
  const pdfjs = await loadPdfJs();
  // pdf.js transfers (detaches) the buffer it is given: hand it a copy, never the caller's bytes.
  const task = pdfjs.getDocument({
    data: new Uint8Array(bytes), // a copy, and a plain Uint8Array (pdf.js refuses Buffer)
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    useWorkerFetch: false,
    stopAtErrors: false,
    verbosity: pdfjs.VerbosityLevel.ERRORS,
  });
  task.promise.catch(ignore); // the rejection is handled below; this only prevents a late "unhandled"
  try {
    let doc;
    try {
      doc = await task.promise;
    } catch (err) {
      const name = (err as { name?: string } | null)?.name;
      if (name === 'PasswordException') {
        throw new UserError(
          `${fileName}: password protected — remove the password (e.g. qpdf --decrypt) and ingest the copy`,
          'pdf_encrypted',
          {
            cause: err,
          },
        );
      }
      throw damaged(fileName, err);
    }
    return await use(doc);
  } finally {
    try {
      await task.destroy();
    } catch {
      // destroying a failed task can reject too; nothing is left to clean up
    }
  }
}

/** Section titles per page from the PDF outline (bookmarks), when it has one. Never throws. */
async function pageSections(doc: PdfDoc, total: number): Promise<(string | null)[]> {
  const out: (string | null)[] = new Array<string | null>(total).fill(null);
  try {
    const outline = await doc.getOutline();
    if (!outline || outline.length === 0) return out;
    const starts: { page: number; path: string }[] = [];
    const walk = async (nodes: typeof outline, parents: string[]) => {
      for (const node of nodes) {
        const title = cleanLine(node.title ?? '');
        const path = title ? [...parents, title] : parents;
        let dest = node.dest;
        if (typeof dest === 'string') dest = await doc.getDestination(dest);
        const ref: unknown = Array.isArray(dest) ? (dest as unknown[])[0] : null;
        let page: number | null = null;
        if (typeof ref === 'number') page = ref;
        else if (ref && typeof ref === 'object') page = await doc.getPageIndex(ref as Parameters<PdfDoc['getPageIndex']>[0]);
        if (page !== null && title && starts.length < 10_000) starts.push({ page, path: path.join(SECTION_SEPARATOR) });
        if (node.items?.length) await walk(node.items as typeof outline, path);
      }
    };
    await walk(outline, []);
    starts.sort((a, b) => a.page - b.page);
    let k = 0;
    let currentPath: string | null = null;
    for (let p = 0; p < total; p++) {
      for (let s = starts[k]; s !== undefined && s.page <= p; s = starts[++k]) currentPath = s.path;
      out[p] = currentPath;
    }
  } catch {
    return new Array<string | null>(total).fill(null);
  }
  return out;
}
