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

  bytes(values: number[], dims: number[]): string {
    const name = this.fresh('u');
    this.initializers.push(onnx.TensorProto.create({ name, dataType: DataType.UINT8, dims, rawData: Uint8Array.from(values) }));
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

  /** x[..., :ends[0], :ends[1]] over axes 2 and 3; Slice's bounds became inputs in opset 10. */
  cropSpatial(x: string, ends: [number, number]): string {
    if (this.opset < 10) {
      const ints = (name: string, v: number[]) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
      return this.node('Slice', [x], [ints('starts', [0, 0]), ints('ends', ends), ints('axes', [2, 3])]);
    }
    return this.node('Slice', [x, this.ints([0, 0]), this.ints(ends), this.ints([2, 3])]);
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

function ints(name: string, v: number[]): onnx.IAttributeProto {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
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
  /** For MaxPool: spatial input and output sizes and begin pads. */
  pool?: PoolGeometry;
}

export interface PoolGeometry {
  inSpatial: number[];
  outSpatial: number[];
  channels: number;
  beginPads: number[];
}

/**
 * A 2-D MaxPool whose windows tile the input (kernel = stride, no dilation, no padding used) has its argmax
 * computed in the graph: the windows are a Reshape and Transpose of the (cropped) input and ArgMax takes the first
 * maximum of each. Other pools are done in JS from the input.
 */
export function tilingPool(layer: SizedLayer): boolean {
  const rule = layer.plan.rule;
  const g = layer.pool;
  if (rule.kind !== 'argmax' || !g || g.inSpatial.length !== 2) return false;
  const { kernel, strides, dilations } = rule.pool;
  return [0, 1].every(
    (i) => kernel[i] === strides[i] && dilations[i] === 1 && g.beginPads[i] === 0 && g.outSpatial[i]! * kernel[i]! <= g.inSpatial[i]!,
  );
}

export type LayerOutput =
  /** Packed bits, rows of packedRowBytes(units). */
  | { kind: 'packed'; name: string }
  | { kind: 'window'; name: string }
  /** Per output element of a MaxPool, the index of its window's first maximum (uint8, or int32 for windows over 256). */
  | { kind: 'argmax'; name: string; window: number }
  /**
   * Per output element of a 2-D MaxPool, the flat input index of its first maximum from the pool's Indices output,
   * cast to int32 (the low 32 bits: src/core/maxpool.ts poolIndexBits takes the sample and channel offset away).
   */
  | { kind: 'indices'; name: string };

/**
 * The code model. Per layer: packed bits as uint8 [N, packedRowBytes(units)], MSB first, or for a MaxPool the
 * index of each window's first maximum (or, for pools that do not tile their input, the input as floats).
 * Packing is Greater -> Cast -> Reshape into rows of 64 bits (one row for small layers) -> MatMul by powers of two
 * (128, 64, ..., 1) -> Cast(uint8): exact, since every partial sum is an integer below 256. From opset 11 the bits
 * are uint8 and the product a MatMulInteger (uint8 x uint8 -> int32): Cast(bool -> uint8) is a byte copy where
 * Cast(bool -> float) writes 4 bytes per bit, and the product reads a quarter of the bytes. Below opset 11 (no
 * MatMulInteger before 10, Pad of uint8 from 11) the bits are floats and the product a MatMul.
 * A 'between' rule (Clip, HardSwish, HardSigmoid) compares its source with lo and with hi as two Greater nodes,
 * packs each half with its own matrix (rows to the even or to the odd bits) and adds the two products: that
 * interleaves the bits (unit 2e = source > lo, 2e + 1 = source > hi) without a Concat along a new last axis.
 */
export function codeModel(proto: ModelProto, opset: number, layers: SizedLayer[]): { proto: ModelProto; outputs: LayerOutput[] } {
  const ed = new GraphEditor(opset);
  const int = opset >= 11;
  const bitType = int ? DataType.UINT8 : DataType.FLOAT;
  const weights = new Map<string, string>();
  /**
   * A packing matrix [rows, cols]: row i sets bit u = stride * i + offset, that is 128 >> (u % 8) in column u / 8
   * (MSB first); the other entries are zero. Columns past the last bit pad the packed row to whole 64-bit words
   * (read as words in JS).
   */
  const powers = (rows: number, cols: number, stride = 1, offset = 0) => {
    const key = `${rows}x${cols}/${stride}+${offset}`;
    let w = weights.get(key);
    if (!w) {
      const m = powersMatrix(rows, cols, stride, offset);
      weights.set(key, (w = int ? ed.bytes(m, [rows, cols]) : ed.floats(m, [rows, cols])));
    }
    return w;
  };
  /** bits [N, ..., rows] times a packing matrix: the bytes as int32 or floats. */
  const product = (bits: string, rows: number, cols: number, stride = 1, offset = 0) =>
    ed.node(int ? 'MatMulInteger' : 'MatMul', [bits, powers(rows, cols, stride, offset)]);
  /**
   * Packs 0/1 bits [N, ...] (units per sample) into uint8 [N, packedRowBytes(units)], MSB first, as one GEMM by a
   * matrix of powers of two (exact: every sum is an integer below 256). Layers that are a multiple of 64 bits go
   * in groups of 64 ([N, U/64, 64] x [64, 8]: K = 64 keeps onnxruntime's GEMM efficient where K = 8 is very
   * slow); other small layers in one [U, packedRowBytes(U)] product, which needs no Pad; only large odd layers are
   * padded.
   */
  const pack = (bits: string, units: number): string => {
    if (units % 64 !== 0 && units <= 1024) return ed.cast(product(ed.reshape(bits, [0, units]), units, packedRowBytes(units)), DataType.UINT8);
    const groups = Math.ceil(units / 64);
    if (units % 64 !== 0) bits = ed.padLast(ed.reshape(bits, [0, units]), groups * 64 - units);
    const bytes = product(ed.reshape(bits, [0, groups, 64]), 64, 8);
    return ed.cast(ed.reshape(bytes, [0, groups * 8]), DataType.UINT8);
  };
  /**
   * Packs two halves of bits, `lo` and `hi` ([N, ...], e elements each), interleaved: unit 2i is lo's element i,
   * unit 2i + 1 is hi's. Each half is multiplied by its own matrix (even or odd bits) and the products are added:
   * 32 elements of each half fill 8 bytes. On mobilenet_v2 (35 ReLU6 layers; 2 threads, best of 12 rounds) the code
   * model took 50 ms per sample this way with float bits, 60 with a Concat of [N, e, 1] halves along the last axis,
   * and 118 with one Greater broadcasting the source as [N, e, 1] against the constant [lo, hi] (onnxruntime's
   * broadcast then loops over spans of 2 elements).
   */
  const packPairs = (lo: string, hi: string, e: number): string => {
    const units = 2 * e;
    if (units % 64 !== 0 && units <= 1024) {
      const cols = packedRowBytes(units);
      const half = (bits: string, offset: number) => product(ed.reshape(bits, [0, e]), e, cols, 2, offset);
      return ed.cast(ed.node('Add', [half(lo, 0), half(hi, 1)]), DataType.UINT8);
    }
    const groups = Math.ceil(e / 32);
    const half = (bits: string, offset: number) => {
      if (e % 32 !== 0) bits = ed.padLast(ed.reshape(bits, [0, e]), groups * 32 - e);
      return product(ed.reshape(bits, [0, groups, 32]), 32, 8, 2, offset);
    };
    return ed.cast(ed.reshape(ed.node('Add', [half(lo, 0), half(hi, 1)]), [0, groups * 8]), DataType.UINT8);
  };
  let zero: string | undefined;
  const outputs: LayerOutput[] = layers.map((layer) => {
    const { plan, elements, units } = layer;
    const rule = plan.rule;
    if (rule.kind === 'argmax') {
      if (layer.pool && tilingPool(layer)) {
        const { channels: c, inSpatial, outSpatial } = layer.pool;
        const [h, w] = inSpatial as [number, number];
        const [oh, ow] = outSpatial as [number, number];
        const [kh, kw] = rule.pool.kernel as [number, number];
        let x = plan.preact;
        if (oh * kh !== h || ow * kw !== w) x = ed.cropSpatial(x, [oh * kh, ow * kw]);
        const blocks = ed.reshape(x, [0, c, oh, kh, ow, kw]);
        const windows = ed.reshape(ed.node('Transpose', [blocks], [ints('perm', [0, 1, 2, 4, 3, 5])]), [0, c, oh, ow, kh * kw]);
        // The first maximum of each window; its one-hot bits are set in JS (a broadcast Equal costs more here).
        const argmax = ed.node('ArgMax', [windows], [intAttr('axis', 4), intAttr('keepdims', 0)]);
        // int64 indices cost 8 bytes each to copy out and BigInt reads in JS; a window index fits a uint8 (or int32).
        const index = kh * kw <= 256 ? DataType.UINT8 : DataType.INT32;
        const first = ed.cast(argmax, index);
        ed.output(first, index);
        return { kind: 'argmax', name: first, window: kh * kw };
      }
      if (layer.pool?.inSpatial.length === 2 && opset >= 8) {
        // Overlapping or padded 2-D pools (ResNet's 3x3/2, SqueezeNet's ceil_mode): a second MaxPool with the same
        // attributes and the Indices output (the original node stays as it is). onnxruntime's kernel with indices
        // costs about 4x a plain pool (7.7 against 2.0 ms per 64x111x111 sample), but the JS window walk it
        // replaces cost about 20x (39% of SqueezeNet's time). Its ties: the first maximum in row-major window
        // order (strict >), the convention. For tiling pools the Transpose + ArgMax above stays faster.
        const pooled = ed.fresh('pool');
        const indices = ed.fresh('indices');
        ed.nodes.push(onnx.NodeProto.create({ opType: 'MaxPool', input: [plan.preact], output: [pooled, indices], name: pooled, attribute: plan.node.attribute ?? [] }));
        const index = ed.cast(indices, DataType.INT32);
        ed.output(index, DataType.INT32);
        return { kind: 'indices', name: index };
      }
      // Other pools (1-D, 3-D): the input leaves the graph as floats; its argmax bits are computed from it
      // (src/core/maxpool.ts). Measured and dropped for mnist-8's tiling pools: a second MaxPool with the Indices
      // output (44 µs per sample against 9 for Transpose + ArgMax), and windows as strided Slices (slower on cnn.onnx).
      ed.output(plan.preact, DataType.FLOAT);
      return { kind: 'window', name: plan.preact };
    }
    let packed: string;
    if (rule.kind === 'positive') {
      zero ??= ed.floats([0], []);
      packed = pack(ed.cast(ed.node('Greater', [rule.source, zero]), bitType), units);
    } else {
      const above = (b: Bound) => ed.cast(ed.node('Greater', [rule.source, ed.bound(b)]), bitType);
      packed = packPairs(above(rule.lo), above(rule.hi), elements);
    }
    ed.output(packed, DataType.UINT8);
    return { kind: 'packed', name: packed };
  });
  return { proto: ed.build(proto), outputs };
}

/** Bytes of a packed row of `units` bits as the code model outputs it: whole 64-bit words. */
export function packedRowBytes(units: number): number {
  return 8 * Math.ceil(units / 64);
}

/** Row-major [rows, cols]: entry (i, u >> 3) for u = stride * i + offset is 128 >> (u & 7), zeros elsewhere. */
function powersMatrix(rows: number, cols: number, stride: number, offset: number): number[] {
  const w = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) {
    const u = stride * i + offset;
    w[i * cols + (u >> 3)] = 128 >> (u & 7);
  }
  return w;
}
