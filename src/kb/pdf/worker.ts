/**
 * A PDF reading thread (see pool.ts): loads pdf.js once, then reads its share of the pages of
 * each document it is given, posting each page's paragraphs as soon as they are laid out.
 */
import { parentPort } from 'node:worker_threads';
import { UserError } from '../../errors.js';
import type { ReaderReply, ReaderRequest } from './pool.js';
import { loadPdfJs, readPdf } from './read.js';

const port = parentPort!;
const post = (reply: ReaderReply) => port.postMessage(reply);
const cancelled = new Set<number>();

// pdf.js rejections are all awaited or caught in read.ts; one surfacing late, after its document
// was dealt with, must not stop the thread that other documents are being read by.
process.on('unhandledRejection', () => {});

port.on('message', (msg: ReaderRequest) => {
  if (msg.type === 'cancel') {
    cancelled.add(msg.id);
    return;
  }
  const { id } = msg;
  readPdf(msg.fileName, msg.bytes, {
    shard: msg.shard,
    of: msg.of,
    outline: msg.outline,
    cancelled: () => cancelled.has(id),
    onOpen: (total, sections) => post({ type: 'open', id, total, sections }),
    onPage: (page, paragraphs) => post({ type: 'page', id, page, paragraphs }),
  })
    .then(() => post({ type: 'done', id }))
    .catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      post({ type: 'error', id, message, code: err instanceof UserError ? err.code : null });
    })
    .finally(() => cancelled.delete(id));
});

await loadPdfJs();
post({ type: 'ready' });
