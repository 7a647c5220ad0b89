/**
 * Shards of a job over inputs (`--shard K/N`), for job arrays that spread one study over many machines. K is
 * 1-based (1 <= K <= N), like Slurm's `--array=1-N` and GNU parallel's `{#}`; a 0-based index (a Kubernetes
 * indexed Job's JOB_COMPLETION_INDEX) is passed as K = index + 1. Shard K of N inputs holds the contiguous rows
 * floor((K-1)·total/N) .. floor(K·total/N) - 1, so the N shards hold every row of one run exactly once, in order,
 * and each row keeps its global index (the `index` column of a codes file).
 */
import { UserError } from './errors';

export interface Shard {
  /** 1-based shard number, 1 <= k <= n. */
  k: number;
  /** Number of shards. */
  n: number;
}

/** Parses `K/N`; anything else is a UserError of one sentence. */
export function parseShard(s: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(s);
  const hint = 'K and N whole numbers with 1 <= K <= N (K is 1-based: --shard 1/4 .. --shard 4/4)';
  if (!m) throw new UserError(`--shard must be K/N, ${hint}, not '${s}'`);
  const k = Number(m[1]);
  const n = Number(m[2]);
  if (!Number.isSafeInteger(k) || !Number.isSafeInteger(n) || n < 1 || k < 1 || k > n) {
    throw new UserError(`--shard ${k}/${n} is not a shard: ${hint}`);
  }
  return { k, n };
}

/** The rows [start, end) of shard `shard` of `total` rows. */
export function shardRange(total: number, shard: Shard | undefined): { start: number; end: number } {
  if (!shard) return { start: 0, end: total };
  return { start: Math.floor(((shard.k - 1) * total) / shard.n), end: Math.floor((shard.k * total) / shard.n) };
}
