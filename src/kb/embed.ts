/**
 * Embeddings through @huggingface/inference (Hugging Face Inference or a TEI endpoint): batched,
 * bounded concurrency (p-map), capped retries honouring Retry-After, L2-normalised vectors; a
 * question gets a short total budget instead (embedQuestion).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pMap from 'p-map';
import type { Config } from '../config.js';
import { DependencyError } from '../errors.js';
import { parseRetryAfter } from '../util/retry-after.js';

export interface Embedder {
  readonly model: string;
  /** Where the vectors come from, for messages ("Hugging Face Inference", or the endpoint's host). */
  readonly provider: string;
  /** Embeds texts in order; `onProgress` is told how many texts are done after each batch. */
  embed(texts: string[], options?: { onProgress?: (done: number) => void; signal?: AbortSignal }): Promise<number[][]>;
}

export interface EmbedderOptions {
  batchSize?: number;
  concurrency?: number;
  /** Attempts per batch (first try included). */
  attempts?: number;
  timeoutMs?: number;
  /** Longest wait honoured from a Retry-After header, and for backoff. */
  maxRetryWaitMs?: number;
  /** Backoff base: waits base, 2×base, 4×base… (capped). */
  backoffMs?: number;
  /** Told of each retry before its wait: the attempt that failed and how long the wait is. */
  onRetry?: (attempt: number, waitMs: number) => void;
}

type FetchLike = typeof fetch;

/**
 * How long a question's embedding may take in all, retries included. Past it the question is
 * searched by full text alone: a slow or hanging provider must not hold up an answer.
 */
export const QUESTION_EMBED_BUDGET_MS = 2000;

/**
 * One question's vector within `budgetMs` in all (default QUESTION_EMBED_BUDGET_MS). Throws a
 * DependencyError when the provider fails or does not answer in time; an abort of `signal`
 * ends the wait too.
 */
export async function embedQuestion(
  embedder: Embedder,
  text: string,
  options: { budgetMs?: number; signal?: AbortSignal } = {},
): Promise<number[]> {
  const [vector] = await embedQuestions(embedder, [text], options);
  return vector!;
}

/** Several query texts in one embedding request, under one budget (as embedQuestion). */
export async function embedQuestions(
  embedder: Embedder,
  texts: string[],
  options: { budgetMs?: number; signal?: AbortSignal } = {},
): Promise<number[][]> {
  const budgetMs = options.budgetMs ?? QUESTION_EMBED_BUDGET_MS;
  const budget = AbortSignal.timeout(budgetMs);
  const signal = options.signal ? AbortSignal.any([budget, options.signal]) : budget;
  try {
    return await embedder.embed(texts, { signal });
  } catch (err) {
    if (budget.aborted && !options.signal?.aborted) {
      throw new DependencyError(`embeddings from ${embedder.provider} did not answer within ${budgetMs / 1000} s`, 'embeddings_timeout', {
        cause: err,
      });
    }
    throw err;
  }
}

/** Raw call: texts → vectors (not normalised). Replaced in unit tests of the batching logic only. */
export type EmbedCall = (texts: string[], signal: AbortSignal, fetchImpl: FetchLike) => Promise<unknown>;

export function normalise(vector: number[]): number[] {
  let sum = 0;
  for (const v of vector) sum += v * v;
  const norm = Math.sqrt(sum);
  if (!Number.isFinite(norm) || norm === 0)
    throw new DependencyError('the embeddings provider returned a zero vector', 'embeddings_bad_output');
  return vector.map((v) => v / norm);
}

/** One text's output → one vector: already pooled (number[]) or token vectors (mean-pooled). */
function toVector(output: unknown): number[] {
  if (Array.isArray(output) && output.every((v) => typeof v === 'number')) return output;
  if (Array.isArray(output) && output.every((row) => Array.isArray(row) && row.every((v) => typeof v === 'number'))) {
    const rows = output;
    const dim = rows[0]?.length ?? 0;
    const mean = new Array<number>(dim).fill(0);
    for (const row of rows) for (let i = 0; i < dim; i++) mean[i]! += row[i]! / rows.length;
    return mean;
  }
  throw new DependencyError('the embeddings provider returned output of an unexpected shape', 'embeddings_bad_output');
}

export function parseBatch(output: unknown, expected: number): number[][] {
  if (!Array.isArray(output) || output.length !== expected) {
    throw new DependencyError(
      `the embeddings provider returned ${Array.isArray(output) ? output.length : 'no'} vectors for ${expected} texts`,
      'embeddings_bad_output',
    );
  }
  const vectors = output.map((o) => normalise(toVector(o)));
  const dim = vectors[0]!.length;
  if (vectors.some((v) => v.length !== dim))
    throw new DependencyError('the embeddings provider returned vectors of different sizes', 'embeddings_bad_output');
  return vectors;
}

interface Attempt {
  status?: number;
  retryAfterMs?: number;
}

function statusOf(err: unknown): number | undefined {
  const e = err as { httpResponse?: { status?: number }; status?: number };
  return e?.httpResponse?.status ?? e?.status;
}

export function createEmbedder(config: Config, options: EmbedderOptions = {}, call?: EmbedCall): Embedder | null {
  if (!config.embeddingsUrl && !config.hfToken) return null;
  const provider = config.embeddingsUrl ? new URL(config.embeddingsUrl).host : 'Hugging Face Inference';
  const batchSize = options.batchSize ?? 32;
  const concurrency = options.concurrency ?? 8;
  const attempts = options.attempts ?? 4;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxWait = options.maxRetryWaitMs ?? 10_000;
  const backoff = options.backoffMs ?? 500;

  const defaultCall: EmbedCall = async (texts, signal, fetchImpl) => {
    const { featureExtraction } = await import('@huggingface/inference');
    const args = config.embeddingsUrl
      ? { endpointUrl: config.embeddingsUrl, inputs: texts, accessToken: config.hfToken ?? undefined }
      : { model: config.embeddingsModel, provider: 'hf-inference' as const, inputs: texts, accessToken: config.hfToken ?? undefined };
    // retry_on_error: false — the client would otherwise retry 503s by itself, without limit.
    return featureExtraction(args, { retry_on_error: false, signal, fetch: fetchImpl });
  };
  const rawCall = call ?? defaultCall;

  // Not p-retry: its wait comes from the attempt count alone (no Retry-After), and it never
  // retries a TypeError that is not a network error, where any failure without a status is retried here.
  async function embedBatch(texts: string[], outer?: AbortSignal): Promise<number[][]> {
    let lastError: unknown;
    let tried = 0;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      tried = attempt;
      const seen: Attempt = {};
      // A fetch that remembers the status and Retry-After of the response (the client hides headers).
      const recordingFetch: FetchLike = async (input, init) => {
        const response = await fetch(input, init);
        seen.status = response.status;
        seen.retryAfterMs = parseRetryAfter(response.headers.get('retry-after')) ?? undefined;
        return response;
      };
      const signal = outer ? AbortSignal.any([outer, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
      try {
        const output = await rawCall(texts, signal, recordingFetch);
        return parseBatch(output, texts.length);
      } catch (err) {
        if (outer?.aborted) throw outer.reason;
        lastError = err;
        const status = statusOf(err) ?? seen.status;
        const retryable =
          status === undefined || status === 429 || status === 408 || status >= 500 || (err as Error)?.name === 'TimeoutError';
        if (!retryable || attempt === attempts || err instanceof DependencyError) break;
        const wait = status === 429 && seen.retryAfterMs !== undefined ? seen.retryAfterMs : backoff * 2 ** (attempt - 1);
        options.onRetry?.(attempt, Math.min(maxWait, wait));
        await sleep(Math.min(maxWait, wait), undefined, { signal: outer });
      }
    }
    throw describeFailure(lastError, provider, tried);
  }

  return {
    model: config.embeddingsModel,
    provider,
    async embed(texts, opts = {}) {
      const batches: string[][] = [];
      for (let i = 0; i < texts.length; i += batchSize) batches.push(texts.slice(i, i + batchSize));
      let done = 0;
      let failed: unknown = null;
      // After a failure no new batch starts, and those in flight finish before the error is thrown.
      const parts = await pMap(
        batches,
        async (batch) => {
          if (failed !== null) return [];
          try {
            const vectors = await embedBatch(batch, opts.signal);
            done += batch.length;
            opts.onProgress?.(done);
            return vectors;
          } catch (err) {
            failed ??= err;
            return [];
          }
        },
        { concurrency },
      );
      if (failed !== null) throw failed;
      return parts.flat();
    },
  };
}

function describeFailure(err: unknown, provider: string, attempts: number): Error {
  if (err instanceof DependencyError) return err;
  const status = statusOf(err);
  const what =
    status === 401 || status === 403
      ? 'the token was refused — check HF_TOKEN'
      : status === 404
        ? 'the model or endpoint was not found — check EMBEDDINGS_MODEL / EMBEDDINGS_URL'
        : status === 429
          ? 'rate limited'
          : status
            ? `HTTP ${status}`
            : (err as Error)?.name === 'TimeoutError'
              ? 'timed out'
              : ((err as Error)?.message ?? String(err));
  return new DependencyError(
    `embeddings from ${provider} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${what}`,
    'embeddings_failed',
    {
      cause: err,
    },
  );
}
