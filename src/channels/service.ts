/** The channels service: the allowed channels listed, added (or their mode changed) and removed, each change audited. */
import type { Db } from '../db/backend.js';
import { recordAudit } from '../db/audit.js';
import { CHANNEL_MODES, deleteChannel, getChannel, insertChannel, listChannels, updateChannelMode } from '../db/channels.js';
import type { Channel, ChannelMode } from '../db/channels.js';
import { UserError } from '../errors.js';
import { assertSnowflake } from '../validate.js';

export { listChannels };

export interface ChannelChange {
  id: string;
  result: 'added' | 'mode_changed' | 'unchanged' | 'removed';
  mode?: ChannelMode;
  previousMode?: ChannelMode;
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

export async function addChannels(db: Db, ids: string[], mode: ChannelMode, actor: string): Promise<ChannelChange[]> {
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
