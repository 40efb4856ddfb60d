/** The audit log: who changed what, when, from which value to which. */
import type { Queryable } from './backend.js';
import { dbText } from './text.js';

export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  oldValue: string | null;
  newValue: string | null;
}

interface AuditRow {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  old_value: string | null;
  new_value: string | null;
}

export async function recordAudit(
  db: Queryable,
  entry: { actor: string; action: string; target?: string | null; oldValue?: string | null; newValue?: string | null },
): Promise<void> {
  await db.query('insert into audit_log (actor, action, target, old_value, new_value) values ($1, $2, $3, $4, $5)', [
    dbText(entry.actor),
    entry.action,
    dbText(entry.target),
    dbText(entry.oldValue),
    dbText(entry.newValue),
  ]);
}

export async function listAudit(
  db: Queryable,
  filter: { actionPrefix?: string; target?: string; limit?: number } = {},
): Promise<AuditEntry[]> {
  const { rows } = await db.query<AuditRow>(
    `select id, at, actor, action, target, old_value, new_value from audit_log
     where ($1::text is null or action like $1 || '%') and ($2::text is null or target = $2)
     order by id desc limit $3`,
    [filter.actionPrefix ?? null, filter.target ?? null, filter.limit ?? 50],
  );
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    actor: r.actor,
    action: r.action,
    target: r.target,
    oldValue: r.old_value,
    newValue: r.new_value,
  }));
}
