/**
 * The plane of a 2D slice: plane coordinates (u, v) and the model inputs they stand for (DESIGN.md §3).
 *
 * Without a plane the model's input has two values and (u, v) is the input itself. With a plane of three inputs
 * a, b, c the point (u, v) is a + u (b - a) + v (c - a), computed in float64 (cast to float32 where the model
 * is run in float32).
 */
import { UserError } from '../errors';
import type { Lens } from '../lens';

export interface PlaneSpec {
  /** Three inputs of lens.sampleSize values each: origin a, axes b - a and c - a. */
  a: ArrayLike<number>;
  b: ArrayLike<number>;
  c: ArrayLike<number>;
}

export class Plane {
  private constructor(
    readonly size: number,
    private readonly origin: Float64Array,
    private readonly du: Float64Array,
    private readonly dv: Float64Array,
    /** True when (u, v) is the model input itself. */
    readonly identity: boolean,
  ) {}

  static of(lens: Lens, spec?: PlaneSpec): Plane {
    const size = lens.sampleSize;
    if (!spec) {
      if (size !== 2) {
        throw new UserError(
          `${lens.model.name} takes ${size} input values per sample [${lens.sampleShape.join(', ')}]; a 2D slice of it needs a plane: --inputs X.npy --plane a,b,c (three sample indices).`,
        );
      }
      return new Plane(2, Float64Array.of(0, 0), Float64Array.of(1, 0), Float64Array.of(0, 1), true);
    }
    for (const [name, x] of [['a', spec.a], ['b', spec.b], ['c', spec.c]] as const) {
      if (x.length !== size) throw new Error(`Plane.of: input ${name} has ${x.length} values, the model takes ${size}`);
    }
    const origin = Float64Array.from(spec.a);
    const du = new Float64Array(size);
    const dv = new Float64Array(size);
    for (let k = 0; k < size; k++) {
      du[k] = spec.b[k]! - origin[k]!;
      dv[k] = spec.c[k]! - origin[k]!;
    }
    // The axes must span a plane: |du|, |dv| > 0 and not parallel.
    let uu = 0, vv = 0, uv = 0;
    for (let k = 0; k < size; k++) (uu += du[k]! * du[k]!), (vv += dv[k]! * dv[k]!), (uv += du[k]! * dv[k]!);
    if (!(uu > 0) || !(vv > 0) || uu * vv - uv * uv <= 1e-12 * uu * vv) {
      throw new UserError('The three plane inputs do not span a plane (two of them coincide or they lie on one line); pick three other samples.');
    }
    return new Plane(size, origin, du, dv, false);
  }

  /** Model inputs of n points given as interleaved (u, v) pairs, into `out` (float32 or float64). */
  inputs<T extends Float32Array | Float64Array>(uv: ArrayLike<number>, n: number, out: T): T {
    const s = this.size;
    if (this.identity) {
      for (let i = 0; i < 2 * n; i++) out[i] = uv[i]!;
      return out;
    }
    const { origin, du, dv } = this;
    for (let i = 0; i < n; i++) {
      const u = uv[2 * i]!;
      const v = uv[2 * i + 1]!;
      const o = i * s;
      for (let k = 0; k < s; k++) out[o + k] = origin[k]! + u * du[k]! + v * dv[k]!;
    }
    return out;
  }
}

/** numpy.linspace(lo, hi, r) in float64. */
export function linspace(lo: number, hi: number, r: number): Float64Array {
  const xs = new Float64Array(r);
  if (r === 1) {
    xs[0] = lo;
    return xs;
  }
  const step = (hi - lo) / (r - 1);
  for (let i = 0; i < r; i++) xs[i] = lo + i * step;
  xs[r - 1] = hi;
  return xs;
}

/** Signed area of a polygon given by vertex ids into interleaved coordinates (counter-clockwise positive). */
export function polygonArea(ids: ArrayLike<number>, xy: ArrayLike<number>): number {
  let a = 0;
  const n = ids.length;
  for (let i = 0; i < n; i++) {
    const p = ids[i]!;
    const q = ids[(i + 1) % n]!;
    a += xy[2 * p]! * xy[2 * q + 1]! - xy[2 * q]! * xy[2 * p + 1]!;
  }
  return a / 2;
}
