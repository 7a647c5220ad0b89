/**
 * The latest analyses, per model file: what the language server's hovers and the side panel show. Commands record
 * into it (one line each); it fires onDidAnalyse. When a model file changes on disk (re-exported), its analysis
 * becomes the "previous export" one, so the side panel can show what changed.
 */
import { statSync } from 'node:fs';
import * as vscode from 'vscode';
import type { PathStats } from '../shared/lsp-protocol';
import type { ModelSummary, PathResult } from '../shared/results';
import type { AnalysisData, AnalysisKind, AnalysisParams, CodesView } from '../shared/webview-protocol';
import type { InputSource } from '../worker/jobs';

export interface CodesRecord {
  codes: CodesView;
  /** The inputs it was run with: re-run as is when the model is re-exported. */
  inputs: InputSource;
  at: number;
}

/** The latest run of one analysis kind: what was asked and what came out (thumbnails are not kept). */
export interface ResultRecord {
  params: AnalysisParams;
  result: AnalysisData['result'];
  at: number;
}

export interface ModelAnalysis {
  model: vscode.Uri;
  /** Modification time of the file that was analysed (ms), 0 when unknown. */
  mtimeMs: number;
  summary?: ModelSummary;
  codes?: CodesRecord;
  /** Crossings of each path run: total and per layer (exact flips when computed, else the sampled Hamming total). */
  paths: { total: number; perLayer: Record<string, number> }[];
  /** The latest result of each analysis with a view (path, study, slice, local, scale, cluster): Export Results writes them. */
  results: Partial<Record<AnalysisKind, ResultRecord>>;
}

export interface AnalysisEvent {
  model: vscode.Uri;
  kind: 'codes' | 'path' | 'result' | 'summary' | 'rollover';
  analysis: ModelAnalysis | undefined;
}

function mtimeOf(uri: vscode.Uri): number {
  try {
    return statSync(uri.fsPath).mtimeMs;
  } catch {
    return 0;
  }
}

export class AnalysisStore implements vscode.Disposable {
  private readonly current = new Map<string, ModelAnalysis>();
  private readonly previous = new Map<string, ModelAnalysis>();
  private readonly emitter = new vscode.EventEmitter<AnalysisEvent>();
  readonly onDidAnalyse = this.emitter.event;
  /** The last Probe Codes inputs of any model: used for models (checkpoints) not probed yet. */
  lastInputs: InputSource | undefined;

  private entry(model: vscode.Uri): ModelAnalysis {
    const key = model.fsPath;
    const mtimeMs = mtimeOf(model);
    let a = this.current.get(key);
    // Results of an older file (changed on disk without a watcher event) are not mixed with new ones.
    if (a && a.mtimeMs && mtimeMs && a.mtimeMs !== mtimeMs) {
      this.previous.set(key, a);
      a = undefined;
    }
    if (!a) {
      a = { model, mtimeMs, paths: [], results: {} };
      this.current.set(key, a);
    }
    return a;
  }

  recordCodes(model: vscode.Uri, codes: CodesView, inputs: InputSource): void {
    const a = this.entry(model);
    a.codes = { codes, inputs, at: Date.now() };
    this.lastInputs = inputs;
    this.emitter.fire({ model, kind: 'codes', analysis: a });
  }

  recordPath(model: vscode.Uri, path: PathResult): void {
    const a = this.entry(model);
    a.paths.push(path.exact ? { total: path.exact.total_flips, perLayer: path.exact.flips_per_layer } : { total: path.total, perLayer: path.per_layer_total });
    this.emitter.fire({ model, kind: 'path', analysis: a });
  }

  /** The latest result of an analysis kind (a path run is also counted in `paths` by recordPath). */
  recordResult(model: vscode.Uri, data: AnalysisData, params: AnalysisParams): void {
    const a = this.entry(model);
    a.results[data.kind] = { params, result: data.result, at: Date.now() };
    this.emitter.fire({ model, kind: 'result', analysis: a });
  }

  recordSummary(model: vscode.Uri, summary: ModelSummary): void {
    const a = this.entry(model);
    a.summary = summary;
    this.emitter.fire({ model, kind: 'summary', analysis: a });
  }

  get(model: vscode.Uri): ModelAnalysis | undefined {
    return this.current.get(model.fsPath);
  }

  /** The analysis of the export before the current one (after a rollover). */
  before(model: vscode.Uri): ModelAnalysis | undefined {
    return this.previous.get(model.fsPath);
  }

  all(): ModelAnalysis[] {
    return [...this.current.values()];
  }

  /** The file changed on disk: its analysis now describes the previous export. Returns it. */
  rollover(model: vscode.Uri): ModelAnalysis | undefined {
    const key = model.fsPath;
    const a = this.current.get(key);
    if (a && (a.codes || a.summary || a.paths.length || Object.keys(a.results).length)) this.previous.set(key, a);
    this.current.delete(key);
    this.emitter.fire({ model, kind: 'rollover', analysis: undefined });
    return a;
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

/** Mean crossings per path, overall and per layer. */
export function pathStats(a: ModelAnalysis): PathStats | undefined {
  const n = a.paths.length;
  if (n === 0) return undefined;
  const per: Record<string, number> = {};
  for (const p of a.paths) for (const [k, v] of Object.entries(p.perLayer)) per[k] = (per[k] ?? 0) + v / n;
  return { paths: n, mean_crossings: a.paths.reduce((s, p) => s + p.total, 0) / n, per_layer_mean: per };
}
