/**
 * The buttons on an answer: **Stop** while it streams, 👍/👎 on its last message once it is
 * complete. Custom ids carry ids only (`stop:<key>`, `vote:up:<answer id>`), never content.
 * AnswerButtons wraps a reply target so that every post and edit carries the right row, and at
 * the end fixes the messages whose last edit showed an older one (one PATCH each, usually none).
 */
import type { ReplyTarget } from './reply.js';

/** How an answer stopped by its asker ends. */
export const STOPPED_NOTE = '_(stopped)_';

/** The abort reason of an answer stopped with its Stop button. */
export class StopRequest extends Error {
  constructor(readonly userId: string) {
    super('stopped by a user');
  }
}

export type ButtonAction = { kind: 'stop'; key: string } | { kind: 'vote'; vote: 1 | -1; answerId: number };

export function stopId(key: string): string {
  return `stop:${key}`;
}

export function voteId(vote: 1 | -1, answerId: number): string {
  return `vote:${vote === 1 ? 'up' : 'down'}:${answerId}`;
}

/** A button's custom id → what it asks for, or null when it is not one of ours. */
export function parseButton(customId: string): ButtonAction | null {
  const stop = /^stop:(\d{1,20})$/.exec(customId);
  if (stop) return { kind: 'stop', key: stop[1]! };
  const vote = /^vote:(up|down):(\d{1,18})$/.exec(customId);
  if (vote) {
    const answerId = Number(vote[2]);
    return Number.isSafeInteger(answerId) ? { kind: 'vote', vote: vote[1] === 'up' ? 1 : -1, answerId } : null;
  }
  return null;
}

type Row = { type: 1; components: Record<string, unknown>[] };

export function stopRow(key: string): Row[] {
  return [{ type: 1, components: [{ type: 2, style: 4, label: 'Stop', custom_id: stopId(key) }] }];
}

export function voteRow(answerId: number): Row[] {
  return [
    {
      type: 1,
      components: [
        { type: 2, style: 2, emoji: { name: '👍' }, custom_id: voteId(1, answerId) },
        { type: 2, style: 2, emoji: { name: '👎' }, custom_id: voteId(-1, answerId) },
      ],
    },
  ];
}

/** A reply target whose posts and edits can carry components (an empty list removes them). */
export interface ButtonTarget<M> {
  reply(content: string, components: Row[]): Promise<M>;
  send(content: string, components: Row[]): Promise<M>;
  edit(message: M, content: string | null, components: Row[]): Promise<void>;
  remove(message: M): Promise<void>;
}

/** Which answers are streaming, who asked, and how to stop them. */
export class StopRegistry {
  private readonly entries = new Map<string, { askerId: string; controller: AbortController }>();

  add(key: string, askerId: string, controller: AbortController): void {
    this.entries.set(key, { askerId, controller });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** 'stopped', 'forbidden' (not the asker, no Manage Messages) or 'ended' (nothing streams under key). */
  stop(key: string, userId: string, canManage: boolean): 'stopped' | 'forbidden' | 'ended' {
    const entry = this.entries.get(key);
    if (!entry || entry.controller.signal.aborted) return 'ended';
    if (entry.askerId !== userId && !canManage) return 'forbidden';
    entry.controller.abort(new StopRequest(userId));
    return 'stopped';
  }
}

const same = (a: Row[], b: Row[]) => JSON.stringify(a) === JSON.stringify(b);

export class AnswerButtons<M> {
  private readonly parts: { message: M; rows: Row[] }[] = [];
  private answerId: number | null = null;
  private ended = false;

  constructor(
    private readonly inner: ButtonTarget<M>,
    private readonly key: string,
  ) {}

  /** The answer is known (its stored id for the votes, or null: no vote buttons); Stop goes. */
  end(answerId: number | null): void {
    this.ended = true;
    this.answerId = answerId;
  }

  private rowsFor(index: number, count: number): Row[] {
    if (!this.ended) return stopRow(this.key);
    return index === count - 1 && this.answerId !== null ? voteRow(this.answerId) : [];
  }

  readonly target: ReplyTarget<M> = {
    reply: async (content) => this.post(content, true),
    send: async (content) => this.post(content, false),
    edit: async (message, content) => {
      const i = this.parts.findIndex((p) => p.message === message);
      const rows = this.rowsFor(i, this.parts.length);
      await this.inner.edit(message, content, rows);
      if (i >= 0) this.parts[i]!.rows = rows;
    },
    remove: async (message) => {
      const i = this.parts.findIndex((p) => p.message === message);
      if (i >= 0) this.parts.splice(i, 1);
      await this.inner.remove(message);
    },
  };

  private async post(content: string, first: boolean): Promise<M> {
    const rows = this.rowsFor(this.parts.length, this.parts.length + 1);
    const message = first ? await this.inner.reply(content, rows) : await this.inner.send(content, rows);
    this.parts.push({ message, rows });
    return message;
  }

  /** After the reply is final: every message shows its last row (Stop gone, votes on the last). */
  async finalize(onError: (err: unknown) => void): Promise<void> {
    if (!this.ended) this.end(null);
    for (let i = 0; i < this.parts.length; i++) {
      const part = this.parts[i]!;
      const rows = this.rowsFor(i, this.parts.length);
      if (same(rows, part.rows)) continue;
      try {
        await this.inner.edit(part.message, null, rows);
        part.rows = rows;
      } catch (err) {
        onError(err);
      }
    }
  }
}
