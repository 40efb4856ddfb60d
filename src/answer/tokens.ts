/**
 * Token counting with the Llama 3 tokenizer (the one llama-3.3-70b-versatile uses).
 *
 * llama3-tokenizer-js bakes its 3 MB vocabulary into the module: importing it costs ~0.7 s and
 * ~50 MB of heap, so it is imported only here, lazily, once per process. Call
 * `loadLlamaTokenizer()` early (e.g. when the daemon starts) so the first question does not pay
 * for it. Counting is ~0.8 ms per kB of English text, so the returned counter memoises counts:
 * retrieved passages and the instructions recur from one question to the next.
 */
import { LRUCache } from 'lru-cache';

export interface TokenCounter {
  count(text: string): number;
}

/** Wraps a counter with a bounded LRU cache keyed by the text itself. */
export function withCache(inner: TokenCounter, maxEntries = 4096): TokenCounter {
  const cache = new LRUCache<string, number>({ max: maxEntries });
  return {
    count(text: string): number {
      const hit = cache.get(text);
      if (hit !== undefined) return hit;
      const n = inner.count(text);
      // Short strings cost less to count than to keep.
      if (text.length > 64) cache.set(text, n);
      return n;
    },
  };
}

let loading: Promise<TokenCounter> | undefined;

/** The Llama 3 tokenizer as a (cached) TokenCounter; loaded once, on first call. */
export function loadLlamaTokenizer(): Promise<TokenCounter> {
  loading ??= import('llama3-tokenizer-js').then(
    (mod) => {
      const tokenizer = mod.default;
      // No <|begin_of_text|>/<|end_of_text|>: the prompt's framing is counted by the budget.
      return withCache({ count: (text) => (text ? tokenizer.encode(text, { bos: false, eos: false }).length : 0) });
    },
    (err: unknown) => {
      loading = undefined;
      throw err;
    },
  );
  return loading;
}
