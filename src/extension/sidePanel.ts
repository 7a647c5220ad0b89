/**
 * The side panel (a webview view in its own activity-bar container): follows the active editor and shows the model
 * that belongs to it (for a Python file: the model it exports), the model's last analysis, what changed since the
 * previous export, and its checkpoints as a series. When the model file changes on disk (re-exported), it re-reads
 * the summary and, with polytopeLens.autoRefresh, re-runs the last Probe Codes configuration.
 *
 * Which model a Python file exports: the setting polytopeLens.modelForFile, else the language server
 * (polytopeLens/documentModel: the torch.onnx.export path literal, a same-named .onnx), else the same rules here
 * (the server may not be running yet), else a same-named .onnx anywhere in the workspace.
 */
import { promises as fsp } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { messageOf } from '../core/errors';
import type { ModelSummary } from '../shared/results';
import {
  parseSidePanelMessage,
  withoutSamples,
  type BeforeAfter,
  type SidePanelAction,
  type SidePanelCheckpoint,
  type SidePanelDeltaRow,
  type SidePanelLayer,
  type SidePanelSourceKind,
  type SidePanelState,
  type SidePanelToHost,
} from '../shared/webview-protocol';
import { runCodes, type InputSource } from '../worker/jobs';
import { pathStats, resultLines, type ModelAnalysis } from './analyses';
import { readConfig, SECTION } from './config';
import { LanguageClientProvider } from './languageClient';
import { MODEL_VIEW_TYPE } from './modelViewProvider';
import { activeModel } from './pickers';
import type { Services } from './services';
import { webviewHtml, webviewOptions } from './webviewHtml';
import { handleGlossaryMessage } from './glossary';

export const SIDE_PANEL_VIEW = 'polytopeLens.sidePanel';
const DEBOUNCE_MS = 500;

/** Read-only status for tests and tools (LensApi.sidePanel()). */
export interface SidePanelInfo {
  status: SidePanelState['status'];
  /** fsPath of the model shown (or expected, when missing). */
  model?: string;
  /** fsPath of the file the model belongs to. */
  source?: string;
  how?: SidePanelSourceKind;
  layers: number;
  analysed: boolean;
  /** Kept results shown (one per analysis kind and the codes), and whether they are of the previous export. */
  results: number;
  previousExport: boolean;
  deltaRows: number;
  checkpoints: number;
  refreshes: number;
  lastRefresh?: SidePanelState['lastRefresh'];
  /** What the page last reported rendering (undefined until the view is shown). */
  rendered?: Omit<Extract<SidePanelToHost, { type: 'rendered' }>, 'type'>;
  visible: boolean;
}

interface Shown {
  model: vscode.Uri;
  source: vscode.Uri;
  how: SidePanelSourceKind;
  exists: boolean;
}

/** polytopeLens.modelForFile: glob (workspace-relative) or path of a Python file → model path (absolute or workspace-relative). */
function modelFromSetting(doc: vscode.TextDocument): vscode.Uri | undefined {
  const map = vscode.workspace.getConfiguration(SECTION, doc.uri).get<Record<string, unknown>>('modelForFile') ?? {};
  const folder = vscode.workspace.getWorkspaceFolder(doc.uri);
  const base = folder?.uri.fsPath ?? dirname(doc.uri.fsPath);
  for (const [pattern, target] of Object.entries(map)) {
    if (typeof target !== 'string' || !target.toLowerCase().endsWith('.onnx')) continue;
    const glob = folder ? new vscode.RelativePattern(folder, pattern) : pattern;
    const hit = resolve(base, pattern) === doc.uri.fsPath || vscode.languages.match({ pattern: glob }, doc) > 0;
    if (hit) return vscode.Uri.file(isAbsolute(target) ? target : resolve(base, target));
  }
  return undefined;
}

/** The first .onnx path literal of a torch.onnx.export(...) call (the server parses properly; this is the fallback). */
export function exportLiteral(text: string): { literal: string; joined: boolean } | undefined {
  const call = /torch\.onnx\.export\s*\(/g;
  let m: RegExpExecArray | null;
  while ((m = call.exec(text))) {
    const rest = text.slice(m.index, m.index + 2000);
    const lit = /(["'])([^"'\n]+\.onnx)\1/.exec(rest);
    if (lit) {
      const before = rest.slice(0, lit.index);
      return { literal: lit[2]!, joined: /os\.path\.join\s*\(|Path\s*\(|\/\s*$/.test(before.slice(-200)) };
    }
  }
  return undefined;
}

async function exists(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isFile();
  } catch {
    return false;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);
}

const pair = (a: number | undefined, b: number | undefined): BeforeAfter => [a ?? null, b ?? null];
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export class SidePanelProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private rendered: SidePanelInfo['rendered'];
  private shown: Shown | undefined;
  private status: SidePanelState['status'] = 'idle';
  private message: string | undefined;
  private summary: ModelSummary | undefined;
  private busy: string | undefined;
  private checkpoints: SidePanelCheckpoint[] = [];
  private readonly summaries = new Map<string, { mtimeMs: number; summary?: ModelSummary; error?: string }>();
  private refreshes = 0;
  private lastRefresh: SidePanelState['lastRefresh'];
  /** When each model last changed on disk (ms); the delta is shown from then on. */
  private readonly changedAt = new Map<string, number>();
  private readonly watchers = new Map<string, vscode.FileSystemWatcher>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly disposables: vscode.Disposable[] = [];
  private generation = 0;
  private readonly changed = new vscode.EventEmitter<SidePanelInfo>();
  /** Fires after every state change the panel shows (tests wait on it). */
  readonly onDidChange = this.changed.event;

  private constructor(private readonly services: Services) {}

  static register(context: vscode.ExtensionContext, services: Services): SidePanelProvider {
    const p = new SidePanelProvider(services);
    context.subscriptions.push(
      p,
      vscode.window.registerWebviewViewProvider(SIDE_PANEL_VIEW, p, { webviewOptions: { retainContextWhenHidden: false } }),
    );
    p.disposables.push(
      vscode.window.onDidChangeActiveTextEditor(() => void p.follow()),
      vscode.window.tabGroups.onDidChangeTabs(() => void p.follow()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void p.follow(true)),
      services.analyses.onDidAnalyse((e) => {
        if (p.shown && (e.model.fsPath === p.shown.model.fsPath || p.checkpoints.some((c) => join(dirname(p.shown!.model.fsPath), c.fileName) === e.model.fsPath))) {
          p.updateCheckpoints();
          p.post();
        }
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.modelForFile`)) void p.follow(true);
        if (e.affectsConfiguration(`${SECTION}.autoRefresh`)) p.post();
      }),
    );
    void p.follow();
    return p;
  }

  // ---- the webview ----

  resolveWebviewView(view: vscode.WebviewView): void {
    const { context, log } = this.services;
    this.view = view;
    this.ready = false;
    view.webview.options = webviewOptions(context.extensionUri);
    view.webview.onDidReceiveMessage((raw) => {
      if (handleGlossaryMessage(raw)) return; // the ⓘ link of a term, the same on every page
      const msg = parseSidePanelMessage(raw);
      if (!msg) {
        log.warn('side panel: ignored a malformed message');
        return;
      }
      void this.onMessage(msg);
    });
    view.onDidChangeVisibility(() => this.changed.fire(this.info()));
    view.onDidDispose(() => {
      if (this.view === view) {
        this.view = undefined;
        this.ready = false;
        this.rendered = undefined;
      }
    });
    view.webview.html = webviewHtml(view.webview, context.extensionUri, 'sidePanelView', 'Polytope Lens');
  }

  private async onMessage(msg: SidePanelToHost): Promise<void> {
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        this.post();
        return;
      case 'rendered':
        this.rendered = { view: msg.view, layers: msg.layers, deltaRows: msg.deltaRows, checkpoints: msg.checkpoints };
        this.changed.fire(this.info());
        return;
      case 'run':
        await this.run(msg.action);
        return;
    }
  }

  private async run(action: SidePanelAction): Promise<void> {
    const s = this.shown;
    if (!s?.exists) return;
    switch (action) {
      case 'openModel':
        await vscode.commands.executeCommand('vscode.openWith', s.model, MODEL_VIEW_TYPE, { viewColumn: this.services.resultsViewColumn() });
        this.services.noteEditorColumn(s.model);
        return;
      case 'probeCodes': {
        const last = this.services.analyses.get(s.model)?.codes?.inputs ?? this.services.analyses.before(s.model)?.codes?.inputs;
        await vscode.commands.executeCommand('polytopeLens.probeCodes', s.model, last ? optionsOf(last) : undefined);
        return;
      }
      case 'refresh':
        await this.refresh(s.model, true);
        return;
      case 'probeSeries':
        await this.probeSeries();
        return;
    }
  }

  private state(): SidePanelState {
    const s = this.shown;
    const autoRefresh = readConfig().autoRefresh;
    const base: SidePanelState = { status: this.status, layers: [], checkpoints: this.checkpoints, refreshes: this.refreshes, lastRefresh: this.lastRefresh, busy: this.busy, message: this.message, autoRefresh };
    if (!s) return base;
    base.source = { fileName: basename(s.source.fsPath), how: s.how };
    base.model = { uri: s.model.toString(), fileName: basename(s.model.fsPath), relPath: vscode.workspace.asRelativePath(s.model), mtimeMs: this.summaries.get(s.model.fsPath)?.mtimeMs ?? 0 };
    const sm = this.summary;
    const a = this.services.analyses.get(s.model);
    if (sm) {
      base.summary = { opset: sm.opset, producer: sm.producer, layers: sm.layers.length, totalUnits: sm.total_units, unsupported: sm.unsupported.length };
      base.layers = layerRows(sm, a);
    }
    const c = a?.codes?.codes;
    const ps = a && pathStats(a);
    if (c || ps) {
      base.analysis = {
        n: c?.n ?? 0,
        inputsNote: c?.inputs_note ?? '',
        distinct: c?.distinct_codes ?? 0,
        dead: c ? sum(c.stats.map((x) => x.dead_units)) : 0,
        alwaysOn: c ? sum(c.stats.map((x) => x.always_on_units)) : 0,
        totalUnits: c ? sum(c.layers.map((l) => l.units)) : (sm?.total_units ?? 0),
        at: a?.codes?.at ?? Date.now(),
        ...(ps ? { paths: ps.paths, meanCrossings: ps.mean_crossings } : {}),
      };
    }
    if (a) base.results = { previousExport: !!a.previousExport, items: resultLines(a) };
    const at = this.changedAt.get(s.model.fsPath);
    const prev = this.services.analyses.before(s.model);
    if (at !== undefined && prev) base.delta = delta(at, prev, a, sm);
    return base;
  }

  private post(): void {
    if (this.view && this.ready) void this.view.webview.postMessage({ type: 'state', state: this.state() });
    this.changed.fire(this.info());
  }

  info(): SidePanelInfo {
    const st = this.state();
    return {
      status: st.status,
      model: this.shown?.model.fsPath,
      source: this.shown?.source.fsPath,
      how: this.shown?.how,
      layers: st.layers.length,
      analysed: !!st.analysis,
      results: st.results?.items.length ?? 0,
      previousExport: !!st.results?.previousExport,
      deltaRows: st.delta?.rows.length ?? 0,
      checkpoints: st.checkpoints.length,
      refreshes: this.refreshes,
      lastRefresh: this.lastRefresh,
      rendered: this.rendered,
      visible: this.view?.visible ?? false,
    };
  }

  // ---- following the active editor ----

  /** Shows the model of the active editor: a Python file's exported model, or the model of an open model view. */
  async follow(force = false): Promise<void> {
    const doc = vscode.window.activeTextEditor?.document;
    let next: Shown | undefined;
    if (doc && doc.languageId === 'python' && doc.uri.scheme === 'file') {
      if (!force && this.shown?.source.toString() === doc.uri.toString()) return;
      const gen = ++this.generation;
      this.status = 'loading';
      this.post();
      next = await this.modelOf(doc);
      if (gen !== this.generation) return;
    } else {
      const m = doc ? undefined : activeModel();
      if (!m) return; // other editors: keep the last model
      if (!force && this.shown?.model.toString() === m.toString()) return;
      ++this.generation;
      next = { model: m, source: m, how: 'editor', exists: true };
    }
    await this.show(next);
  }

  private async modelOf(doc: vscode.TextDocument): Promise<Shown> {
    const source = doc.uri;
    const fromSetting = modelFromSetting(doc);
    if (fromSetting) return { model: fromSetting, source, how: 'setting', exists: await exists(fromSetting.fsPath) };
    const lsp = LanguageClientProvider.current;
    const dm = lsp ? await withTimeout(lsp.documentModel(source), 15_000) : undefined;
    if (dm?.modelPath) return { model: vscode.Uri.file(dm.modelPath), source, how: 'server', exists: await exists(dm.modelPath) };
    const dir = dirname(source.fsPath);
    const candidates: { path: string; how: SidePanelSourceKind }[] = [];
    const lit = exportLiteral(doc.getText());
    if (lit) {
      candidates.push({ path: isAbsolute(lit.literal) && !lit.joined ? lit.literal : resolve(dir, lit.joined ? basename(lit.literal) : lit.literal), how: 'export-call' });
    }
    candidates.push({ path: join(dir, `${basename(source.fsPath, extname(source.fsPath))}.onnx`), how: 'same-name' });
    for (const c of candidates) if (await exists(c.path)) return { model: vscode.Uri.file(c.path), source, how: c.how, exists: true };
    const stem = basename(source.fsPath, extname(source.fsPath));
    const found = await vscode.workspace.findFiles(`**/${stem}.onnx`, '{**/node_modules/**,**/.git/**}', 1);
    if (found[0]) return { model: found[0], source, how: 'workspace', exists: true };
    // Not exported yet: show where it is expected and watch that folder.
    const expected = dm?.candidates[0] ?? candidates[0]!.path;
    return { model: vscode.Uri.file(expected), source, how: dm ? 'server' : candidates[0]!.how, exists: false };
  }

  private async show(next: Shown): Promise<void> {
    const gen = this.generation;
    const same = this.shown?.model.fsPath === next.model.fsPath;
    this.shown = next;
    this.watch(dirname(next.model.fsPath));
    if (!same) {
      this.summary = undefined;
      this.checkpoints = [];
    }
    if (!next.exists) {
      this.status = 'missing';
      this.message = undefined;
      this.post();
      return;
    }
    // The model's kept results (closed views, a reload): from storage when this window has none yet.
    await this.services.analyses.restore(next.model).catch(() => undefined);
    await this.load(next.model, gen);
    await this.scanCheckpoints(gen);
  }

  /** Reads the summary of the shown model (in the engine pool); records it. */
  private async load(model: vscode.Uri, gen: number): Promise<boolean> {
    if (!vscode.workspace.isTrusted) {
      this.status = 'restricted';
      this.post();
      return false;
    }
    if (!this.summary) this.status = 'loading';
    this.post();
    const r = await this.summarize(model);
    if (gen !== this.generation) return false;
    if (r.summary) {
      this.summary = r.summary;
      this.status = 'ready';
      this.message = undefined;
      this.services.analyses.recordSummary(model, r.summary);
    } else {
      this.summary = undefined;
      this.status = 'error';
      this.message = r.error;
    }
    this.post();
    return !!r.summary;
  }

  private async summarize(model: vscode.Uri): Promise<{ mtimeMs: number; summary?: ModelSummary; error?: string }> {
    let mtimeMs = 0;
    try {
      mtimeMs = (await fsp.stat(model.fsPath)).mtimeMs;
    } catch {
      // The engine reports the missing file.
    }
    const hit = this.summaries.get(model.fsPath);
    if (hit && hit.mtimeMs === mtimeMs && hit.summary) return hit;
    let r: { mtimeMs: number; summary?: ModelSummary; error?: string };
    try {
      r = { mtimeMs, summary: await this.services.withPool((pool) => pool.summary(this.services.modelRef(model)), model) };
    } catch (e) {
      r = { mtimeMs, error: messageOf(e) };
    }
    this.summaries.set(model.fsPath, r);
    return r;
  }

  // ---- checkpoints ----

  /** `<stem>_*.onnx` and `ckpt_*.onnx` next to the model: a series, with the model itself, in natural name order. */
  private async scanCheckpoints(gen: number): Promise<void> {
    const s = this.shown;
    if (!s?.exists) return;
    const dir = dirname(s.model.fsPath);
    const stem = basename(s.model.fsPath, '.onnx').toLowerCase();
    let names: string[] = [];
    try {
      names = (await fsp.readdir(dir)).filter((n) => {
        const l = n.toLowerCase();
        return l.endsWith('.onnx') && (l.startsWith(`${stem}_`) || l.startsWith('ckpt_'));
      });
    } catch {
      names = [];
    }
    if (names.length === 0) {
      this.checkpoints = [];
      this.post();
      return;
    }
    names.push(basename(s.model.fsPath));
    names = [...new Set(names)].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    for (const n of names) {
      await this.summarize(vscode.Uri.file(join(dir, n)));
      if (gen !== this.generation) return;
    }
    this.updateCheckpoints(names);
    this.post();
  }

  private updateCheckpoints(names = this.checkpoints.map((c) => c.fileName)): void {
    const s = this.shown;
    if (!s) return;
    const dir = dirname(s.model.fsPath);
    this.checkpoints = names.map((fileName) => {
      const uri = vscode.Uri.file(join(dir, fileName));
      const r = this.summaries.get(uri.fsPath);
      const c = this.services.analyses.get(uri)?.codes?.codes;
      return {
        fileName,
        current: uri.fsPath === s.model.fsPath,
        mtimeMs: r?.mtimeMs ?? 0,
        layers: r?.summary?.layers.length,
        units: r?.summary?.total_units,
        error: r?.error,
        ...(c ? { n: c.n, distinct: c.distinct_codes, dead: sum(c.stats.map((x) => x.dead_units)), alwaysOn: sum(c.stats.map((x) => x.always_on_units)) } : {}),
      };
    });
  }

  /** Probe Codes on every checkpoint with the model's last inputs (or the last used anywhere, or seeded probes). */
  private async probeSeries(): Promise<void> {
    const s = this.shown;
    if (!s?.exists || this.checkpoints.length === 0) return;
    const inputs = this.inputsFor(s.model) ?? { kind: 'probes', probes: 'gaussian', n: readConfig().defaultProbes, seed: 0 };
    const dir = dirname(s.model.fsPath);
    for (const c of [...this.checkpoints]) {
      const ok = await this.probe(vscode.Uri.file(join(dir, c.fileName)), inputs, `Probing ${c.fileName}…`);
      if (!ok) break;
    }
    this.updateCheckpoints();
    this.post();
  }

  private inputsFor(model: vscode.Uri): InputSource | undefined {
    const a = this.services.analyses;
    return a.get(model)?.codes?.inputs ?? a.before(model)?.codes?.inputs ?? a.lastInputs;
  }

  /** Runs Probe Codes (no samples) in the pool with the panel's progress; records the result. */
  private async probe(model: vscode.Uri, inputs: InputSource, label: string): Promise<boolean> {
    this.busy = label;
    this.post();
    try {
      const result = await vscode.window.withProgress({ location: { viewId: SIDE_PANEL_VIEW }, title: label }, () =>
        this.services.withPool((pool) =>
          runCodes(pool, { model: this.services.modelRef(model), selection: {}, inputs, chunk: readConfig().batchSize || undefined, samples: false }),
          model,
        ),
      );
      const codes = withoutSamples(result);
      this.services.analyses.recordCodes(model, codes, inputs);
      for (const v of this.services.views.forModel(model)) v.post({ type: 'codes', codes });
      return true;
    } catch (e) {
      this.services.log.warn(`side panel: probing ${model.fsPath} failed: ${messageOf(e)}`);
      this.message = `Probing ${basename(model.fsPath)} failed: ${messageOf(e)}`;
      return false;
    } finally {
      this.busy = undefined;
      this.post();
    }
  }

  // ---- re-exports ----

  private watch(dir: string): void {
    if (this.watchers.has(dir)) return;
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir), '*.onnx'));
    const on = (uri: vscode.Uri) => this.debounce(uri);
    w.onDidChange(on);
    w.onDidCreate(on);
    w.onDidDelete(on);
    this.watchers.set(dir, w);
  }

  private debounce(uri: vscode.Uri): void {
    const key = uri.fsPath;
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.onModelFile(uri);
      }, DEBOUNCE_MS),
    );
  }

  /** A model file was written (re-exported), created or deleted. */
  private async onModelFile(uri: vscode.Uri): Promise<void> {
    let mtime: number | undefined;
    try {
      mtime = (await fsp.stat(uri.fsPath)).mtimeMs;
    } catch {
      mtime = undefined;
    }
    const present = mtime !== undefined;
    const { analyses, log } = this.services;
    // Watchers may report files they just started watching: an unchanged modification time is no re-export.
    const known = analyses.get(uri)?.mtimeMs || this.summaries.get(uri.fsPath)?.mtimeMs;
    if (present && known && known === mtime) {
      log.debug(`model file event without a change: ${uri.fsPath}`);
      return;
    }
    log.info(`model file ${present ? 'changed' : 'deleted'}: ${uri.fsPath}`);
    this.changedAt.set(uri.fsPath, Date.now());
    analyses.rollover(uri);
    LanguageClientProvider.current?.modelChanged(uri);
    const s = this.shown;
    if (!s) return;
    if (s.model.fsPath === uri.fsPath) {
      s.exists = present;
      if (!present) {
        this.summary = undefined;
        this.status = 'missing';
        this.post();
        return;
      }
      await this.refresh(uri, readConfig().autoRefresh);
    } else if (dirname(uri.fsPath) === dirname(s.model.fsPath) && s.exists) {
      await this.scanCheckpoints(this.generation);
    }
  }

  /** Re-reads the summary of the shown model and re-runs its last Probe Codes configuration (when asked to). */
  private async refresh(model: vscode.Uri, reprobe: boolean): Promise<void> {
    const gen = this.generation;
    this.summaries.delete(model.fsPath);
    if (!(await this.load(model, gen))) return;
    for (const p of this.services.views.forModel(model)) void p.load();
    const inputs = analysesInputs(this.services.analyses.get(model)) ?? analysesInputs(this.services.analyses.before(model));
    let reprobed = false;
    if (reprobe && inputs && gen === this.generation) reprobed = await this.probe(model, inputs, `Re-probing ${basename(model.fsPath)}…`);
    await this.scanCheckpoints(gen);
    if (gen !== this.generation) return;
    this.refreshes++;
    this.lastRefresh = { at: Date.now(), fileName: basename(model.fsPath), reprobed };
    this.post();
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const w of this.watchers.values()) w.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.changed.dispose();
  }
}

function analysesInputs(a: ModelAnalysis | undefined): InputSource | undefined {
  return a?.codes?.inputs;
}

/** The Probe Codes command's options for an input source (so a panel button re-runs what was run). */
function optionsOf(i: InputSource): { inputs: string; n?: number; seed?: number } {
  return i.kind === 'file' ? { inputs: i.path } : { inputs: i.probes, n: i.n, seed: i.seed };
}

function layerRows(sm: ModelSummary, a: ModelAnalysis | undefined): SidePanelLayer[] {
  const c = a?.codes?.codes;
  const ps = a && pathStats(a);
  return sm.layers.map((l) => {
    const st = c?.stats.find((x) => x.key === l.key);
    return {
      key: l.key,
      op: l.op,
      units: l.units,
      ...(l.module !== undefined ? { module: l.module } : {}),
      ...(l.source ? { source: l.source } : {}),
      ...(st ? { dead: st.dead_units, alwaysOn: st.always_on_units, distinct: st.distinct_codes, active: st.active_fraction } : {}),
      ...(ps && ps.per_layer_mean[l.key] !== undefined ? { crossings: ps.per_layer_mean[l.key] } : {}),
    };
  });
}

/** Per layer: units, distinct codes, dead and always-on units before and after the re-export. */
function delta(at: number, prev: ModelAnalysis, cur: ModelAnalysis | undefined, sm: ModelSummary | undefined): NonNullable<SidePanelState['delta']> {
  const before = prev.codes?.codes;
  const after = cur?.codes?.codes;
  const unitsBefore = new Map((prev.summary?.layers ?? before?.layers ?? []).map((l) => [l.key, l.units]));
  const unitsAfter = new Map((sm?.layers ?? after?.layers ?? []).map((l) => [l.key, l.units]));
  const keys = [...new Set([...unitsAfter.keys(), ...unitsBefore.keys()])];
  const stat = (c: typeof before, k: string) => c?.stats.find((x) => x.key === k);
  const infos = new Map([...(prev.summary?.layers ?? before?.layers ?? []), ...(sm?.layers ?? after?.layers ?? [])].map((l) => [l.key, l]));
  const rows: SidePanelDeltaRow[] = keys.map((k) => ({
    key: k,
    ...(infos.get(k)?.module !== undefined ? { module: infos.get(k)!.module } : {}),
    ...(infos.get(k)?.source ? { source: infos.get(k)!.source } : {}),
    units: pair(unitsBefore.get(k), unitsAfter.get(k)),
    distinct: pair(stat(before, k)?.distinct_codes, stat(after, k)?.distinct_codes),
    dead: pair(stat(before, k)?.dead_units, stat(after, k)?.dead_units),
    alwaysOn: pair(stat(before, k)?.always_on_units, stat(after, k)?.always_on_units),
  }));
  const total = (m: Map<string, number>) => (m.size ? sum([...m.values()]) : undefined);
  return { at, analysed: !!before && !!after, distinct: pair(before?.distinct_codes, after?.distinct_codes), totalUnits: pair(total(unitsBefore), total(unitsAfter)), rows };
}
