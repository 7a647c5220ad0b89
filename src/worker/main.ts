/**
 * A worker of the engine pool: exposes the engine through comlink over worker_threads. It caches opened models
 * and their compiled sessions, keyed by path, file time and options, so repeated batches cost one run each.
 */
import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import { CodeExtractor } from '../core/extract';
import { PlainForward } from '../core/forward';
import { Lens } from '../core/lens';
import type { CodeBatch, EngineApi, LayerSelection, ModelRef, WorkerConfig } from '../shared/worker-protocol';

const config = workerData as WorkerConfig;

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
const forwards = new Cache<PlainForward>(2);

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

const api: EngineApi = {
  async summary(m, selection) {
    const l = await lens(m);
    return l.summary(l.select(selection));
  },
  async codes(m: ModelRef, selection: LayerSelection, data: Float32Array, n: number): Promise<CodeBatch> {
    const key = modelKey(m) + JSON.stringify(selection);
    const ex = await extractors.get(key, async () => {
      const l = await lens(m);
      return CodeExtractor.create(l, l.select(selection), config.threads);
    });
    const b = await ex.run(data, n);
    return Comlink.transfer(b, [b.codes.buffer, b.preds.buffer, b.active.buffer, b.layerHash.buffer, b.prefixHash.buffer] as ArrayBuffer[]);
  },
  async forward(m, data, n) {
    const f = await forwards.get(modelKey(m), async () => PlainForward.create(await lens(m), config.threads));
    const y = await f.run(data, n);
    return Comlink.transfer(y, [y.buffer as ArrayBuffer]);
  },
};

Comlink.expose(api, nodeEndpoint(parentPort!));
