/**
 * Near-ties: the bits of a code that float arithmetic could flip. Codes are computed in float32, and another
 * runtime (PyTorch, a GPU, onnxruntime with other kernels) sums a Conv or a Gemm in another order, so a unit whose
 * pre-activation lies within rounding of its threshold may get the other bit there. A bit is a near-tie when:
 *   - positive units (Relu, LeakyRelu, PRelu, Abs, sign codes): |z| <= tol * scale;
 *   - between units (Clip, HardSigmoid, HardSwish): |z - lo| <= tol * scale (bit 2u) or |z - hi| <= tol * scale
 *     (bit 2u + 1);
 *   - MaxPool: the window's maximum and another of its entries differ by more than 0 and at most tol * scale; the
 *     bits of the maximum and of every such entry are near-ties. (A tolerance relative to the window's maximum
 *     instead misses flips seen on VGG and GoogLeNet: the rounding error of an entry follows the size of what was
 *     summed into it, which the layer's scale stands for, not the entry's own size.)
 * Exact ties are reported apart: a MaxPool window whose maximum (not 0) is shared by equal entries. The convention
 * (first maximum) breaks them alike everywhere, and most are made by identical arithmetic on identical inputs (a
 * blank image background gives the same value at every position), so every runtime computes them alike; but equal
 * values can also come from identical inputs summed in another order by another runtime, which rounds them apart
 * (seen on GoogLeNet, whose stride-1 pools repeat values). Windows whose maximum is exactly 0 are neither: zeros
 * after a Relu are exact in every runtime (a unit upstream that could have been positive is a near-tie of its
 * own layer).
 * The scale is the layer's largest |pre-activation| in that sample: rounding errors grow with the magnitudes
 * summed, and the largest value of the layer stands for them. The default tolerance, 1e-5, is about 100 float32
 * ulps of that scale.
 */
import type { Lens, LensLayer } from './lens';
import { PreactRunner } from './analyses/preacts';
import { windowTable, type WindowTable } from './maxpool';
import type { SampleNearTies } from '../shared/worker-protocol';

export const NEAR_TIE_TOLERANCE = 1e-5;

export type { SampleNearTies };

export class NearTieFinder {
  private readonly windows: (WindowTable | undefined)[];

  private constructor(
    private readonly runner: PreactRunner,
    readonly layers: LensLayer[],
    readonly tol: number,
  ) {
    this.windows = layers.map((l) => (l.plan.rule.kind === 'argmax' ? windowTable(l) : undefined));
  }

  get lens(): Lens {
    return this.runner.lens;
  }

  static async create(lens: Lens, layers: LensLayer[], tol = NEAR_TIE_TOLERANCE, threads?: number): Promise<NearTieFinder> {
    if (!(tol >= 0 && Number.isFinite(tol))) throw new Error(`near-tie tolerance must be a finite number >= 0, got ${tol}`);
    return new NearTieFinder(await PreactRunner.create(lens, layers, { precision: 'float32', threads }), layers, tol);
  }

  /** Near-ties of n samples (n x sampleSize float32 values), in batches the model accepts. */
  async find(data: Float32Array, n: number): Promise<SampleNearTies[]> {
    const lens = this.lens;
    const size = lens.sampleSize;
    const perSample = size + this.runner.sizes.reduce((a, b) => a + b, 0);
    const batch = lens.fixedBatch ?? Math.max(1, Math.min(n, Math.floor(4e6 / perSample)));
    const out: SampleNearTies[] = [];
    for (let start = 0; start < n; start += batch) {
      const m = Math.min(batch, n - start);
      const { preacts } = await this.runner.runViews(data.subarray(start * size, (start + m) * size), m);
      for (let i = 0; i < m; i++) {
        const sample: SampleNearTies = { near: [], exact: [] };
        this.layers.forEach((layer, l) => {
          const s = this.runner.sizes[l]!;
          const { near, exact } = this.layerTies(preacts[l]!.subarray(i * s, (i + 1) * s), l, layer);
          sample.near.push(near);
          sample.exact.push(exact);
        });
        out.push(sample);
      }
    }
    return out;
  }

  private layerTies(z: Float32Array | Float64Array, l: number, layer: LensLayer): { near: number[]; exact: number[] } {
    let scale = 0;
    for (let k = 0; k < z.length; k++) scale = Math.max(scale, Math.abs(z[k]!));
    const eps = this.tol * scale;
    const ties: number[] = [];
    const exact: number[] = [];
    const rule = layer.plan.rule;
    if (rule.kind === 'positive') {
      for (let k = 0; k < z.length; k++) if (Math.abs(z[k]!) <= eps) ties.push(k);
    } else if (rule.kind === 'between') {
      const { lo, hi } = this.runner.bounds[l]!;
      for (let k = 0; k < z.length; k++) {
        if (Math.abs(z[k]! - lo[k]!) <= eps) ties.push(2 * k);
        if (Math.abs(z[k]! - hi[k]!) <= eps) ties.push(2 * k + 1);
      }
    } else {
      const { table, window } = this.windows[l]!;
      const windows = table.length / window;
      for (let o = 0; o < windows; o++) {
        let top = -Infinity;
        for (let w = 0; w < window; w++) {
          const at = table[o * window + w]!;
          if (at >= 0 && z[at]! > top) top = z[at]!;
        }
        if (top === 0) continue;
        let close = false;
        let equal = 0;
        for (let w = 0; w < window; w++) {
          const at = table[o * window + w]!;
          if (at < 0) continue;
          if (z[at]! === top) equal++;
          else if (top - z[at]! <= eps) close = true;
        }
        if (close) {
          for (let w = 0; w < window; w++) {
            const at = table[o * window + w]!;
            if (at >= 0 && top - z[at]! <= eps) ties.push(o * window + w);
          }
        } else if (equal > 1) {
          for (let w = 0; w < window; w++) {
            const at = table[o * window + w]!;
            if (at >= 0 && z[at]! === top) exact.push(o * window + w);
          }
        }
      }
    }
    return { near: ties, exact };
  }

  async dispose(): Promise<void> {
    await this.runner.dispose();
  }
}
