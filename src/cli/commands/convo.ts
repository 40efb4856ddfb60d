/** `copilot convo list|show|reset`. */
import { listConversations, resetConversation, showConversation } from '../../convo/service.js';
import { conversationId } from '../../convo/service.js';
import { UserError } from '../../errors.js';
import type { Context } from '../context.js';
import { truncate, when } from '../output.js';

export async function list(ctx: Context): Promise<void> {
  const conversations = await ctx.withDb('convo list', (db) => listConversations(db));
  ctx.out.data(conversations);
  if (conversations.length === 0) {
    ctx.out.line('No conversations yet.');
    return;
  }
  await ctx.out.table(
    ['Conversation', 'Channel', 'Messages', 'Last message'],
    conversations.map((c) => [c.id, c.parentId ?? c.channelId ?? '', c.messages, when(c.lastMessageAt)]),
  );
}

export async function show(ctx: Context, id: string, opts: { limit: number }): Promise<void> {
  const { limit } = opts;
  const target = conversationId(id);
  const { votesFor } = await import('../../feedback/service.js');
  const { messages, votes } = await ctx.withDb('convo show', async (db) => {
    const messages = await showConversation(db, target, limit);
    return {
      messages,
      votes: await votesFor(
        db,
        messages.filter((m) => m.role === 'assistant').map((m) => m.id),
      ),
    };
  });
  ctx.out.data(messages.map((m) => (m.role === 'assistant' ? { ...m, votes: votes.get(m.id) ?? { up: 0, down: 0 } } : m)));
  if (messages.length === 0) {
    ctx.out.line('No messages (the conversation was reset).');
    return;
  }
  const { style } = ctx.out;
  for (const m of messages) {
    const who = m.role === 'user' ? style.cyan(`user ${m.authorId ?? ''}`.trim()) : style.green('copilot');
    const status = m.status === 'complete' ? '' : style.yellow(` [${m.status}]`);
    const v = votes.get(m.id);
    const voted = v ? ` ${[v.up > 0 ? `👍 ${v.up}` : '', v.down > 0 ? `👎 ${v.down}` : ''].filter(Boolean).join(' ')}` : '';
    ctx.out.line(`${style.dim(when(m.createdAt))} ${who}${status}${voted}`);
    ctx.out.line(`  ${truncate(m.content, 2000)}`);
  }
}

export async function reset(ctx: Context, id: string, opts: { yes?: boolean }): Promise<void> {
  const target = conversationId(id);
  if (!opts.yes) {
    if (!ctx.stdinTTY || !ctx.out.stderrTTY) {
      throw new UserError(
        `not on a terminal: add --yes to reset the conversation ${target} (nothing was changed)`,
        'confirmation_required',
      );
    }
    const { confirm, isCancel } = await import('@clack/prompts');
    const answer = await confirm({ message: `Forget every message of conversation ${target}?`, initialValue: false });
    if (isCancel(answer) || answer !== true) throw new UserError('cancelled — nothing was changed', 'cancelled');
  }
  const result = await ctx.withDb('convo reset', (db) => resetConversation(db, target, ctx.actor));
  ctx.out.data(result);
  ctx.out.line(`${ctx.out.style.green('reset')} ${result.id}: ${result.deleted} messages forgotten`);
}
