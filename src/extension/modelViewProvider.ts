/** The read-only custom editor for *.onnx: the model view. */
import * as vscode from 'vscode';
import { ModelPage } from './modelPage';
import type { Services } from './services';

export const MODEL_VIEW_TYPE = 'polytopeLens.modelView';

class ModelDocument implements vscode.CustomDocument {
  constructor(readonly uri: vscode.Uri) {}
  dispose(): void {}
}

export class ModelViewProvider implements vscode.CustomReadonlyEditorProvider<ModelDocument> {
  private constructor(private readonly services: Services) {}

  static register(context: vscode.ExtensionContext, services: Services): void {
    context.subscriptions.push(
      vscode.window.registerCustomEditorProvider(MODEL_VIEW_TYPE, new ModelViewProvider(services), {
        supportsMultipleEditorsPerDocument: true,
      }),
    );
  }

  openCustomDocument(uri: vscode.Uri): ModelDocument {
    return new ModelDocument(uri);
  }

  resolveCustomEditor(document: ModelDocument, panel: vscode.WebviewPanel): void {
    const page = new ModelPage(this.services, panel.webview, document.uri, 'editor');
    panel.onDidDispose(() => page.dispose());
    page.start();
  }
}
