/** The instructions table: the global system instructions and per-channel overrides. */
import type { Queryable } from './backend.js';
import { dbText } from './text.js';

export const GLOBAL_SCOPE = 'global';

export interface Instructions {
  scope: string;
  content: string;
  updatedAt: Date;
  updatedBy: string;
}

interface InstructionsRow {
  scope: string;
  content: string;
  updated_at: Date;
  updated_by: string;
}

const toInstructions = (r: InstructionsRow): Instructions => ({
  scope: r.scope,
  content: r.content,
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});

export async function getInstructions(db: Queryable, scope: string): Promise<Instructions | null> {
  const { rows } = await db.query<InstructionsRow>('select scope, content, updated_at, updated_by from instructions where scope = $1', [
    scope,
  ]);
  return rows[0] ? toInstructions(rows[0]) : null;
}

export async function putInstructions(db: Queryable, scope: string, content: string, actor: string): Promise<void> {
  await db.query(
    `insert into instructions (scope, content, updated_by) values ($1, $2, $3)
     on conflict (scope) do update set content = excluded.content, updated_at = now(), updated_by = excluded.updated_by`,
    [scope, dbText(content), dbText(actor)],
  );
}

/** The instructions that apply in a channel: its override, else the global ones. */
export async function effectiveInstructions(db: Queryable, channelId: string | null): Promise<Instructions | null> {
  const { rows } = await db.query<InstructionsRow>(
    `select scope, content, updated_at, updated_by from instructions
     where scope = $1 or scope = 'global' order by scope = 'global' limit 1`,
    [channelId ?? GLOBAL_SCOPE],
  );
  return rows[0] ? toInstructions(rows[0]) : null;
}
