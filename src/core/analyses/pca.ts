/**
 * Top-k principal directions of n rows of d values by power iteration with deflation (Gram-Schmidt against the
 * directions found so far), seeded start vectors. Each direction's sign is fixed so that the projection of
 * largest magnitude is positive: "the top examples of a direction" are then the largest projections.
 *
 *   pca(x, n, d, { k, seed, iterations?, tol? }) -> { components (k x d), projections (n x k), explained (k) }
 */
import { Rng } from '../inputs/random';

export interface PcaResult {
  k: number;
  components: Float64Array;
  /** Centred data projected on each direction, n x k. */
  projections: Float64Array;
  /** Variance along each direction. */
  explained: Float64Array;
}

export function pca(x: ArrayLike<number>, n: number, d: number, opts: { k: number; seed: number; iterations?: number; tol?: number }): PcaResult {
  const k = Math.max(1, Math.min(opts.k, d, n));
  const xc = new Float64Array(n * d);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]! / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xc[i * d + j] = x[i * d + j]! - mean[j]!;
  const rng = new Rng(opts.seed);
  const comps = new Float64Array(k * d);
  const explained = new Float64Array(k);
  const xv = new Float64Array(n);
  for (let c = 0; c < k; c++) {
    let v = new Float64Array(d);
    for (let j = 0; j < d; j++) v[j] = rng.normal();
    orthonormalise(v, comps, c, d);
    let lambda = 0;
    for (let it = 0; it < (opts.iterations ?? 500); it++) {
      // w = X^T (X v) / n, then remove earlier directions.
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += xc[i * d + j]! * v[j]!;
        xv[i] = s;
      }
      const w = new Float64Array(d);
      for (let i = 0; i < n; i++) {
        const s = xv[i]!;
        if (s !== 0) for (let j = 0; j < d; j++) w[j]! += xc[i * d + j]! * s;
      }
      for (let j = 0; j < d; j++) w[j]! /= n;
      let dot = 0;
      for (let j = 0; j < d; j++) dot += w[j]! * v[j]!;
      lambda = dot;
      const norm = orthonormalise(w, comps, c, d);
      if (norm === 0) break;
      let change = 0;
      for (let j = 0; j < d; j++) change = Math.max(change, Math.abs(Math.abs(w[j]!) - Math.abs(v[j]!)));
      v = w;
      if (change < (opts.tol ?? 1e-9)) break;
    }
    comps.set(v, c * d);
    explained[c] = Math.max(0, lambda);
  }
  const projections = new Float64Array(n * k);
  for (let c = 0; c < k; c++) {
    let maxAbs = 0;
    let sign = 1;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += xc[i * d + j]! * comps[c * d + j]!;
      projections[i * k + c] = s;
      if (Math.abs(s) > maxAbs) (maxAbs = Math.abs(s)), (sign = s < 0 ? -1 : 1);
    }
    if (sign < 0) {
      for (let j = 0; j < d; j++) comps[c * d + j] = -comps[c * d + j]!;
      for (let i = 0; i < n; i++) projections[i * k + c] = -projections[i * k + c]!;
    }
  }
  return { k, components: comps, projections, explained };
}

/** Removes the first `c` rows of `basis` from v and normalises it; returns the norm before normalising. */
function orthonormalise(v: Float64Array, basis: Float64Array, c: number, d: number): number {
  for (let pass = 0; pass < 2; pass++) {
    for (let b = 0; b < c; b++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += v[j]! * basis[b * d + j]!;
      for (let j = 0; j < d; j++) v[j]! -= dot * basis[b * d + j]!;
    }
  }
  let norm = 0;
  for (let j = 0; j < d; j++) norm += v[j]! * v[j]!;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let j = 0; j < d; j++) v[j]! /= norm;
  return norm;
}
