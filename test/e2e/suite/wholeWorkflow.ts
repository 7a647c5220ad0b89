/**
 * Issue #13's whole workflow, as a new user does it, in the real VS Code (run against the installed VSIX by
 * `test/e2e/run.mjs --vsix`): Open Example into a folder picked in VS Code's folder dialog, then every analysis from
 * the command palette in a row, each question answered in its real quick pick or input box (the driver's 'run:'
 * step types and clicks them; no command here gets scripted options). Then every view of the results group at
 * 1600x1000 and in a 500 px column, in the four default themes: no page wider than its webview, and a screenshot
 * of each (test-output/e2e/workflow/<theme>-<width>-<view>.png). After a real Reload Window (the suite's second
 * phase) the model view, the side panel, the hover and the CodeLens still show the results.
 *
 * Registered only when POLYTOPE_E2E_WHOLE=1 (run.mjs sets it with --vsix): the development e2e run tests the same
 * commands piece by piece and need not spend the time twice.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { LensApi } from '../../../src/extension/main';
import type { AnalysisKind } from '../../../src/shared/webview-protocol';
import { test, waitFor } from './harness';
import { AFTER_RELOAD } from './workflow';

export const WHOLE = 'whole workflow:';

type DriverStep = (step: string, timeoutMs?: number) => Promise<{ ok: boolean; detail?: string }>;

/** One question of a command and how the driver answers it (see runStep in test/e2e/run.mjs). */
interface Answer {
  when: string;
  pick?: string;
  value?: string | number;
  path?: string;
  ok?: string;
  optional?: boolean;
}

/** The four default themes: the setting's value, the class VS Code gives a webview's body, the file-name part. */
const THEMES = [
  { name: 'Default Light Modern', body: 'vscode-light', slug: 'light' },
  { name: 'Default Dark Modern', body: 'vscode-dark', slug: 'dark' },
  { name: 'Default High Contrast', body: 'vscode-high-contrast', slug: 'hc-dark' },
  { name: 'Default High Contrast Light', body: 'vscode-high-contrast-light', slug: 'hc-light' },
] as const;

/** The two widths of the results group: 1600 (the 1600x1000 window, code beside in a 480 px group) and a 500 px column. */
const WIDTHS = [
  { slug: '1600', results: (editor: number) => editor - 480 },
  { slug: '500', results: () => 500 },
] as const;

const NARROW = 500;

export function registerWholeWorkflowTests(getApi: () => LensApi, driverStep: DriverStep): void {
  if (process.env.POLYTOPE_E2E_WHOLE !== '1') return;
  const ws = () => vscode.workspace.workspaceFolders![0]!.uri;
  /** The folder picked in the dialog: a new temp folder inside the workspace (see the first test). */
  let picked: string | undefined;
  const exampleDir = () => {
    // After the reload the folder is found again: the only whole-workflow-* folder of the workspace.
    if (!picked) {
      const found = readdirSync(ws().fsPath).filter((n) => n.startsWith('whole-workflow-'));
      assert.equal(found.length, 1, `one whole-workflow folder in the workspace: ${found}`);
      picked = join(ws().fsPath, found[0]);
    }
    return join(picked!, 'digits-example');
  };
  const model = () => vscode.Uri.file(join(exampleDir(), 'digits.onnx'));
  const train = () => vscode.Uri.file(join(exampleDir(), 'train.py'));
  const rel = (name: string) => vscode.workspace.asRelativePath(vscode.Uri.file(join(exampleDir(), name)));
  const groupsDesc = () => JSON.stringify(vscode.window.tabGroups.all.map((g) => `${g.viewColumn}: ${g.tabs.map((t) => t.label).join(' | ')}`));
  const step = async (s: string, timeoutMs?: number) => {
    const v = await driverStep(s, timeoutMs);
    assert.ok(v.ok, `driver step ${s.slice(0, 80)}: ${v.detail}`);
    return v.detail ?? '';
  };
  /** Runs "Polytope Lens: TITLE" from the palette and answers its questions through the real quick inputs. */
  const palette = (title: string, answers: Answer[]) => step(`run:${JSON.stringify({ title, answers })}`, 120_000);
  /** The models picker asks only when the active tab is not a model view and the workspace holds several models. */
  const whichModel = (): Answer => ({ when: 'which model?', pick: rel('digits.onnx'), optional: true });
  const analysis = (kind: AnalysisKind) => getApi().analyses().find((a) => a.kind === kind && a.model === model().toString());
  const modelPage = (kind: 'editor' | 'panel') => getApi().pages().find((p) => p.model === model().toString() && p.kind === kind);

  /** The views of the results group: their tab label, the webview's document title, the file-name part, how to tell it rendered its result. */
  const VIEWS: { tab: string; title: string; slug: string; rendered: () => boolean }[] = [
    { tab: 'digits.onnx', title: 'Polytope Lens: digits.onnx', slug: 'model', rendered: () => modelPage('editor')?.rendered?.view === 'codes' },
    ...(
      [
        ['path', 'Boundary density'],
        ['study', 'Density study'],
        ['slice', 'Region map'],
        ['local', 'Local complexity'],
        ['scale', 'Scaling'],
        ['cluster', 'Clusters'],
        ['polytope', 'Polytope'],
      ] as const
    ).map(([kind, label]) => ({ tab: `${label}: digits.onnx`, title: `Polytope Lens: ${label} of digits.onnx`, slug: kind, rendered: () => analysis(kind)?.rendered?.view === 'result' })),
    { tab: 'Lens: digits.onnx', title: 'Polytope Lens: digits.onnx', slug: 'summary', rendered: () => modelPage('panel')?.rendered?.view === 'codes' },
  ];

  test(`${WHOLE} Open Example into a folder picked in the dialog, then every analysis from the palette: one results group holds all their tabs, each showing its result`, async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    await step('viewport:1600x1000');
    // A temp folder inside the workspace: one outside it would be added as a second workspace folder, and VS Code
    // turns a one-folder window into a multi-root workspace by restarting the extension host, this suite with it.
    picked = mkdtempSync(join(ws().fsPath, 'whole-workflow-'));
    await palette('Open Example', [
      { when: 'where should the example', pick: 'Choose a folder' },
      { when: 'copy the example into which folder', path: `${picked}/`, ok: 'Copy the example here' },
    ]);
    // The command goes on after the dialog closes: the copy is made, then opened in the model view.
    await waitFor('the example copied into the picked folder', () => (['digits.onnx', 'digits-x.npy', 'digits-y.npy', 'train.py'].every((f) => existsSync(join(exampleDir(), f))) ? true : undefined), 30_000).catch(
      (e: Error) => assert.fail(`${e.message}: the picked folder holds ${JSON.stringify(readdirSync(picked!))}, the workspace ${JSON.stringify(readdirSync(ws().fsPath))}`),
    );
    await waitFor('the copied model in the model view', () => (modelPage('editor')?.rendered?.view === 'summary' ? true : undefined), 30_000);
    assert.ok(vscode.window.visibleTextEditors.some((e) => e.document.uri.fsPath === train().fsPath), 'train.py is open beside the model');

    const x = rel('digits-x.npy');
    /** Each analysis as asked in the palette; the last run must be this command's and done, its view must show a result. */
    const runs: { title: string; command: string; answers: Answer[]; rendered: () => boolean }[] = [
      { title: 'Probe Codes', command: 'probeCodes', answers: [whichModel(), { when: 'probe with which inputs?', pick: x }], rendered: () => modelPage('editor')?.rendered?.view === 'codes' },
      {
        title: 'Boundary Density Along a Path',
        command: 'pathDensity',
        answers: [
          whichModel(),
          { when: 'the two endpoints come from which data file?', pick: x },
          { when: 'First endpoint', value: 0 },
          { when: 'Second endpoint', value: 1 },
          { when: 'Steps along the path', value: 100 },
          { when: 'Also locate the exact crossings', pick: 'Yes' },
        ],
        rendered: () => analysis('path')?.rendered?.view === 'result',
      },
      {
        title: 'Density Study',
        command: 'densityStudy',
        answers: [whichModel(), { when: 'pairs of inputs from which data file?', pick: x }, { when: 'the class of each input from', pick: 'digits-y.npy' }, { when: 'Pairs of each kind', value: 20 }],
        rendered: () => analysis('study')?.rendered?.view === 'result',
      },
      {
        title: 'Region Map of a 2D Slice',
        command: 'regionMap',
        answers: [
          whichModel(),
          { when: 'the plane goes through three samples of which data file?', pick: x },
          { when: 'Plane point a', value: 0 },
          { when: 'Plane point b', value: 1 },
          { when: 'Plane point c', value: 2 },
          { when: 'window of the slice', value: '-0.5,1.5' },
          { when: 'Grid resolution', value: 200 },
          { when: 'Also compute the exact regions', pick: 'sampled only' },
        ],
        rendered: () => analysis('slice')?.rendered?.view === 'result',
      },
      { title: 'Local Complexity', command: 'localComplexity', answers: [whichModel(), { when: 'Local complexity around which inputs?', pick: x }, { when: 'Radius of the neighbourhood' }, { when: 'Random directions per input' }, { when: 'How many inputs, from the first' }], rendered: () => analysis('local')?.rendered?.view === 'result' },
      {
        title: 'Scale Activations',
        command: 'scaleActivations',
        answers: [whichModel(), { when: 'probe with which inputs?', pick: x }, { when: 'Scale the activation of which layer?', pick: '/act1/Relu' }, { when: 'Comma-separated alphas', value: '0,0.5,1,2,4' }],
        rendered: () => analysis('scale')?.rendered?.view === 'result',
      },
      {
        title: 'Cluster Codes',
        command: 'clusterCodes',
        answers: [whichModel(), { when: 'cluster the inputs of which data file?', pick: x }, { when: 'labels to score the clusters against', pick: 'digits-y.npy' }, { when: 'How many inputs', value: 360 }],
        rendered: () => analysis('cluster')?.rendered?.view === 'result',
      },
      {
        title: 'Inspect Polytope at Input',
        command: 'inspectPolytope',
        answers: [whichModel(), { when: 'Inspect the polytope of an input of which data file?', pick: x }, { when: 'Sample index', value: 3 }, { when: 'Clip the region to a box' }],
        rendered: () => analysis('polytope')?.rendered?.view === 'result',
      },
    ];
    // Each command is run from the code (train.py focused), as a user working in the script does: a results tab
    // that loads in the other group does not take the focus from the command's quick picks, which close on blur.
    const fromTheCode = () => vscode.window.showTextDocument(train(), { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
    for (const r of runs) {
      const before = getApi().lastRun();
      await fromTheCode();
      await palette(r.title, r.answers);
      const last = await waitFor(`${r.title} to finish`, () => {
        const l = getApi().lastRun();
        return l !== before && l?.command === r.command && l.status !== undefined ? l : undefined;
      }, 120_000);
      assert.equal(last.status, 'done', `${r.title}: ${JSON.stringify(last)}`);
      await waitFor(`the view of ${r.title} to render its result`, () => (r.rendered() ? true : undefined), 30_000).catch((e: Error) => assert.fail(`${e.message}: ${JSON.stringify(getApi().analyses())}`));
    }
    await fromTheCode();
    await palette('Show Model Summary', [whichModel()]);
    await waitFor('the summary with the codes and the seven results', () => (modelPage('panel')?.rendered?.view === 'codes' && modelPage('panel')?.rendered?.results === 8 ? true : undefined), 30_000).catch((e: Error) =>
      assert.fail(`${e.message}: ${JSON.stringify(getApi().pages())}`),
    );

    // One group of code (train.py) and one results group holding the model view, the seven analyses and the summary.
    await waitFor('the tab model to settle', () => (vscode.window.tabGroups.all.flatMap((g) => g.tabs).length === 10 ? true : undefined), 10_000).catch(() => assert.fail(`ten tabs: ${groupsDesc()}`));
    const groups = vscode.window.tabGroups.all;
    assert.equal(groups.length, 2, `no group beyond the code group and the results group: ${groupsDesc()}`);
    const code = groups.find((g) => g.tabs.some((t) => t.label === 'train.py'));
    assert.ok(code, groupsDesc());
    assert.equal(code.tabs.length, 1, groupsDesc());
    const results = groups.find((g) => g !== code)!;
    assert.deepEqual(new Set(results.tabs.map((t) => t.label)), new Set(VIEWS.map((v) => v.tab)), groupsDesc());
    for (const v of VIEWS) assert.ok(v.rendered(), `${v.slug} rendered its result`);
    await step('shot:workflow/results-group');
  }, 600_000);

  test(`${WHOLE} every view of the results group at 1600x1000 and in a 500 px column, and the side panel, in the four default themes: no page wider than its webview; screenshots`, async () => {
    const config = vscode.workspace.getConfiguration('workbench');
    const themeBefore = config.inspect<string>('colorTheme')?.globalValue;
    const editorWidth = Number(await step('editor-width'));
    assert.ok(editorWidth > 1000, `the editor area of a 1600 px window: ${editorWidth} px`);
    const problems: string[] = [];
    const smallest: Record<string, { px: number; text: string }> = {};
    const faint: string[] = [];
    try {
      for (const theme of THEMES) {
        await config.update('colorTheme', theme.name, vscode.ConfigurationTarget.Global);
        for (const width of WIDTHS) {
          const resultsWidth = width.results(editorWidth);
          await vscode.commands.executeCommand('vscode.setEditorLayout', { orientation: 0, groups: [{ size: editorWidth - resultsWidth }, { size: resultsWidth }] });
          const groups = vscode.window.tabGroups.all;
          assert.equal(groups.length, 2, `the layout keeps the two groups: ${groupsDesc()}`);
          const results = groups.find((g) => !g.tabs.some((t) => t.label === 'train.py'))!;
          // The results group is the second in the layout: focus it, then open its tabs by index.
          await vscode.commands.executeCommand('workbench.action.focusSecondEditorGroup');
          for (const v of VIEWS) {
            const index = results.tabs.findIndex((t) => t.label === v.tab);
            assert.ok(index >= 0, `${v.tab} in the results group: ${groupsDesc()}`);
            // VS Code has openEditorAtIndex1..9; the tenth tab is the ninth's next.
            await vscode.commands.executeCommand(`workbench.action.openEditorAtIndex${Math.min(index + 1, 9)}`);
            for (let k = 9; k <= index; k++) await vscode.commands.executeCommand('workbench.action.nextEditorInGroup');
            await waitFor(`${v.tab} to be the active tab`, () => (vscode.window.tabGroups.activeTabGroup.activeTab?.label === v.tab ? true : undefined), 10_000);
            const name = `${theme.slug}-${width.slug}-${v.slug}`;
            const got = JSON.parse(await step(`view:${JSON.stringify({ title: v.title, theme: theme.body, name: `workflow/${name}` })}`)) as {
              content: number;
              width: number;
              bodyScroll: number;
              bodyClient: number;
              docScroll: number;
              docClient: number;
              smallest: number;
              smallestText: string;
              series: Record<string, { alpha: number; contrast: number }>;
            };
            assert.ok(got.content > 0, `${name}: a chart or a table is shown`);
            if (width.slug === '500') assert.ok(Math.abs(got.width - NARROW) <= 12, `${name}: the webview is ${got.width} px wide, not ${NARROW}`);
            else assert.ok(got.width > 700, `${name}: the webview is ${got.width} px wide`);
            // Tables may scroll inside their own container; the page itself never scrolls sideways.
            if (got.bodyScroll > got.bodyClient + 1 || got.docScroll > got.docClient + 1) problems.push(`${name}: page ${Math.max(got.bodyScroll, got.docScroll)} px wide in a ${got.docClient} px webview`);
            // Every series drawn opaque and at least 3:1 against the background (WCAG's level for graphics).
            for (const [cls, c] of Object.entries(got.series)) if (c.alpha < 1 || c.contrast < 3) faint.push(`${name} .${cls}: alpha ${c.alpha}, contrast ${c.contrast}:1`);
            const key = `${width.slug}-${v.slug}`;
            if (!smallest[key] || got.smallest < smallest[key].px) smallest[key] = { px: got.smallest, text: got.smallestText };
          }
          await step(`shot:workflow/${theme.slug}-${width.slug}-workbench`);
        }
        // The side panel, at the side bar's own width, beside train.py (the file whose model it shows).
        await vscode.commands.executeCommand('polytopeLens.sidePanel.focus');
        await vscode.window.showTextDocument(train(), { viewColumn: vscode.ViewColumn.One, preserveFocus: true });
        await waitFor('the side panel to show the model of train.py', () => {
          const i = getApi().sidePanel();
          return i.model === model().fsPath && i.rendered?.view === 'model' ? true : undefined;
        }, 20_000).catch((e: Error) => assert.fail(`${e.message}: ${JSON.stringify(getApi().sidePanel())}`));
        const name = `${theme.slug}-sidebar-side-panel`;
        const got = JSON.parse(await step(`view:${JSON.stringify({ title: 'Polytope Lens', theme: theme.body, name: `workflow/${name}` })}`)) as { content: number; bodyScroll: number; bodyClient: number; docScroll: number; docClient: number };
        assert.ok(got.content > 0, `${name}: the layers table is shown`);
        if (got.bodyScroll > got.bodyClient + 1 || got.docScroll > got.docClient + 1) problems.push(`${name}: page ${Math.max(got.bodyScroll, got.docScroll)} px wide in a ${got.docClient} px webview`);
      }
    } finally {
      await config.update('colorTheme', themeBefore, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('workbench.action.evenEditorWidths');
    }
    console.log(`whole workflow: smallest text per view (px): ${JSON.stringify(smallest)}`);
    assert.deepEqual(problems, [], 'no horizontal overflow');
    assert.deepEqual(faint, [], 'every chart series opaque and at 3:1 or more against the background');
  }, 600_000);

  test(`${AFTER_RELOAD} ${WHOLE} the model view, the side panel, the hover and the CodeLens still show the results`, async () => {
    const m = model();
    await vscode.commands.executeCommand('vscode.openWith', m, 'polytopeLens.modelView');
    const r = await waitFor('the model view with the kept codes and results', () => {
      const p = modelPage('editor');
      return p?.rendered?.view === 'codes' && (p.rendered.results ?? 0) >= 8 ? p.rendered : undefined;
    }, 30_000).catch((e: Error) => assert.fail(`${e.message}; pages: ${JSON.stringify(getApi().pages())}`));
    assert.equal(r.statsRows, 3);
    assert.equal(r.results, 8, 'the codes and the seven analyses');
    await step('shot:workflow/after-reload-model-view');

    await vscode.commands.executeCommand('polytopeLens.sidePanel.focus');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(train()), vscode.ViewColumn.One);
    const s = await waitFor('the side panel with the kept analysis', () => {
      const i = getApi().sidePanel();
      return i.model === m.fsPath && i.analysed && i.results >= 8 && i.rendered?.view === 'model' ? i : undefined;
    }, 30_000).catch((e: Error) => assert.fail(`${e.message}; side panel: ${JSON.stringify(getApi().sidePanel())}`));
    assert.equal(s.previousExport, false);
    assert.equal(s.layers, 3);

    const doc = await vscode.workspace.openTextDocument(train());
    const pos = doc.positionAt(doc.getText().indexOf('self.fc1 =') + 'self.'.length + 1);
    const md = await waitFor('a hover with the kept numbers', async () => {
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', train(), pos);
      const t = (hovers ?? []).flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
      return / overall/.test(t) ? t : undefined;
    }, 30_000);
    // "N regions hit overall", the term a link to its glossary entry.
    assert.match(md, /_Latest analysis:_ .*\d+ \[regions? hit\]\(.*\) overall/);
    const lens = await waitFor('a lens with regions hit', async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', train());
      return l?.find((x) => x.range.start.line === pos.line && /regions hit/.test(x.command?.title ?? ''));
    }, 30_000);
    assert.match(lens.command!.title, /^feeds 48 units · \d+ regions hit · open$/);
    await step('shot:workflow/after-reload-side-panel');
  }, 120_000);
}
