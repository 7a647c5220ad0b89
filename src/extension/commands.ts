/** Commands that run analyses: Probe codes, Open example. */
import { sep } from 'node:path';
import * as vscode from 'vscode';
import { isUserError, messageOf } from '../core/errors';
import { runCodes, sampleShapeOf, type InputSource } from '../worker/jobs';
import { withoutSamples, type CodesView } from '../shared/webview-protocol';
import { readConfig } from './config';
import { MODEL_VIEW_TYPE } from './modelViewProvider';
import { pickInputs, pickModel, type InputFit } from './pickers';
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

  /** The model's input, so the picker can say which data files fit it (undefined when the model cannot be read: the run says why). */
  private async fitOf(model: vscode.Uri): Promise<InputFit | undefined> {
    try {
      const summary = await this.services.withPool((pool) => pool.summary(this.services.modelRef(model)), model);
      return { sampleShape: sampleShapeOf(summary), inputName: summary.inputs[0]?.name };
    } catch {
      return undefined;
    }
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
    const inputs = sourceOf(opts) ?? (await pickInputs(model, await this.fitOf(model)));
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
              model,
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

/**
 * Open Example: copies the digits example (model, data, train.py) into a folder the user picks, by default a new
 * `digits-example` folder in the workspace (or, with no folder open, a folder that is then added to the window),
 * and opens train.py and the model there. Nothing is ever written into the extension's own folder. From code,
 * `{ target: '/abs/folder' }` names the folder (created) and nothing is asked. Returns the copied model's URI.
 */
export class OpenExampleProvider {
  static register(context: vscode.ExtensionContext, services?: Services): void {
    context.subscriptions.push(
      vscode.commands.registerCommand('polytopeLens.openExample', async (opts?: unknown) => {
        const source = vscode.Uri.joinPath(context.extensionUri, 'examples', 'digits');
        const given = typeof opts === 'object' && opts !== null && typeof (opts as { target?: unknown }).target === 'string' ? (opts as { target: string }).target : undefined;
        const target = given ? vscode.Uri.file(given) : await pickExampleFolder();
        if (!target) return undefined;
        const inside = (root: vscode.Uri) => target.fsPath === root.fsPath || target.fsPath.startsWith(root.fsPath.endsWith(sep) ? root.fsPath : root.fsPath + sep);
        if (inside(context.extensionUri)) {
          void vscode.window.showErrorMessage("Polytope Lens: the example is not copied into the extension's own folder; pick another folder.");
          return undefined;
        }
        try {
          await vscode.workspace.fs.createDirectory(target);
          // The script first and the model last, so the copied model is not older than the script that made it.
          const rank = (n: string) => (n.endsWith('.py') ? 0 : n.endsWith('.onnx') ? 2 : 1);
          const names = (await vscode.workspace.fs.readDirectory(source)).filter(([, t]) => t === vscode.FileType.File).map(([n]) => n);
          for (const name of names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))) {
            const to = vscode.Uri.joinPath(target, name);
            // A copy already there (Open Example run twice into the same folder) is kept: it may hold the user's edits.
            if (await exists(to)) continue;
            await vscode.workspace.fs.copy(vscode.Uri.joinPath(source, name), to, { overwrite: false });
          }
        } catch (e) {
          void vscode.window.showErrorMessage(`Polytope Lens: could not copy the example to ${target.fsPath} (${messageOf(e)}).`);
          return undefined;
        }
        const model = vscode.Uri.joinPath(target, 'digits.onnx');
        services?.log.info(`open example: copied to ${target.fsPath}`);
        // A folder outside the open workspace is added to it, so the explorer, hover and side panel reach it.
        const folders = vscode.workspace.workspaceFolders ?? [];
        if (!folders.some((f) => inside(f.uri))) vscode.workspace.updateWorkspaceFolders(folders.length, 0, { uri: target });
        const train = vscode.Uri.joinPath(target, 'train.py');
        if (await exists(train)) await vscode.window.showTextDocument(train, { viewColumn: vscode.ViewColumn.One, preview: false });
        await vscode.commands.executeCommand('vscode.openWith', model, MODEL_VIEW_TYPE, { viewColumn: services ? services.resultsViewColumn() : vscode.ViewColumn.Beside });
        services?.noteEditorColumn(model);
        return model;
      }),
    );
  }
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/** Where the example goes: a new folder in the workspace (first), or a folder the user chooses. */
async function pickExampleFolder(): Promise<vscode.Uri | undefined> {
  const ws = vscode.workspace.workspaceFolders?.[0];
  let proposed: vscode.Uri | undefined;
  if (ws) {
    proposed = vscode.Uri.joinPath(ws.uri, 'digits-example');
    for (let i = 2; (await exists(proposed)) && i < 100; i++) proposed = vscode.Uri.joinPath(ws.uri, `digits-example-${i}`);
  }
  const items: (vscode.QuickPickItem & { where: 'workspace' | 'choose' })[] = [
    ...(proposed ? [{ label: `$(new-folder) Copy into ${vscode.workspace.asRelativePath(proposed)}`, description: 'a new folder in this workspace', where: 'workspace' as const }] : []),
    { label: '$(folder-opened) Choose a folder…', description: ws ? 'copied there and added to this window' : 'copied there and opened in this window', where: 'choose' },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Polytope Lens: where should the example (digits.onnx, its data and train.py) go?' });
  if (!pick) return undefined;
  if (pick.where === 'workspace') return proposed;
  const chosen = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Copy the example here', title: 'Polytope Lens: copy the example into which folder?' });
  return chosen?.[0] ? vscode.Uri.joinPath(chosen[0], 'digits-example') : undefined;
}
