/**
 * Slash commands and buttons. `/ask` runs the same answer pipeline as a message (deferred at once,
 * then streamed into the response, split into follow-ups, Stop while it streams, 👍/👎 at the end);
 * `/reset` forgets the channel's or thread's memory; `/forget-me` the caller's messages everywhere.
 * Stop and vote presses are acknowledged at once. Every failure is logged with context and
 * acknowledged where Discord still lets us; nothing is thrown into discord.js.
 */
import type { ButtonInteraction, ChatInputCommandInteraction, Client, Interaction } from 'discord.js';
import type { Logger } from 'pino';
import type { AnswerService } from '../answer/service.js';
import { UserError, errorMessage } from '../errors.js';
import type { Feedback } from '../feedback/service.js';
import { AnswerButtons, StopRegistry, parseButton } from './buttons.js';
import { MANAGE_MESSAGES } from './commands.js';
import { interactionTarget } from './discord.js';
import type { ChannelDirectory } from './gate.js';
import { answerMessage } from './handler.js';
import type { Metrics } from './metrics.js';
import type { ConversationQueue } from './queue.js';

export const NOT_ENABLED = 'copilot is not enabled in this channel.';
export const ONLY_ASKER = 'Only the asker can stop this.';
export const ANSWER_GONE = 'That answer no longer exists.';
export const NOTHING_TO_RESET = 'There is no conversation to forget here.';

/** Conversation memory as /reset needs it (the service behind `copilot convo reset`). */
export interface ConversationReset {
  /** Deletes the conversation's messages (audited); throws a UserError when there is none. */
  reset(conversationId: string, actor: string): Promise<{ deleted: number }>;
}

export interface InteractionDeps {
  client: Client;
  routes: typeof import('discord.js').Routes;
  answers: AnswerService;
  feedback: Feedback | null;
  conversations: ConversationReset | null;
  channels: ChannelDirectory;
  queue: ConversationQueue;
  /** In-flight answers (shutdown interrupts them). */
  inflight: Set<AbortController>;
  stops: StopRegistry;
  isStopping: () => boolean;
  metrics?: Metrics;
  log: Logger;
  editIntervalMs: number;
}

/** The actor recorded in the audit log for a Discord member. */
export const discordActor = (userId: string) => `discord:${userId}`;

const EPHEMERAL = 64;

export function createInteractionHandler(deps: InteractionDeps): (interaction: Interaction) => Promise<void> {
  const { client, routes, log } = deps;

  /** An initial callback over REST (type 4 message, 5 deferred, 6 deferred update); false when Discord refused it. */
  async function callback(i: Interaction, type: 4 | 5 | 6, data?: Record<string, unknown>): Promise<boolean> {
    try {
      await client.rest.post(routes.interactionCallback(i.id, i.token), { body: { type, ...(data ? { data } : {}) }, auth: false });
      return true;
    } catch (err) {
      log.warn({ interactionId: i.id, channelId: i.channelId, err: errorMessage(err) }, 'could not acknowledge the interaction');
      return false;
    }
  }

  /** Replaces the deferred response's text. */
  async function editOriginal(i: Interaction, content: string): Promise<void> {
    try {
      await client.rest.patch(routes.webhookMessage(i.applicationId, i.token, '@original'), {
        body: { content, allowed_mentions: { parse: [] } },
        auth: false,
      });
    } catch (err) {
      log.warn({ interactionId: i.id, channelId: i.channelId, err: errorMessage(err) }, 'could not edit the interaction response');
    }
  }

  async function followUp(i: Interaction, content: string): Promise<void> {
    try {
      await client.rest.post(routes.webhook(i.applicationId, i.token), {
        body: { content, flags: EPHEMERAL, allowed_mentions: { parse: [] } },
        auth: false,
      });
    } catch (err) {
      log.warn({ interactionId: i.id, err: errorMessage(err) }, 'could not send the follow-up');
    }
  }

  /** Where a command was used: the conversation (channel or thread) and the allowed channel, if any. */
  function place(i: ChatInputCommandInteraction): { conversationId: string; channelId: string | null; parentId: string | null } {
    const conversationId = i.channelId;
    const channel = i.channel ?? client.channels.cache.get(conversationId) ?? null;
    const parentId = channel?.isThread() ? channel.parentId : null;
    if (deps.channels.get(conversationId)) return { conversationId, channelId: conversationId, parentId };
    if (parentId && deps.channels.get(parentId)) return { conversationId, channelId: parentId, parentId };
    return { conversationId, channelId: null, parentId };
  }

  async function ask(i: ChatInputCommandInteraction): Promise<void> {
    const receivedAt = performance.now();
    const question = i.options.getString('question', true).trim();
    const ephemeral = i.options.getBoolean('private') ?? false;
    const where = place(i);
    const context = { interactionId: i.id, channelId: where.conversationId, userId: i.user.id };
    if (where.channelId === null || i.guildId === null || deps.isStopping()) {
      await callback(i, 4, { content: NOT_ENABLED, flags: EPHEMERAL });
      log.info({ ...context, reason: where.channelId === null ? 'channel' : 'stopping' }, '/ask refused');
      return;
    }
    if (!(await callback(i, 5, ephemeral ? { flags: EPHEMERAL } : {}))) return;
    deps.metrics?.inc('messagesSeen');
    const controller = new AbortController();
    const buttons = new AnswerButtons(interactionTarget(client, routes, i.applicationId, i.token, ephemeral), i.id);
    const noTyping = { stop() {} };
    deps.queue.push(where.conversationId, {
      run: async () => {
        deps.inflight.add(controller);
        deps.stops.add(i.id, i.user.id, controller);
        try {
          await answerMessage(
            {
              messageId: i.id,
              authorId: i.user.id,
              conversationId: where.conversationId,
              channelId: where.channelId!,
              parentId: where.parentId,
              question,
              storedMessageId: null,
              receivedAt,
            },
            buttons.target,
            noTyping,
            controller.signal,
            {
              answers: deps.answers,
              metrics: deps.metrics,
              log,
              editIntervalMs: deps.editIntervalMs,
              onResult: (r) => buttons.end(r.limited ? null : r.messageId),
            },
          );
          await buttons.finalize((err) => log.warn({ ...context, err: errorMessage(err) }, 'could not update the buttons'));
        } finally {
          deps.stops.delete(i.id);
          deps.inflight.delete(controller);
        }
      },
      cancel: () => {
        void editOriginal(i, '_(not answered: the bot was shutting down — please ask again)_');
        log.warn(context, '/ask not answered before shutdown');
      },
    });
  }

  async function reset(i: ChatInputCommandInteraction): Promise<void> {
    if (!(await callback(i, 5, { flags: EPHEMERAL }))) return;
    const id = i.channelId;
    try {
      if (!deps.conversations) throw new UserError(NOTHING_TO_RESET, 'unknown_conversation');
      const { deleted } = await deps.conversations.reset(id, discordActor(i.user.id));
      log.info({ interactionId: i.id, conversationId: id, userId: i.user.id, deleted }, 'conversation reset with /reset');
      await editOriginal(i, `Done — I forgot this conversation (${deleted} message${deleted === 1 ? '' : 's'}).`);
    } catch (err) {
      if (err instanceof UserError) return editOriginal(i, NOTHING_TO_RESET);
      log.error({ interactionId: i.id, conversationId: id, err: errorMessage(err) }, '/reset failed');
      await editOriginal(i, 'Sorry, I could not reset this conversation. The error has been logged.');
    }
  }

  async function forgetMe(i: ChatInputCommandInteraction): Promise<void> {
    if (!(await callback(i, 5, { flags: EPHEMERAL }))) return;
    try {
      if (!deps.feedback) throw new Error('no database for /forget-me');
      const { messages, replies } = await deps.feedback.forgetUser(i.user.id, discordActor(i.user.id));
      log.info({ interactionId: i.id, userId: i.user.id, messages, replies }, 'user messages deleted with /forget-me');
      await editOriginal(
        i,
        `Done — I deleted ${messages} message${messages === 1 ? '' : 's'} of yours and ${replies} repl${replies === 1 ? 'y' : 'ies'} to them.`,
      );
    } catch (err) {
      log.error({ interactionId: i.id, err: errorMessage(err) }, '/forget-me failed');
      await editOriginal(i, 'Sorry, I could not delete your messages. The error has been logged.');
    }
  }

  async function button(i: ButtonInteraction): Promise<void> {
    const action = parseButton(i.customId);
    const context = { interactionId: i.id, channelId: i.channelId, userId: i.user.id, messageId: i.message.id };
    if (!action) {
      log.warn({ ...context, customId: i.customId.slice(0, 100) }, 'unknown button');
      await callback(i, 6);
      return;
    }
    if (action.kind === 'stop') {
      const canManage = ((i.memberPermissions?.bitfield ?? 0n) & MANAGE_MESSAGES) === MANAGE_MESSAGES;
      const outcome = deps.stops.stop(action.key, i.user.id, canManage);
      if (outcome === 'forbidden') await callback(i, 4, { content: ONLY_ASKER, flags: EPHEMERAL });
      else await callback(i, 6);
      log.info({ ...context, outcome }, 'stop pressed');
      return;
    }
    // Acknowledged first (Discord's 3 s), stored after.
    if (!(await callback(i, 6))) return;
    if (!deps.feedback) return;
    try {
      const record = await deps.feedback.vote(action.answerId, i.user.id, action.vote);
      if (!record) {
        log.info({ ...context, answerId: action.answerId }, 'vote on an answer that no longer exists');
        await followUp(i, ANSWER_GONE);
        return;
      }
      if (record.previous !== record.vote) deps.metrics?.inc(record.vote === 1 ? 'votesUp' : 'votesDown');
      log.info({ ...context, answerId: action.answerId, vote: action.vote, changed: record.previous !== null }, 'vote stored');
    } catch (err) {
      deps.metrics?.inc('errors');
      log.error({ ...context, answerId: action.answerId, err: errorMessage(err) }, 'could not store the vote');
    }
  }

  return async (interaction) => {
    try {
      if (interaction.isChatInputCommand()) {
        if (interaction.commandName === 'ask') await ask(interaction);
        else if (interaction.commandName === 'reset') await reset(interaction);
        else if (interaction.commandName === 'forget-me') await forgetMe(interaction);
        else {
          log.warn({ interactionId: interaction.id, command: interaction.commandName }, 'unknown command');
          await callback(interaction, 4, { content: 'Unknown command.', flags: EPHEMERAL });
        }
      } else if (interaction.isButton()) {
        await button(interaction);
      }
    } catch (err) {
      deps.metrics?.inc('errors');
      log.error({ interactionId: interaction.id, err }, 'interaction handler failed');
    }
  };
}
