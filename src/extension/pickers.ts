/** Quick picks: which model, which inputs, which labels. Each asks only what is needed. */
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { readNpyHeader, type NpyHeader } from '../core/inputs';
import type { InputSource } from '../worker/jobs';
import { describeForModel, labelsNameFor, labelsProblem } from './dataFiles';
import { readConfig } from './config';
import type { Services } from './services';

const EXCLUDE = '{**/node_modules/**,**/.git/**,**/.tools/**,**/out/**}';

/** The model of the active model view, else the only/picked .onnx of the workspace. */
export async function pickModel(services: Services): Promise<vscode.Uri | undefined> {
  const active = activeModel();
  if (active) return active;
  const found = await vscode.workspace.findFiles('**/*.onnx', EXCLUDE, 500);
  if (found.length === 0) {
    const choice = await vscode.window.showInformationMessage('No .onnx model in this workspace.', 'Open Example');
    if (choice) await vscode.commands.executeCommand('polytopeLens.openExample');
    return undefined;
  }
  if (found.length === 1) return found[0];
  services.log.debug(`${found.length} models in the workspace`);
  const pick = await vscode.window.showQuickPick(
    found.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    { title: 'Polytope Lens: which model?', matchOnDescription: true },
  );
  return pick?.uri;
}

export function activeModel(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom && input.uri.path.toLowerCase().endsWith('.onnx')) return input.uri;
  return undefined;
}

interface InputItem extends vscode.QuickPickItem {
  source: InputSource;
}

/** The .npy files next to the model first, then the rest of the workspace (each once). */
async function npyFiles(model: vscode.Uri): Promise<vscode.Uri[]> {
  const dir = vscode.Uri.joinPath(model, '..');
  const near: vscode.Uri[] = [];
  try {
    for (const [name, type] of await vscode.workspace.fs.readDirectory(dir)) {
      if (type === vscode.FileType.File && name.toLowerCase().endsWith('.npy')) near.push(vscode.Uri.joinPath(dir, name));
    }
  } catch {
    // An unreadable folder only means no suggestions from it.
  }
  const seen = new Set<string>();
  return [...near, ...(await vscode.workspace.findFiles('**/*.npy', EXCLUDE, 200))].filter((u) => !seen.has(u.fsPath) && seen.add(u.fsPath));
}

function headerOf(path: string): NpyHeader | undefined {
  try {
    return readNpyHeader(path);
  } catch {
    return undefined;
  }
}

/** The model's input, for telling which arrays fit it. */
export interface InputFit {
  sampleShape: number[];
  inputName?: string;
}

/**
 * A .npy data file next to the model or in the workspace, each shown with its dtype and shape and whether it fits
 * the model's input (those that fit first; the others under a separator); undefined if none or dismissed.
 */
export async function pickNpy(model: vscode.Uri, title: string, fit?: InputFit): Promise<string | undefined> {
  const files = await npyFiles(model);
  if (files.length === 0) {
    void vscode.window.showErrorMessage('Polytope Lens: no .npy data file next to the model or in the workspace.');
    return undefined;
  }
  const items = files.map((uri) => {
    const h = headerOf(uri.fsPath);
    const d = h ? describeForModel(h, fit?.sampleShape) : { detail: 'not readable as .npy', fits: false };
    return { label: `${d.fits === false ? '$(circle-slash)' : '$(file)'} ${uri.path.split('/').pop()}`, description: vscode.workspace.asRelativePath(uri), detail: d.detail, path: uri.fsPath, fits: d.fits };
  });
  const good = items.filter((i) => i.fits !== false);
  const bad = items.filter((i) => i.fits === false);
  const name = model.path.split('/').pop();
  const list: (vscode.QuickPickItem & { path?: string })[] = [...good, ...(bad.length ? [{ label: `do not fit ${name}`, kind: vscode.QuickPickItemKind.Separator }, ...bad] : [])];
  const pick = await vscode.window.showQuickPick(list, { title, matchOnDescription: true });
  return pick?.path;
}

/**
 * Labels for a data file of n samples: integer 1-D .npy files beside it with exactly n entries, the one its name
 * suggests first; or `none` (its label says what that means: predicted classes, or no labels). Resolves to
 * { path } / { path: undefined } for "none", or undefined when dismissed.
 */
export async function pickLabels(data: string, n: number, title: string, none: { label: string; detail: string }): Promise<{ path: string | undefined } | undefined> {
  const dir = dirname(data);
  const suggested = new Set(labelsNameFor(data));
  let names: string[] = [];
  try {
    names = (await vscode.workspace.fs.readDirectory(vscode.Uri.file(dir))).filter(([f, t]) => t === vscode.FileType.File && f.toLowerCase().endsWith('.npy')).map(([f]) => f);
  } catch {
    // No candidates from an unreadable folder: only "none" is offered.
  }
  const candidates = names
    .map((f) => ({ f, h: headerOf(join(dir, f)) }))
    .filter(({ f, h }) => h && f !== basename(data) && labelsProblem(h, f, n, basename(data)) === undefined)
    .sort((a, b) => Number(suggested.has(b.f)) - Number(suggested.has(a.f)) || a.f.localeCompare(b.f));
  const items = [
    ...candidates.map(({ f, h }) => ({ label: `$(tag) ${f}`, description: suggested.has(f) ? 'matches the data file' : '', detail: `${h!.dtype} [${h!.shape.join(', ')}]`, path: join(dir, f) as string | undefined })),
    { label: `$(circle-slash) ${none.label}`, description: '', detail: none.detail, path: undefined },
  ];
  const pick = await vscode.window.showQuickPick(items, { title });
  return pick ? { path: pick.path } : undefined;
}

/** The labels its name suggests for a data file, when such a file beside it labels every sample (path endpoints show classes). */
export function suggestedLabels(data: string, n: number): string | undefined {
  for (const f of labelsNameFor(data)) {
    const path = join(dirname(data), f);
    const h = headerOf(path);
    if (h && labelsProblem(h, f, n, basename(data)) === undefined) return path;
  }
  return undefined;
}

/** Data files next to the model and in the workspace (those that fit the model first, each with dtype and shape), or seeded random probes. */
export async function pickInputs(model: vscode.Uri, fit?: InputFit): Promise<InputSource | undefined> {
  const { defaultProbes } = readConfig();
  const described = (await npyFiles(model)).map((uri) => {
    const h = headerOf(uri.fsPath);
    return { uri, d: h ? describeForModel(h, fit?.sampleShape) : { detail: 'not readable as .npy', fits: false } };
  });
  const fileItem = ({ uri, d }: (typeof described)[number]) => ({
    label: `${d.fits === false ? '$(circle-slash)' : '$(file)'} ${uri.path.split('/').pop()}`,
    description: vscode.workspace.asRelativePath(uri),
    detail: d.detail,
    source: { kind: 'file', path: uri.fsPath } as InputSource,
  });
  const bad = described.filter((x) => x.d.fits === false);
  const items: (InputItem | vscode.QuickPickItem)[] = [
    ...described.filter((x) => x.d.fits !== false).map(fileItem),
    { label: 'random probes', kind: vscode.QuickPickItemKind.Separator },
    {
      label: `$(symbol-numeric) ${defaultProbes} Gaussian probes`,
      description: 'mean 0, std 1, seed 0',
      source: { kind: 'probes', probes: 'gaussian', n: defaultProbes, seed: 0 },
    },
    {
      label: `$(symbol-numeric) ${defaultProbes} uniform probes`,
      description: 'in [0, 1), seed 0',
      source: { kind: 'probes', probes: 'uniform', n: defaultProbes, seed: 0, lo: 0, hi: 1 },
    },
    ...(bad.length ? [{ label: `do not fit ${model.path.split('/').pop()}`, kind: vscode.QuickPickItemKind.Separator }, ...bad.map(fileItem)] : []),
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Polytope Lens: probe with which inputs?', matchOnDescription: true });
  return pick && 'source' in pick ? pick.source : undefined;
}
