/** `copilot doctor`: every check runs; exit 1 when any fails. */
import { configCheck, databaseChecks, discordCheck, embeddingsCheck, groqCheck, inviteCheck } from '../../health/checks.js';
import type { CheckResult } from '../../health/checks.js';
import { openDatabase } from '../../db/open.js';
import { DependencyError } from '../../errors.js';
import type { Context } from '../context.js';

export async function doctor(ctx: Context): Promise<void> {
  const checks: CheckResult[] = [configCheck(ctx.config)];
  const [database, embeddings, groq, discord, invite] = await Promise.all([
    databaseChecks(() => openDatabase(ctx.config, { command: 'doctor', migrate: false })),
    embeddingsCheck(ctx.config),
    groqCheck(ctx.config),
    discordCheck(ctx.config),
    inviteCheck(ctx.config),
  ]);
  checks.push(...database, embeddings, groq, discord, invite);
  const { out } = ctx;
  out.data({ ok: checks.every((c) => c.ok), checks });
  for (const c of checks) {
    const mark = c.skipped ? out.style.dim('-') : c.ok ? out.style.green('✓') : out.style.red('✗');
    out.line(`${mark} ${c.name.padEnd(11)} ${c.detail}`);
  }
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new DependencyError(`${failed.length} check(s) failed: ${failed.map((c) => c.name).join(', ')}`, 'doctor_failed');
  }
}
