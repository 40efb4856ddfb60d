/**
 * Which gateway shards this process runs: `--shards`/SHARDS (`0,2` or `0-3`) of
 * `--shard-count`/SHARD_COUNT (a number, or `auto`: Discord's recommended count), checked
 * against each other. Pure; the daemon asks Discord for `auto` and checks again.
 */
import { UserError } from '../errors.js';

/** The largest shard count accepted (Discord's largest bots run a few thousand). */
export const MAX_SHARD_COUNT = 65_536;

export type ShardCount = number | 'auto';

/** What this process runs: `ids` null means every shard (of `count`). */
export interface ShardPlan {
  ids: number[] | null;
  count: ShardCount;
}

/** The ids of a list like `0,2` or `0-3` (ranges inclusive, spaces allowed), else what is wrong. */
export function parseShardList(text: string): number[] | string {
  const ids: number[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const m = /^(\d{1,6})(?:\s*-\s*(\d{1,6}))?$/.exec(part);
    if (!m) return `"${part}" is not a shard id or range: write ids like 0,2 or a range like 0-3`;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) return `the range "${part}" runs backwards: write it low-high, like 0-3`;
    for (let id = from; id <= to; id++) ids.push(id);
  }
  const seen = new Set<number>();
  for (const id of ids) {
    if (seen.has(id)) return `shard ${id} is listed twice`;
    seen.add(id);
  }
  return ids.sort((a, b) => a - b);
}

/** What is wrong with a count (`auto` or a whole number from 1), or null. */
export function shardCountProblem(text: string): string | null {
  const parsed = parseShardCount(text);
  return parsed === 'auto' || typeof parsed === 'number' ? null : parsed.problem;
}

/** A count of `auto` or a whole number from 1, else what is wrong. */
export function parseShardCount(text: string): ShardCount | { problem: string } {
  const t = text.trim().toLowerCase();
  if (t === 'auto') return 'auto';
  const problem = { problem: `must be a whole number from 1 to ${MAX_SHARD_COUNT}, or auto (got "${text}")` };
  if (!/^\d{1,6}$/.test(t)) return problem;
  const n = Number(t);
  return n < 1 || n > MAX_SHARD_COUNT ? problem : n;
}

/** Where a value came from, for messages. */
export interface ShardSources {
  list: string;
  count: string;
}

/**
 * The plan from a list and a count as given (either may be missing). Throws a UserError for a
 * bad list or count, a list without a count, or ids outside 0..count-1.
 */
export function shardPlan(
  list: string | null,
  count: string | null,
  names: ShardSources = { list: '--shards', count: '--shard-count' },
): ShardPlan {
  let ids: number[] | null = null;
  if (list !== null) {
    const parsed = parseShardList(list);
    if (typeof parsed === 'string') throw new UserError(`${names.list}: ${parsed}`, 'bad_shards');
    ids = parsed;
  }
  let n: ShardCount = 'auto';
  if (count !== null) {
    const parsed = parseShardCount(count);
    if (typeof parsed === 'object') throw new UserError(`${names.count}: ${parsed.problem}`, 'bad_shards');
    n = parsed;
  } else if (ids !== null) {
    throw new UserError(
      `${names.list} needs ${names.count}: every process must agree on the total (a number, or auto for Discord's recommended count)`,
      'bad_shards',
    );
  }
  const plan = { ids, count: n };
  if (typeof n === 'number') checkShardIds(plan, n, names);
  return plan;
}

/** Checks the ids against the count once it is known (throws a UserError). */
export function checkShardIds(plan: ShardPlan, count: number, names: ShardSources = { list: '--shards', count: '--shard-count' }): void {
  const outside = (plan.ids ?? []).filter((id) => id >= count);
  if (outside.length > 0) {
    throw new UserError(`${names.list}: shard ${outside.join(', ')} is outside 0..${count - 1} (${names.count} is ${count})`, 'bad_shards');
  }
}

/** Whether the plan runs only some of the shards (count known). */
export function isPartial(plan: ShardPlan, count: number): boolean {
  return plan.ids !== null && plan.ids.length < count;
}

/** Whether this process holds shard 0 (every shard, or a list with 0): it registers the slash commands. */
export function holdsShardZero(plan: ShardPlan): boolean {
  return plan.ids === null || plan.ids.includes(0);
}

/** The embedded database serves one process: a partial plan on it is refused (UserError). */
export function assertShardsFitDatabase(plan: ShardPlan, count: number, embedded: boolean): void {
  if (embedded && isPartial(plan, count)) {
    throw new UserError(
      `shards ${plan.ids!.join(',')} of ${count}: the embedded database serves one process, which must run every shard — set DATABASE_URL to a Postgres database that every process shares`,
      'bad_shards',
    );
  }
}

/** The discord.js client options for the plan. */
export function clientShardOptions(plan: ShardPlan, count: number | null): { shards: number[] | 'auto'; shardCount?: number } {
  if (count === null) return { shards: 'auto' };
  return { shards: plan.ids ?? Array.from({ length: count }, (_, i) => i), shardCount: count };
}
