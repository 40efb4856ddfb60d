/**
 * What the config watcher and the status endpoint read about the configuration: its version (the
 * config_version sequence that the channels and instructions triggers bump) and when the
 * instructions last changed.
 */
import type { Queryable } from './backend.js';

/** Changes whenever a channel or instructions row is written (the sequence's next value). */
export async function configVersion(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ v: string | number }>(
    'select last_value + (case when is_called then 1 else 0 end) as v from config_version',
  );
  const [row] = rows;
  if (!row) throw new Error('the config_version sequence returned no row');
  return Number(row.v);
}

/** When any instructions (global or a channel's) last changed, or null when none are set. */
export async function instructionsUpdatedAt(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ at: Date | string | null }>('select max(updated_at) as at from instructions');
  const at = rows[0]?.at;
  return at ? new Date(at) : null;
}
