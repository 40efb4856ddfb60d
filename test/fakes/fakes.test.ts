/**
 * Drives the REAL groq-sdk and @huggingface/inference clients against the fakes in this folder.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Groq, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from 'groq-sdk';
import { InferenceClient, InferenceClientProviderApiError, featureExtraction } from '@huggingface/inference';
import { echoReply, lastUserMessage, replyFromLastUser, startFakeGroq, type FakeGroq } from './groq.js';
import { cosine, fakeEmbed, startFakeEmbeddings, stem, tokenize, type FakeEmbeddings } from './embeddings.js';

const MODEL = 'llama-3.3-70b-versatile';

async function rejects<T extends Error>(p: Promise<unknown>, cls: abstract new (...args: never[]) => T): Promise<T> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${(err as Error)?.constructor?.name}: ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${cls.name} to be thrown`);
}

describe('fake Groq + groq-sdk', () => {
  let fake: FakeGroq;
  let groq: Groq;

  before(async () => {
    fake = await startFakeGroq({ apiKey: 'gsk_test' });
    groq = new Groq({ apiKey: 'gsk_test', baseURL: fake.baseURL, maxRetries: 0, timeout: 5_000 });
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.setBehavior({ kind: 'ok' });
    fake.requests.length = 0;
  });

  test('non-streaming completion with a reply built from the last user message', async () => {
    fake.setBehavior({ kind: 'ok', reply: replyFromLastUser((q) => (q.includes('refund') ? 'Refunds take 5 days [1].' : 'No idea.')) });
    const res = await groq.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: 'hello' },
        { role: 'assistant', content: 'hi' },
        { role: 'user', content: 'how do refunds work?' },
      ],
    });
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.choices[0]!.message.content, 'Refunds take 5 days [1].');
    assert.equal(res.choices[0]!.finish_reason, 'stop');
    assert.ok(res.usage && res.usage.prompt_tokens > 0 && res.usage.completion_tokens > 0);
    assert.equal(res.usage.total_tokens, res.usage.prompt_tokens + res.usage.completion_tokens);

    const [rec] = fake.chatRequests();
    assert.ok(rec);
    assert.equal(rec.path, '/openai/v1/chat/completions');
    assert.equal(rec.headers.authorization, 'Bearer gsk_test');
    assert.equal(rec.body?.model, MODEL);
    assert.equal(lastUserMessage(rec.body), 'how do refunds work?');
    assert.equal(rec.answeredWith, 'ok');
    assert.ok(rec.receivedAt <= Date.now());
  });

  test('default reply echoes the last user message', async () => {
    const res = await groq.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'ping' }] });
    assert.equal(res.choices[0]!.message.content, 'Echo: ping');
    assert.equal(echoReply({ messages: [{ role: 'user', content: 'ping' }] }), 'Echo: ping');
  });

  test('streaming yields chunks that join to the reply, then finish_reason stop with usage', async () => {
    const reply = 'The quick brown fox jumps over the lazy dog.';
    fake.setBehavior({ kind: 'ok', reply, chunkSize: 5, delayMs: 5, ttftMs: 50 });
    const t0 = Date.now();
    const stream = await groq.chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'go' }] });
    let text = '';
    let contentChunks = 0;
    let firstContentAt = 0;
    let last: Groq.Chat.ChatCompletionChunk | undefined;
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      const delta = chunk.choices[0]?.delta.content;
      if (delta) {
        if (!firstContentAt) firstContentAt = Date.now();
        contentChunks++;
        text += delta;
      }
      last = chunk;
    }
    assert.equal(text, reply);
    assert.equal(contentChunks, Math.ceil(reply.length / 5));
    assert.ok(firstContentAt - t0 >= 45, `ttft ${firstContentAt - t0}ms should honour ttftMs`);
    assert.equal(last?.choices[0]?.finish_reason, 'stop');
    const usage = last?.x_groq?.usage;
    assert.ok(usage, 'final chunk carries x_groq.usage');
    assert.equal(usage.completion_tokens, Math.ceil(reply.length / 4));
    assert.equal(fake.chatRequests()[0]?.body?.stream, true);
  });

  test('429 surfaces as RateLimitError with status and a readable retry-after; falls back to ok after `times`', async () => {
    fake.setBehavior({ kind: 'rateLimit', retryAfterSec: 7, times: 1 });
    const err = await rejects(groq.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }), RateLimitError);
    assert.equal(err.status, 429);
    assert.equal(err.headers.get('retry-after'), '7');
    assert.match(err.message, /^429 .*rate_limit_exceeded/);
    // groq-sdk stores the whole JSON body as `.error` (not body.error).
    assert.equal((err.error as { error: { code: string } }).error.code, 'rate_limit_exceeded');
    assert.equal(fake.chatRequests().length, 1, 'maxRetries: 0 means no hidden retry');

    const ok = await groq.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'again' }] });
    assert.equal(ok.choices[0]!.message.content, 'Echo: again');
  });

  test('rate limit also hits streaming requests before any chunk', async () => {
    fake.setBehavior({ kind: 'rateLimit', retryAfterSec: 2 });
    const err = await rejects(
      groq.chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'x' }] }),
      RateLimitError,
    );
    assert.equal(err.headers.get('retry-after'), '2');
  });

  test('5xx surfaces as InternalServerError with the status', async () => {
    for (const status of [500, 502, 503] as const) {
      fake.setBehavior({ kind: 'error', status });
      const err = await rejects(
        groq.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }),
        InternalServerError,
      );
      assert.equal(err.status, status);
    }
  });

  test('401: unauthorized behaviour and wrong api key', async () => {
    fake.setBehavior({ kind: 'unauthorized' });
    const e1 = await rejects(
      groq.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }),
      AuthenticationError,
    );
    assert.equal(e1.status, 401);

    fake.setBehavior({ kind: 'ok' });
    const bad = new Groq({ apiKey: 'gsk_wrong', baseURL: fake.baseURL, maxRetries: 0 });
    const e2 = await rejects(bad.models.list(), AuthenticationError);
    assert.equal(e2.status, 401);
    assert.equal(fake.requests.at(-1)?.headers.authorization, 'Bearer gsk_wrong');
  });

  test('cut stream: partial text arrives, then the iteration throws', async () => {
    const reply = 'abcdefghijklmnopqrstuvwxyz';
    fake.setBehavior({ kind: 'cut', afterChars: 10, reply, chunkSize: 4 });
    const stream = await groq.chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'x' }] });
    let text = '';
    let finish: string | null | undefined;
    await assert.rejects(
      async () => {
        for await (const chunk of stream) {
          text += chunk.choices[0]?.delta.content ?? '';
          finish = chunk.choices[0]?.finish_reason ?? finish;
        }
      },
      (err: unknown) => {
        // undici: TypeError('terminated') with cause SocketError('other side closed'); not an APIError.
        assert.ok(err instanceof Error);
        assert.ok(!(err instanceof APIError));
        assert.match(String(err), /terminated/);
        return true;
      },
    );
    assert.equal(text, reply.slice(0, 10));
    assert.equal(finish, undefined, 'no finish_reason was received');
  });

  test('cut without streaming: the connection drops mid-body and the call rejects', async () => {
    fake.setBehavior({ kind: 'cut', afterChars: 3 });
    await assert.rejects(
      groq.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello there' }] }),
      (err: unknown) => {
        // headers arrived (200), so the failure is undici's body-read TypeError, not an APIError
        assert.ok(err instanceof Error);
        assert.ok(!(err instanceof APIError), String(err));
        assert.match(String(err), /terminated/);
        return true;
      },
    );
    assert.equal(fake.chatRequests()[0]?.answeredWith, 'cut');
  });

  test('hang: aborted by an AbortSignal (APIUserAbortError) or by the client timeout', async () => {
    fake.setBehavior({ kind: 'hang' });
    const t0 = Date.now();
    await rejects(
      groq.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }, { signal: AbortSignal.timeout(150) }),
      APIUserAbortError,
    );
    assert.ok(Date.now() - t0 < 2_000);

    const timeoutErr = await rejects(
      groq.chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'x' }] }, { timeout: 150 }),
      APIConnectionTimeoutError,
    );
    assert.ok(timeoutErr instanceof APIConnectionError);
    assert.equal(timeoutErr.status, undefined);
    assert.equal(fake.chatRequests().length, 2);
    assert.ok(fake.chatRequests().every((r) => r.answeredWith === 'hang'));
  });

  test('close() ends a hanging request: the client sees a connection error', async () => {
    const other = await startFakeGroq({ behavior: { kind: 'hang' } });
    const client = new Groq({ apiKey: 'k', baseURL: other.baseURL, maxRetries: 0 });
    const p = client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] });
    while (other.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await other.close();
    await rejects(p, APIConnectionError);
  });

  test('models: list contains llama-3.3-70b-versatile; retrieve 200 for known, 404 for unknown', async () => {
    const list = await groq.models.list();
    assert.ok(list.data.some((m) => m.id === MODEL));
    const m = await groq.models.retrieve(MODEL);
    assert.equal(m.id, MODEL);
    const err = await rejects(groq.models.retrieve('no-such-model'), NotFoundError);
    assert.equal(err.status, 404);
    assert.equal(fake.requests.at(-1)?.path, '/openai/v1/models/no-such-model');
  });
});

describe('fakeEmbed (pure)', () => {
  test('deterministic, unit length, configurable dimension', () => {
    const a = fakeEmbed('Hello world', 384);
    assert.equal(a.length, 384);
    assert.deepEqual(fakeEmbed('Hello world', 384), a);
    const norm = Math.sqrt(a.reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-9);
    assert.equal(fakeEmbed('Hello world', 64).length, 64);
    // Stop words only / empty still give a unit vector.
    for (const t of ['', 'the and of']) {
      const v = fakeEmbed(t, 32);
      assert.ok(Math.abs(Math.sqrt(v.reduce((s, x) => s + x * x, 0)) - 1) < 1e-9);
    }
  });

  test('stemming and stop words', () => {
    assert.deepEqual(tokenize('The refunds were REFUNDED, refunding!'), ['refund', 'refund', 'refund']);
    assert.equal(stem('creation'), stem('created'));
    assert.equal(stem('running'), 'run');
    assert.equal(stem('validation'), stem('validate'));
    assert.equal(stem('files'), stem('file'));
  });

  test('paraphrases land closer than unrelated text', () => {
    const q = fakeEmbed('How do I get a refund for my order?');
    const para = fakeEmbed('Refunding orders: how refunds are issued');
    const other = fakeEmbed('The weather in Paris is sunny today');
    assert.ok(cosine(q, para) > 0.4, `paraphrase cosine ${cosine(q, para)}`);
    assert.ok(cosine(q, para) > cosine(q, other) + 0.3);
    assert.equal(Math.round(cosine(q, q) * 1e9), 1e9);
  });
});

describe('fake TEI + @huggingface/inference', () => {
  let fake: FakeEmbeddings;
  const hf = new InferenceClient();

  before(async () => {
    fake = await startFakeEmbeddings({ maxBatch: 4 });
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.setBehavior({ kind: 'ok' });
    fake.requests.length = 0;
  });

  test('batch input returns one unit vector per text, posted to endpointUrl as is', async () => {
    const texts = ['alpha beta', 'gamma delta', 'epsilon'];
    const out = (await hf.featureExtraction({ endpointUrl: fake.url, inputs: texts })) as number[][];
    assert.equal(out.length, 3);
    for (let i = 0; i < texts.length; i++) {
      assert.equal(out[i]!.length, 384);
      assert.deepEqual(out[i], fakeEmbed(texts[i]!, 384));
    }
    assert.equal(fake.requests.length, 1);
    const rec = fake.requests[0]!;
    assert.equal(rec.method, 'POST');
    assert.equal(rec.path, '/');
    assert.equal(rec.batchSize, 3);
    assert.deepEqual(rec.inputs, texts);
    assert.equal(rec.status, 200);
    assert.equal(rec.headers.authorization, undefined, 'no token given → no Authorization header');
    assert.equal(fake.textsEmbedded(), 3);
  });

  test('single string input returns a flat vector; endpointUrl with a path and a token', async () => {
    const client = new InferenceClient('tei-secret', { endpointUrl: `${fake.url}/embed` });
    const out = (await client.featureExtraction({ inputs: 'just one' })) as number[];
    assert.equal(typeof out[0], 'number');
    assert.deepEqual(out, fakeEmbed('just one'));
    assert.equal(fake.requests[0]!.path, '/embed');
    assert.equal(fake.requests[0]!.headers.authorization, 'Bearer tei-secret');
  });

  test('similar texts have higher cosine than unrelated ones (via HTTP)', async () => {
    const [a, b, c] = (await featureExtraction({
      endpointUrl: fake.url,
      inputs: ['How to configure the bot permissions', 'Configuring permissions for bots', 'Banana bread recipe with walnuts'],
    })) as number[][];
    assert.ok(cosine(a!, b!) > cosine(a!, c!) + 0.3, `${cosine(a!, b!)} vs ${cosine(a!, c!)}`);
  });

  test('500 and 429 surface as InferenceClientProviderApiError with httpResponse.status', async () => {
    fake.setBehavior({ kind: 'error', status: 500 });
    const e500 = await rejects(hf.featureExtraction({ endpointUrl: fake.url, inputs: ['x'] }), InferenceClientProviderApiError);
    assert.equal(e500.httpResponse.status, 500);
    assert.match(e500.message, /Internal server error/);

    fake.setBehavior({ kind: 'rateLimit', retryAfterSec: 3, times: 1 });
    const e429 = await rejects(hf.featureExtraction({ endpointUrl: fake.url, inputs: ['x'] }), InferenceClientProviderApiError);
    assert.equal(e429.httpResponse.status, 429);
    assert.equal(e429.name, 'ProviderApiError');
    // The client does not expose response headers; the fake did send retry-after (check with fetch).
    assert.ok(!('headers' in e429.httpResponse));
    fake.setBehavior({ kind: 'rateLimit', retryAfterSec: 3 });
    const raw = await fetch(fake.url, { method: 'POST', body: JSON.stringify({ inputs: ['x'] }) });
    assert.equal(raw.status, 429);
    assert.equal(raw.headers.get('retry-after'), '3');
    await raw.text();
  });

  test('503 is retried by the client itself (immediately, without limit) unless retry_on_error: false', async () => {
    fake.setBehavior({ kind: 'error', status: 503, times: 2 });
    const out = (await hf.featureExtraction({ endpointUrl: fake.url, inputs: ['x'] })) as number[][];
    assert.equal(out.length, 1);
    assert.deepEqual(
      fake.requests.map((r) => r.status),
      [503, 503, 200],
    );

    fake.setBehavior({ kind: 'error', status: 503 });
    const err = await rejects(
      hf.featureExtraction({ endpointUrl: fake.url, inputs: ['x'] }, { retry_on_error: false }),
      InferenceClientProviderApiError,
    );
    assert.equal(err.httpResponse.status, 503);
  });

  test('failAfter: first N requests succeed, the rest fail with 500', async () => {
    fake.setBehavior({ kind: 'failAfter', requests: 2 });
    const results: Array<number | 'ok'> = [];
    for (let i = 0; i < 4; i++) {
      try {
        await hf.featureExtraction({ endpointUrl: fake.url, inputs: [`chunk ${i}`] });
        results.push('ok');
      } catch (err) {
        assert.ok(err instanceof InferenceClientProviderApiError);
        results.push(err.httpResponse.status);
      }
    }
    assert.deepEqual(results, ['ok', 'ok', 500, 500]);
  });

  test('maxBatch: oversize batch gets 413 with a TEI-style JSON error', async () => {
    const err = await rejects(
      hf.featureExtraction({ endpointUrl: fake.url, inputs: ['a', 'b', 'c', 'd', 'e'] }),
      InferenceClientProviderApiError,
    );
    assert.equal(err.httpResponse.status, 413);
    assert.match(err.message, /batch size 5 > maximum allowed batch size 4/);
    const ok = (await hf.featureExtraction({ endpointUrl: fake.url, inputs: ['a', 'b', 'c', 'd'] })) as number[][];
    assert.equal(ok.length, 4);
  });

  test('hang is abortable with an AbortSignal', async () => {
    fake.setBehavior({ kind: 'hang' });
    const t0 = Date.now();
    await assert.rejects(
      hf.featureExtraction({ endpointUrl: fake.url, inputs: ['x'] }, { signal: AbortSignal.timeout(150) }),
      (err: unknown) => err instanceof Error && err.name === 'TimeoutError',
    );
    assert.ok(Date.now() - t0 < 2_000);
    assert.equal(fake.requests.length, 1);
    assert.equal(fake.requests[0]!.status, undefined);
  });

  test('delayMs delays the answer; custom dimension', async () => {
    const small = await startFakeEmbeddings({ dim: 16, behavior: { kind: 'ok', delayMs: 80 } });
    try {
      const t0 = Date.now();
      const out = (await hf.featureExtraction({ endpointUrl: small.url, inputs: ['one', 'two'] })) as number[][];
      assert.ok(Date.now() - t0 >= 75);
      assert.equal(out[0]!.length, 16);
      assert.equal(small.dim, 16);
    } finally {
      await small.close();
    }
  });
});
