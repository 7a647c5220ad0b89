/**
 * Analysis panels: one WebviewPanel per (analysis kind, model), a tab of the one results group beside the code
 * (Services.resultsViewColumn), reused by the next run of that analysis. The host side of the "analysis view"
 * channel: queues messages until the page says "ready", validates every message (export content and format,
 * clicked points), and does only what the protocol allows.
 * Restored after a reload by a WebviewPanelSerializer: the page renders from its own saved state; the host checks
 * the state's model URI (and for region maps the data path) and re-sends nothing.
 */
import { writeFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { UserError, messageOf } from '../core/errors';
import { readNpyHeader } from '../core/inputs';
import { loadSamples, sampleShapeOf } from '../worker/jobs';
import {
  ANALYSIS_PAGES,
  ANALYSIS_TITLES,
  parseAnalysisMessage,
  parseAnalysisState,
  type AnalysisData,
  type AnalysisKind,
  type AnalysisParams,
  type AnalysisRenderedView,
  type AnalysisToHost,
  type AnalysisToWebview,
  type ExportFormat,
  type RerunParams,
} from '../shared/webview-protocol';
import type { Services } from './services';
import { trustedModelUri } from './summaryPanel';
import { webviewHtml, webviewOptions } from './webviewHtml';
import { imageOf } from './inputImage';
import { handleGlossaryMessage } from './glossary';
import { elementCount } from '../shared/shape';

export const ANALYSIS_VIEW_TYPE = 'polytopeLens.analysis';

/** What a panel last rendered (for tests and tools, through LensApi.analyses()). */
export interface AnalysisInfo {
  kind: AnalysisKind;
  model: string;
  visible: boolean;
  rendered?: { view: AnalysisRenderedView; items: number; marks: number };
  /** The last point a region map's click asked for and what the host answered. */
  lastPoint?: { u: number; v: number; pred?: number; image: boolean; error?: string };
  lastExport?: { format: ExportFormat; path: string; bytes: number };
  /** A polytope panel: where its last point came from and what it showed. */
  lastPolytope?: { from: string; text: string; codeHex: string; pred: number; facets: number; facetsComplete: boolean; neighbours: number; inradius: number | null };
  /** The form's last Run: the values sent, and the sentence when the host refused them. */
  lastRerun?: { params: RerunParams; refused?: string };
  /** The parameters of what the panel shows or runs. */
  params?: AnalysisParams;
  /** The result this window last computed into the panel (not restored after a reload). */
  result?: AnalysisData['result'];
}

/** A slice plane in the host (input arrays), for answering clicks: x(u, v) = a + u (b - a) + v (c - a). */
export interface PlaneContext {
  sampleShape: number[];
  a?: Float32Array;
  b?: Float32Array;
  c?: Float32Array;
}

export class AnalysisPanel implements vscode.Disposable {
  private ready = false;
  private readonly queue: AnalysisToWebview[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  rendered: AnalysisInfo['rendered'];
  lastPoint: AnalysisInfo['lastPoint'];
  lastExport: AnalysisInfo['lastExport'];
  lastPolytope: AnalysisInfo['lastPolytope'];
  /** Set by the region-map command after a run, or rebuilt lazily from the restored params. */
  plane: PlaneContext | undefined;
  params: AnalysisParams;
  /** False for params restored from the page's state after a reload: their data paths are checked before a Run. */
  paramsTrusted = false;
  /** Set while a run of this panel's analysis is in progress: aborts it (the form's Cancel button). */
  cancelRun: (() => void) | undefined;
  /** The last Run of the form the host refused, and why (for tests and tools). */
  lastRerun: AnalysisInfo['lastRerun'];
  result: AnalysisInfo['result'];

  constructor(
    private readonly owner: AnalysisPanels,
    private readonly services: Services,
    readonly panel: vscode.WebviewPanel,
    readonly kind: AnalysisKind,
    readonly model: vscode.Uri,
    params: AnalysisParams = {},
  ) {
    this.params = params;
    const { context } = services;
    panel.webview.options = webviewOptions(context.extensionUri);
    panel.title = `${ANALYSIS_TITLES[kind]}: ${this.fileName}`;
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw) => void this.receive(raw)),
      panel.onDidDispose(() => this.dispose()),
      panel.onDidChangeViewState(() => {
        // Hidden, the page is destroyed (no retainContextWhenHidden) and re-created when shown, and says "ready"
        // again: until then messages are queued, not posted into a page that is gone or not listening yet.
        if (!panel.visible) this.ready = false;
        // Its group once known (a panel created "beside" learns its column when shown).
        services.notePanelColumn(panel);
        owner.fire(this);
      }),
    );
    panel.webview.html = webviewHtml(panel.webview, context.extensionUri, ANALYSIS_PAGES[kind], `Polytope Lens: ${ANALYSIS_TITLES[kind]} of ${this.fileName}`);
  }

  get fileName(): string {
    return this.model.path.split('/').pop() ?? this.model.path;
  }

  head(): { kind: AnalysisKind; model: string; fileName: string; params: AnalysisParams } {
    return { kind: this.kind, model: this.model.toString(), fileName: this.fileName, params: this.params };
  }

  post(msg: AnalysisToWebview): void {
    if (this.ready) void this.panel.webview.postMessage(msg);
    else this.queue.push(msg);
  }

  /** A message from the page, as it arrived: it enters only through parseAnalysisMessage. */
  receive(raw: unknown): Promise<void> {
    if (handleGlossaryMessage(raw)) return Promise.resolve(); // the ⓘ link of a term, the same on every page
    const msg = parseAnalysisMessage(raw);
    if (!msg) {
      this.services.log.warn(`${this.kind} view ${this.fileName}: ignored a malformed message`);
      return Promise.resolve();
    }
    return this.onMessage(msg);
  }

  private async onMessage(msg: AnalysisToHost): Promise<void> {
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        for (const m of this.queue.splice(0)) void this.panel.webview.postMessage(m);
        return;
      case 'rendered':
        this.rendered = { view: msg.view, items: msg.items, marks: msg.marks };
        this.services.log.debug(`${this.kind} view ${this.fileName}: rendered ${msg.view} (${msg.items} items, ${msg.marks} marks)`);
        this.owner.fire(this);
        return;
      case 'export':
        await this.export(msg.format, msg.content);
        return;
      case 'point':
        if (this.kind === 'slice') await this.point(msg.u, msg.v);
        return;
      case 'inspect':
        // The polytope command (src/extension/polytopeCommand.ts) computes the point and checks the view's kind.
        await this.owner.inspect?.(this, msg);
        return;
      case 'rerun':
        // A form of another kind (a stale page) never runs something this panel does not show.
        if (msg.kind !== this.kind) {
          this.services.log.warn(`${this.kind} view ${this.fileName}: ignored a Run of a ${msg.kind} form`);
          return;
        }
        this.lastRerun = { params: msg.params };
        await this.owner.rerun(this, msg.params);
        this.owner.fire(this);
        return;
      case 'cancel':
        this.cancelRun?.();
        return;
    }
  }

  /** Refuses a Run of the form with one sentence, shown in the view next to the form (the result stays). */
  refuseRerun(message: string): void {
    if (this.lastRerun) this.lastRerun.refused = message;
    this.services.log.info(`${this.kind} view ${this.fileName}: Run refused: ${message}`);
    this.post({ type: 'paramsError', message });
  }

  /** Asks where to save (the page never names a path), then writes the validated content. */
  private async export(format: ExportFormat, content: string): Promise<void> {
    const stem = this.fileName.replace(/\.onnx$/i, '');
    const defaultUri = vscode.Uri.joinPath(this.model, '..', `${stem}.${this.kind}.${format}`);
    const filters: Record<ExportFormat, Record<string, string[]>> = { svg: { 'SVG image': ['svg'] }, png: { 'PNG image': ['png'] }, json: { JSON: ['json'] } };
    const target = await this.owner.saveDialog({ defaultUri, filters: filters[format], title: `Export ${ANALYSIS_TITLES[this.kind].toLowerCase()} as ${format.toUpperCase()}` });
    if (!target) return;
    const bytes = format === 'png' ? Buffer.from(content.slice(content.indexOf(',') + 1), 'base64') : Buffer.from(content, 'utf8');
    if (format === 'png' && !bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
      void vscode.window.showErrorMessage('Polytope Lens: the view sent an invalid PNG; nothing was written.');
      return;
    }
    try {
      if (target.scheme === 'file') await writeFile(target.fsPath, bytes);
      else await vscode.workspace.fs.writeFile(target, bytes);
    } catch (e) {
      void vscode.window.showErrorMessage(`Polytope Lens: could not write ${target.fsPath} (${messageOf(e)}).`);
      return;
    }
    this.lastExport = { format, path: target.fsPath, bytes: bytes.length };
    this.services.log.info(`${this.kind} view: exported ${format} to ${target.fsPath} (${bytes.length} bytes)`);
    this.post({ type: 'exported', format, fileName: target.path.split('/').pop() ?? target.path });
    this.owner.fire(this);
  }

  /** The model at a clicked point of the slice: first output, argmax, and the input as an image when it is one. */
  private async point(u: number, v: number): Promise<void> {
    try {
      const { x, sampleShape } = await this.pointOnPlane(u, v);
      const img = imageOf(x, sampleShape);
      const out = await this.services.withPool((pool) => pool.submit((api) => api.forward(this.services.modelRef(this.model), x.slice(), 1)), this.model);
      const scores = Array.from(out.subarray(0, Math.min(out.length, 1000)));
      let pred = 0;
      for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[pred]!) pred = i;
      this.lastPoint = { u, v, pred, image: !!img };
      this.post({ type: 'point', u, v, pred, scores, image: img?.url, imageNote: img?.note });
    } catch (e) {
      this.lastPoint = { u, v, image: false, error: messageOf(e) };
      this.post({ type: 'pointError', u, v, message: messageOf(e) });
    }
    this.owner.fire(this);
  }

  /** The input at plane coordinates (u, v) of a region map: a + u (b - a) + v (c - a), or (u, v) for a 2-input model. */
  async pointOnPlane(u: number, v: number): Promise<{ x: Float32Array; sampleShape: number[] }> {
    const plane = this.plane ?? (this.plane = await this.restorePlane());
    const size = elementCount(plane.sampleShape);
    const x = new Float32Array(size);
    if (plane.a && plane.b && plane.c) {
      for (let i = 0; i < size; i++) x[i] = plane.a[i]! + u * (plane.b[i]! - plane.a[i]!) + v * (plane.c[i]! - plane.a[i]!);
    } else if (size === 2) {
      x[0] = u;
      x[1] = v;
    } else {
      throw new UserError('This region map has no plane to map the point into the input space; run Region Map again.');
    }
    return { x, sampleShape: plane.sampleShape };
  }

  /** After a reload: the plane's inputs again from the saved params, the data file checked like the model. */
  private async restorePlane(): Promise<PlaneContext> {
    const summary = await this.services.withPool((pool) => pool.summary(this.services.modelRef(this.model)), this.model);
    const sampleShape = sampleShapeOf(summary);
    const { inputs, plane } = this.params;
    if (!inputs || !plane) return { sampleShape };
    const file = await trustedDataUri(inputs, this.services.context.extensionUri);
    if (!file) throw new UserError('The data file of this region map is no longer in the workspace; run Region Map again.');
    return planeContext(file.fsPath, plane, sampleShape);
  }

  info(): AnalysisInfo {
    return { kind: this.kind, model: this.model.toString(), visible: this.panel.visible, rendered: this.rendered, lastPoint: this.lastPoint, lastExport: this.lastExport, lastRerun: this.lastRerun, params: this.params, result: this.result, lastPolytope: this.lastPolytope };
  }

  dispose(): void {
    this.owner.remove(this);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** The three plane inputs a, b, c of a slice, read from a data file (indices checked against its length). */
export function planeContext(path: string, indices: number[], sampleShape: number[]): PlaneContext {
  const header = readNpyHeader(path);
  const n = header.shape[0] ?? 0;
  const bad = indices.filter((i) => !Number.isSafeInteger(i) || i < 0 || i >= n);
  if (bad.length) throw new UserError(`Sample index ${bad.join(', ')} is out of range: ${n} samples in ${path.split('/').pop()}.`);
  const s = loadSamples({ kind: 'file', path }, sampleShape);
  const size = elementCount(sampleShape);
  const row = (i: number) => s.data.slice(i * size, (i + 1) * size);
  return { sampleShape, a: row(indices[0]!), b: row(indices[1]!), c: row(indices[2]!) };
}

/** A data path from a saved state: an existing .npy inside the workspace or the extension's examples. */
export async function trustedDataUri(raw: string, extensionUri: vscode.Uri): Promise<vscode.Uri | undefined> {
  const uri = vscode.Uri.file(raw);
  if (!uri.path.toLowerCase().endsWith('.npy') || uri.path.split('/').includes('..')) return undefined;
  const inside = (root: vscode.Uri) => uri.path.startsWith(root.path.endsWith('/') ? root.path : root.path + '/');
  const roots = [...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri), vscode.Uri.joinPath(extensionUri, 'examples')];
  if (!roots.some(inside)) return undefined;
  try {
    return (await vscode.workspace.fs.stat(uri)).type & vscode.FileType.File ? uri : undefined;
  } catch {
    return undefined;
  }
}

/** The open analysis panels, and the serializer that brings them back after a reload. */
export class AnalysisPanels implements vscode.WebviewPanelSerializer {
  private readonly panels = new Set<AnalysisPanel>();
  private readonly changed = new vscode.EventEmitter<AnalysisPanel>();
  readonly onDidChange = this.changed.event;
  /** The save dialog (replaceable by tests through the `polytopeLens.test.setExportTarget` command). */
  saveDialog: (o: vscode.SaveDialogOptions) => Thenable<vscode.Uri | undefined> = (o) => vscode.window.showSaveDialog(o);
  /** Answers a click that asks for the polytope at a point (set by src/extension/polytopeCommand.ts). */
  inspect: ((from: AnalysisPanel, msg: Extract<AnalysisToHost, { type: 'inspect' }>) => Promise<void>) | undefined;
  /** Runs a panel's analysis again with its form's values (set by AnalysisCommands). */
  rerun: (panel: AnalysisPanel, params: RerunParams) => Promise<void> = async (panel) => panel.refuseRerun('This view cannot run its analysis again.');

  private constructor(private readonly services: Services) {}

  static register(context: vscode.ExtensionContext, services: Services): AnalysisPanels {
    const p = new AnalysisPanels(services);
    context.subscriptions.push(vscode.window.registerWebviewPanelSerializer(ANALYSIS_VIEW_TYPE, p), p.changed);
    if (context.extensionMode === vscode.ExtensionMode.Test) {
      // Tests cannot click a native save dialog: they name the file the next export goes to.
      context.subscriptions.push(
        vscode.commands.registerCommand('polytopeLens.test.setExportTarget', (path: unknown) => {
          if (typeof path === 'string') p.saveDialog = async () => vscode.Uri.file(path);
        }),
        // Tests of the form's Run for every kind without driving each page: a message as the page of (kind, model)
        // would post it, through the same parse and handling; resolves when the host is done with it.
        vscode.commands.registerCommand('polytopeLens.test.fromAnalysisView', async (kind: unknown, model: unknown, raw: unknown) => {
          const panel = p.all().find((x) => x.kind === kind && x.model.toString() === model);
          if (!panel) throw new Error(`no ${String(kind)} view of ${String(model)}`);
          await panel.receive(raw);
        }),
      );
    }
    return p;
  }

  /** The panel of this analysis and model, revealed beside the code; created on first use. */
  show(kind: AnalysisKind, model: vscode.Uri, params: AnalysisParams): AnalysisPanel {
    const key = model.toString();
    let p = [...this.panels].find((x) => x.kind === kind && x.model.toString() === key);
    if (p) {
      // Its tab, where it is (in the results group unless the user moved it).
      p.panel.reveal(p.panel.viewColumn, true);
    } else {
      const viewColumn = this.services.resultsViewColumn();
      const panel = vscode.window.createWebviewPanel(ANALYSIS_VIEW_TYPE, ANALYSIS_TITLES[kind], { viewColumn, preserveFocus: true }, { retainContextWhenHidden: false });
      this.services.notePanelColumn(panel);
      p = new AnalysisPanel(this, this.services, panel, kind, model, params);
      this.panels.add(p);
    }
    p.params = params;
    p.paramsTrusted = true;
    p.plane = undefined;
    return p;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const restored = parseAnalysisState(state);
    const uri = restored ? await trustedModelUri(restored.model, this.services.context.extensionUri) : undefined;
    if (!restored || !uri) {
      this.services.log.warn('analysis panel: the saved state names no model of this workspace; closing it');
      panel.dispose();
      return;
    }
    // The page renders its saved result by itself; nothing is re-sent.
    this.services.notePanelColumn(panel);
    this.panels.add(new AnalysisPanel(this, this.services, panel, restored.kind, uri, restored.params));
  }

  remove(p: AnalysisPanel): void {
    this.panels.delete(p);
  }
  fire(p: AnalysisPanel): void {
    this.changed.fire(p);
  }
  all(): AnalysisPanel[] {
    return [...this.panels];
  }
}
