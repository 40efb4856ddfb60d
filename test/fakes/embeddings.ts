/**
 * Fake TEI / Hugging Face feature-extraction server for tests, driven by the real
 * @huggingface/inference client:
 *
 *   new InferenceClient().featureExtraction({ endpointUrl: fake.url, inputs: [...] })
 *
 * posts `{"inputs": [...]}` to `endpointUrl` as is. Any POST path is accepted (TEI serves both
 * `/` and `/embed`), so `fake.url` and `fake.url + '/embed'` both work.
 *
 * Vectors come from {@link fakeEmbed}: a deterministic, L2-normalised hashed bag of stemmed words
 * plus lower-weighted character trigrams, so texts sharing (stemmed) words land close together.
 */
import http from 'node:http';
import { Lifecycle, sendJson } from './http.js';
import type { AddressInfo } from 'node:net';

// ---------------------------------------------------------------------------------------------
// Pure embedding function
// ---------------------------------------------------------------------------------------------

export const DEFAULT_DIM = 384;

export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a an and are as at be been being but by can could did do does doing for from had has have having he her ' +
    'hers him his how i if in into is it its itself just me my no nor not of off on once only or other our ours ' +
    'out over own same she should so some such than that the their theirs them then there these they this those ' +
    'through to too under until up very was we were what when where which while who whom why will with would you ' +
    'your yours yourself about again all am any because before below between both during each few further here more ' +
    'most after above against s t'
  ).split(/\s+/),
);

/** 32-bit FNV-1a hash of a string (UTF-16 code units), with an optional seed mixed in. */
export function fnv1a(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const VOWEL = /[aeiouy]/;

/** Crude suffix-stripping stemmer: refunds/refunded/refunding → refund; creation/created → creat. */
export function stem(word: string): string {
  let w = word;
  if (w.length <= 3 || /^\d+$/.test(w)) return w;
  const rules: Array<[string, string]> = [
    ['ational', 'ate'],
    ['ization', 'ize'],
    ['fulness', 'ful'],
    ['iveness', 'ive'],
    ['ation', 'ate'],
    ['ments', ''],
    ['ment', ''],
    ['ness', ''],
    ['ingly', ''],
    ['edly', ''],
    ['ies', 'y'],
    ['ied', 'y'],
    ['ing', ''],
    ['ers', ''],
    ['er', ''],
    ['ed', ''],
    ['ly', ''],
    ['es', ''],
    ['s', ''],
  ];
  for (const [suf, rep] of rules) {
    if (!w.endsWith(suf)) continue;
    const base = w.slice(0, -suf.length);
    if (base.length < 3 || !VOWEL.test(base)) continue;
    if (suf === 's' && (base.endsWith('s') || base.endsWith('u') || base.endsWith('i'))) break; // class, bus, analysis
    if (suf === 'es' && !/(?:s|x|z|ch|sh)$/.test(base)) {
      // "files" → "file" rather than "fil": strip just the "s"
      w = w.slice(0, -1);
      break;
    }
    w = base + rep;
    break;
  }
  // "validate"/"validation" → "valid"; keep short stems like "creat(e)", "updat(e)".
  if (w.endsWith('ate') && w.length - 3 >= 5) w = w.slice(0, -3);
  // running → runn → run (but keep ll/ss/zz: "install", "access").
  if (/([b-df-hj-km-np-rtv-xz])\1$/.test(w) && !/(ll|ss|zz)$/.test(w)) w = w.slice(0, -1);
  // create/created/creating → creat
  if (w.length > 3 && w.endsWith('e')) w = w.slice(0, -1);
  return w;
}

/** Lowercase, split on anything that is not a letter or digit, drop stop words, stem. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (!raw || STOP_WORDS.has(raw)) continue;
    out.push(stem(raw));
  }
  return out;
}

const WORD_WEIGHT = 1;
const WORD_BUCKETS = 2;
const TRIGRAM_WEIGHT = 0.3;

function addFeature(v: Float64Array, feature: string, weight: number, buckets: number): void {
  const dim = v.length;
  for (let k = 0; k < buckets; k++) {
    const h = fnv1a(feature, k * 0x9e3779b1);
    const idx = h % dim;
    const sign = (h >>> 31) & 1 ? -1 : 1;
    v[idx] = v[idx]! + sign * weight;
  }
}

/**
 * Deterministic unit-length embedding of `text` in `dim` dimensions. Each stemmed token adds ±1 to
 * two hashed buckets; each character trigram of the stemmed token (with word-boundary markers) adds
 * ±0.3 to one bucket. Texts with no tokens (empty / stop words only) still get a unit vector.
 */
export function fakeEmbed(text: string, dim: number = DEFAULT_DIM): number[] {
  if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`dim must be a positive integer, got ${dim}`);
  const v = new Float64Array(dim);
  const tokens = tokenize(text);
  for (const t of tokens) {
    addFeature(v, `w:${t}`, WORD_WEIGHT, WORD_BUCKETS);
    const padded = `^${t}$`;
    for (let i = 0; i + 3 <= padded.length; i++) addFeature(v, `c:${padded.slice(i, i + 3)}`, TRIGRAM_WEIGHT, 1);
  }
  let norm = 0;
  for (let i = 0; i < dim; i++) norm += v[i]! * v[i]!;
  if (norm === 0) {
    addFeature(v, `empty:${text}`, 1, 1);
    norm = 1;
  }
  const inv = 1 / Math.sqrt(norm);
  const out = new Array<number>(dim);
  for (let i = 0; i < dim; i++) out[i] = v[i]! * inv;
  return out;
}

/** Cosine similarity of two equal-length vectors. */
export function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError(`length mismatch ${a.length} vs ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

// ---------------------------------------------------------------------------------------------
// HTTP server
// ---------------------------------------------------------------------------------------------

export type EmbeddingsBehavior =
  | { kind: 'ok'; delayMs?: number }
  | { kind: 'error'; status: 500 | 503; times?: number }
  | { kind: 'rateLimit'; retryAfterSec: number; times?: number }
  /** The first `requests` embed requests (counted from setBehavior) succeed, the rest get 500. */
  | { kind: 'failAfter'; requests: number }
  | { kind: 'hang' };

export interface FakeEmbeddingsOptions {
  /** Vector dimension (default 384). */
  dim?: number;
  /** If an array input is longer than this, answer 413 (as TEI does). */
  maxBatch?: number;
  /** When set, requests whose `Authorization: Bearer` differs get 401. */
  apiKey?: string;
  behavior?: EmbeddingsBehavior;
}

export interface EmbedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Raw `inputs` value (string or string[]); undefined if the body had none. */
  inputs: string | string[] | undefined;
  /** Number of texts (1 for a single string). */
  batchSize: number;
  receivedAt: number;
  /** HTTP status answered (undefined while hanging / never answered). */
  status?: number;
}

export interface FakeEmbeddings {
  /** Pass as @huggingface/inference `endpointUrl`: `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  readonly dim: number;
  /** Every POST embed request, in arrival order. */
  readonly requests: EmbedRequest[];
  /** Sum of batch sizes of requests answered 200. */
  textsEmbedded(): number;
  /** Most embed requests open at once since the last setBehavior. */
  peakInFlight(): number;
  setBehavior(b: EmbeddingsBehavior): void;
  readonly behavior: EmbeddingsBehavior;
  close(): Promise<void>;
}

export async function startFakeEmbeddings(opts: FakeEmbeddingsOptions = {}): Promise<FakeEmbeddings> {
  const dim = opts.dim ?? DEFAULT_DIM;
  if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`dim must be a positive integer, got ${dim}`);
  let behavior: EmbeddingsBehavior = opts.behavior ?? { kind: 'ok' };
  let counted = 0;
  const requests: EmbedRequest[] = [];
  let inFlight = 0;
  let peak = 0;
  const life = new Lifecycle();
  const sockets = life.sockets;

  const sleep = (ms: number) => life.sleep(ms);

  const teiError = (error: string, error_type: string) => ({ error, error_type });

  const effective = (): EmbeddingsBehavior => {
    const b = behavior;
    if ((b.kind === 'error' || b.kind === 'rateLimit') && b.times !== undefined) {
      if (counted >= b.times) return { kind: 'ok' };
      counted++;
      return b;
    }
    if (b.kind === 'failAfter') {
      counted++;
      return counted <= b.requests ? { kind: 'ok' } : { kind: 'error', status: 500 };
    }
    return b;
  };

  const handleEmbed = async (res: http.ServerResponse, rec: EmbedRequest) => {
    const reply = (status: number, body: unknown, headers?: Record<string, string>) => {
      rec.status = status;
      sendJson(res, status, body, headers);
    };
    const inputs = rec.inputs;
    const valid = typeof inputs === 'string' || (Array.isArray(inputs) && inputs.every((x) => typeof x === 'string'));
    if (!valid)
      return reply(422, teiError('Failed to deserialize the JSON body: `inputs` must be a string or an array of strings', 'Validation'));
    if (Array.isArray(inputs) && inputs.length === 0) return reply(422, teiError('`inputs` cannot be empty', 'Validation'));
    if (opts.maxBatch !== undefined && Array.isArray(inputs) && inputs.length > opts.maxBatch) {
      return reply(413, teiError(`batch size ${inputs.length} > maximum allowed batch size ${opts.maxBatch}`, 'Validation'));
    }
    const b = effective();
    switch (b.kind) {
      case 'hang':
        return;
      case 'error':
        return reply(
          b.status,
          teiError(b.status === 503 ? 'Model is overloaded' : 'Internal server error', b.status === 503 ? 'Overloaded' : 'Backend'),
        );
      case 'rateLimit':
        return reply(429, teiError('Rate limit reached. Please retry later.', 'Overloaded'), {
          'retry-after': String(b.retryAfterSec),
        });
      case 'failAfter': // not reachable: effective() maps it to ok / error
      case 'ok': {
        if (b.kind === 'ok' && b.delayMs) await sleep(b.delayMs);
        if (life.closed || res.destroyed) return;
        const out = typeof inputs === 'string' ? fakeEmbed(inputs, dim) : inputs.map((t) => fakeEmbed(t, dim));
        return reply(200, out);
      }
    }
  };

  const server = http.createServer((req, res) => {
    const bufs: Buffer[] = [];
    req.on('data', (c: Buffer) => bufs.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
        return sendJson(res, 401, teiError('Unauthorized', 'Unauthorized'));
      }
      if (req.method === 'GET') {
        if (path === '/health') {
          res.writeHead(200);
          return res.end();
        }
        if (path === '/info') {
          return sendJson(res, 200, {
            model_id: 'fake/bag-of-words',
            model_dtype: 'float32',
            model_type: { embedding: { pooling: 'mean' } },
            max_client_batch_size: opts.maxBatch ?? 32,
            max_input_length: 512,
            version: 'fake',
          });
        }
        return sendJson(res, 404, teiError(`Not found: ${path}`, 'NotFound'));
      }
      if (req.method !== 'POST') return sendJson(res, 405, teiError('Method not allowed', 'Validation'));

      let body: { inputs?: unknown } | undefined;
      try {
        body = JSON.parse(Buffer.concat(bufs).toString('utf8')) as { inputs?: unknown };
      } catch {
        body = undefined;
      }
      const inputs = body?.inputs as string | string[] | undefined;
      const rec: EmbedRequest = {
        method: req.method,
        path,
        headers: req.headers,
        inputs,
        batchSize: Array.isArray(inputs) ? inputs.length : typeof inputs === 'string' ? 1 : 0,
        receivedAt: Date.now(),
      };
      requests.push(rec);
      peak = Math.max(peak, ++inFlight);
      res.once('close', () => inFlight--);
      handleEmbed(res, rec).catch((err: unknown) => {
        if (!res.headersSent) {
          rec.status = 500;
          sendJson(res, 500, teiError(String(err), 'Backend'));
        } else res.destroy();
      });
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
    url: `http://127.0.0.1:${port}`,
    port,
    dim,
    requests,
    textsEmbedded: () => requests.filter((r) => r.status === 200).reduce((n, r) => n + r.batchSize, 0),
    peakInFlight: () => peak,
    setBehavior(b: EmbeddingsBehavior) {
      behavior = b;
      counted = 0;
      peak = inFlight;
    },
    get behavior() {
      return behavior;
    },
    close: () => life.close(server),
  };
}
