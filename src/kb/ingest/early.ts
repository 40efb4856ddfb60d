/** Early embedding: a PDF's chunks embedded in batches while the rest is still being read. */
import PQueue from 'p-queue';
import type { Embedder } from '../embed.js';

/**
 * Embeds texts in batches of `batch` while the document is still being read, at most
 * `maxInFlight` batches at once so a slow provider is not flooded. Best effort: a failed batch
 * is simply embedded again afterwards, where its error, if it persists, is reported.
 */
export function earlyEmbedding(embedder: Embedder, batch = 32, maxInFlight = 4) {
  const vectors = new Map<string, number[]>();
  const queue = new PQueue({ concurrency: maxInFlight });
  const unsent: string[] = [];
  let flushing = false;
  let onBatch = () => {};
  const send = () => {
    while (unsent.length >= batch || (flushing && unsent.length > 0)) {
      const texts = unsent.splice(0, batch);
      void queue.add(async () => {
        try {
          const vs = await embedder.embed(texts);
          texts.forEach((t, i) => vectors.set(t, vs[i]!));
        } catch {
          // embedded again with the rest of the document
        } finally {
          onBatch();
        }
      });
    }
  };
  return {
    /** Called after each batch, whether its vectors came back or not. */
    onBatch(fn: () => void) {
      onBatch = fn;
    },
    vector(text: string): number[] | undefined {
      return vectors.get(text);
    },
    add(texts: string[]) {
      unsent.push(...texts);
      send();
    },
    /** Sends the rest, however short a batch it makes (and from now on every text at once). */
    flush() {
      flushing = true;
      send();
    },
    /** Waits for the batches in flight; batches not yet started are dropped, left to the caller. */
    async settle(): Promise<Map<string, number[]>> {
      unsent.length = 0;
      queue.clear();
      await queue.onIdle();
      return vectors;
    },
  };
}
