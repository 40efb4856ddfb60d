/**
 * What the running bot obeys (allowed channels and their modes), reloaded within ~1 s of a change
 * made by the CLI: a NOTIFY on Postgres, and on every backend a poll of the config_version
 * sequence that the channels and instructions triggers bump. A failing database keeps the last
 * known configuration (logged once per outage).
 */
import type { Db } from '../db/backend.js';
import { listChannels } from '../db/channels.js';
import type { ChannelMode } from '../db/channels.js';
import { configVersion } from '../db/config-state.js';
import { errorMessage } from '../errors.js';

export interface ConfigWatcher {
  get(channelId: string): { mode: ChannelMode; escalateRole: string | null } | null;
  /** The allowed channels' ids. */
  ids(): string[];
  readonly size: number;
  /** Reloads now (also what the timer and NOTIFY do). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export async function watchConfig(
  db: Db,
  options: { pollMs?: number; log?: { info(o: object, m?: string): void; warn(o: object, m?: string): void } } = {},
): Promise<ConfigWatcher> {
  let channels = new Map<string, { mode: ChannelMode; escalateRole: string | null }>();
  let version = -1;
  let failing = false;
  let loading: Promise<void> | null = null;

  async function load(force: boolean): Promise<void> {
    try {
      const v = await configVersion(db);
      if (!force && v === version) {
        if (failing) options.log?.info({}, 'database answers again; configuration current');
        failing = false;
        return;
      }
      const list = await listChannels(db);
      channels = new Map(list.map((c) => [c.id, { mode: c.mode, escalateRole: c.escalateRole }]));
      if (version !== -1) options.log?.info({ channels: channels.size, version: v }, 'configuration reloaded');
      version = v;
      failing = false;
    } catch (err) {
      if (!failing) options.log?.warn({ err: errorMessage(err) }, 'cannot reload the configuration; keeping the last one');
      failing = true;
    }
  }
  const refresh = (force = false) => (loading ??= load(force).finally(() => (loading = null)));

  await load(true);
  const timer = setInterval(() => void refresh(), options.pollMs ?? 1000);
  timer.unref();
  const stopListening = db.listen ? await db.listen('copilot_config', () => void refresh()).catch(() => null) : null;

  return {
    get(channelId) {
      const entry = channels.get(channelId);
      return entry ? { ...entry } : null;
    },
    ids: () => [...channels.keys()],
    get size() {
      return channels.size;
    },
    refresh: () => refresh(true),
    async close() {
      clearInterval(timer);
      await stopListening?.();
      await loading;
    },
  };
}
