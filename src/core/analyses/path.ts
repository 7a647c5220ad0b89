/**
 * Boundary density along a straight path between two inputs (DESIGN.md §3 "Paths", §4 `path`).
 *
 *   computePath(lens, layers, a, b, { steps, exact?, precision?, threads? }) -> PathResult
 *   pathEndpoints(data, n, sampleSize, from, to) -> { a, b }  (UserError naming the valid range)
 *   pathPoints(a, b, steps) -> Float32Array ((steps + 1) x size): x_k = a + (k/N)(b - a) in float64, cast to float32
 *
 * With `layer`, the path runs in that layer's activation space: the endpoints' values of the tensors crossing the
 * cut after the layer (./cut) are interpolated linearly and the rest of the network runs from them, so the codes,
 * densities and exact crossings are those of the layers after the cut. `density_input` is then per unit length of
 * all fed tensors, `density_in_layer` per unit length of the layer's own activation (equal without skips).
 *
 * Codes come from the CodeExtractor (bit-exact with `codes`); densities divide each step's Hamming distance in a
 * layer by the L2 distance between that layer's pre-activations at the two points (PreactRunner), so a layer's
 * density is "boundaries crossed per unit of distance travelled in its own activation space".
 */
import { hashBytes, popcountRange } from '../bits';
import { UserError } from '../errors';
import { CodeExtractor } from '../extract';
import { checkSampleIndex } from '../inputs/npy';
import type { Lens, LensLayer } from '../lens';
import { layerInfos } from '../lens';
import type { PathResult } from '../../shared/results';
import { cutAt, cutValues } from './cut';
import { exactCrossings } from './exact1d';
import { PreactRunner, type Precision } from './preacts';

export interface PathOptions {
  steps: number;
  exact?: boolean;
  /** Precision of the exact computation (default float64, falling back to float32). */
  precision?: Precision;
  threads?: number;
  onProgress?: (done: number, total: number) => void;
  /** Key of the layer in whose activation space the path is interpolated (default: input space). */
  layer?: string;
}

/** Rows `from` and `to` of n samples, as float64 endpoints. */
export function pathEndpoints(data: Float32Array, n: number, size: number, from: number, to: number): { a: Float64Array; b: Float64Array } {
  checkSampleIndex('--from', from, n);
  checkSampleIndex('--to', to, n);
  return { a: Float64Array.from(data.subarray(from * size, (from + 1) * size)), b: Float64Array.from(data.subarray(to * size, (to + 1) * size)) };
}

/** The N+1 points of the path, computed in float64 and cast to float32. */
export function pathPoints(a: ArrayLike<number>, b: ArrayLike<number>, steps: number, first = 0, count = steps + 1): Float32Array {
  const size = a.length;
  const out = new Float32Array(count * size);
  for (let j = 0; j < count; j++) {
    const t = (first + j) / steps;
    for (let i = 0; i < size; i++) out[j * size + i] = a[i]! + t * (b[i]! - a[i]!);
  }
  return out;
}

export async function computePath(lens: Lens, layers: LensLayer[], a: Float64Array, b: Float64Array, opts: PathOptions): Promise<PathResult> {
  const N = opts.steps;
  if (!Number.isInteger(N) || N < 1) throw new UserError(`--steps must be an integer of at least 1, not '${N}'`);
  if (opts.layer !== undefined) return pathInLayer(lens, layers, a, b, opts.layer, opts);
  // The exact crossings first: on a model too large for them their refusal comes before the sampled steps' work,
  // which it would otherwise throw away (resnet18: 41 s).
  const exact = opts.exact ? await exactCrossings(lens, layers, a, b, { precision: opts.precision ?? 'float64', threads: opts.threads }) : undefined;
  const size = lens.sampleSize;
  const L = layers.length;
  const ex = await CodeExtractor.create(lens, layers, opts.threads);
  const runner = await PreactRunner.create(lens, layers, { precision: 'float32', threads: opts.threads });
  const perStep = new Array<number>(N).fill(0);
  const perLayerStep = layers.map(() => new Array<number>(N).fill(0));
  const density = layers.map(() => new Array<number | null>(N).fill(null));
  const inputDensity = new Array<number | null>(N).fill(null);
  const preds: number[] = [];
  const seen = new Set<number>();
  const cb = ex.codeBytes;
  const xor = new Uint8Array(cb);
  // Carried over from the previous chunk: the last point's code, pre-activations and input.
  let prevCode: Uint8Array | undefined;
  let prevPre: Float64Array[] | undefined;
  let prevX: Float32Array | undefined;
  const chunk = Math.max(2, Math.min(N + 1, Math.floor(4e6 / Math.max(1, size + runner.sizes.reduce((s, x) => s + x, 0)))));
  try {
    for (let first = 0; first <= N; first += chunk) {
      const count = Math.min(chunk, N + 1 - first);
      const xs = pathPoints(a, b, N, first, count);
      const codes = await ex.run(xs, count);
      const pre = await runner.run(xs, count);
      for (let j = 0; j < count; j++) {
        const k = first + j;
        preds.push(codes.preds[j]!);
        seen.add(hashBytes(codes.codes, j * cb, cb));
        const code = codes.codes.subarray(j * cb, (j + 1) * cb);
        const curPre = pre.preacts.map((p, l) => p.subarray(j * runner.sizes[l]!, (j + 1) * runner.sizes[l]!));
        const x = xs.subarray(j * size, (j + 1) * size);
        if (prevCode && prevPre && prevX) {
          const s = k - 1;
          for (let i = 0; i < cb; i++) xor[i] = prevCode[i]! ^ code[i]!;
          let total = 0;
          for (let l = 0; l < L; l++) {
            const h = popcountRange(xor, 0, ex.offsets[l]!, layers[l]!.units);
            perLayerStep[l]![s] = h;
            total += h;
            const dist = l2(prevPre[l]!, curPre[l]!);
            density[l]![s] = dist > 0 ? h / dist : h === 0 ? 0 : null;
          }
          perStep[s] = total;
          const dx = l2(prevX, x);
          inputDensity[s] = dx > 0 ? total / dx : total === 0 ? 0 : null;
        }
        prevCode = code.slice();
        prevPre = curPre.map((p) => p.slice());
        prevX = x.slice();
      }
      opts.onProgress?.(first + count, N + 1);
    }
  } finally {
    await ex.dispose();
    await runner.dispose();
  }
  const classChanges: number[] = [];
  for (let k = 0; k < N; k++) if (preds[k] !== preds[k + 1]) classChanges.push(k);
  const result: PathResult = {
    model: lens.model.name,
    layers: layerInfos(layers),
    steps: N,
    per_step: perStep,
    total: perStep.reduce((s, x) => s + x, 0),
    per_layer_total: Object.fromEntries(layers.map((l, i) => [l.plan.key, perLayerStep[i]!.reduce((s, x) => s + x, 0)])),
    per_layer_per_step: Object.fromEntries(layers.map((l, i) => [l.plan.key, perLayerStep[i]!])),
    density: Object.fromEntries(layers.map((l, i) => [l.plan.key, density[i]!])),
    density_input: inputDensity,
    distinct_codes_on_path: seen.size,
    preds,
    class_changes_at_step: classChanges,
  };
  if (exact) result.exact = exact;
  return result;
}

/** The path interpolated in the activation space of layer `key`: the rest of the network run from the cut. */
async function pathInLayer(lens: Lens, layers: LensLayer[], a: Float64Array, b: Float64Array, key: string, opts: PathOptions): Promise<PathResult> {
  const cut = await cutAt(lens, key, opts.threads);
  const chosen = new Set(layers.map((l) => l.plan.key));
  const later = cut.rest.layers.filter((l) => chosen.has(l.plan.key));
  if (!later.length) {
    const after = cut.rest.layers.map((l) => `'${l.plan.key}'`).join(', ');
    throw new UserError(after ? `No selected layer comes after '${key}'; the layers after it are ${after}.` : `'${key}' is the last layer: no layer after it has codes to follow along the path.`);
  }
  const ends = new Float32Array(2 * lens.sampleSize);
  ends.set(a);
  ends.set(b, lens.sampleSize);
  const v = await cutValues(lens, cut, ends, 2, opts.threads);
  const ca = Float64Array.from(v.subarray(0, cut.size));
  const cb = Float64Array.from(v.subarray(cut.size));
  const r = await computePath(cut.rest, later, ca, cb, { ...opts, layer: undefined });
  const own = cut.tensors[0]!;
  const step = l2(ca.subarray(own.offset, own.offset + own.size), cb.subarray(own.offset, own.offset + own.size)) / r.steps;
  r.model = lens.model.name;
  r.interpolated_in = key;
  r.cut_tensors = cut.tensors.map((t) => ({ name: t.name, elements: t.size }));
  r.density_in_layer = r.per_step.map((h) => (step > 0 ? h / step : h === 0 ? 0 : null));
  const skips = cut.tensors.slice(1).map((t) => `'${t.name}'`);
  r.note =
    `interpolated linearly in the activation space of '${key}' (its output '${own.name}', ${own.size} values) and the rest of the network run from there; codes are those of the layers after it` +
    (skips.length ? `; ${skips.length} more tensor${skips.length === 1 ? '' : 's'} computed before the layer and read after it (skip connections or the input) ${skips.length === 1 ? 'is' : 'are'} interpolated linearly between the endpoints' values too: ${skips.join(', ')}` : '') +
    `; density_in_layer is per unit length of '${own.name}'${skips.length ? ', density_input per unit length of all fed tensors' : ''}`;
  return r;
}

function l2(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const d = p[i]! - q[i]!;
    s += d * d;
  }
  return Math.sqrt(s);
}
