/**
 * Groq chat completions through groq-sdk, streamed. groq-sdk's own retries are off
 * (maxRetries: 0: it would sleep any Retry-After in full); ours are capped: a 429 waits its
 * Retry-After while the total wait stays within ~10 s, 5xx and timeouts get 2 retries with
 * backoff, and each request has a timeout. Retries happen only before any text was shown, and
 * all of it (attempts, backoff, Retry-After waits) fits in one first-token budget: past it the
 * caller gives the retrieval-only answer instead of keeping the user waiting.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.js';
import { parseRetryAfter } from '../util/retry-after.js';
import type { ChatMessage } from './prompt.js';

export interface ChatUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface ChatOutcome {
  text: string;
  usage: ChatUsage | null;
  finishReason: string | null;
}

export interface ChatClient {
  readonly model: string;
  /** Streams the answer; deltas go to onDelta. Throws ChatFailure (with any partial text). */
  stream(
    messages: ChatMessage[],
    options: { maxTokens: number; signal?: AbortSignal; onDelta?: (text: string) => void },
  ): Promise<ChatOutcome>;
  /** One short completion, not streamed, no retry (for the follow-up rewrite). Throws ChatFailure. */
  complete?(
    messages: ChatMessage[],
    options: { model: string; maxTokens: number; timeoutMs: number; signal?: AbortSignal },
  ): Promise<{ text: string; usage: ChatUsage | null }>;
  /** For doctor: the key works and the model exists. */
  check(): Promise<string>;
}

export class ChatFailure extends Error {
  constructor(
    message: string,
    /** 'rate_limited' | 'unavailable' | 'timeout' | 'auth' | 'interrupted' | 'bad_request' */
    readonly kind: string,
    /** Text already streamed before the failure ('' if none). */
    readonly partial: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ChatFailure';
  }
}

/**
 * The first streamed token must arrive within this long of the call, retries and Retry-After
 * waits included; otherwise the stream fails with kind 'timeout'.
 */
export const FIRST_TOKEN_BUDGET_MS = 10_000;

export interface ChatClientOptions {
  /** Total time 429 waits may add up to (default 10 s; the first-token budget caps it too). */
  maxRateLimitWaitMs?: number;
  /** Retries after 5xx or timeouts (default 2). */
  serverRetries?: number;
  backoffMs?: number;
  /** Until the first token, every attempt and wait included (default FIRST_TOKEN_BUDGET_MS). */
  firstTokenBudgetMs?: number;
  /** Until the first token of one attempt (default: the whole budget). */
  firstTokenTimeoutMs?: number;
  /** Whole answer (default 90 s). */
  totalTimeoutMs?: number;
  temperature?: number;
}

interface ApiErrorLike {
  status?: number;
  headers?: { get?(name: string): string | null } | Record<string, string>;
  name?: string;
  message?: string;
}

function header(err: ApiErrorLike, name: string): string | null {
  const h = err.headers;
  if (!h) return null;
  if (typeof (h as { get?: unknown }).get === 'function') return (h as { get(n: string): string | null }).get(name);
  return (h as Record<string, string>)[name] ?? null;
}

function retryAfterMs(err: ApiErrorLike): number | null {
  return parseRetryAfter(header(err, 'retry-after'));
}

export async function createChatClient(config: Config, options: ChatClientOptions = {}): Promise<ChatClient | null> {
  if (!config.groqApiKey) return null;
  const { default: Groq } = await import('groq-sdk');
  const client = new Groq({
    apiKey: config.groqApiKey,
    baseURL: config.groqBaseUrl ?? undefined,
    maxRetries: 0,
    timeout: options.totalTimeoutMs ?? 90_000,
  });
  const maxRateWait = options.maxRateLimitWaitMs ?? 10_000;
  const serverRetries = options.serverRetries ?? 2;
  const backoff = options.backoffMs ?? 500;
  const firstTokenBudget = options.firstTokenBudgetMs ?? FIRST_TOKEN_BUDGET_MS;
  const firstTokenTimeout = options.firstTokenTimeoutMs ?? firstTokenBudget;

  async function attempt(
    messages: ChatMessage[],
    maxTokens: number,
    outer: AbortSignal | undefined,
    onDelta: ((t: string) => void) | undefined,
    firstTokenTimeout: number,
  ): Promise<ChatOutcome> {
    const controller = new AbortController();
    const abort = () => controller.abort(outer?.reason);
    outer?.addEventListener('abort', abort, { once: true });
    let text = '';
    const firstToken = setTimeout(() => controller.abort(new ChatFailure('Groq sent nothing in time', 'timeout', '')), firstTokenTimeout);
    try {
      const stream = await client.chat.completions.create(
        { model: config.groqModel, messages, stream: true, max_tokens: maxTokens, temperature: options.temperature ?? 0.3 },
        { signal: controller.signal },
      );
      let usage: ChatUsage | null = null;
      let finishReason: string | null = null;
      for await (const chunk of stream) {
        clearTimeout(firstToken);
        const choice = chunk.choices?.[0];
        const delta = choice?.delta?.content;
        if (delta) {
          text += delta;
          onDelta?.(delta);
        }
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        const u =
          (
            chunk as {
              x_groq?: { usage?: { prompt_tokens: number; completion_tokens: number } };
              usage?: { prompt_tokens: number; completion_tokens: number } | null;
            }
          ).x_groq?.usage ?? (chunk as { usage?: { prompt_tokens: number; completion_tokens: number } | null }).usage;
        if (u) usage = { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens };
      }
      if (finishReason === null) throw new ChatFailure('the answer stream ended early', 'interrupted', text);
      return { text, usage, finishReason };
    } catch (err) {
      if (err instanceof ChatFailure) throw new ChatFailure(err.message, err.kind, text, { cause: err });
      const reason: unknown = controller.signal.reason;
      if (reason instanceof ChatFailure) throw new ChatFailure(reason.message, reason.kind, text, { cause: err });
      if (outer?.aborted) throw new ChatFailure('the answer was cancelled', 'interrupted', text, { cause: err });
      const e = err as ApiErrorLike;
      if (text) throw new ChatFailure(`the answer stream was cut: ${e.message ?? String(err)}`, 'interrupted', text, { cause: err });
      if (e.status === 429)
        throw Object.assign(new ChatFailure('Groq rate limit', 'rate_limited', '', { cause: err }), { retryAfterMs: retryAfterMs(e) });
      if (e.status === 401 || e.status === 403)
        throw new ChatFailure('Groq refused the API key (check GROQ_API_KEY)', 'auth', '', { cause: err });
      if (e.status === 404)
        throw new ChatFailure(`Groq does not know the model ${config.groqModel} (check GROQ_MODEL)`, 'bad_request', '', { cause: err });
      if (e.status && e.status >= 400 && e.status < 500)
        throw new ChatFailure(`Groq rejected the request (HTTP ${e.status})`, 'bad_request', '', { cause: err });
      if (e.name === 'APIConnectionTimeoutError') throw new ChatFailure('Groq timed out', 'timeout', '', { cause: err });
      throw new ChatFailure(`Groq is unavailable${e.status ? ` (HTTP ${e.status})` : ''}`, 'unavailable', '', { cause: err });
    } finally {
      clearTimeout(firstToken);
      outer?.removeEventListener('abort', abort);
    }
  }

  return {
    model: config.groqModel,
    // Not p-retry: its wait comes from the attempt count alone (no Retry-After), it keeps one
    // retry count where 429s and 5xx have separate budgets, and it shortens a wait to the time
    // left where this gives up (a retry needs time for its own answer).
    async stream(messages, { maxTokens, signal, onDelta }) {
      const deadline = performance.now() + firstTokenBudget;
      const left = () => deadline - performance.now();
      let rateWaited = 0;
      let serverFailures = 0;
      for (;;) {
        try {
          return await attempt(messages, maxTokens, signal, onDelta, Math.max(1, Math.min(firstTokenTimeout, left())));
        } catch (err) {
          const failure = err as ChatFailure & { retryAfterMs?: number | null };
          if (failure.partial || signal?.aborted) throw failure;
          // A retry needs time left for its own answer after the wait.
          if (failure.kind === 'rate_limited') {
            const wait = failure.retryAfterMs ?? backoff * 2;
            if (rateWaited + wait > maxRateWait || wait >= left()) throw failure;
            rateWaited += wait;
            await sleep(wait, undefined, { signal });
            continue;
          }
          if ((failure.kind === 'unavailable' || failure.kind === 'timeout') && serverFailures < serverRetries) {
            const wait = backoff * 2 ** serverFailures;
            if (wait >= left()) throw failure;
            await sleep(wait, undefined, { signal });
            serverFailures++;
            continue;
          }
          throw failure;
        }
      }
    },
    async complete(messages, { model, maxTokens, timeoutMs, signal }) {
      try {
        const r = await client.chat.completions.create(
          { model, messages, max_tokens: maxTokens, temperature: 0 },
          { timeout: timeoutMs, signal, maxRetries: 0 },
        );
        const u = r.usage;
        return {
          text: r.choices[0]?.message?.content ?? '',
          usage: u ? { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens } : null,
        };
      } catch (err) {
        throw new ChatFailure(`the rewrite request failed: ${err instanceof Error ? err.message : String(err)}`, 'unavailable', '', {
          cause: err,
        });
      }
    },
    async check() {
      try {
        const model = await client.models.retrieve(config.groqModel, { timeout: 10_000 });
        return model.id;
      } catch (err) {
        const e = err as ApiErrorLike;
        if (e.status === 401 || e.status === 403)
          throw new ChatFailure('Groq refused the API key (check GROQ_API_KEY)', 'auth', '', { cause: err });
        if (e.status === 404)
          throw new ChatFailure(`Groq has no model ${config.groqModel} (check GROQ_MODEL)`, 'bad_request', '', { cause: err });
        throw new ChatFailure(`Groq is unreachable: ${e.status ? `HTTP ${e.status}` : (e.message ?? String(err))}`, 'unavailable', '', {
          cause: err,
        });
      }
    },
  };
}
