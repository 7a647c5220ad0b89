/**
 * End-to-end tests of the language features and the side panel, in the real VS Code: hover and CodeLens on the
 * example training script (served by src/server through the extension's language client), live numbers after
 * Probe Codes, the open-layer command, and the side panel following train.py and refreshing after a re-export.
 *
 * They work on a copy of examples/digits in the test workspace (the repository's files are never touched).
 */
import * as assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { LensApi } from '../../../src/extension/main';
import type { CodesView } from '../../../src/shared/webview-protocol';
import type { OpenLayerArgs } from '../../../src/shared/lsp-protocol';
import { test, waitFor } from './harness';

const EXT_ID = 'polytope-lens.polytope-lens';

/** The driver's UI steps (test/e2e/run.mjs), through the suite's handshake; absent under test-electron. */
type DriverStep = (step: string, timeoutMs?: number) => Promise<{ ok: boolean; detail?: string }>;

export function registerLanguageTests(driverStep: DriverStep): void {
  let api: LensApi;
  let dir: string;
  let train: vscode.Uri;
  let model: vscode.Uri;
  let codes: CodesView | undefined;

  const hoverText = async (pos: vscode.Position): Promise<string> => {
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', train, pos);
    return (hovers ?? []).flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
  };
  const positionOf = async (needle: string, offset = 0): Promise<vscode.Position> => {
    const doc = await vscode.workspace.openTextDocument(train);
    const i = doc.getText().indexOf(needle);
    assert.ok(i >= 0, `train.py contains ${needle}`);
    return doc.positionAt(i + offset);
  };

  test('language: the example is copied into the workspace and train.py opens as Python', async () => {
    const ext = vscode.extensions.getExtension(EXT_ID)!;
    api = (await ext.activate()) as LensApi;
    const ws = vscode.workspace.workspaceFolders?.[0];
    assert.ok(ws, 'the test workspace is open');
    dir = join(ws.uri.fsPath, 'digits');
    mkdirSync(dir, { recursive: true });
    const src = join(ext.extensionPath, 'examples', 'digits');
    // train.py first: the model written after it is not "older than the script" (no stale warning).
    for (const f of ['train.py', 'digits-x.npy', 'digits.onnx']) copyFileSync(join(src, f), join(dir, f));
    train = vscode.Uri.file(join(dir, 'train.py'));
    model = vscode.Uri.file(join(dir, 'digits.onnx'));
    const doc = await vscode.workspace.openTextDocument(train);
    assert.equal(doc.languageId, 'python');
    await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
  });

  test('language: hover on self.fc1 = nn.Linear names the ONNX node and its units', async () => {
    const pos = await positionOf('self.fc1 =', 'self.'.length + 1);
    // The server starts on the first Python document; the first hover may come before it answers.
    const md = await waitFor('a hover naming /fc1/Gemm', async () => {
      const t = await hoverText(pos);
      return t.includes('/fc1/Gemm') ? t : undefined;
    }, 60_000);
    assert.match(md, /`\/fc1\/Gemm` \(Gemm\)/);
    assert.match(md, /\| `\/act1\/Relu` \| Relu \| 48 \| \[48\] \|/, 'the units it feeds');
    assert.match(md, /command:polytopeLens\.openLayer\?/, 'a link to the model view');
    assert.doesNotMatch(md, /_Latest analysis:_|regions hit\]/, 'no live numbers before an analysis');
  }, 90_000);

  test('language: CodeLens above the layers shows their units', async () => {
    const lenses = await waitFor('code lenses', async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', train);
      return l && l.length ? l : undefined;
    }, 30_000);
    const titles = lenses.map((l) => l.command?.title ?? '');
    assert.ok(titles.every((t) => /units|Gemm|open/.test(t)), JSON.stringify(titles));
    assert.ok(titles.filter((t) => /units/.test(t)).length >= 4, JSON.stringify(titles));
    const fc1 = (await positionOf('self.fc1 =')).line;
    const lens = lenses.find((l) => l.range.start.line === fc1);
    assert.equal(lens?.command?.title, 'feeds 48 units · open');
    assert.equal(lens?.command?.command, 'polytopeLens.openLayer');
  });

  test('language: after Probe Codes the hover and the lenses show live numbers', async () => {
    codes = await vscode.commands.executeCommand<CodesView | undefined>('polytopeLens.probeCodes', model, { inputs: join(dir, 'digits-x.npy') });
    assert.ok(codes, 'probe codes returned a result');
    const pos = await positionOf('self.fc1 =', 'self.'.length + 1);
    const md = await waitFor('a hover with live numbers', async () => {
      const t = await hoverText(pos);
      return /\[regions? hit\]\(\S+ "[^"]*"\) overall/.test(t) ? t : undefined;
    }, 30_000);
    // One name, linked to its glossary section through the extension's command (trusted for hovers).
    assert.match(md, new RegExp(`${codes.distinct_codes} \\[regions hit\\]\\(command:polytopeLens\\.openGlossary\\?[^ ]+ "How many different regions[^"]*"\\) overall`));
    const act1 = codes.stats.find((s) => s.key === '/act1/Relu')!;
    const pct = (x: number) => `${((100 * x) / 48).toFixed(1)} %`;
    // | layer | op | units | shape | dead | always on | regions hit | crossings per path |, the last four as glossary links
    assert.match(md, /\| \[dead\]\(\S+ "[^"]*"\) \| \[always on\]\(\S+ "[^"]*"\) \| \[regions hit\]\(\S+ "[^"]*"\) \|/);
    assert.ok(md.includes(`| ${pct(act1.dead_units)} | ${pct(act1.always_on_units)} | ${act1.distinct_codes} |`), md);
    const fc1 = (await positionOf('self.fc1 =')).line;
    const lens = await waitFor('a lens with regions hit', async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', train);
      return l?.find((x) => x.range.start.line === fc1 && /regions hit/.test(x.command?.title ?? ''));
    }, 15_000);
    assert.equal(lens.command?.title, `feeds 48 units · ${act1.distinct_codes} regions hit · open`);
  }, 90_000);

  test('language: after a path run the hover shows mean boundary crossings per path', async () => {
    const r = await vscode.commands.executeCommand<{ total: number; exact?: { total_flips: number } } | undefined>('polytopeLens.pathDensity', model, { inputs: join(dir, 'digits-x.npy'), from: 0, to: 7, steps: 50, exact: true });
    assert.ok(r, 'the path run returned a result');
    const crossings = (r.exact?.total_flips ?? r.total).toFixed(2);
    const pos = await positionOf('self.fc1 =', 'self.'.length + 1);
    const md = await waitFor('a hover with crossings per path', async () => {
      const t = await hoverText(pos);
      return t.includes('(mean of 1 path)') ? t : undefined;
    }, 30_000);
    assert.ok(md.includes(`${crossings} [crossings per path](`), md);
    assert.doesNotMatch(md, /\b1 paths\b/);
    assert.match(md, /\| \[crossings per path\]\(/);
    await waitFor('the side panel to count the path', () => (api.sidePanel().analysed ? true : undefined), 10_000);
  }, 90_000);

  test('language: the open-layer command opens the model view with the layer selected', async () => {
    const fc1 = (await positionOf('self.fc1 =')).line;
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', train);
    const args = lenses?.find((l) => l.range.start.line === fc1)?.command?.arguments?.[0] as OpenLayerArgs | undefined;
    assert.ok(args, 'the lens carries OpenLayerArgs');
    assert.equal(args.layer, '/act1/Relu');
    assert.equal(args.modelPath, model.fsPath);
    const opened = await vscode.commands.executeCommand<boolean>('polytopeLens.openLayer', args);
    const diag = () => `pages: ${JSON.stringify(api.pages())}; tabs: ${JSON.stringify(vscode.window.tabGroups.all.map((g) => g.tabs.map((t) => `${g.viewColumn}:${t.label}:${t.isActive}:${t.input instanceof vscode.TabInputCustom ? t.input.viewType : ''}`)))}`;
    assert.equal(opened, true, diag());
    const page = await waitFor('the page to highlight the layer', () => api.pages().find((p) => p.model === model.toString() && p.kind === 'editor' && p.highlighted !== undefined), 20_000).catch((e: Error) => {
      throw new Error(`${e.message}; pages: ${JSON.stringify(api.pages())}; tabs: ${JSON.stringify(vscode.window.tabGroups.all.map((g) => g.tabs.map((t) => `${g.viewColumn}:${t.label}:${t.isActive}`)))}`);
    });
    assert.equal(page.highlighted, '/act1/Relu');
    // Opened from the CodeLens, the view shows the codes the lens counts (not "Probe codes to see ...").
    const shown = await waitFor('the opened view to show the codes', () => {
      const p = api.pages().find((q) => q.model === model.toString() && q.kind === 'editor');
      return p?.rendered?.view === 'codes' ? p.rendered : undefined;
    }, 10_000);
    assert.equal(shown.statsRows, 3);
    assert.equal(await vscode.commands.executeCommand('polytopeLens.openLayer', { modelPath: 'relative.onnx', nodes: [] }), false, 'malformed arguments are refused');
  }, 60_000);

  test('glossary: a term link opens the extension\'s docs/glossary.md in the Markdown preview', async () => {
    const tabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs);
    const before = tabs().length;
    // What the hover's [regions hit](command:polytopeLens.openGlossary?[{"term":"regions-hit"}]) link runs.
    await vscode.commands.executeCommand('polytopeLens.openGlossary', { term: 'regions-hit' });
    const tab = await waitFor('a preview of glossary.md', () => tabs().find((t) => /glossary\.md/.test(t.label)), 20_000);
    assert.ok(tab.input instanceof vscode.TabInputWebview && /markdown\.preview/.test(tab.input.viewType), `a Markdown preview (${tab.label})`);
    assert.equal(tabs().length, before + 1, 'one tab');
    await vscode.window.tabGroups.close(tab);
  }, 40_000);

  test('side panel: shows the model train.py exports, with its last analysis', async () => {
    await vscode.commands.executeCommand('polytopeLens.sidePanel.focus');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(train), vscode.ViewColumn.One);
    const info = await waitFor('the side panel to render train.py\'s model', () => {
      const s = api.sidePanel();
      return s.source === train.fsPath && s.model === model.fsPath && s.rendered?.view === 'model' && s.rendered.layers === 3 && s.analysed ? s : undefined;
    }, 30_000);
    assert.equal(info.how, 'server', 'found through the language server (the export call)');
    assert.equal(info.visible, true);
    assert.equal(info.deltaRows, 0, 'no re-export yet');
  }, 60_000);

  test('side panel: re-exporting digits.onnx (same bytes, new mtime) refreshes it and re-probes', async () => {
    const before = api.sidePanel().refreshes;
    const changed = new Promise<void>((resolve) => {
      const sub = api.onDidSidePanel((s) => {
        if (s.refreshes > before) {
          sub.dispose();
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 1100)); // a visibly newer mtime on coarse file systems
    writeFileSync(model.fsPath, readFileSync(model.fsPath));
    await Promise.race([changed, new Promise((_, rej) => setTimeout(() => rej(new Error('no refresh within 45 s after the re-export')), 45_000))]);
    const s = await waitFor('the refreshed panel to render the delta', () => {
      const x = api.sidePanel();
      return x.rendered?.deltaRows === 3 && x.analysed ? x : undefined;
    }, 15_000);
    assert.equal(s.lastRefresh?.fileName, 'digits.onnx');
    assert.equal(s.lastRefresh?.reprobed, true, 're-ran the last Probe Codes');
    assert.equal(s.deltaRows, 3);
    // The server was told: the hover still has live numbers (the new analysis), not a stale structure.
    const pos = await positionOf('self.fc1 =', 'self.'.length + 1);
    await waitFor('the hover after the re-export', async () => ((await hoverText(pos)).includes(`${codes!.distinct_codes} [regions hit](`) ? true : undefined), 20_000);
  }, 90_000);

  test('side panel: checkpoints next to the model are listed as a series', async () => {
    for (const n of ['digits_ep1.onnx', 'digits_ep2.onnx']) copyFileSync(model.fsPath, join(dir, n));
    const s = await waitFor('three rows in the series table', () => {
      const x = api.sidePanel();
      return x.checkpoints === 3 && x.rendered?.checkpoints === 3 ? x : undefined;
    }, 30_000);
    assert.equal(s.model, model.fsPath, 'still the model of train.py');
    if (process.env.POLYTOPE_E2E_SKIP_UI !== '1') {
      // What the user sees: the panel's webview DOM, read by the driver through the browser.
      const verdict = await driverStep('sidepanel');
      assert.ok(verdict.ok, `side panel UI check: ${verdict.detail}`);
      // A term's circled i in the panel: the page posts openGlossary, the host opens the glossary in the Markdown preview.
      const clicked = await driverStep('glossary-click');
      assert.ok(clicked.ok, `glossary link: ${clicked.detail}`);
      assert.match(clicked.detail ?? '', /tooltip: How many different regions the inputs fall in/);
      const tab = await waitFor('the glossary preview after the click', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => /glossary\.md/.test(t.label)), 20_000);
      assert.ok(tab.input instanceof vscode.TabInputWebview && /markdown\.preview/.test(tab.input.viewType), tab.label);
    }
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }, 60_000);

  test('side panel: the setting polytopeLens.modelForFile names the model of a file that neither exports nor shares a name', async () => {
    const notes = vscode.Uri.file(join(dir, 'notes.py'));
    writeFileSync(notes.fsPath, 'import torch\n\nx = torch.zeros(3)\n');
    const config = vscode.workspace.getConfiguration('polytopeLens');
    await config.update('modelForFile', { 'digits/notes.py': 'digits/digits_ep2.onnx' }, vscode.ConfigurationTarget.Workspace);
    try {
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(notes), vscode.ViewColumn.One);
      const s = await waitFor('the side panel to show the model the setting names', () => {
        const x = api.sidePanel();
        return x.source === notes.fsPath && x.model === join(dir, 'digits_ep2.onnx') ? x : undefined;
      }, 30_000).catch((e: Error) => {
        throw new Error(`${e.message}; panel: ${JSON.stringify(api.sidePanel())}`);
      });
      assert.equal(s.how, 'setting');
    } finally {
      await config.update('modelForFile', undefined, vscode.ConfigurationTarget.Workspace);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  }, 60_000);
}
