/**
 * Freeing a fixed batch dimension (mnist-8 is exported with batch 1): a model that must run one sample per call
 * pays onnxruntime's per-call overhead for every sample. The rewrite is made only where it is safe by
 * construction: every node that touches data derived from the input must be an op that treats samples
 * independently along axis 0 (with attribute checks), and Reshape targets that spell out the batch size get 0
 * ("copy this dimension"). The caller then checks the rewrite empirically (same outputs and codes as one sample
 * at a time) before using it.
 */
import { attrInt, attrInts, type GraphIndex } from './onnx/graph';
import { DataType, num, onnx, type ModelProto, type NodeProto } from './onnx/model';
import { tensorBytes } from './onnx/weights';

/** Ops that act on each sample separately, whatever their attributes. */
const PER_SAMPLE = new Set(
  (
    'Conv ConvTranspose MaxPool AveragePool GlobalAveragePool GlobalMaxPool LpPool BatchNormalization ' +
    'InstanceNormalization LRN Relu LeakyRelu PRelu Clip Abs Sigmoid Tanh Erf Exp Log Sqrt Neg Reciprocal Floor ' +
    'Ceil Round Sign HardSigmoid HardSwish Softplus Softsign Elu Selu Celu Gelu Identity Dropout Cast Add Sub Mul ' +
    'Div Pow Max Min Sum Mean Greater Less Equal Where Not And Or'
  ).split(' '),
);

/** Returns a copy of the model with a symbolic batch dimension, or undefined with the reason it is not safe. */
export function freeBatch(proto: ModelProto, g: GraphIndex, inputName: string, batch: number): { proto: ModelProto } | { reason: string } {
  const reshapes = new Map<NodeProto, string>();
  for (const n of g.order) {
    const inputs = (n.input ?? []).filter(Boolean);
    if (inputs.every((i) => g.constantDerived.has(i))) continue;
    const op = n.opType ?? '';
    if (n.domain && n.domain !== 'ai.onnx') return { reason: `custom op ${op}` };
    // A constant operand with the batch size as its leading dimension would broadcast differently.
    const constLeadingBatch = inputs.some((i) => g.constantDerived.has(i) && (g.constants.get(i)?.dims?.length ?? 0) > 1 && num(g.constants.get(i)!.dims![0]) === batch && batch !== 1);
    if (PER_SAMPLE.has(op)) {
      if (constLeadingBatch) return { reason: `${op} broadcasts a constant over the batch` };
      continue;
    }
    const axis = attrInt(n, 'axis', op === 'Flatten' || op === 'Softmax' || op === 'LogSoftmax' ? 1 : 0);
    switch (op) {
      case 'Gemm':
        if (attrInt(n, 'transA', 0) !== 0 || !inputs.slice(1).every((i) => g.constantDerived.has(i))) return { reason: 'Gemm mixes samples' };
        continue;
      case 'MatMul':
        if (!g.constantDerived.has(inputs[1] ?? '')) return { reason: 'MatMul of two computed tensors' };
        continue;
      case 'Flatten':
      case 'Softmax':
      case 'LogSoftmax':
      case 'Concat':
        if (axis === 0) return { reason: `${op} along the batch axis` };
        if (op === 'Concat' && inputs.some((i) => g.constantDerived.has(i))) return { reason: 'Concat with a constant' };
        continue;
      case 'Slice':
      case 'Squeeze':
      case 'Unsqueeze': {
        const axes = attrInts(n, 'axes') ?? (g.constants.get(inputs[op === 'Slice' ? 3 : 1] ?? '') ? int64Values(g.constants.get(inputs[op === 'Slice' ? 3 : 1]!)!) : undefined);
        if (!axes || axes.includes(0)) return { reason: `${op} on the batch axis (or on unknown axes)` };
        continue;
      }
      case 'Transpose':
        if ((attrInts(n, 'perm') ?? [0])[0] !== 0) return { reason: 'Transpose moves the batch axis' };
        continue;
      case 'Reshape': {
        const target = g.constants.get(inputs[1] ?? '');
        const shape = target ? int64Values(target) : undefined;
        if (!shape || shape.length === 0) return { reason: 'Reshape to a computed shape' };
        if (shape[0] === batch) reshapes.set(n, inputs[1]!);
        else if (shape[0] !== 0 && !(shape[0] === -1 && shape.slice(1).every((d) => d > 0))) return { reason: 'Reshape that moves the batch axis' };
        continue;
      }
      default:
        return { reason: `${op} is not known to treat samples independently` };
    }
  }
  // Build the copy: symbolic batch on the input, and 0 (copy) as the first Reshape target of the rewritten nodes.
  const initializers = (proto.graph?.initializer ?? []).map((t) => t);
  const nodes = (proto.graph?.node ?? []).map((n) => {
    const shapeName = reshapes.get(n);
    if (!shapeName) return n;
    const t = g.constants.get(shapeName)!;
    const values = int64Values(t)!;
    const name = `${shapeName}__pl_free_batch`;
    initializers.push(onnx.TensorProto.create({ name, dataType: DataType.INT64, dims: [values.length], int64Data: [0, ...values.slice(1)] }));
    return onnx.NodeProto.create({ ...n, input: [n.input![0]!, name] });
  });
  const symbolic = (v: onnx.IValueInfoProto) => {
    const dims = v.type?.tensorType?.shape?.dim ?? [];
    if (dims.length === 0) return v;
    return onnx.ValueInfoProto.create({
      ...v,
      type: { tensorType: { elemType: v.type!.tensorType!.elemType, shape: { dim: [{ dimParam: 'N' }, ...dims.slice(1)] } } },
    });
  };
  const graph = onnx.GraphProto.create({
    ...proto.graph,
    node: nodes,
    initializer: initializers,
    input: (proto.graph?.input ?? []).map((v) => (v.name === inputName ? symbolic(v) : v)),
    output: (proto.graph?.output ?? []).map(symbolic),
    // Inferred shapes of intermediate tensors carry the old batch size: drop them and let onnxruntime infer.
    valueInfo: [],
  });
  return { proto: onnx.ModelProto.create({ ...proto, graph }) };
}

function int64Values(t: onnx.ITensorProto): number[] | undefined {
  if (t.dataType !== DataType.INT64) return undefined;
  const raw = tensorBytes(t);
  if (raw.length > 0) {
    const copy = new Uint8Array(raw);
    return Array.from(new BigInt64Array(copy.buffer, 0, copy.length / 8), Number);
  }
  return (t.int64Data ?? []).map(num);
}
