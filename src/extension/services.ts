/**
 * What the providers share: the log channel and the engine pools. A pool is created on first use (activation
 * starts no worker) and disposed on deactivate; a change of `polytopeLens.workers` replaces them once idle. Models
 * run in the pool of their layout (src/worker/layout.ts): large models in one worker with intra-op threads, so that
 * their weights are loaded once, small ones in several single-threaded workers.
 */
import * as vscode from 'vscode';
import { EnginePool } from '../worker/pool';
import { modelPoolLayout } from '../worker/layout';
import type { ModelRef } from '../shared/worker-protocol';
import { readConfig, SECTION } from './config';
import { ModelViews } from './modelPage';
import { AnalysisStore } from './analyses';

export interface RunRecord {
  command: string;
  status: 'done' | 'cancelled' | 'failed';
  ms: number;
  message?: string;
}

export class Services implements vscode.Disposable {
  /** By layout, `${workers}x${threads}`. */
  private readonly pools = new Map<string, EnginePool>();
  private running = 0;
  private stale = false;
  /** Open model views (custom editors and summary panels), by model. */
  readonly views = new ModelViews();
  /** The latest analysis of each model (hovers, side panel); fires onDidAnalyse. */
  readonly analyses: AnalysisStore;
  /** How the last analysis ended (status for tests and tools). */
  lastRun: RunRecord | undefined;
  /** The editor group that results (analysis panels, summaries) open in: created once beside the code, then reused. */
  private resultsColumn: vscode.ViewColumn | undefined;

  private constructor(
    readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
  ) {
    this.analyses = new AnalysisStore(context.workspaceState, log);
  }

  static register(context: vscode.ExtensionContext): Services {
    const log = vscode.window.createOutputChannel('Polytope Lens', { log: true });
    const s = new Services(context, log);
    context.subscriptions.push(
      log,
      s,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.workers`)) s.retirePool();
      }),
    );
    // The kept results of every model analysed in this workspace, back before any view asks (hover, CodeLens).
    if (vscode.workspace.isTrusted) void s.restoreStored();
    return s;
  }

  private async restoreStored(): Promise<void> {
    for (const path of this.analyses.storedPaths()) {
      try {
        await this.analyses.restore(vscode.Uri.file(path));
      } catch (e) {
        this.log.warn(`could not restore the results of ${path}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** Runs a job on the pool for `model` (its file's size picks the layout), starting it if needed. */
  async withPool<T>(job: (pool: EnginePool) => Promise<T>, model?: vscode.Uri): Promise<T> {
    const { workers } = readConfig();
    const layout = modelPoolLayout(model?.fsPath, { workers: workers || undefined });
    const key = `${layout.workers}x${layout.threadsPerWorker}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new EnginePool(layout);
      this.pools.set(key, pool);
      this.log.info(`engine pool: up to ${pool.size} workers with ${layout.threadsPerWorker} onnxruntime thread(s) each`);
    }
    this.running++;
    try {
      return await job(pool);
    } finally {
      this.running--;
      if (this.stale && this.running === 0) this.retirePool();
    }
  }

  /** Whether a view column is a results group now: it exists and shows no text editor (code). */
  private isResultsGroup(c: vscode.ViewColumn | undefined): c is vscode.ViewColumn {
    return c !== undefined && vscode.window.tabGroups.all.some((g) => g.viewColumn === c) && !vscode.window.visibleTextEditors.some((e) => e.viewColumn === c);
  }

  /**
   * Where a new results panel goes: the results group while it exists (it closes with its last tab), else a new
   * group beside the code, which then becomes the results group (notePanelColumn).
   */
  resultsViewColumn(): vscode.ViewColumn {
    if (this.isResultsGroup(this.resultsColumn)) return this.resultsColumn;
    this.resultsColumn = undefined;
    return vscode.ViewColumn.Beside;
  }

  /** A results panel was created, restored or shown: its group is the results group when there is none. */
  notePanelColumn(panel: vscode.WebviewPanel): void {
    // The tab model may not list a just-created panel's group yet: a column without code is enough here.
    const c = panel.viewColumn;
    if (!this.isResultsGroup(this.resultsColumn) && c !== undefined && !vscode.window.visibleTextEditors.some((e) => e.viewColumn === c)) this.resultsColumn = c;
  }

  /** A model view (custom editor) opened beside the code by a command: the group it landed in is the results group. */
  noteEditorColumn(uri: vscode.Uri): void {
    if (this.isResultsGroup(this.resultsColumn)) return;
    const tab = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputCustom && t.input.uri.toString() === uri.toString());
    if (tab && this.isResultsGroup(tab.group.viewColumn)) this.resultsColumn = tab.group.viewColumn;
  }

  modelRef(uri: vscode.Uri): ModelRef {
    return { path: uri.fsPath, maxBytes: readConfig().maxModelSizeMB * 2 ** 20 };
  }

  private retirePool(): void {
    if (this.running > 0) {
      this.stale = true;
      return;
    }
    this.stale = false;
    this.disposePools();
  }

  private disposePools(): void {
    const old = [...this.pools.values()];
    this.pools.clear();
    for (const pool of old) void pool.dispose();
  }

  dispose(): void {
    this.analyses.dispose();
    this.disposePools();
  }
}

