/**
 * Benchmark: the exact 2D partition of mlp2d.onnx (2 -> 32 -> 32 -> 2 ReLU) on [-100, 100]^2, a window with about
 * 2,000 regions (1,962: the count saturates near the 529-region first-layer arrangement refined by layer 2).
 * Times the whole call (float64 session included) and the partition alone with the session reused, median of 7
 * runs after a warm-up. Also the exact 1-D crossings of mnist-8 on the segment between two digits (a 0 and a 1 of
 * test/fixtures/mnist8.inputs.npy), whole call, median of 5 after a warm-up (target: under 1 s). Prints a table and
 * writes bench/regions-results.json with the machine's load average (timings on a shared machine are noisy).
 *
 *   node esbuild.mjs && node out/bench/regions.js
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { Lens } from '../src/core/lens';
import { exactRegions2d } from '../src/core/analyses/exact2d';
import { PreactRunner } from '../src/core/analyses/preacts';
import { sliceGrid } from '../src/core/analyses/slice';
import { exactCrossings } from '../src/core/analyses/exact1d';
import { pathEndpoints } from '../src/core/analyses/path';
import { readNpy, toModelInput } from '../src/core/inputs';

const ROOT = resolve(__dirname, '../..');
const MODEL = join(ROOT, 'test/fixtures/mlp2d.onnx');
const WINDOW: [number, number] = [-100, 100];
const RUNS = 7;
const MNIST = join(ROOT, 'test/fixtures/mnist-8.onnx');
const MNIST_INPUTS = join(ROOT, 'test/fixtures/mnist8.inputs.npy');
/** Rows of mnist8.inputs.npy: a 0 and a 1 (two of each class, in order). */
const DIGITS: [number, number] = [0, 2];
const RUNS_1D = 5;

/** Exact 1-D crossings of mnist-8 between two digits: the whole call (session included), median of RUNS_1D. */
async function mnistSegment() {
  const lens = await Lens.open(MNIST);
  const { n, data } = toModelInput(readNpy(MNIST_INPUTS), lens.sampleShape, MNIST_INPUTS);
  const { a, b } = pathEndpoints(data, n, lens.sampleSize, DIGITS[0], DIGITS[1]);
  await exactCrossings(lens, lens.layers, a, b); // warm-up
  const ms: number[] = [];
  let last;
  for (let r = 0; r < RUNS_1D; r++) {
    const t = performance.now();
    last = await exactCrossings(lens, lens.layers, a, b);
    ms.push(performance.now() - t);
  }
  const e = last!;
  return {
    model: 'test/fixtures/mnist-8.onnx',
    inputs: 'test/fixtures/mnist8.inputs.npy',
    rows: DIGITS,
    total_flips: e.total_flips,
    linear_pieces: e.linear_pieces,
    forward_points: e.forward_points,
    precision: e.precision,
    max_residual: e.max_residual,
    runs: RUNS_1D,
    median_ms_whole_call: Number(median(ms).toFixed(1)),
    target_ms: 1000,
  };
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const lens = await Lens.open(MODEL);
  const whole: number[] = [];
  const partition: number[] = [];
  const forward: number[] = [];
  let regions = 0;
  let last;
  const runner = await PreactRunner.create(lens, lens.layers, { precision: 'float64' });
  await exactRegions2d(lens, { window: WINDOW, runner }); // warm-up
  for (let r = 0; r < RUNS; r++) {
    let t = performance.now();
    last = await exactRegions2d(lens, { window: WINDOW });
    whole.push(performance.now() - t);
    t = performance.now();
    const e = await exactRegions2d(lens, { window: WINDOW, runner });
    partition.push(performance.now() - t);
    forward.push(e.forward_ms);
    regions = e.regions;
  }
  await runner.dispose();
  const load = loadavg()[0]!;
  const segment = await mnistSegment();
  const grid: Record<string, number> = {};
  for (const R of [100, 400, 1000]) grid[R] = (await sliceGrid(lens, lens.layers, { window: WINDOW, resolution: R })).distinct_codes;
  const result = {
    model: 'test/fixtures/mlp2d.onnx',
    window: WINDOW,
    regions,
    regions_after_layer: last!.regions_after_layer,
    vertices: last!.vertices,
    decision_boundary_segments: last!.decision_boundary.length,
    total_area: last!.total_area,
    precision: last!.precision,
    runs: RUNS,
    median_ms_whole_call: Number(median(whole).toFixed(1)),
    median_ms_partition_session_reused: Number(median(partition).toFixed(1)),
    median_ms_forward_passes: Number(median(forward).toFixed(1)),
    target_ms: 500,
    grid_distinct_codes: grid,
    exact_1d_mnist8: segment,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, load_average_1min: [Number(load.toFixed(2)), Number(loadavg()[0]!.toFixed(2))] },
    date: new Date().toISOString(),
  };
  process.stdout.write(
    `exact 2D partition of mlp2d on [${WINDOW.join(', ')}]^2: ${regions} regions (${result.precision}), ${result.vertices} vertices\n` +
      `  whole call (session included): ${result.median_ms_whole_call} ms median of ${RUNS}\n` +
      `  partition, session reused:     ${result.median_ms_partition_session_reused} ms (forward passes ${result.median_ms_forward_passes} ms)\n` +
      `  target: < ${result.target_ms} ms\n` +
      `  grid distinct codes: ${Object.entries(grid).map(([r, n]) => `R=${r}: ${n}`).join(', ')}\n` +
      `exact 1D crossings of mnist-8 between rows ${DIGITS.join(' and ')}: ${segment.total_flips} flips, ${segment.linear_pieces} pieces, ${segment.forward_points} points (${segment.precision})\n` +
      `  whole call: ${segment.median_ms_whole_call} ms median of ${RUNS_1D} (target: < ${segment.target_ms} ms)\n` +
      `  load average (1 min) before / after: ${result.machine.load_average_1min.join(' / ')} on ${result.machine.cores} cores\n`,
  );
  writeFileSync(join(ROOT, 'bench/regions-results.json'), JSON.stringify(result, null, 2) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e instanceof Error ? e.stack : e) + '\n');
  process.exit(1);
});
