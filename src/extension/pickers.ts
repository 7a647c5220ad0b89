/** Quick picks: which model, which inputs. Each asks only what is needed. */
import * as vscode from 'vscode';
import type { InputSource } from '../worker/jobs';
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

/** Data files next to the model and in the workspace, or seeded random probes. */
export async function pickInputs(model: vscode.Uri): Promise<InputSource | undefined> {
  const { defaultProbes } = readConfig();
  const dir = vscode.Uri.joinPath(model, '..');
  const near: vscode.Uri[] = [];
  try {
    for (const [name, type] of await vscode.workspace.fs.readDirectory(dir)) {
      if (type === vscode.FileType.File && name.toLowerCase().endsWith('.npy')) near.push(vscode.Uri.joinPath(dir, name));
    }
  } catch {
    // An unreadable folder only means no suggestions from it.
  }
  const inWorkspace = await vscode.workspace.findFiles('**/*.npy', EXCLUDE, 200);
  const seen = new Set<string>();
  const files = [...near, ...inWorkspace].filter((u) => !seen.has(u.fsPath) && seen.add(u.fsPath));
  const items: (InputItem | vscode.QuickPickItem)[] = [
    ...files.map((uri) => ({
      label: `$(file) ${uri.path.split('/').pop()}`,
      description: vscode.workspace.asRelativePath(uri),
      source: { kind: 'file', path: uri.fsPath } as InputSource,
    })),
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
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Polytope Lens: probe with which inputs?', matchOnDescription: true });
  return pick && 'source' in pick ? pick.source : undefined;
}
