/**
 * The project's one seeded random number generator. Every seeded analysis draws from an `Rng`, so the same seed
 * gives the same probes, subsets and shuffles in the CLI, the worker and the tests.
 *
 * Algorithm: xoshiro128** (Blackman & Vigna) on 32-bit integer arithmetic (`Math.imul`, shifts), its 128-bit
 * state filled from the seed by splitmix32. Integer outputs, `uniform`, `int` and `shuffle` are bit-identical on
 * every platform. `normal` uses the Marsaglia polar method, which needs `Math.log` and `Math.sqrt`; Node's V8
 * computes `Math.log` with its own fdlibm port, so it too is reproducible across platforms (a different JS engine
 * could differ in the last bit).
 *
 * Not for cryptography.
 */

const TWO_POW_32 = 4294967296;
/** Streams per seed: stream s takes splitmix32 outputs 4s+1..4s+4, distinct for s < 2^30. */
export const RNG_STREAMS = 2 ** 30;

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | undefined = undefined;

  /**
   * @param seed any safe integer (negative and > 2^32 allowed: all 53 bits are mixed in). Two different seeds
   *   give unrelated streams.
   * @param stream which of the seed's streams, an integer in [0, 2^30): the state is filled from splitmix32
   *   outputs 4·stream+1 .. 4·stream+4 of the seed's Weyl sequence, so the streams of one seed never share a state
   *   word, and stream 0 is `new Rng(seed)`. Generated probe i is drawn from stream i (./probes.ts), so a probe
   *   depends only on (seed, i), whichever shard or chunk draws it.
   */
  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
    if (!Number.isInteger(stream) || stream < 0 || stream >= RNG_STREAMS) throw new RangeError(`stream must be an integer in [0, 2^30), got ${stream}`);
    const lo = seed >>> 0; // low 32 bits (two's complement for negatives)
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    // 0x78dde6e4 = 4 * 0x9e3779b9 mod 2^32: skip 4 outputs of the Weyl sequence per stream.
    let x = ((lo ^ Math.imul(hi, 0x9e3779b9)) + Math.imul(stream, 0x78dde6e4)) >>> 0;
    const next = (): number => {
      // splitmix32: a Weyl sequence through the murmur3 finaliser
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** Builds a generator straight from a 128-bit state (for testing against the reference implementation). */
  static fromState(s0: number, s1: number, s2: number, s3: number): Rng {
    const r = new Rng(0);
    r.s0 = s0 >>> 0;
    r.s1 = s1 >>> 0;
    r.s2 = s2 >>> 0;
    r.s3 = s3 >>> 0;
    if ((r.s0 | r.s1 | r.s2 | r.s3) === 0) throw new RangeError('xoshiro128** state must not be all zero');
    return r;
  }

  /** The next raw 32-bit output, an integer in [0, 2^32). */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A double uniform in [lo, hi) (default [0, 1)), with 53 random bits (two 32-bit outputs). */
  uniform(lo = 0, hi = 1): number {
    const a = this.nextU32() >>> 5; // 27 bits
    const b = this.nextU32() >>> 6; // 26 bits
    const u = (a * 67108864 + b) / 9007199254740992;
    return lo + (hi - lo) * u;
  }

  /**
   * A normal deviate with the given mean and standard deviation (Marsaglia polar method; each accepted pair gives
   * two deviates, the second is kept for the next call).
   */
  normal(mean = 0, std = 1): number {
    let z: number;
    if (this.spare !== undefined) {
      z = this.spare;
      this.spare = undefined;
    } else {
      let u: number;
      let v: number;
      let s: number;
      do {
        u = 2 * this.uniform() - 1;
        v = 2 * this.uniform() - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      this.spare = v * f;
      z = u * f;
    }
    return mean + std * z;
  }

  /** An integer uniform in [0, n), without modulo bias. `n` must be an integer in [1, 2^32]. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) throw new RangeError(`int(n) needs an integer n in [1, 2^32], got ${n}`);
    const limit = TWO_POW_32 - (TWO_POW_32 % n); // accept r < limit: a whole number of copies of [0, n)
    for (;;) {
      const r = this.nextU32();
      if (r < limit) return r % n;
    }
  }

  /** Shuffles `items` in place (Fisher-Yates, from the end) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }

  /** A random permutation of 0..n-1 (the identity, shuffled). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
