/**
 * The Polytope Lens language server: hover and CodeLens on PyTorch layer definitions, linked to the exported ONNX
 * model. Runs under the extension (vscode-languageclient, "client" mode) or on its own:
 *
 *     node out/server/main.js --stdio
 */
import {
  CodeLensRefreshRequest,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  MessageType,
  ProposedFeatures,
  ShowMessageNotification,
  TextDocumentSyncKind,
  createConnection,
  type CodeLens,
  type Hover,
  type InitializeResult,
} from 'vscode-languageserver/node';
import {
  AnalysisNotification,
  ClearAnalysisNotification,
  DocumentModelRequest,
  ModelChangedNotification,
  ModelStructureRequest,
  OPEN_LAYER_COMMAND,
  type ModelStructure,
  type OpenLayerArgs,
  type ServerInitOptions,
} from '../shared/lsp-protocol';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GLOSSARY_DOC } from '../shared/glossary';
import { codeLenses } from './codelens';
import { renderHover, setGlossaryTarget } from './hover';
import { ModelCache, engineLoader, type StructureLoader } from './models';
import { createParser } from './syntax';
import { inModuleClass, lineTarget, targetAt } from './targets';
import { Workspace, uriToPath } from './workspace';

const connection = createConnection(ProposedFeatures.all);
const cache = new ModelCache();
let workspace: Workspace | undefined;
let mode: 'client' | 'server' = 'server';
let canRefreshLenses = false;
let canWatchFiles = false;

function isPython(uri: string, languageId?: string): boolean {
  return languageId === 'python' || /\.pyi?$/.test(uri);
}

/** Candidate lists the client had no model for, until when (ms): not asked again on every hover. */
const misses = new Map<string, number>();

/** "client" mode: ask the client; remember its answers (null ones for a few seconds); one request at a time per list. */
function clientLoader(): StructureLoader {
  const pending = new Map<string, Promise<ModelStructure | null>>();
  return async (candidates, documentUri) => {
    for (const c of candidates) {
      const hit = cache.cached(c);
      if (hit) return hit;
    }
    const key = candidates.join('\n');
    if ((misses.get(key) ?? 0) > Date.now()) return null;
    let p = pending.get(key);
    if (!p) {
      p = (async () => {
        try {
          const s = await connection.sendRequest(ModelStructureRequest, { documentUri, candidates });
          if (s) {
            cache.put(s);
            return s;
          }
        } catch (e) {
          connection.console.warn(`polytopeLens/modelStructure failed: ${e instanceof Error ? e.message : String(e)}`);
        }
        misses.set(key, Date.now() + 5000);
        return null;
      })().finally(() => pending.delete(key));
      pending.set(key, p);
    }
    return p;
  };
}

function refreshLenses(): void {
  if (canRefreshLenses) connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
}

async function guarded<T>(what: string, f: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await f();
  } catch (e) {
    connection.console.error(`${what}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return fallback;
  }
}

connection.onInitialize(async (params): Promise<InitializeResult> => {
  const opts = (params.initializationOptions ?? {}) as ServerInitOptions;
  mode = opts.polytopeLens?.modelSource === 'client' ? 'client' : 'server';
  // Term links in hovers: the extension's command under VS Code; the glossary file next to the bundle elsewhere.
  const glossaryFile = resolve(__dirname, '..', '..', GLOSSARY_DOC);
  setGlossaryTarget(mode === 'client' ? { command: true } : existsSync(glossaryFile) ? { fileUrl: pathToFileURL(glossaryFile).href } : undefined);
  canRefreshLenses = params.capabilities.workspace?.codeLens?.refreshSupport === true;
  canWatchFiles = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
  const parser = await createParser();
  workspace = new Workspace(parser, cache, mode === 'client' ? clientLoader() : engineLoader(cache));
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
      hoverProvider: true,
      codeLensProvider: { resolveProvider: false },
      // Under VS Code the extension owns the command; other editors send it back to the server.
      ...(mode === 'server' ? { executeCommandProvider: { commands: [OPEN_LAYER_COMMAND] } } : {}),
    },
    serverInfo: { name: 'polytope-lens', version: '0.1.0' },
  };
});

connection.onInitialized(() => {
  if (mode === 'server' && canWatchFiles) {
    connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*.onnx' }] }).catch(() => undefined);
  }
});

connection.onDidOpenTextDocument(({ textDocument: d }) => {
  if (workspace && isPython(d.uri, d.languageId)) workspace.open(d.uri, d.version, d.text);
});

connection.onDidChangeTextDocument(({ textDocument: d, contentChanges }) => {
  workspace?.change(d.uri, contentChanges, d.version);
});

connection.onDidCloseTextDocument(({ textDocument: d }) => workspace?.close(d.uri));

connection.onHover((params) =>
  guarded<Hover | null>('hover', async () => {
    if (!workspace?.has(params.textDocument.uri)) return null;
    const py = workspace.pyFile(params.textDocument.uri);
    // Position first: no model is looked up for a hover that points at nothing (or outside a module class,
    // where no stack trace of the export can point).
    const row = params.position.line;
    if (!py || (!targetAt(py, row, params.position.character) && !inModuleClass(py, row))) return null;
    const view = await workspace.view(params.textDocument.uri);
    const t = view && (targetAt(view.py, row, params.position.character) ?? lineTarget(view, row));
    if (!view || !t) return null;
    return {
      contents: { kind: 'markdown', value: renderHover(view, t) },
      range: { start: { line: t.span.startRow, character: t.span.startCol }, end: { line: t.span.endRow, character: Math.min(t.span.endCol, 1 << 30) } },
    };
  }, null),
);

connection.onCodeLens((params) =>
  guarded<CodeLens[]>('codeLens', async () => {
    if (!workspace?.has(params.textDocument.uri)) return [];
    const view = await workspace.view(params.textDocument.uri);
    if (!view) return [];
    return codeLenses(view).map((l) => ({
      range: { start: { line: l.line, character: l.col }, end: { line: l.line, character: l.col } },
      command: { title: l.title, tooltip: l.tooltip, command: l.command, arguments: [l.args] },
    }));
  }, []),
);

connection.onNotification(AnalysisNotification, (p) => {
  cache.setAnalysis(p);
  refreshLenses();
});

connection.onNotification(ClearAnalysisNotification, (p) => {
  cache.clearAnalysis(p.modelPath);
  refreshLenses();
});

connection.onNotification(ModelChangedNotification, (p) => {
  cache.invalidate(p.modelPath);
  misses.clear();
  refreshLenses();
});

connection.onDidChangeWatchedFiles(({ changes }) => {
  let any = false;
  for (const c of changes) {
    const path = uriToPath(c.uri);
    if (path && (c.type === FileChangeType.Changed || c.type === FileChangeType.Deleted || c.type === FileChangeType.Created)) {
      cache.invalidate(path);
      any = true;
    }
  }
  if (any) refreshLenses();
});

connection.onRequest(DocumentModelRequest, (p) => guarded('documentModel', async () => (workspace ? workspace.documentModel(p.uri) : null), null));

// Editors without the extension: the link and the CodeLens come back here; answer with a message.
connection.onExecuteCommand(async ({ command, arguments: args }) => {
  if (command !== OPEN_LAYER_COMMAND) return;
  const a = args?.[0] as OpenLayerArgs | undefined;
  if (!a) return;
  const s = await cache.cached(a.modelPath);
  const layer = s?.summary.layers.find((l) => l.key === a.layer);
  const what = layer ? `${layer.key} (${layer.op}, ${layer.units} units, shape [${layer.shape.join(', ')}])` : a.nodes.join(', ') || 'the model';
  await connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Info, message: `Polytope Lens: ${what} in ${a.modelPath}. Inspect it with: polytope-lens summary ${a.modelPath}` });
});

connection.listen();
