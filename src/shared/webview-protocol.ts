/**
 * The host <-> webview channels, one typed protocol per channel. Every message a webview sends is untrusted: the
 * host accepts it only through the matching `parse...` function below, and nothing in it names a file (the host
 * knows which model a view shows).
 */
import { isGlossaryTermId, type GlossaryTermId } from './glossary';
import type { ClusterResult, CodesResult, DensityStudyResult, LocalResult, ModelSummary, PathResult, PolytopeResult, ScaleResult, SliceResult } from './results';

/** A CodesResult as a view receives it: without per-sample rows (they can be large and the view does not need them). */
export type CodesView = Omit<CodesResult, 'samples' | 'out'>;

// ---- channel "model view" (custom editor polytopeLens.modelView and the summary panel polytopeLens.summary) ----

export type ModelViewToWebview =
  /** `model` is the model's URI: the page keeps it in its state for the summary panel's serializer. */
  | { type: 'summary'; model: string; fileName: string; summary: ModelSummary }
  /** The model could not be read or analysed; `message` is one sentence for the user. */
  | { type: 'error'; model: string; fileName: string; message: string }
  | { type: 'restricted'; model: string; fileName: string }
  | { type: 'busy'; busy: boolean; label?: string }
  | { type: 'progress'; done: number; total: number }
  /** Select a layer (hover link / CodeLens in the Python code): `layer` is an engine layer key; `nodes` the ONNX nodes. */
  | { type: 'highlight'; layer?: string; nodes: string[] }
  | { type: 'codes'; codes: CodesView }
  /** The kept results of this model (every analysis's last run, also after a reload); previousExport: of an earlier content of the file. */
  | { type: 'results'; previousExport: boolean; items: ModelResultLine[] };

/** One kept result, as a line of the model view: what ran, when, and its main number. */
export interface ModelResultLine {
  kind: 'codes' | AnalysisKind;
  title: string;
  at: number;
  line: string;
}

/** Analyses a view may ask for: a closed list, checked by the host. */
export const MODEL_VIEW_ACTIONS = ['probeCodes', 'pathDensity', 'densityStudy', 'regionMap', 'localComplexity', 'scaleActivations', 'clusterCodes', 'exportResults'] as const;
export type ModelViewAction = (typeof MODEL_VIEW_ACTIONS)[number];

export type ModelViewToHost =
  | { type: 'ready' }
  | { type: 'run'; action: ModelViewAction }
  /** After a highlight: the layer key of the row now selected, or null when none matched. */
  | { type: 'highlighted'; layer: string | null }
  /** Posted after each render: what the page shows (the host logs it; tests assert on it). */
  | { type: 'rendered'; view: 'empty' | 'summary' | 'codes' | 'error' | 'restricted'; layers: number; statsRows: number; results?: number; previousExport?: boolean };

const RENDERED_VIEWS = ['empty', 'summary', 'codes', 'error', 'restricted'] as const;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < 1e9;
}

/** The only way a message from a model view enters the host: returns undefined for anything malformed. */
export function parseModelViewMessage(x: unknown): ModelViewToHost | undefined {
  if (!isRecord(x)) return undefined;
  switch (x.type) {
    case 'ready':
      return { type: 'ready' };
    case 'run':
      return typeof x.action === 'string' && (MODEL_VIEW_ACTIONS as readonly string[]).includes(x.action)
        ? { type: 'run', action: x.action as ModelViewAction }
        : undefined;
    case 'rendered':
      return typeof x.view === 'string' && (RENDERED_VIEWS as readonly string[]).includes(x.view) && isCount(x.layers) && isCount(x.statsRows)
        ? {
            type: 'rendered',
            view: x.view as (typeof RENDERED_VIEWS)[number],
            layers: x.layers,
            statsRows: x.statsRows,
            ...(isCount(x.results) ? { results: x.results } : {}),
            ...(typeof x.previousExport === 'boolean' ? { previousExport: x.previousExport } : {}),
          }
        : undefined;
    case 'highlighted':
      return x.layer === null || (typeof x.layer === 'string' && x.layer.length < 4096) ? { type: 'highlighted', layer: x.layer as string | null } : undefined;
    default:
      return undefined;
  }
}

/** What a model view keeps with setState (restored after a reload; the summary panel's serializer reads `model`). */
export interface ModelViewState {
  /** The model's URI as the host sent it; the host re-validates it before use. */
  model?: string;
  fileName?: string;
  summary?: ModelSummary;
  codes?: CodesView;
  results?: { previousExport: boolean; items: ModelResultLine[] };
}

/** The host-side check of a restored state: only a string URI is taken from it, and the host validates that too. */
export function parseModelViewState(x: unknown): { model: string } | undefined {
  return isRecord(x) && typeof x.model === 'string' && x.model.length < 4096 ? { model: x.model } : undefined;
}

export function withoutSamples(r: CodesResult): CodesView {
  const { samples: _s, out: _o, ...rest } = r;
  return rest;
}

// ---- channel "analysis view" (webview panel polytopeLens.analysis: density, density study, region map, local
// complexity, scaling, clusters, the polytope at a point) ----

/** The analyses with a view of their own; each has one panel per model, reused. */
export const ANALYSIS_KINDS = ['path', 'study', 'slice', 'local', 'scale', 'cluster', 'polytope'] as const;
export type AnalysisKind = (typeof ANALYSIS_KINDS)[number];

/** The page (src/webview/<page>.ts) that shows each kind. */
export const ANALYSIS_PAGES: Record<AnalysisKind, 'densityView' | 'regionView' | 'statsView' | 'clusterView' | 'polytopeView'> = {
  path: 'densityView',
  study: 'densityView',
  slice: 'regionView',
  local: 'statsView',
  scale: 'statsView',
  cluster: 'clusterView',
  polytope: 'polytopeView',
};

/** The title of each kind's view, and the command (polytopeLens.<command>) that runs it. */
export const ANALYSIS_TITLES: Record<AnalysisKind, string> = {
  path: 'Boundary density',
  study: 'Density study',
  slice: 'Region map',
  local: 'Local complexity',
  scale: 'Scaling',
  cluster: 'Clusters',
  polytope: 'Polytope',
};
export const ANALYSIS_COMMANDS: Record<AnalysisKind, string> = {
  path: 'pathDensity',
  study: 'densityStudy',
  slice: 'regionMap',
  local: 'localComplexity',
  scale: 'scaleActivations',
  cluster: 'clusterCodes',
  polytope: 'inspectPolytope',
};

/** What the user asked for (shown in the view; for a region map also what a click needs after a reload). */
export interface AnalysisParams {
  /** The data file (absolute path); the host re-validates it before any use. */
  inputs?: string;
  from?: number;
  to?: number;
  steps?: number;
  exact?: boolean;
  window?: [number, number];
  resolution?: number;
  /** Sample indices a, b, c of a slice plane. */
  plane?: number[];
  layer?: string;
  alphas?: number[];
  n?: number;
  directions?: number;
  radius?: number;
  /** Polytope: the sample index (when the point is a sample of `inputs`), the box LO,HI the region is clipped to,
   *  and how facets are found ('rays': rays only, the list may be partial; 'full': every facet, with LPs). */
  index?: number;
  box?: [number, number];
  facets?: 'full' | 'rays';
  /** Density study: pairs per group, permutations of the test, window (steps either side of the class change). */
  pairs?: number;
  permutations?: number;
  studyWindow?: number;
  /** Cluster: the labels file (absolute path, re-validated by the host), k of k-medoids, HDBSCAN's min cluster size. */
  labels?: string;
  k?: number;
  minClusterSize?: number;
  /** Samples in the data file (N): the view says "n of N inputs" when a run used fewer, and the form checks n against it. */
  available?: number;
  /** Local complexity: the median distance between two inputs (of at most 200) that the default radius is 5 % of. */
  medianDistance?: number;
}

// ---- the parameter form of each analysis view: Run sends new values, the host checks them and runs again ----

/** The parameters each kind's form shows and Run may change (the rest of AnalysisParams stays as the run had it). */
export const RERUN_FIELDS = {
  path: ['from', 'to', 'steps', 'exact'],
  study: ['pairs', 'steps', 'studyWindow', 'permutations'],
  slice: ['window', 'resolution', 'exact'],
  local: ['radius', 'directions', 'n'],
  scale: ['alphas'],
  cluster: ['n', 'k', 'minClusterSize'],
  // The polytope view has no form: its own button asks for every facet (an 'inspect' message).
  polytope: [],
} as const satisfies Record<AnalysisKind, readonly (keyof AnalysisParams)[]>;
export type RerunField = (typeof RERUN_FIELDS)[AnalysisKind][number];
export type RerunParams = Partial<Pick<AnalysisParams, RerunField>>;

/** Whole-number fields and their allowed range (inclusive); the host checks what depends on the data on top. */
const RERUN_INTS: Partial<Record<RerunField, { what: string; min: number; max: number }>> = {
  from: { what: 'The first endpoint', min: 0, max: 1e9 },
  to: { what: 'The second endpoint', min: 0, max: 1e9 },
  steps: { what: 'Steps', min: 1, max: 100_000 },
  pairs: { what: 'Pairs', min: 1, max: 10_000 },
  studyWindow: { what: 'The window (steps either side)', min: 1, max: 10_000 },
  permutations: { what: 'Permutations', min: 1, max: 100_000 },
  resolution: { what: 'The resolution', min: 2, max: 2000 },
  directions: { what: 'Directions', min: 1, max: 10_000 },
  n: { what: 'The number of inputs', min: 1, max: 1_000_000 },
  k: { what: 'k', min: 1, max: 1_000_000 },
  minClusterSize: { what: 'The minimum cluster size', min: 2, max: 1_000_000 },
};
const MAX_ALPHAS = 64;
const MAX_PARAM = 1e12;

/**
 * Structural check of a form's values: only the fields of `kind`, each of its type (integers, finite numbers within
 * ±1e12, booleans, a [lo, hi] pair, at most 64 alphas). Undefined for anything else; ranges are rerunProblem's.
 */
export function parseRerunParams(kind: AnalysisKind, x: unknown): RerunParams | undefined {
  if (!isRecord(x)) return undefined;
  const allowed = RERUN_FIELDS[kind] as readonly string[];
  const out: Record<string, unknown> = {};
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_PARAM;
  for (const [key, v] of Object.entries(x)) {
    if (!allowed.includes(key)) return undefined;
    if (key === 'exact') {
      if (typeof v !== 'boolean') return undefined;
    } else if (key === 'window') {
      if (!Array.isArray(v) || v.length !== 2 || !v.every(finite)) return undefined;
    } else if (key === 'alphas') {
      if (!Array.isArray(v) || v.length > MAX_ALPHAS || !v.every(finite)) return undefined;
    } else if (key === 'radius') {
      if (!finite(v)) return undefined;
    } else if (!(finite(v) && Number.isInteger(v))) return undefined;
    out[key] = Array.isArray(v) ? [...v] : v;
  }
  return out as RerunParams;
}

/** One sentence for the first value out of range (the form shows it; the host checks again), or undefined. */
export function rerunProblem(kind: AnalysisKind, p: RerunParams, available?: number): string | undefined {
  for (const [key, r] of Object.entries(RERUN_INTS) as [RerunField, { what: string; min: number; max: number }][]) {
    const v = (p as Record<string, unknown>)[key];
    if (v === undefined || !(RERUN_FIELDS[kind] as readonly string[]).includes(key)) continue;
    if (typeof v !== 'number' || !Number.isInteger(v)) return `${r.what} must be a whole number.`;
    if (v < r.min || v > r.max) return `${r.what} must be between ${r.min} and ${r.max}, not ${v}.`;
  }
  if (available !== undefined) {
    for (const key of ['from', 'to'] as const) {
      const v = p[key];
      if ((RERUN_FIELDS[kind] as readonly string[]).includes(key) && v !== undefined && v >= available) return `${RERUN_INTS[key]!.what} must be a sample index from 0 to ${available - 1}, not ${v}.`;
    }
    if (p.n !== undefined && p.n > available) return `The number of inputs must be at most ${available} (the samples in the data file), not ${p.n}.`;
  }
  if (kind === 'cluster' && p.n !== undefined && p.n < 2) return 'Clustering needs at least 2 inputs.';
  if (kind === 'cluster' && p.n !== undefined && p.k !== undefined && p.k > p.n) return `k must be at most the number of inputs (${p.n}), not ${p.k}.`;
  if (kind === 'study' && p.steps !== undefined && p.studyWindow !== undefined && 2 * p.studyWindow >= p.steps) return `The window (${p.studyWindow} steps either side) must be less than half the steps (${p.steps}).`;
  if (kind === 'local' && p.radius !== undefined && !(typeof p.radius === 'number' && p.radius > 0)) return `The radius must be a positive number, not ${p.radius}.`;
  if (p.window !== undefined && !(p.window[0] < p.window[1])) return `The window needs LO < HI, not ${p.window[0]}, ${p.window[1]}.`;
  if (kind === 'scale' && p.alphas !== undefined && p.alphas.length === 0) return 'Give at least one scale factor (alpha), for example 0.5, 1, 2.';
  return undefined;
}

export type AnalysisData =
  /**
   * `endpoints`: the sample indices of the two ends; `endpointLabels`: their classes from the labels file when the
   * host knows one (the view shows the predicted class at each end otherwise).
   */
  | { kind: 'path'; result: PathResult; endpoints?: [number, number]; endpointLabels?: [number, number] }
  /** `sampleShape`: the model's input shape without the batch axis (the view says whether a click gives an image). */
  | { kind: 'slice'; result: SliceResult; sampleShape: number[] }
  | { kind: 'local'; result: LocalResult }
  | { kind: 'scale'; result: ScaleResult }
  | { kind: 'study'; result: DensityStudyResult }
  /**
   * `thumbnails`: the exemplar inputs as PNG data URLs, keyed by input index, when the inputs are images (the host
   * renders them, as for a region-map click); `sampleShape` as for a slice.
   */
  | { kind: 'cluster'; result: ClusterResult; sampleShape: number[]; thumbnails?: Record<number, string> }
  /** `origin`: where the point came from (a sample, a neighbour across a facet, a path step, a region-map click). */
  | { kind: 'polytope'; result: PolytopeResult; origin: PolytopeOrigin };

/** Where the point of a polytope view came from; `text` says it in words (the view's subtitle). */
export type PolytopeOrigin = { text: string } & (
  | { from: 'sample'; index: number }
  /** `hops`: neighbours stepped into since the first point (1: a neighbour of it); the facet crossed last. */
  | { from: 'neighbour'; hops: number; layer: string; unit: number }
  /** Point `step` of `steps` on the path between samples `a` and `b` (t = step / steps). */
  | { from: 'path'; a: number; b: number; step: number; steps: number }
  /** A clicked point (u, v) of a region map's plane. */
  | { from: 'region'; u: number; v: number }
);

/** What a click asks the polytope of: a neighbour of a polytope view (index into result.neighbours), a step of a
 *  path view, a point of a region map; or the same point again with every facet ('allFacets'). */
export type InspectTarget = { target: 'neighbour'; neighbour: number } | { target: 'step'; step: number } | { target: 'point'; u: number; v: number } | { target: 'allFacets' };

interface AnalysisHead {
  kind: AnalysisKind;
  /** The model's URI (kept in the page state for the serializer). */
  model: string;
  fileName: string;
  params: AnalysisParams;
}

export type AnalysisToWebview =
  | ({ type: 'busy'; label: string } & AnalysisHead)
  | ({ type: 'result'; data: AnalysisData } & AnalysisHead)
  /** The run failed; `message` is one sentence for the user. */
  | ({ type: 'error'; message: string } & AnalysisHead)
  /** The run was cancelled: nothing (partial or old) is shown as its result. */
  | ({ type: 'cancelled' } & AnalysisHead)
  /** The model at a clicked point of a region map: scores of the first output, its argmax, the input as a PNG for image inputs. */
  | { type: 'point'; u: number; v: number; pred: number; scores: number[]; image?: string; imageNote?: string }
  | { type: 'pointError'; u: number; v: number; message: string }
  | { type: 'exported'; format: ExportFormat; fileName: string }
  /** A Run of the view's form was refused (a value out of range, or a run still going): one sentence; the shown result stays. */
  | { type: 'paramsError'; message: string };

export const EXPORT_FORMATS = ['svg', 'png', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const ANALYSIS_RENDERED = ['empty', 'busy', 'result', 'error', 'cancelled'] as const;
export type AnalysisRenderedView = (typeof ANALYSIS_RENDERED)[number];

export type AnalysisToHost =
  | { type: 'ready' }
  /**
   * After each render, counted from the DOM: `items` = primary marks (density: step bars with a non-zero count;
   * region map: drawn regions; stats: table rows), `marks` = secondary marks (class-change lines + crossing ticks;
   * decision-boundary segments; bars).
   */
  | { type: 'rendered'; view: AnalysisRenderedView; kind?: AnalysisKind; items: number; marks: number }
  /** The page's chart as text (SVG source, a PNG data URL, JSON); the host asks where to save it. */
  | { type: 'export'; format: ExportFormat; content: string }
  /** A click on a region map at plane coordinates (u, v). */
  | { type: 'point'; u: number; v: number }
  /** Inspect the polytope at a point the host computes from what was clicked (the host checks the view's kind). */
  | ({ type: 'inspect' } & InspectTarget)
  /** Run the view's analysis again on the same model and inputs with these values (the form's Run button). */
  | { type: 'rerun'; kind: AnalysisKind; params: RerunParams }
  /** Cancel the run in progress of this view (the form's Cancel button). */
  | { type: 'cancel' };

/** Exports larger than this are refused (a PNG of a big chart is a few MB). */
export const MAX_EXPORT_CHARS = 64 * 2 ** 20;

/** The only way a message from an analysis view enters the host: undefined for anything malformed. */
export function parseAnalysisMessage(x: unknown): AnalysisToHost | undefined {
  if (!isRecord(x)) return undefined;
  switch (x.type) {
    case 'ready':
      return { type: 'ready' };
    case 'rendered': {
      if (typeof x.view !== 'string' || !(ANALYSIS_RENDERED as readonly string[]).includes(x.view) || !isCount(x.items) || !isCount(x.marks)) return undefined;
      const kind = typeof x.kind === 'string' && (ANALYSIS_KINDS as readonly string[]).includes(x.kind) ? (x.kind as AnalysisKind) : undefined;
      return { type: 'rendered', view: x.view as AnalysisRenderedView, kind, items: x.items, marks: x.marks };
    }
    case 'export':
      if (typeof x.format !== 'string' || !(EXPORT_FORMATS as readonly string[]).includes(x.format)) return undefined;
      if (typeof x.content !== 'string' || x.content.length === 0 || x.content.length > MAX_EXPORT_CHARS) return undefined;
      if (!exportContentOk(x.format as ExportFormat, x.content)) return undefined;
      return { type: 'export', format: x.format as ExportFormat, content: x.content };
    case 'point':
      return isCoord(x.u) && isCoord(x.v) ? { type: 'point', u: x.u, v: x.v } : undefined;
    case 'inspect':
      switch (x.target) {
        case 'neighbour':
          return isCount(x.neighbour) ? { type: 'inspect', target: 'neighbour', neighbour: x.neighbour } : undefined;
        case 'step':
          return isCount(x.step) ? { type: 'inspect', target: 'step', step: x.step } : undefined;
        case 'point':
          return isCoord(x.u) && isCoord(x.v) ? { type: 'inspect', target: 'point', u: x.u, v: x.v } : undefined;
        case 'allFacets':
          return { type: 'inspect', target: 'allFacets' };
        default:
          return undefined;
      }
    case 'rerun': {
      if (typeof x.kind !== 'string' || !(ANALYSIS_KINDS as readonly string[]).includes(x.kind)) return undefined;
      const params = parseRerunParams(x.kind as AnalysisKind, x.params);
      return params ? { type: 'rerun', kind: x.kind as AnalysisKind, params } : undefined;
    }
    case 'cancel':
      return { type: 'cancel' };
    default:
      return undefined;
  }
}

function isCoord(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && Math.abs(x) < 1e12;
}

/** The content must be what its format says: an SVG document, a base64 PNG data URL, or JSON. */
export function exportContentOk(format: ExportFormat, content: string): boolean {
  switch (format) {
    case 'svg':
      return /^(<\?xml[^>]*>\s*)?<svg[\s>]/.test(content) && content.trimEnd().endsWith('</svg>');
    case 'png':
      return /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/.test(content);
    case 'json':
      try {
        JSON.parse(content);
        return true;
      } catch {
        return false;
      }
  }
}

/** What an analysis page keeps with setState; it renders from it after a reload, and the host re-sends nothing. */
export interface AnalysisViewState {
  kind?: AnalysisKind;
  model?: string;
  fileName?: string;
  params?: AnalysisParams;
  data?: AnalysisData;
  status?: 'busy' | 'error' | 'cancelled';
  message?: string;
  /** Page-specific view settings (hidden layers, zoom, cursor...). */
  ui?: Record<string, unknown>;
}

/** The host-side check of a restored analysis state: the kind, the model URI (validated again by the host), and the
 *  slice parameters a click needs (the data path is validated again by the host too). */
export function parseAnalysisState(x: unknown): { kind: AnalysisKind; model: string; params: AnalysisParams } | undefined {
  if (!isRecord(x) || typeof x.model !== 'string' || x.model.length >= 4096) return undefined;
  if (typeof x.kind !== 'string' || !(ANALYSIS_KINDS as readonly string[]).includes(x.kind)) return undefined;
  const params: AnalysisParams = {};
  const p = isRecord(x.params) ? x.params : {};
  if (typeof p.inputs === 'string' && p.inputs.length < 4096) params.inputs = p.inputs;
  if (Array.isArray(p.plane) && p.plane.length === 3 && p.plane.every(isCount)) params.plane = p.plane as number[];
  if (Array.isArray(p.window) && p.window.length === 2 && p.window.every(isCoord)) params.window = p.window as [number, number];
  // What a polytope view's Find every facet needs after a reload (the host re-checks them against the file); a path
  // step's click needs from, to and steps, kept below as the path form's fields.
  if (x.kind === 'polytope') {
    if (isCount(p.index)) params.index = p.index;
    if (Array.isArray(p.box) && p.box.length === 2 && p.box.every(isCoord)) params.box = p.box as [number, number];
    if (p.facets === 'full' || p.facets === 'rays') params.facets = p.facets;
  }
  // What a Run of the form after a reload needs besides the form's values (data paths are validated again by the host).
  if (typeof p.labels === 'string' && p.labels.length < 4096) params.labels = p.labels;
  if (typeof p.layer === 'string' && p.layer.length < 4096) params.layer = p.layer;
  if (isCount(p.available)) params.available = p.available;
  for (const key of RERUN_FIELDS[x.kind as AnalysisKind]) {
    const one = parseRerunParams(x.kind as AnalysisKind, { [key]: p[key] === undefined ? null : p[key] });
    if (one) Object.assign(params, one);
  }
  return { kind: x.kind as AnalysisKind, model: x.model, params };
}

// ---- channel "side panel" (webview view polytopeLens.sidePanel: the model of the open file, its last analysis) ----

/** A before/after pair; null where a side is unknown (no analysis of that export, or the layer is new/gone). */
export type BeforeAfter = [number | null, number | null];

export interface SidePanelLayer {
  key: string;
  op: string;
  units: number;
  /** Module path and source line (LayerInfo.module / source), when the file tells them. */
  module?: string;
  source?: { file: string; line: number };
  /** From the last Probe Codes of this export. */
  dead?: number;
  alwaysOn?: number;
  distinct?: number;
  active?: number;
  /** Mean crossings per path (path runs). */
  crossings?: number;
}

export interface SidePanelDeltaRow {
  key: string;
  /** The layer's module path and source line, when the file tells them (named first, as everywhere). */
  module?: string;
  source?: { file: string; line: number };
  units: BeforeAfter;
  distinct: BeforeAfter;
  dead: BeforeAfter;
  alwaysOn: BeforeAfter;
}

export interface SidePanelCheckpoint {
  fileName: string;
  /** The model the panel shows (the others are its checkpoints). */
  current: boolean;
  mtimeMs: number;
  layers?: number;
  units?: number;
  /** From the last Probe Codes of that file, when there is one. */
  n?: number;
  distinct?: number;
  dead?: number;
  alwaysOn?: number;
  error?: string;
}

export type SidePanelSourceKind = 'server' | 'setting' | 'export-call' | 'same-name' | 'workspace' | 'editor';

export interface SidePanelState {
  status: 'idle' | 'loading' | 'ready' | 'missing' | 'error' | 'restricted';
  /** The file the model belongs to and how it was found. */
  source?: { fileName: string; how: SidePanelSourceKind };
  /** The model (for 'missing': where it is expected). `uri` is only shown and kept; the host never reads it back. */
  model?: { uri: string; fileName: string; relPath: string; mtimeMs: number };
  message?: string;
  summary?: { opset: number; producer: string; layers: number; totalUnits: number; unsupported: number };
  layers: SidePanelLayer[];
  analysis?: { n: number; inputsNote: string; distinct: number; dead: number; alwaysOn: number; totalUnits: number; at: number; paths?: number; meanCrossings?: number };
  /** The kept result of every analysis of the model (also after a reload); previousExport: of an earlier content of the file. */
  results?: { previousExport: boolean; items: ModelResultLine[] };
  /** What changed since the previous export (set after the model file changed on disk). */
  delta?: { at: number; analysed: boolean; distinct: BeforeAfter; totalUnits: BeforeAfter; rows: SidePanelDeltaRow[] };
  checkpoints: SidePanelCheckpoint[];
  refreshes: number;
  lastRefresh?: { at: number; fileName: string; reprobed: boolean };
  busy?: string;
  autoRefresh: boolean;
}

export type SidePanelToWebview = { type: 'state'; state: SidePanelState };

/** What the panel's buttons may ask for: a closed list, checked by the host; all act on the model it shows. */
export const SIDE_PANEL_ACTIONS = ['probeCodes', 'openModel', 'refresh', 'probeSeries'] as const;
export type SidePanelAction = (typeof SIDE_PANEL_ACTIONS)[number];

const SIDE_PANEL_VIEWS = ['empty', 'loading', 'model', 'missing', 'error', 'restricted'] as const;
export type SidePanelRenderedView = (typeof SIDE_PANEL_VIEWS)[number];

export type SidePanelToHost =
  | { type: 'ready' }
  | { type: 'run'; action: SidePanelAction }
  /** After each render, counted from the DOM. */
  | { type: 'rendered'; view: SidePanelRenderedView; layers: number; deltaRows: number; checkpoints: number };

/** The only way a message from the side panel enters the host: undefined for anything malformed. */
export function parseSidePanelMessage(x: unknown): SidePanelToHost | undefined {
  if (!isRecord(x)) return undefined;
  switch (x.type) {
    case 'ready':
      return { type: 'ready' };
    case 'run':
      return typeof x.action === 'string' && (SIDE_PANEL_ACTIONS as readonly string[]).includes(x.action) ? { type: 'run', action: x.action as SidePanelAction } : undefined;
    case 'rendered':
      return typeof x.view === 'string' && (SIDE_PANEL_VIEWS as readonly string[]).includes(x.view) && isCount(x.layers) && isCount(x.deltaRows) && isCount(x.checkpoints)
        ? { type: 'rendered', view: x.view as SidePanelRenderedView, layers: x.layers, deltaRows: x.deltaRows, checkpoints: x.checkpoints }
        : undefined;
    default:
      return undefined;
  }
}

// ---- any page -> host: open the glossary (docs/glossary.md) at a term; every page's host accepts it ----

export type GlossaryToHost = { type: 'openGlossary'; term: GlossaryTermId };

/** The only way a glossary request enters the host: the term must be one of src/shared/glossary.ts (no anchor or path
 *  is taken from the page). */
export function parseGlossaryMessage(x: unknown): GlossaryToHost | undefined {
  return isRecord(x) && x.type === 'openGlossary' && isGlossaryTermId(x.term) ? { type: 'openGlossary', term: x.term } : undefined;
}
