/**
 * One model page: a webview (custom editor or summary panel) showing one model's summary and its last probe
 * results. It owns the host side of the "model view" channel: queues messages until the page says "ready",
 * validates every message from it, and runs only the closed list of actions the protocol allows.
 */
import * as vscode from 'vscode';
import { messageOf } from '../core/errors';
import type { ModelSummary } from '../shared/results';
import {
  parseModelViewMessage,
  type CodesView,
  type ModelViewToHost,
  type ModelViewToWebview,
} from '../shared/webview-protocol';
import { resultLines, type ModelAnalysis } from './analyses';
import type { Services } from './services';
import { webviewHtml, webviewOptions } from './webviewHtml';
import { handleGlossaryMessage } from './glossary';

export type Rendered = Extract<ModelViewToHost, { type: 'rendered' }>;

export interface PageInfo {
  model: string;
  kind: 'editor' | 'panel';
  rendered?: Omit<Rendered, 'type'>;
  /** The layer the page last highlighted (polytopeLens.openLayer), null when none matched. */
  highlighted?: string | null;
}

export class ModelPage implements vscode.Disposable {
  private ready = false;
  private readonly queue: ModelViewToWebview[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private summary: ModelSummary | undefined;
  private codes: CodesView | undefined;
  private results: ModelViewToWebview | undefined;
  rendered: Omit<Rendered, 'type'> | undefined;
  highlighted: string | null | undefined;
  /** A highlight not acknowledged yet: re-sent when a hidden page comes back (its webview reloads and says ready again). */
  private pendingHighlight: ModelViewToWebview | undefined;

  constructor(
    private readonly services: Services,
    private readonly webview: vscode.Webview,
    readonly uri: vscode.Uri,
    readonly kind: 'editor' | 'panel',
  ) {}

  get fileName(): string {
    return this.uri.path.split('/').pop() ?? this.uri.path;
  }

  start(): void {
    const { context, log } = this.services;
    this.webview.options = webviewOptions(context.extensionUri);
    this.disposables.push(
      this.webview.onDidReceiveMessage((raw) => {
        if (handleGlossaryMessage(raw)) return; // the ⓘ link of a term, the same on every page
        const msg = parseModelViewMessage(raw);
        if (!msg) {
          log.warn(`model view ${this.fileName}: ignored a malformed message`);
          return;
        }
        void this.onMessage(msg);
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.load()),
      // Every result of this model, as it comes (also from other views and after a restore).
      this.services.analyses.onDidAnalyse((e) => {
        if (e.model.fsPath === this.uri.fsPath && e.kind !== 'summary') this.showKept(e.analysis);
      }),
    );
    this.webview.html = webviewHtml(this.webview, context.extensionUri, 'modelView', `Polytope Lens: ${this.fileName}`);
    this.services.views.add(this);
    void this.load();
  }

  private async onMessage(msg: ModelViewToHost): Promise<void> {
    switch (msg.type) {
      case 'ready':
        // A second "ready" is a page that was hidden and re-created: messages posted meanwhile were lost, so the
        // summary and the last results are sent again (the page's saved state may predate them).
        if (this.ready && this.summary) {
          this.queue.unshift(
            { type: 'summary', model: this.uri.toString(), fileName: this.fileName, summary: this.summary },
            ...(this.codes ? [{ type: 'codes' as const, codes: this.codes }] : []),
            ...(this.results ? [this.results] : []),
          );
        }
        this.ready = true;
        if (this.pendingHighlight && !this.queue.includes(this.pendingHighlight)) this.queue.push(this.pendingHighlight);
        for (const m of this.queue.splice(0)) void this.webview.postMessage(m);
        return;
      case 'run':
        // The view names an action only; the model is the one this page was opened for.
        await vscode.commands.executeCommand(`polytopeLens.${msg.action}`, this.uri);
        return;
      case 'rendered':
        this.rendered = { view: msg.view, layers: msg.layers, statsRows: msg.statsRows, results: msg.results, previousExport: msg.previousExport };
        this.services.log.debug(`model view ${this.fileName}: rendered ${msg.view} (${msg.layers} layers, ${msg.statsRows} stats rows)`);
        this.services.views.fireRendered(this);
        return;
      case 'highlighted':
        this.highlighted = msg.layer;
        this.pendingHighlight = undefined;
        this.services.views.fireRendered(this);
        return;
    }
  }

  post(msg: ModelViewToWebview): void {
    if (msg.type === 'codes') this.codes = msg.codes;
    if (msg.type === 'highlight') this.pendingHighlight = msg;
    if (this.ready) void this.webview.postMessage(msg);
    else this.queue.push(msg);
  }

  /** Reads the model's summary in the engine pool (or says why not) and sends it to the page. */
  async load(): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      this.post({ type: 'restricted', model: this.uri.toString(), fileName: this.fileName });
      return;
    }
    try {
      this.summary = await this.services.withPool((pool) => pool.summary(this.services.modelRef(this.uri)), this.uri);
      this.post({ type: 'summary', model: this.uri.toString(), fileName: this.fileName, summary: this.summary });
      if (this.codes) this.post({ type: 'codes', codes: this.codes });
      // The kept results of this model (closed views, a reload): from storage when this window has none.
      this.showKept(await this.services.analyses.restore(this.uri));
    } catch (e) {
      this.services.log.error(`summary of ${this.uri.fsPath}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      this.post({ type: 'error', model: this.uri.toString(), fileName: this.fileName, message: messageOf(e) });
    }
  }

  /** Sends the model's kept results: the last codes (when the page has none yet) and one line per analysis. */
  private showKept(a: ModelAnalysis | undefined): void {
    if (!a) {
      this.results = undefined;
      this.post({ type: 'results', previousExport: false, items: [] });
      return;
    }
    if (a.codes && (!this.codes || a.codes.codes !== this.codes)) this.post({ type: 'codes', codes: a.codes.codes });
    this.results = { type: 'results', previousExport: !!a.previousExport, items: resultLines(a) };
    this.post(this.results);
  }

  info(): PageInfo {
    return { model: this.uri.toString(), kind: this.kind, rendered: this.rendered, highlighted: this.highlighted };
  }

  dispose(): void {
    this.services.views.remove(this);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** The open pages, so results of a command reach every view of its model. */
export class ModelViews {
  private readonly pages = new Set<ModelPage>();
  private readonly renderedEmitter = new vscode.EventEmitter<ModelPage>();
  readonly onDidRender = this.renderedEmitter.event;

  add(p: ModelPage): void {
    this.pages.add(p);
  }
  remove(p: ModelPage): void {
    this.pages.delete(p);
  }
  fireRendered(p: ModelPage): void {
    this.renderedEmitter.fire(p);
  }
  forModel(uri: vscode.Uri): ModelPage[] {
    const key = uri.toString();
    return [...this.pages].filter((p) => p.uri.toString() === key);
  }
  all(): ModelPage[] {
    return [...this.pages];
  }
}
