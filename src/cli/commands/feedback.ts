/** `copilot feedback [list]`: the 👍/👎 votes on answers, newest first; `feedback export`: the 👍 ones as an eval question file. */
import { writeFileSync } from 'node:fs';
import { UserError, errorMessage } from '../../errors.js';
import type { Context } from '../context.js';
import { truncate, when } from '../output.js';
import { parseSince } from './kb.js';

export async function list(ctx: Context, opts: { since?: string; down?: boolean }): Promise<void> {
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

/** A JSON line with DEL and C1 controls escaped too (JSON.stringify leaves them raw; the text stays the same). */
const jsonLine = (value: unknown) =>
  JSON.stringify(value).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export async function exportQuestions(ctx: Context, opts: { since?: string; out?: string }): Promise<void> {
  const since = opts.since === undefined ? null : parseSince(opts.since);
  const { exportFeedback } = await import('../../feedback/export.js');
  const result = await ctx.withDb('feedback export', (db) => exportFeedback(db, since));
  const text = result.questions.map((q) => `${jsonLine(q)}\n`).join('');
  if (opts.out !== undefined) {
    try {
      writeFileSync(opts.out, text);
    } catch (err) {
      throw new UserError(`cannot write ${opts.out}: ${errorMessage(err)}`, 'bad_out');
    }
  } else ctx.out.write(text);
  ctx.out.data(result.questions);
  const skipped = result.skipped > 0 ? ` (${result.skipped} 👍 answer(s) without a source still in the knowledge base left out)` : '';
  const where = opts.out === undefined ? '' : ` to ${opts.out}`;
  ctx.out.note(`${result.questions.length} question(s) exported${where}${skipped} — run them with \`copilot eval FILE\``);
}
