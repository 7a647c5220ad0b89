/** Commands that run analyses: Probe codes, Open example. */
import * as vscode from 'vscode';
import { isUserError, messageOf } from '../core/errors';
import { runCodes, type InputSource } from '../worker/jobs';
import { withoutSamples, type CodesView } from '../shared/webview-protocol';
import { readConfig } from './config';
import { MODEL_VIEW_TYPE } from './modelViewProvider';
import { pickInputs, pickModel } from './pickers';
import type { Services } from './services';

/** Options a caller (a test, a script, another extension) can pass to skip the quick picks. */
export interface ProbeOptions {
  /** A .npy file or a folder of images (absolute path), or 'gaussian' / 'uniform' probes. */
  inputs?: string;
  n?: number;
  seed?: number;
}

function parseOptions(x: unknown): ProbeOptions {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return {};
  const o = x as Record<string, unknown>;
  return {
    inputs: typeof o.inputs === 'string' ? o.inputs : undefined,
    n: typeof o.n === 'number' && o.n > 0 ? Math.floor(o.n) : undefined,
    seed: typeof o.seed === 'number' ? Math.floor(o.seed) : undefined,
  };
}

function sourceOf(o: ProbeOptions): InputSource | undefined {
  if (!o.inputs) return undefined;
  const n = o.n ?? readConfig().defaultProbes;
  if (o.inputs === 'gaussian') return { kind: 'probes', probes: 'gaussian', n, seed: o.seed ?? 0 };
  if (o.inputs === 'uniform') return { kind: 'probes', probes: 'uniform', n, seed: o.seed ?? 0, lo: 0, hi: 1 };
  return { kind: 'file', path: o.inputs };
}

export class ProbeCodesProvider {
  private constructor(private readonly services: Services) {}

  static register(context: vscode.ExtensionContext, services: Services): void {
    const p = new ProbeCodesProvider(services);
    context.subscriptions.push(
      // From the explorer menu the arguments are (uri, selectedUris); from code (uri, ProbeOptions).
      vscode.commands.registerCommand('polytopeLens.probeCodes', (uri?: unknown, opts?: unknown) =>
        p.run(uri instanceof vscode.Uri ? uri : undefined, parseOptions(opts)),
      ),
    );
  }

  /** Returns what the views were sent, or undefined when the user cancelled or it failed (already reported). */
  async run(given: vscode.Uri | undefined, opts: ProbeOptions): Promise<CodesView | undefined> {
    const { log } = this.services;
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Polytope Lens runs models only in a trusted workspace.');
      return undefined;
    }
    const model = given ?? (await pickModel(this.services));
    if (!model) return undefined;
    const inputs = sourceOf(opts) ?? (await pickInputs(model));
    if (!inputs) return undefined;
    if (this.services.views.forModel(model).length === 0) {
      await vscode.commands.executeCommand('vscode.openWith', model, MODEL_VIEW_TYPE, { viewColumn: this.services.resultsViewColumn(), preserveFocus: true });
      this.services.noteEditorColumn(model);
    }
    const views = () => this.services.views.forModel(model);
    const name = model.path.split('/').pop()!;
    const started = Date.now();
    log.info(`probe codes: ${model.fsPath} with ${inputs.kind === 'file' ? inputs.path : `${inputs.n} ${inputs.probes} probes`}`);
    views().forEach((v) => v.post({ type: 'busy', busy: true, label: 'Probing codes…' }));
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Probing codes of ${name}`, cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          let last = 0;
          try {
            const { batchSize } = readConfig();
            return await this.services.withPool((pool) =>
              runCodes(
                pool,
                { model: this.services.modelRef(model), selection: {}, inputs, chunk: batchSize || undefined, samples: false },
                {
                  signal: abort.signal,
                  onProgress: (done, total) => {
                    progress.report({ increment: (100 * (done - last)) / total, message: `${done} / ${total}` });
                    last = done;
                    views().forEach((v) => v.post({ type: 'progress', done, total }));
                  },
                },
              ),
            );
          } finally {
            sub.dispose();
          }
        },
      );
      const codes = withoutSamples(result);
      log.info(`probe codes: ${codes.n} inputs, ${codes.distinct_codes} distinct codes in ${Date.now() - started} ms`);
      views().forEach((v) => v.post({ type: 'codes', codes }));
      this.services.analyses.recordCodes(model, codes, inputs);
      this.services.lastRun = { command: 'probeCodes', status: 'done', ms: Date.now() - started };
      return codes;
    } catch (e) {
      const cancelled = e instanceof Error && e.name === 'CancelledError';
      this.services.lastRun = { command: 'probeCodes', status: cancelled ? 'cancelled' : 'failed', ms: Date.now() - started, message: messageOf(e) };
      if (cancelled) {
        log.info('probe codes: cancelled');
        void vscode.window.showInformationMessage('Polytope Lens: probing cancelled.');
      } else if (isUserError(e)) {
        log.warn(`probe codes: ${e.message}`);
        void vscode.window.showErrorMessage(e.message);
      } else {
        log.error(`probe codes failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        void vscode.window.showErrorMessage(`Polytope Lens: probing failed (${messageOf(e)}). Details are in the Polytope Lens output.`);
      }
      return undefined;
    } finally {
      views().forEach((v) => v.post({ type: 'busy', busy: false }));
    }
  }
}

export class OpenExampleProvider {
  static register(context: vscode.ExtensionContext): void {
    context.subscriptions.push(
      vscode.commands.registerCommand('polytopeLens.openExample', async () => {
        const uri = vscode.Uri.joinPath(context.extensionUri, 'examples', 'digits', 'digits.onnx');
        await vscode.commands.executeCommand('vscode.openWith', uri, MODEL_VIEW_TYPE);
        return uri;
      }),
    );
  }
}
