/**
 * The density study (src/core/analyses/density-study) over the engine pool, shared by the CLI and the extension:
 * the host draws the seeded pairs (from labels, or from the model's predictions computed in the pool), the workers
 * measure the pairs' paths in chunks (EngineApi.densityStudy), and the host computes the statistics. Same result as
 * densityStudy() in one process; progress after each chunk, and Cancel stops between chunks, as for codes.
 */
import { drawStudyPairs, studyResult } from '../core/analyses/density-stats';
import type { DensityStudyResult } from '../shared/results';
import type { LayerSelection, ModelRef, StudyPairDensity } from '../shared/worker-protocol';
import { chunkSize } from './jobs';
import type { EnginePool, RunOptions, Task } from './pool';

export interface DensityStudyRequest {
  model: ModelRef;
  selection: LayerSelection;
  /** n x sampleSize inputs. */
  data: Float32Array;
  n: number;
  sampleSize: number;
  /** Class of each input (a labels file); without it, the model's predicted classes. */
  labels?: ArrayLike<number>;
  pairs: number;
  steps: number;
  window: number;
  permutations: number;
  seed: number;
  /** Pairs per worker task (default: about two tasks per worker and group, at most 8 pairs). */
  chunk?: number;
}

/** Predicted class (argmax of the first output) of each input, through the pool's codes job. */
async function predictions(pool: EnginePool, req: DensityStudyRequest, codeBytes: number, opts: RunOptions): Promise<Int32Array> {
  const chunk = chunkSize(req.sampleSize, codeBytes, req.n, pool.size);
  const preds = new Int32Array(req.n);
  let at = 0;
  for await (const b of pool.codes(req.model, req.selection, req.data, req.n, req.sampleSize, chunk, { signal: opts.signal })) {
    preds.set(b.preds, at);
    at += b.n;
  }
  return preds;
}

interface Chunk {
  aligned: boolean;
  pairs: [number, number][];
}

export async function runDensityStudy(pool: EnginePool, req: DensityStudyRequest, opts: RunOptions = {}): Promise<DensityStudyResult> {
  const summary = await pool.summary(req.model, req.selection, opts.signal);
  const classes = req.labels ?? (await predictions(pool, req, Math.ceil(summary.total_units / 8), opts));
  const pairs = drawStudyPairs(classes, req.n, req.pairs, req.seed);
  const per = req.chunk ?? Math.max(1, Math.min(8, Math.ceil(Math.max(pairs.different.length, pairs.same.length) / (2 * pool.size))));
  const chunks: Chunk[] = [];
  for (const [list, aligned] of [[pairs.different, true], [pairs.same, false]] as const) {
    for (let s = 0; s < list.length; s += per) chunks.push({ aligned, pairs: list.slice(s, s + per) });
  }
  const total = pairs.different.length + pairs.same.length;
  const measured = await measureChunks(pool, req, chunks, total, opts);
  const different = measured.slice(0, pairs.different.length);
  const same = measured.slice(pairs.different.length);
  return studyResult(summary.model, pairs, different, same, { ...req, classSource: req.labels ? 'labels' : 'predicted' });
}

/** Runs the chunks over the pool (EnginePool.ordered) and returns the pairs' densities in chunk order. */
async function measureChunks(pool: EnginePool, req: DensityStudyRequest, chunks: Chunk[], total: number, opts: RunOptions): Promise<(StudyPairDensity | null)[]> {
  const task = (c: Chunk): Task<(StudyPairDensity | null)[]> => {
    // Only the rows the chunk's pairs use cross to the worker.
    const index = new Map<number, number>();
    for (const [i, j] of c.pairs) for (const k of [i, j]) if (!index.has(k)) index.set(k, index.size);
    const rows = new Float32Array(index.size * req.sampleSize);
    for (const [k, r] of index) rows.set(req.data.subarray(k * req.sampleSize, (k + 1) * req.sampleSize), r * req.sampleSize);
    const local = Int32Array.from(c.pairs.flatMap(([i, j]) => [index.get(i)!, index.get(j)!]));
    return (api) => api.densityStudy(req.model, req.selection, { rows, pairs: local, aligned: c.aligned, steps: req.steps, window: req.window });
  };
  const out: (StudyPairDensity | null)[] = [];
  for await (const measured of pool.ordered(chunks.length, (i) => task(chunks[i]!), opts.signal)) {
    out.push(...measured);
    opts.onProgress?.(out.length, total);
  }
  return out;
}
