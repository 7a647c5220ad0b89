/**
 * Finds the units of a model: every piecewise-linear op (and the smooth activations that get sign codes), in
 * topological order, with the rule that turns a tensor into the layer's bits (DESIGN.md §3).
 *
 * Where a bit can be read from the op's output as well as from its input (relu(x) > 0 exactly when x > 0), the
 * output is used: exposing a Conv's output to a second consumer would stop onnxruntime from fusing Conv+Relu.
 */
import { UserError } from './errors';
import { attrFloat, attrInt, attrInts, attrString, constFloats, isDefaultDomain, nodeKey, type GraphIndex } from './onnx/graph';
import type { NodeProto } from './onnx/model';
import type { NodeIdentity } from './identity';

/** A threshold: a constant, or a tensor of the graph (Clip bounds computed at run time). */
export type Bound = { value: number } | { tensor: string };

export interface PoolSpec {
  kernel: number[];
  strides: number[];
  /** Explicit begin pads, or undefined when auto_pad decides them from the input size. */
  pads?: number[];
  autoPad: 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
  dilations: number[];
  storageOrder: number;
}

export type BitRule =
  /** One bit per element: source > 0. */
  | { kind: 'positive'; source: string }
  /** Two bits per element, unit-major: [source > lo, source > hi]. */
  | { kind: 'between'; source: string; lo: Bound; hi: Bound }
  /** MaxPool: one bit per window element, 1 at the window's first maximum. Read from the Indices output. */
  | { kind: 'argmax'; pool: PoolSpec };

export type LayerOp =
  | 'Relu'
  | 'LeakyRelu'
  | 'PRelu'
  | 'Clip'
  | 'Abs'
  | 'MaxPool'
  | 'HardSigmoid'
  | 'HardSwish'
  | 'Gelu'
  | 'SiLU'
  | 'Tanh';

export interface LayerPlan {
  key: string;
  op: LayerOp;
  node: NodeProto;
  /** The op's input: the pre-activation of its units (the MaxPool input for MaxPool). */
  preact: string;
  /** The op's (first) output. */
  output: string;
  /** False for sign codes of smooth activations. */
  exact: boolean;
  rule: BitRule;
  /** The module and source line the node comes from (set by the Lens from names and metadata). */
  identity?: NodeIdentity;
}

export interface Unsupported {
  node: string;
  op: string;
  reason: string;
}

const SMOOTH = 'a smooth nonlinearity: the map is not piecewise linear here; codes still cover the units around it';
const BILINEAR = 'a product of two computed tensors (bilinear, as in attention): not piecewise linear in the input';

/** Ops that neither add units nor break piecewise linearity. */
const AFFINE = new Set(
  (
    'Conv ConvTranspose Gemm Add Sub Neg BatchNormalization Reshape Flatten Transpose Concat Split Slice Squeeze ' +
    'Unsqueeze Identity Dropout Pad AveragePool GlobalAveragePool ReduceMean ReduceSum Gather GatherElements Shape ' +
    'Constant ConstantOfShape Cast Expand Tile Range Resize Upsample DepthToSpace SpaceToDepth Size Sum Mean ' +
    'Einsum MatMul Mul Div'
  ).split(' '),
);

const PIECEWISE_UNCOUNTED = new Set('Max Min ReduceMax ReduceMin GlobalMaxPool ArgMax ArgMin Floor Ceil Round Sign Where Equal Greater Less Not And Or TopK'.split(' '));

export interface LayerScan {
  layers: LayerPlan[];
  unsupported: Unsupported[];
}

export function scanLayers(g: GraphIndex, opset: number): LayerScan {
  const layers: LayerPlan[] = [];
  const unsupported: Unsupported[] = [];
  const claimed = new Set<NodeProto>(); // nodes that belong to a recognised pattern (GELU, SiLU)

  for (const n of g.order) {
    if (claimed.has(n)) continue;
    const key = nodeKey(n, g.fileIndex);
    const op = n.opType ?? '';
    const x = n.input?.[0] ?? '';
    const y = n.output?.[0] ?? '';
    const add = (layerOp: LayerOp, rule: BitRule, exact = true, preact = x) =>
      layers.push({ key, op: layerOp, node: n, preact, output: y, exact, rule });

    if (!isDefaultDomain(n)) {
      if (n.domain === 'com.microsoft' && (op === 'Gelu' || op === 'FastGelu' || op === 'BiasGelu')) {
        add('Gelu', { kind: 'positive', source: x }, false);
      } else {
        unsupported.push({ node: key, op: `${n.domain}.${op}`, reason: `an op of the custom domain '${n.domain}': the lens cannot see inside it` });
      }
      continue;
    }
    switch (op) {
      case 'Relu':
        add('Relu', { kind: 'positive', source: y });
        break;
      case 'LeakyRelu':
        // For alpha > 0 the output has the input's sign; otherwise read the input.
        add('LeakyRelu', { kind: 'positive', source: attrFloat(n, 'alpha', 0.01) > 0 ? y : x });
        break;
      case 'PRelu': {
        const slope = constFloats(g, n.input?.[1]);
        const positive = slope !== undefined && slope.every((s) => s > 0);
        add('PRelu', { kind: 'positive', source: positive ? y : x });
        break;
      }
      case 'Abs':
        add('Abs', { kind: 'positive', source: x });
        break;
      case 'Clip':
        add('Clip', { kind: 'between', source: x, ...clipBounds(n, opset) });
        break;
      case 'HardSigmoid': {
        const alpha = attrFloat(n, 'alpha', 0.2);
        const beta = attrFloat(n, 'beta', 0.5);
        if (!(alpha > 0)) {
          unsupported.push({ node: key, op, reason: 'HardSigmoid with alpha <= 0 is not supported' });
          break;
        }
        // alpha*x + beta crosses 0 and 1 at these inputs.
        add('HardSigmoid', { kind: 'between', source: x, lo: { value: -beta / alpha }, hi: { value: (1 - beta) / alpha } });
        break;
      }
      case 'HardSwish':
        add('HardSwish', { kind: 'between', source: x, lo: { value: -3 }, hi: { value: 3 } });
        break;
      case 'MaxPool':
        if (opset < 8) {
          unsupported.push({ node: key, op, reason: 'MaxPool before opset 8 has no Indices output; its argmax bits are not computed' });
        } else {
          add('MaxPool', { kind: 'argmax', pool: poolSpec(n) });
        }
        break;
      case 'Gelu':
        add('Gelu', { kind: 'positive', source: x }, false);
        break;
      case 'Tanh':
        add('Tanh', { kind: 'positive', source: x }, false);
        break;
      case 'Erf': {
        const gelu = matchGelu(g, n);
        if (gelu) {
          gelu.nodes.forEach((m) => claimed.add(m));
          add('Gelu', { kind: 'positive', source: gelu.x }, false, gelu.x);
        } else unsupported.push({ node: key, op, reason: SMOOTH });
        break;
      }
      case 'Sigmoid': {
        const mul = (g.consumers.get(y) ?? []).find((m) => m.opType === 'Mul' && m.input?.includes(x) && m.input?.includes(y));
        if (mul) {
          claimed.add(mul);
          add('SiLU', { kind: 'positive', source: x }, false);
        } else unsupported.push({ node: key, op, reason: SMOOTH });
        break;
      }
      default:
        if (PIECEWISE_UNCOUNTED.has(op)) {
          unsupported.push({ node: key, op, reason: 'piecewise linear or piecewise constant, but its pieces are not counted as units' });
        } else if ((op === 'MatMul' || op === 'Mul' || op === 'Einsum') && !hasConstantOperand(g, n)) {
          unsupported.push({ node: key, op, reason: BILINEAR });
        } else if (op === 'Div' && !g.constantDerived.has(n.input?.[1] ?? '')) {
          unsupported.push({ node: key, op, reason: 'division by a computed tensor: not piecewise linear' });
        } else if (!AFFINE.has(op)) {
          unsupported.push({ node: key, op, reason: SMOOTH });
        }
    }
  }
  return { layers, unsupported };
}

function hasConstantOperand(g: GraphIndex, n: NodeProto): boolean {
  return (n.input ?? []).some((i) => g.constantDerived.has(i));
}

function clipBounds(n: NodeProto, opset: number): { lo: Bound; hi: Bound } {
  // float32 limits are onnxruntime's defaults for a missing bound.
  const F32_MAX = 3.4028234663852886e38;
  if (opset < 11) {
    return { lo: { value: attrFloat(n, 'min', -F32_MAX) }, hi: { value: attrFloat(n, 'max', F32_MAX) } };
  }
  const lo = n.input?.[1];
  const hi = n.input?.[2];
  return { lo: lo ? { tensor: lo } : { value: -F32_MAX }, hi: hi ? { tensor: hi } : { value: F32_MAX } };
}

function poolSpec(n: NodeProto): PoolSpec {
  const kernel = attrInts(n, 'kernel_shape') ?? [];
  const d = kernel.length;
  const pads = attrInts(n, 'pads');
  const autoPad = attrString(n, 'auto_pad', 'NOTSET') as PoolSpec['autoPad'];
  return {
    kernel,
    strides: attrInts(n, 'strides') ?? kernel.map(() => 1),
    pads: autoPad === 'NOTSET' ? (pads ? pads.slice(0, d) : kernel.map(() => 0)) : autoPad === 'VALID' ? kernel.map(() => 0) : undefined,
    autoPad,
    dilations: attrInts(n, 'dilations') ?? kernel.map(() => 1),
    storageOrder: attrInt(n, 'storage_order', 0),
  };
}

/** Begin pads of a pool once the input's spatial size is known (auto_pad SAME_* depends on it). */
export function poolBeginPads(p: PoolSpec, inSpatial: number[]): number[] {
  if (p.pads) return p.pads;
  return p.kernel.map((k, i) => {
    const stride = p.strides[i]!;
    const size = inSpatial[i]!;
    const out = Math.ceil(size / stride);
    const total = Math.max(0, (out - 1) * stride + (k - 1) * p.dilations[i]! + 1 - size);
    return p.autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
  });
}

/**
 * The exporter's GELU: y = x * 0.5 * (1 + erf(x / sqrt(2))), written Div -> Erf -> Add -> Mul -> Mul (the order of
 * the two Muls varies). Returns x and the pattern's nodes.
 */
function matchGelu(g: GraphIndex, erf: NodeProto): { x: string; nodes: NodeProto[] } | undefined {
  const scaled = g.producer.get(erf.input?.[0] ?? '');
  if (!scaled) return undefined;
  let x: string | undefined;
  const c = constFloats(g, scaled.input?.[1]);
  if (scaled.opType === 'Div' && c?.length === 1 && Math.abs(c[0]! - Math.SQRT2) < 1e-3) x = scaled.input?.[0];
  if (scaled.opType === 'Mul' && c?.length === 1 && Math.abs(c[0]! - Math.SQRT1_2) < 1e-3) x = scaled.input?.[0];
  if (!x) return undefined;
  const add = (g.consumers.get(erf.output?.[0] ?? '') ?? []).find((n) => n.opType === 'Add');
  if (!add) return undefined;
  // Follow the Muls downstream of the Add until one of them also consumes x.
  const nodes = [scaled, add];
  let frontier = add.output?.[0] ?? '';
  for (let depth = 0; depth < 2; depth++) {
    const mul = (g.consumers.get(frontier) ?? []).find((n) => n.opType === 'Mul');
    if (!mul) break;
    nodes.push(mul);
    if (mul.input?.includes(x)) {
      // The other Mul (by 0.5) may come before: x * 0.5 feeding this Mul.
      return { x, nodes: nodes.concat(halfMul(g, mul)) };
    }
    frontier = mul.output?.[0] ?? '';
  }
  // x*0.5 computed first, then multiplied with (1 + erf).
  const last = nodes[nodes.length - 1]!;
  const half = (last.input ?? []).map((i) => g.producer.get(i)).find((p) => p?.opType === 'Mul' && p.input?.includes(x!));
  return half ? { x, nodes: nodes.concat(half) } : undefined;
}

function halfMul(g: GraphIndex, mul: NodeProto): NodeProto[] {
  const next = (g.consumers.get(mul.output?.[0] ?? '') ?? []).find((n) => n.opType === 'Mul' && constFloats(g, n.input?.[1])?.[0] === 0.5);
  return next ? [next] : [];
}

/** Selects layers by op names or keys (comma lists from --ops / --layers); errors name what was not found. */
export function selectLayers(all: LayerPlan[], sel: { ops?: string[]; layers?: string[] }): LayerPlan[] {
  if (sel.ops?.length && sel.layers?.length) throw new UserError('Give either --ops or --layers, not both.');
  if (sel.ops?.length) {
    const wanted = new Set(sel.ops.map((o) => o.toLowerCase()));
    const present = new Set(all.map((l) => l.op.toLowerCase()));
    const missing = sel.ops.filter((o) => !present.has(o.toLowerCase()));
    if (missing.length) {
      throw new UserError(`The model has no layers of op ${missing.join(', ')}; it has ${[...new Set(all.map((l) => l.op))].join(', ') || 'none'}.`);
    }
    return all.filter((l) => wanted.has(l.op.toLowerCase()));
  }
  if (sel.layers?.length) {
    const byKey = new Map(all.map((l) => [l.key, l]));
    const missing = sel.layers.filter((k) => !byKey.has(k));
    if (missing.length) throw new UserError(`No layer named ${missing.map((k) => `'${k}'`).join(', ')}; run 'summary' to list the layer keys.`);
    const wanted = new Set(sel.layers);
    return all.filter((l) => wanted.has(l.key));
  }
  return all;
}
