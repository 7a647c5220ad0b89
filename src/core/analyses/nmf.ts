/**
 * Non-negative matrix factorisation X ~ W H (n x k times k x d) by Lee & Seung's multiplicative updates for the
 * Frobenius norm, seeded uniform start scaled to the data's mean. Rows of H are normalised to unit length at the
 * end (W scaled to match), so W[i, c] is "how much of direction c" example i holds; the top examples of a
 * direction are the largest W[:, c]. X must be non-negative: the caller shifts data with negative values (and
 * says so).
 *
 *   nmf(x, n, d, { k, seed, iterations? }) -> { w (n x k), h (k x d), error (relative Frobenius) }
 */
import { Rng } from '../inputs/random';

export interface NmfResult {
  k: number;
  w: Float64Array;
  h: Float64Array;
  /** ||X - WH||_F / ||X||_F. */
  error: number;
  iterations: number;
}

const EPS = 1e-12;

export function nmf(x: ArrayLike<number>, n: number, d: number, opts: { k: number; seed: number; iterations?: number; tol?: number }): NmfResult {
  const k = Math.max(1, Math.min(opts.k, d, n));
  const X = Float64Array.from(x as ArrayLike<number>);
  let mean = 0;
  for (let i = 0; i < X.length; i++) {
    if (X[i]! < 0) throw new RangeError('nmf: the data has negative values');
    mean += X[i]! / X.length;
  }
  const rng = new Rng(opts.seed);
  const scale = Math.sqrt(Math.max(mean, EPS) / k);
  const W = new Float64Array(n * k);
  const H = new Float64Array(k * d);
  for (let i = 0; i < W.length; i++) W[i] = rng.uniform(0.01, 1) * scale;
  for (let i = 0; i < H.length; i++) H[i] = rng.uniform(0.01, 1) * scale;
  const WtX = new Float64Array(k * d);
  const WtW = new Float64Array(k * k);
  const XHt = new Float64Array(n * k);
  const HHt = new Float64Array(k * k);
  let xnorm = 0;
  for (let i = 0; i < X.length; i++) xnorm += X[i]! * X[i]!;
  const maxIt = opts.iterations ?? 300;
  let it = 0;
  let prevErr = Infinity;
  let err = 0;
  for (; it < maxIt; it++) {
    // H <- H * (W^T X) / (W^T W H)
    WtX.fill(0);
    WtW.fill(0);
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < k; a++) {
        const wa = W[i * k + a]!;
        if (wa === 0) continue;
        for (let j = 0; j < d; j++) WtX[a * d + j]! += wa * X[i * d + j]!;
        for (let b = 0; b < k; b++) WtW[a * k + b]! += wa * W[i * k + b]!;
      }
    }
    for (let a = 0; a < k; a++) {
      for (let j = 0; j < d; j++) {
        let den = 0;
        for (let b = 0; b < k; b++) den += WtW[a * k + b]! * H[b * d + j]!;
        H[a * d + j] = (H[a * d + j]! * WtX[a * d + j]!) / (den + EPS);
      }
    }
    // W <- W * (X H^T) / (W H H^T)
    HHt.fill(0);
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += H[a * d + j]! * H[b * d + j]!;
      HHt[a * k + b] = s;
    }
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < k; a++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += X[i * d + j]! * H[a * d + j]!;
        XHt[i * k + a] = s;
      }
    }
    err = 0;
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < k; a++) {
        let den = 0;
        for (let b = 0; b < k; b++) den += W[i * k + b]! * HHt[b * k + a]!;
        W[i * k + a] = (W[i * k + a]! * XHt[i * k + a]!) / (den + EPS);
      }
    }
    if (it % 10 === 9 || it === maxIt - 1) {
      err = relError(X, W, H, n, d, k, xnorm);
      if (prevErr - err < (opts.tol ?? 1e-6) * Math.max(prevErr, EPS)) break;
      prevErr = err;
    }
  }
  err = relError(X, W, H, n, d, k, xnorm);
  for (let a = 0; a < k; a++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += H[a * d + j]! ** 2;
    s = Math.sqrt(s);
    if (s === 0) continue;
    for (let j = 0; j < d; j++) H[a * d + j]! /= s;
    for (let i = 0; i < n; i++) W[i * k + a]! *= s;
  }
  return { k, w: W, h: H, error: err, iterations: Math.min(it + 1, maxIt) };
}

function relError(X: Float64Array, W: Float64Array, H: Float64Array, n: number, d: number, k: number, xnorm: number): number {
  let e = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let a = 0; a < k; a++) s += W[i * k + a]! * H[a * d + j]!;
      const r = X[i * d + j]! - s;
      e += r * r;
    }
  }
  return xnorm > 0 ? Math.sqrt(e / xnorm) : 0;
}
