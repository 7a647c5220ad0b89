/**
 * "Polytope regions are monosemantic, directions are not" (PAPER.md) as a measurement: cluster the inputs'
 * spline codes under Hamming distance and a layer's activations under Euclidean distance, with HDBSCAN and
 * k-medoids, against the baselines of PCA and NMF directions (the top-m examples of each direction), and score
 * every method by label purity and NMI side by side.
 *
 *   clusterInputs(lens, codeLayers, data, n, { labels?, layer?, minClusterSize?, minSamples?, k?, topM?, seed?,
 *                 exemplars?, methods?, threads?, onProgress? }) -> ClusterResult
 *   clusterCodes(codes, n, codeBytes, labels?, opts)    the codes-only part (tests, bench)
 *   activationLayer(lens, key?) / activations(lens, layer, data, n)
 *
 * Distances are dense (n <= MAX_DENSE): Hamming by bit-packed popcount (./hamming), Euclidean in float64.
 */
import { UserError } from '../errors';
import { CodeExtractor } from '../extract';
import type { Lens, LensLayer } from '../lens';
import { layerInfos } from '../lens';
import type { ClusterInfo, ClusterMethodKey, ClusterMethodResult, ClusterResult } from '../../shared/results';
import type { ClusterParams } from '../../shared/worker-protocol';
import { euclideanMatrix, hammingMatrix, MAX_DENSE, varyingBits, type DenseDistances } from './hamming';
import { hdbscan } from './hdbscan';
import { kmedoids } from './kmedoids';
import { groupStat, members, nmi, noiseShare, weightedPurity } from './metrics';
import { nmf } from './nmf';
import { pca } from './pca';
import { PreactRunner } from './preacts';

export const CLUSTER_METHODS: ClusterMethodKey[] = ['hdbscan_codes', 'hdbscan_activations', 'kmedoids_codes', 'kmedoids_activations', 'pca', 'nmf'];

/** ClusterParams (what crosses the worker boundary) with the labels, threads and a progress callback. */
export interface ClusterOptions extends ClusterParams {
  labels?: ArrayLike<number>;
  threads?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ResolvedParams {
  min_cluster_size: number;
  min_samples: number;
  k: number;
  top_m: number;
  exemplars: number;
  seed: number;
}

export function resolveParams(n: number, opts: ClusterOptions): ResolvedParams {
  const distinct = opts.labels ? new Set(Array.from(opts.labels)).size : 0;
  const k = opts.k ?? (distinct > 1 ? distinct : 10);
  const mcs = opts.minClusterSize ?? Math.max(5, Math.floor(n / 50));
  return {
    min_cluster_size: mcs,
    min_samples: opts.minSamples ?? mcs,
    k,
    top_m: opts.topM ?? Math.max(1, Math.min(100, Math.floor(n / Math.max(1, k)))),
    exemplars: opts.exemplars ?? 5,
    seed: opts.seed ?? 0,
  };
}

/** The layer whose activation is clustered: by key, or the last of `fallback`. */
export function activationLayer(lens: Lens, key: string | undefined, fallback: LensLayer[]): LensLayer {
  if (key === undefined) return fallback[fallback.length - 1] ?? lens.layers[lens.layers.length - 1]!;
  const l = lens.layers.find((x) => x.plan.key === key);
  if (!l) throw new UserError(`No layer named '${key}'; the layers are ${lens.layers.map((x) => `'${x.plan.key}'`).join(', ')}`);
  return l;
}

/** Output size of a layer's op per sample (MaxPool: pooled size). */
function outputShape(l: LensLayer): number[] {
  if (l.plan.rule.kind === 'argmax' && l.pool) return [l.pool.channels, ...l.pool.outSpatial];
  return l.shape;
}

/** The layer's activation (its op's output tensor), n x size float64, via PreactRunner on a shadow layer. */
export async function activations(lens: Lens, layer: LensLayer, data: Float32Array, n: number, threads?: number): Promise<{ x: Float64Array; size: number }> {
  const shadow: LensLayer = {
    ...layer,
    shape: outputShape(layer),
    plan: { ...layer.plan, preact: layer.plan.output, rule: { kind: 'positive', source: layer.plan.output } },
  };
  const runner = await PreactRunner.create(lens, [shadow], { precision: 'float32', threads });
  try {
    const r = await runner.run(data, n);
    return { x: r.preacts[0]!, size: runner.sizes[0]! };
  } finally {
    await runner.dispose();
  }
}

// ---- scoring -------------------------------------------------------------------------------------------------

/** Medoid of a member list (least total distance) and the members closest to it, medoid first. */
export function exemplarsOf(D: DenseDistances, idx: number[], count: number): { medoid: number; exemplars: number[] } {
  const { n, d } = D;
  let best = idx[0]!;
  let bestS = Infinity;
  // For big clusters, a seeded-free deterministic subsample of candidates keeps this O(size * 500).
  const step = Math.max(1, Math.floor(idx.length / 500));
  for (let a = 0; a < idx.length; a += step) {
    const i = idx[a]!;
    let s = 0;
    for (const j of idx) s += d[i * n + j]!;
    if (s < bestS) (bestS = s), (best = i);
  }
  const ex = [...idx].sort((x, y) => d[best * n + x]! - d[best * n + y]! || x - y).slice(0, count);
  return { medoid: best, exemplars: ex };
}

function scoreClusters(
  assign: Int32Array,
  k: number,
  D: DenseDistances,
  labels: ArrayLike<number> | undefined,
  exemplars: number,
  scores?: number[],
): Pick<ClusterMethodResult, 'n_clusters' | 'clusters' | 'weighted_purity' | 'nmi' | 'noise_share' | 'assignments'> {
  const groups = members(assign, k);
  const clusters: ClusterInfo[] = groups.map((idx, id) => {
    const st = groupStat(idx, labels);
    const ex = idx.length ? exemplarsOf(D, idx, exemplars) : { medoid: null, exemplars: [] };
    const info: ClusterInfo = { id, size: st.size, majority_label: st.majority_label, purity: st.purity, medoid: ex.medoid, exemplars: ex.exemplars };
    if (scores) info.score = scores[id]!;
    return info;
  });
  return {
    n_clusters: k,
    clusters,
    weighted_purity: labels ? weightedPurity(clusters) : null,
    nmi: labels ? nmi(assign, Array.from({ length: assign.length }, (_, i) => labels[i]!)) : null,
    noise_share: noiseShare(assign),
    assignments: Array.from(assign),
  };
}

/** Directions: top-m examples by score (n x k, row-major), argmax partition for the NMI. */
function scoreDirections(
  score: Float64Array,
  n: number,
  k: number,
  labels: ArrayLike<number> | undefined,
  topM: number,
  exemplars: number,
  dirScores: number[],
): Pick<ClusterMethodResult, 'n_clusters' | 'clusters' | 'weighted_purity' | 'nmi' | 'noise_share' | 'assignments'> {
  const clusters: ClusterInfo[] = [];
  for (let c = 0; c < k; c++) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b * k + c]! - score[a * k + c]! || a - b);
    const top = order.slice(0, Math.min(topM, n));
    const st = groupStat(top, labels);
    clusters.push({ id: c, size: st.size, majority_label: st.majority_label, purity: st.purity, medoid: null, exemplars: top.slice(0, exemplars), score: dirScores[c]! });
  }
  const assign = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let c = 1; c < k; c++) if (score[i * k + c]! > score[i * k + b]!) b = c;
    assign[i] = b;
  }
  let wp: number | null = null;
  if (labels) wp = clusters.reduce((s, c) => s + c.purity!, 0) / Math.max(1, clusters.length);
  return {
    n_clusters: k,
    clusters,
    weighted_purity: wp,
    nmi: labels ? nmi(assign, Array.from({ length: n }, (_, i) => labels[i]!)) : null,
    noise_share: 0,
    assignments: Array.from(assign),
  };
}

// ---- methods on a distance matrix -----------------------------------------------------------------------------

export function runHdbscan(D: DenseDistances, space: 'codes' | 'activations', p: ResolvedParams, labels?: ArrayLike<number>): ClusterMethodResult {
  const t0 = performance.now();
  const r = hdbscan(D, { minClusterSize: p.min_cluster_size, minSamples: p.min_samples });
  return {
    kind: 'clusters',
    algorithm: 'hdbscan',
    space,
    distance: space === 'codes' ? 'hamming' : 'euclidean',
    params: { min_cluster_size: p.min_cluster_size, min_samples: p.min_samples },
    ...scoreClusters(r.labels, r.nClusters, D, labels, p.exemplars, r.stability),
    seconds: (performance.now() - t0) / 1000,
    // All noise is a finding about the data at this scale, not an error; say what to try.
    ...(r.nClusters === 0
      ? {
          note:
            `no group of at least ${p.min_cluster_size} inputs is denser than its surroundings, so every input is noise; ` +
            'a smaller min_cluster_size or min_samples may find some (k-medoids always makes k clusters)',
        }
      : {}),
  };
}

export function runKmedoids(D: DenseDistances, space: 'codes' | 'activations', p: ResolvedParams, labels?: ArrayLike<number>): ClusterMethodResult {
  const t0 = performance.now();
  const r = kmedoids(D, { k: p.k, seed: p.seed });
  const res = scoreClusters(r.labels, r.medoids.length, D, labels, p.exemplars);
  // The algorithm's own medoids lead the exemplars.
  res.clusters.forEach((c, i) => {
    c.medoid = r.medoids[i]!;
    c.exemplars = [r.medoids[i]!, ...c.exemplars.filter((e) => e !== r.medoids[i])].slice(0, p.exemplars);
  });
  return {
    kind: 'clusters',
    algorithm: 'kmedoids',
    space,
    distance: space === 'codes' ? 'hamming' : 'euclidean',
    params: { k: p.k, seed: p.seed, cost: r.cost },
    ...res,
    seconds: (performance.now() - t0) / 1000,
  };
}

export function runPca(x: Float64Array, n: number, dim: number, p: ResolvedParams, labels?: ArrayLike<number>): ClusterMethodResult {
  const t0 = performance.now();
  const r = pca(x, n, dim, { k: p.k, seed: p.seed });
  return {
    kind: 'directions',
    algorithm: 'pca',
    space: 'activations',
    distance: null,
    params: { k: r.k, top_m: p.top_m, seed: p.seed },
    ...scoreDirections(r.projections, n, r.k, labels, p.top_m, p.exemplars, Array.from(r.explained)),
    seconds: (performance.now() - t0) / 1000,
    note: 'top-m examples: largest projections on each principal direction (sign: the largest |projection| is positive); assignments: argmax projection',
  };
}

export function runNmf(x: Float64Array, n: number, dim: number, p: ResolvedParams, labels?: ArrayLike<number>): ClusterMethodResult {
  const t0 = performance.now();
  let min = Infinity;
  for (let i = 0; i < x.length; i++) if (x[i]! < min) min = x[i]!;
  const shifted = min < 0 ? x.map((v) => v - min) : x;
  const r = nmf(shifted, n, dim, { k: p.k, seed: p.seed });
  const norms = new Array<number>(r.k).fill(0);
  for (let i = 0; i < n; i++) for (let c = 0; c < r.k; c++) norms[c]! += r.w[i * r.k + c]! ** 2;
  const tot = norms.reduce((s, v) => s + v, 0) || 1;
  return {
    kind: 'directions',
    algorithm: 'nmf',
    space: 'activations',
    distance: null,
    params: { k: r.k, top_m: p.top_m, seed: p.seed, relative_error: r.error, iterations: r.iterations },
    ...scoreDirections(r.w, n, r.k, labels, p.top_m, p.exemplars, norms.map((v) => v / tot)),
    seconds: (performance.now() - t0) / 1000,
    note: `top-m examples: largest coefficients W[:, c] (rows of H unit length); assignments: argmax coefficient${min < 0 ? `; activations shifted by ${-min} to be non-negative` : ''}`,
  };
}

/** HDBSCAN and k-medoids on packed codes (Hamming). */
export function clusterCodes(codes: Uint8Array, n: number, codeBytes: number, labels: ArrayLike<number> | undefined, p: ResolvedParams, methods: ClusterMethodKey[] = ['hdbscan_codes', 'kmedoids_codes']): { D: DenseDistances; varying: number; seconds: number; results: Partial<Record<ClusterMethodKey, ClusterMethodResult>> } {
  const t0 = performance.now();
  const v = varyingBits(codes, n, codeBytes);
  const D = hammingMatrix(v.codes, n, v.codeBytes, { dropConstant: false });
  const seconds = (performance.now() - t0) / 1000;
  const results: Partial<Record<ClusterMethodKey, ClusterMethodResult>> = {};
  if (methods.includes('hdbscan_codes')) results.hdbscan_codes = runHdbscan(D, 'codes', p, labels);
  if (methods.includes('kmedoids_codes')) results.kmedoids_codes = runKmedoids(D, 'codes', p, labels);
  return { D, varying: v.bits, seconds, results };
}

const CONVENTIONS =
  'purity = majority-label share of a cluster (or of a direction\'s top-m examples); weighted_purity = size-weighted ' +
  'mean over clusters, noise excluded (directions: mean over directions); nmi = I/mean(H) with labels over all ' +
  'inputs, noise counted as one group (directions: each input\'s argmax direction); noise_share = inputs labelled -1.';

export async function clusterInputs(lens: Lens, codeLayers: LensLayer[], data: Float32Array, n: number, opts: ClusterOptions = {}): Promise<ClusterResult> {
  const tStart = performance.now();
  if (n < 2) throw new UserError(`clustering needs at least 2 inputs, not ${n}`);
  if (n > MAX_DENSE) throw new UserError(`clustering uses a dense ${n} x ${n} distance matrix; at most ${MAX_DENSE} inputs (use --limit)`);
  const labels = opts.labels;
  if (labels && labels.length < n) throw new UserError(`--labels has ${labels.length} entries for ${n} inputs`);
  const methods = opts.methods ?? CLUSTER_METHODS;
  for (const m of methods) if (!CLUSTER_METHODS.includes(m)) throw new UserError(`unknown method '${m}'; methods: ${CLUSTER_METHODS.join(', ')}`);
  const p = resolveParams(n, opts);
  if (p.min_cluster_size < 2) throw new UserError(`--min-cluster-size must be at least 2`);
  if (p.k < 1 || p.k > n) throw new UserError(`--k must be between 1 and the number of inputs (${n})`);
  const y = labels ? Array.from({ length: n }, (_, i) => labels[i]!) : undefined;
  const wantCodes = methods.some((m) => m.endsWith('_codes'));
  const wantActivations = methods.some((m) => !m.endsWith('_codes'));
  // One step for the codes, one for the activations, one per method.
  const steps = methods.length + (wantCodes ? 1 : 0) + (wantActivations ? 1 : 0);
  let done = 0;
  const tick = () => opts.onProgress?.(++done, steps);

  const timing = { codes_s: 0, activations_s: 0, hamming_s: 0, euclidean_s: 0, total_s: 0 };
  const results: Partial<Record<ClusterMethodKey, ClusterMethodResult>> = {};
  let codeBits = codeLayers.reduce((s, l) => s + l.units, 0);
  let varying = 0;
  if (wantCodes) {
    let t = performance.now();
    const ex = await CodeExtractor.create(lens, codeLayers, opts.threads);
    let batch;
    try {
      batch = await ex.run(data, n);
    } finally {
      await ex.dispose();
    }
    codeBits = ex.totalUnits;
    timing.codes_s = (performance.now() - t) / 1000;
    tick();
    t = performance.now();
    const c = clusterCodes(batch.codes, n, ex.codeBytes, y, p, []);
    timing.hamming_s = c.seconds;
    varying = c.varying;
    if (methods.includes('hdbscan_codes')) (results.hdbscan_codes = runHdbscan(c.D, 'codes', p, y)), tick();
    if (methods.includes('kmedoids_codes')) (results.kmedoids_codes = runKmedoids(c.D, 'codes', p, y)), tick();
  }
  const actLayer = activationLayer(lens, opts.layer, codeLayers);
  let actInfo: ClusterResult['activation_layer'] = null;
  if (wantActivations) {
    let t = performance.now();
    const act = await activations(lens, actLayer, data, n, opts.threads);
    timing.activations_s = (performance.now() - t) / 1000;
    actInfo = { key: actLayer.plan.key, op: actLayer.plan.op, tensor: actLayer.plan.output, size: act.size };
    tick();
    if (methods.includes('hdbscan_activations') || methods.includes('kmedoids_activations')) {
      t = performance.now();
      const E = euclideanMatrix(act.x, n, act.size);
      timing.euclidean_s = (performance.now() - t) / 1000;
      if (methods.includes('hdbscan_activations')) (results.hdbscan_activations = runHdbscan(E, 'activations', p, y)), tick();
      if (methods.includes('kmedoids_activations')) (results.kmedoids_activations = runKmedoids(E, 'activations', p, y)), tick();
    }
    if (methods.includes('pca')) (results.pca = runPca(act.x, n, act.size, p, y)), tick();
    if (methods.includes('nmf')) (results.nmf = runNmf(act.x, n, act.size, p, y)), tick();
  }
  const order = CLUSTER_METHODS.filter((m) => results[m]);
  const head = results[methods[0]!]!;
  const strip = (r: ClusterMethodResult): Omit<ClusterMethodResult, 'assignments'> => {
    const { assignments: _a, ...rest } = r;
    return rest;
  };
  const baselines: ClusterResult['baselines'] = {};
  if (results.pca) baselines.pca = strip(results.pca);
  if (results.nmf) baselines.nmf = strip(results.nmf);
  timing.total_s = (performance.now() - tStart) / 1000;
  return {
    model: lens.model.name,
    n,
    inputs_note: opts.inputsNote ?? `${n} inputs`,
    labels_note: opts.labelsNote ?? (labels ? 'labels given' : null),
    code_layers: layerInfos(codeLayers),
    code_bits: codeBits,
    varying_bits: varying,
    activation_layer: actInfo,
    params: p,
    method: methods[0]!,
    clusters: head.clusters,
    weighted_purity: head.weighted_purity,
    nmi: head.nmi,
    noise_share: head.noise_share,
    baselines,
    methods: results,
    comparison: order.map((m) => {
      const r = results[m]!;
      return { method: m, n_clusters: r.n_clusters, weighted_purity: r.weighted_purity, nmi: r.nmi, noise_share: r.noise_share, seconds: r.seconds };
    }),
    timing,
    conventions: CONVENTIONS,
  };
}
