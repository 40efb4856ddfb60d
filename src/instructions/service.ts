/** The instructions service: the global system instructions and per-channel overrides, every change audited. */
import type { Db } from '../db/backend.js';
import { listAudit, recordAudit } from '../db/audit.js';
import type { AuditEntry } from '../db/audit.js';
import { getChannel } from '../db/channels.js';
import { GLOBAL_SCOPE, getInstructions, putInstructions } from '../db/instructions.js';
import type { Instructions } from '../db/instructions.js';
import { hasNul } from '../db/text.js';
import { UserError } from '../errors.js';
import { assertSnowflake } from '../validate.js';

export const MAX_INSTRUCTIONS_CHARS = 20_000;

export interface InstructionsView {
  scope: string;
  /** The text that applies (the override, else the global text), or null when none is set. */
  content: string | null;
  /** Where `content` comes from. */
  source: 'channel' | 'global' | 'none';
  updatedAt: Date | null;
  updatedBy: string | null;
}

async function scopeFor(db: Db, channelId: string | undefined, forWrite: boolean): Promise<string> {
  if (channelId === undefined) return GLOBAL_SCOPE;
  const id = assertSnowflake(channelId);
  if (forWrite && !(await getChannel(db, id))) {
    throw new UserError(`channel ${id} is not an allowed channel — add it first with \`copilot channels add ${id}\``, 'unknown_channel');
  }
  return id;
}

export async function showInstructions(db: Db, channelId?: string): Promise<InstructionsView> {
  const scope = await scopeFor(db, channelId, false);
  const own = await getInstructions(db, scope);
  const global = scope === GLOBAL_SCOPE ? own : await getInstructions(db, GLOBAL_SCOPE);
  const used: Instructions | null = own ?? global;
  return {
    scope,
    content: used?.content ?? null,
    source: own ? (scope === GLOBAL_SCOPE ? 'global' : 'channel') : global ? 'global' : 'none',
    updatedAt: used?.updatedAt ?? null,
    updatedBy: used?.updatedBy ?? null,
  };
}

export function normaliseInstructions(text: string): string {
  // Instructions are read back and edited by people: a NUL is refused, not silently dropped.
  if (hasNul(text)) {
    throw new UserError('the instructions contain a NUL character — is it a binary file? (nothing was changed)', 'binary_instructions');
  }
  const content = text.replace(/\r\n/g, '\n').trim();
  if (content.length === 0) throw new UserError('instructions are empty — nothing was changed', 'empty_instructions');
  if (content.length > MAX_INSTRUCTIONS_CHARS) {
    throw new UserError(
      `instructions are ${content.length} characters; the limit is ${MAX_INSTRUCTIONS_CHARS} — nothing was changed`,
      'instructions_too_long',
    );
  }
  return content;
}

export interface SetResult {
  scope: string;
  changed: boolean;
  previous: string | null;
  content: string;
}

export async function setInstructions(db: Db, text: string, actor: string, channelId?: string): Promise<SetResult> {
  const content = normaliseInstructions(text);
  const scope = await scopeFor(db, channelId, true);
  return db.transaction(async (tx) => {
    const previous = await getInstructions(tx, scope);
    if (previous?.content === content) return { scope, changed: false, previous: previous.content, content };
    await putInstructions(tx, scope, content, actor);
    await recordAudit(tx, {
      actor,
      action: 'instructions.set',
      target: scope,
      oldValue: previous?.content ?? null,
      newValue: content,
    });
    return { scope, changed: true, previous: previous?.content ?? null, content };
  });
}

export async function instructionsHistory(db: Db, channelId?: string, limit = 20): Promise<AuditEntry[]> {
  const scope = await scopeFor(db, channelId, false);
  return listAudit(db, { actionPrefix: 'instructions.', target: scope, limit });
}
