/**
 * The latest analyses, per model file: what the language server's hovers and the side panel show. Commands record
 * into it (one line each); it fires onDidAnalyse. When a model file changes on disk (re-exported), its analysis
 * becomes the "previous export" one, so the side panel can show what changed.
 *
 * Results stay: every record is also written to the workspace's extension storage (a Memento), keyed by the
 * sha256 of the model file's content and its path (a copy elsewhere starts without results), keeping the last
 * result of each analysis kind (restore()). A view that opens a model, the side panel and the language server get
 * them back after the view was closed or the window reloaded. A model whose content changed since (a new hash)
 * gets the results stored for the previous content at its path, marked previousExport.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import * as vscode from 'vscode';
import type { PathStats } from '../shared/lsp-protocol';
import type { ClusterResult, ModelSummary, PathResult } from '../shared/results';
import { bestClusterMethod, METHOD_NAMES } from '../shared/cluster-methods';
import { ANALYSIS_TITLES, type AnalysisData, type AnalysisKind, type AnalysisParams, type CodesView, type ModelResultLine } from '../shared/webview-protocol';
import type { InputSource } from '../worker/jobs';
import { plural, termName } from '../shared/glossary';

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
  /** sha256 of the model file's content these results belong to (when known). */
  sha?: string;
  /** Restored from storage (not computed in this window). */
  restored?: boolean;
  /** Restored results of an earlier content of this file: the model was re-exported since. */
  previousExport?: boolean;
}

/** What storage keeps of one model content (compact: results over MAX_STORED_RESULT bytes keep their scalars only). */
interface StoredAnalysis {
  v: 1;
  path: string;
  savedAt: number;
  summary?: ModelSummary;
  codes?: CodesRecord;
  paths: ModelAnalysis['paths'];
  results: Partial<Record<AnalysisKind, ResultRecord & { truncated?: boolean }>>;
}

const KEY_PREFIX = 'polytopeLens.results.v1/';
/** The storage key of the results of one content (sha256) at one path. */
const keyOf = (sha: string, path: string) => `${KEY_PREFIX}${sha}/${path}`;
/** Path -> sha256 of the content last analysed at that path. */
const INDEX_KEY = 'polytopeLens.results.v1.index';
/** Storage keys with results, least recently written first (pruned to MAX_STORED_MODELS). */
const ORDER_KEY = 'polytopeLens.results.v1.order';
const MAX_STORED_MODELS = 40;
const MAX_STORED_RESULT = 512 * 1024;
const MAX_STORED_PATHS = 50;

/** A result too big to keep whole: its top-level numbers, strings and booleans (what a one-line summary needs). */
function compact(result: unknown): unknown {
  if (typeof result !== 'object' || result === null) return result;
  return Object.fromEntries(Object.entries(result).filter(([, v]) => v === null || ['number', 'string', 'boolean'].includes(typeof v)));
}

/** Fills what `a` lacks (codes, paths, kinds of results) from a stored record of the same content; true if any. */
function fillFrom(a: ModelAnalysis, stored: StoredAnalysis): boolean {
  let filled = false;
  if (!a.codes && stored.codes) {
    a.codes = stored.codes;
    filled = true;
  }
  if (a.paths.length === 0 && stored.paths?.length) {
    a.paths = [...stored.paths];
    filled = true;
  }
  for (const [k, r] of Object.entries(stored.results ?? {}) as [AnalysisKind, ResultRecord][]) {
    if (!a.results[k]) {
      a.results[k] = r;
      filled = true;
    }
  }
  return filled;
}

/** sha256 of a file's content, streamed. */
export function sha256File(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (b) => h.update(b))
      .on('error', rej)
      .on('end', () => res(h.digest('hex')));
  });
}

export interface AnalysisEvent {
  model: vscode.Uri;
  kind: 'codes' | 'path' | 'result' | 'summary' | 'rollover' | 'restored';
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
  /** Content hashes by path, valid while the file's mtime and size stay. */
  private readonly hashes = new Map<string, { mtimeMs: number; size: number; sha: Promise<string> }>();
  /** Restores in flight, by path. */
  private readonly restoring = new Map<string, Promise<ModelAnalysis | undefined>>();
  /** Writes to storage, one after another. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly memento?: vscode.Memento,
    private readonly log?: vscode.LogOutputChannel,
  ) {}

  /** sha256 of the model file (cached by mtime and size); undefined when it cannot be read. */
  async hashOf(model: vscode.Uri): Promise<string | undefined> {
    let st;
    try {
      st = statSync(model.fsPath);
    } catch {
      return undefined;
    }
    let h = this.hashes.get(model.fsPath);
    if (!h || h.mtimeMs !== st.mtimeMs || h.size !== st.size) {
      h = { mtimeMs: st.mtimeMs, size: st.size, sha: sha256File(model.fsPath) };
      this.hashes.set(model.fsPath, h);
    }
    try {
      return await h.sha;
    } catch {
      this.hashes.delete(model.fsPath);
      return undefined;
    }
  }

  /** Paths with stored results (restored at activation, so hovers and CodeLens have them before any view opens). */
  storedPaths(): string[] {
    return Object.keys(this.memento?.get<Record<string, string>>(INDEX_KEY) ?? {});
  }

  /**
   * The model's analysis, from storage when this window has none: the results kept for the file's content hash,
   * else (re-exported since) those kept for its path, marked previousExport. Fires 'restored' when it brings any.
   */
  restore(model: vscode.Uri): Promise<ModelAnalysis | undefined> {
    const key = model.fsPath;
    const busy = this.restoring.get(key);
    if (busy) return busy;
    const p = this.doRestore(model).finally(() => this.restoring.delete(key));
    this.restoring.set(key, p);
    return p;
  }

  private async doRestore(model: vscode.Uri): Promise<ModelAnalysis | undefined> {
    const have = this.current.get(model.fsPath);
    if (!this.memento) return have;
    const sha = await this.hashOf(model);
    if (!sha) return have;
    const own = this.memento.get<StoredAnalysis>(keyOf(sha, model.fsPath));
    if (have && (have.sha === undefined || have.sha === sha) && !have.previousExport) {
      have.sha = sha;
      // The same content was analysed before (e.g. re-exported with the same bytes): its other kept results too.
      if (own && fillFrom(have, own)) this.emitter.fire({ model, kind: 'restored', analysis: have });
      return have;
    }
    const lastSha = this.memento.get<Record<string, string>>(INDEX_KEY)?.[model.fsPath];
    const stored = own ?? (lastSha && lastSha !== sha ? this.memento.get<StoredAnalysis>(keyOf(lastSha, model.fsPath)) : undefined);
    const now = () => this.current.get(model.fsPath);
    if (!stored) {
      // Computed in this window for content the file no longer has: shown as the previous export's.
      if (have && have.sha && have.sha !== sha && !have.previousExport && now() === have) {
        const prev: ModelAnalysis = { ...have, previousExport: true };
        this.current.set(model.fsPath, prev);
        this.emitter.fire({ model, kind: 'restored', analysis: prev });
        return prev;
      }
      return have;
    }
    if (have && have.previousExport && !own) return have;
    const a: ModelAnalysis = {
      model,
      mtimeMs: mtimeOf(model),
      summary: stored.summary,
      codes: stored.codes,
      paths: stored.paths ?? [],
      results: stored.results ?? {},
      sha: own ? sha : lastSha,
      restored: true,
      previousExport: !own,
    };
    // What this window recorded meanwhile (during the hash) wins over storage.
    const meanwhile = now();
    if (meanwhile && meanwhile !== have && !meanwhile.previousExport) return meanwhile;
    this.current.set(model.fsPath, a);
    if (a.codes) this.lastInputs ??= a.codes.inputs;
    this.log?.info(`restored the results of ${model.fsPath}${a.previousExport ? ' (from the previous export)' : ''}`);
    this.emitter.fire({ model, kind: 'restored', analysis: a });
    return a;
  }

  /** Writes the model's analysis to storage under its content hash (queued; failures are logged, never thrown). */
  private persist(a: ModelAnalysis): void {
    const memento = this.memento;
    if (!memento || a.previousExport) return;
    this.writing = this.writing.then(async () => {
      try {
        const sha = await this.hashOf(a.model);
        if (!sha) return;
        a.sha = sha;
        // Kinds this window has not run for the same content keep their stored result (the last of each kind).
        const before = memento.get<StoredAnalysis>(keyOf(sha, a.model.fsPath));
        if (before) fillFrom(a, before);
        const results: StoredAnalysis['results'] = {};
        for (const [k, r] of Object.entries(a.results) as [AnalysisKind, ResultRecord][]) {
          const big = JSON.stringify(r.result).length > MAX_STORED_RESULT;
          results[k] = big ? { params: r.params, at: r.at, result: compact(r.result) as ResultRecord['result'], truncated: true } : r;
        }
        const stored: StoredAnalysis = { v: 1, path: a.model.fsPath, savedAt: Date.now(), summary: a.summary, codes: a.codes, paths: a.paths.slice(-MAX_STORED_PATHS), results };
        const key = keyOf(sha, a.model.fsPath);
        await memento.update(key, stored);
        const index = { ...(memento.get<Record<string, string>>(INDEX_KEY) ?? {}), [a.model.fsPath]: sha };
        const order = [...(memento.get<string[]>(ORDER_KEY) ?? []).filter((k) => k !== key), key];
        for (const old of order.splice(0, Math.max(0, order.length - MAX_STORED_MODELS))) {
          await memento.update(old, undefined);
          for (const [path, h] of Object.entries(index)) if (keyOf(h, path) === old) delete index[path];
        }
        await memento.update(INDEX_KEY, index);
        await memento.update(ORDER_KEY, order);
      } catch (e) {
        this.log?.warn(`could not keep the results of ${a.model.fsPath}: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  }

  /** Resolves when every queued write to storage is done (tests). */
  flushed(): Promise<void> {
    return this.writing;
  }

  private entry(model: vscode.Uri): ModelAnalysis {
    const key = model.fsPath;
    const mtimeMs = mtimeOf(model);
    let a = this.current.get(key);
    // Results of an older file (changed on disk without a watcher event) are not mixed with new ones; nor are the
    // restored results of a previous export.
    if (a && ((a.mtimeMs && mtimeMs && a.mtimeMs !== mtimeMs) || a.previousExport)) {
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
    this.persist(a);
    this.emitter.fire({ model, kind: 'codes', analysis: a });
  }

  recordPath(model: vscode.Uri, path: PathResult): void {
    const a = this.entry(model);
    a.paths.push(path.exact ? { total: path.exact.total_flips, perLayer: path.exact.flips_per_layer } : { total: path.total, perLayer: path.per_layer_total });
    this.persist(a);
    this.emitter.fire({ model, kind: 'path', analysis: a });
  }

  /** The latest result of an analysis kind (a path run is also counted in `paths` by recordPath). */
  recordResult(model: vscode.Uri, data: AnalysisData, params: AnalysisParams): void {
    const a = this.entry(model);
    a.results[data.kind] = { params, result: data.result, at: Date.now() };
    this.persist(a);
    this.emitter.fire({ model, kind: 'result', analysis: a });
  }

  recordSummary(model: vscode.Uri, summary: ModelSummary): void {
    const cur = this.current.get(model.fsPath);
    if (cur?.previousExport) {
      // The shown results are of the previous export; this summary is of the new file and is not mixed in.
      this.emitter.fire({ model, kind: 'summary', analysis: cur });
      return;
    }
    const a = this.entry(model);
    a.summary = summary;
    if (a.codes || a.paths.length || Object.keys(a.results).length) this.persist(a);
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

/** One line per kept result of a model (the model view's "Last results"); numbers a truncated record may lack are left out. */
export function resultLines(a: ModelAnalysis): ModelResultLine[] {
  const out: ModelResultLine[] = [];
  const fmt = (x: unknown, d = 2) => (typeof x === 'number' && Number.isFinite(x) ? (Number.isInteger(x) ? String(x) : x.toFixed(d)) : '?');
  if (a.codes) out.push({ kind: 'codes', title: 'Probe codes', at: a.codes.at, line: `${plural(a.codes.codes.n, 'input')}, ${a.codes.codes.distinct_codes} ${termName('regions-hit', a.codes.codes.distinct_codes)}` });
  for (const [kind, r] of Object.entries(a.results) as [AnalysisKind, ResultRecord][]) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const x = r.result as any;
    let line = '';
    switch (kind) {
      case 'path': {
        const ps = pathStats(a);
        line = `${fmt(x.exact?.total_flips ?? x.total)} ${x.exact ? 'exact crossings' : 'bits flipped'} over ${typeof x.steps === 'number' ? plural(x.steps, 'step') : '? steps'}` + (ps && ps.paths > 1 ? ` (mean ${fmt(ps.mean_crossings, 1)} crossings per path over ${ps.paths} paths)` : '');
        break;
      }
      case 'study':
        line = x.different_class ? `boundary density near / elsewhere: different-class ${fmt(x.different_class.ratio)}×, p-value ${fmt(x.different_class.p_value, 3)}; same-class ${fmt(x.same_class?.ratio)}×` : 'density study';
        break;
      case 'slice':
        line = x.exact ? (typeof x.exact.regions === 'number' ? `${plural(x.exact.regions, 'exact region')} in the window` : '? exact regions') : x.grid ? `${fmt(x.grid.distinct_codes)} regions hit by the grid` : 'region map';
        break;
      case 'local':
        line = `mean ${fmt(x.mean_total)} units cut within radius ${fmt(x.radius, 4)} around ${typeof x.n === 'number' ? plural(x.n, 'input') : '? inputs'}`;
        break;
      case 'scale':
        line = `layer ${x.layer ?? '?'} scaled by ${Array.isArray(x.alphas) ? plural(x.alphas.length, 'alpha') : '? alphas'}`;
        break;
      case 'cluster': {
        // The method the view opens on (the best by purity when labels are known), by its readable name.
        const c = x as unknown as ClusterResult;
        const key = (Array.isArray(c.comparison) && c.methods ? bestClusterMethod(c) : undefined) ?? c.method;
        const row = Array.isArray(c.comparison) ? c.comparison.find((r) => r.method === key) : undefined;
        line = row
          ? `${METHOD_NAMES[key] ?? key}: ${plural(row.n_clusters, 'cluster')}, weighted purity ${fmt(row.weighted_purity)}, noise ${Math.round(100 * row.noise_share)} %`
          : `${x.method ?? 'clusters'}: ${Array.isArray(x.clusters) ? plural(x.clusters.length, 'cluster') : '? clusters'}, weighted purity ${fmt(x.weighted_purity)}`;
        break;
      }
      case 'polytope':
        // facets is an array in a whole record; a compacted one keeps only the scalars.
        line = `${Array.isArray(x.facets) ? `${x.facets.length}${x.facets_complete ? '' : '+'} facets, ` : ''}inradius ${x.inradius === null ? 'none (unbounded)' : fmt(x.inradius, 4)}, class ${fmt(x.pred)}`;
        break;
    }
    out.push({ kind, title: ANALYSIS_TITLES[kind], at: r.at, line });
  }
  return out;
}
