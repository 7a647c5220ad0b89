/**
 * Label agreement of a clustering (or of a direction's top examples), with the conventions the `cluster` JSON
 * states:
 *
 *   purity(cluster)    = count of its majority label / its size (ties: the smaller label is the majority)
 *   weighted_purity    = sum over clusters of size * purity / clustered points (noise excluded)
 *                        = (sum of majority counts) / clustered points
 *   nmi                = I(C; Y) / mean(H(C), H(Y)) (arithmetic mean, scikit-learn's default), natural logs,
 *                        over ALL points with noise (-1) counted as one more group; 1 when both are single groups,
 *                        0 when exactly one is
 *   noise_share        = share of points labelled -1
 */

export interface GroupStat {
  size: number;
  majority_label: number | null;
  purity: number | null;
}

/** Majority label and purity of a set of indices. */
export function groupStat(indices: ArrayLike<number>, labels: ArrayLike<number> | undefined): GroupStat {
  const size = indices.length;
  if (!labels || size === 0) return { size, majority_label: null, purity: null };
  const counts = new Map<number, number>();
  for (let t = 0; t < size; t++) {
    const y = labels[indices[t]!]!;
    counts.set(y, (counts.get(y) ?? 0) + 1);
  }
  let best = Infinity;
  let bestC = -1;
  for (const [y, c] of counts) if (c > bestC || (c === bestC && y < best)) (best = y), (bestC = c);
  return { size, majority_label: best, purity: bestC / size };
}

/** Members of each cluster 0..k-1 (noise left out). */
export function members(assign: ArrayLike<number>, k: number): number[][] {
  const out: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < assign.length; i++) {
    const c = assign[i]!;
    if (c >= 0) out[c]!.push(i);
  }
  return out;
}

export function weightedPurity(stats: GroupStat[]): number | null {
  let n = 0;
  let maj = 0;
  for (const s of stats) {
    if (s.purity === null) return null;
    n += s.size;
    maj += s.purity * s.size;
  }
  return n ? maj / n : null;
}

export function noiseShare(assign: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < assign.length; i++) if (assign[i]! < 0) c++;
  return assign.length ? c / assign.length : 0;
}

function entropy(counts: Iterable<number>, n: number): number {
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / n) * Math.log(c / n);
  return h;
}

/** Normalised mutual information (arithmetic normalisation) of two labelings; -1 in `a` is one group. */
export function nmi(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (n !== b.length) throw new RangeError(`nmi: ${n} vs ${b.length} labels`);
  if (n === 0) return 1;
  const ca = new Map<number, number>();
  const cb = new Map<number, number>();
  const joint = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    ca.set(x, (ca.get(x) ?? 0) + 1);
    cb.set(y, (cb.get(y) ?? 0) + 1);
    const key = `${x},${y}`;
    joint.set(key, (joint.get(key) ?? 0) + 1);
  }
  const ha = entropy(ca.values(), n);
  const hb = entropy(cb.values(), n);
  if (ha === 0 && hb === 0) return 1;
  if (ha === 0 || hb === 0) return 0;
  let mi = 0;
  for (const [key, c] of joint) {
    const [x, y] = key.split(',').map(Number) as [number, number];
    mi += (c / n) * Math.log((c * n) / (ca.get(x)! * cb.get(y)!));
  }
  return Math.max(0, Math.min(1, mi / ((ha + hb) / 2)));
}
