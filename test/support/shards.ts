/** Guilds placed on a chosen gateway shard of the fake Discord, for tests with several shards. */
import { shardOf } from '../fakes/discord.js';

export interface ShardGuild {
  id: string;
  channels: { id: string; name: string }[];
}

/** A guild id on `shard` of `count`, distinct per `n`, with `channels` text channels of its own. */
export function guildOn(shard: number, n: number, channels = 2, count = 2): ShardGuild {
  let g = 400_000_000_000_000_000n + BigInt(n) * 10_000_000_000n;
  while (shardOf(String(g), count) !== shard) g += 1n << 22n;
  return {
    id: String(g),
    channels: Array.from({ length: channels }, (_, i) => BigInt(i + 1)).map((c) => ({ id: String(g + c), name: `c${c}` })),
  };
}
