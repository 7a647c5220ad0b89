/**
 * End-to-end tests of Inspect Polytope at Input (src/extension/polytopeCommand.ts) in the real VS Code: from code
 * and from the palette on the example (digits.onnx, digits-x.npy), a click on a neighbour in the view (the same tab
 * shows the neighbour's polytope), a click on a step of a path view, and bad inputs refused in one sentence. What
 * the page rendered is counted from its DOM (LensApi.analyses(): `rendered`, and `lastPolytope` for what it shows).
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { LensApi } from '../../../src/extension/main';
import type { AnalysisInfo } from '../../../src/extension/analysisPanel';
import type { PathResult, PolytopeResult, SliceResult } from '../../../src/shared/results';
import { test, waitFor } from './harness';

const EXT_ID = 'polytope-lens.polytope-lens';

type DriverStep = (step: string, timeoutMs?: number) => Promise<{ ok: boolean; detail?: string }>;

export function registerPolytopeTests(getApi: () => LensApi, driverStep: DriverStep): void {
  const ui = process.env.POLYTOPE_E2E_SKIP_UI !== '1';
  const ext = () => vscode.extensions.getExtension(EXT_ID)!.extensionUri;
  const digits = () => vscode.Uri.joinPath(ext(), 'examples', 'digits', 'digits.onnx');
  const digitsX = () => vscode.Uri.joinPath(ext(), 'examples', 'digits', 'digits-x.npy').fsPath;
  const polytopePanels = (model: vscode.Uri) => getApi().analyses().filter((a) => a.kind === 'polytope' && a.model === model.toString());
  const polytopeTabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.label.startsWith('Polytope'));
  /** The polytope panel once it shows a result that `ok` accepts. */
  const shown = (model: vscode.Uri, ok: (p: NonNullable<AnalysisInfo['lastPolytope']>) => boolean, timeoutMs = 60_000) =>
    waitFor('the polytope view to show the result', () => {
      const p = polytopePanels(model)[0];
      // The page's report of this result (not of the one before): one row per facet.
      return p?.rendered?.view === 'result' && p.lastPolytope && ok(p.lastPolytope) && p.rendered.items === p.lastPolytope.facets ? p : undefined;
    }, timeoutMs);
  /**
   * The end of a Cancel test, passed or failed: its run is over (a Cancel that was never clicked leaves the run to
   * its end, bounded by facetTimeLimit) and its views are closed, so that a failure does not carry into the next
   * test (CI once saw a neighbour click land in the CNN view a failed Cancel test had left open).
   */
  const closeAfter = async (running: Thenable<unknown>) => {
    await Promise.resolve(running).catch(() => undefined);
    await vscode.commands.executeCommand('notifications.hideList');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  };
  let first: PolytopeResult | undefined;

  test('Inspect Polytope at Input on the example: the polytope view shows the header, inradius, facets by layer and neighbours', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const r = await vscode.commands.executeCommand<PolytopeResult | undefined>('polytopeLens.inspectPolytope', digits(), { inputs: digitsX(), index: 0, box: [0, 1] });
    assert.ok(r, `a result (last run: ${JSON.stringify(getApi().lastRun())})`);
    first = r;
    assert.equal(r.dim, 64);
    assert.equal(r.precision, 'float64');
    assert.ok(r.inradius !== null && r.inradius > 0, `inradius ${r.inradius}`);
    assert.ok(r.facets.length > 5, `${r.facets.length} facets`);
    assert.equal(r.facets_complete, false, 'the view asks for ray facets only by default');
    assert.equal(r.neighbours.length, r.facets.length);
    const p = await shown(digits(), (x) => x.from === 'sample');
    assert.equal(p.lastPolytope!.text, 'input 0 of digits-x.npy');
    assert.equal(p.lastPolytope!.inradius, r.inradius);
    assert.equal(p.rendered!.items, r.facets.length, 'one facet row per facet, grouped by layer');
    assert.equal(p.rendered!.marks, Math.min(50, r.neighbours.length), 'the neighbours listed (the first 50)');
    assert.equal(polytopeTabs().length, 1, 'a tab of its own');
    assert.equal(getApi().lastRun()?.status, 'done');
  }, 120_000);

  test('Inspect Polytope: the full facet list on request is complete and holds every ray facet', async () => {
    const r = await vscode.commands.executeCommand<PolytopeResult | undefined>('polytopeLens.inspectPolytope', digits(), { inputs: digitsX(), index: 0, box: [0, 1], facets: 'full' });
    assert.ok(r && first);
    assert.equal(r.facets_complete, true);
    const key = (f: { layer: string; unit: number }) => `${f.layer}#${f.unit}`;
    const all = new Set(r.facets.map(key));
    for (const f of first.facets) assert.ok(all.has(key(f)), `ray facet ${key(f)} is in the full list`);
    assert.equal(r.inradius, first.inradius);
    await shown(digits(), (x) => x.facetsComplete);
    assert.equal(polytopePanels(digits()).length, 1, 'the same panel');
  }, 120_000);

  test('Inspect Polytope: Find every facet stops at polytopeLens.facetTimeLimit and shows the facets found so far as a partial list (the fixture CNN, 144 inputs)', async () => {
    const cnn = vscode.Uri.joinPath(ext(), 'test', 'fixtures', 'cnn.onnx');
    const config = vscode.workspace.getConfiguration('polytopeLens');
    // 3 s: the LPs start after the affine forms, the Chebyshev centre and the rays (about 1 s); the full list takes
    // 13-22 s on 2 cores.
    await config.update('facetTimeLimit', 3, vscode.ConfigurationTarget.Global);
    try {
      const r = await vscode.commands.executeCommand<PolytopeResult | undefined>('polytopeLens.inspectPolytope', cnn, { inputs: vscode.Uri.joinPath(ext(), 'test', 'fixtures', 'cnn.inputs.npy').fsPath, index: 50, box: [0, 1], facets: 'full' });
      assert.ok(r, `a result (last run: ${JSON.stringify(getApi().lastRun())})`);
      assert.equal(r.facets_complete, false, 'the CNN has more facets than 3 s of LPs decide');
      assert.ok(r.method.unresolved > 0, `constraints left untested: ${JSON.stringify(r.method)}`);
      assert.match(r.note ?? '', /time limit reached/);
      assert.ok(r.facets.length > r.method.ray_facets, `the LPs added facets to the ${r.method.ray_facets} of the rays: ${r.facets.length}`);
      await shown(cnn, (x) => !x.facetsComplete && x.facets === r.facets.length);
    } finally {
      await config.update('facetTimeLimit', undefined, vscode.ConfigurationTarget.Global);
    }
  }, 180_000);

  test('Inspect Polytope: bad inputs are one sentence before any work (index out of range, a smooth model, a box that excludes the input, a CNN too large)', async () => {
    const cases: [vscode.Uri, Record<string, unknown>, RegExp][] = [
      [digits(), { inputs: digitsX(), index: 99_999, box: null }, /Sample index 99999 is out of range: digits-x\.npy has 360 samples/],
      [digits(), { inputs: digitsX(), index: 0, box: [0.5, 1] }, /The box \[0\.5, 1\] does not contain input 0 of digits-x\.npy: its values range from 0 to 1;/],
      [vscode.Uri.joinPath(ext(), 'test', 'fixtures', 'gelu_tf.onnx'), { inputs: vscode.Uri.joinPath(ext(), 'test', 'fixtures', 'gelu_tf.inputs.npy').fsPath, index: 0, box: null }, /smooth nonlinearity/],
      // The model is refused before its data file is read, so any file will do.
      [vscode.Uri.joinPath(ext(), 'test', 'fixtures', 'torchvision', 'squeezenet1_1.onnx'), { inputs: digitsX(), index: 0, box: null }, /too large for 'polytope': .* GB of affine forms/],
    ];
    for (const [model, opts, message] of cases) {
      const r = await vscode.commands.executeCommand('polytopeLens.inspectPolytope', model, opts);
      assert.equal(r, undefined);
      const last = getApi().lastRun();
      assert.equal(last?.status, 'failed');
      assert.match(last?.message ?? '', message);
      assert.equal(last?.ms, 0, 'refused before any run');
    }
    const gelu = vscode.Uri.joinPath(ext(), 'test', 'fixtures', 'gelu_tf.onnx');
    assert.equal(polytopePanels(gelu).length, 0, 'no view opened for a model that cannot be inspected');
  }, 120_000);

  test('UI: Cancel in the progress notification stops a polytope of mnist-8; the view says cancelled', async () => {
    if (!ui) return;
    const mnist = vscode.Uri.joinPath(ext(), 'test', 'fixtures', 'mnist-8.onnx');
    // Earlier notifications would push the progress item out of the center's view.
    await vscode.commands.executeCommand('notifications.clearAll');
    const running = vscode.commands.executeCommand('polytopeLens.inspectPolytope', mnist, { inputs: vscode.Uri.joinPath(ext(), 'test', 'fixtures', 'mnist8.inputs.npy').fsPath, index: 0, box: [0, 255] });
    try {
      // The smoke-test driver mode shows no toasts: progress notifications are in the notification center.
      await vscode.commands.executeCommand('notifications.showList');
      const verdict = await driverStep('analysis-cancel:Polytope of input 0 of mnist8.inputs.npy');
      assert.ok(verdict.ok, `cancel: ${verdict.detail}`);
      assert.equal(await running, undefined);
      assert.equal(getApi().lastRun()?.status, 'cancelled', JSON.stringify(getApi().lastRun()));
      await waitFor('the cancelled view', () => (polytopePanels(mnist)[0]?.rendered?.view === 'cancelled' ? true : undefined), 20_000);
    } finally {
      await closeAfter(running);
    }
  }, 180_000);

  test('UI: Cancel during the facet LPs of Find every facet keeps the facets found so far: the view shows them as a partial list that Cancel stopped (the fixture CNN)', async () => {
    if (!ui) return;
    const cnn = vscode.Uri.joinPath(ext(), 'test', 'fixtures', 'cnn.onnx');
    await vscode.commands.executeCommand('notifications.clearAll');
    const running = vscode.commands.executeCommand<PolytopeResult | undefined>('polytopeLens.inspectPolytope', cnn, { inputs: vscode.Uri.joinPath(ext(), 'test', 'fixtures', 'cnn.inputs.npy').fsPath, index: 50, box: [0, 1], facets: 'full' });
    try {
      await vscode.commands.executeCommand('notifications.showList');
      // The notification of this run once its message names the LP stage ("facet LPs: 0 / ...", before their first row).
      const verdict = await driverStep('analysis-cancel:facet LPs');
      assert.ok(verdict.ok, `cancel: ${verdict.detail}`);
      const r = await running;
      assert.ok(r, `a result (last run: ${JSON.stringify(getApi().lastRun())})`);
      assert.equal(getApi().lastRun()?.status, 'done');
      assert.equal(r.facets_complete, false);
      assert.equal(r.method.stopped, 'request', JSON.stringify(r.method));
      assert.match(r.note ?? '', /stopped on request/);
      await shown(cnn, (x) => !x.facetsComplete && x.facets === r.facets.length);
      await vscode.commands.executeCommand('notifications.hideList');
      assert.ok((await driverStep('shot:polytope-cancel-partial')).ok);
    } finally {
      await closeAfter(running);
    }
  }, 180_000);

  test('UI: clicking a neighbour in the polytope view shows its polytope in the same tab', async () => {
    if (!ui) return;
    // The example's polytope in a window of its own, whatever the tests before left open.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    assert.ok(await vscode.commands.executeCommand('polytopeLens.inspectPolytope', digits(), { inputs: digitsX(), index: 0, box: [0, 1] }));
    const before = polytopePanels(digits())[0]?.lastPolytope;
    assert.ok(before, 'a polytope is shown');
    const verdict = await driverStep('polytope-neighbour');
    assert.ok(verdict.ok, `neighbour click: ${verdict.detail}`);
    const p = await shown(digits(), (x) => x.from === 'neighbour');
    // The layer named by its module first, as everywhere: "block.1 (/block/block.1/Relu) unit 16".
    assert.match(p.lastPolytope!.text, /^the neighbour of input 0 of digits-x\.npy across (act1|block\.1|block\.3) \(\/\S+\) unit \d+$/);
    assert.notEqual(p.lastPolytope!.codeHex, before.codeHex, 'another region');
    assert.equal(polytopePanels(digits()).length, 1, 'one polytope panel');
    assert.equal(polytopeTabs().length, 1, 'in the same tab');
    // Screenshots of the workbench at 1600 and 500 px wide (test-output/e2e/polytope-*.png).
    // The polytope's editor group alone (no side bar, no chat), so that 500 px are the view's.
    for (const c of ['workbench.action.closeSidebar', 'workbench.action.closeAuxiliaryBar']) await vscode.commands.executeCommand(c).then(undefined, () => undefined);
    for (const g of vscode.window.tabGroups.all) if (!g.tabs.some((t) => t.label.startsWith('Polytope'))) await vscode.window.tabGroups.close(g);
    for (const w of [1600, 500]) {
      assert.ok((await driverStep(`polytope-viewport:${w}`)).ok);
      assert.ok((await driverStep(`shot:polytope-${w}`)).ok);
    }
    assert.ok((await driverStep('polytope-viewport:1400')).ok);
    await vscode.commands.executeCommand('workbench.action.toggleSidebarVisibility');
  }, 180_000);

  test('UI: clicking a step of the Boundary density view inspects the polytope at that point of the path', async () => {
    if (!ui) return;
    const path = await vscode.commands.executeCommand<PathResult | undefined>('polytopeLens.pathDensity', digits(), { inputs: digitsX(), from: 0, to: 7, steps: 40, exact: false });
    assert.ok(path);
    await waitFor('the path view', () => getApi().analyses().find((a) => a.kind === 'path' && a.rendered?.view === 'result'));
    const verdict = await driverStep('polytope-step');
    assert.ok(verdict.ok, `step click: ${verdict.detail}`);
    const p = await shown(digits(), (x) => x.from === 'path');
    assert.match(p.lastPolytope!.text, /^step \d+ of 40 on the path 0 → 7 of digits-x\.npy \(t = [\d.]+\)$/);
    const step = Number(/^step (\d+)/.exec(p.lastPolytope!.text)![1]);
    assert.ok(p.lastPolytope!.inradius! > 0, 'clipped to the data range, the region has an inradius');
    assert.ok(step > 0 && step < 40, `a middle step (${step})`);
    assert.equal(p.rendered!.items, p.lastPolytope!.facets);
    assert.equal(polytopeTabs().length, 1, 'the polytope tab is reused');
  }, 180_000);

  test('UI: "Inspect the polytope here" under a clicked point of the region map inspects that point of the plane', async () => {
    if (!ui) return;
    const slice = await vscode.commands.executeCommand<SliceResult | undefined>('polytopeLens.regionMap', digits(), { inputs: digitsX(), plane: [0, 1, 2], window: [0, 1], resolution: 30, exact: false });
    assert.ok(slice);
    await waitFor('the region map', () => getApi().analyses().find((a) => a.kind === 'slice' && a.rendered?.view === 'result'));
    const verdict = await driverStep('polytope-region');
    assert.ok(verdict.ok, `region click: ${verdict.detail}`);
    const p = await shown(digits(), (x) => x.from === 'region');
    assert.match(p.lastPolytope!.text, /^the point \(0\.\d+, 0\.\d+\) of the region map \(the plane of samples 0, 1, 2 of digits-x\.npy\)$/);
    // Inside [0, 1]² the point is a convex mix of the three samples, so it lies in the data range, the box it gets.
    assert.ok(p.lastPolytope!.inradius! > 0, `inradius ${p.lastPolytope!.inradius}`);
    assert.equal(polytopeTabs().length, 1, 'the polytope tab is reused');
  }, 180_000);

  test('UI: Inspect Polytope at Input from the command palette: model view, data file, index, the default box (the data range)', async () => {
    if (!ui) return;
    const copy = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0]!.uri, 'digits-example', 'digits.onnx');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('vscode.openWith', copy, 'polytopeLens.modelView');
    // Keys typed into a focused webview do not reach the workbench: the explorer takes the focus (the model view
    // stays the active tab, so the command takes its model).
    await vscode.commands.executeCommand('workbench.view.explorer');
    await new Promise((res) => setTimeout(res, 300));
    const verdict = await driverStep('polytope-palette');
    assert.ok(verdict.ok, `palette: ${verdict.detail}`);
    const p = await shown(copy, (x) => x.from === 'sample');
    assert.equal(p.lastPolytope!.text, 'input 5 of digits-x.npy');
    assert.ok(p.lastPolytope!.inradius! > 0, `inradius ${p.lastPolytope!.inradius} in the box [0, 1] the prompt proposed`);
    assert.equal(p.rendered!.items, p.lastPolytope!.facets);
  }, 180_000);
}
