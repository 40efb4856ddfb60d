/**
 * Composition root: builds the database, embedder, Groq client, token counter and the answer
 * service from Config. The one cleanup stack: every resource (the daemon's too) registers its
 * cleanup here, and close() releases them in reverse.
 */
import type { Config } from './config.js';
import type { Db } from './db/backend.js';
import { openDatabase } from './db/open.js';
import type { OpenOptions } from './db/open.js';
import { createAnswerService } from './answer/service.js';
import type { AnswerDeps, AnswerService } from './answer/service.js';
import { createChatClient } from './answer/groq.js';
import type { ChatClient } from './answer/groq.js';
import { loadLlamaTokenizer } from './answer/tokens.js';
import { createEmbedder } from './kb/embed.js';
import type { Embedder } from './kb/embed.js';

export interface App {
  config: Config;
  db: Db;
  embedder: Embedder | null;
  chat: ChatClient | null;
  answers: AnswerService;
  /** Registers a resource's cleanup, run on close in reverse order of registration. */
  onClose(resource: string, fn: () => Promise<void> | void): void;
  /**
   * Releases every resource, each even if an earlier one failed. A failure goes to `onError` when
   * given (the daemon logs it and goes on); otherwise the first one is thrown at the end.
   */
  close(onError?: (resource: string, err: unknown) => void): Promise<void>;
}

export interface AppOptions extends OpenOptions {
  log?: AnswerDeps['log'];
}

export async function createApp(config: Config, options: AppOptions): Promise<App> {
  const cleanups: { resource: string; fn: () => Promise<void> | void }[] = [];
  const [db, counter, chat] = await Promise.all([openDatabase(config, options), loadLlamaTokenizer(), createChatClient(config)]);
  cleanups.push({ resource: 'database', fn: () => db.close() });
  const embedder = createEmbedder(config);
  const answers = createAnswerService({ db, config, embedder, chat, counter, log: options.log });
  let closed = false;
  return {
    config,
    db,
    embedder,
    chat,
    answers,
    onClose(resource, fn) {
      cleanups.push({ resource, fn });
    },
    async close(onError) {
      if (closed) return;
      closed = true;
      const errors: unknown[] = [];
      for (const { resource, fn } of cleanups.reverse()) {
        try {
          await fn();
        } catch (err) {
          if (onError) onError(resource, err);
          else errors.push(err);
        }
      }
      if (errors.length > 0) throw errors[0];
    },
  };
}
