/**
 * Region map of a 2D slice (DESIGN.md §3): codes on an R x R grid over [lo, hi]^2, xs = ys = linspace(lo, hi, R),
 * point (i, j) = (xs[j], ys[i]) (row i is y), region ids in order of first appearance in a row-major scan; and,
 * with `exact`, the exact partition of the window into linear regions (./exact2d).
 */
import { UserError } from '../errors';
import { CodeExtractor } from '../extract';
import { hashBytes } from '../bits';
import type { Lens, LensLayer } from '../lens';
import { exactRegions2d, type Exact2dOptions } from './exact2d';
import { linspace, Plane, type PlaneSpec } from './planar';
import type { SliceGrid, SliceResult } from '../../shared/results';

export interface SliceOptions {
  window: [number, number];
  resolution: number;
  /** Three inputs spanning the plane (required unless the model takes 2 values). */
  plane?: PlaneSpec;
  /** Sample indices of a, b, c, echoed in the result. */
  planeIndices?: number[];
  /** Also compute the exact partition (every layer; needs a piecewise-linear model). */
  exact?: boolean | Exact2dOptions;
  threads?: number;
  /** Points per forward pass (default: about 4M input values). */
  batch?: number;
  /** Steps done of the stage's total: with `exact`, its pre-activations cut first, then grid points after each
   * forward pass, of R² (an ImageNet CNN's 200² grid is minutes of passes). */
  onProgress?: (done: number, total: number, stage: SliceStage) => void;
}

/** The stages of a slice, in the order they run. */
export type SliceStage = 'exact regions' | 'grid points';

export function checkWindow(window: [number, number], resolution: number): void {
  const [lo, hi] = window;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) throw new UserError(`--window needs LO < HI (finite numbers), not ${lo},${hi}.`);
  if (!Number.isSafeInteger(resolution) || resolution < 2) throw new UserError(`--resolution must be an integer of at least 2, not ${resolution}.`);
  if (resolution > 4096) throw new UserError(`--resolution ${resolution} is more than 4096 (16.8M points); use a smaller grid.`);
}

/** Assigns region ids to packed code rows: first appearance order, rows compared by hash, then bytes. */
export class RegionIds {
  private readonly byHash = new Map<number, number[]>();
  private reps = new Uint8Array(1024);
  count = 0;
  constructor(readonly codeBytes: number) {}

  id(codes: Uint8Array, start: number): number {
    const cb = this.codeBytes;
    const h = hashBytes(codes, start, cb);
    const list = this.byHash.get(h);
    if (list) {
      for (const r of list) {
        let same = true;
        for (let b = 0; b < cb; b++) {
          if (this.reps[r * cb + b] !== codes[start + b]) {
            same = false;
            break;
          }
        }
        if (same) return r;
      }
    }
    const id = this.count++;
    if ((id + 1) * cb > this.reps.length) {
      const grown = new Uint8Array(Math.max(2 * this.reps.length, (id + 1) * cb));
      grown.set(this.reps);
      this.reps = grown;
    }
    this.reps.set(codes.subarray(start, start + cb), id * cb);
    if (list) list.push(id);
    else this.byHash.set(h, [id]);
    return id;
  }
}

/** Codes on the grid: region ids and predictions, row-major. */
export async function sliceGrid(lens: Lens, layers: LensLayer[], opts: SliceOptions): Promise<SliceGrid> {
  checkWindow(opts.window, opts.resolution);
  const plane = Plane.of(lens, opts.plane);
  const [lo, hi] = opts.window;
  const R = opts.resolution;
  const xs = linspace(lo, hi, R);
  const size = lens.sampleSize;
  const total = R * R;
  const batch = Math.max(1, Math.min(total, opts.batch ?? Math.floor(4e6 / size)));
  const ex = await CodeExtractor.create(lens, layers, opts.threads);
  const ids = new RegionIds(ex.codeBytes);
  const regionIds = new Array<number>(total);
  const preds = new Array<number>(total);
  try {
    const uv = new Float64Array(2 * batch);
    const data = new Float32Array(batch * size);
    for (let start = 0; start < total; start += batch) {
      const m = Math.min(batch, total - start);
      for (let p = 0; p < m; p++) {
        const k = start + p;
        uv[2 * p] = xs[k % R]!;
        uv[2 * p + 1] = xs[Math.floor(k / R)]!;
      }
      plane.inputs(uv, m, data);
      const b = await ex.run(data.subarray(0, m * size), m);
      for (let p = 0; p < m; p++) {
        regionIds[start + p] = ids.id(b.codes, p * ex.codeBytes);
        preds[start + p] = b.preds[p]!;
      }
      opts.onProgress?.(start + m, total, 'grid points');
    }
  } finally {
    await ex.dispose();
  }
  return {
    resolution: R,
    window: [lo, hi],
    distinct_codes: ids.count,
    region_ids_row_major: regionIds,
    pred_row_major: preds,
  };
}

/** The slice command: the grid, and the exact partition when asked. */
export async function slice(lens: Lens, layers: LensLayer[], opts: SliceOptions): Promise<SliceResult> {
  const all = layers.length === lens.layers.length;
  if (opts.exact && !all) throw new UserError('--exact partitions the window by every layer; leave out --ops / --layers.');
  // The exact partition first: on a model too large for it, its refusal comes before the grid's forward passes
  // (40,000 images at the default resolution) instead of after them.
  const exactOpts = typeof opts.exact === 'object' ? opts.exact : {};
  const onProgress = opts.onProgress && ((done: number, total: number) => opts.onProgress!(done, total, 'exact regions'));
  const exact = opts.exact ? await exactRegions2d(lens, { window: opts.window, plane: opts.plane, threads: opts.threads, onProgress, ...exactOpts }) : undefined;
  const grid = await sliceGrid(lens, layers, opts);
  const result: SliceResult = {
    model: lens.model.name,
    window: opts.window,
    plane: opts.plane ? { indices: opts.planeIndices ?? [], note: 'x(u, v) = a + u (b - a) + v (c - a)' } : { indices: [], note: 'x(u, v) = (u, v): the model input itself' },
    layers: layers.map((l) => l.plan.key),
    grid,
  };
  if (exact) result.exact = exact;
  return result;
}
