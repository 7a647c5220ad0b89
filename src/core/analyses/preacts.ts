/**
 * Float pre-activations of chosen layers, for the exact analyses (1D crossings, 2D regions, local complexity).
 *
 * API (stable; the slice / exact-2D analysis imports it):
 *
 *   import { PreactRunner } from '../analyses/preacts';
 *   const runner = await PreactRunner.create(lens, layers, { precision: 'float64' }); // layers: LensLayer[]
 *   runner.precision        // 'float64' | 'float32': what was actually used (float64 falls back to float32
 *                           //   when onnxruntime cannot load the double copy of the model; runner.note says why)
 *   runner.sizes[l]         // elements of layer l's pre-activation per sample (prod(layer.shape))
 *   runner.outputSize       // elements of the first model output per sample
 *   runner.bounds[l]        // for Clip-like ('between') layers: {lo, hi} thresholds per element (Float64Array of
 *                           //   sizes[l], broadcast from scalars); undefined for other layers
 *   const r = await runner.run(data, n);   // data: Float64Array | Float32Array, n x lens.sampleSize
 *   r.preacts[l]            // Float64Array, n x sizes[l], C order per sample (the LayerPlan.preact tensor)
 *   r.outputs               // Float64Array, n x outputSize (the model's first output)
 *   r.precision             // as runner.precision
 *   const v = await runner.runViews(data, n);  // the same values without copying or widening: one onnxruntime
 *                           //   call (n at most the fixed batch, when there is one); v.preacts[l] is a view of
 *                           //   n x sizes[l] float32 or float64 values (for hot loops: exact 1-D crossings)
 *   await runner.dispose();
 *
 * The graph edit is lossless: the model's nodes stay as they are, the pre-activation tensors become extra graph
 * outputs. In float64 mode the model is first copied with every float tensor turned into double: initializers,
 * Constant values, Cast targets, graph inputs, outputs and value_info. Batches follow the model's batch axis
 * (fixed-batch models run in chunks of the fixed size, zero-padded).
 */
import type { Lens, LensLayer } from '../lens';
import { constFloats } from '../onnx/graph';
import { DataType, onnx, type ModelProto, type TensorProto } from '../onnx/model';
import { tensorBytes } from '../onnx/weights';
import { createSession, ort, runSession } from '../ort';
import type { Bound } from '../layers';
import { elementCount } from '../../shared/shape';

export type Precision = 'float64' | 'float32';

export interface PreactOptions {
  precision?: Precision;
  threads?: number;
}

export interface PreactBatch {
  preacts: Float64Array[];
  outputs: Float64Array;
  precision: Precision;
}

export class PreactRunner {
  readonly sizes: number[];
  private constructor(
    readonly lens: Lens,
    readonly layers: LensLayer[],
    private readonly session: ort.InferenceSession,
    readonly precision: Precision,
    /** Why float64 was not used, when it was asked for and refused. */
    readonly note: string | undefined,
    private readonly fetchPre: string[],
    private readonly boundFetch: Map<string, string>,
    readonly bounds: ({ lo: Float64Array; hi: Float64Array } | undefined)[],
    readonly outputSize: number,
  ) {
    this.sizes = layers.map((l) => elementCount(l.shape));
  }

  static async create(lens: Lens, layers: LensLayer[], opts: PreactOptions = {}): Promise<PreactRunner> {
    const want = opts.precision ?? 'float64';
    const { proto: edited, boundTensors } = exposePreacts(lens, layers);
    let session: ort.InferenceSession | undefined;
    let precision: Precision = 'float32';
    let note: string | undefined;
    if (want === 'float64') {
      try {
        session = await createSession(toFloat64(edited), lens.model.name, { threads: opts.threads });
        precision = 'float64';
        // Loading is not enough: some kernels are only checked at run time.
        await probeRun(session, lens, 'float64');
      } catch (e) {
        if (session) await session.release().catch(() => undefined);
        session = undefined;
        note = float64Note(e);
        precision = 'float32';
      }
    }
    session ??= await createSession(edited, lens.model.name, { threads: opts.threads });
    const fetchPre = layers.map((l) => l.plan.preact);
    const outName = lens.model.outputs[0]!.name;
    // Bounds of 'between' layers: constants read from the graph, computed tensors fetched at run time.
    const boundFetch = new Map<string, string>();
    for (const t of boundTensors) boundFetch.set(t, t);
    const runner = new PreactRunner(lens, layers, session, precision, note, fetchPre, boundFetch, [], 0);
    const probe = await runner.rawRun(new Float64Array(lens.sampleSize * (lens.fixedBatch ?? 1)), lens.fixedBatch ?? 1);
    const outputSize = (probe.result[outName]!.data as ArrayLike<number>).length / probe.rows;
    const bounds = layers.map((l, i) => {
      const rule = l.plan.rule;
      if (rule.kind !== 'between') return undefined;
      const size = runner.sizes[i]!;
      const read = (b: Bound): Float64Array => {
        let v: ArrayLike<number> | undefined;
        if ('value' in b) v = [b.value];
        else v = constFloats(lens.graph, b.tensor) ?? (probe.result[b.tensor]!.data as ArrayLike<number>);
        const out = new Float64Array(size);
        for (let k = 0; k < size; k++) out[k] = Number(v.length === 1 ? v[0] : v[k % v.length]);
        return out;
      };
      return { lo: read(rule.lo), hi: read(rule.hi) };
    });
    return new PreactRunner(lens, layers, session, precision, note, fetchPre, boundFetch, bounds, outputSize);
  }

  private async rawRun(data: Float64Array | Float32Array, n: number): Promise<{ result: Record<string, ort.Tensor>; rows: number }> {
    // Only for the probe: one chunk.
    const lens = this.lens;
    const rows = lens.fixedBatch ?? n;
    const input = lens.model.inputs[0]!;
    const feed = this.precision === 'float64' ? Float64Array.from(data) : Float32Array.from(data);
    const tensor = new ort.Tensor(this.precision, feed, [rows, ...lens.sampleShape]);
    const fetches = [...new Set([lens.model.outputs[0]!.name, ...this.fetchPre, ...this.boundFetch.keys()])];
    return { result: await runSession(this.session, { [input.name]: tensor }, fetches, lens.model.name), rows };
  }

  /** Pre-activations and first output of n samples (n x lens.sampleSize values, any float array). */
  async run(data: Float64Array | Float32Array, n: number): Promise<PreactBatch> {
    const lens = this.lens;
    const size = lens.sampleSize;
    if (data.length !== n * size) throw new Error(`PreactRunner.run: expected ${n * size} values, got ${data.length}`);
    const preacts = this.sizes.map((s) => new Float64Array(n * s));
    const outputs = new Float64Array(n * this.outputSize);
    const input = lens.model.inputs[0]!;
    const outName = lens.model.outputs[0]!.name;
    const fetches = [...new Set([outName, ...this.fetchPre])];
    const chunk = lens.fixedBatch ?? Math.max(1, Math.min(n, Math.floor(2e7 / Math.max(1, size + this.sizes.reduce((a, b) => a + b, 0)))));
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const rows = lens.fixedBatch ?? m;
      const feed = this.precision === 'float64' ? new Float64Array(rows * size) : new Float32Array(rows * size);
      feed.set(data.subarray(start * size, (start + m) * size));
      const tensor = new ort.Tensor(this.precision, feed, [rows, ...lens.sampleShape]);
      const result = await runSession(this.session, { [input.name]: tensor }, fetches, lens.model.name);
      this.fetchPre.forEach((name, l) => {
        const s = this.sizes[l]!;
        const src = result[name]!.data as Float32Array | Float64Array;
        preacts[l]!.set(src.subarray(0, m * s), start * s);
      });
      const y = result[outName]!.data as Float32Array | Float64Array;
      outputs.set(y.subarray(0, m * this.outputSize), start * this.outputSize);
    }
    return { preacts, outputs, precision: this.precision };
  }

  /**
   * Pre-activations of n samples in one onnxruntime call, as views of its output buffers (no copy, no widening).
   * run() copies into float64, which costs as much as the forward pass itself for small convolutional models.
   */
  async runViews(data: Float64Array | Float32Array, n: number, from = 0): Promise<{ preacts: (Float32Array | Float64Array | undefined)[] }> {
    const lens = this.lens;
    const size = lens.sampleSize;
    if (data.length !== n * size) throw new Error(`PreactRunner.runViews: expected ${n * size} values, got ${data.length}`);
    if (lens.fixedBatch !== undefined && n > lens.fixedBatch) throw new Error(`PreactRunner.runViews: ${n} samples do not fit the fixed batch of ${lens.fixedBatch}`);
    const rows = lens.fixedBatch ?? n;
    const feed = this.precision === 'float64' ? new Float64Array(rows * size) : new Float32Array(rows * size);
    feed.set(data);
    const tensor = new ort.Tensor(this.precision, feed, [rows, ...lens.sampleShape]);
    // Only layers from `from` on are fetched (onnxruntime copies every fetched output out of its arena).
    const result = await runSession(this.session, { [lens.model.inputs[0]!.name]: tensor }, [...new Set(this.fetchPre.slice(from))], lens.model.name);
    return { preacts: this.fetchPre.map((name, l) => (l < from ? undefined : (result[name]!.data as Float32Array | Float64Array).subarray(0, n * this.sizes[l]!))) };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Why the double copy of the model was refused, in one clause. onnxruntime-node's CPU provider (1.30, tried on
 * one-node models) has no double kernel for Conv, ConvTranspose, AveragePool, GlobalAveragePool, Erf, LeakyRelu,
 * PRelu, HardSigmoid and HardSwish (expanded to HardSigmoid); Gemm, MatMul, Relu, Clip, MaxPool, Sigmoid, Tanh,
 * Abs, Max, BatchNormalization and Softmax have one. It names the first node without one that it meets.
 */
export function float64Note(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const m = /Could not find an implementation for (\w+)\((\d+)\) node with name '([^']*)'/.exec(text);
  if (m) return `float64 unavailable: onnxruntime's CPU provider has no float64 (double) kernel for ${m[1]} (node '${m[3] || '(unnamed)'}', the first such node it met); float32 used`;
  return `float64 unavailable (${text.split('\n')[0]}); float32 used`;
}

async function probeRun(session: ort.InferenceSession, lens: Lens, precision: Precision): Promise<void> {
  const rows = lens.fixedBatch ?? 1;
  const input = lens.model.inputs[0]!;
  const data = precision === 'float64' ? new Float64Array(rows * lens.sampleSize) : new Float32Array(rows * lens.sampleSize);
  await session.run({ [input.name]: new ort.Tensor(precision, data, [rows, ...lens.sampleShape]) });
}

/** The model with each layer's pre-activation (and computed Clip bounds) added as graph outputs. */
function exposePreacts(lens: Lens, layers: LensLayer[]): { proto: ModelProto; boundTensors: string[] } {
  const proto = lens.model.proto;
  const g = proto.graph!;
  const existing = new Set((g.output ?? []).map((o) => o.name ?? ''));
  const inputs = new Set((g.input ?? []).map((o) => o.name ?? ''));
  const wanted: string[] = [];
  const boundTensors: string[] = [];
  for (const l of layers) {
    wanted.push(l.plan.preact);
    const r = l.plan.rule;
    if (r.kind === 'between') {
      for (const b of [r.lo, r.hi]) if ('tensor' in b && !constFloats(lens.graph, b.tensor)) (wanted.push(b.tensor), boundTensors.push(b.tensor));
    }
  }
  const added: onnx.IValueInfoProto[] = [];
  const nodes = [...(g.node ?? [])];
  for (const t of new Set(wanted)) {
    if (existing.has(t)) continue;
    if (inputs.has(t)) {
      // A graph input cannot also be a graph output name: copy it through Identity under the same fetch name
      // is impossible, so expose it as-is (onnxruntime accepts fetching an input by name).
      continue;
    }
    added.push(onnx.ValueInfoProto.create({ name: t, type: { tensorType: { elemType: DataType.FLOAT } } }));
  }
  const graph = onnx.GraphProto.create({ ...g, node: nodes, output: [...(g.output ?? []), ...added] });
  return { proto: onnx.ModelProto.create({ ...proto, graph }), boundTensors };
}

/** A copy of the model computing in double: every FLOAT tensor type, constant and Cast target becomes DOUBLE. */
export function toFloat64(proto: ModelProto): ModelProto {
  const g = proto.graph!;
  const vi = (v: onnx.IValueInfoProto): onnx.IValueInfoProto => {
    const t = v.type?.tensorType;
    if (!t || t.elemType !== DataType.FLOAT) return v;
    return onnx.ValueInfoProto.create({ ...v, type: onnx.TypeProto.create({ ...v.type, tensorType: onnx.TypeProto.Tensor.create({ ...t, elemType: DataType.DOUBLE }) }) });
  };
  const node = (g.node ?? []).map((n) => {
    const attribute = (n.attribute ?? []).map((a) => {
      if (n.opType === 'Cast' && a.name === 'to' && Number(a.i) === DataType.FLOAT) return onnx.AttributeProto.create({ ...a, i: DataType.DOUBLE });
      if (a.t && a.t.dataType === DataType.FLOAT) return onnx.AttributeProto.create({ ...a, t: tensorToDouble(a.t) });
      if (n.opType === 'Constant' && a.name === 'value_float') {
        return onnx.AttributeProto.create({ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: onnx.TensorProto.create({ dataType: DataType.DOUBLE, dims: [], doubleData: [a.f ?? 0] }) });
      }
      if (n.opType === 'Constant' && a.name === 'value_floats') {
        const f = a.floats ?? [];
        return onnx.AttributeProto.create({ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: onnx.TensorProto.create({ dataType: DataType.DOUBLE, dims: [f.length], doubleData: f }) });
      }
      return a;
    });
    return onnx.NodeProto.create({ ...n, attribute });
  });
  const graph = onnx.GraphProto.create({
    ...g,
    node,
    initializer: (g.initializer ?? []).map((t) => (t.dataType === DataType.FLOAT ? tensorToDouble(t) : t)),
    input: (g.input ?? []).map(vi),
    output: (g.output ?? []).map(vi),
    valueInfo: (g.valueInfo ?? []).map(vi),
  });
  return onnx.ModelProto.create({ ...proto, graph });
}

function tensorToDouble(t: TensorProto): TensorProto {
  let values: Float32Array;
  const raw = tensorBytes(t);
  if (raw.length > 0) {
    const copy = new Uint8Array(raw);
    values = new Float32Array(copy.buffer, 0, copy.length / 4);
  } else values = Float32Array.from(t.floatData ?? []);
  const doubles = Float64Array.from(values);
  // In memory again: a weight left in the model file (onnx/weights.ts) has no float64 copy there.
  return onnx.TensorProto.create({ ...t, dataType: DataType.DOUBLE, floatData: [], rawData: new Uint8Array(doubles.buffer), dataLocation: onnx.TensorProto.DataLocation.DEFAULT, externalData: [] });
}
