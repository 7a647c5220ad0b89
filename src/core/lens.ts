/**
 * A model opened for the lens: its graph, its layers with unit counts and shapes, and the summary of
 * DESIGN.md §4. Unit counts come from one forward pass of a shape-probe copy of the model, so every op that
 * onnxruntime can run is sized correctly, whatever shape inference the file carries.
 */
import { UserError } from './errors';
import { indexGraph, type GraphIndex } from './onnx/graph';
import { decodeModel, readModel, type LoadedModel } from './onnx/model';
import type { WeightsOnDisk } from './onnx/weights';
import { shapeProbe, type SizedLayer } from './instrument';
import { freeBatch } from './batch';
import { poolBeginPads, scanLayers, selectLayers, type LayerPlan, type Unsupported } from './layers';
import { createSession, ort, runSession } from './ort';
import { nodeIdentity } from './identity';
import type { LayerInfo, ModelSummary } from '../shared/results';
import { elementCount } from '../shared/shape';

export interface LensLayer extends SizedLayer {
  /** Shape of the pre-activation without the batch axis. */
  shape: number[];
}

export interface OpenOptions {
  maxBytes?: number;
  /** Which weights stay in the model file instead of memory (onnx/weights.ts; default WEIGHTS_ON_DISK). */
  weightsOnDisk?: WeightsOnDisk;
  threads?: number;
  /** Per-sample input shape overriding symbolic dimensions of the model's input. */
  inputShape?: number[];
}

export class Lens {
  private constructor(
    readonly model: LoadedModel,
    readonly graph: GraphIndex,
    readonly layers: LensLayer[],
    readonly unsupported: Unsupported[],
    /** Per-sample input shape (without the batch axis). */
    readonly sampleShape: number[],
    /** The batch dimension when the model must run with it (a fixed batch that could not be freed), else undefined. */
    readonly fixedBatch: number | undefined,
    /** How the batch axis is handled, for the summary. */
    readonly batchNote: string,
  ) {}

  static async open(path: string, opts: OpenOptions = {}): Promise<Lens> {
    return Lens.fromModel(readModel(path, { maxBytes: opts.maxBytes, weightsOnDisk: opts.weightsOnDisk }), opts);
  }

  static async fromBytes(bytes: Uint8Array, name: string, opts: OpenOptions = {}): Promise<Lens> {
    return Lens.fromModel(decodeModel(bytes, name), opts);
  }

  private static async fromModel(model: LoadedModel, opts: OpenOptions): Promise<Lens> {
    const { name } = model;
    if (model.inputs.length !== 1) {
      throw new UserError(`${name} has ${model.inputs.length} inputs (${model.inputs.map((i) => i.name).join(', ')}); Polytope Lens analyses models with one input.`);
    }
    const input = model.inputs[0]!;
    if (model.outputs.length === 0) throw new UserError(`${name} declares no graph outputs; Polytope Lens needs one (its argmax is the prediction).`);
    if (input.dtype !== 'float32') {
      throw new UserError(`${name}: input '${input.name}' is ${input.dtype}; Polytope Lens needs a float32 input (units are defined on a continuous input space).`);
    }
    if (input.shape.length === 0) throw new UserError(`${name}: input '${input.name}' is a scalar; a batch axis is needed.`);
    const batchDim = input.shape[0];
    let fixedBatch = typeof batchDim === 'number' ? batchDim : undefined;
    let sampleShape = input.shape.slice(1);
    if (opts.inputShape) {
      if (opts.inputShape.length !== sampleShape.length || opts.inputShape.some((d, i) => typeof sampleShape[i] === 'number' && sampleShape[i] !== d)) {
        throw new UserError(`${name}: --input-shape ${opts.inputShape.join(',')} does not fit the model's input [${sampleShape.join(', ')}] (without the batch axis).`);
      }
      sampleShape = opts.inputShape;
    }
    const symbolic = sampleShape.filter((d) => typeof d !== 'number');
    if (symbolic.length) {
      throw new UserError(`${name}: input '${input.name}' has dynamic dimensions (${symbolic.join(', ')}); give the per-sample shape with --input-shape (for example 3,224,224).`);
    }
    const shape = sampleShape as number[];
    checkInputSize(name, input.name, fixedBatch, shape);
    let graph = indexGraph(model.proto.graph!);
    let batchNote = fixedBatch === undefined ? 'free' : `fixed at ${fixedBatch} in the file`;
    if (fixedBatch !== undefined) {
      const freed = await tryFreeBatch(model, graph, shape, fixedBatch, opts.threads);
      if ('model' in freed) {
        model = freed.model;
        graph = indexGraph(model.proto.graph!);
        fixedBatch = undefined;
      }
      batchNote += `; ${freed.note}`;
    }
    const scan = scanLayers(graph, model.opset);
    for (const p of scan.layers) p.identity = nodeIdentity(p.node, model.metadata.nodes.get(p.node.output?.[0] ?? ''));
    const layers = await sizeLayers(model, scan.layers, shape, fixedBatch ?? 1, opts.threads);
    return new Lens(model, graph, layers, scan.unsupported, shape, fixedBatch, batchNote);
  }

  get sampleSize(): number {
    return elementCount(this.sampleShape);
  }

  get totalUnits(): number {
    return this.layers.reduce((a, l) => a + l.units, 0);
  }

  /**
   * Splits n samples into the batches the model accepts: one batch when the batch axis is free, chunks of exactly
   * the fixed size otherwise (the last one zero-padded; m counts its real samples).
   */
  *chunks(data: Float32Array, n: number): Generator<{ data: Float32Array; rows: number; m: number; start: number }> {
    const size = this.sampleSize;
    const chunk = this.fixedBatch ?? Math.max(n, 1);
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const rows = this.fixedBatch ?? m;
      let slice = data.subarray(start * size, (start + m) * size);
      if (rows !== m) {
        const padded = new Float32Array(rows * size);
        padded.set(slice);
        slice = padded;
      }
      yield { data: slice, rows, m, start };
    }
  }

  /** Layers chosen by --ops / --layers, in layer order. */
  select(sel: { ops?: string[]; layers?: string[] }): LensLayer[] {
    const chosen = new Set<LayerPlan>(selectLayers(this.layers.map((l) => l.plan), sel));
    return this.layers.filter((l) => chosen.has(l.plan));
  }

  summary(layers: LensLayer[] = this.layers): ModelSummary {
    const m = this.model;
    return {
      model: m.name,
      producer: m.producer,
      opset: m.opset,
      inputs: m.inputs,
      outputs: m.outputs,
      layers: layerInfos(layers),
      total_units: layers.reduce((a, l) => a + l.units, 0),
      unsupported: this.unsupported,
      batch: this.batchNote,
    };
  }
}

/** Largest per-sample input the engine accepts: 2^28 float32 values (1 GiB). */
export const MAX_SAMPLE_VALUES = 2 ** 28;
/** Largest batch dimension fixed in a file: every run computes that many samples, and freeing it runs it twice. */
export const MAX_FIXED_BATCH = 1024;

/** 2^k for powers of two from 2^20 on (the way huge dimensions are usually written), the number otherwise. */
function dimText(d: number): string {
  const k = Math.log2(d);
  return d >= 2 ** 20 && Number.isInteger(k) ? `2^${k}` : String(d);
}

/** Refuses input shapes whose buffers cannot be allocated, before any array or session is made for them. */
function checkInputSize(model: string, input: string, batch: number | undefined, sample: number[]): void {
  for (const d of batch === undefined ? sample : [batch, ...sample]) {
    if (d > 2 ** 31 - 1) throw new UserError(`${model}: dimension ${dimText(d)} of input '${input}' is too large.`);
  }
  const values = elementCount(sample);
  if (values > MAX_SAMPLE_VALUES) {
    throw new UserError(`${model}: input '${input}' has ${values.toExponential(2)} values per sample [${sample.join(', ')}], above the limit of 2^28 (1 GiB of float32).`);
  }
  if (batch !== undefined && batch > MAX_FIXED_BATCH) {
    throw new UserError(`${model}: input '${input}' has its batch dimension fixed at ${dimText(batch)} in the file; Polytope Lens runs fixed batches of at most ${MAX_FIXED_BATCH} (export the model with a dynamic batch axis).`);
  }
  if (batch !== undefined && batch * values > MAX_SAMPLE_VALUES) {
    throw new UserError(`${model}: input '${input}' has a batch dimension fixed at ${dimText(batch)} in the file; ${dimText(batch)} samples of ${values} values are above the limit of 2^28 values (1 GiB of float32) per run.`);
  }
}

export function layerInfos(layers: LensLayer[]): LayerInfo[] {
  let offset = 0;
  return layers.map((l) => {
    const info: LayerInfo = {
      key: l.plan.key,
      op: l.plan.op,
      preact_tensor: l.plan.preact,
      units: l.units,
      offset,
      exact: l.plan.exact,
      shape: l.shape,
    };
    const id = l.plan.identity;
    if (id && id.module !== null) {
      info.module = id.module;
      if (id.module_from) info.module_from = id.module_from;
    }
    if (id?.source) info.source = id.source;
    offset += l.units;
    return info;
  });
}

async function sizeLayers(model: LoadedModel, plans: LayerPlan[], sampleShape: number[], batch: number, threads?: number): Promise<LensLayer[]> {
  if (plans.length === 0) return [];
  const tensors = plans.flatMap((p) => (p.rule.kind === 'argmax' ? [p.preact, p.output] : [p.preact]));
  const probe = shapeProbe(model.proto, model.opset, tensors);
  const session = await createSession(probe.proto, model.name, { threads, once: true });
  try {
    const input = model.inputs[0]!;
    const size = batch * elementCount(sampleShape);
    const feeds = { [input.name]: new ort.Tensor('float32', new Float32Array(size), [batch, ...sampleShape]) };
    const result = await runSession(session, feeds, [...probe.outputs.values()], model.name);
    const dims = (t: string) => Array.from(result[probe.outputs.get(t)!]!.data as BigInt64Array, Number).slice(1);
    return plans.map((plan) => {
      const shape = dims(plan.preact);
      const elements = elementCount(shape);
      if (plan.rule.kind === 'argmax') {
        const out = dims(plan.output);
        const window = elementCount(plan.rule.pool.kernel);
        const outElements = elementCount(out);
        const inSpatial = shape.slice(1);
        return {
          plan,
          shape,
          elements: outElements,
          units: outElements * window,
          pool: { inSpatial, outSpatial: out.slice(1), channels: shape[0]!, beginPads: poolBeginPads(plan.rule.pool, inSpatial) },
        };
      }
      return { plan, shape, elements, units: plan.rule.kind === 'between' ? 2 * elements : elements };
    });
  } finally {
    await session.release();
  }
}

/**
 * Frees a fixed batch dimension when freeBatch finds it safe, then checks it: two samples run one at a time
 * through the original model and together through the copy must give the same outputs.
 */
async function tryFreeBatch(model: LoadedModel, graph: GraphIndex, sampleShape: number[], batch: number, threads?: number): Promise<{ model: LoadedModel; note: string } | { note: string }> {
  const input = model.inputs[0]!;
  const freed = freeBatch(model.proto, graph, input.name, batch);
  if ('reason' in freed) return { note: `runs ${batch} at a time (${freed.reason})` };
  const size = elementCount(sampleShape);
  const k = batch + 1;
  const data = new Float32Array(k * size);
  // deterministic, non-trivial values in [0, 1) (a multiplicative hash: Math.sin of large arguments is slow)
  for (let i = 0; i < data.length; i++) data[i] = (Math.imul(i + 1, 2654435761) >>> 0) / 4294967296;
  const outName = model.outputs[0]!.name;
  try {
    const original = await createSession(model.proto, model.name, { threads, once: true });
    const copy = await createSession(freed.proto, model.name, { threads, once: true });
    const together = (await runSession(copy, { [input.name]: new ort.Tensor('float32', data.subarray(0, k * size), [k, ...sampleShape]) }, [outName], model.name))[outName]!.data as Float32Array;
    const per = together.length / k;
    let worst = 0;
    for (let start = 0; start < k; start += batch) {
      const part = new Float32Array(batch * size);
      part.set(data.subarray(start * size, Math.min(k, start + batch) * size));
      const y = (await runSession(original, { [input.name]: new ort.Tensor('float32', part, [batch, ...sampleShape]) }, [outName], model.name))[outName]!.data as Float32Array;
      for (let i = 0; i < Math.min(batch, k - start) * per; i++) {
        const a = y[i]!;
        const b = together[start * per + i]!;
        worst = Math.max(worst, Math.abs(a - b) / Math.max(1e-6, Math.abs(a)));
      }
    }
    await original.release();
    await copy.release();
    if (!(worst <= 1e-4)) return { note: `runs ${batch} at a time (a batched copy differed by ${worst.toExponential(1)})` };
  } catch {
    return { note: `runs ${batch} at a time (a batched copy did not run)` };
  }
  // inputs/outputs keep describing the file as it is; the note says the batch was freed.
  return { model: { ...model, proto: freed.proto }, note: 'freed for batched runs (checked: same outputs as one sample at a time)' };
}
