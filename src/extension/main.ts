/**
 * The extension's entry: activate() only registers providers; everything it creates is a disposable of the
 * context. No worker starts here: the engine pool starts on the first analysis (src/extension/services.ts).
 */
import * as vscode from 'vscode';
import { OpenExampleProvider, ProbeCodesProvider } from './commands';
import { ModelViewProvider } from './modelViewProvider';
import type { PageInfo } from './modelPage';
import { Services, type RunRecord } from './services';
import { SummaryPanelProvider } from './summaryPanel';

/** What activate() returns (vscode.extensions.getExtension(...).exports): read-only status for tests and tools. */
export interface LensApi {
  /** The open model pages and what each last rendered. */
  pages(): PageInfo[];
  /** How the last analysis ended. */
  lastRun(): RunRecord | undefined;
  /** Fires each time a page reports what it rendered. */
  onDidRender: vscode.Event<PageInfo>;
}

export function activate(context: vscode.ExtensionContext): LensApi {
  const services = Services.register(context);
  ModelViewProvider.register(context, services);
  SummaryPanelProvider.register(context, services);
  ProbeCodesProvider.register(context, services);
  OpenExampleProvider.register(context);
  // Language features (hover, CodeLens over PyTorch code) register here once the client exists:
  // LanguageClientProvider.register(context);
  services.log.info(`activated (${context.extensionMode === vscode.ExtensionMode.Test ? 'test' : 'normal'} mode)`);
  return {
    pages: () => services.views.all().map((p) => p.info()),
    lastRun: () => services.lastRun,
    onDidRender: (listener, thisArg, disposables) => services.views.onDidRender((p) => listener.call(thisArg, p.info()), undefined, disposables),
  };
}

/** Disposables of the context (including the engine pool) are disposed by VS Code. */
export function deactivate(): void {}
