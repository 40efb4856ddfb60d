/** The channels service: the allowed channels listed, added (or their mode changed) and removed, each change audited. */
import type { Db } from '../db/backend.js';
import { recordAudit } from '../db/audit.js';
import {
  CHANNEL_MODES,
  allChannelCollections,
  channelCollections,
  deleteChannel,
  getChannel,
  insertChannel,
  listChannels,
  setChannelCollections,
  updateChannelMode,
} from '../db/channels.js';
import type { Channel, ChannelMode } from '../db/channels.js';
import { UserError } from '../errors.js';
import { assertSnowflake } from '../validate.js';

export { allChannelCollections, listChannels };

export interface ChannelChange {
  id: string;
  result: 'added' | 'mode_changed' | 'unchanged' | 'removed';
  mode?: ChannelMode;
  previousMode?: ChannelMode;
  /** Set when the change gave the channel collections. */
  collections?: string[];
}

/** `--collections a,b`: distinct names, each `[a-z0-9-]{1,32}`; any bad one is exit 2. */
export function parseCollections(value: string): string[] {
  const names = [...new Set(value.split(',').map((n) => n.trim()))];
  const bad = names.filter((n) => !/^[a-z0-9-]{1,32}$/.test(n));
  if (bad.length > 0 || names.length === 0) {
    throw new UserError(
      `--collections: ${bad.map((b) => `"${b}"`).join(', ') || '""'} is not a collection name (1 to 32 of a-z, 0-9 and -, comma-separated)`,
      'bad_collection',
    );
  }
  return names;
}

export function parseMode(value: string | undefined): ChannelMode {
  const mode = (value ?? 'all') as ChannelMode;
  if (!CHANNEL_MODES.includes(mode)) {
    throw new UserError(`--mode must be one of ${CHANNEL_MODES.join(', ')} (got "${value}")`, 'bad_mode');
  }
  return mode;
}

/** Validates every ID before anything changes; duplicates collapse. */
export function parseChannelIds(ids: string[]): string[] {
  if (ids.length === 0) throw new UserError('give at least one channel ID', 'missing_argument');
  // Validate all before changing anything.
  return [...new Set(ids.map((id) => assertSnowflake(id)))];
}

export async function addChannels(
  db: Db,
  ids: string[],
  mode: ChannelMode,
  actor: string,
  extra: { collections?: string[] } = {},
): Promise<ChannelChange[]> {
  const unique = parseChannelIds(ids);
  return db.transaction(async (tx) => {
    const changes: ChannelChange[] = [];
    for (const id of unique) {
      const existing = await getChannel(tx, id);
      if (!existing) {
        await insertChannel(tx, id, mode, actor);
        await recordAudit(tx, { actor, action: 'channels.add', target: id, newValue: mode });
        changes.push({ id, result: 'added', mode });
      } else if (existing.mode !== mode) {
        await updateChannelMode(tx, id, mode);
        await recordAudit(tx, { actor, action: 'channels.mode', target: id, oldValue: existing.mode, newValue: mode });
        changes.push({ id, result: 'mode_changed', mode, previousMode: existing.mode });
      } else {
        changes.push({ id, result: 'unchanged', mode });
      }
      if (extra.collections) {
        // Given: the channel retrieves only from these (on a channel already allowed, they replace its own).
        const before = await channelCollections(tx, id);
        if (before?.join(',') !== extra.collections.join(',')) {
          await setChannelCollections(tx, id, extra.collections);
          await recordAudit(tx, {
            actor,
            action: 'channels.collections',
            target: id,
            oldValue: before?.join(',') ?? null,
            newValue: extra.collections.join(','),
          });
        }
        changes[changes.length - 1]!.collections = extra.collections;
      }
    }
    return changes;
  });
}

export async function removeChannels(db: Db, ids: string[], actor: string): Promise<ChannelChange[]> {
  const unique = parseChannelIds(ids);
  return db.transaction(async (tx) => {
    const existing: Channel[] = [];
    for (const id of unique) {
      const channel = await getChannel(tx, id);
      if (channel) existing.push(channel);
    }
    const unknown = unique.filter((id) => !existing.some((c) => c.id === id));
    if (unknown.length > 0) {
      throw new UserError(
        `not an allowed channel: ${unknown.join(', ')} — \`copilot channels list\` shows them (nothing was removed)`,
        'unknown_channel',
      );
    }
    for (const channel of existing) {
      await deleteChannel(tx, channel.id);
      await recordAudit(tx, { actor, action: 'channels.remove', target: channel.id, oldValue: channel.mode });
    }
    return existing.map((c) => ({ id: c.id, result: 'removed' as const, previousMode: c.mode }));
  });
}
