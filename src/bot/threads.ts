/**
 * Threads the bot opens on a question (channel mode `thread`): the thread's name, which Discord
 * refusals mean "answer in the channel instead", and a reply target that falls back to the
 * channel when the thread refuses the answer. Knows nothing of discord.js.
 */

/** Discord's limit on a thread name. */
export const THREAD_NAME_LIMIT = 100;

/** The question on one line, cut to at most `limit` characters at a word (an ellipsis when cut). */
export function threadName(question: string, limit = THREAD_NAME_LIMIT): string {
  const line = question.replace(/\s+/g, ' ').trim();
  if (line === '') return 'Question';
  const chars = [...line];
  if (chars.length <= limit) return line;
  const head = chars.slice(0, limit - 1).join('');
  const space = head.lastIndexOf(' ');
  // No space in the first half: a very long word is cut where the limit falls.
  const cut = space >= head.length / 2 ? head.slice(0, space) : head;
  return `${cut.trimEnd()}…`;
}

/** Discord error codes: a thread for this message exists already; the thread is archived or locked. */
export const THREAD_ALREADY_CREATED = 160004;
const REFUSAL_CODES = new Set([50001, 50013, 50083, 160005, 50024]);

/** Whether Discord refused a thread (or a message in one): 403, missing access/permission, archived, locked. */
export function isThreadRefusal(err: unknown): boolean {
  const e = err as { status?: unknown; code?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  return e.status === 403 || (typeof e.code === 'number' && REFUSAL_CODES.has(e.code));
}

/**
 * Posts through `thread`; when the thread refuses the first part (or a later one) with a refusal
 * (isThreadRefusal), calls `onFallback(err)` and posts that part and the rest through `channel`.
 * Edits and deletes go to whichever target posted the message.
 */
/** What posts an answer: a plain reply target, or one whose posts and edits also carry buttons (the same extra arguments). */
export interface PostingTarget<M, P extends unknown[], E extends unknown[]> {
  reply(content: string, ...rest: P): Promise<M>;
  send(content: string, ...rest: P): Promise<M>;
  edit(message: M, ...rest: E): Promise<void>;
  remove(message: M): Promise<void>;
}

export function withChannelFallback<M extends object, P extends unknown[], E extends unknown[]>(
  thread: PostingTarget<M, P, E>,
  channel: () => PostingTarget<M, P, E>,
  onFallback: (err: unknown) => void,
): PostingTarget<M, P, E> & { fellBack(): boolean } {
  let active = thread;
  let fallback: PostingTarget<M, P, E> | null = null;
  const owner = new WeakMap<M, PostingTarget<M, P, E>>();
  const post = async (how: 'reply' | 'send', content: string, rest: P): Promise<M> => {
    const target = active;
    try {
      const m = await target[how](content, ...rest);
      owner.set(m, target);
      return m;
    } catch (err) {
      if (target !== thread || !isThreadRefusal(err)) throw err;
      onFallback(err);
      fallback = channel();
      active = fallback;
      // In the channel the answer starts as a reply to the question.
      const m = await fallback.reply(content, ...rest);
      owner.set(m, fallback);
      return m;
    }
  };
  return {
    reply: (content, ...rest) => post('reply', content, rest),
    send: (content, ...rest) => post('send', content, rest),
    edit: (m, ...rest) => (owner.get(m) ?? active).edit(m, ...rest),
    remove: (m) => (owner.get(m) ?? active).remove(m),
    fellBack: () => fallback !== null,
  };
}
