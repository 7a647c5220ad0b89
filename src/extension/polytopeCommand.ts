/**
 * *Inspect Polytope at Input*: the polytope around one point (src/core/analyses/polytope) in the engine pool, under
 * a cancellable progress notification, shown in the analysis panel of kind 'polytope' (a tab of the one results
 * group, reused: a neighbour opens in the same tab). Reached from
 *  - the palette (or code, with `{ inputs, index, box, facets }`): a data file and a sample index;
 *  - a click in a polytope view on a neighbour (the point just across its facet, which the worker computed and the
 *    host keeps per panel: the page sends only the neighbour's index), or on "Find every facet";
 *  - a click on a step of a path view (the point t = step / steps of the segment between its two samples);
 *  - a click on a region map's "Inspect the polytope here" (the clicked point of its plane).
 * Bad input is one sentence before any work: a model with a smooth or non-affine layer, or too large for its affine
 * forms (checkInspectable, asked of the worker), an index out of range, a box that excludes the point.
 * By default facets are found by rays only (PolytopeOptions.facets = 'rays': constraints, inradius, nearest boundary
 * and neighbours; seconds on mnist-8 where the full list takes minutes); the view says so and offers the full list.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { isUserError, messageOf } from '../core/errors';
import { readNpyHeader, sampleCount } from '../core/inputs';
import { layerOrigin, type PolytopeResult } from '../shared/results';
import type { AnalysisData, AnalysisParams, AnalysisToHost, PolytopeOrigin } from '../shared/webview-protocol';
import { loadSamples, sampleShapeOf } from '../worker/jobs';
import { trustedDataUri, type AnalysisPanel, type AnalysisPanels } from './analysisPanel';
import { readConfig } from './config';
import { inputsProblem } from './dataFiles';
import { pickModel, pickNpy } from './pickers';
import type { Services } from './services';
import { elementCount } from '../shared/shape';

/** A problem the user can fix, said in one sentence (shown like core's UserError). */
class InspectError extends Error {}

/** What a polytope panel's clicks need: its point, the points across its facets, where it came from. */
interface ShownPolytope {
  x: Float64Array;
  /** neighbours x dim, row i across the facet of result.neighbours[i]. */
  across: Float64Array;
  dim: number;
  neighbours: { layer: string; unit: number }[];
  /** Layer key -> its name as the views give it (module path first, when the file tells it). */
  layerNames: Map<string, string>;
  origin: PolytopeOrigin;
  /** The first point's description, for neighbours of neighbours. */
  root: string;
  params: AnalysisParams;
}

const STAGES: Record<string, string> = { affine: 'affine forms', rays: 'rays', 'local facets': 'facet LPs', facets: 'facet LPs', neighbours: 'neighbours' };
/** The stages of the facet LPs (growing LPs, then Clarkson's), which a stop request ends early. */
const LP_STAGES = new Set(['local facets', 'facets']);
/** After Cancel in the facet LPs, how long the run has to stop them and answer before it is cancelled outright (a
 * single LP of mnist-8's hardest rows can take a minute; the run checks the stop between LPs). */
const STOP_GRACE_MS = 60_000;

export function registerPolytopeCommand(context: vscode.ExtensionContext, services: Services, panels: AnalysisPanels): void {
  const inspector = new PolytopeInspector(services, panels);
  panels.inspect = (from, msg) => inspector.onClick(from, msg);
  context.subscriptions.push(vscode.commands.registerCommand('polytopeLens.inspectPolytope', (uri?: unknown, opts?: unknown) => inspector.command(uri, opts)));
}

class PolytopeInspector {
  private readonly shown = new WeakMap<AnalysisPanel, ShownPolytope>();

  constructor(
    private readonly services: Services,
    private readonly panels: AnalysisPanels,
  ) {}

  /** The palette / code entry: model, data file, index, box; each checked before the next question. */
  async command(uri: unknown, opts: unknown): Promise<PolytopeResult | undefined> {
    const o = (typeof opts === 'object' && opts !== null && !Array.isArray(opts) ? opts : {}) as Record<string, unknown>;
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Polytope Lens runs models only in a trusted workspace.');
      return undefined;
    }
    const model = uri instanceof vscode.Uri ? uri : await pickModel(this.services);
    if (!model) return undefined;
    try {
      const sampleShape = await this.checkModel(model);
      const fit = { sampleShape };
      const inputs = typeof o.inputs === 'string' ? o.inputs : await pickNpy(model, 'Inspect the polytope of an input of which data file?', fit);
      if (!inputs) return undefined;
      const header = readNpyHeader(inputs);
      const problem = inputsProblem(header, basename(inputs), sampleShape);
      if (problem) throw new InspectError(problem);
      const n = sampleCount(header.shape, sampleShape, basename(inputs));
      let index = typeof o.index === 'number' ? o.index : undefined;
      if (index === undefined) {
        const v = await vscode.window.showInputBox({
          title: 'Polytope Lens',
          prompt: `Sample index (0–${n - 1})`,
          value: '0',
          validateInput: (s) => (Number.isSafeInteger(Number(s)) && Number(s) >= 0 && Number(s) < n ? undefined : `An integer from 0 to ${n - 1}.`),
        });
        if (v === undefined) return undefined;
        index = Number(v);
      }
      checkIndex(index, n, inputs);
      let box = Array.isArray(o.box) && o.box.length === 2 && o.box.every((b) => typeof b === 'number') ? (o.box as [number, number]) : undefined;
      if (!box && o.box === undefined) {
        // Without a box most regions are unbounded (no inradius): the data's value range is the default.
        const range = valueRange(inputs, sampleShape);
        const v = await vscode.window.showInputBox({
          title: 'Polytope Lens',
          prompt: `Clip the region to a box LO,HI of input values (default: the range of ${basename(inputs)}; empty: no box, and most regions are then unbounded)`,
          value: range ? `${range[0]},${range[1]}` : '',
          validateInput: (s) => (s.trim() === '' || parseBox(s) ? undefined : 'Two numbers LO,HI with LO < HI, or nothing.'),
        });
        if (v === undefined) return undefined;
        box = parseBox(v);
      }
      if (box && !(box[0] < box[1])) throw new InspectError(`The box needs LO < HI, not ${box[0]},${box[1]}.`);
      const facets = o.facets === 'full' ? 'full' : 'rays';
      const x = rowOf(inputs, index, sampleShape);
      const origin: PolytopeOrigin = { from: 'sample', index, text: `input ${index} of ${basename(inputs)}` };
      checkBox(x, box, origin.text);
      return await this.inspect(model, x, origin, origin.text, { inputs, index, box, facets });
    } catch (e) {
      this.report(e);
      return undefined;
    }
  }

  /** A click in a view: the point it names, computed here, then the polytope at it in the polytope tab. */
  async onClick(from: AnalysisPanel, msg: Extract<AnalysisToHost, { type: 'inspect' }>): Promise<void> {
    try {
      const at = await this.pointOf(from, msg);
      if (!at) return;
      await this.inspect(from.model, at.x, at.origin, at.root, at.params);
    } catch (e) {
      this.report(e);
    }
  }

  private async pointOf(from: AnalysisPanel, msg: Extract<AnalysisToHost, { type: 'inspect' }>): Promise<{ x: Float64Array; origin: PolytopeOrigin; root: string; params: AnalysisParams } | undefined> {
    const shown = this.shown.get(from);
    switch (msg.target) {
      case 'neighbour': {
        if (from.kind !== 'polytope') return undefined;
        if (!shown) throw new InspectError('This polytope view was restored after a reload, and the points across its facets are not kept: run Inspect Polytope at Input again to follow its neighbours.');
        const nb = shown.neighbours[msg.neighbour];
        if (!nb) return undefined;
        const x = shown.across.slice(msg.neighbour * shown.dim, (msg.neighbour + 1) * shown.dim);
        const hops = shown.origin.from === 'neighbour' ? shown.origin.hops + 1 : 1;
        const layer = shown.layerNames.get(nb.layer) ?? nb.layer;
        const text = hops === 1 ? `the neighbour of ${shown.root} across ${layer} unit ${nb.unit}` : `${hops} facets away from ${shown.root}, last across ${layer} unit ${nb.unit}`;
        await this.checkModel(from.model);
        checkBox(x, shown.params.box, text);
        return { x, origin: { from: 'neighbour', hops, layer: nb.layer, unit: nb.unit, text }, root: shown.root, params: { box: shown.params.box, facets: shown.params.facets } };
      }
      case 'allFacets': {
        if (from.kind !== 'polytope') return undefined;
        const params: AnalysisParams = { ...(shown?.params ?? from.params), facets: 'full' };
        if (shown) return { x: shown.x, origin: shown.origin, root: shown.root, params };
        // After a reload only a sample can be found again (its file and index are in the restored params).
        const { inputs, index } = from.params;
        const file = inputs ? await trustedDataUri(inputs, this.services.context.extensionUri) : undefined;
        if (!file || index === undefined) throw new InspectError('This polytope view was restored after a reload and its point is not kept: run Inspect Polytope at Input again.');
        const sampleShape = await this.checkModel(from.model);
        const x = rowOf(file.fsPath, index, sampleShape);
        const text = `input ${index} of ${basename(file.fsPath)}`;
        checkBox(x, params.box, text);
        return { x, origin: { from: 'sample', index, text }, root: text, params };
      }
      case 'step': {
        if (from.kind !== 'path') return undefined;
        const { inputs, from: a, to: b, steps } = from.params;
        const file = inputs ? await trustedDataUri(inputs, this.services.context.extensionUri) : undefined;
        if (!file || a === undefined || b === undefined || !steps) throw new InspectError('This path view does not know its endpoints any more (its data file is not in the workspace): run Boundary Density again.');
        if (msg.step > steps) return undefined;
        const sampleShape = await this.checkModel(from.model);
        const xa = rowOf(file.fsPath, a, sampleShape);
        const xb = rowOf(file.fsPath, b, sampleShape);
        const t = msg.step / steps;
        const x = xa.map((v, i) => v + t * (xb[i]! - v));
        const text = `step ${msg.step} of ${steps} on the path ${a} → ${b} of ${basename(file.fsPath)} (t = ${Number(t.toPrecision(4))})`;
        // A point between two samples lies in the data's value range: the region is clipped to it (else it is
        // mostly unbounded).
        return { x, origin: { from: 'path', a, b, step: msg.step, steps, text }, root: text, params: { box: valueRange(file.fsPath, sampleShape), facets: 'rays' } };
      }
      case 'point': {
        if (from.kind !== 'slice') return undefined;
        const sampleShape = await this.checkModel(from.model);
        const { x } = await from.pointOnPlane(msg.u, msg.v);
        const r = (v: number) => Number(v.toPrecision(4));
        const plane = from.params.plane && from.params.inputs ? ` (the plane of samples ${from.params.plane.join(', ')} of ${basename(from.params.inputs)})` : '';
        const text = `the point (${r(msg.u)}, ${r(msg.v)}) of the region map${plane}`;
        // Clipped to the data's value range when the point lies in it (a plane reaches beyond its three samples).
        const file = from.params.plane && from.params.inputs ? await trustedDataUri(from.params.inputs, this.services.context.extensionUri) : undefined;
        const range = file ? valueRange(file.fsPath, sampleShape) : undefined;
        const box = range && x.every((v) => v >= range[0] && v <= range[1]) ? range : undefined;
        return { x: Float64Array.from(x), origin: { from: 'region', u: msg.u, v: msg.v, text }, root: text, params: { box, facets: 'rays' } };
      }
    }
  }

  /** The model can be inspected (piecewise linear throughout), else one sentence; its per-sample input shape. */
  private async checkModel(model: vscode.Uri): Promise<number[]> {
    const ref = this.services.modelRef(model);
    const [summary, problem] = await this.services.withPool((pool) => Promise.all([pool.summary(ref), pool.submit((api) => api.polytopeProblem(ref))]), model);
    if (problem) throw new InspectError(problem.endsWith('.') ? problem : `${problem}.`);
    return sampleShapeOf(summary);
  }

  /** Runs the polytope in the pool under a cancellable progress notification and shows it in the polytope tab. */
  private async inspect(model: vscode.Uri, x: Float64Array, origin: PolytopeOrigin, root: string, params: AnalysisParams): Promise<PolytopeResult | undefined> {
    const { log } = this.services;
    const panel = this.panels.show('polytope', model, params);
    const title = `Polytope of ${origin.text}`;
    panel.post({ type: 'busy', label: `${title}…`, ...panel.head() });
    const started = Date.now();
    let stopped = false;
    // Only the full list can run long (its LPs); the setting bounds it, and a stopped list is shown as partial.
    const limit = readConfig().facetTimeLimit;
    const maxSeconds = params.facets === 'full' && limit > 0 ? limit : undefined;
    log.info(`inspectPolytope: ${model.fsPath} ${origin.text} ${JSON.stringify(params)}${maxSeconds ? ` (facet LPs stop after ${maxSeconds} s)` : ''}`);
    try {
      const { result, across } = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `${title} (${panel.fileName})`, cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          let stage = '';
          let stopLps: (() => void) | undefined;
          let grace: NodeJS.Timeout | undefined;
          // Cancel during the facet LPs keeps what they found: the run is asked to stop them, as at the time limit,
          // and the partial list is shown. Before the LPs, or when the run does not answer in time, Cancel cancels.
          const sub = token.onCancellationRequested(() => {
            if (!stopLps || !LP_STAGES.has(stage)) return abort.abort();
            stopLps();
            stopped = true;
            progress.report({ message: 'stopping the facet LPs…' });
            panel.post({ type: 'busy', label: `${title}: stopping the facet LPs; the facets found so far will be shown…`, ...panel.head() });
            grace = setTimeout(() => abort.abort(), STOP_GRACE_MS);
          });
          try {
            return await this.services.withPool((pool) =>
              pool.submit(
                (api, progressTask) => {
                  stopLps = () => void api.stopPolytope(progressTask).catch(() => abort.abort());
                  return api.polytopeAcross(this.services.modelRef(model), { x, index: origin.from === 'sample' ? origin.index : -1, box: params.box, facets: params.facets ?? 'rays', maxSeconds, progressTask });
                },
                abort.signal,
                {
                  onProgress: (done, total, s) => {
                    stage = s ?? '';
                    // Past the LPs the stop was honoured; the neighbours of the facets found still come.
                    if (stage === 'neighbours') clearTimeout(grace);
                    progress.report({ message: `${s ? `${STAGES[s] ?? s}: ` : ''}${done} / ${total}` });
                  },
                },
              ),
              model,
            );
          } finally {
            clearTimeout(grace);
            sub.dispose();
          }
        },
      );
      const data: AnalysisData = { kind: 'polytope', result, origin };
      const layerNames = new Map(result.layers.map((l) => [l.key, layerOrigin(l) ? `${layerOrigin(l)} (${l.key})` : l.key]));
      this.shown.set(panel, { x, across, dim: result.dim, neighbours: result.neighbours.map((n) => ({ layer: n.layer, unit: n.unit })), layerNames, origin, root, params });
      this.services.analyses.recordResult(model, data, params);
      panel.lastPolytope = { from: origin.from, text: origin.text, codeHex: result.code_hex, pred: result.pred, facets: result.facets.length, facetsComplete: result.facets_complete, neighbours: result.neighbours.length, inradius: result.inradius };
      panel.post({ type: 'result', data, ...panel.head() });
      this.services.lastRun = { command: 'inspectPolytope', status: 'done', ms: Date.now() - started };
      log.info(`inspectPolytope: done in ${Date.now() - started} ms (${result.facets.length} facets${result.facets_complete ? '' : ', partial'}${stopped ? ', LPs stopped by Cancel' : ''})`);
      if (stopped && !result.facets_complete) void vscode.window.showInformationMessage(`Polytope Lens: facet LPs stopped; the view shows the ${result.facets.length} facets found so far (${result.method.unresolved} constraints untested).`);
      return result;
    } catch (e) {
      const cancelled = e instanceof Error && e.name === 'CancelledError';
      this.services.lastRun = { command: 'inspectPolytope', status: cancelled ? 'cancelled' : 'failed', ms: Date.now() - started, message: messageOf(e) };
      if (cancelled) {
        panel.post({ type: 'cancelled', ...panel.head() });
        void vscode.window.showInformationMessage('Polytope Lens: polytope inspection cancelled.');
      } else {
        panel.post({ type: 'error', message: messageOf(e), ...panel.head() });
        this.notify(e);
      }
      return undefined;
    }
  }

  /** A failure before the run: recorded and said in a notification (the view that was clicked stays as it is). */
  private report(e: unknown): void {
    this.services.lastRun = { command: 'inspectPolytope', status: 'failed', ms: 0, message: messageOf(e) };
    this.notify(e);
  }

  private notify(e: unknown): void {
    if (e instanceof InspectError || isUserError(e)) {
      this.services.log.warn(`inspectPolytope: ${messageOf(e)}`);
      void vscode.window.showErrorMessage(messageOf(e));
    } else {
      this.services.log.error(`inspectPolytope: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      void vscode.window.showErrorMessage(`Polytope Lens: polytope inspection failed (${messageOf(e)}). Details are in the Polytope Lens output.`);
    }
  }
}

function parseBox(s: string): [number, number] | undefined {
  const xs = s.split(',').map((p) => Number(p.trim()));
  return s.trim() && xs.length === 2 && xs.every(Number.isFinite) && xs[0]! < xs[1]! ? [xs[0]!, xs[1]!] : undefined;
}

/** Refuses an index that is not one of the data file's `n` samples, in one sentence. */
function checkIndex(index: number, n: number, path: string): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= n) throw new InspectError(`Sample index ${index} is out of range: ${basename(path)} has ${n} samples (0 to ${n - 1}).`);
}

/** Sample `index` of a data file as float64 (the index was checked against the file). */
function rowOf(path: string, index: number, sampleShape: number[]): Float64Array {
  const s = loadSamples({ kind: 'file', path }, sampleShape);
  checkIndex(index, s.n, path);
  const size = elementCount(sampleShape);
  return Float64Array.from(s.data.subarray(index * size, (index + 1) * size));
}

/** The smallest and largest value of a data file, as a box (undefined when they are equal). */
function valueRange(path: string, sampleShape: number[]): [number, number] | undefined {
  const { data } = loadSamples({ kind: 'file', path }, sampleShape);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  return lo < hi ? [lo, hi] : undefined;
}

/** A box must contain the point: the region is clipped to it. */
function checkBox(x: Float64Array, box: [number, number] | undefined, what: string): void {
  if (!box) return;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of x) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  if (lo < box[0] || hi > box[1]) {
    const r = (v: number) => Number(v.toPrecision(4));
    throw new InspectError(`The box [${box[0]}, ${box[1]}] does not contain ${what}: its values range from ${r(lo)} to ${r(hi)}; give a box that contains them, or none.`);
  }
}
