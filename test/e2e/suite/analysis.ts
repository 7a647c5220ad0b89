/**
 * End-to-end tests of the analysis commands and their panels (src/extension/analysisCommands.ts, analysisPanel.ts)
 * in the real VS Code: each command runs programmatically (options instead of quick picks) and the test asserts on
 * what the webview rendered, counted from its DOM (the page's "rendered" report, LensApi.analyses()).
 */
import * as assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { LensApi } from '../../../src/extension/main';
import type { AnalysisInfo } from '../../../src/extension/analysisPanel';
import type { LocalResult, PathResult, ScaleResult, SliceResult } from '../../../src/shared/results';
import { test, waitFor } from './harness';

const EXT_ID = 'polytope-lens.polytope-lens';

type DriverStep = (step: string, timeoutMs?: number) => Promise<{ ok: boolean; detail?: string }>;

export function registerAnalysisTests(getApi: () => LensApi, driverStep: DriverStep): void {
  const ui = process.env.POLYTOPE_E2E_SKIP_UI !== '1';
  const ext = () => vscode.extensions.getExtension(EXT_ID)!.extensionUri;
  const digits = () => vscode.Uri.joinPath(ext(), 'examples', 'digits', 'digits.onnx');
  const digitsX = () => vscode.Uri.joinPath(ext(), 'examples', 'digits', 'digits-x.npy').fsPath;
  const ws = () => vscode.workspace.workspaceFolders![0]!.uri;
  /** mlp2d (two inputs) copied into the workspace, like a user's model. */
  const mlp2d = () => vscode.Uri.joinPath(ws(), 'models', 'mlp2d.onnx');

  let lastSlice: SliceResult | undefined;
  const panelOf = (kind: AnalysisInfo['kind'], model: vscode.Uri) => getApi().analyses().filter((a) => a.kind === kind && a.model === model.toString());
  // Once a view has failed to render, later waits fail at once (a broken view must fail the suite, not time it out).
  let viewsBroken = false;
  const renderedResult = async (kind: AnalysisInfo['kind'], model: vscode.Uri, view: string = 'result') => {
    try {
      return await waitFor(`the ${kind} view to render ${view}`, () => {
        const p = panelOf(kind, model)[0];
        return p?.rendered?.view === view ? p : undefined;
      }, viewsBroken ? 2_000 : 10_000);
    } catch (e) {
      viewsBroken = true;
      throw e;
    }
  };

  test('Boundary Density Along a Path on the example: the density view shows the steps, class changes and crossings', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const r = await vscode.commands.executeCommand<PathResult | undefined>('polytopeLens.pathDensity', digits(), { inputs: digitsX(), from: 0, to: 7, steps: 100, exact: true });
    assert.ok(r, `a result (last run: ${JSON.stringify(getApi().lastRun())})`);
    assert.equal(r.steps, 100);
    assert.equal(r.per_step.length, 100);
    assert.ok(r.exact, 'exact crossings');
    assert.ok(r.exact.total_flips >= r.total, 'sampling can only under-count');
    assert.deepEqual(Object.keys(r.per_layer_per_step), ['/act1/Relu', '/block/block.1/Relu', '/block/block.3/Relu']);
    const p = await renderedResult('path', digits());
    const segments = Object.values(r.per_layer_per_step).reduce((a, v) => a + v.filter((x) => x > 0).length, 0);
    assert.ok(segments > 0);
    assert.equal(p.rendered!.items, segments, 'one bar segment per layer and step with flips');
    assert.equal(p.rendered!.marks, r.class_changes_at_step.length + r.exact.crossings.length, 'class-change lines and crossing ticks');
    assert.equal(getApi().lastRun()?.status, 'done');
    // Beside the code: the panel is in a different group from the one that was active.
    const tab = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.label.startsWith('Boundary density'));
    assert.ok(tab, 'an analysis tab');
  }, 90_000);

  test('the same analysis of the same model reuses its panel; a bad index is an error state, not a result', async () => {
    const r = await vscode.commands.executeCommand<PathResult | undefined>('polytopeLens.pathDensity', digits(), { inputs: digitsX(), from: 3, to: 4, steps: 20, exact: false });
    assert.ok(r);
    assert.equal(r.exact, undefined);
    assert.equal(panelOf('path', digits()).length, 1, 'one panel per kind and model');
    await waitFor('the new result', () => (panelOf('path', digits())[0]?.rendered?.marks === r.class_changes_at_step.length ? true : undefined), viewsBroken ? 2_000 : 10_000);
    const bad = await vscode.commands.executeCommand('polytopeLens.pathDensity', digits(), { inputs: digitsX(), from: 0, to: 99_999, steps: 10, exact: false });
    assert.equal(bad, undefined);
    assert.equal(getApi().lastRun()?.status, 'failed');
    assert.match(getApi().lastRun()?.message ?? '', /99999|range|out of/i);
    const p = await renderedResult('path', digits(), 'error');
    assert.equal(p.rendered!.items, 0);
  }, 90_000);

  test('Region Map of a 2D Slice on a 2-input model in the workspace: exact polygons and decision boundary', async () => {
    mkdirSync(join(ws().fsPath, 'models'), { recursive: true });
    copyFileSync(vscode.Uri.joinPath(ext(), 'test', 'fixtures', 'mlp2d.onnx').fsPath, mlp2d().fsPath);
    const r = await vscode.commands.executeCommand<SliceResult | undefined>('polytopeLens.regionMap', mlp2d(), { window: [-3, 3], resolution: 100, exact: true });
    lastSlice = r;
    assert.ok(r, `a result (last run: ${JSON.stringify(getApi().lastRun())})`);
    assert.ok(r.exact?.polygons, 'exact polygons');
    assert.ok(r.exact.regions > 100, `${r.exact.regions} regions`);
    assert.ok(Math.abs(r.exact.total_area - 36) < 1e-6, 'the regions tile the window');
    const p = await renderedResult('slice', mlp2d());
    assert.equal(p.rendered!.items, r.exact.polygons.length, 'every polygon is drawn');
    assert.equal(p.rendered!.marks, r.exact.decision_boundary.length, 'every decision-boundary segment is drawn');
  }, 90_000);

  test('UI: a click on the region map shows the model there; Export JSON writes the result where the dialog says', async () => {
    if (!ui) return;
    const target = join(ws().fsPath, 'exports', 'mlp2d.slice.json');
    mkdirSync(join(ws().fsPath, 'exports'), { recursive: true });
    await vscode.commands.executeCommand('polytopeLens.test.setExportTarget', target);
    assert.ok(!viewsBroken, 'the analysis views render');
    const verdict = await driverStep('analysis-click');
    assert.ok(verdict.ok, `UI step: ${verdict.detail}`);
    const p = await waitFor('the point and the export', () => {
      const x = panelOf('slice', mlp2d())[0];
      return x?.lastPoint && x.lastExport ? x : undefined;
    }, 20_000);
    assert.equal(p.lastPoint!.error, undefined);
    assert.ok(Math.abs(p.lastPoint!.u) < 0.2 && Math.abs(p.lastPoint!.v) < 0.2, `the middle of [-3, 3]²: ${JSON.stringify(p.lastPoint)}`);
    assert.match(verdict.detail ?? '', new RegExp(`pred ${p.lastPoint!.pred}$`), 'the view shows the class the host computed');
    assert.equal(p.lastExport!.path, target);
    assert.ok(existsSync(target));
    const json = JSON.parse(readFileSync(target, 'utf8')) as SliceResult;
    assert.equal(json.grid.resolution, 100);
    assert.equal(json.exact?.polygons?.length, lastSlice?.exact?.polygons?.length);
  }, 90_000);

  test('Region Map through three samples of the example: the grid is drawn', async () => {
    const r = await vscode.commands.executeCommand<SliceResult | undefined>('polytopeLens.regionMap', digits(), { inputs: digitsX(), plane: [0, 1, 2], window: [-0.5, 1.5], resolution: 40, exact: false });
    assert.ok(r, `a result (last run: ${JSON.stringify(getApi().lastRun())})`);
    assert.deepEqual(r.plane.indices, [0, 1, 2]);
    assert.equal(r.exact, undefined);
    const p = await renderedResult('slice', digits());
    assert.equal(p.rendered!.items, r.grid.distinct_codes, 'every sampled region is drawn');
    assert.ok(p.rendered!.marks > 0, 'the three samples are not all one class: a boundary is drawn');
  }, 90_000);

  test('Local Complexity and Scale Activations show their tables and charts', async () => {
    const l = await vscode.commands.executeCommand<LocalResult | undefined>('polytopeLens.localComplexity', digits(), { inputs: digitsX(), n: 20, directions: 8 });
    assert.ok(l, `a result (last run: ${JSON.stringify(getApi().lastRun())})`);
    assert.equal(l.n, 20);
    const pl = await renderedResult('local', digits());
    assert.equal(pl.rendered!.items, 3, 'a row per layer');
    assert.equal(pl.rendered!.marks, l.per_point.reduce((a, p) => a + p.per_layer.filter((x) => x > 0).length, 0));
    const s = await vscode.commands.executeCommand<ScaleResult | undefined>('polytopeLens.scaleActivations', digits(), { inputs: digitsX(), layer: '/act1/Relu', alphas: [0, 1, 2], limit: 100 });
    assert.ok(s, `a result (last run: ${JSON.stringify(getApi().lastRun())})`);
    assert.equal(s.n, 100);
    assert.equal(s.alphas.find((a) => a.alpha === 1)?.flipped_bits_total, 0);
    const ps = await renderedResult('scale', digits());
    assert.equal(ps.rendered!.items, 3, 'a row per alpha');
  }, 90_000);

  test('UI: Cancel in the progress notification stops a long path; the view says cancelled, never a partial result', async () => {
    if (!ui) return;
    const t0 = Date.now();
    const running = vscode.commands.executeCommand('polytopeLens.pathDensity', digits(), { inputs: digitsX(), from: 0, to: 7, steps: 400_000, exact: false });
    await vscode.commands.executeCommand('notifications.showList');
    const verdict = await driverStep('analysis-cancel');
    assert.ok(verdict.ok, `cancel step: ${verdict.detail}`);
    assert.equal(await running, undefined);
    assert.equal(getApi().lastRun()?.status, 'cancelled', JSON.stringify(getApi().lastRun()));
    assert.ok(Date.now() - t0 < 20_000);
    const p = await renderedResult('path', digits(), 'cancelled');
    assert.equal(p.rendered!.items, 0, 'no bars after a cancel');
    await vscode.commands.executeCommand('notifications.hideList');
  }, 120_000);

  test('commands are registered for the palette and the explorer menu', async () => {
    const cmds = await vscode.commands.getCommands(true);
    for (const c of ['polytopeLens.pathDensity', 'polytopeLens.regionMap', 'polytopeLens.localComplexity', 'polytopeLens.scaleActivations']) assert.ok(cmds.includes(c), c);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await waitFor('the analysis panels to close', () => (getApi().analyses().length === 0 ? true : undefined));
  });
}
