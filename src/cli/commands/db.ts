/** `copilot db migrate|status`. */
import { databaseInfo } from '../../health/checks.js';
import { migrate, migrationStatus } from '../../db/migrate.js';
import type { Context } from '../context.js';
import { when } from '../output.js';

export async function migrateCommand(ctx: Context): Promise<void> {
  const applied = await ctx.withDb('db migrate', (db) => migrate(db), { migrate: false });
  ctx.out.data({ applied: applied.map(({ version, name }) => ({ version, name })) });
  if (applied.length === 0) ctx.out.line('The database is up to date.');
  for (const m of applied) ctx.out.line(`${ctx.out.style.green('applied')} ${String(m.version).padStart(4, '0')}_${m.name}`);
}

export async function status(ctx: Context): Promise<void> {
  const result = await ctx.withDb('db status', async (db) => ({ ...(await databaseInfo(db)), migrations: await migrationStatus(db) }), {
    migrate: false,
  });
  const { out } = ctx;
  out.data(result);
  out.line(`backend:    ${result.backend} (${result.description})`);
  out.line(`server:     ${result.serverVersion}`);
  out.line(`pgvector:   ${result.vectorVersion ?? out.style.red('not installed')}`);
  out.line(`migrations: ${result.migrations.applied.length} applied, ${result.migrations.pending.length} pending`);
  for (const m of result.migrations.applied)
    out.line(`  ${out.style.green('✓')} ${String(m.version).padStart(4, '0')}_${m.name}  ${out.style.dim(when(m.appliedAt))}`);
  for (const m of result.migrations.pending)
    out.line(`  ${out.style.yellow('·')} ${String(m.version).padStart(4, '0')}_${m.name}  pending — run \`copilot db migrate\``);
  if (result.migrations.unknown.length > 0) {
    out.warn(
      `the database has migrations this copilot does not know (${result.migrations.unknown.join(', ')}): a newer copilot migrated it`,
    );
  }
}
