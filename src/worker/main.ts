/**
 * A worker of the engine pool (a child process by default, or a worker thread; see host-link.ts): exposes the
 * engine through comlink. It caches opened models and their compiled sessions, keyed by path, file time and
 * options, so repeated batches cost one run each.
 */
import { statSync } from 'node:fs';
import * as Comlink from 'comlink';
import { hostEndpoint, workerConfig } from './host-link';
import { CodeExtractor } from '../core/extract';
import { NearTieFinder } from '../core/near-ties';
import { softPath } from '../core/analyses/soft';
import { PlainForward } from '../core/forward';
import { Lens } from '../core/lens';
import { computePath, pathEndpoints } from '../core/analyses/path';
import { shardRange } from '../core/shard';
import { computeLocal } from '../core/analyses/local';
import { checkSampleIndex, loadInputs, readNpyRows } from '../core/inputs';
import type { CodeBatch, EngineApi, LayerSelection, ModelRef, ProgressMessage, TaskInput } from '../shared/worker-protocol';
import { slice } from '../core/analyses/slice';
import { scaleActivations } from '../core/analyses/scale';
import { clusterInputs } from '../core/analyses/cluster';
import { pairDensity } from '../core/analyses/density-study';
import { checkInspectable, comparePolytopes, computePolytope } from '../core/analyses/polytope';
import { computePolytopeWithAcross } from '../core/analyses/polytope-across';
import { UserError } from '../core/errors';
import { GarbageBudget } from '../core/collect';

const config = workerConfig();
const host = hostEndpoint();

/** Reports steps of a task to the host (ProgressMessage), when the host asked for it. */
function progressOf(task: number | undefined): ((done: number, total: number, stage?: string) => void) | undefined {
  if (task === undefined) return undefined;
  return (done, total, stage) => host.postMessage({ polytopeLensProgress: { task, done, total, ...(stage ? { stage } : {}) } } satisfies ProgressMessage);
}

/** Polytope runs in this worker by the progressTask of their request, and those asked to stop their facet LPs. */
const polytopeRuns = new Map<number, { stop: boolean }>();

/** A polytope run's stop flag (polled by its LPs; stopPolytope sets it), registered for the run's duration. */
async function withStop<T>(task: number | undefined, run: (stop?: () => boolean) => Promise<T>): Promise<T> {
  if (task === undefined) return run();
  const flag = { stop: false };
  polytopeRuns.set(task, flag);
  // A terminal's Ctrl-C reaches the whole process group: a worker process leaves it to the CLI, which asks this
  // run to stop its LPs (and kills the worker on a second Ctrl-C).
  const leaveToHost = () => undefined;
  if (process.send) process.on('SIGINT', leaveToHost);
  try {
    return await run(() => flag.stop);
  } finally {
    process.off('SIGINT', leaveToHost);
    polytopeRuns.delete(task);
  }
}

/** Keeps the most recently used entries; sessions hold native memory, so the cache is small. */
class Cache<T extends object> {
  private readonly map = new Map<string, Promise<T>>();
  constructor(private readonly size: number) {}
  get(key: string, make: () => Promise<T>): Promise<T> {
    let v = this.map.get(key);
    if (v) this.map.delete(key);
    else v = make();
    this.map.set(key, v);
    v.catch(() => this.map.delete(key));
    while (this.map.size > this.size) {
      const [oldest, p] = this.map.entries().next().value!;
      this.map.delete(oldest);
      void p.then((x) => ('dispose' in x ? (x as { dispose(): Promise<void> }).dispose() : undefined)).catch(() => undefined);
    }
    return v;
  }
}

const lenses = new Cache<Lens>(4);
const extractors = new Cache<CodeExtractor>(4);
const garbage = new GarbageBudget();
const forwards = new Cache<PlainForward>(2);
const nearTieFinders = new Cache<NearTieFinder>(2);

function modelKey(m: ModelRef): string {
  let mtime = 0;
  try {
    mtime = statSync(m.path).mtimeMs;
  } catch {
    // Lens.open reports the missing file.
  }
  return JSON.stringify([m.path, mtime, m.maxBytes, m.inputShape]);
}

function lens(m: ModelRef): Promise<Lens> {
  return lenses.get(modelKey(m), () => Lens.open(m.path, { maxBytes: m.maxBytes, inputShape: m.inputShape, threads: config.threads }));
}

/** A task's samples: as sent, or read from the .npy file the host named (and checked: npyRowsSource). */
function samples(data: TaskInput, n: number, size: number): Float32Array {
  return data instanceof Float32Array ? data : readNpyRows(data, data.start, n, size);
}

const api: EngineApi = {
  async summary(m, selection) {
    const l = await lens(m);
    return l.summary(l.select(selection));
  },
  async codes(m: ModelRef, selection: LayerSelection, data: TaskInput, n: number): Promise<CodeBatch> {
    const key = modelKey(m) + JSON.stringify(selection);
    const ex = await extractors.get(key, async () => {
      const l = await lens(m);
      return CodeExtractor.create(l, l.select(selection), config.threads);
    });
    const input = samples(data, n, ex.lens.sampleSize);
    const b = await ex.run(input, n);
    // The task's input and onnxruntime's output tensors are garbage once it returns (src/core/collect.ts).
    garbage.add(input.byteLength + b.codes.byteLength);
    return Comlink.transfer(b, [b.codes.buffer, b.preds.buffer, b.active.buffer, b.layerHash.buffer, b.prefixHash.buffer] as ArrayBuffer[]);
  },
  async nearTies(m, selection, data, n, tol) {
    const finder = await nearTieFinders.get(modelKey(m) + JSON.stringify([selection, tol]), async () => {
      const l = await lens(m);
      return NearTieFinder.create(l, l.select(selection), tol, config.threads);
    });
    return finder.find(samples(data, n, finder.lens.sampleSize), n);
  },
  async forward(m, data, n) {
    const l = await lens(m);
    const f = await forwards.get(modelKey(m), async () => PlainForward.create(l, config.threads));
    const y = await f.run(samples(data, n, l.sampleSize), n);
    return Comlink.transfer(y, [y.buffer as ArrayBuffer]);
  },
  async path(m, selection, req) {
    const l = await lens(m);
    let ends;
    if (req.a && req.b) ends = { a: Float64Array.from(req.a), b: Float64Array.from(req.b) };
    else {
      const { n, data } = loadInputs(req.inputs ?? '', l.sampleShape);
      ends = pathEndpoints(data, n, l.sampleSize, req.from, req.to);
    }
    const layers = l.select(selection);
    const r = await computePath(l, layers, ends.a, ends.b, { steps: req.steps, exact: req.exact, precision: req.precision, layer: req.layer, threads: config.threads });
    // path --soft: the probabilistic spline code's distances along the same endpoints.
    if (req.soft) r.soft = await softPath(l, layers, ends.a, ends.b, req.steps, { precision: req.precision, threads: config.threads });
    return r;
  },
  async local(m, selection, req) {
    const l = await lens(m);
    let { n, data } = req.data ? { n: req.data.length / l.sampleSize, data: req.data } : loadInputs(req.inputs ?? '', l.sampleShape);
    if (req.n !== undefined && req.n < n) n = req.n;
    const { start, end } = shardRange(n, req.shard);
    const r = await computeLocal(l, l.select(selection), data.subarray(start * l.sampleSize, end * l.sampleSize), end - start, {
      directions: req.directions,
      radius: req.radius,
      seed: req.seed,
      threads: config.threads,
      first: start,
    });
    return req.shard ? { ...r, shard: { k: req.shard.k, n: req.shard.n, first: start, total: n } } : r;
  },
  async slice(m, selection, req) {
    const l = await lens(m);
    const plane = req.plane ? { a: req.plane.a, b: req.plane.b, c: req.plane.c } : undefined;
    return slice(l, l.select(selection), {
      window: req.window,
      resolution: req.resolution,
      plane,
      planeIndices: req.plane?.indices,
      exact: req.exact ? { polygons: req.polygons, precision: req.precision } : false,
      threads: config.threads,
      onProgress: progressOf(req.progressTask),
    });
  },
  async scale(m, req) {
    const l = await lens(m);
    return scaleActivations(l, req.data, req.n, { layer: req.layer, alphas: req.alphas, threads: config.threads });
  },
  async cluster(m, selection, req) {
    const l = await lens(m);
    const { data, n, progressTask, ...opts } = req;
    return clusterInputs(l, l.select(selection), data, n, { ...opts, threads: config.threads, onProgress: progressOf(progressTask) });
  },
  async densityStudy(m, selection, req) {
    const l = await lens(m);
    const layers = l.select(selection);
    const size = l.sampleSize;
    const row = (i: number) => Float64Array.from(req.rows.subarray(i * size, (i + 1) * size));
    const out = [];
    for (let p = 0; p < req.pairs.length; p += 2) {
      out.push(await pairDensity(l, layers, row(req.pairs[p]!), row(req.pairs[p + 1]!), req.aligned, { steps: req.steps, window: req.window, threads: config.threads }));
    }
    return out;
  },
  async polytope(m, req) {
    const l = await lens(m);
    const { progressTask, inputs, index, x, ...opts } = req;
    let point = x;
    if (!point) {
      const { n, data } = loadInputs(inputs ?? '', l.sampleShape);
      checkSampleIndex('--index', index, n);
      point = data.subarray(index * l.sampleSize, (index + 1) * l.sampleSize);
    }
    const report = progressOf(progressTask);
    return withStop(progressTask, (stop) => computePolytope(l, point, index, { ...opts, stop, threads: config.threads, onProgress: report && ((_s, done, total) => report(done, total)) }));
  },
  async polytopeAcross(m, req) {
    const l = await lens(m);
    const { progressTask, inputs: _inputs, index, x, ...opts } = req;
    if (!x) throw new UserError('polytopeAcross needs the point itself (x)');
    const report = progressOf(progressTask);
    return withStop(progressTask, (stop) => computePolytopeWithAcross(l, x, index, { ...opts, stop, threads: config.threads, onProgress: report && ((stage, done, total) => report(done, total, stage)) }));
  },
  async stopPolytope(task) {
    const run = polytopeRuns.get(task);
    if (run) run.stop = true;
    return run !== undefined;
  },
  async polytopeProblem(m) {
    const l = await lens(m);
    try {
      checkInspectable(l);
      return null;
    } catch (e) {
      if (e instanceof UserError) return e.message;
      throw e;
    }
  },
  async polytopeCompare(m, req) {
    const l = await lens(m);
    const { progressTask, groups, ...opts } = req;
    const report = progressOf(progressTask);
    return comparePolytopes(l, groups, { ...opts, threads: config.threads, onProgress: report && ((_s, done, total) => report(done, total)) });
  },
};

Comlink.expose(api, host);
