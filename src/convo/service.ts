/** The conversations service: conversation memory listed, shown and reset (audited). */
import type { Db } from '../db/backend.js';
import { recordAudit } from '../db/audit.js';
import { conversationExists, deleteMessages, listConversations, recentMessages } from '../db/conversations.js';
import type { StoredMessage } from '../db/conversations.js';
import { UserError } from '../errors.js';
import { assertSnowflake } from '../validate.js';

export { listConversations };

/** The conversation of the command line (`copilot ask` / `chat` without --channel). */
export const CLI_CONVERSATION = 'cli';

export function conversationId(value: string): string {
  return value === CLI_CONVERSATION ? value : assertSnowflake(value, 'channel or thread ID');
}

async function mustExist(db: Db, id: string): Promise<void> {
  if (!(await conversationExists(db, id))) {
    throw new UserError(`no conversation for ${id} — \`copilot convo list\` shows the ones there are`, 'unknown_conversation');
  }
}

export async function showConversation(db: Db, value: string, limit = 20): Promise<StoredMessage[]> {
  const id = conversationId(value);
  if (!Number.isInteger(limit) || limit < 1) throw new UserError('--limit must be a positive whole number', 'bad_limit');
  await mustExist(db, id);
  return recentMessages(db, id, limit);
}

export async function resetConversation(db: Db, value: string, actor: string): Promise<{ id: string; deleted: number }> {
  const id = conversationId(value);
  await mustExist(db, id);
  return db.transaction(async (tx) => {
    const deleted = await deleteMessages(tx, id);
    await recordAudit(tx, { actor, action: 'convo.reset', target: id, oldValue: `${deleted} messages` });
    return { id, deleted };
  });
}
