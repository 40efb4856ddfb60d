// long: one answering pipeline (instructions, history, retrieval, limits, streaming, sources) read top to bottom.
/**
 * The answer service: (conversation, author, question) → a stream of text deltas, then the final
 * answer with its sources and usage. Loads the effective instructions, the conversation's recent
 * messages and the top passages; fits them to a token budget; streams from Groq; falls back to
 * the retrieval-only answer when Groq is unavailable or not configured; records gaps; stores the
 * user's message first and the answer after. A chat message is stored when it is accepted
 * (accept: 'unanswered'; the caller keeps each conversation's arrival order) and answered from
 * that row, which turns 'complete' with its answer; what catching up needs is read here too.
 * Knows nothing of Discord.
 */
import type { Config } from '../config.js';
import type { Db } from '../db/backend.js';
import { channelCollections } from '../db/channels.js';
import {
  appendAnswer,
  appendMessage,
  catchUpPoint,
  ensureConversation,
  historyBefore,
  recentThreads,
  recordIncoming,
  setMessageStatus,
} from '../db/conversations.js';
import type { MessageStatus } from '../db/conversations.js';
import { recordGap } from '../db/gaps.js';
import { effectiveInstructions } from '../db/instructions.js';
import { errorMessage } from '../errors.js';
import { embedQuestions } from '../kb/embed.js';
import type { Embedder } from '../kb/embed.js';
import { contextOf, retrieveForConversation } from '../kb/conversational.js';
import type { Passage, Relevance } from '../kb/retrieve.js';
import { checkQueryModel } from '../kb/model.js';
import { DEFAULT_CONTEXT_TOKENS, DEFAULT_RESERVE_FOR_ANSWER, fitToBudget } from './budget.js';
import { FALLBACK_BUSY, FALLBACK_NOT_CONFIGURED, FALLBACK_UNAVAILABLE, fallbackAnswer } from './fallback.js';
import { ChatFailure } from './groq.js';
import type { ChatClient } from './groq.js';
import { limitsFor } from './shared-limits.js';
import type { TokenLimit, TokenReservation, UserLimit } from './shared-limits.js';
import { citedIndexes, MarkerStripper, sourceLabel, sourceText, stripMarker } from './prompt.js';
import { rewriteFollowUp } from './rewrite.js';
import type { TokenCounter } from './tokens.js';

export const DEFAULT_INSTRUCTIONS = 'You are a helpful assistant for this Discord community. Answer accurately and concisely.';
export const INTERRUPTED_NOTE = '_(answer interrupted)_';

export interface AnswerRequest {
  /** Channel or thread id (or "cli"). */
  conversationId: string;
  /** The channel whose instructions apply (a thread's parent), or null for the global ones. */
  channelId: string | null;
  parentId?: string | null;
  authorId: string;
  /** The operator at the command line (`ask`, `chat`): not counted in the per-user question limit, which is Discord users'. */
  operator?: boolean;
  question: string;
  discordMessageId?: string | null;
  /** The user's message as stored by accept(); answered from that row instead of storing it again. */
  storedMessageId?: number | null;
  signal?: AbortSignal;
}

/** A chat message, stored when it is accepted (before it waits its turn). */
export interface IncomingQuestion {
  conversationId: string;
  channelId: string | null;
  parentId?: string | null;
  authorId: string;
  question: string;
  discordMessageId: string;
}

export interface Accepted {
  storedId: number;
  /** Stored and answered before (by an earlier run): not to be answered again. */
  answered: boolean;
}

/** Where catching up on a conversation starts: after `after` (a Discord message id), from `notBefore` on. */
export interface CatchUpStart {
  conversationId: string;
  after: string | null;
  notBefore: Date;
}

export interface SourceRef {
  document: string;
  page: number | null;
  section: string | null;
  label: string;
  /** A web page's URL. */
  url?: string;
}

export interface AnswerTimings {
  /** Question received → Groq request sent (config, history, embedding, retrieval, prompt, tokens). */
  prepareMs: number;
  firstTokenMs: number | null;
  totalMs: number;
}

export interface AnswerResult {
  /** What to display: the answer, then its sources line. */
  text: string;
  /** The answer without the sources line. */
  answer: string;
  sources: SourceRef[];
  fallback: boolean;
  gap: boolean;
  interrupted: boolean;
  /** Set when a limit refused the question; `text` is then a notice (or empty: stay silent). */
  limited: 'user' | null;
  usage: { promptTokens: number; completionTokens: number } | null;
  passagesUsed: number;
  trimmed: { passages: number; history: number };
  relevance: Relevance | null;
  timings: AnswerTimings;
  /** The stored answer's id (null when nothing was stored: a refused question). */
  messageId: number | null;
}

export interface AnswerDeps {
  db: Db;
  config: Config;
  embedder: Embedder | null;
  chat: ChatClient | null;
  counter: TokenCounter;
  log?: { info(o: object, msg?: string): void; warn(o: object, msg?: string): void; debug?(o: object, msg?: string): void };
  now?: () => number;
  contextTokens?: number;
  reserveForAnswer?: number;
  k?: number;
  /** Longest wait for the question's embedding, retries included (default QUESTION_EMBED_BUDGET_MS). */
  embedBudgetMs?: number;
  /** The question limit and token budget (default: shared through Postgres, in memory when embedded). */
  limits?: { users: UserLimit; tokens: TokenLimit };
}

export interface AnswerService {
  answer(req: AnswerRequest, onDelta?: (text: string) => void): Promise<AnswerResult>;
  /**
   * Stores an accepted message at once ('unanswered'), or finds it stored already. Throws a
   * database error. Calls for one conversation must not overlap (their order is its order).
   */
  accept(q: IncomingQuestion): Promise<Accepted>;
  /** The stored answer never reached the user (the chat refused the reply). */
  markUndelivered(messageId: number): Promise<void>;
  /** Where catching up on each conversation starts, looking back at most windowMs. */
  catchUpStart(conversationId: string, windowMs: number): Promise<CatchUpStart>;
  /** Threads under these channels with messages in the last windowMs. */
  recentThreads(parentIds: string[], windowMs: number): Promise<string[]>;
  readonly tokenBudget: TokenLimit;
}

function refs(passages: Passage[], indexes?: number[]): SourceRef[] {
  const chosen = indexes && indexes.length > 0 ? indexes.map((i) => passages[i - 1]).filter((p): p is Passage => Boolean(p)) : passages;
  const seen = new Set<string>();
  const out: SourceRef[] = [];
  for (const p of chosen) {
    const label = sourceLabel(p);
    if (seen.has(label)) continue;
    seen.add(label);
    out.push({ document: p.documentName, page: p.page, section: p.section, label, ...(p.url ? { url: p.url } : {}) });
  }
  return out;
}

export function createAnswerService(deps: AnswerDeps): AnswerService {
  const now = deps.now ?? (() => performance.now());
  const { users, tokens: tokenBudget } = deps.limits ?? limitsFor(deps.db, deps.config);
  const contextTokens = deps.contextTokens ?? DEFAULT_CONTEXT_TOKENS;
  const reserve = deps.reserveForAnswer ?? DEFAULT_RESERVE_FOR_ANSWER;

  /** A settlement that fails leaves the reservation to leave the window; the answer goes on. */
  const settleQuietly = (p: Promise<void>) =>
    p.catch((err: unknown) => deps.log?.warn({ err: errorMessage(err) }, 'could not settle the Groq token reservation'));

  /**
   * Query texts → their vectors in one embedding request, or null (full-text retrieval only).
   * `modelCheck`: checkQueryModel's answer when already asked for.
   */
  async function queryVectors(
    texts: string[],
    signal?: AbortSignal,
    modelCheck?: Promise<'ok' | 'no_vectors'>,
  ): Promise<number[][] | null> {
    if (!deps.embedder) return null;
    try {
      if ((await (modelCheck ?? checkQueryModel(deps.db, deps.embedder.model))) !== 'ok') return null;
      return await embedQuestions(deps.embedder, texts, { budgetMs: deps.embedBudgetMs, signal });
    } catch (err) {
      // Retrieval still works on full text alone.
      deps.log?.warn({ err: errorMessage(err) }, 'question embedding failed; full-text retrieval only');
      return null;
    }
  }
  const queryVector = async (text: string, signal?: AbortSignal) => (await queryVectors([text], signal))?.[0] ?? null;

  return {
    tokenBudget,
    async accept(q) {
      await ensureConversation(deps.db, { id: q.conversationId, channelId: q.channelId, parentId: q.parentId ?? null });
      const row = await recordIncoming(deps.db, q.conversationId, {
        content: q.question.trim(),
        authorId: q.authorId,
        discordMessageId: q.discordMessageId,
      });
      return { storedId: row.id, answered: row.status !== 'unanswered' };
    },
    markUndelivered: (messageId) => setMessageStatus(deps.db, messageId, 'undelivered'),
    async catchUpStart(conversationId, windowMs) {
      const point = await catchUpPoint(deps.db, conversationId);
      const floor = Date.now() - windowMs;
      const notBefore = new Date(Math.max(floor, point.resetAt?.getTime() ?? floor));
      return { conversationId, after: point.lastAnswered, notBefore };
    },
    recentThreads: (parentIds, windowMs) => recentThreads(deps.db, parentIds, new Date(Date.now() - windowMs)),

    async answer(req, onDelta) {
      const started = now();
      const question = req.question.trim();
      const scope = req.parentId ?? req.channelId;
      // The reads start with the limit check; nothing is embedded or stored before the limit allows the question.
      const limitCheck = req.operator ? Promise.resolve({ ok: true } as const) : users.take(req.authorId);
      const instructionsLoad = effectiveInstructions(deps.db, scope);
      const historyLoad = historyBefore(deps.db, req.conversationId, deps.config.historyLimit, req.storedMessageId ?? null);
      // A channel with collections retrieves only from them (its threads: through their parent).
      const collectionsLoad = req.channelId ? channelCollections(deps.db, req.channelId) : Promise.resolve(null);
      const modelCheck = deps.embedder ? checkQueryModel(deps.db, deps.embedder.model) : undefined;
      // Awaited below, unless the limit refuses the question (then their results do not matter).
      for (const p of [instructionsLoad, historyLoad, collectionsLoad, modelCheck]) p?.catch(() => {});
      const limit = await limitCheck;
      const base = {
        sources: [],
        fallback: false,
        gap: false,
        interrupted: false,
        usage: null,
        passagesUsed: 0,
        trimmed: { passages: 0, history: 0 },
        relevance: null,
        messageId: null,
      };
      if (!limit.ok) {
        if (req.storedMessageId) {
          // Refused, not missed: catching up must not answer it later.
          await setMessageStatus(deps.db, req.storedMessageId, 'limited').catch((err: unknown) =>
            deps.log?.warn({ err: errorMessage(err) }, 'could not mark a refused question'),
          );
        }
        const seconds = Math.ceil(limit.retryInMs / 1000);
        const text = limit.firstRefusal ? `You're asking faster than I can answer — please wait ${seconds} s and ask again.` : '';
        return {
          ...base,
          text,
          answer: text,
          limited: 'user',
          timings: { prepareMs: now() - started, firstTokenMs: null, totalMs: now() - started },
        };
      }

      // The user's message is stored (when accept() has not already) as soon as the history is
      // read, while the question is embedded and retrieval runs.
      const storing = historyLoad.then(async () => {
        if (req.storedMessageId) return req.storedMessageId;
        await ensureConversation(deps.db, { id: req.conversationId, channelId: req.channelId, parentId: req.parentId ?? null });
        return appendMessage(deps.db, req.conversationId, {
          role: 'user',
          content: question,
          authorId: req.authorId,
          discordMessageId: req.discordMessageId ?? null,
          status: 'unanswered',
        });
      });
      // The message and the previous user turns are embedded in one request, as soon as the history is in.
      const searching = Promise.all([historyLoad, collectionsLoad]).then(async ([h, collections]) => {
        const previousTurns = h.filter((m) => m.role === 'user').map((m) => m.content);
        const context = contextOf(previousTurns);
        const [vectors, rewrite] = await Promise.all([
          queryVectors(context ? [question, context] : [question], req.signal, modelCheck),
          deps.config.groqRewriteModel
            ? rewriteFollowUp(
                {
                  chat: deps.chat,
                  model: deps.config.groqRewriteModel,
                  counter: deps.counter,
                  budget: tokenBudget,
                  signal: req.signal,
                  log: deps.log,
                },
                question,
                previousTurns,
              )
            : null,
        ]);
        const vector = vectors?.[0] ?? null;
        const embedQuery = vector ? (t: string) => queryVector(t, req.signal) : null;
        const retrieval = await retrieveForConversation(deps.db, embedQuery, rewrite ?? question, previousTurns, {
          k: deps.k ?? 5,
          collections,
          messageVector: rewrite ? undefined : vector,
          contextVector: vectors?.[1] ?? null,
        });
        return { retrieval, rewrite };
      });
      searching.catch(() => {}); // awaited after the message is stored
      const [instructions, history, userMessageId] = await Promise.all([instructionsLoad, historyLoad, storing]);
      const { retrieval, rewrite } = await searching;
      const retrieved = retrieval.passages;
      const fitted = fitToBudget(
        {
          instructions: instructions?.content ?? DEFAULT_INSTRUCTIONS,
          passages: retrieved,
          history: history.filter((m) => m.content.trim()).map((m) => ({ role: m.role, content: m.content })),
          question,
        },
        { counter: deps.counter, contextTokens, reserveForAnswer: reserve, minPassages: 0 },
      );
      if (fitted.trimmed.passages > 0 || fitted.trimmed.history > 0) {
        deps.log?.info(
          { conversationId: req.conversationId, trimmed: fitted.trimmed, promptTokens: fitted.promptTokens },
          'prompt trimmed to the token budget',
        );
      }
      const prepareMs = now() - started;

      const finish = async (r: {
        answer: string;
        sources: SourceRef[];
        fallback: boolean;
        gap: boolean;
        interrupted: boolean;
        status: MessageStatus;
        usage: AnswerResult['usage'];
        firstTokenMs: number | null;
      }): Promise<AnswerResult> => {
        const sourcesLine = r.sources.length > 0 ? `Sources: ${r.sources.map(sourceText).join(' · ')}` : '';
        const text = [r.answer.trim(), sourcesLine].filter(Boolean).join('\n\n');
        const messageId = await appendAnswer(deps.db, req.conversationId, userMessageId, { content: text, status: r.status });
        if (r.gap) await recordGap(deps.db, question, req.conversationId);
        return {
          ...r,
          messageId,
          text,
          limited: null,
          passagesUsed: fitted.passages.length,
          trimmed: fitted.trimmed,
          relevance: retrieval.relevance,
          timings: { prepareMs, firstTokenMs: r.firstTokenMs, totalMs: now() - started },
        };
      };
      const useFallback = (lead: string) => {
        // Weak retrieval: nothing matches, said plainly (and a gap), rather than unrelated quotes.
        const quoted = retrieval.relevance.matches ? retrieved : [];
        const answer = fallbackAnswer(quoted, lead, { question: rewrite ?? question });
        return finish({
          answer,
          sources: refs(quoted.slice(0, 3)),
          fallback: true,
          gap: retrieved.length === 0 || (quoted.length === 0 && isQuestion(question)),
          interrupted: false,
          status: 'fallback',
          usage: null,
          firstTokenMs: null,
        });
      };

      if (!deps.chat) return useFallback(FALLBACK_NOT_CONFIGURED);
      const estimate = fitted.promptTokens + reserve;
      const granted = await tokenBudget.reserve(estimate);
      if (!granted.ok) {
        deps.log?.warn({ estimate, retryInMs: granted.retryInMs }, 'Groq token budget exhausted; retrieval-only answer');
        return useFallback(FALLBACK_BUSY);
      }

      const reservation: TokenReservation = granted.reservation;
      const stripper = new MarkerStripper();
      let firstTokenMs: number | null = null;
      const emit = (visible: string) => {
        if (!visible) return;
        firstTokenMs ??= now() - started;
        onDelta?.(visible);
      };
      try {
        const outcome = await deps.chat.stream(fitted.messages, {
          maxTokens: reserve,
          signal: req.signal,
          onDelta: (delta) => emit(stripper.push(delta)),
        });
        emit(stripper.end());
        await settleQuietly(
          tokenBudget.settle(reservation, outcome.usage ? outcome.usage.promptTokens + outcome.usage.completionTokens : estimate),
        );
        const answer = stripMarker(outcome.text).text.trim();
        const cited = citedIndexes(answer);
        // "Not in the knowledge base": the model's marker, or weak retrieval that it did not cite.
        const uncited = cited.length === 0 && (!retrieval.relevance.answerable || fitted.passages.length === 0);
        const gap = isQuestion(question) && (stripper.marked || uncited);
        const sources = stripper.marked || uncited ? [] : refs(fitted.passages, cited.length > 0 ? cited : [1, 2, 3]);
        return finish({
          answer: answer || '…',
          sources,
          fallback: false,
          gap,
          interrupted: false,
          status: 'complete',
          usage: outcome.usage,
          firstTokenMs,
        });
      } catch (err) {
        const failure = err instanceof ChatFailure ? err : new ChatFailure(errorMessage(err), 'unavailable', '', { cause: err });
        if (failure.partial) {
          await settleQuietly(tokenBudget.settle(reservation, estimate));
          emit(stripper.end());
          const partial = stripMarker(failure.partial).text.trim();
          deps.log?.warn({ conversationId: req.conversationId, kind: failure.kind }, 'answer stream interrupted');
          const cited = citedIndexes(partial);
          return finish({
            answer: `${partial.trim()} … ${INTERRUPTED_NOTE}`,
            sources: cited.length > 0 ? refs(fitted.passages, cited) : [],
            fallback: false,
            gap: false,
            interrupted: true,
            status: 'interrupted',
            usage: null,
            firstTokenMs,
          });
        }
        await settleQuietly(tokenBudget.refund(reservation));
        deps.log?.warn(
          { conversationId: req.conversationId, kind: failure.kind, err: failure.message },
          'Groq unavailable; retrieval-only answer',
        );
        return useFallback(FALLBACK_UNAVAILABLE);
      }
    },
  };
}

/** Greetings and thanks are not knowledge-base questions: never recorded as gaps. */
export function isQuestion(text: string): boolean {
  const t = text
    .toLowerCase()
    .replace(/<@!?\d+>/g, '')
    .trim();
  if (t.length < 8) return false;
  return !/^(hi|hey|hello|yo|thanks|thank you|thx|ty|ok|okay|cool|nice|great|lol|good (morning|night|evening))\b[\s!.?]*$/.test(t);
}
