/**
 * Answers one accepted message: asks the answer service, streams its text into a reply, makes
 * the final edit, counts and logs the outcome. Every failure ends here: the user gets a short,
 * true message, the error is logged with context and counted; nothing is thrown. A reply that
 * Discord refused (403, 404, …) is stored as 'undelivered'.
 */
import type { Logger } from 'pino';
import type { AnswerResult, AnswerService } from '../answer/service.js';
import { INTERRUPTED_NOTE } from '../answer/service.js';
import { DependencyError, errorMessage } from '../errors.js';
import { withDeadline } from '../util/deadline.js';
import { STOPPED_NOTE, StopRequest } from './buttons.js';
import type { Metrics } from './metrics.js';
import { StreamingReply } from './reply.js';
import type { ReplyTarget } from './reply.js';
import type { Typing } from './typing.js';

export const UNAVAILABLE_REPLY = "I'm temporarily unavailable, please try again in a minute.";
export const ERROR_REPLY = 'Sorry, something went wrong while answering. The error has been logged.';
/** How an answer cut short by shutdown ends. */
export const SHUTDOWN_NOTE = '_(interrupted)_';
/** After an abort, how long the answer service may take to hand back its partial answer. */
export const ABORT_SETTLE_MS = 1000;

export interface IncomingMessage {
  messageId: string;
  authorId: string;
  conversationId: string;
  channelId: string;
  parentId: string | null;
  question: string;
  /** The message as stored when it was accepted, or null when storing it then failed. */
  storedMessageId: number | null;
  /** performance.now() when the message arrived. */
  receivedAt: number;
}

export interface HandlerContext {
  answers: AnswerService;
  metrics?: Metrics;
  log: Logger;
  editIntervalMs: number;
  /** Told the answer (or a refusal) before its final text is shown: e.g. to put vote buttons on it. */
  onResult?: (result: AnswerResult) => void;
  /** Called after a gap answer was posted (escalation); its failures are logged, never thrown. */
  onGap?: (result: AnswerResult) => Promise<void>;
}

type Outcome = { kind: 'result'; result: AnswerResult } | { kind: 'failed'; err: unknown } | { kind: 'abandoned' };

/** The answer, or 'abandoned' when it did not come back within ABORT_SETTLE_MS of an abort. */
function settleOrAbandon(p: Promise<AnswerResult>, signal: AbortSignal): Promise<Outcome> {
  const outcome = p.then(
    (result): Outcome => ({ kind: 'result', result }),
    (err: unknown): Outcome => ({ kind: 'failed', err }),
  );
  const settleSoon = () => withDeadline(outcome, ABORT_SETTLE_MS, (): Outcome => ({ kind: 'abandoned' }));
  if (signal.aborted) return settleSoon();
  return new Promise((resolve) => {
    const onAbort = () => resolve(settleSoon());
    signal.addEventListener('abort', onAbort, { once: true });
    void outcome.then((o) => {
      signal.removeEventListener('abort', onAbort);
      resolve(o);
    });
  });
}

export async function answerMessage<M>(
  msg: IncomingMessage,
  target: ReplyTarget<M>,
  typing: Typing,
  signal: AbortSignal,
  ctx: HandlerContext,
): Promise<void> {
  const { log, metrics } = ctx;
  const context = { channelId: msg.channelId, conversationId: msg.conversationId, userId: msg.authorId, messageId: msg.messageId };
  const startedAt = performance.now();
  const reply = new StreamingReply(target, {
    intervalMs: ctx.editIntervalMs,
    onEditError: (err) => log.warn({ ...context, err: errorMessage(err) }, 'reply edit failed'),
  });
  let streamed = '';
  let firstTokenAt: number | null = null;

  const outcome = await settleOrAbandon(
    ctx.answers.answer(
      {
        conversationId: msg.conversationId,
        channelId: msg.channelId,
        parentId: msg.parentId,
        authorId: msg.authorId,
        question: msg.question,
        discordMessageId: msg.messageId,
        storedMessageId: msg.storedMessageId,
        signal,
      },
      (delta) => {
        firstTokenAt ??= performance.now();
        typing.stop();
        streamed += delta;
        reply.update(streamed);
      },
    ),
    signal,
  );
  typing.stop();
  const urgent = signal.aborted;
  const show = async (text: string): Promise<boolean> => {
    try {
      await reply.finish(text, { urgent });
      return true;
    } catch (err) {
      metrics?.inc('errors');
      log.warn({ ...context, err: errorMessage(err) }, 'could not post the reply');
      return false;
    }
  };

  if (outcome.kind === 'abandoned') {
    reply.cancel();
    if (streamed.trim()) await show(`${streamed.trim()} … ${SHUTDOWN_NOTE}`);
    log.warn({ ...context, msTotal: Math.round(performance.now() - msg.receivedAt) }, 'answer abandoned at shutdown');
    return;
  }

  if (outcome.kind === 'failed') {
    const { err } = outcome;
    metrics?.inc('errors');
    const unavailable = err instanceof DependencyError;
    if (unavailable) log.warn({ ...context, err: errorMessage(err) }, 'answering failed: a dependency is unavailable');
    else log.error({ ...context, err }, 'answering failed');
    const notice = unavailable ? UNAVAILABLE_REPLY : ERROR_REPLY;
    await show(streamed.trim() ? `${streamed.trim()} …\n\n_${notice}_` : notice);
    return;
  }

  const { result } = outcome;
  ctx.onResult?.(result);
  const msTotalAt = () => Math.round(performance.now() - msg.receivedAt);
  if (result.limited) {
    const notified = result.text !== '' && (await show(result.text));
    if (notified) metrics?.inc('rateLimited');
    log.info({ ...context, limited: result.limited, notified, msTotal: msTotalAt() }, 'question refused by the rate limit');
    return;
  }

  // Stopped with the Stop button, or cut short by shutdown.
  const note = signal.reason instanceof StopRequest ? STOPPED_NOTE : SHUTDOWN_NOTE;
  const text = urgent && result.interrupted ? result.text.replace(INTERRUPTED_NOTE, note) : result.text;
  const shown = await show(text);
  if (!shown && result.messageId !== null) {
    await ctx.answers
      .markUndelivered(result.messageId)
      .catch((err: unknown) => log.warn({ ...context, err: errorMessage(err) }, 'could not mark the reply undelivered'));
  }
  const msTotal = msTotalAt();
  const msToFirstToken = firstTokenAt === null ? null : Math.round(firstTokenAt - msg.receivedAt);
  if (shown) {
    metrics?.inc('replies');
    metrics?.observeReply(msTotal, msToFirstToken);
  }
  if (result.fallback) metrics?.inc('fallbacks');
  if (result.gap) metrics?.inc('gaps');
  if (result.gap && shown && ctx.onGap) {
    await ctx.onGap(result).catch((err: unknown) => log.warn({ ...context, err: errorMessage(err) }, 'escalation failed'));
  }
  log.info(
    {
      ...context,
      msToFirstToken,
      msTotal,
      msQueued: Math.round(startedAt - msg.receivedAt),
      passages: result.passagesUsed,
      fallback: result.fallback,
      gap: result.gap,
      limited: null,
      interrupted: result.interrupted,
      shutdown: urgent,
      delivered: shown,
      messages: reply.posted,
    },
    'answered',
  );
}
