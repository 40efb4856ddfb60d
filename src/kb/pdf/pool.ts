/**
 * The PDF reading threads (pdf.js spends ~10 ms of CPU per page): page n of a document is read in
 * thread (n - 1) % threads, and pages are handed on in page order as soon as every earlier one has
 * arrived, so that embedding can start while the rest is still being read.
 *
 * The threads start on first use (or on `warmPdfReaders()`), load pdf.js once, stop after a
 * minute without work, and never keep the process alive on their own. When threads cannot be
 * started, pages are read in the calling thread: slower, same result.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { UserError } from '../../errors.js';
import type { ParagraphLines } from '../text.js';

export type ReaderRequest =
  | { type: 'read'; id: number; fileName: string; bytes: Uint8Array; shard: number; of: number; outline: boolean }
  | { type: 'cancel'; id: number };

export type ReaderReply =
  | { type: 'ready' }
  | { type: 'open'; id: number; total: number; sections: (string | null)[] | null }
  | { type: 'page'; id: number; page: number; paragraphs: ParagraphLines[] }
  | { type: 'done'; id: number }
  | { type: 'error'; id: number; message: string; code: string | null };

type JobReply = Exclude<ReaderReply, { type: 'ready' }>;

interface Job {
  onReply: (reply: JobReply) => void;
  onStop: (err: Error) => void;
}

const IDLE_MS = 60_000;
const START_TIMEOUT_MS = 10_000;

/** Reading threads used by default: one per core, at most four. */
export function defaultReaders(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

class Reader {
  private readonly jobs = new Map<number, Job>();
  private idleTimer: NodeJS.Timeout | null = null;
  readonly ready: Promise<boolean>;
  private worker: Worker;
  private stopped = false;

  constructor() {
    this.worker = new Worker(new URL('./worker.js', import.meta.url));
    this.worker.unref();
    this.ready = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        resolve(false);
        void this.terminate(); // too slow to start: replaced on the next use
      }, START_TIMEOUT_MS).unref();
      this.worker.on('message', (msg: ReaderReply) => {
        if (msg.type === 'ready') {
          clearTimeout(timer);
          resolve(true);
          this.idle();
        } else this.jobs.get(msg.id)?.onReply(msg);
      });
      const stop = (err: Error) => {
        clearTimeout(timer);
        resolve(false);
        this.stop(err);
      };
      this.worker.on('error', stop);
      this.worker.on('exit', (code) => stop(new Error(`the PDF reading thread stopped (exit code ${code})`)));
    });
  }

  get alive(): boolean {
    return !this.stopped;
  }

  start(id: number, request: Omit<Extract<ReaderRequest, { type: 'read' }>, 'type' | 'id'>, job: Job): void {
    if (this.stopped) return job.onStop(new Error('the PDF reading thread had stopped'));
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.jobs.set(id, job);
    this.worker.ref(); // a job in progress keeps the process alive until its pages are back
    // the bytes are moved to the thread, not copied once more
    this.worker.postMessage({ type: 'read', id, ...request } satisfies ReaderRequest, [request.bytes.buffer as ArrayBuffer]);
  }

  finish(id: number, cancel: boolean): void {
    if (!this.jobs.delete(id)) return;
    if (cancel && !this.stopped) this.worker.postMessage({ type: 'cancel', id } satisfies ReaderRequest);
    if (this.jobs.size === 0) this.idle();
  }

  private idle(): void {
    if (this.stopped) return;
    this.worker.unref();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.terminate(), IDLE_MS).unref();
  }

  terminate(): Promise<number> {
    this.stopped = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    return this.worker.terminate();
  }

  private stop(err: Error): void {
    this.stopped = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const jobs = [...this.jobs.values()];
    this.jobs.clear();
    for (const job of jobs) job.onStop(err);
    if (readers.includes(this)) readers = readers.filter((r) => r !== this);
  }
}

let readers: Reader[] = [];
let nextJob = 1;

/** Starts the reading threads ahead of use (pdf.js takes ~200 ms to load in each). */
export function warmPdfReaders(count = defaultReaders()): void {
  readers = readers.filter((r) => r.alive);
  while (readers.length < count) {
    try {
      readers.push(new Reader());
    } catch {
      return; // threads unavailable: pages are read in the calling thread
    }
  }
}

export interface PdfPages {
  total: number;
  /** Section title per page (index page - 1) from the outline, null where there is none. */
  sections: (string | null)[];
}

/**
 * Reads every page of a PDF with `count` threads (0: in the calling thread). `onPage` is called
 * once per page, in page order; an error from it, or from any thread, stops the reading.
 */
export async function readPdfPages(
  fileName: string,
  bytes: Uint8Array,
  onPage: (page: number, total: number, paragraphs: ParagraphLines[], section: string | null) => void,
  count = defaultReaders(),
): Promise<PdfPages> {
  let usable: Reader[] = [];
  if (count > 0) {
    warmPdfReaders(count);
    const candidates = readers.slice(0, count);
    const ready = await Promise.all(candidates.map((r) => r.ready));
    usable = candidates.filter((r, i) => ready[i] && r.alive);
  }
  if (usable.length === 0) return readInThisThread(fileName, bytes, onPage);

  const id = nextJob++;
  return new Promise<PdfPages>((resolve, reject) => {
    let total = -1;
    let sections: (string | null)[] | null = null;
    const waiting = new Map<number, ParagraphLines[]>();
    let next = 1;
    const finished = new Set<Reader>();
    let settled = false;
    const end = (err: Error | null) => {
      if (settled) return;
      settled = true;
      for (const r of usable) r.finish(id, err !== null && !finished.has(r));
      if (err) reject(err);
      else resolve({ total, sections: sections! });
    };
    const deliver = () => {
      if (total < 0 || sections === null) return;
      while (waiting.has(next)) {
        const paragraphs = waiting.get(next)!;
        waiting.delete(next);
        try {
          onPage(next, total, paragraphs, sections[next - 1] ?? null);
        } catch (err) {
          return end(err instanceof Error ? err : new Error(String(err)));
        }
        next++;
      }
      if (finished.size === usable.length) {
        end(next > total ? null : new Error(`${fileName}: pages ${next}–${total} were not read`));
      }
    };
    usable.forEach((reader, shard) => {
      if (settled) return; // a thread that had stopped ended the job already
      // every thread gets its own copy: pdf.js takes ownership of the bytes it is given
      reader.start(
        id,
        { fileName, bytes: new Uint8Array(bytes), shard, of: usable.length, outline: shard === 0 },
        {
          onReply: (reply) => {
            if (settled) return;
            if (reply.type === 'open') {
              total = reply.total;
              if (reply.sections) sections = reply.sections;
            } else if (reply.type === 'page') waiting.set(reply.page, reply.paragraphs);
            else if (reply.type === 'done') finished.add(reader);
            else if (reply.type === 'error') {
              finished.add(reader);
              return end(reply.code ? new UserError(reply.message, reply.code) : new Error(reply.message));
            }
            deliver();
          },
          onStop: (err) => {
            finished.add(reader);
            // not the file's fault as far as we know (e.g. out of memory): an internal error, exit 1
            end(new Error(`${fileName}: reading stopped before the end (${err.message})`, { cause: err }));
          },
        },
      );
    });
  });
}

async function readInThisThread(
  fileName: string,
  bytes: Uint8Array,
  onPage: (page: number, total: number, paragraphs: ParagraphLines[], section: string | null) => void,
): Promise<PdfPages> {
  const { readPdf } = await import('./read.js');
  let total = 0;
  let sections: (string | null)[] = [];
  await readPdf(fileName, bytes, {
    outline: true,
    onOpen: (t, s) => {
      total = t;
      sections = s ?? [];
    },
    onPage: (page, paragraphs) => onPage(page, total, paragraphs, sections[page - 1] ?? null),
  });
  return { total, sections };
}
