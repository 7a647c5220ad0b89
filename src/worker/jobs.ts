/**
 * Jobs over the engine pool that the CLI and the extension share: load inputs, stream chunks through the
 * workers, merge statistics in input order, and optionally write packed codes to a file as they arrive.
 */
import { basename } from 'node:path';
import { toHex } from '../core/bits';
import { FORMAT_NOTES, openCodesWriter, type CodesWriter, type OutFormat } from '../core/codes-file';
import { loadInputs, makeProbes, npyRowsSource, ProbeStream, type ProbeKind } from '../core/inputs';
import { StatsAccumulator } from '../core/stats';
import type { CodeSample, CodesResult, ModelSummary } from '../shared/results';
import type { LayerSelection, ModelRef } from '../shared/worker-protocol';
import type { EnginePool, RunOptions, Samples } from './pool';

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
}

export interface LoadedSamples {
  n: number;
  data: Float32Array;
  note: string;
}

/**
 * Inputs of a codes job: a float32 .npy is read by the workers (after a scan for NaN/Inf here), other files are
 * read whole, probes are drawn chunk by chunk as the pool asks for them.
 */
export async function sampleSource(source: InputSource, sampleShape: number[], limit?: number): Promise<{ n: number; note: string; samples: Samples }> {
  if (source.kind === 'file') {
    const file = await npyRowsSource(source.path, sampleShape);
    if (file) {
      const n = limit !== undefined ? Math.min(limit, file.n) : file.n;
      return { n, note: file.note + (n < file.n ? `; first ${n} used` : ''), samples: { rows: file.rows } };
    }
    const s = loadSamples(source, sampleShape, limit);
    return { n: s.n, note: s.note, samples: s.data };
  }
  const n = limit !== undefined ? Math.min(limit, source.n) : source.n;
  const stream = new ProbeStream(probeKind(source, sampleShape), sampleShape, source.seed);
  return { n, note: probeNote(source) + (n < source.n ? `; first ${n} used` : ''), samples: { take: (_start, m) => stream.next(m) } };
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
    const size = sampleShape.reduce((a, b) => a * b, 1);
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
 */
export function chunkSize(sampleSize: number, codeBytes: number, n: number, workers: number): number {
  const bySize = Math.floor(1e6 / (4 * sampleSize + codeBytes));
  const bySpread = Math.ceil(n / (2 * workers));
  return Math.max(1, Math.min(bySize, bySpread));
}

export function sampleShapeOf(summary: ModelSummary): number[] {
  return summary.inputs[0]!.shape.slice(1).map(Number);
}

export async function runCodes(pool: EnginePool, req: CodesRequest, opts: RunOptions = {}): Promise<CodesResult> {
  const summary = await pool.summary(req.model, req.selection, opts.signal);
  const sampleShape = req.model.inputShape ?? sampleShapeOf(summary);
  const samples = await sampleSource(req.inputs, sampleShape, req.limit);
  const size = sampleShape.reduce((a, b) => a * b, 1);
  const codeBytes = Math.ceil(summary.total_units / 8);
  const L = summary.layers.length;
  const stats = new StatsAccumulator(summary.layers, codeBytes, samples.n);
  const chunk = req.chunk ?? chunkSize(size, codeBytes, samples.n, pool.size);
  const format = req.outFormat ?? 'raw';
  const writer: CodesWriter | undefined = req.out
    ? openCodesWriter(req.out, format, { model: summary.model, layers: summary.layers, units: summary.total_units })
    : undefined;
  const rows: CodeSample[] = [];
  try {
    let index = 0;
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
    }
  } catch (e) {
    await writer?.abort();
    throw e;
  }
  await writer?.close();
  const layerStats = stats.result();
  if (req.nearTies !== undefined) {
    // A second pass over the same inputs (a new source: generated probes are drawn again from the seed). Near-ties
    // need the float pre-activations, which the code model does not return (they are 32 times the size of the bits).
    const again = await sampleSource(req.inputs, sampleShape, req.limit);
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
    ...(req.out ? { out: { path: req.out, format: FORMAT_NOTES[format], rows: samples.n, row_bytes: codeBytes } } : {}),
    ...(!req.out && req.samples !== false ? { samples: rows } : {}),
    ...(req.nearTies !== undefined ? { near_tie_tolerance: req.nearTies } : {}),
  };
}
