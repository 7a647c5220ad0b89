/**
 * The summary panel: the model page in an ordinary webview panel, a tab of the results group (command Show Model Summary),
 * restored after a reload by a WebviewPanelSerializer from the page's saved state, whose model URI is checked
 * (an existing .onnx file inside the workspace or the extension's examples) before it is used.
 */
import * as vscode from 'vscode';
import { parseModelViewState } from '../shared/webview-protocol';
import { ModelPage } from './modelPage';
import { pickModel } from './pickers';
import type { Services } from './services';

export const SUMMARY_VIEW_TYPE = 'polytopeLens.summary';

export class SummaryPanelProvider implements vscode.WebviewPanelSerializer {
  /** The open summary panels by model URI: Show Model Summary of a model that has one reveals it. */
  private readonly panels = new Map<string, vscode.WebviewPanel>();

  private constructor(private readonly services: Services) {}

  static register(context: vscode.ExtensionContext, services: Services): void {
    const provider = new SummaryPanelProvider(services);
    context.subscriptions.push(
      vscode.window.registerWebviewPanelSerializer(SUMMARY_VIEW_TYPE, provider),
      vscode.commands.registerCommand('polytopeLens.showSummary', async (arg?: unknown) => {
        const uri = arg instanceof vscode.Uri ? arg : await pickModel(services);
        if (uri) provider.open(uri);
      }),
    );
  }

  /** The model's summary as a tab of the results group; its existing tab when it has one. */
  open(uri: vscode.Uri): void {
    const open = this.panels.get(uri.toString());
    if (open) {
      open.reveal(open.viewColumn, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(SUMMARY_VIEW_TYPE, titleOf(uri), { viewColumn: this.services.resultsViewColumn(), preserveFocus: true });
    this.services.notePanelColumn(panel);
    this.attach(panel, uri);
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const restored = parseModelViewState(state);
    const uri = restored ? await trustedModelUri(restored.model, this.services.context.extensionUri) : undefined;
    if (!uri) {
      this.services.log.warn('summary panel: the saved state names no model of this workspace; closing it');
      panel.dispose();
      return;
    }
    this.services.notePanelColumn(panel);
    this.attach(panel, uri);
  }

  private attach(panel: vscode.WebviewPanel, uri: vscode.Uri): void {
    panel.title = titleOf(uri);
    const page = new ModelPage(this.services, panel.webview, uri, 'panel');
    const key = uri.toString();
    this.panels.set(key, panel);
    panel.onDidChangeViewState(() => this.services.notePanelColumn(panel));
    panel.onDidDispose(() => {
      if (this.panels.get(key) === panel) this.panels.delete(key);
      page.dispose();
    });
    page.start();
  }
}

function titleOf(uri: vscode.Uri): string {
  return `Lens: ${uri.path.split('/').pop()}`;
}

/** A URI from a webview's saved state, accepted only as an existing .onnx file in the workspace or the examples. */
export async function trustedModelUri(raw: string, extensionUri: vscode.Uri): Promise<vscode.Uri | undefined> {
  let uri: vscode.Uri;
  try {
    uri = vscode.Uri.parse(raw, true);
  } catch {
    return undefined;
  }
  if (uri.scheme !== 'file' || !uri.path.toLowerCase().endsWith('.onnx')) return undefined;
  const inside = (root: vscode.Uri) => uri.path.startsWith(root.path.endsWith('/') ? root.path : root.path + '/');
  const roots = [...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri), vscode.Uri.joinPath(extensionUri, 'examples')];
  if (!roots.some(inside) || uri.path.split('/').includes('..')) return undefined;
  try {
    const st = await vscode.workspace.fs.stat(uri);
    return st.type & vscode.FileType.File ? uri : undefined;
  } catch {
    return undefined;
  }
}
