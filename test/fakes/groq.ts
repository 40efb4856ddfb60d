/**
 * Fake Groq (OpenAI-style) HTTP server for tests, driven by the real groq-sdk.
 *
 * groq-sdk is configured with `new Groq({ apiKey, baseURL: fake.baseURL, maxRetries: 0 })`
 * and POSTs `{baseURL}/openai/v1/chat/completions`.
 */
import http from 'node:http';
import { Lifecycle, sendJson } from './http.js';
import type { AddressInfo } from 'node:net';

export interface ChatMessage {
  role: string;
  content?: unknown;
  [k: string]: unknown;
}

export interface ChatRequestBody {
  model?: string;
  messages?: ChatMessage[];
  stream?: boolean;
  [k: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  /** Path without query string, e.g. `/openai/v1/chat/completions`. */
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body (undefined for GET or unparseable bodies). */
  body: ChatRequestBody | undefined;
  /** Date.now() when the request body had been fully received. */
  receivedAt: number;
  /** The behaviour kind that answered this request. */
  answeredWith?: GroqBehavior['kind'];
}

export type ReplyFn = (body: ChatRequestBody) => string;

export type GroqBehavior =
  | {
      kind: 'ok';
      /** Reply text or a function of the request body. Default: {@link echoReply}. */
      reply?: string | ReplyFn;
      /** Characters per streamed chunk (default 8). */
      chunkSize?: number;
      /** Delay between streamed content chunks in ms (default 0). */
      delayMs?: number;
      /** Delay before the first byte (headers) in ms (default 0); also applies to non-streaming. */
      ttftMs?: number;
    }
  | { kind: 'rateLimit'; retryAfterSec: number; times?: number }
  | { kind: 'error'; status: 500 | 502 | 503; times?: number }
  | { kind: 'hang' }
  | {
      kind: 'cut';
      /** Number of reply characters streamed before the socket is destroyed. */
      afterChars: number;
      reply?: string | ReplyFn;
      chunkSize?: number;
    }
  | { kind: 'unauthorized' };

export interface FakeGroqOptions {
  /** When set, any request whose bearer token differs gets 401. */
  apiKey?: string;
  /** Initial behaviour (default `{ kind: 'ok' }`). */
  behavior?: GroqBehavior;
  /** Known model ids for /openai/v1/models (default includes llama-3.3-70b-versatile). */
  models?: string[];
}

export interface FakeGroq {
  /** Pass as groq-sdk `baseURL`, e.g. `http://127.0.0.1:PORT`. */
  readonly baseURL: string;
  readonly port: number;
  /** Every request received (all paths), in arrival order. */
  readonly requests: RecordedRequest[];
  /** Only POST /openai/v1/chat/completions requests. */
  chatRequests(): RecordedRequest[];
  setBehavior(b: GroqBehavior): void;
  readonly behavior: GroqBehavior;
  close(): Promise<void>;
}

export const DEFAULT_MODELS = ['llama-3.3-70b-versatile', 'llama-3.1-8b-instant', 'openai/gpt-oss-20b'];

/** Text of the last `user` message (string content, or the text parts of array content). */
export function lastUserMessage(body: ChatRequestBody | undefined): string {
  const msgs = body?.messages ?? [];
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i];
    if (m?.role === 'user') return contentText(m.content);
  }
  return '';
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : ''))
      .join('');
  }
  return '';
}

/** Default deterministic reply: `Echo: <last user message>`. */
export const echoReply: ReplyFn = (body) => `Echo: ${lastUserMessage(body)}`;

/**
 * Build a reply function from the last user message, e.g.
 * `replyFromLastUser((q) => q.includes('refund') ? 'See [1].' : 'I do not know.')`.
 */
export function replyFromLastUser(fn: (lastUser: string, body: ChatRequestBody) => string): ReplyFn {
  return (body) => fn(lastUserMessage(body), body);
}

/** Crude token estimate used for fake usage numbers (chars / 4, rounded up). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function promptText(body: ChatRequestBody | undefined): string {
  return (body?.messages ?? []).map((m) => contentText(m.content)).join('\n');
}

function usageFor(body: ChatRequestBody | undefined, reply: string) {
  const prompt_tokens = estimateTokens(promptText(body));
  const completion_tokens = estimateTokens(reply);
  return {
    queue_time: 0.001,
    prompt_tokens,
    prompt_time: 0.002,
    completion_tokens,
    completion_time: 0.003,
    total_tokens: prompt_tokens + completion_tokens,
    total_time: 0.005,
  };
}

function resolveReply(reply: string | ReplyFn | undefined, body: ChatRequestBody | undefined): string {
  if (typeof reply === 'string') return reply;
  return (reply ?? echoReply)(body ?? {});
}

function chunks(text: string, size: number): string[] {
  const n = Math.max(1, Math.floor(size));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += n) out.push(text.slice(i, i + n));
  return out;
}

export async function startFakeGroq(opts: FakeGroqOptions = {}): Promise<FakeGroq> {
  let behavior: GroqBehavior = opts.behavior ?? { kind: 'ok' };
  /** Requests answered by the current (counted) behaviour; reset by setBehavior. */
  let counted = 0;
  const models = opts.models ?? DEFAULT_MODELS;
  const requests: RecordedRequest[] = [];
  const life = new Lifecycle();
  const sockets = life.sockets;
  let seq = 0;

  const sleep = (ms: number) => life.sleep(ms);

  const errorJson = (message: string, type: string, code: string) => ({ error: { message, type, code } });

  /** Pick the effective behaviour for a chat request, honouring `times`. */
  const effective = (): GroqBehavior => {
    const b = behavior;
    if ((b.kind === 'rateLimit' || b.kind === 'error') && b.times !== undefined) {
      if (counted >= b.times) return { kind: 'ok' };
      counted++;
    }
    return b;
  };

  const handleChat = async (req: http.IncomingMessage, res: http.ServerResponse, rec: RecordedRequest) => {
    const body = rec.body;
    if (!body || !Array.isArray(body.messages)) {
      rec.answeredWith = undefined;
      return sendJson(res, 400, errorJson("'messages' : property 'messages' is missing", 'invalid_request_error', 'invalid_request_error'));
    }
    const b = effective();
    rec.answeredWith = b.kind;
    const model = body.model ?? 'llama-3.3-70b-versatile';
    const id = `chatcmpl-fake-${++seq}`;
    const created = Math.floor(Date.now() / 1000);

    switch (b.kind) {
      case 'unauthorized':
        return sendJson(res, 401, errorJson('Invalid API Key', 'invalid_request_error', 'invalid_api_key'));
      case 'rateLimit':
        return sendJson(
          res,
          429,
          errorJson(
            `Rate limit reached for model \`${model}\` on tokens per minute (TPM). Please try again in ${b.retryAfterSec}s.`,
            'tokens',
            'rate_limit_exceeded',
          ),
          { 'retry-after': String(b.retryAfterSec) },
        );
      case 'error': {
        const msg = b.status === 503 ? 'Service Unavailable' : b.status === 502 ? 'Bad Gateway' : 'Internal Server Error';
        return sendJson(res, b.status, errorJson(msg, 'internal_server_error', 'internal_server_error'));
      }
      case 'hang':
        // Accept and never answer; close() destroys the socket.
        return;
      case 'ok':
      case 'cut': {
        const reply = resolveReply(b.reply, body);
        const usage = usageFor(body, reply);
        if (b.kind === 'ok' && b.ttftMs) await sleep(b.ttftMs);
        if (life.closed || res.destroyed) return;

        if (!body.stream) {
          if (b.kind === 'cut') {
            // Send headers and part of the body, then drop the connection.
            res.writeHead(200, { 'content-type': 'application/json' });
            const partial = JSON.stringify({
              id,
              object: 'chat.completion',
              choices: [{ message: { content: reply.slice(0, b.afterChars) } }],
            }).slice(0, -3);
            await new Promise<void>((resolve) => res.write(partial, () => resolve()));
            await sleep(20);
            res.socket?.destroy();
            return;
          }
          return sendJson(
            res,
            200,
            {
              id,
              object: 'chat.completion',
              created,
              model,
              system_fingerprint: 'fp_fake',
              choices: [{ index: 0, message: { role: 'assistant', content: reply }, logprobs: null, finish_reason: 'stop' }],
              usage,
              x_groq: { id: `req_fake_${seq}` },
            },
            { 'x-request-id': `req_fake_${seq}` },
          );
        }

        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
          'x-request-id': `req_fake_${seq}`,
        });
        const base = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake' };
        const send = (obj: unknown) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
        send({
          ...base,
          choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
          x_groq: { id: `req_fake_${seq}` },
        });
        const size = b.chunkSize ?? 8;
        const text = b.kind === 'cut' ? reply.slice(0, Math.max(0, b.afterChars)) : reply;
        const parts = chunks(text, size);
        for (let i = 0; i < parts.length; i++) {
          if (i > 0 && b.kind === 'ok' && b.delayMs) await sleep(b.delayMs);
          if (life.closed || res.destroyed) return;
          send({ ...base, choices: [{ index: 0, delta: { content: parts[i] }, logprobs: null, finish_reason: null }] });
        }
        if (b.kind === 'cut') {
          // Make sure the partial data is flushed before the connection is killed.
          await new Promise<void>((resolve) => res.write('', () => resolve()));
          await sleep(20);
          res.socket?.destroy();
          return;
        }
        if (b.delayMs) await sleep(b.delayMs);
        if (life.closed || res.destroyed) return;
        send({
          ...base,
          choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }],
          x_groq: { id: `req_fake_${seq}`, usage },
          usage,
        });
        res.end('data: [DONE]\n\n');
        return;
      }
    }
  };

  const server = http.createServer((req, res) => {
    const chunksIn: Buffer[] = [];
    req.on('data', (c: Buffer) => chunksIn.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunksIn).toString('utf8');
      let body: ChatRequestBody | undefined;
      if (raw) {
        try {
          body = JSON.parse(raw) as ChatRequestBody;
        } catch {
          body = undefined;
        }
      }
      const path = (req.url ?? '/').split('?')[0]!;
      const rec: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body, receivedAt: Date.now() };
      requests.push(rec);

      if (opts.apiKey !== undefined) {
        const auth = req.headers.authorization ?? '';
        if (auth !== `Bearer ${opts.apiKey}`) {
          rec.answeredWith = 'unauthorized';
          return sendJson(res, 401, errorJson('Invalid API Key', 'invalid_request_error', 'invalid_api_key'));
        }
      }

      if (req.method === 'POST' && path === '/openai/v1/chat/completions') {
        handleChat(req, res, rec).catch((err: unknown) => {
          if (!res.headersSent) sendJson(res, 500, errorJson(String(err), 'internal_server_error', 'fake_error'));
          else res.destroy();
        });
        return;
      }
      if (req.method === 'GET' && path === '/openai/v1/models') {
        if (behavior.kind === 'unauthorized') {
          return sendJson(res, 401, errorJson('Invalid API Key', 'invalid_request_error', 'invalid_api_key'));
        }
        return sendJson(res, 200, {
          object: 'list',
          data: models.map((m) => ({
            id: m,
            object: 'model',
            created: 1700000000,
            owned_by: 'Fake',
            active: true,
            context_window: 131072,
          })),
        });
      }
      const m = /^\/openai\/v1\/models\/(.+)$/.exec(path);
      if (req.method === 'GET' && m) {
        const idm = decodeURIComponent(m[1]!);
        if (behavior.kind === 'unauthorized') {
          return sendJson(res, 401, errorJson('Invalid API Key', 'invalid_request_error', 'invalid_api_key'));
        }
        if (models.includes(idm)) {
          return sendJson(res, 200, {
            id: idm,
            object: 'model',
            created: 1700000000,
            owned_by: 'Fake',
            active: true,
            context_window: 131072,
          });
        }
        return sendJson(
          res,
          404,
          errorJson(`The model \`${idm}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found'),
        );
      }
      return sendJson(res, 404, errorJson(`Unknown request URL: ${req.method} ${path}`, 'invalid_request_error', 'unknown_url'));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    baseURL: `http://127.0.0.1:${port}`,
    port,
    requests,
    chatRequests: () => requests.filter((r) => r.method === 'POST' && r.path === '/openai/v1/chat/completions'),
    setBehavior(b: GroqBehavior) {
      behavior = b;
      counted = 0;
    },
    get behavior() {
      return behavior;
    },
    close: () => life.close(server),
  };
}
