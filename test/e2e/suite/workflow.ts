/**
 * End-to-end tests of the workflow parts of issue #13, in the real VS Code: analyses open as tabs of one results
 * group; pickers refuse inputs and labels that cannot work with one sentence before any work; results stay (a
 * closed view, a re-export with a new hash, and after a real Reload Window: the model view, side panel, hover and
 * CodeLens). Works on copies of examples/digits in the test workspace. The "after Reload Window" tests run in the
 * suite's second phase (test/e2e/suite/index.ts reloads the window between the phases).
 */
import * as assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { LensApi } from '../../../src/extension/main';
import type { CodesView } from '../../../src/shared/webview-protocol';
import { test, waitFor } from './harness';

const EXT_ID = 'polytope-lens.polytope-lens';
export const AFTER_RELOAD = 'after Reload Window:';

type DriverStep = (step: string, timeoutMs?: number) => Promise<{ ok: boolean; detail?: string }>;

/** A .npy file (version 1.0, C order) of int64 / float32 values. */
function writeNpy(path: string, dtype: '<i8' | '<f4', shape: number[], values: (i: number) => number): void {
  const n = shape.reduce((a, b) => a * b, 1);
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(n * (dtype === '<i8' ? 8 : 4));
  for (let i = 0; i < n; i++) {
    if (dtype === '<i8') body.writeBigInt64LE(BigInt(values(i)), i * 8);
    else body.writeFloatLE(values(i), i * 4);
  }
  writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

export function registerWorkflowTests(getApi: () => LensApi, driverStep: DriverStep): void {
  const ui = process.env.POLYTOPE_E2E_SKIP_UI !== '1';
  const shot = async (name: string) => {
    if (!ui) return;
    const v = await driverStep(`shot:${name}`);
    assert.ok(v.ok, `screenshot ${name}: ${v.detail}`);
  };
  const ext = () => vscode.extensions.getExtension(EXT_ID)!.extensionUri;
  const ws = () => vscode.workspace.workspaceFolders![0]!.uri;
  /**
   * Opens the model of `dir` in the model view and has the driver start Boundary Density from the palette and read
   * its `prompt` (the data-file picker, or the endpoint question): the command takes the active model view's model.
   */
  const boundaryDensityPrompt = async (prompt: 'picker' | 'endpoint', dir: string) => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(join(dir, 'digits.onnx')), 'polytopeLens.modelView');
    // Keys typed into a focused webview do not reach the workbench: the explorer takes the focus (the model view
    // stays the active tab). The workbench gives no event for the focus move, hence the short pause.
    await vscode.commands.executeCommand('workbench.view.explorer');
    await new Promise((res) => setTimeout(res, 300));
    return driverStep(`${prompt}:Boundary Density Along a Path`);
  };
  const wf = () => join(ws().fsPath, 'wf');
  const model = () => vscode.Uri.file(join(wf(), 'digits.onnx'));
  const x = () => join(wf(), 'digits-x.npy');
  const y = () => join(wf(), 'digits-y.npy');
  const panelsOf = (m: vscode.Uri) => getApi().analyses().filter((a) => a.model === m.toString());
  const copyExample = (dir: string) => {
    mkdirSync(dir, { recursive: true });
    for (const f of ['train.py', 'digits-x.npy', 'digits-y.npy', 'digits-train-y.npy', 'digits.onnx']) copyFileSync(vscode.Uri.joinPath(ext(), 'examples', 'digits', f).fsPath, join(dir, f));
  };
  const groupsDesc = () => JSON.stringify(vscode.window.tabGroups.all.map((g) => `${g.viewColumn}: ${g.tabs.map((t) => t.label).join(' | ')}`));

  test('real models: Probe Codes runs on mnist-8, ultraface and a torchvision SqueezeNet (int64 fields read right, also from the installed VSIX)', async () => {
    // The fixtures come from the checkout (beside this suite's bundle); the extension may be the installed VSIX.
    const fixtures = join(__dirname, '..', '..', '..', 'test', 'fixtures');
    const dir = join(ws().fsPath, 'real-models');
    mkdirSync(dir, { recursive: true });
    for (const f of ['mnist-8.onnx', 'ultraface-RFB-320.onnx', 'torchvision/squeezenet1_1.onnx']) {
      const to = join(dir, f.split('/').pop()!);
      copyFileSync(join(fixtures, f), to);
      const c = await vscode.commands.executeCommand<CodesView | undefined>('polytopeLens.probeCodes', vscode.Uri.file(to), { inputs: 'uniform', n: 2, seed: 1 });
      assert.ok(c, `${f}: ${JSON.stringify(getApi().lastRun())}`);
      assert.equal(c.n, 2, f);
      assert.ok(c.layers.length > 0 && c.distinct_codes >= 1, f);
    }
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }, 180_000);

  test('results group: Boundary Density, Density Study, Region Map, Local Complexity, Cluster Codes, Scale Activations and Show Model Summary open as tabs of one editor group beside the code', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    copyExample(wf());
    await vscode.window.showTextDocument(vscode.Uri.file(join(wf(), 'train.py')), { viewColumn: vscode.ViewColumn.One });
    const m = model();
    const runs: [string, Record<string, unknown>][] = [
      ['polytopeLens.pathDensity', { inputs: x(), from: 0, to: 7, steps: 20, exact: false }],
      ['polytopeLens.densityStudy', { inputs: x(), labels: y(), pairs: 5, steps: 20, permutations: 50 }],
      ['polytopeLens.regionMap', { inputs: x(), plane: [0, 1, 2], window: [-0.5, 1.5], resolution: 20, exact: false }],
      ['polytopeLens.localComplexity', { inputs: x(), n: 20, directions: 4 }],
      ['polytopeLens.clusterCodes', { inputs: x(), labels: y(), n: 60, k: 10, methods: ['kmedoids_codes'] }],
      ['polytopeLens.scaleActivations', { inputs: x(), layer: '/act1/Relu', alphas: [0.5, 1, 2], limit: 50 }],
    ];
    // The tab model reaches the extension host a moment after a panel is created.
    const settled = (what: string, check: () => boolean) => waitFor(what, () => (check() ? true : undefined), 5_000).catch(() => assert.fail(`${what}: ${groupsDesc()}`));
    for (const [cmd, opts] of runs) {
      const r = await vscode.commands.executeCommand(cmd, m, opts);
      assert.ok(r, `${cmd}: ${JSON.stringify(getApi().lastRun())}`);
      const webviews = runs.findIndex(([c]) => c === cmd) + 1;
      await settled(`after ${cmd}: two groups, ${webviews} result tabs`, () => vscode.window.tabGroups.all.length === 2 && vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview).length === webviews);
    }
    await vscode.commands.executeCommand('polytopeLens.showSummary', m);
    await waitFor('the summary panel', () => getApi().pages().find((p) => p.model === m.toString() && p.kind === 'panel' && p.rendered?.view !== 'empty'));
    await settled('seven result tabs', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview).length === 7);
    const groups = vscode.window.tabGroups.all;
    assert.equal(groups.length, 2, `one code group and one results group: ${groupsDesc()}`);
    const code = groups.find((g) => g.tabs.some((t) => t.label === 'train.py'))!;
    const results = groups.find((g) => g !== code)!;
    assert.equal(results.tabs.length, 7, `seven result tabs: ${groupsDesc()}`);
    assert.ok(results.tabs.every((t) => t.input instanceof vscode.TabInputWebview), groupsDesc());
    // The same analysis of the same model again: its tab, no new one.
    await vscode.commands.executeCommand('polytopeLens.pathDensity', m, { inputs: x(), from: 1, to: 2, steps: 10, exact: false });
    await vscode.commands.executeCommand('polytopeLens.showSummary', m);
    await new Promise((res) => setTimeout(res, 1000));
    assert.equal(vscode.window.tabGroups.all.length, 2, groupsDesc());
    assert.equal(vscode.window.tabGroups.all.find((g) => g.viewColumn === results.viewColumn)?.tabs.length, 7, groupsDesc());
    assert.equal(panelsOf(m).filter((p) => p.kind === 'path').length, 1);
    await shot('workflow-results-group');
  }, 240_000);

  test('pickers: a wrong-shape input, a wrong-length label file and a non-integer label file are each refused with one sentence before any work', async () => {
    const dir = join(ws().fsPath, 'wf-pick');
    copyExample(dir);
    const m = vscode.Uri.file(join(dir, 'digits.onnx'));
    const data = join(dir, 'digits-x.npy');
    writeNpy(join(dir, 'wide-x.npy'), '<f4', [10, 63], (i) => (i % 17) / 17);
    writeNpy(join(dir, 'float-y.npy'), '<f4', [360], (i) => i % 10);
    const cases: [string, Record<string, unknown>, string][] = [
      ['polytopeLens.pathDensity', { inputs: join(dir, 'wide-x.npy'), from: 0, to: 1, steps: 10, exact: false }, "wide-x.npy has shape [10, 63] but the model input 'input' needs [N, 64] (64 values per sample)."],
      ['polytopeLens.densityStudy', { inputs: data, labels: join(dir, 'digits-train-y.npy'), pairs: 5 }, 'digits-train-y.npy has 1437 labels but digits-x.npy has 360 inputs: a labels file needs exactly one label per input.'],
      ['polytopeLens.clusterCodes', { inputs: data, labels: join(dir, 'float-y.npy'), n: 50 }, 'float-y.npy cannot be the labels of digits-x.npy: labels must be integers (class ids), but it holds float32 values; save it with y.astype(np.int64).'],
    ];
    for (const [cmd, opts, sentence] of cases) {
      const t0 = Date.now();
      const r = await vscode.commands.executeCommand(cmd, m, opts);
      assert.equal(r, undefined, cmd);
      const last = getApi().lastRun();
      assert.equal(last?.status, 'failed', cmd);
      assert.equal(last?.message, sentence, cmd);
      assert.equal(last?.ms, 0, `${cmd}: refused before any run`);
      assert.equal(panelsOf(m).length, 0, `${cmd}: no analysis view was opened, nothing ran`);
      assert.ok(Date.now() - t0 < 10_000, `${cmd} answered in ${Date.now() - t0} ms`);
    }
  }, 120_000);

  test('UI: the data-file picker of Boundary Density shows each .npy with dtype and shape and whether it fits the model input', async () => {
    if (!ui) return;
    const dir = join(ws().fsPath, 'wf-pick');
    const v = await boundaryDensityPrompt('picker', dir);
    assert.ok(v.ok, v.detail);
    const rows = JSON.parse(v.detail ?? '[]') as string[];
    const row = (name: string) => rows.find((r) => r.includes(name) && r.includes('wf-pick')) ?? '';
    assert.match(row('digits-x.npy'), /float32 \[360, 64\] · fits the model input: 360 samples of \[64\]/, JSON.stringify(rows));
    assert.match(row('wide-x.npy'), /float32 \[10, 63\] · does not fit the model input \[N, 64\]/, JSON.stringify(rows));
    assert.match(row('digits-y.npy'), /int64 \[360\] · does not fit/, JSON.stringify(rows));
    const fitsFirst = rows.findIndex((r) => /fits the model input/.test(r));
    const notFit = rows.findIndex((r) => /do not fit digits\.onnx/.test(r));
    assert.ok(fitsFirst >= 0 && notFit > fitsFirst, `usable files first, then "do not fit": ${JSON.stringify(rows)}`);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }, 90_000);

  test('UI: the endpoints of Boundary Density show each sample\'s class when the data file\'s labels are known', async () => {
    if (!ui) return;
    const dir = join(ws().fsPath, 'wf-pick');
    const v = await boundaryDensityPrompt('endpoint', dir);
    assert.ok(v.ok, v.detail);
    const [first, seventh, initial] = JSON.parse(v.detail ?? '[]') as string[];
    const y = Array.from(new BigInt64Array(new Uint8Array(readFileSync(join(dir, 'digits-y.npy'))).buffer.slice(128)), Number);
    assert.ok(first.includes(`sample 0 is class ${y[0]} (digits-y.npy)`), first);
    assert.equal(seventh, `sample 7 is class ${y[7]} (digits-y.npy)`);
    assert.match(initial, new RegExp(`^First endpoint: sample index \\(0–359\\); sample 0 is class ${y[0]} \\(digits-y\\.npy\\)`), 'the default value\'s class is in the prompt');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }, 90_000);

  test('results stay: closing every view and reopening the model shows its codes and the last result of every analysis', async () => {
    const m = model();
    const codes = await vscode.commands.executeCommand<CodesView | undefined>('polytopeLens.probeCodes', m, { inputs: x() });
    assert.ok(codes);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await waitFor('no page of the model', () => (getApi().pages().some((p) => p.model === m.toString()) ? undefined : true));
    await vscode.commands.executeCommand('vscode.openWith', m, 'polytopeLens.modelView');
    const r = await waitFor('the reopened view to show codes and kept results', () => {
      const p = getApi().pages().find((q) => q.model === m.toString() && q.kind === 'editor');
      return p?.rendered?.view === 'codes' && (p.rendered.results ?? 0) >= 7 ? p.rendered : undefined;
    }, 20_000);
    assert.equal(r.statsRows, 3);
    assert.equal(r.results, 7, 'probe codes and six analyses');
    assert.equal(r.previousExport, false);
    await shot('workflow-kept-results');
    // Show Model Summary shows them too.
    await vscode.commands.executeCommand('polytopeLens.showSummary', m);
    const s = await waitFor('the summary panel with the kept results', () => {
      const p = getApi().pages().find((q) => q.model === m.toString() && q.kind === 'panel');
      return p?.rendered?.view === 'codes' && p.rendered.results === 7 ? p.rendered : undefined;
    }, 20_000);
    assert.equal(s.statsRows, 3);
  }, 120_000);

  test('results stay: a re-exported model with a new hash says its results are from the previous export', async () => {
    const dir = join(ws().fsPath, 'wf-reexport');
    copyExample(dir);
    const m = vscode.Uri.file(join(dir, 'digits.onnx'));
    const r = await vscode.commands.executeCommand('polytopeLens.localComplexity', m, { inputs: join(dir, 'digits-x.npy'), n: 10, directions: 4 });
    assert.ok(r);
    await new Promise((res) => setTimeout(res, 1500)); // the store writes in the background
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    // "Re-exported": other bytes at the same path (another model of the same input).
    const other = vscode.Uri.joinPath(ext(), 'test', 'fixtures', 'cnn.onnx').fsPath;
    assert.ok(existsSync(other), 'a second model to export over the first');
    copyFileSync(other, m.fsPath);
    await vscode.commands.executeCommand('vscode.openWith', m, 'polytopeLens.modelView');
    const p = await waitFor('the view to mark the results as of the previous export', () => {
      const q = getApi().pages().find((x) => x.model === m.toString() && x.kind === 'editor');
      return q?.rendered?.previousExport ? q.rendered : undefined;
    }, 20_000).catch((e: Error) => assert.fail(`${e.message}; pages: ${JSON.stringify(getApi().pages())}`));
    assert.equal(p.results, 1);
    await shot('workflow-previous-export');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }, 120_000);

  test('Open Example copies the example into the folder given and opens it there, never in the extension folder', async () => {
    const target = join(ws().fsPath, 'example-copy');
    const opened = await vscode.commands.executeCommand<vscode.Uri | undefined>('polytopeLens.openExample', { target });
    assert.ok(opened);
    assert.equal(opened.fsPath, join(target, 'digits.onnx'));
    for (const f of ['digits.onnx', 'digits-x.npy', 'digits-y.npy', 'train.py']) assert.ok(existsSync(join(target, f)), f);
    await waitFor('the copied model in the model view', () => getApi().pages().find((p) => p.model === opened.toString() && p.rendered?.view === 'summary'));
    const refused = await vscode.commands.executeCommand('polytopeLens.openExample', { target: vscode.Uri.joinPath(ext(), 'examples', 'again').fsPath });
    assert.equal(refused, undefined, "the extension's own folder is refused");
    assert.ok(!existsSync(vscode.Uri.joinPath(ext(), 'examples', 'again').fsPath));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }, 60_000);

  // ---- after a real Reload Window (second phase) ----

  const digits = () => vscode.Uri.file(join(ws().fsPath, 'digits', 'digits.onnx'));
  const train = () => vscode.Uri.file(join(ws().fsPath, 'digits', 'train.py'));

  test(`${AFTER_RELOAD} the model view shows the kept codes and results`, async () => {
    const m = model();
    await vscode.commands.executeCommand('vscode.openWith', m, 'polytopeLens.modelView');
    const r = await waitFor('the model view after the reload', () => {
      const p = getApi().pages().find((q) => q.model === m.toString() && q.kind === 'editor');
      return p?.rendered?.view === 'codes' && (p.rendered.results ?? 0) >= 7 ? p.rendered : undefined;
    }, 30_000).catch((e: Error) => assert.fail(`${e.message}; pages: ${JSON.stringify(getApi().pages())}`));
    assert.equal(r.statsRows, 3);
    await shot('workflow-after-reload-model-view');
  }, 60_000);

  test(`${AFTER_RELOAD} the side panel shows the kept analysis of the model train.py exports`, async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('polytopeLens.sidePanel.focus');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(train()), vscode.ViewColumn.One);
    const s = await waitFor('the side panel with the kept analysis', () => {
      const i = getApi().sidePanel();
      return i.model === digits().fsPath && i.analysed && i.results > 0 && i.rendered?.view === 'model' ? i : undefined;
    }, 30_000).catch((e: Error) => assert.fail(`${e.message}; side panel: ${JSON.stringify(getApi().sidePanel())}`));
    assert.equal(s.previousExport, false);
    await shot('workflow-after-reload-side-panel');
  }, 60_000);

  test(`${AFTER_RELOAD} the hover and CodeLens on train.py show the kept numbers`, async () => {
    const doc = await vscode.workspace.openTextDocument(train());
    const pos = doc.positionAt(doc.getText().indexOf('self.fc1 =') + 'self.'.length + 1);
    const md = await waitFor('a hover with the kept numbers', async () => {
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', train(), pos);
      const t = (hovers ?? []).flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
      return /\[regions? hit\]\(\S+ "[^"]*"\) overall/.test(t) ? t : undefined;
    }, 30_000);
    assert.match(md, /_Latest analysis:_ .*\d+ \[regions? hit\]\(\S+ "[^"]*"\) overall/);
    assert.match(md, /\| \[dead\]\(\S+ "[^"]*"\) \| \[always on\]\(\S+ "[^"]*"\) \| \[regions hit\]\(/);
    const line = pos.line;
    const lens = await waitFor('a lens with regions hit', async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', train());
      return l?.find((x) => x.range.start.line === line && /regions hit/.test(x.command?.title ?? ''));
    }, 30_000);
    assert.match(lens.command!.title, /^feeds 48 units · \d+ regions hit · open$/);
  }, 60_000);
}
