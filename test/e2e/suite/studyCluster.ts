/**
 * End-to-end tests of Density Study, Cluster Codes and Export Results (src/extension/analysisCommands.ts) in the real
 * VS Code: each command runs on the example with options instead of quick picks; the tests assert on the results,
 * on what the views rendered (their "rendered" report, LensApi.analyses()), and on the exported file.
 */
import * as assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import * as vscode from 'vscode';
import type { LensApi } from '../../../src/extension/main';
import type { AnalysisInfo } from '../../../src/extension/analysisPanel';
import type { ClusterMethodKey, ClusterResult, DensityStudyResult } from '../../../src/shared/results';
import type { CodesView } from '../../../src/shared/webview-protocol';
import { test, waitFor } from './harness';

const EXT_ID = 'polytope-lens.polytope-lens';
/** The methods a clustering runs by default, in the order of its comparison (the cluster contract, README). */
const ALL_METHODS: ClusterMethodKey[] = ['hdbscan_codes', 'hdbscan_activations', 'kmedoids_codes', 'kmedoids_activations', 'pca', 'nmf'];

type DriverStep = (step: string, timeoutMs?: number) => Promise<{ ok: boolean; detail?: string }>;

export function registerStudyClusterTests(getApi: () => LensApi, driverStep: DriverStep): void {
  const ui = process.env.POLYTOPE_E2E_SKIP_UI !== '1';
  const ext = () => vscode.extensions.getExtension(EXT_ID)!.extensionUri;
  const digits = () => vscode.Uri.joinPath(ext(), 'examples', 'digits', 'digits.onnx');
  const digitsX = () => vscode.Uri.joinPath(ext(), 'examples', 'digits', 'digits-x.npy').fsPath;
  const digitsY = () => vscode.Uri.joinPath(ext(), 'examples', 'digits', 'digits-y.npy').fsPath;
  const ws = () => vscode.workspace.workspaceFolders![0]!.uri;
  const panelOf = (kind: AnalysisInfo['kind'], model: vscode.Uri) => getApi().analyses().filter((a) => a.kind === kind && a.model === model.toString());
  const rendered = (kind: AnalysisInfo['kind'], model: vscode.Uri, view = 'result') =>
    waitFor(`the ${kind} view to render ${view}`, () => {
      const p = panelOf(kind, model)[0];
      return p?.rendered?.view === view ? p : undefined;
    }, 10_000);
  const between01 = (x: number | null, what: string) => assert.ok(x !== null && x >= 0 && x <= 1, `${what}: ${x}`);

  let study: DensityStudyResult | undefined;
  let clusters: ClusterResult | undefined;

  test('Density Study on the example with its labels: both groups, p-values in [0, 1], shown in the density view', async () => {
    const r = await vscode.commands.executeCommand<DensityStudyResult | undefined>('polytopeLens.densityStudy', digits(), {
      inputs: digitsX(),
      labels: digitsY(),
      pairs: 20,
      steps: 40,
      window: 4,
      permutations: 500,
      seed: 2,
    });
    study = r;
    assert.ok(r, `a result (last run: ${JSON.stringify(getApi().lastRun())})`);
    assert.equal(getApi().lastRun()?.status, 'done');
    assert.equal(r.class_source, 'labels');
    assert.deepEqual([r.steps, r.window, r.permutations, r.seed], [40, 4, 500, 2]);
    assert.equal(r.different_class.pairs + r.skipped_pairs, 20);
    assert.equal(r.same_class.pairs, 20);
    for (const [name, g] of [['different class', r.different_class], ['same class', r.same_class]] as const) {
      between01(g.p_value, `${name} p-value`);
      assert.ok(g.p_value > 0, 'a permutation p-value is never 0');
      assert.equal(g.aligned_profile.length, 9, `${name}: offsets -4..4`);
      assert.ok(g.near_mean >= 0 && g.elsewhere_mean >= 0);
    }
    // The labelled digits change class along every different-class path (the model is 96% accurate).
    assert.ok(r.different_class.pairs >= 15, `${r.different_class.pairs} aligned pairs`);
    const p = await rendered('study', digits());
    // The view draws each group's aligned profile (a dot per offset with a value), the class-change line at offset 0
    // and each group's level elsewhere on the path (src/webview/densityStudy.ts in the views branch).
    const points = [...r.different_class.aligned_profile, ...r.same_class.aligned_profile].filter((x) => Number.isFinite(x)).length;
    assert.equal(p.rendered!.items, points, 'a profile dot per offset and group');
    assert.equal(p.rendered!.marks, 3, 'the class-change line and two elsewhere levels');
  }, 120_000);

  test('Cluster Codes on the example with its labels: a comparison row per method, scores in [0, 1], the clusters drawn', async () => {
    const r = await vscode.commands.executeCommand<ClusterResult | undefined>('polytopeLens.clusterCodes', digits(), {
      inputs: digitsX(),
      labels: digitsY(),
      n: 200,
      k: 10,
      minClusterSize: 5,
      seed: 0,
    });
    clusters = r;
    assert.ok(r, `a result (last run: ${JSON.stringify(getApi().lastRun())})`);
    assert.equal(getApi().lastRun()?.status, 'done');
    assert.equal(r.n, 200);
    assert.match(r.labels_note ?? '', /200 labels from digits-y\.npy \(10 classes\)/);
    assert.deepEqual(r.comparison.map((c) => c.method), ALL_METHODS, 'a row for each method');
    for (const c of r.comparison) {
      between01(c.weighted_purity, `${c.method} purity`);
      between01(c.nmi, `${c.method} NMI`);
      between01(c.noise_share, `${c.method} noise`);
      assert.ok(c.n_clusters >= 1, `${c.method}: ${c.n_clusters} clusters`);
    }
    assert.equal(r.methods.kmedoids_codes?.n_clusters, 10);
    const p = await rendered('cluster', digits());
    // The view opens on the method that puts most inputs in a cluster of their own label (purity x (1 - noise share)),
    // lists its clusters (a row each) and draws each cluster's size as stacked bars: the members with the majority
    // label and the others, where non-zero (src/webview/clusterView.ts).
    assert.equal(r.method, 'hdbscan_codes');
    const score = (c: ClusterResult['comparison'][number]) => c.weighted_purity! * (1 - c.noise_share);
    const opening = r.comparison.reduce((b, c) => (score(c) > score(b) ? c : b)).method;
    const shown = r.methods[opening]!;
    assert.equal(p.rendered!.items, shown.clusters.length, `a row per cluster of ${opening}`);
    const bars = shown.clusters.reduce((a, c) => a + (c.size * c.purity! > 0 ? 1 : 0) + (c.size * (1 - c.purity!) > 0 ? 1 : 0), 0);
    assert.equal(p.rendered!.marks, bars, 'majority and other-label bars per cluster');
  }, 180_000);

  test('Export Results writes the codes and every analysis of the example as one JSON file', async () => {
    assert.ok(study && clusters, 'the study and clustering ran');
    // The export needs a Probe Codes of its own model: run one here so the test stands alone.
    await vscode.commands.executeCommand('polytopeLens.probeCodes', digits(), { inputs: digitsX() });
    const target = join(ws().fsPath, 'exports', 'digits.results.json');
    mkdirSync(join(ws().fsPath, 'exports'), { recursive: true });
    const written = await vscode.commands.executeCommand<string | undefined>('polytopeLens.exportResults', digits(), { path: target });
    assert.equal(written, target, `written (last run: ${JSON.stringify(getApi().lastRun())})`);
    assert.ok(existsSync(target));
    const doc = JSON.parse(readFileSync(target, 'utf8')) as {
      format: string;
      model: { path: string; fileName: string };
      codes: { inputs: { kind: string; path?: string }; result: { n: number; stats: unknown[]; distinct_codes: number } } | null;
      analyses: Record<string, { command: string; params: Record<string, unknown>; result: unknown }>;
    };
    assert.equal(doc.format, 'polytope-lens results 1');
    assert.equal(doc.model.fileName, 'digits.onnx');
    assert.equal(doc.model.path, digits().fsPath);
    assert.ok(doc.codes, 'the last Probe Codes');
    assert.deepEqual(doc.codes.inputs, { kind: 'file', path: digitsX() });
    assert.equal(doc.codes.result.n, 360);
    assert.equal(doc.codes.result.stats.length, 3);
    assert.deepEqual(doc.analyses.study?.result, study, 'the study as the command returned it');
    assert.deepEqual(doc.analyses.cluster?.result, clusters, 'the clustering as the command returned it');
    assert.equal(doc.analyses.study?.command, 'polytopeLens.densityStudy');
    assert.equal(doc.analyses.cluster?.params.labels, digitsY());
    // Analyses run earlier in the suite on the example (path, region map, local, scale) are there too.
    for (const [kind, a] of Object.entries(doc.analyses)) assert.ok(a.result && a.params, kind);
  }, 120_000);

  test('Export Results as Parquet writes the codes of the last Probe Codes: one row per input, read back', async () => {
    const codes = await vscode.commands.executeCommand<CodesView | undefined>('polytopeLens.probeCodes', digits(), { inputs: digitsX() });
    assert.ok(codes, 'Probe Codes ran');
    mkdirSync(join(ws().fsPath, 'exports'), { recursive: true });
    const target = join(ws().fsPath, 'exports', 'digits.codes.parquet');
    const written = await vscode.commands.executeCommand<string | undefined>('polytopeLens.exportResults', digits(), { path: target });
    assert.equal(written, target, `written (last run: ${JSON.stringify(getApi().lastRun())})`);
    const bytes = readFileSync(target);
    const rows = (await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), utf8: false })) as { index: bigint | number; pred: number; code: Uint8Array }[];
    assert.equal(rows.length, codes.n, 'a row per input');
    assert.ok(rows.every((r) => r.code instanceof Uint8Array), 'codes are binary (hyparquet reads them as bytes with utf8: false)');
    assert.deepEqual(rows.map((r) => Number(r.index)), [...Array(codes.n).keys()], 'global indices in order');
    assert.equal(new Set(rows.map((r) => Buffer.from(r.code).toString('hex'))).size, codes.distinct_codes, 'the distinct codes of the Probe Codes run');
    const units = codes.layers.reduce((a, l) => a + l.units, 0);
    assert.ok(rows.every((r) => r.code.length === Math.ceil(units / 8)), 'codes of ceil(units / 8) bytes');
  }, 120_000);

  test('Export Results of a model with no results yet says so and writes nothing', async () => {
    mkdirSync(join(ws().fsPath, 'models'), { recursive: true });
    const fresh = vscode.Uri.joinPath(ws(), 'models', 'fresh-cnn.onnx');
    copyFileSync(vscode.Uri.joinPath(ext(), 'test', 'fixtures', 'cnn.onnx').fsPath, fresh.fsPath);
    const target = join(ws().fsPath, 'exports', 'fresh.results.json');
    const written = await vscode.commands.executeCommand('polytopeLens.exportResults', fresh, { path: target });
    assert.equal(written, undefined);
    assert.equal(getApi().lastRun()?.status, 'failed');
    assert.match(getApi().lastRun()?.message ?? '', /nothing to export for fresh-cnn\.onnx/);
    assert.ok(!existsSync(target));
  });

  test('a bad labels file is refused before the cluster run, with one sentence', async () => {
    const r = await vscode.commands.executeCommand('polytopeLens.clusterCodes', digits(), { inputs: digitsX(), labels: digitsX(), n: 50 });
    assert.equal(r, undefined);
    assert.equal(getApi().lastRun()?.status, 'failed');
    assert.equal(getApi().lastRun()?.message, 'digits-x.npy cannot be the labels of digits-x.npy: labels are a 1-D array of class ids, one per input, but it has shape [360, 64].');
    assert.equal(getApi().lastRun()?.ms, 0, 'nothing ran');
  }, 60_000);

  test('UI: Cancel in the progress notification stops a long density study; the view says cancelled, never a partial result', async () => {
    if (!ui) return;
    const t0 = Date.now();
    const running = vscode.commands.executeCommand('polytopeLens.densityStudy', digits(), { inputs: digitsX(), pairs: 5000, steps: 400, permutations: 100 });
    await vscode.commands.executeCommand('notifications.showList');
    const verdict = await driverStep('analysis-cancel:Density study');
    assert.ok(verdict.ok, `cancel step: ${verdict.detail}`);
    assert.equal(await running, undefined);
    assert.equal(getApi().lastRun()?.status, 'cancelled', JSON.stringify(getApi().lastRun()));
    assert.ok(Date.now() - t0 < 30_000);
    const p = await rendered('study', digits(), 'cancelled');
    assert.equal(p.rendered!.items, 0, 'no profile after a cancel');
    await vscode.commands.executeCommand('notifications.hideList');
  }, 120_000);

  test('Density Study, Cluster Codes and Export Results are registered', async () => {
    const cmds = await vscode.commands.getCommands(true);
    for (const c of ['polytopeLens.densityStudy', 'polytopeLens.clusterCodes', 'polytopeLens.exportResults']) assert.ok(cmds.includes(c), c);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await waitFor('the analysis panels to close', () => (getApi().analyses().length === 0 ? true : undefined));
  });
}
