/**
 * Clustering benchmark (issue 4, "Benchmark"): Hamming distance matrix throughput (pairs/s) and clustering time
 * for 10,000 spline codes of mnist-8 (17984 bits). Inputs: the 1797 sklearn digits of examples/digits (8x8,
 * 0..16) upscaled to 28x28 (bilinear), scaled to 0..255, each copy shifted by a seeded random offset of up to
 * 2 pixels and given seeded pixel noise, until there are N = 10,000. Writes bench/cluster-results.json.
 *
 * Also timed, as parts of the `cluster` command: the codes, the last layer's activations, and the Euclidean
 * matrix of the activations (on a 2,000-input subset: its pairs/s; JS float64, about 25x the Hamming kernel's
 * cost per pair). The load average is recorded: on a shared machine the timings say little without it. The
 * Hamming matrix uses worker threads (hammingOptions.threads; lastFill says how many ran).
 *
 *   node out/bench/cluster.js [N]
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { CodeExtractor } from '../src/core/extract';
import { Lens } from '../src/core/lens';
import { readNpy, toFloat32 } from '../src/core/inputs';
import { resizeBilinear } from '../src/core/inputs/images';
import { Rng } from '../src/core/inputs/random';
import { euclideanMatrix, hammingMatrix, hammingOptions, lastFill, varyingBits } from '../src/core/analyses/hamming';
import { activationLayer, activations, resolveParams, runHdbscan, runKmedoids } from '../src/core/analyses/cluster';

const ROOT = resolve(__dirname, '../..');
const N = Number(process.argv[2] ?? 10000);

function digitsAsMnist(n: number, seed: number): { data: Float32Array; labels: Int32Array } {
  const dir = join(ROOT, 'examples/digits');
  const xs = [toFloat32(readNpy(join(dir, 'digits-train-x.npy'))), toFloat32(readNpy(join(dir, 'digits-x.npy')))];
  const ys = [readNpy(join(dir, 'digits-train-y.npy')), readNpy(join(dir, 'digits-y.npy'))].map((a) => Array.from(a.data as ArrayLike<number | bigint>, Number));
  const base: Float32Array[] = [];
  const baseY: number[] = [];
  xs.forEach((x, f) => {
    for (let i = 0; i < x.length / 64; i++) {
      base.push(resizeBilinear(x.subarray(i * 64, (i + 1) * 64), 8, 8, 20, 20)); // 20x20 digit in a 28x28 frame, as MNIST
      baseY.push(ys[f]![i]!);
    }
  });
  const rng = new Rng(seed);
  const data = new Float32Array(n * 784);
  const labels = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const b = s % base.length;
    const img = base[b]!;
    const dy = 4 + rng.int(5) - 2;
    const dx = 4 + rng.int(5) - 2;
    for (let r = 0; r < 20; r++) for (let c = 0; c < 20; c++) data[s * 784 + (r + dy) * 28 + c + dx] = (img[r * 20 + c]! / 16) * 255;
    for (let p = 0; p < 784; p++) data[s * 784 + p] = Math.min(255, Math.max(0, data[s * 784 + p]! + rng.normal(0, 2)));
    labels[s] = baseY[b]!;
  }
  return { data, labels };
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const lens = await Lens.open(join(ROOT, 'test/fixtures/mnist-8.onnx'));
  const { data, labels } = digitsAsMnist(N, 0);
  let t = performance.now();
  const ex = await CodeExtractor.create(lens, lens.layers);
  const batch = await ex.run(data, N);
  await ex.dispose();
  const codesS = (performance.now() - t) / 1000;
  const pairs = (N * (N - 1)) / 2;

  // Throughput of the kernel on the full codes (no constant-bit removal), on a 2,000-code subset for the JS fallback.
  t = performance.now();
  hammingMatrix(batch.codes, N, ex.codeBytes, { dropConstant: false });
  const fullS = (performance.now() - t) / 1000;
  const fullThreads = lastFill.threads;
  const sub = 2000;
  hammingOptions.useWasm = false;
  t = performance.now();
  hammingMatrix(batch.codes, sub, ex.codeBytes, { dropConstant: false });
  const jsS = (performance.now() - t) / 1000;
  hammingOptions.useWasm = true;

  // Clustering as `cluster` does it: constant bits removed, dense matrix, HDBSCAN, k-medoids.
  const p = resolveParams(N, { labels, k: 10, seed: 0 });
  t = performance.now();
  const v = varyingBits(batch.codes, N, ex.codeBytes);
  const D = hammingMatrix(v.codes, N, v.codeBytes, { dropConstant: false });
  const matrixS = (performance.now() - t) / 1000;
  const matrixFill = { ...lastFill };
  const hd = runHdbscan(D, 'codes', p, labels);
  const km = runKmedoids(D, 'codes', p, labels);
  const clusterS = matrixS + hd.seconds + km.seconds;

  // The activation side of `cluster`: the last layer's activations for all N, the Euclidean matrix on a subset.
  const actLayer = activationLayer(lens, undefined, lens.layers);
  t = performance.now();
  const act = await activations(lens, actLayer, data, N);
  const actS = (performance.now() - t) / 1000;
  const eSub = Math.min(N, 2000);
  t = performance.now();
  euclideanMatrix(act.x.subarray(0, eSub * act.size), eSub, act.size);
  const euclidS = (performance.now() - t) / 1000;
  const euclidPairsPerS = (eSub * (eSub - 1)) / 2 / euclidS;

  const result = {
    model: 'mnist-8',
    n: N,
    inputs: 'sklearn digits upscaled to 20x20 in a 28x28 frame, 0..255, seeded shifts of up to 2 px and N(0, 2) pixel noise',
    code_bits: ex.totalUnits,
    varying_bits: v.bits,
    codes_seconds: codesS,
    hamming: {
      pairs,
      wasm_full_code_seconds: fullS,
      wasm_full_code_threads: fullThreads,
      wasm_pairs_per_second: pairs / fullS,
      wasm_bit_ops_per_second: (pairs * ex.totalUnits) / fullS,
      js_fallback_pairs_per_second: (sub * (sub - 1)) / 2 / jsS,
      varying_bits_matrix_seconds: matrixS,
      varying_bits_pairs_per_second: pairs / matrixS,
      varying_bits_matrix_threads: matrixFill.threads,
      varying_bits_matrix_blocks_by_calling_thread: `${matrixFill.callerBlocks} of ${matrixFill.blocks}`,
    },
    clustering: {
      target_seconds: 10,
      total_seconds: clusterS,
      matrix_seconds: matrixS,
      hdbscan_seconds: hd.seconds,
      kmedoids_seconds: km.seconds,
      params: p,
      hdbscan: { clusters: hd.n_clusters, weighted_purity: hd.weighted_purity, nmi: hd.nmi, noise_share: hd.noise_share },
      kmedoids: { clusters: km.n_clusters, weighted_purity: km.weighted_purity, nmi: km.nmi },
    },
    activations: {
      layer: actLayer.plan.key,
      size: act.size,
      seconds: actS,
      euclidean_subset: eSub,
      euclidean_pairs_per_second: euclidPairsPerS,
      euclidean_matrix_seconds_extrapolated_to_n: pairs / euclidPairsPerS,
    },
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), load_average_1min_before_after: [Number(loadBefore.toFixed(2)), Number(loadavg()[0]!.toFixed(2))] },
    node: process.version,
    date: new Date().toISOString(),
  };
  writeFileSync(join(ROOT, 'bench/cluster-results.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
