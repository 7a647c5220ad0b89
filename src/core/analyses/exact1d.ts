/**
 * Exact bit flips of the code along a segment x(t) = a + t (b - a), t in [0, 1], computed black-box from forward
 * passes (PAPER.md "Exact crossings on a 1D segment").
 *
 *   exactCrossings(lens, layers, a, b, { precision?, threads?, refine? }) -> ExactPathResult
 *
 * Layers are walked in order. Before layer l, the breakpoints found so far cut [0, 1] into intervals on which
 * every earlier unit keeps its state, so the network up to layer l is one affine map there and each of layer l's
 * pre-activations is affine in t. Evaluating them at the interval ends therefore locates every zero crossing by
 * linear interpolation (an affine function crosses at most once). Clip-like layers cross both thresholds;
 * MaxPool windows change their argmax where the upper envelope of the window's affine values changes hands (two
 * bits flip). All of the model's layers are tracked (a layer left out of the selection still bends the map);
 * flips are reported for the selected layers.
 *
 * Every breakpoint is evaluated once, all layers at a time: the pass at a crossing of layer l confirms it and gives
 * the later layers' values there, kept until their walks (so the forward points are the breakpoints plus t = 0, 1).
 * Each located crossing is checked at that pass: the residual
 * |z(t*)| relative to the values at the interval ends is ~1e-7 (float32) or ~1e-15 (float64) when the map really is
 * affine there. Smooth layers (sign codes of GELU/SiLU/Tanh) and uncounted nonlinearities upstream make the map
 * non-affine: those crossings are refined by regula falsi and the result is flagged approximate.
 */
import { gigabytes, UserError } from '../errors';
import { windowTable } from '../maxpool';
import type { Lens, LensLayer } from '../lens';
import { nodeKey } from '../onnx/graph';
import type { NodeProto } from '../onnx/model';
import type { ExactPathResult, PathCrossing } from '../../shared/results';
import { PreactRunner, type Precision } from './preacts';

/** The breakpoints' pre-activations held for later layers' walks above this many bytes end the walk with one
 *  sentence: on an ImageNet CNN the crossings of one layer already number in the hundreds of thousands (resnet18
 *  between two random images: 137,736 in its first layer, whose later layers' values would need 1,714 GB). */
export const MAX_HELD_BYTES = 2e9;

export interface ExactOptions {
  precision?: Precision;
  threads?: number;
  /** Regula falsi rounds for crossings of non-affine layers (default 4). */
  refine?: number;
  /** Points per forward batch (default from the model size). */
  batch?: number;
}

/** A located crossing, with what is needed to check it at the next evaluation. */
interface Found {
  t: number;
  layer: number;
  /** Bits flipped (one, or two for a MaxPool argmax change). */
  units: number[];
  /** Affine check: value index i (minus theta), or for MaxPool the difference of value indices i and j. */
  i: number;
  j: number;
  theta: number;
  scale: number;
  /** Bracket for refinement, with the signed values at its ends. */
  lo: number;
  hi: number;
  glo: number;
  ghi: number;
}

export async function exactCrossings(lens: Lens, selected: LensLayer[], a: Float64Array, b: Float64Array, opts: ExactOptions = {}): Promise<ExactPathResult> {
  const start = performance.now();
  const all = lens.layers;
  const runner = await PreactRunner.create(lens, all, { precision: opts.precision ?? 'float64', threads: opts.threads });
  const size = lens.sampleSize;
  const batch = opts.batch ?? lens.fixedBatch ?? Math.max(1, Math.min(512, Math.floor(4e6 / (size + runner.sizes.reduce((s, x) => s + x, 0)))));
  const nonAffine = nonAffineFrom(lens);
  const windows = all.map((l) => (l.plan.rule.kind === 'argmax' ? windowTable(l) : undefined));
  let forwardPoints = 0;
  let maxResidual = 0;

  const point = (t: number, out: Float64Array, o: number) => {
    for (let i = 0; i < size; i++) out[o + i] = a[i]! + t * (b[i]! - a[i]!);
  };
  type Values = Float32Array | Float64Array;
  /** Pre-activations of layers from.. at the given t values, streamed in batches (views; earlier layers undefined). */
  async function* evaluate(ts: number[], from: number): AsyncGenerator<{ t: number; z: (Values | undefined)[] }> {
    for (let s = 0; s < ts.length; s += batch) {
      const m = Math.min(batch, ts.length - s);
      const xs = new Float64Array(m * size);
      for (let j = 0; j < m; j++) point(ts[s + j]!, xs, j * size);
      const r = await runner.runViews(xs, m, from);
      forwardPoints += m;
      for (let j = 0; j < m; j++) yield { t: ts[s + j]!, z: r.preacts.map((p, l) => p?.subarray(j * runner.sizes[l]!, (j + 1) * runner.sizes[l]!)) };
    }
  }
  // Every point of the final breakpoint set is evaluated once: the pass that confirms a crossing of layer l also
  // gives the later layers' pre-activations there, which the walk over layer l + 1 needs. Views of layers already
  // walked are dropped, so the cache holds at most the not-yet-walked layers of the breakpoints.
  const cache = new Map<number, (Values | undefined)[]>();
  const valueBytes = runner.precision === 'float64' ? 8 : 4;
  async function ensure(ts: number[], from: number): Promise<void> {
    const missing = [...new Set(ts)].filter((t) => !cache.has(t));
    const points = cache.size + missing.length;
    const held = points * runner.sizes.slice(from).reduce((s, x) => s + x, 0) * valueBytes;
    if (held > MAX_HELD_BYTES) {
      throw new UserError(`--exact found ${points.toLocaleString('en-US')} breakpoints on this segment by layer '${all[from]!.plan.key}' of ${lens.model.name}: holding their later layers' pre-activations would need ${gigabytes(held)} (at most ${MAX_HELD_BYTES / 1e9} GB); run the path without --exact for its sampled boundary density`);
    }
    for await (const { t, z } of evaluate(missing, from)) cache.set(t, z);
  }
  const gOf = (f: Found, z: Values) => (f.j >= 0 ? z[f.j]! - z[f.i]! : z[f.i]! - f.theta);

  let T = [0, 1];
  const found: Found[] = [];
  try {
    await ensure(T, 0);
    for (let l = 0; l < all.length; l++) {
      const layer = all[l]!;
      const rule = layer.plan.rule;
      const bounds = runner.bounds[l];
      const win = windows[l];
      const fresh: Found[] = [];
      // Each point's state is computed once (not once per interval end): packed bits, or argmax per window.
      const states = T.map((t) => pointState(cache.get(t)![l]!, rule.kind, bounds, win));
      for (let k = 1; k < T.length; k++) {
        const prevT = T[k - 1]!;
        const t = T[k]!;
        const prev = cache.get(prevT)![l]!;
        const z = cache.get(t)![l]!;
        if (rule.kind === 'argmax') envelope(win!, prev, z, prevT, t, l, fresh, states[k - 1]!, states[k]!);
        else {
          // Bits that differ between the interval's ends: unit u (positive), or 2u + c for threshold c (between).
          const A = states[k - 1] as Uint32Array;
          const B = states[k] as Uint32Array;
          for (let w = 0; w < A.length; w++) {
            let x = A[w]! ^ B[w]!;
            while (x) {
              const high = 31 - Math.clz32(x);
              x ^= 1 << high;
              const bit = w * 32 + (31 - high);
              if (rule.kind === 'positive') fresh.push(cross(prevT, t, prev[bit]!, z[bit]!, l, [bit], bit, -1, 0));
              else {
                const u = bit >> 1;
                const th = bit & 1 ? bounds!.hi[u]! : bounds!.lo[u]!;
                fresh.push(cross(prevT, t, prev[u]! - th, z[u]! - th, l, [bit], u, -1, th));
              }
            }
          }
        }
      }
      // Non-affine layers: refine each crossing by regula falsi on its bracket.
      if (nonAffine[l] && fresh.length) await refine(fresh, l, opts.refine ?? 4);
      // One push per crossing: spreading hundreds of thousands of arguments overflows the call stack.
      for (const f of fresh) found.push(f);
      // Confirm: evaluate the crossings themselves (their values of later layers are kept for the next walks).
      if (fresh.length) {
        await ensure(fresh.map((f) => f.t), l);
        for (const f of fresh) {
          const r = Math.abs(gOf(f, cache.get(f.t)![l]!)) / Math.max(f.scale, 1e-300);
          if (r > maxResidual) maxResidual = r;
        }
      }
      T = mergeSorted(T, fresh.map((f) => f.t));
      for (const t of T) cache.get(t)![l] = undefined;
    }
  } finally {
    await runner.dispose();
  }

  async function refine(list: Found[], l: number, rounds: number): Promise<void> {
    for (let r = 0; r < rounds; r++) {
      let k = 0;
      for await (const { z } of evaluate(list.map((f) => f.t), l)) {
        const f = list[k++]!;
        const g = gOf(f, z[l]!);
        if (g === 0) continue;
        if (g > 0 === f.ghi > 0) (f.hi = f.t), (f.ghi = g);
        else (f.lo = f.t), (f.glo = g);
        if (f.glo !== f.ghi) f.t = f.lo + ((f.hi - f.lo) * f.glo) / (f.glo - f.ghi);
      }
    }
  }

  const keyOf = new Map(all.map((l, i) => [i, l.plan.key]));
  const chosen = new Set(selected.map((l) => l.plan.key));
  const crossings: PathCrossing[] = [];
  for (const f of found) {
    const key = keyOf.get(f.layer)!;
    if (!chosen.has(key)) continue;
    for (const u of f.units) crossings.push({ t: f.t, layer: key, unit: u });
  }
  crossings.sort((p, q) => p.t - q.t || (p.layer < q.layer ? -1 : p.layer > q.layer ? 1 : p.unit - q.unit));
  const flips: Record<string, number> = Object.fromEntries(selected.map((l) => [l.plan.key, 0]));
  for (const c of crossings) flips[c.layer]!++;
  const approxLayers = all.filter((_, i) => nonAffine[i] && chosen.has(all[i]!.plan.key)).map((l) => l.plan.key);
  const result: ExactPathResult = {
    total_flips: crossings.length,
    flips_per_layer: flips,
    linear_pieces: T.length - 1,
    crossings,
    precision: runner.precision,
    approximate: approxLayers.length > 0,
    approximate_layers: approxLayers,
    max_residual: maxResidual,
    forward_points: forwardPoints,
    seconds: (performance.now() - start) / 1000,
  };
  const notes: string[] = [];
  if (runner.note) notes.push(runner.note);
  if (approxLayers.length) notes.push(`approximate from layer ${approxLayers[0]} on: a smooth or uncounted nonlinearity makes pre-activations non-affine (a unit crossing twice between two breakpoints is missed)`);
  if (notes.length) result.note = notes.join('; ');
  return result;
}

function cross(lo: number, hi: number, p: number, q: number, layer: number, units: number[], i: number, j: number, theta: number): Found {
  const t = lo + ((hi - lo) * p) / (p - q);
  return { t: Math.min(hi, Math.max(lo, t)), layer, units, i, j, theta, scale: Math.max(Math.abs(p), Math.abs(q)), lo, hi, glo: p, ghi: q };
}

/** MaxPool: per window, the argmax changes along the upper envelope of affine values between t0 and t1. */
/**
 * A point's state in a layer: its bits packed 32 to a word, MSB first (positive: z > 0 per unit; between: z > lo,
 * z > hi per unit), or for MaxPool the argmax (first maximum) of each window, -1 for a window of padding only.
 */
export function pointState(z: Float32Array | Float64Array, kind: 'positive' | 'between' | 'argmax', bounds: { lo: Float64Array; hi: Float64Array } | undefined, win: { table: Int32Array; window: number } | undefined): Uint32Array | Int16Array {
  if (kind === 'argmax') {
    const W = win!.window;
    const table = win!.table;
    const E = table.length / W;
    const am = new Int16Array(E);
    for (let e = 0; e < E; e++) {
      const base = e * W;
      let cur = -1;
      let best = -Infinity;
      for (let w = 0; w < W; w++) {
        const idx = table[base + w]!;
        if (idx >= 0 && z[idx]! > best) (best = z[idx]!), (cur = w);
      }
      am[e] = cur;
    }
    return am;
  }
  const bits = kind === 'positive' ? z.length : 2 * z.length;
  const words = new Uint32Array(Math.ceil(bits / 32));
  if (kind === 'positive') {
    for (let u = 0; u < z.length; u++) if (z[u]! > 0) words[u >> 5]! |= 0x80000000 >>> (u & 31);
  } else {
    const { lo, hi } = bounds!;
    for (let u = 0; u < z.length; u++) {
      const b = 2 * u;
      if (z[u]! > lo[u]!) words[b >> 5]! |= 0x80000000 >>> (b & 31);
      if (z[u]! > hi[u]!) words[(b + 1) >> 5]! |= 0x80000000 >>> ((b + 1) & 31);
    }
  }
  return words;
}

function envelope(win: { table: Int32Array; window: number }, z0: Float32Array | Float64Array, z1: Float32Array | Float64Array, t0: number, t1: number, layer: number, out: Found[], am0: Uint32Array | Int16Array, am1: Uint32Array | Int16Array): void {
  const W = win.window;
  const E = win.table.length / W;
  const dt = t1 - t0;
  for (let e = 0; e < E; e++) {
    const base = e * W;
    // Argmax at t0 (first maximum) and at t1; if equal and no line overtakes, nothing to do.
    let cur = am0[e]!;
    if (cur < 0) continue;
    const end = am1[e]!;
    if (end === cur) continue; // with affine values the envelope cannot leave and return to the same line
    let s = 0; // local position in [0, 1]
    for (let guard = 0; guard < W && cur !== end; guard++) {
      const ic = win.table[base + cur]!;
      const c0 = z0[ic]!;
      const cs = z1[ic]! - c0;
      let next = -1;
      let sNext = Infinity;
      let slopeNext = -Infinity;
      for (let w = 0; w < W; w++) {
        if (w === cur) continue;
        const iw = win.table[base + w]!;
        if (iw < 0) continue;
        const w0 = z0[iw]!;
        const ws = z1[iw]! - w0;
        if (ws <= cs) continue;
        const sw = Math.max(s, (c0 - w0) / (ws - cs));
        if (sw < sNext || (sw === sNext && ws > slopeNext)) (sNext = sw), (next = w), (slopeNext = ws);
      }
      if (next < 0 || sNext > 1) break;
      const i = win.table[base + cur]!;
      const j = win.table[base + next]!;
      const p = z0[j]! - z0[i]!; // g = v_next - v_cur: negative before, positive after
      const q = z1[j]! - z1[i]!;
      const t = t0 + sNext * dt;
      out.push({ t, layer, units: [base + cur, base + next], i, j, theta: 0, scale: Math.max(Math.abs(p), Math.abs(q), 1e-300), lo: t0, hi: t1, glo: p, ghi: q });
      cur = next;
      s = sNext;
    }
  }
}

/**
 * Per layer: true when its pre-activation is not piecewise affine in the input with pieces given by earlier
 * layers, i.e. when an earlier layer is smooth (a sign code) or an uncounted nonlinearity lies upstream. A smooth
 * layer's own sign crossings are affine-located only when nothing non-affine precedes it, but its code is
 * approximate anyway, so it is flagged too.
 */
export function nonAffineFrom(lens: Lens): boolean[] {
  const g = lens.graph;
  const bad = new Set(lens.unsupported.map((u) => u.node));
  const memo = new Map<string, boolean>();
  const upstreamBad = (tensor: string): boolean => {
    const stack = [tensor];
    const seen = new Set<string>();
    while (stack.length) {
      const t = stack.pop()!;
      if (seen.has(t)) continue;
      seen.add(t);
      if (memo.get(t)) return true;
      const n: NodeProto | undefined = g.producer.get(t);
      if (!n) continue;
      if (bad.has(nodeKey(n, g.fileIndex))) return true;
      for (const i of n.input ?? []) if (i && !g.constantDerived.has(i)) stack.push(i);
    }
    return false;
  };
  let smoothSeen = false;
  return lens.layers.map((l) => {
    const r = smoothSeen || !l.plan.exact || upstreamBad(l.plan.preact);
    memo.set(l.plan.preact, upstreamBad(l.plan.preact));
    if (!l.plan.exact) smoothSeen = true;
    return r;
  });
}

function mergeSorted(T: number[], add: number[]): number[] {
  if (!add.length) return T;
  const all = T.concat(add).sort((x, y) => x - y);
  const out: number[] = [];
  for (const t of all) if (out.length === 0 || t !== out[out.length - 1]) out.push(t);
  return out;
}
