/**
 * The language server's client: hover and CodeLens on PyTorch layer definitions (src/server). Started on the first
 * Python document, in "client" mode: the server reads no file itself; it asks for a model's structure
 * (polytopeLens/modelStructure, answered here with the engine pool's summary and the graph's node names) and
 * receives every analysis the commands record (polytopeLens/analysis) and every re-export (polytopeLens/modelChanged).
 * Also owns the command behind the hover links and lenses: polytopeLens.openLayer.
 */
import { promises as fsp } from 'node:fs';
import { basename, isAbsolute } from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { messageOf } from '../core/errors';
import { defaultOpset, onnx } from '../core/onnx/model';
import { indexGraph } from '../core/onnx/graph';
import { readGraphMetadata } from '../core/onnx/metadata';
import { nodeRefs } from '../core/identity';
import {
  AnalysisNotification,
  ClearAnalysisNotification,
  DocumentModelRequest,
  ModelChangedNotification,
  ModelStructureRequest,
  OPEN_LAYER_COMMAND,
  type AnalysisParams,
  type DocumentModel,
  type ModelStructure,
  type OnnxNodeRef,
  type OpenLayerArgs,
  type ServerInitOptions,
} from '../shared/lsp-protocol';
import type { ModelSummary } from '../shared/results';
import { pathStats, type AnalysisEvent, type ModelAnalysis } from './analyses';
import { readConfig } from './config';
import type { ModelPage } from './modelPage';
import { MODEL_VIEW_TYPE } from './modelViewProvider';
import type { Services } from './services';
import { OPEN_GLOSSARY_COMMAND } from '../shared/glossary';

const isPython = (d: vscode.TextDocument) => d.languageId === 'python' && d.uri.scheme === 'file';

export class LanguageClientProvider implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient | undefined> | undefined;
  private static instance: LanguageClientProvider | undefined;

  private constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly services: Services,
  ) {}

  /** The provider registered by activate() (the side panel asks it which model a Python file exports). */
  static get current(): LanguageClientProvider | undefined {
    return LanguageClientProvider.instance;
  }

  static register(context: vscode.ExtensionContext, services: Services): LanguageClientProvider {
    const p = new LanguageClientProvider(context, services);
    LanguageClientProvider.instance = p;
    context.subscriptions.push(
      p,
      vscode.commands.registerCommand(OPEN_LAYER_COMMAND, (args?: unknown) => p.openLayer(args)),
      vscode.workspace.onDidOpenTextDocument((d) => {
        if (isPython(d)) void p.start();
      }),
      services.analyses.onDidAnalyse((e) => void p.onAnalysis(e)),
    );
    if (vscode.workspace.textDocuments.some(isPython)) void p.start();
    return p;
  }

  /** Starts the server once (on the first Python document); resolves to the running client, or undefined if it failed. */
  start(): Promise<LanguageClient | undefined> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<LanguageClient | undefined> {
    const module = this.context.asAbsolutePath('out/server/main.js');
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const initializationOptions: ServerInitOptions = { polytopeLens: { modelSource: 'client' } };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file', language: 'python' }],
      initializationOptions,
      // The hover's "Open in the model view" and glossary links run these commands, and no other.
      markdown: { isTrusted: { enabledCommands: [OPEN_LAYER_COMMAND, OPEN_GLOSSARY_COMMAND] } },
    };
    const client = new LanguageClient('polytopeLens', 'Polytope Lens Language Server', serverOptions, clientOptions);
    client.onRequest(ModelStructureRequest, (p) => this.structure(p.candidates));
    try {
      await client.start();
    } catch (e) {
      this.services.log.error(`language server did not start: ${messageOf(e)}`);
      return undefined;
    }
    this.client = client;
    this.services.log.info('language server started (client mode)');
    for (const a of this.services.analyses.all()) await this.sendAnalysis(a);
    return client;
  }

  get running(): boolean {
    return this.client?.isRunning() ?? false;
  }

  /** Which model a Python document exports and how its definitions map onto it; undefined without a server. */
  async documentModel(uri: vscode.Uri): Promise<DocumentModel | null | undefined> {
    const client = await this.start();
    if (!client) return undefined;
    try {
      return await client.sendRequest(DocumentModelRequest, { uri: client.code2ProtocolConverter.asUri(uri) });
    } catch (e) {
      this.services.log.warn(`polytopeLens/documentModel: ${messageOf(e)}`);
      return undefined;
    }
  }

  /** A model file changed on disk: the server drops its cached structure (and the stale analysis, if nothing replaces it). */
  modelChanged(model: vscode.Uri): void {
    if (!this.client?.isRunning()) return;
    void this.client.sendNotification(ModelChangedNotification, { modelPath: model.fsPath }).catch(() => undefined);
  }

  private async onAnalysis(e: AnalysisEvent): Promise<void> {
    if (!this.client?.isRunning()) return;
    if (e.kind === 'rollover' || !e.analysis) {
      await this.client.sendNotification(ClearAnalysisNotification, { modelPath: e.model.fsPath }).catch(() => undefined);
      return;
    }
    if (e.kind === 'summary') return; // structure only: the server asks for it when it needs it
    await this.sendAnalysis(e.analysis);
  }

  private async sendAnalysis(a: ModelAnalysis): Promise<void> {
    const client = this.client;
    if (!client?.isRunning() || (!a.codes && a.paths.length === 0)) return;
    try {
      const summary = a.summary ?? (await this.summaryOf(a.model));
      const c = a.codes?.codes;
      const params: AnalysisParams = {
        modelPath: a.model.fsPath,
        summary,
        modelMtimeMs: a.mtimeMs || undefined,
        ...(c ? { codes: { n: c.n, distinct_codes: c.distinct_codes, distinct_per_layer: c.distinct_per_layer, stats: c.stats, inputs_note: c.inputs_note } } : {}),
        ...(a.paths.length ? { pathStats: pathStats(a) } : {}),
        ...(a.previousExport ? { previousExport: true } : {}),
      };
      await client.sendNotification(AnalysisNotification, params);
      this.services.log.debug(`sent the analysis of ${basename(a.model.fsPath)} to the language server`);
    } catch (e) {
      this.services.log.warn(`could not send the analysis of ${a.model.fsPath}: ${messageOf(e)}`);
    }
  }

  private summaryOf(model: vscode.Uri): Promise<ModelSummary> {
    return this.services.withPool((pool) => pool.summary(this.services.modelRef(model)), model);
  }

  /** polytopeLens/modelStructure: the first candidate that exists, with the engine's summary and every node. */
  private async structure(candidates: string[]): Promise<ModelStructure | null> {
    if (!vscode.workspace.isTrusted) return null; // Restricted Mode: no model is opened
    for (const path of candidates) {
      if (typeof path !== 'string' || !isAbsolute(path) || !path.toLowerCase().endsWith('.onnx')) continue;
      let st;
      try {
        st = await fsp.stat(path);
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      if (st.size > readConfig().maxModelSizeMB * 2 ** 20) {
        this.services.log.warn(`${path} is above polytopeLens.maxModelSizeMB; no hover for it`);
        return null;
      }
      try {
        const bytes = await fsp.readFile(path);
        const proto = onnx.ModelProto.decode(bytes);
        const g = indexGraph(proto.graph ?? {});
        const nodes: OnnxNodeRef[] = nodeRefs(g, readGraphMetadata(bytes));
        const uri = vscode.Uri.file(path);
        // Its kept results (a reload, or analysed in an earlier session) reach the server as an analysis notification.
        void this.services.analyses.restore(uri).catch(() => undefined);
        try {
          const summary = await this.summaryOf(uri);
          return { modelPath: path, mtimeMs: st.mtimeMs, summary, nodes };
        } catch (e) {
          // The lens refuses some models (several inputs, dynamic shapes): node names still map the Python code.
          const summary: ModelSummary = { model: basename(path), producer: proto.producerName ?? '', opset: defaultOpset(proto), inputs: [], outputs: [], layers: [], total_units: 0, unsupported: [] };
          return { modelPath: path, mtimeMs: st.mtimeMs, summary, nodes, note: messageOf(e) };
        }
      } catch (e) {
        this.services.log.warn(`polytopeLens/modelStructure ${path}: ${messageOf(e)}`);
        return null;
      }
    }
    return null;
  }

  /** polytopeLens.openLayer: the model in the model view (reused if open), with the layer selected and scrolled to. */
  async openLayer(raw: unknown): Promise<boolean> {
    const args = parseOpenLayerArgs(raw);
    if (!args) {
      this.services.log.warn('polytopeLens.openLayer: malformed arguments');
      return false;
    }
    const uri = vscode.Uri.file(args.modelPath);
    try {
      if (!(await fsp.stat(uri.fsPath)).isFile()) throw new Error('not a file');
    } catch {
      void vscode.window.showWarningMessage(`Polytope Lens: ${basename(args.modelPath)} does not exist (re-export the model).`);
      return false;
    }
    const open = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .find((t) => t.input instanceof vscode.TabInputCustom && t.input.viewType === MODEL_VIEW_TYPE && t.input.uri.toString() === uri.toString());
    await vscode.commands.executeCommand('vscode.openWith', uri, MODEL_VIEW_TYPE, { viewColumn: open?.group.viewColumn ?? this.services.resultsViewColumn(), preserveFocus: false });
    if (!open) this.services.noteEditorColumn(uri);
    // The editor's page may be created (or re-created, if it was hidden) a moment after openWith returns: every page
    // of the model that appears gets the highlight (queued until it is ready) until one of them acknowledges it.
    const sent = new Set<ModelPage>();
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      const pages = this.services.views.forModel(uri).filter((p) => p.kind === 'editor');
      if ([...sent].some((p) => pages.includes(p) && p.highlighted !== undefined)) return true;
      for (const p of pages) {
        if (sent.has(p)) continue;
        sent.add(p);
        p.highlighted = undefined;
        p.post({ type: 'highlight', layer: args.layer, nodes: args.nodes });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    this.services.log.warn(`polytopeLens.openLayer: no model view of ${basename(args.modelPath)} acknowledged the highlight`);
    return false;
  }

  dispose(): void {
    if (LanguageClientProvider.instance === this) LanguageClientProvider.instance = undefined;
    void this.client?.stop().catch(() => undefined);
    this.client = undefined;
  }
}

/** Arguments of polytopeLens.openLayer arrive from markdown links too: accept only the documented shape. */
export function parseOpenLayerArgs(x: unknown): OpenLayerArgs | undefined {
  const o = Array.isArray(x) ? x[0] : x;
  if (typeof o !== 'object' || o === null) return undefined;
  const r = o as Record<string, unknown>;
  if (typeof r.modelPath !== 'string' || !isAbsolute(r.modelPath) || !r.modelPath.toLowerCase().endsWith('.onnx')) return undefined;
  const nodes = Array.isArray(r.nodes) ? r.nodes.filter((n): n is string => typeof n === 'string').slice(0, 1000) : [];
  const src = typeof r.source === 'object' && r.source !== null ? (r.source as Record<string, unknown>) : {};
  return {
    modelPath: r.modelPath,
    layer: typeof r.layer === 'string' ? r.layer : undefined,
    nodes,
    source: { uri: typeof src.uri === 'string' ? src.uri : '', line: typeof src.line === 'number' ? src.line : 0 },
  };
}
