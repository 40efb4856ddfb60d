/** `copilot feedback [list]`: the 👍/👎 votes on answers, newest first. */
import { UserError } from '../../errors.js';
import type { Context } from '../context.js';
import { truncate, when } from '../output.js';
import { parseSince } from './kb.js';

export async function list(ctx: Context, what: string | undefined, opts: { since?: string; down?: boolean }): Promise<void> {
  if (what !== undefined && what !== 'list')
    throw new UserError(`unknown feedback command "${what}" (try \`copilot feedback list\`)`, 'bad_command');
  const since = parseSince(opts.since);
  const { createFeedback } = await import('../../feedback/service.js');
  const items = await ctx.withDb('feedback', (db) => createFeedback(db).list({ since, down: opts.down ?? false }));
  ctx.out.data(items);
  if (items.length === 0) {
    ctx.out.line(`No ${opts.down ? '👎 ' : ''}votes since ${when(since)}.`);
    return;
  }
  await ctx.out.table(
    ['Time', 'Channel', 'Vote', 'Question', 'Answer', 'Sources'],
    items.map((f) => [
      when(f.at),
      f.channelId === f.conversationId ? f.channelId : `${f.channelId}/${f.conversationId}`,
      f.vote === 'up' ? '👍' : '👎',
      truncate(f.question ?? '', 60),
      truncate(f.answer, 60),
      f.sources.join(' · '),
    ]),
  );
}
