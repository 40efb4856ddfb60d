/** `copilot eval <file.jsonl>`: retrieval (and answer) quality on a question file, as a table or JSON. */
import { readFile } from 'node:fs/promises';
import { ThresholdError, UserError } from '../../errors.js';
import { assertSnowflake } from '../../validate.js';
import type { Context } from '../context.js';
import { truncate } from '../output.js';
import { bar, startProgress } from '../progress.js';

export interface EvalFlags {
  k: number;
  channel?: string;
  answers?: boolean;
  minHit?: number;
}

async function readQuestions(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new UserError(`${file}: ${why}`, 'bad_eval_file');
  }
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export async function evaluate(ctx: Context, file: string, flags: EvalFlags): Promise<void> {
  const { out } = ctx;
  const channelId = flags.channel === undefined ? null : assertSnowflake(flags.channel);
  const { parseQuestionFile, checkFiles } = await import('../../eval/questions.js');
  const cases = parseQuestionFile(await readQuestions(file), file);
  const { runEval } = await import('../../eval/run.js');
  const { collectionsOfChannel, listDocuments } = await import('../../kb/service.js');
  const { createApp } = await import('../../app.js');
  const app = await createApp(ctx.config, { command: 'eval', notice: (m) => out.note(out.style.dim(m)) });
  let report;
  try {
    checkFiles(
      cases,
      (await listDocuments(app.db)).map((d) => d.name),
      file,
    );
    // The channel's collections, as the bot retrieves there; a channel not allowed is exit 2 here.
    const collections = channelId === null ? null : await collectionsOfChannel(app.db, channelId);
    if (flags.answers && !app.chat) out.note(out.style.dim('GROQ_API_KEY is not set: answers are the retrieval-only fallback'));
    const progress = await startProgress(out, 'evaluating');
    try {
      report = await runEval({ db: app.db, embedder: app.embedder, answers: app.answers }, cases, {
        k: flags.k,
        channelId,
        collections,
        answers: flags.answers,
        onProgress: (done, total) => progress.update(`questions ${bar(done, total)}`),
        onWarning: (m) => out.warn(m),
      });
    } finally {
      progress.stop();
    }
  } finally {
    await app.close();
  }
  const { results, ...summary } = report;
  out.data({ ...summary, min_hit: flags.minHit ?? null, results });
  await out.table(
    ['Line', 'Question', 'Result', 'Rank', 'Expected', `Retrieved (top ${flags.k})`, ...(flags.answers ? ['Gap'] : [])],
    results.map((r) => [
      r.line,
      truncate(r.question, 60),
      r.answerable ? (r.hit ? out.style.green('hit') : out.style.red('miss')) : out.style.dim('unanswerable'),
      r.rank ?? '',
      r.expected,
      r.got.slice(0, 3).join(', ') + (r.got.length > 3 ? ', …' : ''),
      ...(flags.answers
        ? [r.gap ? (r.answerable ? out.style.red('gap (wrong)') : out.style.green('gap')) : r.answerable ? '' : out.style.red('answered')]
        : []),
    ]),
  );
  out.line('');
  out.line(
    `hit@${report.k} ${pct(report.hit_at_k)} (${report.hits}/${report.answerable}) · MRR ${report.mrr.toFixed(3)} · ${report.questions} questions (${report.answerable} answerable, ${report.unanswerable} not) · retrieval p50 ${report.latency_ms.p50} ms, p95 ${report.latency_ms.p95} ms`,
  );
  if (report.gaps) {
    out.line(
      `gaps: ${report.gaps.flagged}/${report.unanswerable} unanswerable questions flagged · ${report.gaps.false_flags}/${report.answerable} answerable ones wrongly flagged`,
    );
  }
  if (report.per_file.length > 1) {
    out.line(`per file: ${report.per_file.map((f) => `${f.file} ${pct(f.hit_rate)} (${f.hits}/${f.questions})`).join(' · ')}`);
  }
  if (flags.minHit !== undefined && report.hit_at_k < flags.minHit) {
    throw new ThresholdError(`hit@${report.k} ${pct(report.hit_at_k)} is below --min-hit ${pct(flags.minHit)}`, 'below_min_hit');
  }
}
