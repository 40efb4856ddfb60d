/**
 * Escalation to a human: when an answer in a channel with an escalation role is a gap (or gets a
 * 👎), the role is pinged once in that conversation — never twice for the same answer, at most once
 * per conversation per cool-down — and the mention allows that role and nobody else. Knows nothing
 * of Discord: the caller posts the line.
 */
import type { Db } from '../db/backend.js';
import { claimEscalation, recordPing, votedAnswer } from '../db/escalations.js';
import type { NewEscalation, VotedAnswer } from '../db/escalations.js';
import { errorMessage } from '../errors.js';

export type { NewEscalation };

/** What goes to Discord: the line and its allowed_mentions (only the role). */
export interface EscalationMessage {
  content: string;
  allowedMentions: { parse: string[]; roles: string[] };
}

export type PostEscalation = (conversationId: string, message: EscalationMessage) => Promise<{ id: string }>;

export type EscalationOutcome = 'pinged' | 'cooldown' | 'already' | 'failed';

export function escalationMessage(roleId: string): EscalationMessage {
  return { content: `<@&${roleId}> — this question needs a human.`, allowedMentions: { parse: [], roles: [roleId] } };
}

export interface EscalateDeps {
  db: Db;
  post: PostEscalation;
  cooldownMs: number;
  log?: { warn(o: object, msg?: string): void };
}

/** Escalates one answer (see the file header); a failed post is logged and does not start the cool-down. */
export async function escalate(deps: EscalateDeps, e: NewEscalation): Promise<EscalationOutcome> {
  const row = await deps.db.transaction((tx) => claimEscalation(tx, e, deps.cooldownMs));
  if (!row) return 'already';
  if (!row.pinged) return 'cooldown';
  try {
    const posted = await deps.post(e.conversationId, escalationMessage(e.roleId));
    await recordPing(deps.db, row.id, posted.id);
    return 'pinged';
  } catch (err) {
    deps.log?.warn({ conversationId: e.conversationId, err: errorMessage(err) }, 'could not post the escalation');
    await recordPing(deps.db, row.id, null).catch(() => undefined);
    return 'failed';
  }
}

/** The answer behind a 👎 and its question, when the vote came from the one who asked (else null: no escalation). */
export async function downvotedByAsker(db: Db, answerId: number, userId: string): Promise<VotedAnswer | null> {
  const answer = await votedAnswer(db, answerId);
  return answer && answer.question !== null && answer.askerId === userId ? answer : null;
}
