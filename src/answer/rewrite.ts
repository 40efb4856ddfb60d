/**
 * The follow-up rewrite: a message that looks like it depends on the conversation ("does that
 * need internet?") is rewritten as a standalone question by a small fast Groq model, for
 * retrieval only. Self-contained messages cost nothing; any failure means no rewrite.
 */
import type { ChatClient } from './groq.js';
import type { TokenLimit } from './shared-limits.js';
import type { TokenCounter } from './tokens.js';

export const REWRITE_TIMEOUT_MS = 1500;
export const REWRITE_MAX_TOKENS = 60;
const MAX_WORDS_SHORT = 4;

const DEPENDENT = new RegExp(
  [
    // pronouns and demonstratives that point back
    String.raw`\b(it|that|this|those|these|they|them|their|there|one|ones|same|former|latter)\b`,
    // openings that continue a thread
    String.raw`^(and|also|but|so|or|then|what about|how about|same for)\b`,
    // ellipsis
    String.raw`\.\.\.|…`,
  ].join('|'),
  'i',
);

/** Whether a message probably needs the conversation to be understood: pronouns, ellipsis, very short. */
export function looksContextDependent(message: string): boolean {
  const text = message.replace(/<@!?\d+>/g, '').trim();
  if (!text) return false;
  if (text.split(/\s+/).length <= MAX_WORDS_SHORT) return true;
  return DEPENDENT.test(text);
}

export function rewritePrompt(message: string, previousUserTurns: string[]): { role: 'system' | 'user'; content: string }[] {
  return [
    {
      role: 'system',
      content:
        'Rewrite the last message of a chat as one standalone question that names its topic, using the earlier messages. ' +
        'Reply with the question only. If it already stands alone, repeat it unchanged.',
    },
    { role: 'user', content: `Earlier messages:\n${previousUserTurns.map((t) => `- ${t}`).join('\n')}\n\nLast message: ${message}` },
  ];
}

export interface RewriteDeps {
  chat: ChatClient | null;
  model: string;
  counter: TokenCounter;
  budget: TokenLimit;
  timeoutMs?: number;
  signal?: AbortSignal;
  log?: { debug?(o: object, msg?: string): void };
}

/** The standalone rewrite of `message`, or null (not needed, no budget, or the request failed). */
export async function rewriteFollowUp(deps: RewriteDeps, message: string, previousUserTurns: string[]): Promise<string | null> {
  if (!deps.chat?.complete || previousUserTurns.length === 0 || !looksContextDependent(message)) return null;
  const messages = rewritePrompt(message, previousUserTurns);
  const estimate = deps.counter.count(messages.map((m) => m.content).join('\n')) + 16 + REWRITE_MAX_TOKENS;
  const taken = await deps.budget.reserve(estimate);
  if (!taken.ok) return null;
  try {
    const r = await deps.chat.complete(messages, {
      model: deps.model,
      maxTokens: REWRITE_MAX_TOKENS,
      timeoutMs: deps.timeoutMs ?? REWRITE_TIMEOUT_MS,
      signal: deps.signal,
    });
    await deps.budget.settle(taken.reservation, r.usage ? r.usage.promptTokens + r.usage.completionTokens : estimate);
    const text = r.text.replace(/\s+/g, ' ').trim();
    return text && text.length <= 500 ? text : null;
  } catch (err) {
    // Unknown whether Groq counted it: keep the estimate charged.
    deps.log?.debug?.(
      { err: err instanceof Error ? err.message : String(err) },
      'follow-up rewrite failed; retrieval uses the conversation instead',
    );
    return null;
  }
}
