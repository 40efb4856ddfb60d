/** `copilot kb candidates [list] | show | accept [--edit] | reject`: moderators' answers waiting for a decision. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbedder } from '../../kb/embed.js';
import { UserError } from '../../errors.js';
import type { Candidate } from '../../learn/candidates.js';
import type { Context } from '../context.js';
import { truncate, when } from '../output.js';

const STATUSES = ['pending', 'accepted', 'rejected'] as const;

const where = (c: Candidate) => (c.conversationId === c.channelId ? c.channelId : `${c.channelId}/${c.conversationId}`);

export async function list(ctx: Context, opts: { status?: string }): Promise<void> {
  const status = opts.status ?? null;
  if (status !== null && !(STATUSES as readonly string[]).includes(status)) {
    throw new UserError(`--status must be one of ${STATUSES.join(', ')} (got "${status}")`, 'bad_status');
  }
  const { listCandidates } = await import('../../learn/candidates.js');
  const rows = await ctx.withDb('kb candidates', (db) => listCandidates(db, status as Candidate['status'] | null));
  ctx.out.data(rows);
  if (rows.length === 0) {
    ctx.out.line(status ? `No ${status} candidate answers.` : 'No candidate answers yet.');
    return;
  }
  await ctx.out.table(
    ['ID', 'Status', 'Time', 'Channel', 'Member', 'Question', 'Answer'],
    rows.map((c) => [c.id, c.status, when(c.createdAt), where(c), c.memberId, truncate(c.question, 50), truncate(c.answer, 60)]),
  );
}

export async function show(ctx: Context, idArg: string): Promise<void> {
  const { parseCandidateId, showCandidate } = await import('../../learn/candidates.js');
  const id = parseCandidateId(idArg);
  const c = await ctx.withDb('kb candidates show', (db) => showCandidate(db, id));
  const { out } = ctx;
  out.data(c);
  out.line(`${out.style.bold(`candidate ${c.id}`)} · ${c.status}${c.decidedBy ? ` by ${c.decidedBy} at ${when(c.decidedAt)}` : ''}`);
  out.line(`from member ${c.memberId} in ${where(c)} at ${when(c.createdAt)}`);
  out.line('');
  out.line(out.style.dim('question:'));
  out.line(c.question);
  out.line('');
  out.line(out.style.dim('answer:'));
  out.line(c.answer);
}

function editWithEditor(editor: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'copilot-answer-'));
  const file = join(dir, 'answer.md');
  try {
    writeFileSync(file, text, { mode: 0o600 });
    const result = spawnSync(`${editor} "${file}"`, { stdio: 'inherit', shell: true });
    if (result.status !== 0) {
      throw new UserError(`the editor (${editor}) exited with ${result.status ?? result.signal} — nothing was accepted`, 'editor_failed');
    }
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The answer as the operator tidied it: $VISUAL/$EDITOR, else a prompt on a terminal. */
async function tidy(ctx: Context, c: Candidate): Promise<string> {
  const editor = process.env.VISUAL || process.env.EDITOR;
  if (editor) return editWithEditor(editor, c.answer);
  const { text, isCancel } = await import('@clack/prompts');
  const answer = await text({ message: `Answer to: ${truncate(c.question, 70)}`, initialValue: c.answer });
  if (isCancel(answer)) throw new UserError('cancelled — nothing was accepted', 'cancelled');
  return answer;
}

export async function accept(ctx: Context, idArg: string, opts: { edit?: boolean }): Promise<void> {
  const { acceptCandidate, candidateToDecide, parseCandidateId } = await import('../../learn/candidates.js');
  const id = parseCandidateId(idArg);
  if (opts.edit && !(process.env.VISUAL || process.env.EDITOR) && !ctx.stdinTTY) {
    throw new UserError(
      '--edit needs $EDITOR or a terminal — set EDITOR, or accept without --edit and correct the text later',
      'no_terminal',
    );
  }
  let answer: string | undefined;
  if (opts.edit) {
    // The editor runs with the database closed (the embedded one stays free meanwhile).
    const c = await ctx.withDb('kb candidates accept', (db) => candidateToDecide(db, id));
    answer = await tidy(ctx, c);
  }
  const embedder = createEmbedder(ctx.config);
  const r = await ctx.withDb('kb candidates accept', (db) => acceptCandidate(db, embedder, id, { actor: ctx.actor, answer }));
  const { out } = ctx;
  out.data(r);
  out.line(
    `${out.style.green('accepted')} candidate ${id} into ${r.document.name}${r.document.created ? ' (created)' : ''} in collection ${r.document.collection}${r.embedded ? '' : ' — full text only, no vector (run `copilot kb embed` once a provider is configured)'}`,
  );
}

export async function reject(ctx: Context, idArg: string): Promise<void> {
  const { parseCandidateId, rejectCandidate } = await import('../../learn/candidates.js');
  const id = parseCandidateId(idArg);
  const c = await ctx.withDb('kb candidates reject', (db) => rejectCandidate(db, id, ctx.actor));
  ctx.out.data(c);
  ctx.out.line(`${ctx.out.style.yellow('rejected')} candidate ${id}`);
}
