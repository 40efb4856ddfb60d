/** `copilot invite`: the OAuth2 link that adds the bot to a server with exactly the permissions it uses. */
import { resolveInvite } from '../../bot/invite.js';
import type { Context } from '../context.js';

export async function invite(ctx: Context): Promise<void> {
  const result = await resolveInvite({ token: ctx.config.discordToken, apiUrl: ctx.config.discordApiUrl });
  ctx.out.data(result);
  ctx.out.line(result.url);
}
