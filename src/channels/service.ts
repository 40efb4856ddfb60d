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
  setEscalateRole,
  updateChannelMode,
} from '../db/channels.js';
import type { Channel, ChannelMode } from '../db/channels.js';
import { UserError } from '../errors.js';
import { assertSnowflake } from '../validate.js';

export { allChannelCollections, listChannels };

export interface ChannelChange {
  id: string;
  result: 'added' | 'mode_changed' | 'escalation_changed' | 'unchanged' | 'removed';
  mode?: ChannelMode;
  previousMode?: ChannelMode;
  /** Set when the change gave the channel collections. */
  collections?: string[];
  /** Set when --escalate-role changed it. */
  escalateRole?: string;
  previousEscalateRole?: string | null;
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

/** A role id for --escalate-role: a snowflake, else exit 2. */
export function parseRoleId(value: string): string {
  return assertSnowflake(value, 'role ID');
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

/**
 * Adds channels or changes their mode. `options.escalateRole` also sets the role pinged when an
 * answer there is a gap; `options.collections` restricts its retrieval; with `options.keepMode`, a channel already added keeps its mode.
 */
export async function addChannels(
  db: Db,
  ids: string[],
  mode: ChannelMode,
  actor: string,
  options: { collections?: string[]; escalateRole?: string; keepMode?: boolean } = {},
): Promise<ChannelChange[]> {
  const unique = parseChannelIds(ids);
  const role = options.escalateRole === undefined ? undefined : parseRoleId(options.escalateRole);
  return db.transaction(async (tx) => {
    const changes: ChannelChange[] = [];
    for (const id of unique) {
      const existing = await getChannel(tx, id);
      const roleChanged = role !== undefined && (existing?.escalateRole ?? null) !== role;
      const escalation = roleChanged ? { escalateRole: role, previousEscalateRole: existing?.escalateRole ?? null } : {};
      if (!existing) {
        await insertChannel(tx, id, mode, actor);
        await recordAudit(tx, { actor, action: 'channels.add', target: id, newValue: mode });
        changes.push({ id, result: 'added', mode, ...escalation });
      } else {
        const newMode = options.keepMode ? existing.mode : mode;
        if (existing.mode !== newMode) {
          await updateChannelMode(tx, id, newMode);
          await recordAudit(tx, { actor, action: 'channels.mode', target: id, oldValue: existing.mode, newValue: newMode });
          changes.push({ id, result: 'mode_changed', mode: newMode, previousMode: existing.mode, ...escalation });
        } else {
          changes.push({ id, result: roleChanged ? 'escalation_changed' : 'unchanged', mode: newMode, ...escalation });
        }
      }
      if (roleChanged) {
        await setEscalateRole(tx, id, role);
        await recordAudit(tx, {
          actor,
          action: 'channels.escalate_role',
          target: id,
          oldValue: existing?.escalateRole ?? null,
          newValue: role,
        });
      }
      if (options.collections) {
        // Given: the channel retrieves only from these (on a channel already allowed, they replace its own).
        const before = await channelCollections(tx, id);
        if (before?.join(',') !== options.collections.join(',')) {
          await setChannelCollections(tx, id, options.collections);
          await recordAudit(tx, {
            actor,
            action: 'channels.collections',
            target: id,
            oldValue: before?.join(',') ?? null,
            newValue: options.collections.join(','),
          });
        }
        changes[changes.length - 1]!.collections = options.collections;
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
