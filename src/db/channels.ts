/** The channels table: where the bot answers, and how. */
import type { Queryable } from './backend.js';
import { dbText } from './text.js';
import { onlyRow } from './rows.js';

export type ChannelMode = 'all' | 'mention' | 'thread';
export const CHANNEL_MODES: readonly ChannelMode[] = ['all', 'mention', 'thread'];

export interface Channel {
  id: string;
  mode: ChannelMode;
  addedAt: Date;
  addedBy: string;
  /** The role pinged when an answer here is a gap, or null. */
  escalateRole: string | null;
}

interface ChannelRow {
  id: string;
  mode: ChannelMode;
  added_at: Date;
  added_by: string;
  escalate_role: string | null;
}

const COLUMNS = 'id, mode, added_at, added_by, escalate_role';

const toChannel = (r: ChannelRow): Channel => ({
  id: r.id,
  mode: r.mode,
  addedAt: r.added_at,
  addedBy: r.added_by,
  escalateRole: r.escalate_role,
});

export async function listChannels(db: Queryable): Promise<Channel[]> {
  const { rows } = await db.query<ChannelRow>(`select ${COLUMNS} from channels order by added_at, id`);
  return rows.map(toChannel);
}

export async function getChannel(db: Queryable, id: string): Promise<Channel | null> {
  const { rows } = await db.query<ChannelRow>(`select ${COLUMNS} from channels where id = $1`, [id]);
  return rows[0] ? toChannel(rows[0]) : null;
}

export async function insertChannel(db: Queryable, id: string, mode: ChannelMode, actor: string): Promise<Channel> {
  const { rows } = await db.query<ChannelRow>(`insert into channels (id, mode, added_by) values ($1, $2, $3) returning ${COLUMNS}`, [
    id,
    mode,
    dbText(actor),
  ]);
  return toChannel(onlyRow(rows, 'insertChannel'));
}

export async function updateChannelMode(db: Queryable, id: string, mode: ChannelMode): Promise<void> {
  await db.query('update channels set mode = $2 where id = $1', [id, mode]);
}

export async function setEscalateRole(db: Queryable, id: string, roleId: string | null): Promise<void> {
  await db.query('update channels set escalate_role = $2 where id = $1', [id, roleId]);
}

export async function deleteChannel(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('delete from channels where id = $1', [id]);
  return rowCount > 0;
}

/** The collections a channel retrieves from (null: every collection, or no such channel). */
export async function channelCollections(db: Queryable, id: string): Promise<string[] | null> {
  const { rows } = await db.query<{ collections: string[] | null }>('select collections from channels where id = $1', [id]);
  return rows[0]?.collections ?? null;
}

/** Every channel's collections, for listing (channels without any are absent). */
export async function allChannelCollections(db: Queryable): Promise<Map<string, string[]>> {
  const { rows } = await db.query<{ id: string; collections: string[] }>(
    'select id, collections from channels where collections is not null',
  );
  return new Map(rows.map((r) => [r.id, r.collections]));
}

export async function setChannelCollections(db: Queryable, id: string, collections: string[] | null): Promise<void> {
  await db.query('update channels set collections = $2::text[] where id = $1', [id, collections]);
}
