/**
 * Commands of the analyses with a view of their own: Boundary Density Along a Path, Density Study, Region Map of a
 * 2D Slice, Local Complexity, Scale Activations, Cluster Codes; and Export Results. Each asks only what it needs
 * (quick picks; a caller such as a test passes options instead), runs in the engine pool under a cancellable
 * progress notification, shows its result in the analysis panel of that kind and model, beside the code, and
 * keeps it in the analyses store. Cancel shows "cancelled" (never a partial result); a UserError is an error
 * notification and an error state in the view.
 */
import { writeFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { isUserError, messageOf } from '../core/errors';
import { basename } from 'node:path';
import { readLabels, readNpyHeader, sampleCount } from '../core/inputs';
import { loadSamples, runCodes, sampleShapeOf, type InputSource } from '../worker/jobs';
import type { EnginePool } from '../worker/pool';
import { runDensityStudy } from '../worker/study';
import type { ClusterMethodKey, ModelSummary } from '../shared/results';
import type { SliceRequest } from '../shared/worker-protocol';
import { ANALYSIS_COMMANDS, ANALYSIS_TITLES, ANALYSIS_KINDS, rerunProblem, type AnalysisData, type AnalysisKind, type AnalysisParams, type RerunParams } from '../shared/webview-protocol';
import { defaultLocalRadius, medianPairDistance } from '../core/analyses/local-radius';
import type { ModelAnalysis } from './analyses';
import { planeContext, trustedDataUri, type AnalysisPanel, type AnalysisPanels, type PlaneContext } from './analysisPanel';
import { exemplarImages } from './inputImage';
import { inputsProblem, labelsProblem } from './dataFiles';
import { pickInputs, pickLabels, pickModel, pickNpy, suggestedLabels, type InputFit } from './pickers';
import type { Services } from './services';
import { elementCount } from '../shared/shape';

/** At most this many exemplar thumbnails go to a cluster view (a 28x28 PNG is about 1 kB). */
const MAX_THUMBNAILS = 600;
/** Local complexity runs around all inputs of the file up to this many by default (41 forwards per input at 20 directions). */
const LOCAL_MAX_INPUTS = 500;

type Opts = Record<string, unknown>;

function optsOf(x: unknown): Opts {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Opts) : {};
}
const num = (o: Opts, k: string): number | undefined => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : undefined);
const str = (o: Opts, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
const bool = (o: Opts, k: string): boolean | undefined => (typeof o[k] === 'boolean' ? (o[k] as boolean) : undefined);
const strs = (o: Opts, k: string): string[] | undefined => {
  const v = o[k];
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
};
const nums = (o: Opts, k: string, len?: number): number[] | undefined => {
  const v = o[k];
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)) && (len === undefined || v.length === len) ? (v as number[]) : undefined;
};

export class AnalysisCommands {
  /** The panel whose form asked for the run in progress: problems found before the run go to it as one sentence. */
  private rerunPanel: AnalysisPanel | undefined;

  private constructor(
    private readonly services: Services,
    private readonly panels: AnalysisPanels,
  ) {}

  static register(context: vscode.ExtensionContext, services: Services, panels: AnalysisPanels): void {
    const c = new AnalysisCommands(services, panels);
    // From the explorer menu the arguments are (uri, selectedUris); from code (uri, options).
    const reg = (id: string, fn: (uri: vscode.Uri | undefined, o: Opts) => Promise<unknown>) =>
      vscode.commands.registerCommand(id, (uri?: unknown, opts?: unknown) => fn(uri instanceof vscode.Uri ? uri : undefined, optsOf(opts)));
    context.subscriptions.push(
      reg('polytopeLens.pathDensity', (u, o) => c.path(u, o)),
      reg('polytopeLens.regionMap', (u, o) => c.slice(u, o)),
      reg('polytopeLens.localComplexity', (u, o) => c.local(u, o)),
      reg('polytopeLens.scaleActivations', (u, o) => c.scale(u, o)),
      reg('polytopeLens.densityStudy', (u, o) => c.study(u, o)),
      reg('polytopeLens.clusterCodes', (u, o) => c.cluster(u, o)),
      reg('polytopeLens.exportResults', (u, o) => c.exportResults(u, o)),
    );
    panels.rerun = (panel, params) => c.rerun(panel, params);
  }

  /**
   * The Run button of a view's form: the same analysis of the same model and data files with the form's values, in
   * the same tab, under the same progress notification as from the palette (nothing is asked). A value out of range,
   * a run still going, or a data file gone is one sentence in the view, and the shown result stays.
   */
  async rerun(panel: AnalysisPanel, values: RerunParams): Promise<void> {
    if (panel.cancelRun) return panel.refuseRerun('This analysis is still running: wait for it, or press Cancel first.');
    const kind = panel.kind;
    // The polytope view has no form (its Find every facet is an 'inspect' message, src/extension/polytopeCommand.ts).
    if (kind === 'polytope') return panel.refuseRerun('The polytope view has no parameters to run again: use Find every facet, or Inspect Polytope at Input.');
    const p = panel.params;
    const problem = rerunProblem(panel.kind, values, p.available);
    if (problem) return panel.refuseRerun(problem);
    // Data paths restored from the page's state after a reload are checked like the model before any use.
    const checked = async (path: string | undefined) => (path === undefined || panel.paramsTrusted ? path : (await trustedDataUri(path, this.services.context.extensionUri))?.fsPath ?? null);
    const inputs = await checked(p.inputs);
    const labels = await checked(p.labels);
    if (inputs === null || labels === null) return panel.refuseRerun(`A data file of this result is no longer in the workspace; run ${ANALYSIS_TITLES[panel.kind]} from the Command Palette again.`);
    if (inputs === undefined && (panel.kind !== 'slice' || p.plane)) {
      return panel.refuseRerun(`This result was computed on inputs the view cannot name (generated, or a folder of images); run ${ANALYSIS_TITLES[panel.kind]} from the Command Palette again.`);
    }
    const q: AnalysisParams = { ...p, ...values, inputs, labels };
    const opts: Record<Exclude<AnalysisKind, 'polytope'>, Opts> = {
      path: { inputs, from: q.from, to: q.to, steps: q.steps, exact: q.exact },
      study: { inputs, labels, pairs: q.pairs, steps: q.steps, window: q.studyWindow, permutations: q.permutations },
      slice: { inputs, plane: q.plane, window: q.window, resolution: q.resolution, exact: q.exact ?? false },
      local: { inputs, n: q.n, directions: q.directions, radius: q.radius },
      scale: { inputs, layer: q.layer, alphas: q.alphas, limit: q.n },
      cluster: { inputs, labels, n: q.n, k: q.k, minClusterSize: q.minClusterSize },
    };
    const run: Record<Exclude<AnalysisKind, 'polytope'>, (u: vscode.Uri, o: Opts) => Promise<unknown>> = {
      path: (u, o) => this.path(u, o),
      study: (u, o) => this.study(u, o),
      slice: (u, o) => this.slice(u, o),
      local: (u, o) => this.local(u, o),
      scale: (u, o) => this.scale(u, o),
      cluster: (u, o) => this.cluster(u, o),
    };
    this.services.log.info(`${ANALYSIS_COMMANDS[panel.kind]}: Run from the view with ${JSON.stringify(values)}`);
    this.rerunPanel = panel;
    try {
      await run[kind](panel.model, Object.fromEntries(Object.entries(opts[kind]).filter(([, v]) => v !== undefined)));
    } finally {
      this.rerunPanel = undefined;
    }
  }

  private async model(given: vscode.Uri | undefined): Promise<vscode.Uri | undefined> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Polytope Lens runs models only in a trusted workspace.');
      return undefined;
    }
    return given ?? (await pickModel(this.services));
  }

  private summary(model: vscode.Uri): Promise<ModelSummary> {
    return this.services.withPool((pool) => pool.summary(this.services.modelRef(model)), model);
  }

  /** The model's input: what a data file must fit. */
  private async fitOf(model: vscode.Uri): Promise<InputFit & { summary: ModelSummary }> {
    const summary = await this.summary(model);
    return { summary, sampleShape: sampleShapeOf(summary), inputName: summary.inputs[0]?.name };
  }

  /** A data file checked against the model's input before anything else is asked or run; its number of samples. */
  private checkInputs(path: string, fit: InputFit): number {
    const h = readNpyHeader(path);
    const problem = inputsProblem(h, basename(path), fit.sampleShape, fit.inputName);
    if (problem) throw new UserErrorLike(problem);
    return sampleCount(h.shape, fit.sampleShape, basename(path));
  }

  /** A labels file checked against the data file (integers, exactly one per input) before any work. */
  private checkLabels(labels: string | undefined, data: string, n: number): void {
    if (!labels) return;
    const problem = labelsProblem(readNpyHeader(labels), basename(labels), n, basename(data));
    if (problem) throw new UserErrorLike(problem);
  }

  // ---- Boundary density along a path ----

  async path(given: vscode.Uri | undefined, o: Opts): Promise<unknown> {
    const model = await this.model(given);
    if (!model) return undefined;
    try {
      const fit = await this.fitOf(model);
      const inputs = str(o, 'inputs') ?? (await pickNpy(model, 'Boundary density: the two endpoints come from which data file?', fit));
      if (!inputs) return undefined;
      const available = this.checkInputs(inputs, fit);
      const scripted = str(o, 'inputs') !== undefined;
      const n = scripted ? undefined : available;
      // Where the data file's labels are known (digits-x.npy -> digits-y.npy), each endpoint shows its class.
      const labelsFile = scripted ? undefined : suggestedLabels(inputs, available);
      const classes = labelsFile ? readLabels(labelsFile, available).labels : undefined;
      const classOf = (i: number) => (classes ? `sample ${i} is class ${classes[i]} (${basename(labelsFile!)})` : undefined);
      const from = num(o, 'from') ?? (await askInt('First endpoint: sample index', 0, 0, n === undefined ? undefined : n - 1, classOf));
      if (from === undefined) return undefined;
      const firstClass = classes && from < classes.length ? `; the first endpoint ${from} is class ${classes[from]}: a sample of another class crosses a class change` : '';
      const to = num(o, 'to') ?? (await askInt(`Second endpoint: sample index${firstClass}`, n !== undefined && n > 1 ? 1 : 0, 0, n === undefined ? undefined : n - 1, classOf));
      if (to === undefined) return undefined;
      const steps = num(o, 'steps') ?? (await askInt('Steps along the path', 100, 1, 100_000));
      if (steps === undefined) return undefined;
      const exact = bool(o, 'exact') ?? (await askYesNo('Also locate the exact crossings (1-D)?', 'exact crossings along the segment, in float64'));
      if (exact === undefined) return undefined;
      const params: AnalysisParams = { inputs, from, to, steps, exact, available };
      return await this.run('path', model, params, `Boundary density along ${from} → ${to}`, async (pool, signal) => ({
        kind: 'path',
        result: await pool.submit((api) => api.path(this.services.modelRef(model), {}, { inputs, from, to, steps, exact }), signal),
        endpoints: [from, to],
        ...(classes && from < classes.length && to < classes.length ? { endpointLabels: [classes[from]!, classes[to]!] as [number, number] } : {}),
      }));
    } catch (e) {
      return this.reportPickError('pathDensity', e);
    }
  }

  // ---- Region map of a 2D slice ----

  async slice(given: vscode.Uri | undefined, o: Opts): Promise<unknown> {
    const model = await this.model(given);
    if (!model) return undefined;
    try {
      const summary = await this.summary(model);
      const sampleShape = sampleShapeOf(summary);
      const size = elementCount(sampleShape);
      let inputs: string | undefined;
      let plane: number[] | undefined;
      let available: number | undefined;
      if (size !== 2) {
        const fit = { sampleShape, inputName: summary.inputs[0]?.name };
        inputs = str(o, 'inputs') ?? (await pickNpy(model, `Region map: ${summary.inputs[0]?.name ?? 'the input'} has ${size} values; the plane goes through three samples of which data file?`, fit));
        if (!inputs) return undefined;
        const n = this.checkInputs(inputs, fit);
        available = n;
        plane = nums(o, 'plane', 3);
        if (!plane) {
          plane = [];
          for (const [what, d] of [['a (the origin, u = v = 0)', 0], ['b (u = 1)', 1], ['c (v = 1)', 2]] as const) {
            const i = await askInt(`Plane point ${what}: sample index`, Math.min(d, n - 1), 0, n - 1);
            if (i === undefined) return undefined;
            plane.push(i);
          }
        }
      }
      const window = (nums(o, 'window', 2) as [number, number] | undefined) ?? (await askWindow(size === 2 ? '-3,3' : '-0.5,1.5', size === 2));
      if (!window) return undefined;
      const resolution = num(o, 'resolution') ?? (await askInt('Grid resolution (points per side)', 200, 2, 2000));
      if (resolution === undefined) return undefined;
      const exact = bool(o, 'exact') ?? (await askYesNo('Also compute the exact regions (polygons)?', 'exact linear regions of the window, in float64'));
      if (exact === undefined) return undefined;
      const params: AnalysisParams = { inputs, plane, window, resolution, exact, available };
      let ctx: PlaneContext = { sampleShape };
      return await this.run(
        'slice',
        model,
        params,
        `Region map of ${summary.inputs[0]?.name ?? 'the input'}`,
        async (pool, signal, onProgress) => {
          const req: SliceRequest = { window, resolution, exact, polygons: true };
          if (inputs && plane) {
            ctx = planeContext(inputs, plane, sampleShape);
            req.plane = { a: ctx.a!.slice(), b: ctx.b!.slice(), c: ctx.c!.slice(), indices: plane };
          }
          return { kind: 'slice', sampleShape, result: await pool.submit((api, progressTask) => api.slice(this.services.modelRef(model), {}, { ...req, progressTask }), signal, { onProgress }) };
        },
        { onDone: (panel) => (panel.plane = ctx), stages: exact ? 2 : 1 },
      );
    } catch (e) {
      return this.reportPickError('regionMap', e);
    }
  }

  // ---- Local complexity ----

  async local(given: vscode.Uri | undefined, o: Opts): Promise<unknown> {
    const model = await this.model(given);
    if (!model) return undefined;
    try {
      const fit = await this.fitOf(model);
      const inputs = str(o, 'inputs') ?? (await pickNpy(model, 'Local complexity around which inputs?', fit));
      if (!inputs) return undefined;
      const available = this.checkInputs(inputs, fit);
      // Given a data file (from code or the view's Run), nothing is asked: absent values take their defaults.
      const scripted = str(o, 'inputs') !== undefined;
      const D = elementCount(fit.sampleShape);
      // The default radius: 5 % of the median distance between two inputs (src/core/analyses/local-radius.ts says
      // why not the value range); the view shows that distance next to the radius.
      const near = loadSamples({ kind: 'file', path: inputs }, fit.sampleShape, 200);
      const medianDistance = medianPairDistance(near.data, near.n, D);
      const suggested = defaultLocalRadius(medianDistance);
      const radius =
        num(o, 'radius') ??
        (scripted ? suggested : await askPositive('Radius of the neighbourhood around each input', suggested, `default ${suggested}: 5 % of the median distance between two inputs (${Number(medianDistance.toPrecision(3))})`));
      if (radius === undefined) return undefined;
      const directions = num(o, 'directions') ?? (scripted ? Math.min(20, D) : await askInt('Random directions per input (each adds two vertices)', Math.min(20, D), 1, D));
      if (directions === undefined) return undefined;
      const cap = Math.min(available, LOCAL_MAX_INPUTS);
      const n = num(o, 'n') ?? (scripted ? cap : await askInt(`How many inputs, from the first (${available} in ${basename(inputs)})`, cap, 1, available));
      if (n === undefined) return undefined;
      const seed = num(o, 'seed') ?? 0;
      const params: AnalysisParams = { inputs, n, directions, radius, available, medianDistance: Number(medianDistance.toPrecision(4)) };
      return await this.run('local', model, params, 'Local complexity', async (pool, signal) => ({
        kind: 'local',
        result: await pool.submit((api) => api.local(this.services.modelRef(model), {}, { inputs, n, directions, radius, seed }), signal),
      }));
    } catch (e) {
      return this.reportPickError('localComplexity', e);
    }
  }

  // ---- Scale activations ----

  async scale(given: vscode.Uri | undefined, o: Opts): Promise<unknown> {
    const model = await this.model(given);
    if (!model) return undefined;
    try {
      const summary = await this.summary(model);
      if (summary.layers.length === 0) throw new UserErrorLike(`${model.path.split('/').pop()} has no piecewise-linear layer to scale.`);
      const given_ = str(o, 'inputs');
      const fit = { sampleShape: sampleShapeOf(summary), inputName: summary.inputs[0]?.name };
      const source: InputSource | undefined = given_ ? { kind: 'file', path: given_ } : await pickInputs(model, fit);
      if (!source) return undefined;
      const available = source.kind === 'file' && source.path.toLowerCase().endsWith('.npy') ? this.checkInputs(source.path, fit) : undefined;
      let layer = str(o, 'layer');
      if (!layer) {
        const pick = await vscode.window.showQuickPick(
          summary.layers.map((l) => ({ label: l.key, description: `${l.op}, ${l.units} bits` })),
          { title: 'Scale the activation of which layer?' },
        );
        if (!pick) return undefined;
        layer = pick.label;
      }
      const alphas = nums(o, 'alphas') ?? (await askAlphas());
      if (!alphas) return undefined;
      const limit = num(o, 'limit') ?? 1000;
      const params: AnalysisParams = { inputs: source.kind === 'file' ? source.path : undefined, layer, alphas, n: limit, available };
      const lyr = layer;
      return await this.run('scale', model, params, `Scaling ${layer}`, async (pool, signal) => {
        const samples = loadSamples(source, sampleShapeOf(summary), limit);
        const r = await pool.submit((api) => api.scale(this.services.modelRef(model), { layer: lyr, alphas, data: samples.data, n: samples.n }), signal);
        return { kind: 'scale', result: { ...r, inputs_note: samples.note } };
      });
    } catch (e) {
      return this.reportPickError('scaleActivations', e);
    }
  }

  // ---- Density study ----

  async study(given: vscode.Uri | undefined, o: Opts): Promise<unknown> {
    const model = await this.model(given);
    if (!model) return undefined;
    try {
      // Given a data file (from code), nothing is asked: absent values take their defaults.
      const scripted = str(o, 'inputs') !== undefined;
      const fit = await this.fitOf(model);
      const inputs = str(o, 'inputs') ?? (await pickNpy(model, 'Density study: pairs of inputs from which data file?', fit));
      if (!inputs) return undefined;
      const available = this.checkInputs(inputs, fit);
      const labels = scripted
        ? { path: str(o, 'labels') }
        : await pickLabels(inputs, available, 'Density study: the class of each input from', { label: "the model's predictions", detail: 'argmax of the first output' });
      if (!labels) return undefined;
      this.checkLabels(labels.path, inputs, available);
      const pairs = num(o, 'pairs') ?? (scripted ? 50 : await askInt('Pairs of each kind (different-class and same-class control)', 50, 1, 10_000));
      if (pairs === undefined) return undefined;
      const steps = num(o, 'steps') ?? 100;
      const studyWindow = num(o, 'window') ?? 5;
      const permutations = num(o, 'permutations') ?? 2000;
      const seed = num(o, 'seed') ?? 0;
      const params: AnalysisParams = { inputs, labels: labels.path, pairs, steps, studyWindow, permutations, available };
      return await this.run('study', model, params, `Density study of ${pairs} + ${pairs} pairs`, async (pool, signal, onProgress) => {
        const summary = await pool.summary(this.services.modelRef(model), {}, signal);
        const sampleShape = sampleShapeOf(summary);
        const samples = loadSamples({ kind: 'file', path: inputs }, sampleShape);
        const r = await runDensityStudy(
          pool,
          {
            model: this.services.modelRef(model),
            selection: {},
            data: samples.data,
            n: samples.n,
            sampleSize: elementCount(sampleShape),
            labels: labels.path ? readLabels(labels.path, samples.n).labels : undefined,
            pairs,
            steps,
            window: studyWindow,
            permutations,
            seed,
          },
          { signal, onProgress },
        );
        return { kind: 'study', result: r };
      });
    } catch (e) {
      return this.reportPickError('densityStudy', e);
    }
  }

  // ---- Clusters of codes (and of activations, with PCA / NMF baselines) ----

  async cluster(given: vscode.Uri | undefined, o: Opts): Promise<unknown> {
    const model = await this.model(given);
    if (!model) return undefined;
    try {
      const scripted = str(o, 'inputs') !== undefined;
      const fit = await this.fitOf(model);
      const inputs = str(o, 'inputs') ?? (await pickNpy(model, 'Cluster codes: cluster the inputs of which data file?', fit));
      if (!inputs) return undefined;
      const available = this.checkInputs(inputs, fit);
      const labels = scripted
        ? { path: str(o, 'labels') }
        : await pickLabels(inputs, available, 'Cluster codes: labels to score the clusters against', { label: 'no labels', detail: 'clusters without purity and NMI' });
      if (!labels) return undefined;
      this.checkLabels(labels.path, inputs, available);
      const n = num(o, 'n') ?? (scripted ? Math.min(available, 2000) : await askInt('How many inputs (the distances are an n x n matrix)', Math.min(available, 2000), 2, Math.min(available, 20_000)));
      if (n === undefined) return undefined;
      // Checked by the engine (an unknown method is a UserError in the view).
      const methods = strs(o, 'methods');
      const k = num(o, 'k');
      const minClusterSize = num(o, 'minClusterSize');
      const params: AnalysisParams = { inputs, labels: labels.path, n, k, minClusterSize, available };
      return await this.run('cluster', model, params, `Clustering ${n} inputs`, async (pool, signal, onProgress) => {
        const summary = await pool.summary(this.services.modelRef(model), {}, signal);
        const sampleShape = sampleShapeOf(summary);
        const samples = loadSamples({ kind: 'file', path: inputs }, sampleShape, n);
        const y = labels.path ? readLabels(labels.path, samples.n) : undefined;
        const req = {
          data: samples.data,
          n: samples.n,
          labels: y?.labels,
          inputsNote: samples.note,
          labelsNote: y?.note,
          layer: str(o, 'layer'),
          k,
          minClusterSize,
          minSamples: num(o, 'minSamples'),
          exemplars: num(o, 'exemplars'),
          seed: num(o, 'seed'),
          methods: methods as ClusterMethodKey[] | undefined,
        };
        // The inputs stay here for the thumbnails; the worker gets a copy.
        const r = await pool.submit((api, progressTask) => api.cluster(this.services.modelRef(model), {}, { ...req, data: req.data.slice(), progressTask }), signal, { onProgress });
        // The view's form shows the k and min cluster size the engine chose when none was given.
        params.k = r.params.k;
        params.minClusterSize = r.params.min_cluster_size;
        return { kind: 'cluster', result: r, sampleShape, thumbnails: exemplarImages(r, samples.data, sampleShape, MAX_THUMBNAILS) };
      });
    } catch (e) {
      return this.reportPickError('clusterCodes', e);
    }
  }

  // ---- Export Results ----

  /**
   * Writes the model's latest results (the last Probe Codes and the latest run of each analysis) as one JSON file,
   * where the save dialog (or `path` from code) says; or, when the file chosen ends in `.parquet` (or `format:
   * 'parquet'` from code), the codes of the last Probe Codes as an Apache Parquet file (`codes --out-format
   * parquet`: one row per input with index, pred, code and the active units per layer), computed again with the
   * same inputs under a cancellable progress notification. Returns the path written, undefined when nothing was.
   */
  async exportResults(given: vscode.Uri | undefined, o: Opts): Promise<string | undefined> {
    const model = given ?? (await pickModel(this.services));
    if (!model) return undefined;
    const name = model.path.split('/').pop() ?? model.path;
    const a = this.services.analyses.get(model);
    const kinds = ANALYSIS_KINDS.filter((k) => a?.results[k]);
    if (!a || (!a.codes && kinds.length === 0)) {
      const message = `Polytope Lens: nothing to export for ${name} yet; run Probe Codes or an analysis on it first.`;
      this.services.lastRun = { command: 'exportResults', status: 'failed', ms: 0, message };
      void vscode.window.showInformationMessage(message);
      return undefined;
    }
    const given_ = str(o, 'path');
    const target = given_
      ? vscode.Uri.file(given_)
      : await this.panels.saveDialog({
          defaultUri: vscode.Uri.joinPath(model, '..', `${name.replace(/\.onnx$/i, '')}.results.json`),
          filters: { JSON: ['json'], ...(a.codes ? { 'Parquet (the codes of the last Probe Codes, one row per input)': ['parquet'] } : {}) },
          title: `Export the results of ${name}`,
        });
    if (!target) return undefined;
    if (str(o, 'format') === 'parquet' || (str(o, 'format') === undefined && /\.parquet$/i.test(target.path))) return this.exportParquet(model, a, target);
    const iso = (ms: number) => new Date(ms).toISOString();
    const doc = {
      format: 'polytope-lens results 1',
      model: { path: model.fsPath, fileName: name, mtime: a.mtimeMs ? iso(a.mtimeMs) : null },
      exported: iso(Date.now()),
      ...(a.summary ? { summary: a.summary } : {}),
      codes: a.codes ? { at: iso(a.codes.at), inputs: a.codes.inputs, result: a.codes.codes } : null,
      analyses: Object.fromEntries(
        kinds.map((k) => {
          const r = a.results[k]!;
          return [k, { title: ANALYSIS_TITLES[k], command: `polytopeLens.${ANALYSIS_COMMANDS[k]}`, at: iso(r.at), params: r.params, result: r.result }];
        }),
      ),
    };
    const text = JSON.stringify(doc, null, 1);
    try {
      if (target.scheme === 'file') await writeFile(target.fsPath, text);
      else await vscode.workspace.fs.writeFile(target, Buffer.from(text, 'utf8'));
    } catch (e) {
      const message = `Polytope Lens: could not write ${target.fsPath} (${messageOf(e)}).`;
      this.services.lastRun = { command: 'exportResults', status: 'failed', ms: 0, message };
      void vscode.window.showErrorMessage(message);
      return undefined;
    }
    const what = [...(a.codes ? ['codes'] : []), ...kinds].join(', ');
    this.services.log.info(`exportResults: ${what} of ${model.fsPath} to ${target.fsPath} (${text.length} bytes)`);
    this.services.lastRun = { command: 'exportResults', status: 'done', ms: 0 };
    void vscode.window.showInformationMessage(`Polytope Lens: exported ${what} of ${name} to ${vscode.workspace.asRelativePath(target)}.`);
    return target.fsPath;
  }

  /** Export Results as Parquet: the last Probe Codes' inputs through the model again, written as codes.parquet. */
  private async exportParquet(model: vscode.Uri, a: ModelAnalysis, target: vscode.Uri): Promise<string | undefined> {
    const name = model.path.split('/').pop() ?? model.path;
    const fail = (message: string, error = true) => {
      this.services.lastRun = { command: 'exportResults', status: 'failed', ms: 0, message };
      void (error ? vscode.window.showErrorMessage(message) : vscode.window.showInformationMessage(message));
      return undefined;
    };
    if (!a.codes) return fail(`Polytope Lens: no codes to export for ${name} yet; run Probe Codes on it first.`, false);
    if (target.scheme !== 'file') return fail(`Polytope Lens: a Parquet export is written to a local file, and ${target.toString()} is not one.`);
    const inputs = a.codes.inputs;
    const started = Date.now();
    try {
      const r = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Exporting the codes of ${name} as Parquet`, cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          let last = 0;
          try {
            return await this.services.withPool((pool) =>
              runCodes(
                pool,
                { model: this.services.modelRef(model), selection: {}, inputs, out: target.fsPath, outFormat: 'parquet', samples: false },
                {
                  signal: abort.signal,
                  onProgress: (done, total) => {
                    progress.report({ increment: (100 * (done - last)) / total, message: `${done} / ${total}` });
                    last = done;
                  },
                },
              ),
              model,
            );
          } finally {
            sub.dispose();
          }
        },
      );
      this.services.log.info(`exportResults: codes of ${r.n} inputs of ${model.fsPath} to ${target.fsPath} as Parquet in ${Date.now() - started} ms`);
      this.services.lastRun = { command: 'exportResults', status: 'done', ms: Date.now() - started };
      void vscode.window.showInformationMessage(`Polytope Lens: exported the codes of ${r.n} inputs of ${name} to ${vscode.workspace.asRelativePath(target)} (Parquet).`);
      return target.fsPath;
    } catch (e) {
      if (e instanceof Error && e.name === 'CancelledError') {
        this.services.lastRun = { command: 'exportResults', status: 'cancelled', ms: Date.now() - started, message: messageOf(e) };
        void vscode.window.showInformationMessage('Polytope Lens: export cancelled.');
        return undefined;
      }
      if (!isUserError(e)) this.services.log.error(`exportResults: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return fail(`Polytope Lens: could not export the codes of ${name} as Parquet (${messageOf(e)}).`);
    }
  }

  // ---- the common part ----

  /** A failure before the run (reading the model or the data file for the quick picks). */
  private reportPickError(command: string, e: unknown): undefined {
    this.services.lastRun = { command, status: 'failed', ms: 0, message: messageOf(e) };
    // From the view's Run: the sentence goes into the view too, next to the form, and the shown result stays.
    const from = this.rerunPanel;
    if (from && ANALYSIS_COMMANDS[from.kind] === command && (isUserError(e) || e instanceof UserErrorLike)) from.refuseRerun(messageOf(e));
    if (isUserError(e) || e instanceof UserErrorLike) void vscode.window.showErrorMessage(messageOf(e));
    else {
      this.services.log.error(`${command}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      void vscode.window.showErrorMessage(`Polytope Lens: ${command} failed (${messageOf(e)}).`);
    }
    return undefined;
  }

  /** Runs one analysis in the pool under a cancellable progress notification and shows it in its panel. */
  private async run(
    kind: AnalysisKind,
    model: vscode.Uri,
    params: AnalysisParams,
    title: string,
    job: (pool: EnginePool, signal: AbortSignal, onProgress: (done: number, total: number, stage?: string) => void) => Promise<AnalysisData>,
    /** onDone: called with the panel before it shows the result; stages: how many stages the job reports progress
     * for, one after another, each given an equal part of the bar (default 1). */
    { onDone, stages = 1 }: { onDone?: (panel: AnalysisPanel) => void; stages?: number } = {},
  ): Promise<AnalysisData['result'] | undefined> {
    const { log } = this.services;
    const command = ANALYSIS_COMMANDS[kind];
    const panel = this.panels.show(kind, model, params);
    const name = panel.fileName;
    panel.post({ type: 'busy', label: `${title}…`, ...panel.head() });
    const started = Date.now();
    log.info(`${command}: ${model.fsPath} ${JSON.stringify(params)}`);
    try {
      const data = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `${title} (${name})`, cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          // The view's Cancel button stops the same run as the notification's.
          panel.cancelRun = () => abort.abort();
          let last = 0;
          let stage: string | undefined;
          const onProgress = (done: number, total: number, s?: string) => {
            if (s !== stage) {
              stage = s;
              last = 0;
            }
            progress.report({ increment: (100 * (done - last)) / total / stages, message: `${s ? `${s}: ` : ''}${done} / ${total}` });
            last = done;
          };
          try {
            return await this.services.withPool((pool) => job(pool, abort.signal, onProgress), model);
          } finally {
            sub.dispose();
            panel.cancelRun = undefined;
          }
        },
      );
      onDone?.(panel);
      if (data.kind === 'path') this.services.analyses.recordPath(model, data.result);
      this.services.analyses.recordResult(model, data, params);
      panel.result = data.result;
      panel.post({ type: 'result', data, ...panel.head() });
      this.services.lastRun = { command, status: 'done', ms: Date.now() - started };
      log.info(`${command}: done in ${Date.now() - started} ms`);
      return data.result;
    } catch (e) {
      const cancelled = e instanceof Error && e.name === 'CancelledError';
      this.services.lastRun = { command, status: cancelled ? 'cancelled' : 'failed', ms: Date.now() - started, message: messageOf(e) };
      if (cancelled) {
        log.info(`${command}: cancelled`);
        panel.post({ type: 'cancelled', ...panel.head() });
        void vscode.window.showInformationMessage(`Polytope Lens: ${title.toLowerCase()} cancelled.`);
      } else {
        panel.post({ type: 'error', message: messageOf(e), ...panel.head() });
        if (isUserError(e)) {
          log.warn(`${command}: ${messageOf(e)}`);
          void vscode.window.showErrorMessage(messageOf(e));
        } else {
          log.error(`${command} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
          void vscode.window.showErrorMessage(`Polytope Lens: ${title.toLowerCase()} failed (${messageOf(e)}). Details are in the Polytope Lens output.`);
        }
      }
      return undefined;
    }
  }
}

/** A user-facing error raised in the host (same handling as core's UserError). */
class UserErrorLike extends Error {}

/** An integer in [min, max]; `info` says something about the value typed (a sample's class), shown as it is typed. */
async function askInt(prompt: string, dflt: number, min: number, max?: number, info?: (x: number) => string | undefined): Promise<number | undefined> {
  if (max !== undefined && max < min) throw new UserErrorLike('The data file has no samples.');
  const v = await vscode.window.showInputBox({
    title: 'Polytope Lens',
    // VS Code validates what is typed, not the first value: the prompt says what the default is.
    prompt: (max !== undefined ? `${prompt} (${min}–${max})` : prompt) + (info?.(dflt) ? `; ${info(dflt)}` : ''),
    value: String(dflt),
    validateInput: (s) => {
      const x = Number(s.trim());
      if (s.trim() === '' || !Number.isSafeInteger(x)) return 'An integer, please.';
      if (x < min) return `At least ${min}.`;
      if (max !== undefined && x > max) return `At most ${max}.`;
      const note = info?.(x);
      return note ? { message: note, severity: vscode.InputBoxValidationSeverity.Info } : undefined;
    },
  });
  return v === undefined ? undefined : Number(v.trim());
}

/** A positive number; `detail` says where the default comes from. */
async function askPositive(prompt: string, dflt: number, detail: string): Promise<number | undefined> {
  const v = await vscode.window.showInputBox({
    title: 'Polytope Lens',
    prompt: `${prompt}; ${detail}`,
    value: String(dflt),
    validateInput: (s) => {
      const x = Number(s.trim());
      return s.trim() !== '' && Number.isFinite(x) && x > 0 ? undefined : 'A positive number, please.';
    },
  });
  return v === undefined ? undefined : Number(v.trim());
}

async function askYesNo(title: string, yesDetail: string): Promise<boolean | undefined> {
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'Yes', description: yesDetail, value: true },
      { label: 'No', description: 'sampled only', value: false },
    ],
    { title },
  );
  return pick?.value;
}

function parseNums(s: string): number[] | undefined {
  const parts = s.split(',').map((p) => p.trim());
  const xs = parts.map(Number);
  return parts.some((p) => p === '') || xs.some((x) => !Number.isFinite(x)) ? undefined : xs;
}

async function askWindow(dflt: string, twoInputs: boolean): Promise<[number, number] | undefined> {
  const v = await vscode.window.showInputBox({
    title: 'Polytope Lens: window of the slice',
    prompt: twoInputs ? 'LO,HI: the square [LO, HI]² of the two inputs' : 'LO,HI: plane coordinates u, v in [LO, HI] (a at 0,0; b at 1,0; c at 0,1)',
    value: dflt,
    validateInput: (s) => {
      const xs = parseNums(s);
      return xs && xs.length === 2 && xs[0]! < xs[1]! ? undefined : 'Two numbers LO,HI with LO < HI.';
    },
  });
  return v === undefined ? undefined : (parseNums(v) as [number, number]);
}

async function askAlphas(): Promise<number[] | undefined> {
  const v = await vscode.window.showInputBox({
    title: 'Polytope Lens: scale factors',
    prompt: 'Comma-separated alphas (1 is the unscaled model)',
    value: '0,0.5,1,2,4',
    validateInput: (s) => (parseNums(s)?.length ? undefined : 'Comma-separated numbers, for example 0.5,1,2.'),
  });
  return v === undefined ? undefined : parseNums(v);
}
