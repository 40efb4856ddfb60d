/**
 * Retrieval for a message in a conversation, without any LLM: the message's own terms and vector
 * lead, the previous user turns add theirs at a lower weight, so a follow-up ("and how long does
 * that take?") still finds its topic while a new, self-contained question keeps its own.
 */
import type { Db } from '../db/backend.js';
import { retrieve } from './retrieve.js';
import type { RetrievalResult, RetrieveOptions } from './retrieve.js';

/** Previous user turns taken into account (most recent last). */
export const CONTEXT_TURNS = 2;
/** Weight of the context's lexemes and vector relative to the message's own. */
export const CONTEXT_WEIGHT = 0.7;

/** One text → its normalised vector, or null when vectors are unavailable (full text alone). */
export type EmbedQuery = (text: string) => Promise<number[] | null>;

export interface ConversationRetrieveOptions extends Omit<RetrieveOptions, 'queryVector' | 'context'> {
  /** The message's vector when already computed (undefined: embedded here). */
  messageVector?: number[] | null;
  /** The context's vector when already computed (undefined: embedded here). */
  contextVector?: number[] | null;
  turns?: number;
  weight?: number;
}

/** The vector of `a + weight·b`, normalised. */
export function blendVectors(a: number[], b: number[], weight: number): number[] {
  const sum = a.map((v, i) => v + weight * (b[i] ?? 0));
  const norm = Math.sqrt(sum.reduce((s, v) => s + v * v, 0));
  return norm > 0 ? sum.map((v) => v / norm) : a;
}

/** The context text: the last `turns` previous user turns, trimmed, oldest first. */
export function contextOf(previousUserTurns: string[], turns = CONTEXT_TURNS): string {
  return previousUserTurns
    .map((t) => t.trim())
    .filter(Boolean)
    .slice(-turns)
    .join('\n');
}

/**
 * Retrieval for `message` given the earlier user turns of its conversation (oldest first). With
 * no earlier turn it is plain retrieval of the message.
 */
export async function retrieveForConversation(
  db: Db,
  embed: EmbedQuery | null,
  message: string,
  previousUserTurns: string[],
  options: ConversationRetrieveOptions = {},
): Promise<RetrievalResult> {
  const { messageVector, contextVector, turns, weight = CONTEXT_WEIGHT, ...rest } = options;
  const context = contextOf(previousUserTurns, turns);
  const wantVectors = embed !== null && rest.use !== 'fulltext';
  const [own, earlier] = await Promise.all([
    messageVector !== undefined ? messageVector : wantVectors ? embed(message) : null,
    contextVector !== undefined ? contextVector : context && wantVectors && weight > 0 ? embed(context) : null,
  ]);
  const queryVector = own && earlier ? blendVectors(own, earlier, weight) : own;
  return retrieve(db, message, { ...rest, queryVector, context: context ? { text: context, weight } : undefined });
}
