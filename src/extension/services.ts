/**
 * What the providers share: the log channel and the engine pool. The pool is created on first use (activation
 * starts no worker) and disposed on deactivate; a change of `polytopeLens.workers` replaces it once idle.
 */
import * as vscode from 'vscode';
import { EnginePool } from '../worker/pool';
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
  private pool: EnginePool | undefined;
  private running = 0;
  private stale = false;
  /** Open model views (custom editors and summary panels), by model. */
  readonly views = new ModelViews();
  /** The latest analysis of each model (hovers, side panel); fires onDidAnalyse. */
  readonly analyses = new AnalysisStore();
  /** How the last analysis ended (status for tests and tools). */
  lastRun: RunRecord | undefined;

  private constructor(
    readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
  ) {}

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
    return s;
  }

  /** Runs a job on the pool, starting it if needed. */
  async withPool<T>(job: (pool: EnginePool) => Promise<T>): Promise<T> {
    if (!this.pool) {
      const { workers } = readConfig();
      this.pool = new EnginePool({ workers: workers || undefined });
      this.log.info(`engine pool: up to ${this.pool.size} workers`);
    }
    const pool = this.pool;
    this.running++;
    try {
      return await job(pool);
    } finally {
      this.running--;
      if (this.stale && this.running === 0) this.retirePool();
    }
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
    const old = this.pool;
    this.pool = undefined;
    if (old) void old.dispose();
  }

  dispose(): void {
    this.analyses.dispose();
    const old = this.pool;
    this.pool = undefined;
    if (old) void old.dispose();
  }
}
