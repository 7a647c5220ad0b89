/**
 * The extension's entry: activate() only registers providers; everything it creates is a disposable of the
 * context. No worker starts here: the engine pool starts on the first analysis (src/extension/services.ts).
 */
import * as vscode from 'vscode';
import { OpenExampleProvider, ProbeCodesProvider } from './commands';
import { AnalysisCommands } from './analysisCommands';
import { registerPolytopeCommand } from './polytopeCommand';
import { AnalysisPanels, type AnalysisInfo } from './analysisPanel';
import { ModelViewProvider } from './modelViewProvider';
import type { PageInfo } from './modelPage';
import { Services, type RunRecord } from './services';
import { SummaryPanelProvider } from './summaryPanel';
import { LanguageClientProvider } from './languageClient';
import { SidePanelProvider, type SidePanelInfo } from './sidePanel';
import { GlossaryProvider } from './glossary';

/** What activate() returns (vscode.extensions.getExtension(...).exports): read-only status for tests and tools. */
export interface LensApi {
  /** The open model pages and what each last rendered. */
  pages(): PageInfo[];
  /** How the last analysis ended. */
  lastRun(): RunRecord | undefined;
  /** Fires each time a page reports what it rendered. */
  onDidRender: vscode.Event<PageInfo>;
  /** The open analysis panels (density, region map, local complexity, scaling) and what each last rendered. */
  analyses(): AnalysisInfo[];
  /** Fires when an analysis panel renders, answers a click or exports. */
  onDidAnalysisRender: vscode.Event<AnalysisInfo>;
  /** The side panel: which model it shows for the active editor, its analysis, refreshes after re-exports. */
  sidePanel(): SidePanelInfo;
  /** Fires when the side panel's state or rendering changes. */
  onDidSidePanel: vscode.Event<SidePanelInfo>;
}

export function activate(context: vscode.ExtensionContext): LensApi {
  const services = Services.register(context);
  ModelViewProvider.register(context, services);
  SummaryPanelProvider.register(context, services);
  ProbeCodesProvider.register(context, services);
  OpenExampleProvider.register(context, services);
  const analysisPanels = AnalysisPanels.register(context, services);
  AnalysisCommands.register(context, services, analysisPanels);
  registerPolytopeCommand(context, services, analysisPanels);
  // Language features (hover, CodeLens over PyTorch code): the server starts on the first Python document.
  LanguageClientProvider.register(context, services);
  const sidePanel = SidePanelProvider.register(context, services);
  GlossaryProvider.register(context, services.log);
  services.log.info(`activated (${context.extensionMode === vscode.ExtensionMode.Test ? 'test' : 'normal'} mode)`);
  return {
    pages: () => services.views.all().map((p) => p.info()),
    lastRun: () => services.lastRun,
    onDidRender: (listener, thisArg, disposables) => services.views.onDidRender((p) => listener.call(thisArg, p.info()), undefined, disposables),
    analyses: () => analysisPanels.all().map((p) => p.info()),
    onDidAnalysisRender: (listener, thisArg, disposables) => analysisPanels.onDidChange((p) => listener.call(thisArg, p.info()), undefined, disposables),
    sidePanel: () => sidePanel.info(),
    onDidSidePanel: sidePanel.onDidChange,
  };
}

/** Disposables of the context (including the engine pool) are disposed by VS Code. */
export function deactivate(): void {}
