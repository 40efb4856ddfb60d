/** `copilot ask` and `copilot chat`: the answer service in the terminal, with the same memory. */
import { createInterface } from 'node:readline';
import { CLI_CONVERSATION, resetConversation } from '../../convo/service.js';
import { assertSnowflake } from '../../validate.js';
import type { AnswerResult } from '../../answer/service.js';
import type { App } from '../../app.js';
import { UserError } from '../../errors.js';
import type { Context } from '../context.js';

function target(channel: string | undefined): { conversationId: string; channelId: string | null } {
  if (channel === undefined) return { conversationId: CLI_CONVERSATION, channelId: null };
  const id = assertSnowflake(channel);
  return { conversationId: id, channelId: id };
}

async function withApp<T>(ctx: Context, command: string, fn: (app: App) => Promise<T>): Promise<T> {
  const { createApp } = await import('../../app.js');
  const app = await createApp(ctx.config, { command, notice: (m) => ctx.out.note(ctx.out.style.dim(m)) });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

function json(result: AnswerResult) {
  return {
    answer: result.answer,
    text: result.text,
    sources: result.sources,
    fallback: result.fallback,
    gap: result.gap,
    interrupted: result.interrupted,
    limited: result.limited,
    usage: result.usage,
    timings: result.timings,
  };
}

/** Streams deltas to stdout (not with --json), then the rest of the final text. */
async function answerOnce(ctx: Context, app: App, question: string, where: ReturnType<typeof target>): Promise<AnswerResult> {
  let streamed = '';
  const stream = !ctx.out.json;
  const result = await app.answers.answer(
    { ...where, authorId: `cli:${ctx.actor}`, operator: true, question },
    stream
      ? (delta) => {
          streamed += delta;
          ctx.out.write(delta);
        }
      : undefined,
  );
  if (stream) {
    // The final text may differ from what streamed (sources, interruption note, fallback).
    const rest = result.text.startsWith(streamed) ? result.text.slice(streamed.length) : `${streamed ? '\n\n' : ''}${result.text}`;
    ctx.out.write(`${rest}\n`);
  }
  return result;
}

export async function ask(ctx: Context, words: string[], opts: { channel?: string }): Promise<void> {
  const question = words.join(' ').trim();
  if (!question) throw new UserError('the question is empty', 'empty_question');
  const where = target(opts.channel);
  const result = await withApp(ctx, 'ask', (app) => answerOnce(ctx, app, question, where));
  ctx.out.data(json(result));
  if (result.fallback && !ctx.config.groqApiKey) ctx.out.note(ctx.out.style.dim('(GROQ_API_KEY is not set: retrieval-only answer)'));
}

export async function chat(ctx: Context, opts: { channel?: string }): Promise<void> {
  if (ctx.out.json) throw new UserError('chat is interactive; use `copilot --json ask` for JSON', 'bad_usage');
  const where = target(opts.channel);
  await withApp(ctx, 'chat', async (app) => {
    const tty = ctx.stdinTTY;
    if (tty) ctx.out.note(ctx.out.style.dim(`Chatting in conversation ${where.conversationId}. /reset forgets it, /exit leaves.`));
    const rl = createInterface({ input: process.stdin, output: tty ? process.stderr : undefined, prompt: tty ? '> ' : '', terminal: tty });
    if (tty) rl.prompt();
    for await (const line of rl) {
      const text = line.trim();
      if (text === '/exit' || text === '/quit') break;
      if (text === '/reset') {
        try {
          const r = await resetConversation(app.db, where.conversationId, ctx.actor);
          ctx.out.line(`(forgot ${r.deleted} messages)`);
        } catch (err) {
          if (!(err instanceof UserError)) throw err;
          ctx.out.line('(nothing to forget)');
        }
      } else if (text) {
        await answerOnce(ctx, app, text, where);
      }
      if (tty) rl.prompt();
    }
    rl.close();
  });
}
