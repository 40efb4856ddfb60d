/** Early embedding: chunks of a PDF embedded in batches while the rest is still being read. */
import type { Embedder } from '../embed.js';

/**
 * Embeds texts in batches while the document is still being read. Best effort: a failed batch
 * is simply embedded again afterwards (where its error, if it persists, is reported), and at
 * most a few batches are in flight so a slow provider is not flooded.
 */
export function earlyEmbedding(embedder: Embedder, batch = 32, maxInFlight = 4) {
  const vectors = new Map<string, number[]>();
  const queue: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let flushing = false;
  let onBatch = () => {};
  const pump = () => {
    while ((queue.length >= batch || (flushing && queue.length > 0)) && inFlight.size < maxInFlight) {
      const texts = queue.splice(0, batch);
      const work: Promise<void> = embedder
        .embed(texts)
        .then((vs) => texts.forEach((t, i) => vectors.set(t, vs[i]!)))
        .catch(() => {})
        .finally(() => {
          inFlight.delete(work);
          pump();
          onBatch();
        });
      inFlight.add(work);
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
      queue.push(...texts);
      pump();
    },
    /** Sends the rest of the queue, however short. */
    flush() {
      flushing = true;
      pump();
    },
    /** Waits for the batches in flight; what was queued but not sent is left to the caller. */
    async settle(): Promise<Map<string, number[]>> {
      queue.length = 0;
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      return vectors;
    },
  };
}

export type EarlyEmbedding = ReturnType<typeof earlyEmbedding>;
