/**
 * Jobs over the engine pool that the CLI and the extension share: load inputs, stream chunks through the
 * workers, merge statistics in input order, and optionally write packed codes to a file as they arrive.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { toHex } from '../core/bits';
import { FORMAT_NOTES, openCodesWriter, type CodesWriter, type OutFormat } from '../core/codes-file';
import { UserError } from '../core/errors';
import { loadInputs, makeProbes, MAX_PROBES, npyRowsSource, ProbeStream, type ProbeKind } from '../core/inputs';
import { shardRange, type Shard } from '../core/shard';
import { StatsAccumulator } from '../core/stats';
import { TOOL_VERSION } from '../core/version';
import type { CodeSample, CodesResult, ModelSummary } from '../shared/results';
import type { LayerSelection, ModelRef } from '../shared/worker-protocol';
import type { EnginePool, RunOptions, Samples } from './pool';
import { GarbageBudget } from '../core/collect';
import { elementCount } from '../shared/shape';

export type InputSource =
  | { kind: 'file'; path: string }
  | { kind: 'probes'; probes: 'gaussian' | 'uniform'; n: number; seed: number; lo?: number; hi?: number }
  /** Probes uniformly in the L2 ball of `radius` around the samples of a data file (cycled). */
  | { kind: 'probes'; probes: 'around'; n: number; seed: number; base: string; radius: number };

type ProbeSource = Extract<InputSource, { kind: 'probes' }>;

export interface CodesRequest {
  model: ModelRef;
  selection: LayerSelection;
  inputs: InputSource;
  limit?: number;
  /** Write packed codes here instead of returning samples. */
  out?: string;
  /** Format of `out` (src/core/codes-file.ts): raw rows (default), PLCODES1, or an Apache Arrow IPC file. */
  outFormat?: OutFormat;
  /** Return per-sample rows (default true); the extension's views need only the statistics. */
  samples?: boolean;
  chunk?: number;
  /** Also find the near-ties (src/core/near-ties) with this relative tolerance. */
  nearTies?: number;
  /** Rows per parquet row group (default: about 32 MB of rows); for tests and tuning. */
  parquetRowGroupRows?: number;
  /** Only shard k of n of the inputs (after `limit`): a contiguous range of rows that keep their global indices. */
  shard?: Shard;
}

export interface LoadedSamples {
  n: number;
  data: Float32Array;
  note: string;
}

/**
 * Inputs of a codes job: a float32 .npy is read by the workers (after a scan for NaN/Inf here), other files are
 * read whole, probes are drawn chunk by chunk as the pool asks for them (probe i depends only on the seed and i).
 * With a shard, only its rows: `n` of them, the first at global index `first` of the `total` rows of the whole run.
 */
export async function sampleSource(
  source: InputSource,
  sampleShape: number[],
  limit?: number,
  shard?: Shard,
): Promise<{ n: number; first: number; total: number; note: string; samples: Samples }> {
  const cut = (total: number, note: string) => {
    const { start, end } = shardRange(total, shard);
    const rows = end > start ? `rows ${start}..${end - 1} of ${total}` : `no rows (${total} rows, fewer than ${shard?.n} shards)`;
    return { n: end - start, first: start, total, note: note + (shard ? `; shard ${shard.k}/${shard.n}: ${rows}` : '') };
  };
  if (source.kind === 'file') {
    const file = await npyRowsSource(source.path, sampleShape);
    if (file) {
      const total = limit !== undefined ? Math.min(limit, file.n) : file.n;
      const c = cut(total, file.note + (total < file.n ? `; first ${total} used` : ''));
      return { ...c, samples: { rows: file.rows, first: c.first } };
    }
    const s = loadSamples(source, sampleShape, limit);
    const c = cut(s.n, s.note);
    const size = elementCount(sampleShape);
    return { ...c, samples: c.n === s.n ? s.data : s.data.subarray(c.first * size, (c.first + c.n) * size) };
  }
  const total = limit !== undefined ? Math.min(limit, source.n) : source.n;
  if (total > MAX_PROBES) throw new UserError(`at most 2^30 (${MAX_PROBES}) probes per seed, not ${total}; split the study over several seeds`);
  const stream = new ProbeStream(probeKind(source, sampleShape), sampleShape, source.seed);
  const c = cut(total, probeNote(source) + (total < source.n ? `; first ${total} used` : ''));
  return { ...c, samples: { take: (start, m) => stream.at(c.first + start, m) } };
}

/** sha256 of a file (hex), read in 1 MB blocks. */
export function sha256File(path: string): string {
  const hash = createHash('sha256');
  const buf = Buffer.alloc(1 << 20);
  const fd = openSync(path, 'r');
  try {
    for (let got; (got = readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, got));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** How the inputs of a codes file were made, for its metadata (parquet's polytope_lens.recipe). */
function recipeOf(req: CodesRequest, samples: { n: number; first: number; total: number; note: string }): object {
  const s = req.inputs;
  const inputs =
    s.kind === 'file'
      ? { file: basename(s.path) }
      : s.probes === 'around'
        ? { probes: 'around', n: s.n, seed: s.seed, radius: s.radius, base: basename(s.base) }
        : { probes: s.probes, n: s.n, seed: s.seed, ...(s.probes === 'uniform' ? { lo: s.lo ?? 0, hi: s.hi ?? 1 } : {}) };
  return {
    inputs,
    ...(req.limit !== undefined ? { limit: req.limit } : {}),
    ...(req.shard ? { shard: { k: req.shard.k, n: req.shard.n, first: samples.first, rows: samples.n, total: samples.total } } : {}),
    ...(req.selection.ops ? { ops: req.selection.ops } : {}),
    ...(req.selection.layers ? { layers: req.selection.layers } : {}),
    note: samples.note,
  };
}

function probeKind(source: ProbeSource, sampleShape: number[]): ProbeKind {
  switch (source.probes) {
    case 'gaussian':
      return { type: 'gaussian' };
    case 'uniform':
      return { type: 'uniform', lo: source.lo ?? 0, hi: source.hi ?? 1 };
    case 'around':
      return { type: 'around', base: loadInputs(source.base, sampleShape).data, radius: source.radius };
  }
}

function probeNote(source: ProbeSource): string {
  const what =
    source.probes === 'uniform'
      ? ` in [${source.lo ?? 0}, ${source.hi ?? 1})`
      : source.probes === 'around'
        ? `, uniform in the L2 ball of radius ${source.radius} around the samples of ${basename(source.base)}`
        : ', mean 0, std 1';
  return `${source.n} ${source.probes} probes, seed ${source.seed}${what}`;
}

export function loadSamples(source: InputSource, sampleShape: number[], limit?: number): LoadedSamples {
  let n: number;
  let data: Float32Array;
  let note: string;
  if (source.kind === 'file') {
    ({ n, data, note } = loadInputs(source.path, sampleShape));
  } else {
    n = source.n;
    data = makeProbes(probeKind(source, sampleShape), n, sampleShape, source.seed);
    note = probeNote(source);
  }
  if (limit !== undefined && limit < n) {
    const size = elementCount(sampleShape);
    data = data.subarray(0, limit * size);
    note += `; first ${limit} used`;
    n = limit;
  }
  return { n, data, note };
}

/**
 * Samples per worker task: about 1 MB of input and codes, and at least two tasks per worker when possible. Each
 * task's input and result are copied through the worker's IPC channel (about 8 µs per mnist-8 sample, against
 * about 280 µs of work), and a worker's RSS grows with the task size: 512 mnist-8 samples (2.8 MB) per task took
 * a worker to about 230 MB, 128 samples to about 180 MB, at the same samples/s. No fixed cap on the count: for a
 * tiny model a task of 512 samples is about 0.2 ms of work, less than its round trip.
 *
 * A sample of more than 0.5 MB (a 224x224 image) would run alone, which reads a model's weights once per sample:
 * such samples go as many to a task as fit in ACTIVATION_BUDGET with their pre-activations (4 bytes a unit, which
 * the code model holds until they are packed: 32 bytes per code byte, plus the code). 256 inputs on 2 cores, one
 * sample a task against 9: alexnet 37.4 -> 49.5/s, shufflenet_v2_x0_5 74.3 -> 92.5/s (the budget gives them 10
 * and 9); squeezenet1_1 and resnet18 the same at 2 or 3 (their budget's); densenet121 stays at 1 (4 a task took
 * its peak RSS from 440 to 818 MB).
 */
export function chunkSize(sampleSize: number, codeBytes: number, n: number, workers: number): number {
  const bySize = Math.floor(1e6 / (4 * sampleSize + codeBytes));
  const byActivations = Math.floor(ACTIVATION_BUDGET / (4 * sampleSize + 33 * codeBytes));
  const bySpread = Math.ceil(n / (2 * workers));
  return Math.max(1, Math.min(bySize >= 2 ? bySize : byActivations, bySpread));
}

const ACTIVATION_BUDGET = 64e6;

export function sampleShapeOf(summary: ModelSummary): number[] {
  return summary.inputs[0]!.shape.slice(1).map(Number);
}

export interface CodesRunOptions extends RunOptions {
  /** Called once the workers have nothing more to do for this job (the last batch is in and no near-tie pass
   *  follows), before the final statistics: a caller that owns the pool (the CLI) ends them there. */
  workersDone?: () => Promise<void>;
}

export async function runCodes(pool: EnginePool, req: CodesRequest, opts: CodesRunOptions = {}): Promise<CodesResult> {
  const summary = await pool.summary(req.model, req.selection, opts.signal);
  const sampleShape = req.model.inputShape ?? sampleShapeOf(summary);
  const samples = await sampleSource(req.inputs, sampleShape, req.limit, req.shard);
  const size = elementCount(sampleShape);
  const codeBytes = Math.ceil(summary.total_units / 8);
  const L = summary.layers.length;
  const stats = new StatsAccumulator(summary.layers, codeBytes, samples.n);
  const chunk = req.chunk ?? chunkSize(size, codeBytes, samples.n, pool.size);
  const format = req.outFormat ?? 'raw';
  const writer: CodesWriter | undefined = req.out
    ? openCodesWriter(req.out, format, {
        model: summary.model,
        layers: summary.layers,
        units: summary.total_units,
        firstIndex: samples.first,
        rowGroupRows: req.parquetRowGroupRows,
        ...(format === 'parquet' ? { modelSha256: sha256File(req.model.path), toolVersion: TOOL_VERSION, recipe: recipeOf(req, samples) } : {}),
      })
    : undefined;
  const rows: CodeSample[] = [];
  // Codes of 1 MiB or more per sample come from a model that takes tens of milliseconds per sample in its worker,
  // while this process waits: it can collect every two samples' codes (DenseNet-121, 256 inputs: host 150 -> 116 MB
  // while the codes come, same speed). Smaller codes keep the budget that suits a fast stream.
  const garbage = new GarbageBudget(codeBytes >= 2 ** 20 ? 2 * codeBytes : undefined);
  try {
    let index = samples.first;
    for await (const b of pool.codes(req.model, req.selection, samples.samples, samples.n, size, chunk, opts)) {
      stats.add(b);
      if (writer) writer.write(b);
      else if (req.samples !== false) {
        for (let i = 0; i < b.n; i++) {
          rows.push({
            index: index + i,
            pred: b.preds[i]!,
            active_per_layer: Array.from(b.active.subarray(i * L, (i + 1) * L)),
            code_hex: toHex(b.codes, i * codeBytes, codeBytes),
          });
        }
      }
      index += b.n;
      // The batch's arrays are garbage once counted and written (src/core/collect.ts).
      garbage.add(b.codes.byteLength);
    }
  } catch (e) {
    await writer?.abort();
    throw e;
  }
  // The workers' memory is returned before the statistics' last arrays are made, so the two do not add up at the
  // end of the job (DenseNet-121, 256 inputs: the host grows by ~40 MB there while its worker holds ~300 MB).
  if (req.nearTies === undefined) await opts.workersDone?.();
  await writer?.close();
  const layerStats = stats.result();
  if (req.nearTies !== undefined) {
    // A second pass over the same inputs. Near-ties need the float pre-activations, which the code model does not
    // return (they are 32 times the size of the bits). File rows and arrays are read again as they are (the file
    // was checked once); generated probes are a stream, so a new one draws them again from the seed.
    const again = 'take' in samples.samples ? await sampleSource(req.inputs, sampleShape, req.limit, req.shard) : samples;
    const keys = summary.layers.map((l) => l.key);
    const near = new Array<number>(L).fill(0);
    const exact = new Array<number>(L).fill(0);
    const byKey = (lists: number[][]) => Object.fromEntries(lists.flatMap((ties, l) => (ties.length ? [[keys[l]!, ties]] : [])));
    let index = 0;
    for await (const part of pool.nearTies(req.model, req.selection, again.samples, again.n, size, chunk, req.nearTies, { signal: opts.signal })) {
      for (const sample of part) {
        sample.near.forEach((ties, l) => (near[l]! += ties.length));
        sample.exact.forEach((ties, l) => (exact[l]! += ties.length));
        const row = rows[index++];
        if (row) Object.assign(row, { near_ties: byKey(sample.near), exact_ties: byKey(sample.exact) });
      }
    }
    layerStats.forEach((s, l) => Object.assign(s, { near_ties: near[l], exact_ties: exact[l] }));
  }
  return {
    model: summary.model,
    layers: summary.layers,
    n: samples.n,
    code_bytes: codeBytes,
    distinct_codes: stats.distinctCodes,
    distinct_per_layer: Object.fromEntries(layerStats.map((s) => [s.key, s.distinct_codes])),
    stats: layerStats,
    inputs_note: samples.note,
    ...(req.shard ? { shard: { k: req.shard.k, n: req.shard.n, first: samples.first, total: samples.total } } : {}),
    ...(req.out ? { out: { path: req.out, format: FORMAT_NOTES[format], rows: samples.n, row_bytes: codeBytes } } : {}),
    ...(!req.out && req.samples !== false ? { samples: rows } : {}),
    ...(req.nearTies !== undefined ? { near_tie_tolerance: req.nearTies } : {}),
  };
}
