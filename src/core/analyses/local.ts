/**
 * Local complexity (Humayun et al., ICML 2024): around each point x, P random orthonormal directions v_1..v_P
 * (seeded Gaussian vectors, Gram-Schmidt) and the 2P vertices x ± r v_p; per layer, the number of bits whose state
 * is not the same at all vertices. For the first layer (affine in the input) this is exactly the number of its
 * boundaries that cut the cross-polytope spanned by the vertices; for later layers it is the usual estimate.
 *
 *   computeLocal(lens, layers, data, n, { directions, radius, seed, precision?, threads? }) -> LocalResult
 */
import { UserError } from '../errors';
import { Rng } from '../inputs/random';
import type { Lens, LensLayer } from '../lens';
import { layerInfos } from '../lens';
import type { LocalPoint, LocalResult } from '../../shared/results';
import { nonAffineFrom } from './exact1d';
import { windowTable } from '../maxpool';
import { PreactRunner, type Precision } from './preacts';

export interface LocalOptions {
  directions: number;
  radius: number;
  seed: number;
  precision?: Precision;
  threads?: number;
  /** Global index of data's first point (a shard's start): point i's directions come from stream first + i of the seed. */
  first?: number;
  onProgress?: (done: number, total: number) => void;
}

/** P orthonormal directions in R^D from Gaussian draws (modified Gram-Schmidt, redrawing degenerate vectors). */
export function orthonormalDirections(rng: Rng, P: number, D: number): Float64Array[] {
  if (P > D) throw new UserError(`--directions ${P} exceeds the input dimension ${D}`);
  const out: Float64Array[] = [];
  while (out.length < P) {
    const v = new Float64Array(D);
    for (let i = 0; i < D; i++) v[i] = rng.normal();
    for (let pass = 0; pass < 2; pass++) {
      for (const u of out) {
        let d = 0;
        for (let i = 0; i < D; i++) d += v[i]! * u[i]!;
        for (let i = 0; i < D; i++) v[i]! -= d * u[i]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < D; i++) norm += v[i]! * v[i]!;
    norm = Math.sqrt(norm);
    if (norm < 1e-8) continue;
    for (let i = 0; i < D; i++) v[i]! /= norm;
    out.push(v);
  }
  return out;
}

export async function computeLocal(lens: Lens, layers: LensLayer[], data: Float32Array, n: number, opts: LocalOptions): Promise<LocalResult> {
  const D = lens.sampleSize;
  const P = Math.min(opts.directions, D);
  const r = opts.radius;
  if (!Number.isInteger(P) || P < 1) throw new UserError(`--directions must be an integer of at least 1, not '${P}'`);
  if (!(r > 0) || !Number.isFinite(r)) throw new UserError(`--radius must be a positive number, not '${r}'`);
  const runner = await PreactRunner.create(lens, layers, { precision: opts.precision ?? 'float64', threads: opts.threads });
  const first0 = opts.first ?? 0;
  const windows = layers.map((l) => (l.plan.rule.kind === 'argmax' ? windowTable(l) : undefined));
  const V = 2 * P + 1; // the vertices and the centre (for the prediction)
  const perPoint: LocalPoint[] = [];
  try {
    for (let p = 0; p < n; p++) {
      // Each point's directions depend only on (seed, its global index): shards give the points of one run.
      const dirs = orthonormalDirections(new Rng(opts.seed, first0 + p), P, D);
      const xs = new Float64Array(V * D);
      for (let i = 0; i < D; i++) xs[i] = data[p * D + i]!;
      for (let k = 0; k < P; k++) {
        for (let s = 0; s < 2; s++) {
          const o = (1 + 2 * k + s) * D;
          const sign = s === 0 ? r : -r;
          for (let i = 0; i < D; i++) xs[o + i] = xs[i]! + sign * dirs[k]![i]!;
        }
      }
      const res = await runner.run(xs, V);
      const counts = layers.map((layer, l) => {
        const z = res.preacts[l]!;
        const S = runner.sizes[l]!;
        const rule = layer.plan.rule;
        let c = 0;
        if (rule.kind === 'positive' || rule.kind === 'between') {
          const ths = rule.kind === 'positive' ? [undefined] : [runner.bounds[l]!.lo, runner.bounds[l]!.hi];
          for (const th of ths) {
            for (let u = 0; u < S; u++) {
              const t = th ? th[u]! : 0;
              const first = z[S + u]! > t;
              for (let v = 2; v < V; v++) {
                if (z[v * S + u]! > t !== first) {
                  c++;
                  break;
                }
              }
            }
          }
        } else {
          // MaxPool: a window whose argmax is not the same at every vertex changes (at least) two bits; count the
          // window elements that are the argmax at some but not all vertices.
          const { table, window: W } = windows[l]!;
          const E = table.length / W;
          const hits = new Int32Array(W);
          for (let e = 0; e < E; e++) {
            hits.fill(0);
            for (let v = 1; v < V; v++) {
              let best = -1;
              let bv = -Infinity;
              for (let w = 0; w < W; w++) {
                const idx = table[e * W + w]!;
                if (idx >= 0 && z[v * S + idx]! > bv) (bv = z[v * S + idx]!), (best = w);
              }
              if (best >= 0) hits[best]!++;
            }
            for (let w = 0; w < W; w++) if (hits[w]! > 0 && hits[w]! < V - 1) c++;
          }
        }
        return c;
      });
      const per = runner.outputSize;
      let pred = 0;
      for (let k = 1; k < per; k++) if (res.outputs[k]! > res.outputs[pred]!) pred = k;
      perPoint.push({ index: first0 + p, pred, per_layer: counts, total: counts.reduce((s, x) => s + x, 0) });
      opts.onProgress?.(p + 1, n);
    }
  } finally {
    await runner.dispose();
  }
  const mean = (f: (q: LocalPoint) => number) => (perPoint.length ? perPoint.reduce((s, q) => s + f(q), 0) / perPoint.length : 0);
  const nonAffine = nonAffineFrom(lens);
  const first = lens.layers[0];
  const exactLayers = first && layers.includes(first) && !nonAffine[0] ? [first.plan.key] : [];
  return {
    model: lens.model.name,
    layers: layerInfos(layers),
    n,
    directions: P,
    radius: r,
    seed: opts.seed,
    per_point: perPoint,
    mean_per_layer: Object.fromEntries(layers.map((l, i) => [l.plan.key, mean((q) => q.per_layer[i]!)])),
    mean_total: mean((q) => q.total),
    exact_layers: exactLayers,
    precision: runner.precision,
    note:
      (P < opts.directions ? `${opts.directions} directions asked, ${P} used (the input dimension); ` : '') +
      `bits whose state differs across the ${2 * P} vertices x ± ${r}·v (${P} seeded orthonormal directions per point); ` +
      (exactLayers.length ? `exact for ${exactLayers[0]} (affine in the input), an estimate for later layers` : 'an estimate (no layer is affine in the input)') +
      (runner.note ? `; ${runner.note}` : ''),
  };
}
