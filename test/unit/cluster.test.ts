/**
 * Clustering (src/core/analyses/cluster.ts and helpers): Hamming kernel against a byte-table reference, HDBSCAN
 * and k-medoids on cases with a known answer, purity / NMI against hand-computed values, determinism with the
 * seed, and a real run on the digits example (numbers printed, the claim checked only loosely).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { euclideanMatrix, hammingMatrix, hammingOptions, hammingPairs, lastFill, coreDistances, varyingBits, type DenseDistances } from '../../src/core/analyses/hamming';
import { hdbscan } from '../../src/core/analyses/hdbscan';
import { kmedoids } from '../../src/core/analyses/kmedoids';
import { groupStat, nmi, weightedPurity, noiseShare } from '../../src/core/analyses/metrics';
import { pca } from '../../src/core/analyses/pca';
import { nmf } from '../../src/core/analyses/nmf';
import { clusterCodes, clusterInputs, resolveParams, runHdbscan, runKmedoids } from '../../src/core/analyses/cluster';
import { Rng } from '../../src/core/inputs/random';
import { Lens } from '../../src/core/lens';
import { readNpy, toLabels, toModelInput } from '../../src/core/inputs';
import { ROOT } from '../support/paths';
import { EnginePool } from '../../src/worker/pool';
import type { ClusterMethodKey } from '../../src/shared/results';

function randomCodes(n: number, bytes: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const c = new Uint8Array(n * bytes);
  for (let i = 0; i < c.length; i++) c[i] = rng.int(256);
  return c;
}

/** Two groups of codes: each a random centre with `flips` random bits flipped per member. */
function twoGroups(per: number, bits: number, flips: number, seed: number): { codes: Uint8Array; bytes: number; labels: Int32Array } {
  const rng = new Rng(seed);
  const bytes = Math.ceil(bits / 8);
  const centres = [randomCodes(1, bytes, seed + 1), randomCodes(1, bytes, seed + 2)];
  const n = 2 * per;
  const codes = new Uint8Array(n * bytes);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const g = i % 2; // interleaved, so order carries no information
    labels[i] = g;
    codes.set(centres[g]!, i * bytes);
    for (let f = 0; f < flips; f++) {
      const b = rng.int(bits);
      codes[i * bytes + (b >> 3)]! ^= 0x80 >> (b & 7);
    }
  }
  return { codes, bytes, labels };
}

test('hammingMatrix (wasm and JS) equals the byte-table distance, with and without constant-bit removal', () => {
  for (const [n, bytes] of [[37, 1], [50, 13], [40, 2248], [9, 33]] as const) {
    const codes = randomCodes(n, bytes, n + bytes);
    // Make some bytes constant, so varyingBits has work.
    for (let i = 0; i < n; i++) codes[i * bytes] = 0xa5;
    const pairs: [number, number][] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) pairs.push([i, j]);
    const ref = hammingPairs(codes, bytes, pairs);
    for (const useWasm of [true, false]) {
      hammingOptions.useWasm = useWasm;
      for (const dropConstant of [true, false]) {
        const D = hammingMatrix(codes, n, bytes, { dropConstant });
        assert.deepEqual(Array.from(D.d), ref, `n=${n} bytes=${bytes} wasm=${useWasm} drop=${dropConstant}`);
      }
    }
    hammingOptions.useWasm = true;
  }
});

test('hammingMatrix filled by worker threads equals the single-thread fill and the byte-table distance', () => {
  const n = 700;
  const bytes = 2250; // padded rows (not a multiple of 32), and column blocks of ~115 rows: 7 blocks to share
  const codes = randomCodes(n, bytes, 11);
  const saved = { ...hammingOptions };
  try {
    hammingOptions.threads = 1;
    const single = hammingMatrix(codes, n, bytes, { dropConstant: false });
    assert.ok(!(single.d.buffer instanceof SharedArrayBuffer));
    // Force the threaded path on this small case: 3 threads, so workers and the caller share the blocks.
    Object.assign(hammingOptions, { threads: 3, parallelMinBytes: 0 });
    const threaded = hammingMatrix(codes, n, bytes, { dropConstant: false });
    assert.ok(threaded.d.buffer instanceof SharedArrayBuffer);
    assert.equal(lastFill.threads, 3, 'the threaded path ran');
    assert.ok(lastFill.blocks >= 6);
    assert.deepEqual(threaded.d, single.d);
    const rng = new Rng(3);
    const pairs: [number, number][] = Array.from({ length: 500 }, () => [rng.int(n), rng.int(n)]);
    assert.deepEqual(pairs.map(([i, j]) => threaded.d[i * n + j]), hammingPairs(codes, bytes, pairs));
  } finally {
    Object.assign(hammingOptions, saved);
  }
});

test('euclideanMatrix filled by worker threads equals the single-thread fill and a direct sum', () => {
  const n = 300;
  const dim = 7;
  const rng = new Rng(8);
  const x = Float64Array.from({ length: n * dim }, () => rng.normal(0, 1));
  const saved = { ...hammingOptions };
  try {
    hammingOptions.threads = 1;
    const single = euclideanMatrix(x, n, dim);
    Object.assign(hammingOptions, { threads: 3, parallelMinBytes: 0 });
    const threaded = euclideanMatrix(x, n, dim);
    assert.equal(lastFill.threads, 3, 'the threaded path ran');
    assert.deepEqual(threaded.d, single.d);
    for (const [i, j] of [[0, 1], [5, 299], [299, 5], [17, 17], [123, 45]] as const) {
      let s = 0;
      for (let t = 0; t < dim; t++) s += (x[i * dim + t]! - x[j * dim + t]!) ** 2;
      assert.equal(threaded.d[i * n + j], Math.fround(Math.sqrt(s)));
    }
  } finally {
    Object.assign(hammingOptions, saved);
  }
});

test('varyingBits keeps exactly the bits that differ somewhere', () => {
  const v = varyingBits(Uint8Array.of(0b10100000, 0b10000001, 0b00100000), 3, 1);
  // Bit 0: 1,1,0; bit 2: 1,0,1; bit 7: 0,1,0 -> three varying bits, packed in order.
  assert.equal(v.bits, 3);
  assert.deepEqual(Array.from(v.codes), [0b11000000, 0b10100000, 0b01000000]);
});

test('coreDistances counts the point itself first (min_samples convention)', () => {
  const D: DenseDistances = { n: 4, d: Float32Array.from([0, 1, 5, 9, 1, 0, 2, 8, 5, 2, 0, 3, 9, 8, 3, 0]) };
  assert.deepEqual(Array.from(coreDistances(D, 1)), [0, 0, 0, 0]);
  assert.deepEqual(Array.from(coreDistances(D, 2)), [1, 1, 2, 3]);
  assert.deepEqual(Array.from(coreDistances(D, 3)), [5, 2, 3, 8]);
});

test('purity, weighted purity, noise share and NMI match hand-computed values', () => {
  const y = [0, 0, 0, 1, 1, 1, 2, 2];
  // Cluster A = {0,1,3}: majority 0 (2 of 3); B = {4,5,6,7}: labels 1,1,2,2 -> tie, smaller label 1, purity 1/2.
  const a = groupStat([0, 1, 3], y);
  assert.deepEqual(a, { size: 3, majority_label: 0, purity: 2 / 3 });
  const b = groupStat([4, 5, 6, 7], y);
  assert.deepEqual(b, { size: 4, majority_label: 1, purity: 0.5 });
  assert.equal(weightedPurity([a, b]), (2 + 2) / 7);
  assert.equal(noiseShare([0, 0, 1, -1, 1, -1]), 2 / 6);
  // NMI of c = [0,0,1,1] vs y = [0,0,0,1]: H(c) = ln 2, H(y) = -(3/4 ln 3/4 + 1/4 ln 1/4),
  // I = sum p(c,y) ln(p(c,y) / p(c) p(y)) = 1/2 ln(1/2 / (1/2 * 3/4)) + 1/4 ln(1/4 / (1/2 * 3/4)) + 1/4 ln(1/4 / (1/2 * 1/4)).
  const hc = Math.log(2);
  const hy = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
  const I = 0.5 * Math.log(0.5 / 0.375) + 0.25 * Math.log(0.25 / 0.375) + 0.25 * Math.log(0.25 / 0.125);
  assert.ok(Math.abs(nmi([0, 0, 1, 1], [0, 0, 0, 1]) - I / ((hc + hy) / 2)) < 1e-12);
  assert.equal(nmi([0, 0, 1, 1], [5, 5, 7, 7]), 1); // relabelling
  assert.equal(nmi([3, 3, 3], [1, 1, 1]), 1);
  assert.equal(nmi([3, 3, 3], [1, 2, 1]), 0);
  // Noise is one more group: [-1,-1,0,0] vs [0,0,1,1] is a perfect match.
  assert.equal(nmi([-1, -1, 0, 0], [0, 0, 1, 1]), 1);
});

test('two well-separated groups of codes: HDBSCAN and k-medoids find them (purity 1, NMI 1, no noise)', () => {
  const { codes, bytes, labels } = twoGroups(60, 500, 10, 7); // members 20 bits apart at most; centres ~250 apart
  const p = resolveParams(120, { labels, k: 2, minClusterSize: 10, seed: 3 });
  const r = clusterCodes(codes, 120, bytes, labels, p);
  for (const m of [r.results.hdbscan_codes!, r.results.kmedoids_codes!]) {
    assert.equal(m.n_clusters, 2, m.algorithm);
    assert.equal(m.weighted_purity, 1, m.algorithm);
    assert.equal(m.nmi, 1, m.algorithm);
    assert.equal(m.noise_share, 0, m.algorithm);
    for (const c of m.clusters) {
      assert.equal(c.size, 60);
      assert.equal(c.purity, 1);
      assert.ok(c.exemplars.length === 5 && c.exemplars[0] === c.medoid);
      assert.ok(c.exemplars.every((e) => labels[e] === c.majority_label));
    }
  }
});

test('HDBSCAN leaves an isolated point as noise and splits three blobs; min_cluster_size merges small ones away', () => {
  // 1-D points: blobs at 0, 10, 20 (8 points each, spread 0.7) and one far outlier.
  const xs: number[] = [];
  for (const c of [0, 10, 20]) for (let i = 0; i < 8; i++) xs.push(c + i * 0.1);
  xs.push(100);
  const E = euclideanMatrix(xs, xs.length, 1);
  const r = hdbscan(E, { minClusterSize: 5 });
  assert.equal(r.nClusters, 3);
  assert.equal(r.labels[24], -1);
  assert.deepEqual(Array.from(r.labels.subarray(0, 24)), [...Array(8).fill(0), ...Array(8).fill(1), ...Array(8).fill(2)]);
  // With min_cluster_size above the blob size no split is a real split: everything is noise (no single cluster).
  assert.equal(hdbscan(E, { minClusterSize: 9 }).nClusters, 0);
});

test('HDBSCAN prefers the parent when the children are less stable (excess of mass)', () => {
  // Two tight sub-blobs close together (gap 0.5) far from a third blob: 0-1 merge early, so EOM should keep
  // {A, B} together or apart depending on stability; with a gap as small as the spread, one cluster is chosen.
  const xs: number[] = [];
  for (let i = 0; i < 10; i++) xs.push(i * 0.1); // A: 0..0.9
  for (let i = 0; i < 10; i++) xs.push(1.0 + i * 0.1); // B: 1.0..1.9, touching A
  for (let i = 0; i < 10; i++) xs.push(50 + i * 0.1);
  const r = hdbscan(euclideanMatrix(xs, 30, 1), { minClusterSize: 5 });
  assert.equal(r.nClusters, 2);
  assert.equal(new Set(Array.from(r.labels.subarray(0, 20))).size, 1);
});

test('k-medoids, PCA and NMF are deterministic with the seed', () => {
  const { codes, bytes, labels } = twoGroups(40, 200, 30, 11);
  const D = hammingMatrix(codes, 80, bytes);
  const a = kmedoids(D, { k: 4, seed: 5 });
  const b = kmedoids(D, { k: 4, seed: 5 });
  assert.deepEqual(Array.from(a.labels), Array.from(b.labels));
  assert.deepEqual(a.medoids, b.medoids);
  const rng = new Rng(1);
  const x = Float64Array.from({ length: 80 * 6 }, () => Math.abs(rng.normal()));
  assert.deepEqual(Array.from(pca(x, 80, 6, { k: 3, seed: 2 }).projections), Array.from(pca(x, 80, 6, { k: 3, seed: 2 }).projections));
  assert.deepEqual(Array.from(nmf(x, 80, 6, { k: 3, seed: 2 }).w), Array.from(nmf(x, 80, 6, { k: 3, seed: 2 }).w));
  const p = resolveParams(80, { labels, k: 2, seed: 9 });
  const noTime = (r: object) => JSON.stringify(r, (k, v) => (k === 'seconds' ? 0 : v));
  assert.equal(noTime(clusterCodes(codes, 80, bytes, labels, p).results), noTime(clusterCodes(codes, 80, bytes, labels, p).results));
});

test('PCA finds the dominant axis; NMF reconstructs a non-negative rank-2 matrix', () => {
  const rng = new Rng(4);
  const n = 200;
  const x = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    const t = rng.normal() * 5;
    x[i * 3] = t;
    x[i * 3 + 1] = t * 0.5 + rng.normal() * 0.01;
    x[i * 3 + 2] = rng.normal() * 0.1;
  }
  const r = pca(x, n, 3, { k: 2, seed: 0 });
  const c = Array.from(r.components.subarray(0, 3));
  const norm = Math.hypot(1, 0.5);
  assert.ok(Math.abs(Math.abs(c[0]!) - 1 / norm) < 1e-3 && Math.abs(Math.abs(c[1]!) - 0.5 / norm) < 1e-3, `${c}`);
  assert.ok(r.explained[0]! > r.explained[1]!);
  const W = [1, 0, 0, 1, 1, 1, 2, 0.5];
  const H = [1, 0, 2, 0, 1, 1];
  const X = new Float64Array(4 * 3);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) X[i * 3 + j] = W[i * 2]! * H[j]! + W[i * 2 + 1]! * H[3 + j]!;
  assert.ok(nmf(X, 4, 3, { k: 2, seed: 1, iterations: 3000, tol: 0 }).error < 1e-3);
});

test('digits: code clusters vs activation clusters vs PCA / NMF directions (real run)', async () => {
  const dir = join(ROOT, 'examples/digits');
  const lens = await Lens.open(join(dir, 'digits.onnx'));
  const { n, data } = toModelInput(readNpy(join(dir, 'digits-x.npy')), lens.sampleShape, 'digits-x.npy');
  const labels = toLabels(readNpy(join(dir, 'digits-y.npy')), 'digits-y.npy');
  const r = await clusterInputs(lens, lens.layers, data, n, { labels, seed: 0 });
  const again = await clusterInputs(lens, lens.layers, data, n, { labels, seed: 0 });
  assert.deepEqual(again.comparison.map((c) => [c.method, c.weighted_purity, c.nmi]), r.comparison.map((c) => [c.method, c.weighted_purity, c.nmi]));
  console.log(`digits (n=${n}, ${r.code_bits} bits, ${r.varying_bits} varying; activations of ${r.activation_layer!.key}, params ${JSON.stringify(r.params)})`);
  for (const c of r.comparison) console.log(`  ${c.method.padEnd(22)} clusters ${String(c.n_clusters).padStart(3)}  purity ${c.weighted_purity!.toFixed(3)}  nmi ${c.nmi!.toFixed(3)}  noise ${c.noise_share.toFixed(3)}`);
  assert.equal(r.method, 'hdbscan_codes');
  assert.equal(Object.keys(r.methods).length, 6);
  assert.ok(r.methods.kmedoids_codes!.weighted_purity! > 0.5, 'k-medoids on codes should be far above chance (0.1)');
  for (const m of Object.values(r.methods)) {
    assert.equal(m.assignments.length, n);
    assert.ok(m.nmi! >= 0 && m.nmi! <= 1);
  }
});

// Points of four 2-D blobs plus uniform noise (numpy seed 3, rounded to 3 decimals) and scikit-learn's labels.
// min_samples = 1 makes mutual reachability equal to the distance, so the MST has no ties and the answer is
// unique (with ties, libraries legitimately differ by the order in which equal edges merge).
const PTS = [1.02, -1.278, 0.209, -0.284, -0.226, -0.108, -1.01, -0.116, -0.433, 1.661, 0.113, -0.176, -0.141, -0.334, -0.528, -0.195, 0.241, -0.119, 0.479, -0.1, 0.012, 0.773, 0.273, -0.253, -0.091, 0.27, 0.968, -0.135, -0.122, 0.501, 3.291, -0.233, 4.706, 0.464, 4.073, 0.536, 1.737, 0.817, 3.232, -1.335, 4.221, 0.56, 3.644, -0.861, 4.021, -0.042, 5.124, 0.598, 4.155, 0.889, 3.836, -0.741, 4.467, 0.466, 3.828, -0.626, 4.183, -1.995, 4.552, 0.393, -0.983, 4.037, -0.578, 4.454, -1.221, 3.451, 0.426, 4.694, -1.295, 3.701, 0.197, 3.634, 0.954, 3.285, 0.213, 3.371, 0.844, 3.987, -0.223, 2.969, 1.009, 4.452, 0.452, 4.683, 0.21, 3.616, -0.48, 3.52, 0.822, 3.124, 2.761, 3.372, 3.09, 3.73, 2.5, 2.808, 2.998, 3.985, 3.303, 3.586, 2.873, 3.617, 2.903, 3.827, 2.682, 3.554, 2.956, 3.717, 3.09, 4.52, 3.599, 4.099, 2.184, 3.364, 2.757, 3.713, 2.088, 3.97, 3.427, 2.979, 4.505, 4.561, 0.03, 1.856, 0.742, 0.094, 2.572, 0.543, 2.949, 2.659, -1.165, 1.539];
/** scikit-learn 1.9.1 HDBSCAN(min_cluster_size=m, min_samples=1, metric="precomputed") labels. */
const SKLEARN: Record<number, number[]> = {
  2: [-1, 12, 13, -1, 3, 12, 13, -1, 12, 12, 6, 12, 6, 11, 6, -1, 15, 14, 0, -1, 14, 5, -1, -1, -1, 5, 15, 5, -1, 15, 4, 4, 4, 10, 4, 7, 8, 7, 9, 7, 9, 10, 7, 7, 8, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, -1, 3, 11, 0, 2, 3], // 16 clusters, 10 noise
  3: [-1, 8, 8, -1, 2, 8, 8, 8, 8, 8, 9, 8, 9, 8, 9, -1, 7, 7, -1, -1, 7, 6, 7, 7, 7, 6, 7, 6, -1, 7, 3, 3, 3, 5, 3, 4, 4, 4, 5, 4, 5, 5, 4, 4, 4, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, -1, 2, 8, -1, 1, 2], // 10 clusters, 8 noise
  5: [-1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 0, 1, 2], // 4 clusters, 1 noise
  8: [-1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 0, 1, 2], // 4 clusters, 1 noise
  20: [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1], // 0 clusters, 66 noise
  31: [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1], // 0 clusters, 66 noise
};

test('HDBSCAN equals scikit-learn on a tie-free case, for several min_cluster_size', () => {
  const n = PTS.length / 2;
  const E = euclideanMatrix(PTS, n, 2);
  const canon = (l: ArrayLike<number>) => {
    const map = new Map<number, number>();
    return Array.from(l, (v) => (v < 0 ? -1 : (map.has(v) || map.set(v, map.size), map.get(v)!)));
  };
  for (const [m, ref] of Object.entries(SKLEARN)) {
    const r = hdbscan(E, { minClusterSize: Number(m), minSamples: 1 });
    assert.deepEqual(canon(r.labels), canon(ref), `min_cluster_size ${m}`);
  }
});

test('CLI: polytope-lens cluster --json runs in the worker pool and follows the contract', async () => {
  const { spawnSync } = await import('node:child_process');
  const dir = join(ROOT, 'examples/digits');
  const r = spawnSync(process.execPath, [join(ROOT, 'out/cli/main.js'), 'cluster', join(dir, 'digits.onnx'), '--inputs', join(dir, 'digits-x.npy'), '--labels', join(dir, 'digits-y.npy'), '--limit', '120', '--min-cluster-size', '5', '--k', '10', '--seed', '2', '--methods', 'kmedoids_codes,hdbscan_codes,pca,nmf', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.method, 'kmedoids_codes');
  assert.equal(j.n, 120);
  assert.deepEqual(Object.keys(j.methods).sort(), ['hdbscan_codes', 'kmedoids_codes', 'nmf', 'pca']);
  assert.deepEqual(Object.keys(j.baselines).sort(), ['nmf', 'pca']);
  for (const k of ['clusters', 'weighted_purity', 'nmi', 'noise_share']) assert.ok(k in j, k);
  for (const c of j.clusters) for (const k of ['size', 'majority_label', 'purity', 'exemplars']) assert.ok(k in c, k);
  assert.equal(j.params.k, 10);
  assert.equal(j.params.min_cluster_size, 5);
  const bad = spawnSync(process.execPath, [join(ROOT, 'out/cli/main.js'), 'cluster', join(dir, 'digits.onnx'), '--inputs', join(dir, 'digits-x.npy'), '--methods', 'kmeans'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--methods takes/);
});

for (const kind of ['process', 'thread'] as const) {
  test(`${kind} worker: a cluster task reports its steps to its own caller, up to the total, and a task beside it gets none`, async () => {
    const dir = join(ROOT, 'examples/digits');
    const path = join(dir, 'digits.onnx');
    const lens = await Lens.open(path);
    const { data } = toModelInput(readNpy(join(dir, 'digits-x.npy')), lens.sampleShape, 'digits-x.npy');
    const n = 120;
    const pool = new EnginePool({ workers: 2, kind });
    try {
      const steps: [number, number][] = [];
      const other: [number, number][] = [];
      const req = (methods: ClusterMethodKey[]) => ({ data: data.slice(0, n * lens.sampleSize), n, methods, seed: 0 });
      await Promise.all([
        pool.submit((api, progressTask) => api.cluster({ path }, {}, { ...req(['kmedoids_codes', 'hdbscan_codes', 'pca']), progressTask }), undefined, {
          onProgress: (d, t) => steps.push([d, t]),
        }),
        // Beside it, a task that reports to nobody, and one that asks for progress but reports under its own number.
        pool.submit((api) => api.cluster({ path }, {}, req(['kmedoids_codes']))),
        pool.submit((api, progressTask) => api.cluster({ path }, {}, { ...req(['pca', 'nmf']), progressTask }), undefined, { onProgress: (d, t) => other.push([d, t]) }),
      ]);
      // codes, hdbscan, k-medoids, activations, pca: five steps in order.
      assert.deepEqual(steps, [1, 2, 3, 4, 5].map((d) => [d, 5]));
      assert.deepEqual(other, [1, 2, 3].map((d) => [d, 3]));
    } finally {
      await pool.dispose();
    }
  });
}

test('HDBSCAN that finds no cluster says so and what to try (the result, and the CLI text)', () => {
  const n = 120;
  const bytes = 32;
  const codes = randomCodes(n, bytes, 11); // no density structure at all
  const p = resolveParams(n, { minClusterSize: 40 });
  const r = runHdbscan(hammingMatrix(codes, n, bytes), 'codes', p);
  assert.equal(r.n_clusters, 0);
  assert.equal(r.noise_share, 1);
  assert.match(r.note ?? '', /^no group of at least 40 inputs is denser than its surroundings, so every input is noise; a smaller min_cluster_size/);
  const k = runKmedoids(hammingMatrix(codes, n, bytes), 'codes', p);
  assert.equal(k.note, undefined, 'k-medoids has clusters and no such note');
});
