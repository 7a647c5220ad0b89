/**
 * Commands of the analyses with a view of their own: Boundary Density Along a Path, Region Map of a 2D Slice,
 * Local Complexity, Scale Activations. Each asks only what it needs (quick picks; a caller such as a test passes
 * options instead), runs in the engine pool under a cancellable progress notification, and shows its result in
 * the analysis panel of that kind and model, beside the code. Cancel shows "cancelled" (never a partial result);
 * a UserError is an error notification and an error state in the view.
 */
import * as vscode from 'vscode';
import { isUserError, messageOf } from '../core/errors';
import { readNpyHeader } from '../core/inputs';
import { loadSamples, sampleShapeOf, type InputSource } from '../worker/jobs';
import type { EnginePool } from '../worker/pool';
import type { ModelSummary } from '../shared/results';
import type { SliceRequest } from '../shared/worker-protocol';
import { ANALYSIS_COMMANDS, type AnalysisData, type AnalysisKind, type AnalysisParams } from '../shared/webview-protocol';
import { planeContext, type AnalysisPanel, type AnalysisPanels, type PlaneContext } from './analysisPanel';
import { pickInputs, pickModel } from './pickers';
import type { Services } from './services';

const EXCLUDE = '{**/node_modules/**,**/.git/**,**/.tools/**,**/out/**}';

type Opts = Record<string, unknown>;

function optsOf(x: unknown): Opts {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Opts) : {};
}
const num = (o: Opts, k: string): number | undefined => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : undefined);
const str = (o: Opts, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
const bool = (o: Opts, k: string): boolean | undefined => (typeof o[k] === 'boolean' ? (o[k] as boolean) : undefined);
const nums = (o: Opts, k: string, len?: number): number[] | undefined => {
  const v = o[k];
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)) && (len === undefined || v.length === len) ? (v as number[]) : undefined;
};

export class AnalysisCommands {
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
    );
  }

  private async model(given: vscode.Uri | undefined): Promise<vscode.Uri | undefined> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Polytope Lens runs models only in a trusted workspace.');
      return undefined;
    }
    return given ?? (await pickModel(this.services));
  }

  private summary(model: vscode.Uri): Promise<ModelSummary> {
    return this.services.withPool((pool) => pool.summary(this.services.modelRef(model)));
  }

  // ---- Boundary density along a path ----

  async path(given: vscode.Uri | undefined, o: Opts): Promise<unknown> {
    const model = await this.model(given);
    if (!model) return undefined;
    try {
      const inputs = str(o, 'inputs') ?? (await pickNpy(model, 'Boundary density: the two endpoints come from which data file?'));
      if (!inputs) return undefined;
      const n = str(o, 'inputs') ? undefined : samplesIn(inputs);
      const from = num(o, 'from') ?? (await askInt('First endpoint: sample index', 0, 0, n === undefined ? undefined : n - 1));
      if (from === undefined) return undefined;
      const to = num(o, 'to') ?? (await askInt('Second endpoint: sample index', n !== undefined && n > 1 ? 1 : 0, 0, n === undefined ? undefined : n - 1));
      if (to === undefined) return undefined;
      const steps = num(o, 'steps') ?? (await askInt('Steps along the path', 100, 1, 100_000));
      if (steps === undefined) return undefined;
      const exact = bool(o, 'exact') ?? (await askYesNo('Also locate the exact crossings (1-D)?', 'exact crossings along the segment, in float64'));
      if (exact === undefined) return undefined;
      const params: AnalysisParams = { inputs, from, to, steps, exact };
      return await this.run('path', model, params, `Boundary density along ${from} → ${to}`, async (pool, signal) => ({
        kind: 'path',
        result: await pool.submit((api) => api.path(this.services.modelRef(model), {}, { inputs, from, to, steps, exact }), signal),
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
      const size = sampleShape.reduce((p, d) => p * d, 1);
      let inputs: string | undefined;
      let plane: number[] | undefined;
      if (size !== 2) {
        inputs = str(o, 'inputs') ?? (await pickNpy(model, `Region map: ${summary.inputs[0]?.name ?? 'the input'} has ${size} values; the plane goes through three samples of which data file?`));
        if (!inputs) return undefined;
        plane = nums(o, 'plane', 3);
        if (!plane) {
          const n = samplesIn(inputs);
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
      const params: AnalysisParams = { inputs, plane, window, resolution, exact };
      let ctx: PlaneContext = { sampleShape };
      return await this.run(
        'slice',
        model,
        params,
        `Region map of ${summary.inputs[0]?.name ?? 'the input'}`,
        async (pool, signal) => {
          const req: SliceRequest = { window, resolution, exact, polygons: true };
          if (inputs && plane) {
            ctx = planeContext(inputs, plane, sampleShape);
            req.plane = { a: ctx.a!.slice(), b: ctx.b!.slice(), c: ctx.c!.slice(), indices: plane };
          }
          return { kind: 'slice', sampleShape, result: await pool.submit((api) => api.slice(this.services.modelRef(model), {}, req), signal) };
        },
        (panel) => (panel.plane = ctx),
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
      const inputs = str(o, 'inputs') ?? (await pickNpy(model, 'Local complexity around which inputs?'));
      if (!inputs) return undefined;
      const n = num(o, 'n') ?? 100;
      const directions = num(o, 'directions') ?? 20;
      const radius = num(o, 'radius') ?? 0.005;
      const seed = num(o, 'seed') ?? 0;
      const params: AnalysisParams = { inputs, n, directions, radius };
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
      const source: InputSource | undefined = given_ ? { kind: 'file', path: given_ } : await pickInputs(model);
      if (!source) return undefined;
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
      const params: AnalysisParams = { inputs: source.kind === 'file' ? source.path : undefined, layer, alphas, n: limit };
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

  // ---- the common part ----

  /** A failure before the run (reading the model or the data file for the quick picks). */
  private reportPickError(command: string, e: unknown): undefined {
    this.services.lastRun = { command, status: 'failed', ms: 0, message: messageOf(e) };
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
    job: (pool: EnginePool, signal: AbortSignal) => Promise<AnalysisData>,
    onDone?: (panel: AnalysisPanel) => void,
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
        async (_progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          try {
            return await this.services.withPool((pool) => job(pool, abort.signal));
          } finally {
            sub.dispose();
          }
        },
      );
      onDone?.(panel);
      if (data.kind === 'path') this.services.analyses.recordPath(model, data.result);
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

function samplesIn(path: string): number {
  return readNpyHeader(path).shape[0] ?? 0;
}

/** A .npy next to the model or in the workspace. */
async function pickNpy(model: vscode.Uri, title: string): Promise<string | undefined> {
  const dir = vscode.Uri.joinPath(model, '..');
  const near: vscode.Uri[] = [];
  try {
    for (const [name, type] of await vscode.workspace.fs.readDirectory(dir)) {
      if (type === vscode.FileType.File && name.toLowerCase().endsWith('.npy')) near.push(vscode.Uri.joinPath(dir, name));
    }
  } catch {
    // An unreadable folder only means no suggestions from it.
  }
  const seen = new Set<string>();
  const files = [...near, ...(await vscode.workspace.findFiles('**/*.npy', EXCLUDE, 200))].filter((u) => !seen.has(u.fsPath) && seen.add(u.fsPath));
  if (files.length === 0) {
    void vscode.window.showErrorMessage('Polytope Lens: no .npy data file next to the model or in the workspace.');
    return undefined;
  }
  const items = files.map((uri) => {
    let detail = '';
    try {
      const h = readNpyHeader(uri.fsPath);
      detail = `${h.dtype} [${h.shape.join(', ')}]`;
    } catch {
      detail = 'not readable as .npy';
    }
    return { label: `$(file) ${uri.path.split('/').pop()}`, description: vscode.workspace.asRelativePath(uri), detail, path: uri.fsPath };
  });
  const pick = await vscode.window.showQuickPick(items, { title, matchOnDescription: true });
  return pick?.path;
}

async function askInt(prompt: string, dflt: number, min: number, max?: number): Promise<number | undefined> {
  if (max !== undefined && max < min) throw new UserErrorLike('The data file has no samples.');
  const v = await vscode.window.showInputBox({
    title: 'Polytope Lens',
    prompt: max !== undefined ? `${prompt} (${min}–${max})` : prompt,
    value: String(dflt),
    validateInput: (s) => {
      const x = Number(s.trim());
      if (s.trim() === '' || !Number.isSafeInteger(x)) return 'An integer, please.';
      if (x < min) return `At least ${min}.`;
      if (max !== undefined && x > max) return `At most ${max}.`;
      return undefined;
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
