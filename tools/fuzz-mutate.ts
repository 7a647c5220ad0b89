/**
 * The fuzzer's mutator: seeded byte mutations and protobuf-field mutations of ONNX models. Mutant k of a run with
 * seed S is a pure function of (S, k, the seed models), so any case can be reproduced alone (--only K).
 */
import { onnx } from 'onnx-proto';
import { Rng } from '../src/core/inputs';

export interface Seed {
  name: string;
  bytes: Uint8Array;
}

export interface Mutant {
  id: number;
  seed: string;
  /** What was done, in order (for the report). */
  ops: string[];
  bytes: Uint8Array;
}

const BYTE_OPS = ['flip', 'insert', 'delete', 'truncate', 'splice', 'overwrite'] as const;
const PROTO_OPS = [
  'dim',
  'hugeDim',
  'dtype',
  'attr',
  'opset',
  'irVersion',
  'nodeInput',
  'nodeOutput',
  'removeInitializer',
  'duplicateNode',
  'removeNode',
  'opType',
  'initDims',
  'initData',
  'inputRank',
  'swapNodes',
] as const;

const HUGE = [2 ** 31, 2 ** 32 + 1, 2 ** 40, 2 ** 53 - 1, 1e6, 65536 * 3];
const SMALL = [-7, -1, 0, 1, 2, 3, 5, 8, 100];
const OPS = ['Relu', 'MaxPool', 'Clip', 'Abs', 'LeakyRelu', 'PRelu', 'Conv', 'Gemm', 'MatMul', 'Add', 'Reshape', 'Flatten', 'Sigmoid', 'Softmax', 'Identity', 'Transpose', 'Concat', 'Expand', 'Tile', 'Frobnicate'];
const DTYPES = [0, 1, 2, 3, 6, 7, 9, 10, 11, 16, 8, 99];

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)]!;
}

function bytesMutation(rng: Rng, b: Uint8Array, seeds: Seed[], ops: string[]): Uint8Array {
  const op = pick(rng, BYTE_OPS);
  const at = () => (b.length === 0 ? 0 : rng.int(b.length));
  switch (op) {
    case 'flip': {
      const out = b.slice();
      const k = 1 + rng.int(8);
      for (let i = 0; i < k && out.length; i++) out[at()]! ^= 1 << rng.int(8);
      ops.push(`flip ${k} bits`);
      return out;
    }
    case 'insert': {
      const i = at();
      const len = 1 + rng.int(32);
      const ins = Uint8Array.from({ length: len }, () => rng.int(256));
      ops.push(`insert ${len} bytes at ${i}`);
      return concat(b.subarray(0, i), ins, b.subarray(i));
    }
    case 'delete': {
      const i = at();
      const len = 1 + rng.int(Math.max(1, Math.min(64, b.length - i)));
      ops.push(`delete ${len} bytes at ${i}`);
      return concat(b.subarray(0, i), b.subarray(i + len));
    }
    case 'truncate': {
      const i = at();
      ops.push(`truncate to ${i} bytes`);
      return b.slice(0, i);
    }
    case 'splice': {
      const other = pick(rng, seeds).bytes;
      const i = at();
      const j = other.length ? rng.int(other.length) : 0;
      ops.push(`splice at ${i} with a tail of another seed`);
      return concat(b.subarray(0, i), other.subarray(j));
    }
    case 'overwrite': {
      const out = b.slice();
      const i = at();
      const v = pick(rng, [0x00, 0xff, 0x7f, 0x80]);
      const len = 1 + rng.int(8);
      for (let k = i; k < Math.min(out.length, i + len); k++) out[k] = v;
      ops.push(`overwrite ${len} bytes at ${i} with ${v}`);
      return out;
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** All tensor names a node can refer to. */
function tensorNames(g: onnx.IGraphProto): string[] {
  const names = new Set<string>();
  for (const v of g.input ?? []) names.add(v.name ?? '');
  for (const t of g.initializer ?? []) names.add(t.name ?? '');
  for (const n of g.node ?? []) for (const o of n.output ?? []) names.add(o);
  return [...names];
}

function valueInfos(g: onnx.IGraphProto): onnx.IValueInfoProto[] {
  return [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])];
}

/** One protobuf-level change; returns false when the model has nothing of that kind (another op is tried). */
function protoMutation(rng: Rng, m: onnx.ModelProto, ops: string[]): boolean {
  const g = m.graph!;
  const nodes = g.node ?? [];
  const op = pick(rng, PROTO_OPS);
  switch (op) {
    case 'dim':
    case 'hugeDim': {
      const vis = valueInfos(g).filter((v) => v.type?.tensorType?.shape?.dim?.length);
      // Mostly the graph input: that is what the engine reads first.
      const v = rng.uniform() < 0.6 && g.input?.[0]?.type?.tensorType?.shape?.dim?.length ? g.input[0]! : vis.length ? pick(rng, vis) : undefined;
      if (!v) return false;
      const dims = v.type!.tensorType!.shape!.dim!;
      const d = dims[rng.int(dims.length)]!;
      const value = op === 'hugeDim' ? pick(rng, HUGE) : pick(rng, SMALL);
      if (op === 'dim' && rng.uniform() < 0.2) {
        d.dimValue = undefined;
        d.dimParam = pick(rng, ['', 'N', 'batch', '?']);
        ops.push(`dim of '${v.name}' -> param '${d.dimParam}'`);
      } else {
        d.dimValue = value;
        d.dimParam = undefined;
        ops.push(`dim of '${v.name}' -> ${value}`);
      }
      return true;
    }
    case 'inputRank': {
      const v = g.input?.[0];
      const dims = v?.type?.tensorType?.shape?.dim;
      if (!v || !dims) return false;
      if (rng.uniform() < 0.5 && dims.length) dims.splice(rng.int(dims.length), 1);
      else dims.push(onnx.TensorShapeProto.Dimension.create({ dimValue: 1 + rng.int(4) }));
      ops.push(`rank of '${v.name}' -> ${dims.length}`);
      return true;
    }
    case 'dtype': {
      const dt = pick(rng, DTYPES);
      if (rng.uniform() < 0.5 && g.input?.[0]?.type?.tensorType) {
        g.input[0].type.tensorType.elemType = dt;
        ops.push(`elem type of input -> ${dt}`);
      } else if (g.initializer?.length) {
        const t = pick(rng, g.initializer);
        t.dataType = dt;
        ops.push(`data type of initializer '${t.name}' -> ${dt}`);
      } else return false;
      return true;
    }
    case 'attr': {
      const withAttrs = nodes.filter((n) => n.attribute?.length);
      if (!withAttrs.length) return false;
      const n = pick(rng, withAttrs);
      const a = pick(rng, n.attribute!);
      const r = rng.int(6);
      if (r === 0) {
        a.i = pick(rng, [...SMALL, ...HUGE]);
        ops.push(`attr ${n.opType}.${a.name}.i -> ${a.i}`);
      } else if (r === 1) {
        a.f = pick(rng, [NaN, Infinity, -1, 0, 1e30]);
        ops.push(`attr ${n.opType}.${a.name}.f -> ${a.f}`);
      } else if (r === 2) {
        a.ints = Array.from({ length: rng.int(5) }, () => pick(rng, [...SMALL, ...HUGE]));
        ops.push(`attr ${n.opType}.${a.name}.ints -> [${a.ints.join(',')}]`);
      } else if (r === 3) {
        a.type = pick(rng, [0, 1, 2, 3, 4, 6, 7, 99]) as onnx.AttributeProto.AttributeType;
        ops.push(`attr ${n.opType}.${a.name}.type -> ${a.type}`);
      } else if (r === 4) {
        a.name = pick(rng, ['', 'bogus', 'kernel_shape', 'pads', 'strides', 'axis']);
        ops.push(`attr renamed -> '${a.name}'`);
      } else {
        n.attribute!.splice(n.attribute!.indexOf(a), 1);
        ops.push(`attr ${n.opType}.${a.name} removed`);
      }
      return true;
    }
    case 'opset': {
      const imp = m.opsetImport?.[0];
      if (!imp) return false;
      if (rng.uniform() < 0.2) {
        imp.domain = pick(rng, ['com.example', 'ai.onnx.ml', 'ai.onnx']);
        ops.push(`opset domain -> '${imp.domain}'`);
      } else {
        imp.version = pick(rng, [0, 1, 6, 7, 9, 11, 13, 17, 21, 22, 23, 30, 1000, 2 ** 40]);
        ops.push(`opset -> ${imp.version}`);
      }
      return true;
    }
    case 'irVersion': {
      m.irVersion = pick(rng, [0, 1, 3, 7, 10, 11, 12, 99, -1]);
      ops.push(`ir_version -> ${m.irVersion}`);
      return true;
    }
    case 'nodeInput': {
      if (!nodes.length) return false;
      const n = pick(rng, nodes);
      const names = tensorNames(g);
      const r = rng.int(4);
      if (r === 0 && n.input?.length) {
        const i = rng.int(n.input.length);
        n.input[i] = pick(rng, [...names, 'nowhere', '']);
        ops.push(`${n.opType} input ${i} -> '${n.input[i]}'`);
      } else if (r === 1 && n.input?.length) {
        n.input.splice(rng.int(n.input.length), 1);
        ops.push(`${n.opType} lost an input`);
      } else if (r === 2) {
        (n.input ??= []).push(pick(rng, names));
        ops.push(`${n.opType} got an extra input`);
      } else {
        // A cycle: the node reads its own output.
        if (!n.output?.length) return false;
        (n.input ??= [])[0] = n.output[0]!;
        ops.push(`${n.opType} reads its own output`);
      }
      return true;
    }
    case 'nodeOutput': {
      if (!nodes.length) return false;
      const n = pick(rng, nodes);
      const r = rng.int(3);
      if (r === 0 && n.output?.length) {
        n.output[0] = pick(rng, [...tensorNames(g), '', 'orphan']);
        ops.push(`${n.opType} output -> '${n.output[0]}'`);
      } else if (r === 1) {
        n.output = [];
        ops.push(`${n.opType} lost its outputs`);
      } else {
        (n.output ??= []).push(`extra_${rng.int(100)}`);
        ops.push(`${n.opType} got an extra output`);
      }
      return true;
    }
    case 'removeInitializer': {
      if (!g.initializer?.length) return false;
      const [t] = g.initializer.splice(rng.int(g.initializer.length), 1);
      ops.push(`removed initializer '${t!.name}'`);
      return true;
    }
    case 'duplicateNode': {
      if (!nodes.length) return false;
      const i = rng.int(nodes.length);
      const copy = onnx.NodeProto.decode(onnx.NodeProto.encode(nodes[i]!).finish());
      if (rng.uniform() < 0.5) copy.name = `${copy.name ?? ''}_dup`;
      nodes.splice(i + rng.int(2), 0, copy);
      ops.push(`duplicated node ${i} (${copy.opType})`);
      return true;
    }
    case 'removeNode': {
      if (!nodes.length) return false;
      const [n] = nodes.splice(rng.int(nodes.length), 1);
      ops.push(`removed node ${n!.opType}`);
      return true;
    }
    case 'opType': {
      if (!nodes.length) return false;
      const n = pick(rng, nodes);
      const from = n.opType;
      n.opType = pick(rng, OPS);
      ops.push(`op ${from} -> ${n.opType}`);
      return true;
    }
    case 'swapNodes': {
      if (nodes.length < 2) return false;
      const i = rng.int(nodes.length);
      const j = rng.int(nodes.length);
      [nodes[i], nodes[j]] = [nodes[j]!, nodes[i]!];
      ops.push(`swapped nodes ${i} and ${j}`);
      return true;
    }
    case 'initDims': {
      const inits = g.initializer ?? [];
      if (!inits.length) return false;
      const t = pick(rng, inits);
      if (!t.dims?.length || rng.uniform() < 0.2) {
        t.dims = [pick(rng, HUGE)];
      } else {
        const i = rng.int(t.dims.length);
        t.dims[i] = rng.uniform() < 0.5 ? pick(rng, HUGE) : pick(rng, SMALL);
      }
      ops.push(`dims of initializer '${t.name}' -> [${t.dims.map(String).join(',')}]`);
      return true;
    }
    case 'initData': {
      const inits = (g.initializer ?? []).filter((t) => t.rawData?.length || t.floatData?.length);
      if (!inits.length) return false;
      const t = pick(rng, inits);
      if (t.rawData?.length) {
        const r = rng.int(3);
        if (r === 0) t.rawData = t.rawData.slice(0, rng.int(t.rawData.length));
        else if (r === 1) t.rawData = concat(t.rawData, new Uint8Array(1 + rng.int(7)));
        else {
          // NaN / Inf weights.
          const f = new Float32Array(t.rawData.slice().buffer, 0, Math.floor(t.rawData.length / 4));
          for (let k = 0; k < Math.min(f.length, 4); k++) f[rng.int(f.length)] = pick(rng, [NaN, Infinity, -Infinity, 3e38]);
          t.rawData = new Uint8Array(f.buffer);
        }
      } else {
        t.floatData = t.floatData!.slice(0, rng.int(t.floatData!.length));
      }
      ops.push(`data of initializer '${t.name}' changed`);
      return true;
    }
  }
}

/**
 * Mutant `id` of seed `seed`: a seed model, then one to three mutations, protobuf-level (when the seed decodes)
 * about two times in three, byte-level otherwise.
 */
export function mutant(seeds: Seed[], seed: number, id: number): Mutant {
  const rng = new Rng(seed * 1_000_003 + id);
  const base = pick(rng, seeds);
  const ops: string[] = [];
  let bytes: Uint8Array = base.bytes;
  const count = 1 + rng.int(3);
  if (rng.uniform() < 0.67) {
    let m: onnx.ModelProto | undefined;
    try {
      m = onnx.ModelProto.decode(bytes);
    } catch {
      m = undefined;
    }
    if (m?.graph) {
      for (let k = 0, tries = 0; k < count && tries < 20; tries++) if (protoMutation(rng, m, ops)) k++;
      try {
        bytes = onnx.ModelProto.encode(m).finish();
      } catch (e) {
        // A mutation that protobufjs cannot encode (e.g. a huge int64 as a number) is a mutator limit, not a finding.
        ops.push(`(encode failed: ${(e as Error).message}; bytes mutation instead)`);
        bytes = bytesMutation(rng, base.bytes, seeds, ops);
      }
      return { id, seed: base.name, ops, bytes };
    }
  }
  for (let k = 0; k < count; k++) bytes = bytesMutation(rng, bytes, seeds, ops);
  return { id, seed: base.name, ops, bytes };
}
