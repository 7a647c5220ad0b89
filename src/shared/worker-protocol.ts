/**
 * The host <-> worker channel: what a worker of the engine pool exposes through comlink. Inputs and results are
 * typed arrays: transferred (not copied) to a worker thread, and serialized once through the IPC channel of a worker
 * process (the default; src/worker/engine-worker.ts).
 */
import type { ClusterMethodKey, ClusterResult, LocalResult, ModelSummary, PathResult, PolytopeCompareResult, PolytopeResult, ScaleResult, SliceResult } from './results';

/** How to open a model; part of the key under which a worker caches it. */
export interface ModelRef {
  path: string;
  maxBytes?: number;
  inputShape?: number[];
}

export interface LayerSelection {
  ops?: string[];
  layers?: string[];
}

export interface CodeBatch {
  n: number;
  /** n rows of ceil(units / 8) bytes: the packed full codes, MSB first. */
  codes: Uint8Array;
  /** Argmax of the model's first output per sample. */
  preds: Int32Array;
  /** Set bits per sample and layer, n x L row-major. */
  active: Uint32Array;
  /** 53-bit hash of each layer's code (n x L), and of each prefix code (layers 0..l). */
  layerHash: Float64Array;
  prefixHash: Float64Array;
}

/** Where the rows of a float32 .npy file are: its path, the offset of its data, and its array shape. */
export interface NpyRows {
  path: string;
  dataOffset: number;
  shape: number[];
}

/**
 * A task's inputs: the samples themselves, or rows [start, start + n) of a float32 .npy file, which the worker
 * reads itself. A process worker runs onnxruntime on its only JS thread, so an input sent through its IPC channel
 * is read only between runs: a large one (921 KB per ultraface sample) then waits for a run to end instead of
 * arriving during it.
 */
export type TaskInput = Float32Array | (NpyRows & { start: number });

/** Per sample: per layer, the near-tie bits and the exact-tie bits (indices within the layer, ascending). */
export interface SampleNearTies {
  near: number[][];
  exact: number[][];
}

export interface EngineApi {
  summary(model: ModelRef, selection: LayerSelection): Promise<ModelSummary>;
  codes(model: ModelRef, selection: LayerSelection, data: TaskInput, n: number): Promise<CodeBatch>;
  /**
   * Near-ties and exact ties of n samples (src/core/near-ties): per sample, per selected layer, the bits (indices
   * within the layer) that float rounding could flip.
   */
  nearTies(model: ModelRef, selection: LayerSelection, data: TaskInput, n: number, tol: number): Promise<SampleNearTies[]>;
  /** A plain forward pass of the unmodified model (the benchmark's baseline); returns the first output. */
  forward(model: ModelRef, data: TaskInput, n: number): Promise<Float32Array>;
  /** Boundary density along the path between two inputs, with optional exact crossings (src/core/analyses/path). */
  path(model: ModelRef, selection: LayerSelection, req: PathRequest): Promise<PathResult>;
  /** Local complexity around inputs (src/core/analyses/local). */
  local(model: ModelRef, selection: LayerSelection, req: LocalRequest): Promise<LocalResult>;
  /** Region map of a 2D slice, optionally with the exact regions (src/core/analyses/slice). */
  slice(model: ModelRef, selection: LayerSelection, req: SliceRequest): Promise<SliceResult>;
  /** Scale one layer's activation by each alpha and compare later bits and predictions (src/core/analyses/scale). */
  scale(model: ModelRef, req: ScaleRequest): Promise<Omit<ScaleResult, 'inputs_note'>>;
  /** Clusters spline codes and activations, with PCA / NMF baselines (src/core/analyses/cluster). */
  cluster(model: ModelRef, selection: LayerSelection, req: ClusterRequest): Promise<ClusterResult>;
  /**
   * One chunk of a density study: the densities of the given pairs (src/core/analyses/density-study pairDensity).
   * The host draws the pairs and computes the statistics (src/worker/jobs.ts runDensityStudy), so a study reports
   * progress, stops between chunks on cancel, and uses every worker.
   */
  densityStudy(model: ModelRef, selection: LayerSelection, req: StudyChunkRequest): Promise<(StudyPairDensity | null)[]>;
  /** The polytope around one input (src/core/analyses/polytope). */
  polytope(model: ModelRef, req: PolytopeRequest): Promise<PolytopeResult>;
  /**
   * The polytope of one point with the points just across its facets (row i for neighbours[i]), for the polytope
   * view: the host keeps the points so that a click on a neighbour inspects it (src/core/analyses/polytope-across).
   */
  polytopeAcross(model: ModelRef, req: PolytopeRequest): Promise<{ result: PolytopeResult; across: Float64Array }>;
  /**
   * Asks the polytope run whose request carries this progressTask to stop its facet LPs: it ends as at the time
   * limit, with the facets found so far (a partial list). False when no such run is in this worker.
   */
  stopPolytope(progressTask: number): Promise<boolean>;
  /** Why the polytope cannot be inspected on this model (a smooth or non-affine layer), in one sentence; null when it can. */
  polytopeProblem(model: ModelRef): Promise<string | null>;
  /** Distributions of polytope size over groups of inputs (polytope --compare). */
  polytopeCompare(model: ModelRef, req: PolytopeCompareRequest): Promise<PolytopeCompareResult>;
}

export interface PolytopeParams {
  box?: [number, number];
  precision?: 'float64' | 'float32';
  facets?: 'full' | 'rays';
  rays?: number;
  maxSeconds?: number;
  /** Threads deciding rows by growing LPs (default: CPU cores, at most 4, from 500 rows on). */
  lpThreads?: number;
  seed?: number;
  /** Where to report progress (ProgressMessage), as EnginePool.submit gives it. */
  progressTask?: number;
}

/** `polytope`: one input, from a file and index or given directly. */
export interface PolytopeRequest extends PolytopeParams {
  inputs?: string;
  index: number;
  /** The point itself (float64 for a point just across a facet, which float32 would round back onto it). */
  x?: Float32Array | Float64Array;
  neighbours?: boolean;
}

export interface PolytopeCompareRequest extends PolytopeParams {
  groups: { name: string; data: Float32Array; indices: number[]; labels?: Int32Array; filter?: 'correct' | 'misclassified'; limit?: number }[];
}

/** Inputs of `path`: a .npy file / image folder and two row indices, or the two endpoints themselves. */
export interface PathRequest {
  inputs?: string;
  from: number;
  to: number;
  /** Endpoints given directly (per-sample size each); then `inputs`, `from`, `to` are only echoed. */
  a?: Float32Array;
  b?: Float32Array;
  steps: number;
  exact?: boolean;
  precision?: 'float64' | 'float32';
}

export interface LocalRequest {
  inputs?: string;
  /** Points given directly (n x per-sample size) instead of a file. */
  data?: Float32Array;
  /** Use the first n inputs (default: all, at most 100). */
  n?: number;
  /** Only shard k of n (1-based) of those inputs, which keep their global indices. */
  shard?: { k: number; n: number };
  directions: number;
  radius: number;
  seed: number;
}

/** A 2D slice: window, grid resolution, and for models with more than 2 input values the plane's three inputs. */
export interface SliceRequest {
  window: [number, number];
  resolution: number;
  exact?: boolean;
  /** Include the exact regions' polygons (default true). */
  polygons?: boolean;
  precision?: 'float64' | 'float32';
  /** x(u, v) = a + u (b - a) + v (c - a); each per-sample size; indices are echoed. */
  plane?: { a: Float32Array; b: Float32Array; c: Float32Array; indices?: number[] };
  /** Reports progress (ProgressMessage) under this task number: with `exact`, the stage 'exact regions'
   * (pre-activations cut), then 'grid points'. */
  progressTask?: number;
}

export interface ScaleRequest {
  layer: string;
  alphas: number[];
  /** n x per-sample size inputs. */
  data: Float32Array;
  n: number;
}

/** workerData of every pool worker. */
export interface WorkerConfig {
  /** Intra-op threads of each onnxruntime session in the worker. */
  threads: number;
}

/** Options of `cluster` that cross the thread boundary; src/core/analyses/cluster's ClusterOptions adds the rest. */
export interface ClusterParams {
  inputsNote?: string;
  labelsNote?: string;
  /** Layer whose activation is clustered (default: the last selected layer). */
  layer?: string;
  minClusterSize?: number;
  minSamples?: number;
  k?: number;
  topM?: number;
  exemplars?: number;
  seed?: number;
  methods?: ClusterMethodKey[];
}

/** Inputs of `cluster`: n inputs, optional labels, and the options. */
export interface ClusterRequest extends ClusterParams {
  /** n x per-sample size inputs. */
  data: Float32Array;
  n: number;
  labels?: Int32Array;
  /** Where to report progress (ProgressMessage), as EnginePool.submit gives it. */
  progressTask?: number;
}

/**
 * Progress of a long worker task, posted by the worker beside comlink's messages (comlink ignores a message
 * without its request id): steps `done` of `total` of the task numbered `task` by the pool.
 */
export interface ProgressMessage {
  /** `stage`: which part of a task with several (the polytope's affine forms, rays, facets, neighbours). */
  polytopeLensProgress: { task: number; done: number; total: number; stage?: string };
}

export function isProgressMessage(data: unknown): data is ProgressMessage {
  return typeof data === 'object' && data !== null && 'polytopeLensProgress' in data;
}

/** The pairs of one density-study chunk: the rows they use, and each pair as two row indices into them. */
export interface StudyChunkRequest {
  /** m x per-sample size inputs (only the rows this chunk's pairs use). */
  rows: Float32Array;
  /** Row indices into `rows`, two per pair. */
  pairs: Int32Array;
  /** Aligned at the first class change (different-class pairs) or at the middle step (control pairs). */
  aligned: boolean;
  steps: number;
  window: number;
}

/** One pair of a density study: mean density within ±window steps of the aligned step, elsewhere, and the profile. */
export interface StudyPairDensity {
  near: number;
  elsewhere: number;
  /** Density at offsets -window..+window of the aligned step; null past the ends of the path. */
  profile: (number | null)[];
}

/** `path --soft`: also compute the soft (probabilistic) spline code distances along the path. */
export interface PathRequest {
  soft?: boolean;
  /** Interpolate in this layer's activation space and run the rest of the network from there. */
  layer?: string;
}
