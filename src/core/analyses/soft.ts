/**
 * The probabilistic spline code of smooth activations (PAPER.md "Smooth activations"): instead of the sign bit
 * of a unit's pre-activation z, its soft membership p(z) in [0, 1]:
 *
 *   GELU  p = Phi(z)           (GELU(z) = z Phi(z): the gate of the unit)
 *   SiLU  p = sigmoid(z)       (SiLU(z) = z sigmoid(z))
 *   Tanh  p = (1 + tanh z) / 2 (= sigmoid(2z))
 *   piecewise-linear ops: the hard bit (z > 0 as 0/1; Clip-like: the two bits), so those layers add their
 *   ordinary Hamming distance; MaxPool layers are left out of the soft sum (their bits are argmax bits).
 *
 * The sign code is the rounding of the soft code: bit = (p > 1/2) exactly when z > 0.
 * Soft Hamming distance of two points: sum over units of |p_k(x) - p_k(y)|. Along a path it is summed over
 * steps; refining the steps can only increase it (triangle inequality) and it converges to the total variation
 * of p along the path.
 *
 *   softMembership(op, z) -> p
 *   softPath(lens, layers, a, b, steps, { precision?, threads? }) -> SoftPathResult
 */
import type { Lens, LensLayer } from '../lens';
import type { SoftPathResult } from '../../shared/results';
import { pathPoints } from './path';
import { PreactRunner, type Precision } from './preacts';

/** Standard normal CDF, |error| < 1.5e-7 (Abramowitz & Stegun 7.1.26 on erf). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Soft membership of a unit of op `op` at pre-activation z (hard 0/1 for piecewise-linear ops). */
export function softMembership(op: string, z: number): number {
  switch (op) {
    case 'Gelu':
      return normalCdf(z);
    case 'SiLU':
      return sigmoid(z);
    case 'Tanh':
      return (1 + Math.tanh(z)) / 2;
    default:
      return z > 0 ? 1 : 0;
  }
}

export function isSmooth(op: string): boolean {
  return op === 'Gelu' || op === 'SiLU' || op === 'Tanh';
}

/** Soft code of one layer for one sample: per element p (for 'between' layers two values per element). */
function softCode(layer: LensLayer, pre: Float64Array, bounds: { lo: Float64Array; hi: Float64Array } | undefined, out: Float64Array): void {
  const op = layer.plan.op;
  if (layer.plan.rule.kind === 'between' && bounds) {
    for (let k = 0; k < pre.length; k++) {
      out[2 * k] = pre[k]! > bounds.lo[k]! ? 1 : 0;
      out[2 * k + 1] = pre[k]! > bounds.hi[k]! ? 1 : 0;
    }
    return;
  }
  for (let k = 0; k < pre.length; k++) out[k] = softMembership(op, pre[k]!);
}

export interface SoftOptions {
  precision?: Precision;
  threads?: number;
}

/** Soft Hamming distances between consecutive points of the path a -> b with `steps` steps (DESIGN §3 points). */
export async function softPath(lens: Lens, layers: LensLayer[], a: ArrayLike<number>, b: ArrayLike<number>, steps: number, opts: SoftOptions = {}): Promise<SoftPathResult> {
  const used = layers.filter((l) => l.plan.rule.kind !== 'argmax');
  const runner = await PreactRunner.create(lens, used, { precision: opts.precision ?? 'float64', threads: opts.threads });
  const perStep = new Array<number>(steps).fill(0);
  const perLayer = used.map(() => new Array<number>(steps).fill(0));
  const width = used.map((l, i) => (l.plan.rule.kind === 'between' ? 2 : 1) * runner.sizes[i]!);
  let prev: Float64Array[] | undefined;
  const cur = width.map((w) => new Float64Array(w));
  const size = lens.sampleSize;
  const chunk = Math.max(2, Math.min(steps + 1, Math.floor(4e6 / Math.max(1, size + runner.sizes.reduce((s, x) => s + x, 0)))));
  try {
    for (let first = 0; first <= steps; first += chunk) {
      const count = Math.min(chunk, steps + 1 - first);
      const xs = pathPoints(a, b, steps, first, count);
      const r = await runner.run(xs, count);
      for (let j = 0; j < count; j++) {
        used.forEach((l, li) => {
          const s = runner.sizes[li]!;
          softCode(l, r.preacts[li]!.subarray(j * s, (j + 1) * s), runner.bounds[li], cur[li]!);
        });
        if (prev) {
          const k = first + j - 1;
          let tot = 0;
          for (let li = 0; li < used.length; li++) {
            const p = prev[li]!;
            const c = cur[li]!;
            let s = 0;
            for (let u = 0; u < c.length; u++) s += Math.abs(c[u]! - p[u]!);
            perLayer[li]![k] = s;
            tot += s;
          }
          perStep[k] = tot;
        }
        prev = cur.map((c) => c.slice());
      }
    }
  } finally {
    await runner.dispose();
  }
  const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
  return {
    per_step: perStep,
    total: sum(perStep),
    per_layer_total: Object.fromEntries(used.map((l, i) => [l.plan.key, sum(perLayer[i]!)])),
    per_layer_per_step: Object.fromEntries(used.map((l, i) => [l.plan.key, perLayer[i]!])),
    membership: Object.fromEntries(used.map((l) => [l.plan.key, isSmooth(l.plan.op) ? softName(l.plan.op) : 'hard bit (piecewise linear)'])),
    skipped_layers: layers.filter((l) => l.plan.rule.kind === 'argmax').map((l) => l.plan.key),
    precision: runner.precision,
  };
}

function softName(op: string): string {
  return op === 'Gelu' ? 'Phi(z)' : op === 'SiLU' ? 'sigmoid(z)' : '(1 + tanh z) / 2';
}
