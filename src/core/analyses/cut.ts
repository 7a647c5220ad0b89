/**
 * The network cut after one layer (`path --layer KEY`, `interpolate there, run the rest of the network from that
 * layer`): the tensors that cross the cut, and the rest of the model as a model of its own whose one input is
 * those tensors, flattened and concatenated per sample.
 *
 *   const cut = await cutAt(lens, key, threads);   // UserError naming the layers when the key is unknown
 *   cut.tensors      // what crosses the cut: the layer's output first, then (skip connections) every other tensor
 *                    //   computed before the layer's op and consumed after it, graph input included
 *   cut.rest         // a Lens of the rest of the model; its layers are the layers after the cut, with their keys
 *   const v = await cutValues(lens, cut, data, n); // n x cut.size float32: the tensors' values at n inputs
 *
 * "Before" is a prefix of the graph's topological order ending at the node producing the layer's output, so a
 * parallel branch computed earlier in the file crosses the cut as a tensor of its own. Constants (initializers,
 * Constant nodes and whatever is computed from constants only) never cross: the rest keeps the nodes making them.
 * The rest is one model with one input, so every engine analysis (codes, pre-activations in float64, exact 1-D
 * crossings) runs on it unchanged: inside, the flat input is sliced and reshaped back into the cut tensors.
 */
import { UserError } from '../errors';
import { Lens, type LensLayer } from '../lens';
import { nodeKey } from '../onnx/graph';
import { DataType, encodeModel, onnx, type NodeProto } from '../onnx/model';
import { withWeightsInMemory } from '../onnx/weights';
import { createSession, ort, runSession } from '../ort';
import { elementCount } from '../../shared/shape';

/** Name of the rest model's input. */
export const CUT_INPUT = '__pl_cut';

export interface CutTensor {
  name: string;
  /** Per-sample shape (without the batch axis). */
  shape: number[];
  size: number;
  /** Position of the tensor's values in a cut vector. */
  offset: number;
}

export interface Cut {
  layer: LensLayer;
  tensors: CutTensor[];
  /** Values per sample of the concatenated cut tensors. */
  size: number;
  rest: Lens;
}

export async function cutAt(lens: Lens, key: string, threads?: number): Promise<Cut> {
  const layer = lens.layers.find((l) => l.plan.key === key);
  if (!layer) throw new UserError(`No layer named '${key}'; the layers are ${lens.layers.map((l) => `'${l.plan.key}'`).join(', ')}.`);
  const g = lens.graph;
  const model = lens.model;
  const cutNode = g.producer.get(layer.plan.output)!;
  const pos = g.order.indexOf(cutNode);
  const isConst = (n: NodeProto) => (n.output ?? []).every((o) => !o || g.constantDerived.has(o));
  const before = new Set(g.order.slice(0, pos + 1).filter((n) => !isConst(n)));
  const kept = g.order.filter((n) => !before.has(n));
  // Tensors made before the cut (or the graph input) and read after it, in the order they are made.
  const input = model.inputs[0]!.name;
  const made = [input, ...[...before].flatMap((n) => (n.output ?? []).filter(Boolean) as string[])];
  const read = new Set(kept.flatMap((n) => (n.input ?? []).filter(Boolean) as string[]));
  const outputs = model.outputs.map((o) => o.name);
  if (made.includes(outputs[0]!)) throw new UserError(`The model's output '${outputs[0]}' is computed before the cut at '${key}': there is nothing to run after it.`);
  const crossing = made.filter((t) => read.has(t) && t !== layer.plan.output);
  if (!read.has(layer.plan.output)) throw new UserError(`The output of '${key}' is not read by any later node: there is no rest of the network to run from it.`);
  const names = [layer.plan.output, ...crossing];

  const shapes = await tensorShapes(lens, names, threads);
  let offset = 0;
  const tensors = names.map((name, i) => {
    const shape = shapes[i]!;
    const size = elementCount(shape);
    const t = { name, shape, size, offset };
    offset += size;
    return t;
  });

  const proto = model.proto;
  const graph = proto.graph!;
  const opset = model.opset;
  const pre: onnx.INodeProto[] = [];
  const inits: onnx.ITensorProto[] = [];
  for (const t of tensors) {
    let flat = CUT_INPUT;
    if (tensors.length > 1) {
      flat = `${CUT_INPUT}/${t.name}/flat`;
      pre.push(slice(CUT_INPUT, flat, t.offset, t.offset + t.size, opset, inits));
    }
    const shapeName = `${CUT_INPUT}/${t.name}/shape`;
    // 0 copies the batch dimension from the flat input (Reshape's default allowzero = 0).
    inits.push(onnx.TensorProto.create({ name: shapeName, dataType: DataType.INT64, dims: [t.shape.length + 1], int64Data: [0, ...t.shape] }));
    pre.push(onnx.NodeProto.create({ opType: 'Reshape', name: `${CUT_INPUT}/${t.name}/reshape`, input: [flat, shapeName], output: [t.name] }));
  }
  // Unnamed nodes keep the key they had in the whole model (a key of an unnamed node is its op and file index).
  const named = kept.map((n) => (n.name ? n : onnx.NodeProto.create({ ...n, name: nodeKey(n, g.fileIndex) })));
  const batch = lens.fixedBatch === undefined ? { dimParam: 'batch' } : { dimValue: lens.fixedBatch };
  const cutInput = onnx.ValueInfoProto.create({ name: CUT_INPUT, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [batch, { dimValue: offset }] } } } });
  const crossed = new Set(names);
  // Before IR version 4 every initializer must also be listed as a graph input.
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const oldIr = Number(proto.irVersion ?? 0) < 4;
  const initInputs = [
    ...(graph.input ?? []).filter((i) => initNames.has(i.name ?? '')),
    ...(oldIr ? inits.map((t) => onnx.ValueInfoProto.create({ name: t.name, type: { tensorType: { elemType: DataType.INT64, shape: { dim: t.dims!.map((d) => ({ dimValue: d })) } } } })) : []),
  ];
  const restGraph = onnx.GraphProto.create({
    ...graph,
    node: [...pre, ...named],
    input: [cutInput, ...initInputs],
    initializer: [...(graph.initializer ?? []), ...inits],
    output: (graph.output ?? []).filter((o) => !made.includes(o.name ?? '')),
    // Shapes recorded for tensors that are now computed differently (or not at all) are dropped with them.
    valueInfo: (graph.valueInfo ?? []).filter((v) => !crossed.has(v.name ?? '') && !made.includes(v.name ?? '')),
  });
  const rest = await Lens.fromBytes(encodeModel(withWeightsInMemory(onnx.ModelProto.create({ ...proto, graph: restGraph }))), model.name, { threads });
  return { layer, tensors, size: offset, rest };
}

/** The cut tensors' values at n inputs (n x lens.sampleSize), concatenated per sample in cut order. */
export async function cutValues(lens: Lens, cut: Cut, data: Float32Array, n: number, threads?: number): Promise<Float32Array> {
  const model = lens.model;
  const input = model.inputs[0]!.name;
  const computed = cut.tensors.filter((t) => t.name !== input);
  const session = await createSession(exposed(lens, computed.map((t) => t.name)), model.name, { threads });
  const out = new Float32Array(n * cut.size);
  const size = lens.sampleSize;
  try {
    for (const c of lens.chunks(data, n)) {
      const feeds = { [input]: new ort.Tensor('float32', c.data, [c.rows, ...lens.sampleShape]) };
      const result = computed.length ? await runSession(session, feeds, computed.map((t) => t.name), model.name) : {};
      for (const t of cut.tensors) {
        const src = t.name === input ? c.data : (result[t.name]!.data as Float32Array);
        const per = t.name === input ? size : t.size;
        for (let i = 0; i < c.m; i++) out.set(src.subarray(i * per, i * per + t.size), (c.start + i) * cut.size + t.offset);
      }
    }
  } finally {
    await session.release();
  }
  return out;
}

/** Per-sample shapes of the tensors, from one forward pass of zeros. */
async function tensorShapes(lens: Lens, names: string[], threads?: number): Promise<number[][]> {
  const model = lens.model;
  const input = model.inputs[0]!.name;
  const computed = names.filter((t) => t !== input);
  const session = await createSession(exposed(lens, computed), model.name, { threads });
  try {
    const rows = lens.fixedBatch ?? 1;
    const feeds = { [input]: new ort.Tensor('float32', new Float32Array(rows * lens.sampleSize), [rows, ...lens.sampleShape]) };
    const result = computed.length ? await runSession(session, feeds, computed, model.name) : {};
    return names.map((t) => {
      if (t === input) return lens.sampleShape;
      const r = result[t]!;
      if (r.type !== 'float32') throw new UserError(`'${t}' crosses the cut but holds ${r.type} values; only float tensors can be interpolated.`);
      return r.dims.slice(1).map(Number);
    });
  } finally {
    await session.release();
  }
}

/** The model with the tensors added as graph outputs (typed float; a tensor of another type fails at load). */
function exposed(lens: Lens, names: string[]) {
  const proto = lens.model.proto;
  const g = proto.graph!;
  const existing = new Set((g.output ?? []).map((o) => o.name ?? ''));
  const added = names.filter((t) => !existing.has(t)).map((t) => onnx.ValueInfoProto.create({ name: t, type: { tensorType: { elemType: DataType.FLOAT } } }));
  return onnx.ModelProto.create({ ...proto, graph: onnx.GraphProto.create({ ...g, output: [...(g.output ?? []), ...added] }) });
}

/** Values [from, to) along axis 1, in the Slice form of the model's opset (attributes before opset 10). */
function slice(src: string, dst: string, from: number, to: number, opset: number, inits: onnx.ITensorProto[]): onnx.INodeProto {
  const name = `${dst}/slice`;
  if (opset < 10) {
    const ints = (n: string, v: number[]) => onnx.AttributeProto.create({ name: n, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
    return onnx.NodeProto.create({ opType: 'Slice', name, input: [src], output: [dst], attribute: [ints('starts', [from]), ints('ends', [to]), ints('axes', [1])] });
  }
  const c = (n: string, v: number) => (inits.push(onnx.TensorProto.create({ name: `${dst}/${n}`, dataType: DataType.INT64, dims: [1], int64Data: [v] })), `${dst}/${n}`);
  return onnx.NodeProto.create({ opType: 'Slice', name, input: [src, c('starts', from), c('ends', to), c('axes', 1)], output: [dst] });
}
