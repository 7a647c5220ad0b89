/**
 * polytope-lens slice MODEL --window LO,HI --resolution R [--exact] [--precision float64|float32] [--no-polygons]
 *                         [--inputs X.npy --plane a,b,c] [--ops ... | --layers ...] --json
 *
 * Flags beyond the shared ones are read here from the command line (leniently, like ./path), so the command does
 * not depend on args.ts knowing them; args.ts must still accept them (its parser is strict).
 */
import { UserError } from '../core/errors';
import { loadSamples, sampleShapeOf } from '../worker/jobs';
import { EnginePool } from '../worker/pool';
import type { SliceResult } from '../shared/results';
import type { SliceRequest } from '../shared/worker-protocol';
import type { CliArgs } from './args';
import { Progress, table } from './format';
import { modelRef } from './summary';
import { termName } from '../shared/glossary';
import { elementCount } from '../shared/shape';

export const SLICE_FLAGS = {
  window: { type: 'string' },
  resolution: { type: 'string' },
  exact: { type: 'boolean' },
  plane: { type: 'string' },
  precision: { type: 'string' },
  'no-polygons': { type: 'boolean' },
} as const;

export function sliceFlags(a: CliArgs) {
  return a.flags as Partial<Record<keyof typeof SLICE_FLAGS, string | boolean>>;
}

function numbers(v: string | boolean | undefined, flag: string, count: number): number[] | undefined {
  if (v === undefined) return undefined;
  const parts = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : [];
  const xs = parts.map(Number);
  if (xs.length !== count || parts.some((p) => p === '') || xs.some((x) => !Number.isFinite(x))) {
    throw new UserError(`${flag} needs ${count} comma-separated numbers, not '${String(v)}'`);
  }
  return xs;
}

/** The slice request from the command line (plane inputs loaded here, so the worker gets arrays). */
export async function sliceRequest(a: CliArgs, pool: EnginePool): Promise<SliceRequest> {
  const x = sliceFlags(a);
  const window = (numbers(x.window, '--window', 2) ?? [-1, 1]) as [number, number];
  const resolution = x.resolution === undefined ? 200 : Number(x.resolution);
  if (!Number.isSafeInteger(resolution) || resolution < 2) throw new UserError(`--resolution must be an integer of at least 2, not '${String(x.resolution)}'`);
  if (x.precision !== undefined && x.precision !== 'float64' && x.precision !== 'float32') throw new UserError(`--precision must be float64 or float32, not '${String(x.precision)}'`);
  const req: SliceRequest = {
    window,
    resolution,
    exact: x.exact === true,
    polygons: x['no-polygons'] !== true,
    precision: x.precision as 'float64' | 'float32' | undefined,
  };
  const idx = numbers(x.plane, '--plane', 3);
  if (idx) {
    if (!a.inputs) throw new UserError('--plane a,b,c picks three samples of --inputs X.npy; give --inputs too');
    if (idx.some((i) => !Number.isSafeInteger(i) || i < 0)) throw new UserError(`--plane needs three sample indices (integers >= 0), not '${String(x.plane)}'`);
    const summary = await pool.summary(modelRef(a));
    const shape = a.inputShape ?? sampleShapeOf(summary);
    const samples = loadSamples({ kind: 'file', path: a.inputs }, shape);
    const size = elementCount(shape);
    const bad = idx.filter((i) => i >= samples.n);
    if (bad.length) throw new UserError(`--plane index ${bad.join(', ')} is out of range: ${samples.n} samples in ${a.inputs}`);
    const [ia, ib, ic] = idx as [number, number, number];
    req.plane = {
      indices: idx,
      a: samples.data.slice(ia * size, (ia + 1) * size),
      b: samples.data.slice(ib * size, (ib + 1) * size),
      c: samples.data.slice(ic * size, (ic + 1) * size),
    };
  } else if (a.inputs) {
    throw new UserError('--inputs is used with --plane a,b,c (three sample indices spanning the plane)');
  }
  return req;
}

export async function runSlice(a: CliArgs): Promise<void> {
  const pool = new EnginePool({ workers: 1 });
  try {
    const req = await sliceRequest(a, pool);
    // Progress on stderr, a line per stage: the exact partition (pre-activations cut), then the grid points (an
    // ImageNet CNN's 200 x 200 grid is minutes of forward passes).
    const progress = new Progress('slice', !a.quiet && process.stderr.isTTY === true);
    const r = await pool.submit((api, progressTask) => api.slice(modelRef(a), { ops: a.ops, layers: a.layers }, { ...req, progressTask }), undefined, {
      onProgress: (d, t, s) => progress.update(d, t, s),
    });
    progress.end();
    process.stdout.write(a.json ? JSON.stringify(r) + '\n' : formatSlice(r));
  } finally {
    await pool.dispose();
  }
}

export function formatSlice(r: SliceResult): string {
  const g = r.grid;
  const [lo, hi] = r.window;
  let out = `${r.model}: 2D slice over [${lo}, ${hi}]^2 (${r.plane.note}${r.plane.indices.length ? `, samples ${r.plane.indices.join(', ')}` : ''})\n`;
  out += `grid ${g.resolution} x ${g.resolution}: ${g.distinct_codes} ${termName('regions-hit', g.distinct_codes)}; predicted classes ${[...new Set(g.pred_row_major)].sort((x, y) => x - y).join(', ')}\n`;
  if (r.exact) {
    const e = r.exact;
    out += `\nexact (${e.precision}${e.precision_note ? `: ${e.precision_note}` : ''}, ${e.ms.toFixed(0)} ms):\n`;
    out += table(
      ['regions', 'total area (plane units^2)', 'min area', 'mean area', 'vertices/region', 'decision boundary segments'],
      [[e.regions, Number(e.total_area.toPrecision(12)), Number(e.min_region_area.toPrecision(3)), Number(e.mean_region_area.toPrecision(3)), Number(e.mean_vertices_per_region.toFixed(2)), e.decision_boundary.length]],
    );
    out += `regions after each layer: ${Object.entries(e.regions_after_layer).map(([k, n]) => `${k} ${n}`).join(', ')}\n`;
  }
  return out;
}
