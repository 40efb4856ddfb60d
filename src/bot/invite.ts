/**
 * The bot's OAuth2 invite link: exactly the permissions it uses, and the application id from
 * Discord (GET /oauth2/applications/@me) or, when Discord cannot say, from the token itself.
 * No discord.js here: `copilot invite` and `doctor` stay fast (the bit values are checked against
 * discord.js's PermissionFlagsBits in the tests).
 */
import { DependencyError, UserError, errorMessage } from '../errors.js';

/** Discord permission bits the bot needs, by their discord.js names. */
export const BOT_PERMISSIONS = {
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  ReadMessageHistory: 1n << 16n,
  CreatePublicThreads: 1n << 35n,
  SendMessagesInThreads: 1n << 38n,
} as const;

/** Their sum: the `permissions` of the invite link. */
export const INVITE_PERMISSIONS: bigint = Object.values(BOT_PERMISSIONS).reduce((a, b) => a | b, 0n);

export const DISCORD_API = 'https://discord.com/api';

export function inviteUrl(applicationId: string): string {
  return `https://discord.com/oauth2/authorize?client_id=${applicationId}&scope=bot+applications.commands&permissions=${INVITE_PERMISSIONS}`;
}

/** A bot token's first segment is the bot's id in base64; the bot id is the application id. */
export function applicationIdFromToken(token: string): string | null {
  const first = token.replace(/^Bot\s+/i, '').split('.')[0] ?? '';
  if (first === '') return null;
  const decoded = Buffer.from(first.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
  return /^[0-9]{17,20}$/.test(decoded) ? decoded : null;
}

export interface Invite {
  url: string;
  applicationId: string;
  permissions: string;
  /** Where the application id came from. */
  source: 'discord' | 'token';
}

/**
 * The invite for this token: the application id from Discord (within timeoutMs), else decoded
 * from the token. No token → UserError naming DISCORD_TOKEN; neither way → DependencyError.
 */
export async function resolveInvite(o: { token: string | null; apiUrl?: string | null; timeoutMs?: number }): Promise<Invite> {
  if (!o.token) {
    throw new UserError(
      'DISCORD_TOKEN: not set — the invite link needs the bot token (Discord Developer Portal → Bot → Reset Token)',
      'bad_config',
    );
  }
  const base = (o.apiUrl ?? DISCORD_API).replace(/\/+$/, '');
  let reason: string;
  try {
    const response = await fetch(`${base}/v10/oauth2/applications/@me`, {
      headers: { authorization: `Bot ${o.token}` },
      signal: AbortSignal.timeout(o.timeoutMs ?? 5000),
    });
    if (response.ok) {
      const app = (await response.json()) as { id?: unknown };
      if (typeof app.id === 'string' && /^[0-9]{17,20}$/.test(app.id)) return invite(app.id, 'discord');
      reason = 'Discord answered without an application id';
    } else {
      await response.body?.cancel();
      reason = response.status === 401 ? 'Discord refused DISCORD_TOKEN (401)' : `Discord answered HTTP ${response.status}`;
    }
  } catch (err) {
    reason = `Discord unreachable: ${(err as Error).name === 'TimeoutError' ? 'timed out' : errorMessage(err)}`;
  }
  const fromToken = applicationIdFromToken(o.token);
  if (fromToken) return invite(fromToken, 'token');
  throw new DependencyError(`cannot find the application id: ${reason}, and DISCORD_TOKEN does not carry one`, 'discord_unavailable');
}

function invite(applicationId: string, source: Invite['source']): Invite {
  return { url: inviteUrl(applicationId), applicationId, permissions: INVITE_PERMISSIONS.toString(), source };
}
