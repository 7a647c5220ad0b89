/**
 * k-medoids on a dense distance matrix, seeded: k-medoids++ initialisation (D^1 sampling with the project's Rng),
 * then the alternate algorithm (assign each point to its nearest medoid; in each cluster make the point with the
 * least total distance to the others the medoid) until no medoid changes; the best of `restarts` runs by total
 * cost. Works with any metric (Hamming or Euclidean), since it only reads the matrix.
 *
 *   kmedoids(D, { k, seed, restarts?, maxIter? }) -> { labels, medoids, cost, iterations }
 */
import { Rng } from '../inputs/random';
import type { DenseDistances } from './hamming';

export interface KMedoidsOptions {
  k: number;
  seed: number;
  restarts?: number;
  maxIter?: number;
}

export interface KMedoidsResult {
  labels: Int32Array;
  /** Medoid index of each cluster; cluster c is labelled c. */
  medoids: number[];
  cost: number;
  iterations: number;
}

export function kmedoids(D: DenseDistances, opts: KMedoidsOptions): KMedoidsResult {
  const { n } = D;
  const k = Math.max(1, Math.min(opts.k, n));
  const rng = new Rng(opts.seed);
  let best: KMedoidsResult | undefined;
  for (let r = 0; r < (opts.restarts ?? 4); r++) {
    const res = alternate(D, initPlusPlus(D, k, rng), opts.maxIter ?? 100);
    if (!best || res.cost < best.cost) best = res;
  }
  return best!;
}

function initPlusPlus(D: DenseDistances, k: number, rng: Rng): number[] {
  const { n, d } = D;
  const medoids = [rng.int(n)];
  const near = new Float64Array(n);
  for (let j = 0; j < n; j++) near[j] = d[medoids[0]! * n + j]!;
  while (medoids.length < k) {
    let total = 0;
    for (let j = 0; j < n; j++) total += near[j]!;
    let pick = -1;
    if (total > 0) {
      let u = rng.uniform(0, total);
      for (let j = 0; j < n; j++) {
        u -= near[j]!;
        if (u < 0 && near[j]! > 0) {
          pick = j;
          break;
        }
      }
    }
    if (pick < 0) {
      // All remaining points coincide with a medoid: take any non-medoid.
      const free = Array.from({ length: n }, (_, i) => i).filter((i) => !medoids.includes(i));
      pick = free[rng.int(free.length)]!;
    }
    medoids.push(pick);
    for (let j = 0; j < n; j++) near[j] = Math.min(near[j]!, d[pick * n + j]!);
  }
  return medoids;
}

function assign(D: DenseDistances, medoids: number[], labels: Int32Array): number {
  const { n, d } = D;
  let cost = 0;
  for (let j = 0; j < n; j++) {
    let bl = 0;
    let bd = Infinity;
    for (let c = 0; c < medoids.length; c++) {
      const v = d[medoids[c]! * n + j]!;
      if (v < bd) (bd = v), (bl = c);
    }
    labels[j] = bl;
    cost += bd;
  }
  return cost;
}

/** Sum of d[r + j] over the members j, or a value >= bound as soon as the partial sum reaches bound. */
function rowSum(d: DenseDistances['d'], r: number, m: number[], bound: number): number {
  let s = 0;
  for (let t = 0; t < m.length; t++) {
    s += d[r + m[t]!]!;
    if (s >= bound) return s;
  }
  return s;
}

function alternate(D: DenseDistances, medoids: number[], maxIter: number): KMedoidsResult {
  const { n, d } = D;
  const labels = new Int32Array(n);
  let cost = assign(D, medoids, labels);
  let it = 0;
  for (; it < maxIter; it++) {
    const members: number[][] = medoids.map(() => []);
    for (let j = 0; j < n; j++) members[labels[j]!]!.push(j);
    let changed = false;
    for (let c = 0; c < medoids.length; c++) {
      const m = members[c]!;
      // The current medoid first: it wins ties, and its sum bounds the others, whose sums stop as soon as they
      // reach it (distances are >= 0, so such a point cannot become strictly better). Same result as the full
      // sums in member order.
      const cur = medoids[c]!;
      let bestI = cur;
      let bestS = labels[cur] === c ? rowSum(d, cur * n, m, Infinity) : Infinity;
      for (const i of m) {
        if (i === cur) continue;
        const s = rowSum(d, i * n, m, bestS);
        if (s < bestS) (bestS = s), (bestI = i);
      }
      if (bestI !== cur) (medoids[c] = bestI), (changed = true);
    }
    if (!changed) break;
    const next = assign(D, medoids, labels);
    if (next >= cost) {
      cost = next;
      break;
    }
    cost = next;
  }
  return { labels, medoids: [...medoids], cost, iterations: it + 1 };
}
