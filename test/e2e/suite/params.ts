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
import type { ClusterResult, DensityStudyResult, LocalResult, PathResult, ScaleResult, SliceResult } from '../../../src/shared/results';
import type { AnalysisKind, RerunParams } from '../../../src/shared/webview-protocol';
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

  test("the form's Run for every kind: the new values, the same tab; a bad value is one sentence and the result stays", async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    mkdirSync(dir(), { recursive: true });
    const ext = vscode.extensions.getExtension(EXT_ID)!.extensionUri;
    for (const f of ['digits-x.npy', 'digits-y.npy', 'digits.onnx']) copyFileSync(vscode.Uri.joinPath(ext, 'examples', 'digits', f).fsPath, join(dir(), f));
    try {
      const m = model();
      const x = join(dir(), 'digits-x.npy');
      const y = join(dir(), 'digits-y.npy');
      // As the page of (kind, model) posts it (polytopeLens.test.fromAnalysisView: the same parse and handling).
      const fromView = (kind: AnalysisKind, raw: unknown) => vscode.commands.executeCommand('polytopeLens.test.fromAnalysisView', kind, m.toString(), raw);
      const panelOf = (kind: AnalysisKind) => getApi().analyses().filter((a) => a.kind === kind && a.model === m.toString());
      const cases: { kind: AnalysisKind; command: string; opts: Record<string, unknown>; values: RerunParams; check(r: unknown): void; bad: RerunParams; sentence: string }[] = [
        {
          kind: 'path',
          command: 'pathDensity',
          opts: { inputs: x, from: 0, to: 7, steps: 20, exact: false },
          values: { from: 1, to: 2, steps: 30, exact: true },
          check: (r) => {
            const p = r as PathResult;
            assert.equal(p.steps, 30);
            assert.ok(p.exact, 'exact crossings computed');
          },
          bad: { from: 400, to: 2, steps: 30, exact: true },
          sentence: 'The first endpoint must be a sample index from 0 to 359, not 400.',
        },
        {
          kind: 'study',
          command: 'densityStudy',
          opts: { inputs: x, labels: y, pairs: 5, steps: 20, permutations: 50 },
          values: { pairs: 6, steps: 24, studyWindow: 3, permutations: 60 },
          check: (r) => {
            const st = r as DensityStudyResult;
            assert.deepEqual([st.steps, st.window, st.permutations, st.class_source], [24, 3, 60, 'labels']);
          },
          bad: { pairs: 6, steps: 24, studyWindow: 12, permutations: 60 },
          sentence: 'The window (12 steps either side) must be less than half the steps (24).',
        },
        {
          kind: 'slice',
          command: 'regionMap',
          opts: { inputs: x, plane: [0, 1, 2], window: [-0.5, 1.5], resolution: 20, exact: false },
          values: { window: [-1, 2], resolution: 24, exact: false },
          check: (r) => {
            const sl = r as SliceResult;
            assert.equal(sl.grid.resolution, 24);
            assert.deepEqual(sl.window, [-1, 2]);
            assert.deepEqual(sl.plane.indices, [0, 1, 2], 'the same plane');
          },
          bad: { window: [2, -1], resolution: 24, exact: false },
          sentence: 'The window needs LO < HI, not 2, -1.',
        },
        {
          kind: 'scale',
          command: 'scaleActivations',
          opts: { inputs: x, layer: '/act1/Relu', alphas: [0.5, 1, 2], limit: 50 },
          values: { alphas: [1, 3] },
          check: (r) => {
            const sc = r as ScaleResult;
            assert.deepEqual(sc.alphas.map((a) => a.alpha), [1, 3]);
            assert.equal(sc.layer, '/act1/Relu', 'the same layer');
            assert.equal(sc.n, 50, 'the same inputs');
          },
          bad: { alphas: [] },
          sentence: 'Give at least one scale factor (alpha), for example 0.5, 1, 2.',
        },
        {
          kind: 'cluster',
          command: 'clusterCodes',
          opts: { inputs: x, labels: y, n: 60, k: 10, methods: ['kmedoids_codes'] },
          values: { n: 80, k: 6, minClusterSize: 5 },
          check: (r) => {
            const c = r as ClusterResult;
            assert.equal(c.n, 80);
            assert.deepEqual([c.params.k, c.params.min_cluster_size], [6, 5]);
            assert.match(c.labels_note ?? '', /digits-y\.npy/, 'the same labels');
          },
          bad: { n: 80, k: 81, minClusterSize: 5 },
          sentence: 'k must be at most the number of inputs (80), not 81.',
        },
      ];
      // The views' render reports in order: a Run's 'busy' report can arrive after the host is done with the Run, so
      // "renders its result" means a 'busy' report since the Run and a 'result' one after it, not the panel's last state.
      const renders: { kind: string; view: string }[] = [];
      const sub = getApi().onDidAnalysisRender((a) => void (a.rendered && renders.push({ kind: a.kind, view: a.rendered.view })));
      const renderedSince = (kind: string, mark: number) => {
        const mine = renders.slice(mark).filter((r) => r.kind === kind);
        // waitFor takes any value but undefined as done.
        return mine.some((r) => r.view === 'busy') && mine.at(-1)?.view === 'result' ? true : undefined;
      };
      try {
        for (const c of cases) {
          const first = await vscode.commands.executeCommand(`polytopeLens.${c.command}`, m, c.opts);
          assert.ok(first, `${c.kind}: ${JSON.stringify(getApi().lastRun())}`);
          await waitFor(`the ${c.kind} view to render`, () => panelOf(c.kind).find((p) => p.rendered?.view === 'result'));
          const tabs = webviewTabs().length;
          const groups = vscode.window.tabGroups.all.length;
          // Resolves once the host is done with the Run: the run has finished and its result is in the panel.
          const mark = renders.length;
          await fromView(c.kind, { type: 'rerun', kind: c.kind, params: c.values });
          assert.equal(getApi().lastRun()?.status, 'done', `${c.kind}: ${JSON.stringify(getApi().lastRun())}`);
          const p = panelOf(c.kind)[0]!;
          assert.equal(p.lastRerun?.refused, undefined, `${c.kind}: ${p.lastRerun?.refused}`);
          c.check(p.result);
          await waitFor(`the ${c.kind} view to render the new result`, () => renderedSince(c.kind, mark));
          assert.equal(panelOf(c.kind).length, 1, `${c.kind}: one view`);
          assert.equal(webviewTabs().length, tabs, `${c.kind}: no new tab ${groupsDesc()}`);
          assert.equal(vscode.window.tabGroups.all.length, groups, `${c.kind}: no new group ${groupsDesc()}`);
          // A bad value: one sentence, nothing run, the result stays.
          const shown = p.result;
          await fromView(c.kind, { type: 'rerun', kind: c.kind, params: c.bad });
          const after = panelOf(c.kind)[0]!;
          assert.equal(after.lastRerun?.refused, c.sentence, c.kind);
          assert.equal(after.result, shown, `${c.kind}: the result stays`);
          assert.equal(after.rendered?.view, 'result', `${c.kind}: the view still shows the result (renders since the Run: ${JSON.stringify(renders.slice(mark))})`);
          // Malformed (a field of another kind, a path) or of another kind: ignored, nothing recorded.
          await fromView(c.kind, { type: 'rerun', kind: c.kind, params: { ...c.values, inputs: '/etc/passwd' } });
          await fromView(c.kind, { type: 'rerun', kind: c.kind === 'path' ? 'local' : 'path', params: {} });
          assert.deepEqual(panelOf(c.kind)[0]!.lastRerun?.params, c.bad, `${c.kind}: the malformed Runs were not taken`);
          assert.equal(panelOf(c.kind)[0]!.result, shown);
        }
      } finally {
        sub.dispose();
      }
      // A long Run: a second Run meanwhile is refused with one sentence; the view's Cancel stops it, "cancelled".
      const long = fromView('study', { type: 'rerun', kind: 'study', params: { pairs: 5000, steps: 400, studyWindow: 5, permutations: 100 } });
      await waitFor('the study view to show the run in progress', () => panelOf('study').find((q) => q.rendered?.view === 'busy'), 30_000);
      await fromView('study', { type: 'rerun', kind: 'study', params: { pairs: 5, steps: 20, studyWindow: 3, permutations: 50 } });
      assert.equal(panelOf('study')[0]!.lastRerun?.refused, 'This analysis is still running: wait for it, or press Cancel first.', 'a second Run while one is going');
      await fromView('study', { type: 'cancel' });
      await long;
      assert.equal(getApi().lastRun()?.status, 'cancelled', JSON.stringify(getApi().lastRun()));
      await waitFor('the study view to say cancelled', () => panelOf('study').find((q) => q.rendered?.view === 'cancelled'));
    } finally {
      await cleanUp();
    }
  }, 300_000);

  const cleanUp = async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    rmSync(dir(), { recursive: true, force: true });
  };
}
