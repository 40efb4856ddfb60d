/**
 * Health checks for `copilot doctor`. Each check is a function returning a result; a failing
 * dependency is reported, not thrown, so every check runs.
 */
import type { Config } from '../config.js';
import type { Db } from '../db/backend.js';
import { migrationStatus } from '../db/migrate.js';
import { availableVectorVersion, serverVersions } from '../db/server-info.js';
import { errorMessage } from '../errors.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  /** Skipped checks (not configured) are ok but say why. */
  skipped?: boolean;
  detail: string;
}

export interface DatabaseInfo {
  backend: Db['kind'];
  description: string;
  serverVersion: string;
  vectorVersion: string | null;
}

export async function databaseInfo(db: Db): Promise<DatabaseInfo> {
  const versions = await serverVersions(db);
  return { backend: db.kind, description: db.description, serverVersion: versions.server, vectorVersion: versions.vector };
}

export async function databaseChecks(open: () => Promise<Db>): Promise<CheckResult[]> {
  let db: Db;
  try {
    db = await open();
  } catch (err) {
    return [{ name: 'database', ok: false, detail: errorMessage(err) }];
  }
  const checks: CheckResult[] = [];
  try {
    const info = await databaseInfo(db);
    checks.push({ name: 'database', ok: true, detail: `${info.backend}: ${info.description} (PostgreSQL ${info.serverVersion})` });
    if (info.vectorVersion) {
      checks.push({ name: 'pgvector', ok: true, detail: `vector ${info.vectorVersion}` });
    } else {
      const available = await availableVectorVersion(db);
      checks.push({
        name: 'pgvector',
        ok: false,
        detail: available
          ? `available (${available}) but not created — run \`copilot db migrate\``
          : 'the "vector" extension is not installed on the server — install pgvector',
      });
    }
    const status = await migrationStatus(db);
    checks.push(
      status.pending.length === 0
        ? { name: 'migrations', ok: true, detail: `${status.applied.length} applied, none pending` }
        : {
            name: 'migrations',
            ok: false,
            detail: `${status.pending.length} pending (${status.pending.map((m) => m.version).join(', ')}) — run \`copilot db migrate\``,
          },
    );
  } catch (err) {
    checks.push({ name: 'database', ok: false, detail: errorMessage(err) });
  } finally {
    await db.close().catch(() => {});
  }
  return checks;
}

export function configCheck(config: Config): CheckResult {
  const parts = [
    config.databaseUrl ? `database from ${config.databaseUrlSource}` : `embedded database in ${config.home}`,
    config.groqApiKey ? `Groq model ${config.groqModel}` : 'no GROQ_API_KEY (answers are cited passages only)',
    config.hfToken || config.embeddingsUrl ? `embeddings ${config.embeddingsModel}` : 'no embeddings provider (full-text retrieval only)',
    config.discordToken ? 'Discord token set' : 'no DISCORD_TOKEN (needed by serve)',
  ];
  return { name: 'config', ok: true, detail: parts.join('; ') };
}

export async function embeddingsCheck(config: Config): Promise<CheckResult> {
  const { createEmbedder } = await import('../kb/embed.js');
  const embedder = createEmbedder(config, { attempts: 1, timeoutMs: 10_000 });
  if (!embedder)
    return { name: 'embeddings', ok: true, skipped: true, detail: 'not configured (HF_TOKEN or EMBEDDINGS_URL): full-text retrieval only' };
  try {
    const [v] = await embedder.embed(['copilot doctor probe']);
    return { name: 'embeddings', ok: true, detail: `${embedder.provider}: ${embedder.model}, ${v!.length} dimensions` };
  } catch (err) {
    return { name: 'embeddings', ok: false, detail: errorMessage(err) };
  }
}

export async function groqCheck(config: Config): Promise<CheckResult> {
  const { createChatClient } = await import('../answer/groq.js');
  const chat = await createChatClient(config);
  if (!chat) return { name: 'groq', ok: true, skipped: true, detail: 'not configured (GROQ_API_KEY): answers are cited passages only' };
  try {
    return { name: 'groq', ok: true, detail: `model ${await chat.check()} available` };
  } catch (err) {
    return { name: 'groq', ok: false, detail: errorMessage(err) };
  }
}

export const DISCORD_API = 'https://discord.com/api';

export async function discordCheck(config: Config): Promise<CheckResult> {
  if (!config.discordToken) return { name: 'discord', ok: true, skipped: true, detail: 'DISCORD_TOKEN not set (needed by serve)' };
  const base = (config.discordApiUrl ?? DISCORD_API).replace(/\/+$/, '');
  try {
    const response = await fetch(`${base}/v10/users/@me`, {
      headers: { authorization: `Bot ${config.discordToken}` },
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status === 401)
      return { name: 'discord', ok: false, detail: 'Discord refused DISCORD_TOKEN (401) — reset the bot token in the Developer Portal' };
    if (!response.ok) return { name: 'discord', ok: false, detail: `Discord answered HTTP ${response.status}` };
    const me = (await response.json()) as { username?: string; id?: string };
    return { name: 'discord', ok: true, detail: `token valid for bot ${me.username ?? '?'} (${me.id ?? '?'})` };
  } catch (err) {
    return {
      name: 'discord',
      ok: false,
      detail: `Discord unreachable: ${(err as Error).name === 'TimeoutError' ? 'timed out' : errorMessage(err)}`,
    };
  }
}

/** The invite link (skipped without a token; the application id from Discord or the token). */
export async function inviteCheck(config: Config): Promise<CheckResult> {
  if (!config.discordToken)
    return { name: 'invite', ok: true, skipped: true, detail: 'DISCORD_TOKEN not set (needed for the invite link)' };
  const { resolveInvite } = await import('../bot/invite.js');
  try {
    const invite = await resolveInvite({ token: config.discordToken, apiUrl: config.discordApiUrl });
    return { name: 'invite', ok: true, detail: invite.url };
  } catch (err) {
    return { name: 'invite', ok: false, detail: errorMessage(err) };
  }
}
