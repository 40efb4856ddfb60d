/** `copilot channels list|add|remove` — flags in, printing out; the logic is in src/channels/service.ts. */
import {
  addChannels,
  allChannelCollections,
  listChannels,
  parseChannelIds,
  parseCollections,
  parseMode,
  parseRoleId,
  removeChannels,
} from '../../channels/service.js';
import type { ChannelChange } from '../../channels/service.js';
import type { Context } from '../context.js';
import { when } from '../output.js';

export async function list(ctx: Context): Promise<void> {
  const [listed, collections] = await ctx.withDb('channels list', (db) => Promise.all([listChannels(db), allChannelCollections(db)]));
  const channels = listed.map((c) => ({ ...c, collections: collections.get(c.id) ?? null }));
  const { out } = ctx;
  out.data(channels);
  if (channels.length === 0) {
    out.line('No allowed channels yet — add one with `copilot channels add <channel-id>`.');
    return;
  }
  await out.table(
    ['Channel', 'Mode', 'Collections', 'Escalate to', 'Added', 'By'],
    channels.map((c) => [
      c.id,
      c.mode,
      c.collections?.join(', ') ?? 'all',
      c.escalateRole ? `role ${c.escalateRole}` : '',
      when(c.addedAt),
      c.addedBy,
    ]),
  );
}

function describeChange(ctx: Context, c: ChannelChange): string {
  const role = c.escalateRole ? ` · escalates to role ${c.escalateRole}` : '';
  return describeResult(ctx, c) + role;
}

function describeResult(ctx: Context, c: ChannelChange): string {
  const { style } = ctx.out;
  switch (c.result) {
    case 'added':
      return `${style.green('added')} ${c.id} (mode ${c.mode})`;
    case 'mode_changed':
      return `${style.green('updated')} ${c.id}: mode ${c.previousMode} → ${c.mode}`;
    case 'escalation_changed':
      return `${style.green('updated')} ${c.id}`;
    case 'unchanged':
      return `${c.id} is already allowed (mode ${c.mode})`;
    case 'removed':
      return `${style.green('removed')} ${c.id}`;
  }
}

export async function add(
  ctx: Context,
  ids: string[],
  opts: { mode?: string; collections?: string; escalateRole?: string },
): Promise<void> {
  const mode = parseMode(opts.mode);
  const valid = parseChannelIds(ids);
  const collections = opts.collections === undefined ? undefined : parseCollections(opts.collections);
  const escalateRole = opts.escalateRole === undefined ? undefined : parseRoleId(opts.escalateRole);
  // `--escalate-role` or `--collections` without `--mode` updates a channel already added without touching its mode.
  const keepMode = (escalateRole !== undefined || collections !== undefined) && opts.mode === undefined;
  const changes = await ctx.withDb('channels add', (db) =>
    addChannels(db, valid, mode, ctx.actor, { collections, escalateRole, keepMode }),
  );
  ctx.out.data(changes);
  for (const c of changes) {
    ctx.out.line(describeChange(ctx, c));
    if (c.collections) ctx.out.line(`  ${c.id} retrieves only from: ${c.collections.join(', ')}`);
  }
}

export async function remove(ctx: Context, ids: string[]): Promise<void> {
  const valid = parseChannelIds(ids);
  const changes = await ctx.withDb('channels remove', (db) => removeChannels(db, valid, ctx.actor));
  ctx.out.data(changes);
  for (const c of changes) ctx.out.line(describeChange(ctx, c));
}
