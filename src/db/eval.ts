/** What `copilot eval` leaves behind when it answers: its throwaway conversations, removed. */
import type { Queryable } from './backend.js';

/** Deletes a conversation, its messages and the gaps recorded in it. */
export async function forgetConversation(db: Queryable, conversationId: string): Promise<void> {
  await db.query('delete from kb_gaps where conversation_id = $1', [conversationId]);
  await db.query('delete from conversations where id = $1', [conversationId]);
}
