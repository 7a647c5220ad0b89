/**
 * What a position in a Python document points at (a layer definition, a functional call, a model class, an export
 * call), and the numbers behind it: the engine's layers with their analysis statistics.
 */
import type { LayerInfo, LayerStats } from '../shared/results';
import type { AnalysisParams, ModelStructure, OpenLayerArgs } from '../shared/lsp-protocol';
import type { Mapped, Mapping } from './mapping';
import type { ClassDef, ExportCall, FunctionalUse, ModuleDef, PyFile, Span } from './parse';

/** Everything a hover or a CodeLens of one document needs. */
export interface DocView {
  uri: string;
  py: PyFile;
  /** Candidate model files, best first. */
  candidates: string[];
  structure: ModelStructure | null;
  mapping: Mapping | null;
  analysis: AnalysisParams | undefined;
  /** The Python file was modified after the model file (or differs from the lines the export recorded). */
  stale: boolean;
  /** How staleness was told: the export's recorded source lines, or file times. */
  staleFrom?: 'lines' | 'time';
  /** First zero-based row whose text differs from what the export recorded. */
  staleRow?: number;
}

export type Target =
  | { kind: 'def'; def: ModuleDef; span: Span }
  | { kind: 'use'; use: FunctionalUse; span: Span }
  | { kind: 'class'; cls: ClassDef; span: Span }
  | { kind: 'export'; call: ExportCall; span: Span }
  /** A line of forward (or any line) that the export's stack traces point at: `x = blk(x)`, `... + x`. */
  | { kind: 'line'; row: number; text: string; span: Span };

const cache = new WeakMap<PyFile, Target[]>();

/** All targets of a file, in document order. */
export function targets(py: PyFile): Target[] {
  let t = cache.get(py);
  if (t) return t;
  t = [];
  for (const cls of py.classes) {
    if (!cls.isModule) continue;
    // The class header line: from `class` to the end of the name's line.
    t.push({ kind: 'class', cls, span: { ...cls.span, endIndex: cls.nameSpan.endIndex, endRow: cls.nameSpan.endRow, endCol: Number.MAX_SAFE_INTEGER } });
    for (const def of cls.defs) t.push({ kind: 'def', def, span: def.span });
    for (const use of cls.functional) t.push({ kind: 'use', use, span: use.span });
  }
  for (const call of py.exports) t.push({ kind: 'export', call, span: call.span });
  t.sort((a, b) => a.span.startIndex - b.span.startIndex);
  cache.set(py, t);
  return t;
}

function contains(s: Span, line: number, col: number): boolean {
  if (line < s.startRow || line > s.endRow) return false;
  if (line === s.startRow && col < s.startCol) return false;
  if (line === s.endRow && col > s.endCol) return false;
  return true;
}

/** The innermost target at a position. */
export function targetAt(py: PyFile, line: number, col: number): Target | null {
  let best: Target | null = null;
  for (const t of targets(py)) {
    if (t.span.startRow > line) break;
    if (contains(t.span, line, col) && (!best || t.span.endIndex - t.span.startIndex <= best.span.endIndex - best.span.startIndex)) best = t;
  }
  return best;
}

/** A target for a row that stack traces point at (when no parsed target is there), or null. */
export function lineTarget(view: DocView, row: number): Target | null {
  const mapped = view.mapping?.lines.get(row);
  if (!mapped || mapped.nodes.length === 0) return null;
  const text = mapped.nodes.flatMap((n) => n.frames ?? []).find((f) => f.line - 1 === row && f.text)?.text ?? `line ${row + 1}`;
  return { kind: 'line', row, text, span: { startIndex: 0, endIndex: 0, startRow: row, startCol: 0, endRow: row, endCol: Number.MAX_SAFE_INTEGER } };
}

/** Whether a row lies inside an nn.Module class (where stack-trace lines can be). */
export function inModuleClass(py: PyFile, row: number): boolean {
  return py.classes.some((c) => c.isModule && c.span.startRow <= row && row <= c.span.endRow);
}

export function mappedOf(view: DocView, t: Target): Mapped | undefined {
  const m = view.mapping;
  if (!m) return undefined;
  if (t.kind === 'line') return m.lines.get(t.row);
  if (t.kind === 'def') return m.defs.get(t.def);
  if (t.kind === 'use') return m.uses.get(t.use);
  if (t.kind === 'class') return m.classes.get(t.cls);
  return undefined;
}

export interface LayerRow {
  layer: LayerInfo;
  stats?: LayerStats;
  /** Distinct codes of this layer on the probe set. */
  distinct?: number;
  /** Mean boundary crossings per path. */
  crossings?: number;
}

/** The unit layers of a mapped target (its own, else the ones its nodes feed) with the latest statistics. */
export function layerRows(view: DocView, mapped: Mapped): { rows: LayerRow[]; fed: boolean } {
  const own = mapped.layers.length > 0;
  const layers = own ? mapped.layers : mapped.feeds;
  const a = view.analysis;
  const stats = new Map((a?.codes?.stats ?? []).map((s) => [s.key, s]));
  const rows = layers.map((layer): LayerRow => {
    const s = stats.get(layer.key);
    return {
      layer,
      stats: s,
      distinct: s?.distinct_codes ?? a?.codes?.distinct_per_layer?.[layer.key],
      crossings: a?.pathStats?.per_layer_mean[layer.key],
    };
  });
  return { rows, fed: !own && rows.length > 0 };
}

export function openArgs(view: DocView, t: Target, mapped: Mapped | undefined): OpenLayerArgs | null {
  if (!view.structure || !mapped) return null;
  const layer = mapped.layers[0] ?? mapped.feeds[0];
  return {
    modelPath: view.structure.modelPath,
    ...(layer && t.kind !== 'class' ? { layer: layer.key } : {}),
    nodes: t.kind === 'class' ? [] : mapped.nodes.map((n) => n.name),
    source: { uri: view.uri, line: t.span.startRow },
  };
}

/** A module path as Python code reaches it: `blocks.0.fc` → `self.blocks[0].fc`, `blocks.*` → `self.blocks[i]`. */
export function pythonPath(rel: string): string {
  return `self${rel
    .split('.')
    .map((a) => (a === '*' ? '[i]' : /^\d+$/.test(a) ? `[${a}]` : `.${a}`))
    .join('')}`;
}

/** How a definition reads in the hover title. */
export function label(t: Target): string {
  switch (t.kind) {
    case 'def':
      return `${pythonPath(t.def.rel)} = ${t.def.written}${t.def.args}`;
    case 'use':
      return t.use.written;
    case 'class':
      return `class ${t.cls.name}`;
    case 'export':
      return 'torch.onnx.export';
    case 'line':
      return t.text;
  }
}
