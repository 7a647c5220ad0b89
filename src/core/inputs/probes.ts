/**
 * Generated (seeded) probe inputs. Probe i is drawn from its own stream `new Rng(seed, i)` (./random.ts), in
 * float64, element by element in C order, and stored as float32: it depends only on (kind, sampleShape, seed, i).
 * So probes can be drawn in any order and any split: a chunk, or a shard of a job array (`--shard K/N`), draws
 * exactly the rows that one whole run would have at the same global indices.
 */
import { UserError } from '../errors';
import { checkSampleShape, fmtShape, product } from './npy';
import { Rng, RNG_STREAMS } from './random';

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

export type ProbeKind =
  /** i.i.d. normal values, default mean 0 and std 1. */
  | { type: 'gaussian'; mean?: number; std?: number }
  /** i.i.d. uniform values in [lo, hi). */
  | { type: 'uniform'; lo: number; hi: number }
  /**
   * Points near given inputs: `base` holds m >= 1 samples (m * size values); probe i is drawn around sample
   * i mod m, uniformly in the ball of the given radius: the L2 ball by default (a uniform direction from d normals,
   * then a radius r * u^(1/d) from one uniform), or the L-infinity ball (a cube: d uniforms in [-r, r)).
   */
  | { type: 'around'; base: Float32Array; radius: number; norm?: 'l2' | 'linf' };

/** Returns n * prod(sampleShape) float32 values: n probes of `sampleShape`, drawn with `seed`. */
export function makeProbes(kind: ProbeKind, n: number, sampleShape: number[], seed: number): Float32Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new UserError(`the number of probes must be a non-negative integer, got ${n}`);
  return new ProbeStream(kind, sampleShape, seed).next(n);
}

/** The most probes one seed gives (probe i has its own random stream, and a seed has 2^30 of them). */
export const MAX_PROBES = RNG_STREAMS;

/**
 * The same probes as makeProbes, drawn a chunk at a time: next(a) then next(b) gives exactly makeProbes(a + b),
 * and at(start, m) gives probes start .. start + m - 1 of it, so a million probes never need to be in memory at
 * once and shards draw their own rows.
 */
export class ProbeStream {
  private readonly seed: number;
  private readonly size: number;
  private index = 0;
  private readonly dir: Float64Array;

  constructor(
    private readonly kind: ProbeKind,
    sampleShape: number[],
    seed: number,
  ) {
    checkSampleShape(sampleShape);
    if (!Number.isSafeInteger(seed)) throw new UserError(`the seed must be an integer, got ${seed}`);
    this.size = product(sampleShape);
    this.seed = seed;
    this.dir = new Float64Array(kind.type === 'around' ? this.size : 0);
    switch (kind.type) {
      case 'gaussian': {
        const mean = kind.mean ?? 0;
        const std = kind.std ?? 1;
        if (!Number.isFinite(mean)) throw new UserError(`the gaussian probe mean must be a finite number, got ${mean}`);
        if (!Number.isFinite(std) || std < 0) throw new UserError(`the gaussian probe std must be a non-negative number, got ${std}`);
        break;
      }
      case 'uniform':
        if (!Number.isFinite(kind.lo) || !Number.isFinite(kind.hi) || kind.lo > kind.hi) {
          throw new UserError(`the uniform probe range must be two finite numbers lo <= hi, got ${kind.lo}..${kind.hi}`);
        }
        // Beyond float32's range the probes would be +-Infinity, and codes of infinite inputs mean nothing.
        if (Math.max(Math.abs(kind.lo), Math.abs(kind.hi)) > FLOAT32_MAX) {
          throw new UserError(`the uniform probe range ${kind.lo}..${kind.hi} is outside float32's finite range (about +-3.4e38)`);
        }
        break;
      case 'around':
        if (!Number.isFinite(kind.radius) || kind.radius < 0) throw new UserError(`the probe radius must be a non-negative number, got ${kind.radius}`);
        if (kind.base.length === 0 || kind.base.length % this.size !== 0) {
          throw new UserError(
            `the base inputs for 'around' probes hold ${kind.base.length} values, which is not a whole number of samples of ${fmtShape(sampleShape)} (${this.size} values each)`,
          );
        }
        break;
      default: {
        const t: never = kind;
        throw new UserError(`unknown probe type '${(t as { type: string }).type}'; use gaussian, uniform or around`);
      }
    }
  }

  /** The next n probes. */
  next(n: number): Float32Array {
    const out = this.at(this.index, n);
    this.index += n;
    return out;
  }

  /** Probes start .. start + n - 1 (global indices), whatever was drawn before. */
  at(start: number, n: number): Float32Array {
    const { kind, size, seed } = this;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(n) || start < 0 || n < 0) throw new UserError(`probes ${start}..${start + n} are not a valid range`);
    if (start + n > MAX_PROBES) throw new UserError(`at most 2^30 (${MAX_PROBES}) probes per seed, asked for probe ${start + n - 1}`);
    const out = new Float32Array(n * size);
    if (kind.type === 'gaussian') {
      const mean = kind.mean ?? 0;
      const std = kind.std ?? 1;
      for (let i = 0; i < n; i++) {
        const rng = new Rng(seed, start + i);
        for (let k = i * size, e = k + size; k < e; k++) out[k] = rng.normal(mean, std);
      }
    } else if (kind.type === 'uniform') {
      for (let i = 0; i < n; i++) {
        const rng = new Rng(seed, start + i);
        for (let k = i * size, e = k + size; k < e; k++) out[k] = rng.uniform(kind.lo, kind.hi);
      }
    } else {
      const { base, radius } = kind;
      const m = base.length / size;
      const dir = this.dir;
      for (let i = 0; i < n; i++) {
        const rng = new Rng(seed, start + i);
        const b = ((start + i) % m) * size;
        const o = i * size;
        if (kind.norm === 'linf') {
          for (let k = 0; k < size; k++) out[o + k] = base[b + k]! + rng.uniform(-radius, radius);
          continue;
        }
        let ss = 0;
        for (let k = 0; k < size; k++) {
          const z = rng.normal();
          dir[k] = z;
          ss += z * z;
        }
        const r = radius * Math.pow(rng.uniform(), 1 / size);
        const f = ss > 0 ? r / Math.sqrt(ss) : 0;
        for (let k = 0; k < size; k++) out[o + k] = base[b + k]! + dir[k]! * f;
      }
    }
    return out;
  }
}
