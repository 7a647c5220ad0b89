/**
 * Lossless graph edits: the original nodes and outputs stay as they are; new nodes read existing tensors and
 * add new graph outputs. Two edits are made:
 *  - a shape probe (Shape of every tensor the layers need), run once to learn unit counts;
 *  - the code model, which thresholds and packs each layer's bits inside the graph, so that only packed bytes
 *    (1 bit per unit) leave onnxruntime instead of 32-bit floats.
 */
import type { Bound, LayerPlan } from './layers';
import { DataType, onnx, type ModelProto, type NodeProto } from './onnx/model';

const PREFIX = '__pl_';

class GraphEditor {
  readonly nodes: NodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;
  constructor(readonly opset: number) {}

  fresh(tag: string): string {
    return `${PREFIX}${tag}_${this.counter++}`;
  }

  node(op: string, inputs: string[], attrs: onnx.IAttributeProto[] = [], tag = op): string {
    const out = this.fresh(tag);
    this.nodes.push(onnx.NodeProto.create({ opType: op, input: inputs, output: [out], name: out, attribute: attrs }));
    return out;
  }

  floats(values: number[], dims: number[]): string {
    const name = this.fresh('f');
    this.initializers.push(onnx.TensorProto.create({ name, dataType: DataType.FLOAT, dims, floatData: values }));
    return name;
  }

  ints(values: number[]): string {
    const name = this.fresh('i');
    this.initializers.push(onnx.TensorProto.create({ name, dataType: DataType.INT64, dims: [values.length], int64Data: values }));
    return name;
  }

  output(name: string, elemType: number): void {
    this.outputs.push(onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType } } }));
  }

  reshape(x: string, shape: number[]): string {
    return this.node('Reshape', [x, this.ints(shape)]);
  }

  cast(x: string, to: number): string {
    return this.node('Cast', [x], [intAttr('to', to)]);
  }

  padLast(x: string, pad: number): string {
    // [N, U] -> [N, U + pad] with zeros; Pad's pads became an input in opset 11.
    if (this.opset < 11) {
      return this.node('Pad', [x], [
        onnx.AttributeProto.create({ name: 'pads', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 0, 0, pad] }),
        onnx.AttributeProto.create({ name: 'value', type: onnx.AttributeProto.AttributeType.FLOAT, f: 0 }),
      ]);
    }
    return this.node('Pad', [x, this.ints([0, 0, 0, pad])]);
  }

  /** Sum over axis 2 of a rank-3 tensor, dropping it; ReduceSum's axes became an input in opset 13. */
  reduceSumLast(x: string): string {
    const keep = intAttr('keepdims', 0);
    if (this.opset < 13) {
      return this.node('ReduceSum', [x], [onnx.AttributeProto.create({ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [2] }), keep]);
    }
    return this.node('ReduceSum', [x, this.ints([2])], [keep]);
  }

  bound(b: Bound): string {
    return 'tensor' in b ? b.tensor : this.floats([b.value], []);
  }

  build(proto: ModelProto): ModelProto {
    const g = proto.graph!;
    const graph = onnx.GraphProto.create({
      ...g,
      node: [...(g.node ?? []), ...this.nodes],
      initializer: [...(g.initializer ?? []), ...this.initializers],
      output: [...(g.output ?? []), ...this.outputs],
    });
    return onnx.ModelProto.create({ ...proto, graph });
  }
}

function intAttr(name: string, i: number): onnx.IAttributeProto {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i });
}

/** Adds Shape outputs for the tensors the layers need. Returns the model and, per tensor, its Shape output. */
export function shapeProbe(proto: ModelProto, opset: number, tensors: string[]): { proto: ModelProto; outputs: Map<string, string> } {
  const ed = new GraphEditor(opset);
  const outputs = new Map<string, string>();
  for (const t of new Set(tensors)) {
    const s = ed.node('Shape', [t], [], 'shape');
    ed.output(s, DataType.INT64);
    outputs.set(t, s);
  }
  return { proto: ed.build(proto), outputs };
}

/** A layer whose unit count is known. */
export interface SizedLayer {
  plan: LayerPlan;
  /** Elements of the rule's source tensor per sample (for 'between': units / 2). */
  elements: number;
  units: number;
}

export type LayerOutput =
  | { kind: 'packed'; name: string; rowBytes: number }
  | { kind: 'indices'; name: string };

/**
 * The code model. Per layer: packed bits as uint8 [N, ceil(units/8)], MSB first, or MaxPool's Indices as int64.
 * Packing is Greater -> Cast(float) -> Reshape [N, U/8, 8] -> MatMul by (128, 64, ..., 1) -> Cast(uint8): exact,
 * since every partial sum is an integer below 256.
 */
export function codeModel(proto: ModelProto, opset: number, layers: SizedLayer[]): { proto: ModelProto; outputs: LayerOutput[] } {
  const ed = new GraphEditor(opset);
  let weights: string | undefined;
  const packWeights = () => (weights ??= ed.floats(blockPowers(), [64, 8]));
  let zero: string | undefined;
  const originalNodes = proto.graph?.node ?? [];
  const replaced = new Map<NodeProto, NodeProto>();
  const outputs: LayerOutput[] = layers.map(({ plan, elements, units }) => {
    const rule = plan.rule;
    if (rule.kind === 'argmax') {
      const existing = plan.node.output?.[1];
      if (existing) {
        ed.output(existing, DataType.INT64);
        return { kind: 'indices', name: existing };
      }
      const name = ed.fresh('indices');
      replaced.set(plan.node, onnx.NodeProto.create({ ...plan.node, output: [plan.node.output![0]!, name] }));
      ed.output(name, DataType.INT64);
      return { kind: 'indices', name };
    }
    let bits: string;
    if (rule.kind === 'positive') {
      zero ??= ed.floats([0], []);
      bits = ed.cast(ed.node('Greater', [rule.source, zero]), DataType.FLOAT);
    } else {
      const above = (b: Bound) => ed.reshape(ed.cast(ed.node('Greater', [rule.source, ed.bound(b)]), DataType.FLOAT), [0, elements, 1]);
      bits = ed.node('Concat', [above(rule.lo), above(rule.hi)], [intAttr('axis', 2)]);
    }
    // Groups of 64 bits times a block-diagonal [64, 8] matrix of powers of two give 8 bytes per group: one GEMM
    // with K = 64 is far faster in onnxruntime than K = 8 (or a broadcast Mul and ReduceSum).
    const groups = Math.ceil(units / 64);
    if (units % 64 !== 0) bits = ed.padLast(ed.reshape(bits, [0, units]), groups * 64 - units);
    const bytes = ed.node('MatMul', [ed.reshape(bits, [0, groups, 64]), packWeights()]);
    const packed = ed.cast(ed.reshape(bytes, [0, groups * 8]), DataType.UINT8);
    ed.output(packed, DataType.UINT8);
    const rowBytes = groups * 8;
    return { kind: 'packed', name: packed, rowBytes };
  });
  const withIndices = replaced.size
    ? onnx.ModelProto.create({ ...proto, graph: onnx.GraphProto.create({ ...proto.graph, node: originalNodes.map((n) => replaced.get(n) ?? n) }) })
    : proto;
  return { proto: ed.build(withIndices), outputs };
}

/** [64, 8] matrix: column j holds 128, 64, ..., 1 in rows 8j .. 8j+7 (MSB first), zeros elsewhere. */
function blockPowers(): number[] {
  const w = new Array<number>(64 * 8).fill(0);
  for (let j = 0; j < 8; j++) for (let b = 0; b < 8; b++) w[(8 * j + b) * 8 + j] = 128 >> b;
  return w;
}
