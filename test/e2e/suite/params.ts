/**
 * End-to-end test of the parameter form of the analysis views (issue #13, "Parameters inside each view"), in the
 * real VS Code on a copy of examples/digits: Local Complexity with its defaults gives a visible chart; the radius
 * changed in the view's form and Run give the new result in the same tab (no new tab, no new group).
 */
import * as assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { LensApi } from '../../../src/extension/main';
import type { LocalResult } from '../../../src/shared/results';
import { test, waitFor } from './harness';

const EXT_ID = 'polytope-lens.polytope-lens';

type DriverStep = (step: string, timeoutMs?: number) => Promise<{ ok: boolean; detail?: string }>;

export function registerParamsTests(getApi: () => LensApi, driverStep: DriverStep): void {
  const ui = process.env.POLYTOPE_E2E_SKIP_UI !== '1';
  const dir = () => join(vscode.workspace.workspaceFolders![0]!.uri.fsPath, 'params');
  const model = () => vscode.Uri.file(join(dir(), 'digits.onnx'));
  const localPanels = () => getApi().analyses().filter((a) => a.kind === 'local' && a.model === model().toString());
  const webviewTabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview);
  const groupsDesc = () => JSON.stringify(vscode.window.tabGroups.all.map((g) => `${g.viewColumn}: ${g.tabs.map((t) => t.label).join(' | ')}`));

  test('UI: Local Complexity with its defaults shows a chart; the radius changed in the view and Run give the new result in the same tab', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    mkdirSync(dir(), { recursive: true });
    const ext = vscode.extensions.getExtension(EXT_ID)!.extensionUri;
    // Removed at the end: the data-file pickers of later tests list every .npy of the workspace.
    for (const f of ['train.py', 'digits-x.npy', 'digits.onnx']) copyFileSync(vscode.Uri.joinPath(ext, 'examples', 'digits', f).fsPath, join(dir(), f));
    await vscode.window.showTextDocument(vscode.Uri.file(join(dir(), 'train.py')), { viewColumn: vscode.ViewColumn.One });
    // Defaults (what the quick picks propose): all 360 inputs, 20 directions, 5 % of the median distance between inputs.
    const first = await vscode.commands.executeCommand<LocalResult | undefined>('polytopeLens.localComplexity', model(), { inputs: join(dir(), 'digits-x.npy') });
    assert.ok(first, `a result (last run: ${JSON.stringify(getApi().lastRun())})`);
    assert.equal(first.n, 360, 'all inputs of the file (fewer than the cap)');
    assert.equal(first.directions, 20);
    const panel = await waitFor('the local view to render its result', () => localPanels().find((p) => p.rendered?.view === 'result'));
    const median = panel.params?.medianDistance;
    assert.ok(median !== undefined && median > 1 && median < 8, `median distance ${median} (pixels in 0..1, 64 of them)`);
    assert.equal(first.radius, Number((0.05 * median).toPrecision(3)), 'the default radius is 5 % of the median distance');
    // A visible chart: units cut around nearly every input, bars drawn.
    assert.ok(first.per_point.filter((p) => p.total > 0).length >= 0.9 * first.n, `units cut around ${first.per_point.filter((p) => p.total > 0).length} of ${first.n}`);
    assert.equal(panel.rendered!.marks, first.per_point.reduce((a, p) => a + p.per_layer.filter((x) => x > 0).length, 0), 'a bar segment per layer with units cut');
    const groups = vscode.window.tabGroups.all.length;
    const tabs = webviewTabs().length;
    assert.equal(groups, 2, `the code and the results group: ${groupsDesc()}`);
    if (!ui) return cleanUp();

    // In the view: radius 0.3, Run (the driver types into the form and clicks, as a user does).
    const verdict = await driverStep('analysis-rerun:radius=0.3');
    assert.ok(verdict.ok, `rerun step: ${verdict.detail}`);
    const again = await waitFor(
      'the view to show the result of radius 0.3',
      () => {
        const p = localPanels()[0];
        const r = p?.result as LocalResult | undefined;
        return p?.rendered?.view === 'result' && r?.radius === 0.3 ? { p, r } : undefined;
      },
      60_000,
    );
    assert.equal(getApi().lastRun()?.status, 'done', JSON.stringify(getApi().lastRun()));
    assert.equal(again.p.params?.radius, 0.3, 'the form now shows the values of the new result');
    assert.equal(again.r.n, first.n, 'same inputs');
    assert.equal(again.r.directions, first.directions, 'same directions');
    assert.ok(again.r.mean_total > first.mean_total, `a larger radius cuts more units: ${again.r.mean_total} > ${first.mean_total}`);
    assert.equal(again.p.lastRerun?.refused, undefined);
    assert.deepEqual(again.p.lastRerun?.params, { radius: 0.3, directions: 20, n: 360 }, 'what the form sent');
    // The same tab: one local panel of this model, no new tab, no new group.
    assert.equal(localPanels().length, 1);
    assert.equal(vscode.window.tabGroups.all.length, groups, groupsDesc());
    assert.equal(webviewTabs().length, tabs, groupsDesc());
    const v = await driverStep('shot:params-local-rerun');
    assert.ok(v.ok, v.detail);
    await cleanUp();
  }, 180_000);

  const cleanUp = async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    rmSync(dir(), { recursive: true, force: true });
  };
}
