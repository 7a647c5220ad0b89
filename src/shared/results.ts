/**
 * The engine's results, exactly as the CLI prints them with --json (DESIGN.md §4, extended; the README documents
 * every field). Shared by the CLI, the worker, the extension host, the language server and the webviews.
 */

export interface TensorInfo {
  name: string;
  /** Dimensions; a symbolic dimension is its name. */
  shape: (number | string)[];
  dtype: string;
}

export interface LayerInfo {
  /** ONNX node name (unnamed nodes: op_type + index in the node list). */
  key: string;
  op: string;
  /** The op's input tensor. */
  preact_tensor: string;
  /** Bits this layer contributes to the code. */
  units: number;
  /** First bit of the layer in the (selected) code. */
  offset: number;
  /** False for sign codes of smooth activations. */
  exact: boolean;
  /** Pre-activation shape without the batch axis. */
  shape: number[];
  /**
   * The module the layer's node comes from, as named_modules() spells it (`layer1.0.relu`; '' = the root module,
   * e.g. a functional F.relu in the model's forward). Absent when neither metadata, names nor parameters tell.
   */
  module?: string;
  /** What told the module: node metadata (torch.export-based exporter), scope names, or parameter names. */
  module_from?: 'metadata' | 'scope' | 'params';
  /** The user-code line that made the node, from the exporter's recorded stack trace (file as recorded). */
  source?: { file: string; line: number };
}

export interface UnsupportedOp {
  node: string;
  op: string;
  reason: string;
}

export interface ModelSummary {
  model: string;
  producer: string;
  opset: number;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  layers: LayerInfo[];
  total_units: number;
  unsupported: UnsupportedOp[];
  /** How the batch axis is handled: free, or fixed in the file and freed (checked) or kept. */
  batch?: string;
}

export interface LayerStats {
  key: string;
  /** Mean share of the layer's bits that are 1, over all samples. */
  active_fraction: number;
  /** Bits that are 0 on every sample. */
  dead_units: number;
  /** Bits that are 1 on every sample. */
  always_on_units: number;
  /** Distinct codes of this layer alone. */
  distinct_codes: number;
  /** Distinct prefix codes: this layer and all before it (in the selection). */
  distinct_prefix_codes: number;
  /**
   * Histogram of the units' active fractions (share of samples on which a unit's bit is 1) in ACTIVE_HISTOGRAM_BINS
   * equal bins over [0, 1]; bin i holds fractions in [i/B, (i+1)/B), the last bin also 1. Dead units are in bin 0,
   * always-on units in the last bin.
   */
  active_histogram: number[];
  /** With --near-ties: near-tie bits of this layer, summed over the samples (src/core/near-ties). */
  near_ties?: number;
  /** With --near-ties: exact-tie bits of this layer (MaxPool windows), summed over the samples. */
  exact_ties?: number;
}

/** Bins of LayerStats.active_histogram. */
export const ACTIVE_HISTOGRAM_BINS = 20;

export interface CodeSample {
  index: number;
  /** Argmax of the model's first output. */
  pred: number;
  active_per_layer: number[];
  code_hex: string;
  /** With --near-ties: per layer key, the bits (indices within the layer) that float rounding could flip. */
  near_ties?: Record<string, number[]>;
  /**
   * With --near-ties: per layer key, the bits of MaxPool windows whose (non-zero) maximum is shared by equal
   * entries: the first-maximum convention decides, and a runtime that rounds them apart may decide otherwise.
   */
  exact_ties?: Record<string, number[]>;
}

export interface CodesResult {
  model: string;
  layers: LayerInfo[];
  n: number;
  /** Bytes of one packed code row (ceil(total units / 8)). */
  code_bytes: number;
  distinct_codes: number;
  distinct_per_layer: Record<string, number>;
  stats: LayerStats[];
  /** How the inputs were obtained (file, folder of images, or probes). */
  inputs_note: string;
  /** Left out when the codes were written to a file with --out. */
  samples?: CodeSample[];
  /** Where --out wrote the packed codes. */
  out?: { path: string; format: string; rows: number; row_bytes: number };
  /** With --near-ties: the tolerance, relative to each layer's largest |pre-activation| in the sample. */
  near_tie_tolerance?: number;
  /** With --shard K/N: this run holds rows first .. first + n - 1 of the total rows of the whole run. */
  shard?: { k: number; n: number; first: number; total: number };
}

// ---- Paths, exact 1D crossings, local complexity, density study (src/core/analyses) ----

export interface PathCrossing {
  /** Position on the segment, x(t) = a + t (b - a). */
  t: number;
  /** Layer key. */
  layer: string;
  /** Bit index within the layer (as in the layer's code: Clip 2u / 2u+1, MaxPool output element * window + j). */
  unit: number;
}

export interface ExactPathResult {
  /** Bit flips along the whole segment (selected layers); always >= the sampled Hamming total. */
  total_flips: number;
  flips_per_layer: Record<string, number>;
  /** Affine pieces of the network on the segment (distinct crossing positions + 1), over all layers. */
  linear_pieces: number;
  /** Sorted by t. */
  crossings: PathCrossing[];
  /** Precision of the forward passes actually used. */
  precision: 'float64' | 'float32';
  /** True when a smooth (sign-code) layer or an uncounted nonlinearity makes the crossings approximate. */
  approximate: boolean;
  approximate_layers: string[];
  /** Largest |pre-activation| at a located crossing relative to the values at the interval ends (0 = exactly affine). */
  max_residual: number;
  /** Points at which the model was evaluated. */
  forward_points: number;
  seconds: number;
  note?: string;
}

export interface PathResult {
  model: string;
  layers: LayerInfo[];
  steps: number;
  /** Hamming distance of the codes of x_k and x_{k+1}, k = 0..N-1. */
  per_step: number[];
  total: number;
  per_layer_total: Record<string, number>;
  per_layer_per_step: Record<string, number[]>;
  /** Per layer and step: Hamming distance / L2 distance of the layer's pre-activations (null when 0/0 is not). */
  density: Record<string, (number | null)[]>;
  /** Per step: total Hamming distance / L2 step length in input space. */
  density_input: (number | null)[];
  distinct_codes_on_path: number;
  /** Argmax of the first output at each of the N+1 points. */
  preds: number[];
  /** Steps k where the prediction at x_k differs from x_{k+1}. */
  class_changes_at_step: number[];
  exact?: ExactPathResult;
  /** When the path was interpolated in a layer's activation space (--layer). */
  interpolated_in?: string;
}

export interface LocalPoint {
  index: number;
  pred: number;
  /** Units (bits) whose state differs across the 2P vertices, per layer. */
  per_layer: number[];
  total: number;
}

export interface LocalResult {
  model: string;
  layers: LayerInfo[];
  n: number;
  directions: number;
  radius: number;
  seed: number;
  per_point: LocalPoint[];
  mean_per_layer: Record<string, number>;
  mean_total: number;
  /** Layers whose count is exact (the first layer: its pre-activation is affine in the input). */
  exact_layers: string[];
  precision: 'float64' | 'float32';
  note: string;
  /** With --shard K/N: these are points first .. first + n - 1 of the total points of the whole run. */
  shard?: { k: number; n: number; first: number; total: number };
}

export interface DensityGroupStats {
  pairs: number;
  /** Mean density (Hamming per input-space length) within ±window steps of the aligned step. */
  near_mean: number;
  elsewhere_mean: number;
  /** near_mean / elsewhere_mean. */
  ratio: number;
  /** Paired effect size: mean(near - elsewhere) / sd(near - elsewhere). */
  effect_size: number;
  /** Sign-flip permutation test of mean(near - elsewhere) > 0, seeded. */
  p_value: number;
  /** Mean density at offsets -window..+window around the aligned step. */
  aligned_profile: number[];
}

export interface DensityStudyResult {
  model: string;
  steps: number;
  window: number;
  permutations: number;
  seed: number;
  /** 'predicted' (argmax of the model) or 'labels' (--labels file). */
  class_source: 'predicted' | 'labels';
  /** Pairs of different class, aligned at their (first) class-change step. */
  different_class: DensityGroupStats;
  /** Control: pairs of the same class, aligned at the middle step. */
  same_class: DensityGroupStats;
  /** Different-class pairs whose path showed no class change (left out). */
  skipped_pairs: number;
  note: string;
}

// ---- 2D slices (region maps, exact regions) and activation scaling ----

/** Codes on the R x R grid of a 2D slice (DESIGN.md §3). */
export interface SliceGrid {
  resolution: number;
  window: [number, number];
  /** Distinct codes among the grid points (of the selected layers). */
  distinct_codes: number;
  /** R*R region ids, row i = y: order of first appearance in a row-major scan. */
  region_ids_row_major: number[];
  /** R*R predicted classes (argmax of the first output), row-major: the decision boundary. */
  pred_row_major: number[];
}

export interface ExactPolygon {
  /** Counter-clockwise vertices in plane coordinates (u, v). */
  vertices: [number, number][];
  /** The region's full code (all layers), DESIGN.md §3 hex. */
  code_hex: string;
  /** Predicted class at the mean of the vertices. */
  pred: number;
  area: number;
}

/** Exact linear regions of the window (Regioncam's algorithm through the model). */
export interface ExactRegions {
  regions: number;
  window: [number, number];
  window_area: number;
  /** Sum of the regions' areas (equals window_area up to rounding). */
  total_area: number;
  min_region_area: number;
  mean_region_area: number;
  /** Vertices of the planar subdivision. */
  vertices: number;
  mean_vertices_per_region: number;
  max_vertices_per_region: number;
  /** Regions of the prefix code after each layer, by layer key. */
  regions_after_layer: Record<string, number>;
  /** Area of each region, in the order of `polygons`. */
  areas: number[];
  polygons?: ExactPolygon[];
  /** Segments [u0, v0, u1, v1] where the top class changes. */
  decision_boundary: [number, number, number, number][];
  /** Arithmetic of the pre-activations: float64 unless onnxruntime could not run the model in double. */
  precision: 'float64' | 'float32';
  precision_note?: string;
  /** Values within this share of the layer's largest |value| count as zero (on the cut line). */
  zero_tolerance: number;
  /** Cuts skipped because a face's values were not affine (rounding; expected 0 in float64). */
  degenerate_cuts: number;
  forward_passes: number;
  forward_ms: number;
  ms: number;
}

export interface SliceResult {
  model: string;
  window: [number, number];
  /** Sample indices of a, b, c when the slice is a plane through three inputs. */
  plane: { indices: number[]; note: string };
  /** Keys of the layers whose codes the grid uses. */
  layers: string[];
  grid: SliceGrid;
  exact?: ExactRegions;
}

export interface ScaleAlphaResult {
  alpha: number;
  /** Share of samples whose prediction differs from alpha = 1. */
  changed_predictions: number;
  /** Mean bits flipped per sample vs alpha = 1, per later layer (by key). */
  flipped_bits_per_layer: Record<string, number>;
  /** Mean bits flipped per sample over all later layers. */
  flipped_bits_total: number;
  /** Share of samples whose code of the later layers changed at all. */
  changed_codes: number;
}

export interface ScaleResult {
  model: string;
  /** The scaled layer: its op's output is multiplied by alpha before its consumers. */
  layer: string;
  scaled_tensor: string;
  /** Layers after it (whose bits can change), with their bit counts. */
  /** The layers after the scaled one (with the module and source line when the file tells them). */
  later_layers: Pick<LayerInfo, 'key' | 'units' | 'module' | 'module_from' | 'source'>[];
  n: number;
  inputs_note: string;
  alphas: ScaleAlphaResult[];
}

/** One cluster of a clustering, or the top examples of one direction (PCA / NMF), in `cluster` results. */
export interface ClusterInfo {
  id: number;
  size: number;
  /** null without labels. */
  majority_label: number | null;
  purity: number | null;
  /** Clusters: the medoid's index and the members closest to it (medoid first). Directions: the top examples. */
  medoid: number | null;
  exemplars: number[];
  /** HDBSCAN: excess-of-mass stability; PCA: variance along the direction; NMF: share of the data's norm. */
  score?: number;
}

export type ClusterMethodKey = 'hdbscan_codes' | 'hdbscan_activations' | 'kmedoids_codes' | 'kmedoids_activations' | 'pca' | 'nmf';

export interface ClusterMethodResult {
  kind: 'clusters' | 'directions';
  algorithm: 'hdbscan' | 'kmedoids' | 'pca' | 'nmf';
  space: 'codes' | 'activations';
  distance: 'hamming' | 'euclidean' | null;
  params: Record<string, number | string>;
  n_clusters: number;
  clusters: ClusterInfo[];
  /** Clusters: size-weighted purity over clustered points (noise excluded). Directions: mean purity of the top-m sets. */
  weighted_purity: number | null;
  /** NMI with the labels over all points (noise as one group; directions: each point's argmax direction). */
  nmi: number | null;
  noise_share: number;
  /** Per input: cluster id, -1 for noise; directions: the argmax direction. */
  assignments: number[];
  seconds: number;
  note?: string;
}

export interface ClusterResult {
  model: string;
  n: number;
  inputs_note: string;
  labels_note: string | null;
  /** Layers of the spline codes (the selection) and the code length; bits constant over the inputs are dropped
   *  before the distances, which leaves Hamming distances unchanged. */
  code_layers: LayerInfo[];
  code_bits: number;
  varying_bits: number;
  /** The layer whose activation (the op's output) is clustered under Euclidean distance. */
  activation_layer: { key: string; op: string; tensor: string; size: number } | null;
  params: { min_cluster_size: number; min_samples: number; k: number; top_m: number; exemplars: number; seed: number };
  /** DESIGN §4's headline: the first method run (hdbscan_codes by default). */
  method: ClusterMethodKey;
  clusters: ClusterInfo[];
  weighted_purity: number | null;
  nmi: number | null;
  noise_share: number;
  /** The PCA and NMF directions, as in `methods`, without assignments. */
  baselines: Partial<Record<'pca' | 'nmf', Omit<ClusterMethodResult, 'assignments'>>>;
  methods: Partial<Record<ClusterMethodKey, ClusterMethodResult>>;
  /** One row per method, side by side. */
  comparison: { method: ClusterMethodKey; n_clusters: number; weighted_purity: number | null; nmi: number | null; noise_share: number; seconds: number }[];
  timing: { codes_s: number; activations_s: number; hamming_s: number; euclidean_s: number; total_s: number };
  conventions: string;
}

/** `path --soft`: the probabilistic spline code along the path (src/core/analyses/soft). */
export interface SoftPathResult {
  /** Soft Hamming distance sum_k |p_k(x_i) - p_k(x_{i+1})| per step, over the layers in per_layer_total. */
  per_step: number[];
  total: number;
  per_layer_total: Record<string, number>;
  per_layer_per_step: Record<string, number[]>;
  /** The membership used per layer: Phi(z) (GELU), sigmoid(z) (SiLU), (1 + tanh z) / 2 (Tanh), or the hard bit. */
  membership: Record<string, string>;
  /** MaxPool layers: not part of the soft sum. */
  skipped_layers: string[];
  precision: 'float64' | 'float32';
}

/** PathResult gains `soft` with --soft (declaration merging keeps this file append-only). */
export interface PathResult {
  soft?: SoftPathResult;
}

/** PathResult gains these with --layer (interpolation in a layer's activation space; declaration merging). */
export interface PathResult {
  /** The tensors fed to the rest of the network: the layer's output first, then skip tensors crossing the cut. */
  cut_tensors?: { name: string; elements: number }[];
  /** Per step: total Hamming distance / step length of the chosen layer's activation (its op's output). */
  density_in_layer?: (number | null)[];
  note?: string;
}

/**
 * Where a layer comes from, for views that show it before the ONNX node name: the module path (`(root)` for the
 * model's own forward) and the source line (`nested.py:23`), or '' when the file tells neither.
 */
export function layerOrigin(l: Pick<LayerInfo, 'module' | 'source'>): string {
  const mod = l.module === undefined ? '' : l.module || '(root)';
  const src = l.source ? `${l.source.file.replace(/\\/g, '/').split('/').pop()}:${l.source.line}` : '';
  return [mod, src].filter(Boolean).join(' · ');
}

/** Whether any of the layers has a module or a source line (views add a module column only then). */
export function hasOrigins(layers: Pick<LayerInfo, 'module' | 'source'>[]): boolean {
  return layers.some((l) => l.module !== undefined || l.source !== undefined);
}

/** A unit constraint of a polytope: the layer key of `summary` and the bit index within that layer. */
export interface PolytopeUnit {
  layer: string;
  unit: number;
}

/** A facet: a non-redundant unit constraint, with the distance from the input to its hyperplane. */
export interface PolytopeFacet extends PolytopeUnit {
  distance: number;
  /** Other constraints on the same hyperplane (MaxPool entries beside their ReLU, for example). */
  also?: PolytopeUnit[];
}

/** The region on the other side of a facet, confirmed by a forward pass at a point just across it. */
export interface PolytopeNeighbour extends PolytopeUnit {
  code_hex: string;
  pred: number;
  /** Bits that differ from the input's code at the point across. */
  flipped_bits: number;
  /** True when only the facet's own bits (its hyperplane's constraints) changed. */
  confirmed: boolean;
}

/** `polytope` (src/core/analyses/polytope): the region of one input in full dimension. */
export interface PolytopeResult {
  model: string;
  index: number;
  pred: number;
  code_hex: string;
  dim: number;
  precision: 'float64' | 'float32';
  /** Relative error of the affine pre-activations at a random point inside the region (max |error| / max |z|). */
  residual: number;
  /** Rows of the H-representation: one per bit (MaxPool: winner >= each other entry of its window). */
  constraints: number;
  /** Of those: rows with a zero normal (constant inside the region) and rows equal to an earlier one. */
  constant_constraints: number;
  duplicate_constraints: number;
  box: [number, number] | null;
  facets: PolytopeFacet[];
  /** False when the facet list was not computed (only the nearest boundaries). */
  facets_complete: boolean;
  inradius: number | null;
  chebyshev_center: number[] | null;
  nearest: PolytopeFacet;
  /** The facets (unit constraints) enclose a bounded polytope; with --box, within the box. */
  bounded: boolean;
  neighbours: PolytopeNeighbour[];
  layers: LayerInfo[];
  /** Facets per layer key. */
  facets_per_layer: Record<string, number>;
  /** How the facets were found: rays from the Chebyshev centre, LPs for the rest. */
  /** local_*: the row LPs of local-facets.ts (rows tested, LPs run, facets they showed, rows they proved redundant;
   *  local_over_facets: the second pass's LPs over the facets found, for rows whose growing LP would free too many
   *  inputs); clarkson_facets: the facets Clarkson's LPs found (the nearest row, when no ray hit it, counts here too). */
  method: { rays: number; ray_facets: number; lps: number; unresolved: number; box_pruned: number; local_tested?: number; local_lps?: number; local_facets?: number; local_redundant?: number; local_threads?: number; local_helper_rows?: number; local_over_facets?: number; clarkson_facets?: number; lp_solver: string;
    /** Why the LPs left `unresolved` rows untested: the time limit (maxSeconds) or a stop request (Cancel). */
    stopped?: 'time limit' | 'request' };
  /** facets_s = rays_s + local_s + clarkson_s. */
  timing: { affine_s: number; constraints_s: number; chebyshev_s: number; facets_s: number; rays_s?: number; local_s?: number; clarkson_s?: number; neighbours_s: number; total_s: number };
  note?: string;
}

/** `polytope --compare`: distributions of polytope size over groups of inputs. */
export interface PolytopeCompareGroup {
  name: string;
  n: number;
  inradius: PolytopeDistribution;
  facets: PolytopeDistribution;
  nearest: PolytopeDistribution;
  per_input: { index: number; pred: number; inradius: number | null; facets: number; nearest: number; bounded: boolean }[];
}

export interface PolytopeDistribution {
  n: number;
  mean: number | null;
  median: number | null;
  q25: number | null;
  q75: number | null;
  min: number | null;
  max: number | null;
}

export interface PolytopeCompareResult {
  model: string;
  box: [number, number] | null;
  precision: 'float64' | 'float32';
  groups: PolytopeCompareGroup[];
  seconds: number;
  note?: string;
}
