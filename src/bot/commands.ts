/**
 * The bot's slash commands (`/ask`, `/reset`, `/forget-me`) and their registration: one bulk
 * overwrite (PUT), global or on one guild — idempotent, so every start may do it.
 */

/** Manage Messages (1 << 13): who may use /reset by default, and press Stop on anyone's answer. */
export const MANAGE_MESSAGES = 1n << 13n;

/** Option types and the command type, as Discord numbers them. */
const CHAT_INPUT = 1;
const STRING = 3;
const BOOLEAN = 5;
/** Guild text channels and threads only (contexts: guild). */
const GUILD_ONLY = { contexts: [0] } as const;

export const COMMANDS = [
  {
    name: 'ask',
    type: CHAT_INPUT,
    description: 'Ask the copilot a question',
    options: [
      { type: STRING, name: 'question', description: 'Your question', required: true, max_length: 1500 },
      { type: BOOLEAN, name: 'private', description: 'Only you see the answer', required: false },
    ],
    ...GUILD_ONLY,
  },
  {
    name: 'reset',
    type: CHAT_INPUT,
    description: "Forget this channel's or thread's conversation",
    default_member_permissions: MANAGE_MESSAGES.toString(),
    ...GUILD_ONLY,
  },
  {
    name: 'forget-me',
    type: CHAT_INPUT,
    description: 'Delete every message of yours the copilot stored',
    ...GUILD_ONLY,
  },
];

export interface CommandsRest {
  put(route: `/${string}`, options: { body: unknown }): Promise<unknown>;
}

/**
 * Replaces the application's commands with COMMANDS: on `guildId` only when given (applies at
 * once), else globally. Returns how many Discord now has.
 */
export async function registerCommands(rest: CommandsRest, applicationId: string, guildId: string | null): Promise<number> {
  const route: `/${string}` = guildId
    ? `/applications/${applicationId}/guilds/${guildId}/commands`
    : `/applications/${applicationId}/commands`;
  const saved = await rest.put(route, { body: COMMANDS });
  return Array.isArray(saved) ? saved.length : COMMANDS.length;
}
