/**
 * Reading ONNX files: sniff the bytes, decode with the generated protobuf types (onnx-proto), inline external
 * data, and describe the graph's real inputs and outputs. Every failure a user can cause is a UserError.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve, sep } from 'node:path';
import Long from 'long';
import { collectGarbage } from '../collect';
import * as protobuf from 'protobufjs/minimal';
import { onnx } from 'onnx-proto';
import { UserError } from '../errors';
import { readGraphMetadata, type GraphMetadata } from './metadata';
import { readSkeleton, type Skeleton } from './skeleton';
import { leaveWeightsInFile, markLeftInFile, tensorBytes, WEIGHTS_ON_DISK, type WeightsOnDisk } from './weights';

// protobufjs finds `long` through util.inquire, an eval'd require that esbuild cannot see: from a checkout it
// resolves to node_modules/long, from the installed VSIX (no node_modules/long) it finds nothing and int64 fields
// (shapes, axes, Reshape targets) come back as lossy numbers, and the rewritten graph is wrong. The bundle carries
// `long` and hands it to protobufjs here, before any message is decoded.
protobuf.util.Long = Long;
protobuf.configure();

export type ModelProto = onnx.ModelProto;
export type GraphProto = onnx.IGraphProto;
export type NodeProto = onnx.INodeProto;
export type TensorProto = onnx.ITensorProto;
export const DataType = onnx.TensorProto.DataType;
export const AttributeType = onnx.AttributeProto.AttributeType;
export { onnx };

/** protobufjs gives int64 fields as Long objects when the `long` package is present, as numbers otherwise. */
export function num(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export interface TensorInfo {
  name: string;
  /** Dimensions; a symbolic or unknown dimension is its name (or '?'). */
  shape: (number | string)[];
  dtype: string;
}

export interface LoadedModel {
  proto: ModelProto;
  /** Absolute path of the file it came from ('' for bytes). */
  path: string;
  /** Short name for messages. */
  name: string;
  fileBytes: number;
  /** Version of the default ('' or 'ai.onnx') operator set. */
  opset: number;
  producer: string;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** metadata_props of nodes and initializers (fields the generated types do not know). */
  metadata: GraphMetadata;
}

const DTYPE_NAMES: Record<number, string> = {
  [DataType.FLOAT]: 'float32',
  [DataType.DOUBLE]: 'float64',
  [DataType.FLOAT16]: 'float16',
  [DataType.BFLOAT16]: 'bfloat16',
  [DataType.UINT8]: 'uint8',
  [DataType.INT8]: 'int8',
  [DataType.UINT16]: 'uint16',
  [DataType.INT16]: 'int16',
  [DataType.INT32]: 'int32',
  [DataType.INT64]: 'int64',
  [DataType.UINT32]: 'uint32',
  [DataType.UINT64]: 'uint64',
  [DataType.BOOL]: 'bool',
  [DataType.STRING]: 'string',
};

export function dtypeName(elemType: number | null | undefined): string {
  return DTYPE_NAMES[elemType ?? 0] ?? `type ${elemType ?? '?'}`;
}

/** The default maximum model size (bytes) the engine will load; the extension exposes it as a setting. */
export const DEFAULT_MAX_MODEL_BYTES = 512 * 1024 * 1024;

export function readModel(path: string, opts: { maxBytes?: number; weightsOnDisk?: WeightsOnDisk } = {}): LoadedModel {
  const abs = resolve(path);
  const name = basename(abs);
  if (!existsSync(abs)) throw new UserError(`${name}: no such file (${path}).`);
  const st = statSync(abs);
  if (st.isDirectory()) throw new UserError(`${name} is a folder, not an ONNX model file.`);
  const max = opts.maxBytes ?? DEFAULT_MAX_MODEL_BYTES;
  if (st.size > max) {
    throw new UserError(
      `${name} is ${(st.size / 2 ** 20).toFixed(0)} MiB, above the model size limit of ${(max / 2 ** 20).toFixed(0)} MiB (setting polytopeLens.maxModelSizeMB / --max-model-mb).`,
    );
  }
  const { model, readWhole } = decodeFile(abs, name, st.size, opts.weightsOnDisk);
  // A file read whole: its bytes are garbage now (large weights stay on disk, onnx/weights.ts), but V8 does not see
  // the native memory onnxruntime is about to take: without a collection here a 500 MB model is held twice while its
  // first session loads (src/core/collect.ts says where a collection happens).
  if (readWhole && st.size >= COLLECT_AFTER_BYTES) collectGarbage();
  return model;
}

/**
 * Reads and decodes in a frame of its own: once it returns, nothing on the stack holds the file's bytes. Read in
 * readModel's frame, an interpreter register kept them alive through the collection there whenever a call came
 * between (alexnet's worker: 381 against 632 MB peak RSS).
 */
function decodeFile(abs: string, name: string, size: number, weightsOnDisk = WEIGHTS_ON_DISK): { model: LoadedModel; readWhole: boolean } {
  // A large file is read without its large weights (onnx/skeleton.ts); a malformed one is read whole, so that its
  // error is the one the whole bytes give.
  const skeleton = size >= weightsOnDisk.modelBytes ? readSkeleton(abs, weightsOnDisk.tensorBytes) : undefined;
  if (skeleton) {
    try {
      return { model: decodeModel(skeleton.bytes, name, abs, weightsOnDisk, skeleton), readWhole: false };
    } catch {
      // read whole below
    }
  }
  return { model: decodeModel(readFileSync(abs), name, abs, weightsOnDisk), readWhole: true };
}

/** Files from this size on are worth a garbage collection once decoded. */
const COLLECT_AFTER_BYTES = 64 * 2 ** 20;

/**
 * Decodes and validates a model. `path` locates external data files; pass '' for in-memory models. For
 * a file of `weightsOnDisk.modelBytes` on, its large weights stay on disk (onnx/weights.ts).
 */
export function decodeModel(bytes: Uint8Array, name: string, path = '', weightsOnDisk = WEIGHTS_ON_DISK, skeleton?: Skeleton): LoadedModel {
  if (bytes.length === 0) throw new UserError(`${name} is empty (0 bytes), not an ONNX model.`);
  try {
    sniff(bytes, name);
  } catch (e) {
    throw otherOnnxMessage(bytes, name) ?? e;
  }
  let proto: ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (e) {
    const other = otherOnnxMessage(bytes, name);
    if (other) throw other;
    const truncated = /index out of range|premature|invalid wire type/i.test(String(e));
    throw new UserError(
      truncated
        ? `${name} is truncated or corrupt: its protobuf data ends early or is malformed, so it is not a readable ONNX model.`
        : `${name} is not an ONNX model: its bytes are not a valid protobuf ModelProto.`,
    );
  }
  const graph = proto.graph;
  if (!graph || !graph.node || graph.node.length === 0 || num(proto.irVersion) <= 0) {
    throw new UserError(
      `${name} is a valid protobuf message but not an ONNX model: it has no ${!graph ? 'graph' : num(proto.irVersion) <= 0 ? 'IR version' : 'nodes'}.`,
    );
  }
  const opset = defaultOpset(proto);
  if (opset < 7) {
    throw new UserError(`${name} uses ONNX opset ${opset}; Polytope Lens supports opset 7 and newer.`);
  }
  if (path) {
    inlineExternalData(proto, dirname(path), name);
    if (skeleton) markLeftInFile(proto, path, skeleton.weights);
    else if (bytes.length >= weightsOnDisk.modelBytes) leaveWeightsInFile(proto, bytes, path, weightsOnDisk.tensorBytes);
  }
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const inputs = (graph.input ?? []).filter((v) => !initNames.has(v.name ?? '')).map(valueInfo);
  const outputs = (graph.output ?? []).map(valueInfo);
  return {
    proto,
    path,
    name,
    fileBytes: skeleton?.fileBytes ?? bytes.length,
    opset,
    producer: [proto.producerName, proto.producerVersion].filter(Boolean).join(' '),
    inputs,
    outputs,
    metadata: readGraphMetadata(bytes),
  };
}

export function defaultOpset(proto: ModelProto): number {
  const imp = (proto.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return imp ? num(imp.version) : 0;
}

/**
 * Catches the commonest non-models before protobuf decoding, which happily "decodes" many random byte strings
 * into nonsense. A ModelProto starts with a field tag of one of its known fields (wire types 0 or 2).
 */
function sniff(bytes: Uint8Array, name: string): void {
  const head = bytes.subarray(0, Math.min(bytes.length, 256));
  let printable = 0;
  for (const b of head) if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127)) printable++;
  if (printable === head.length && head.length >= 8) {
    throw new UserError(`${name} is a text file, not a binary ONNX model.`);
  }
  const tag = bytes[0]!;
  const field = tag >> 3;
  const wire = tag & 7;
  // ModelProto fields 1..10, 14, 20, 25; ir_version (1) is a varint, the others length-delimited.
  const known = [1, 2, 3, 4, 5, 6, 7, 8, 10, 14, 20, 25];
  if (!known.includes(field) || (field === 1 ? wire !== 0 : wire !== 2)) {
    throw new UserError(`${name} is not an ONNX model: its first bytes are not those of an ONNX ModelProto.`);
  }
}

const ELEMENT_BYTES: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.DOUBLE]: 8,
  [DataType.FLOAT16]: 2,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
};

/** A clear error when the bytes are an ONNX TensorProto or GraphProto saved on its own instead of a model. */
function otherOnnxMessage(bytes: Uint8Array, name: string): UserError | undefined {
  try {
    const t = onnx.TensorProto.decode(bytes);
    const count = t.dims.reduce((a: number, d) => a * num(d), 1);
    const size = ELEMENT_BYTES[t.dataType ?? 0];
    const stored = [t.floatData, t.doubleData, t.int32Data, t.int64Data].map((d) => d?.length ?? 0);
    if (t.dims.length > 0 && size && ((t.rawData?.length ?? 0) === count * size || stored.includes(count))) {
      return new UserError(`${name} is a single ONNX tensor (a serialized TensorProto${t.name ? ` '${t.name}'` : ''}), not a model.`);
    }
  } catch {
    // not a tensor either
  }
  try {
    const g = onnx.GraphProto.decode(bytes);
    if (g.node.length > 0 && g.node.every((n) => n.opType)) {
      return new UserError(`${name} is an ONNX GraphProto saved without its ModelProto (no IR version or opset), not a model; wrap it with onnx.helper.make_model.`);
    }
  } catch {
    // not a graph either
  }
  return undefined;
}

function valueInfo(v: onnx.IValueInfoProto): TensorInfo {
  const t = v.type?.tensorType;
  const dims = t?.shape?.dim ?? [];
  return {
    name: v.name ?? '',
    shape: dims.map((d) => (d.dimValue !== null && d.dimValue !== undefined && num(d.dimValue) > 0 ? num(d.dimValue) : d.dimParam || '?')),
    dtype: dtypeName(t?.elemType),
  };
}

/** Replaces external-data references of initializers by the bytes they point to, so ORT can load from memory. */
function inlineExternalData(proto: ModelProto, dir: string, name: string): void {
  const cache = new Map<string, Buffer>();
  const tensors: TensorProto[] = [...(proto.graph?.initializer ?? [])];
  for (const node of proto.graph?.node ?? []) {
    for (const a of node.attribute ?? []) if (a.t) tensors.push(a.t);
  }
  for (const t of tensors) {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const kv = Object.fromEntries((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = kv['location'];
    if (!location) throw new UserError(`${name}: initializer '${t.name}' has external data without a location.`);
    const file = resolve(dir, location);
    if (!file.startsWith(resolve(dir) + sep)) {
      throw new UserError(`${name}: external data '${location}' of '${t.name}' points outside the model's folder.`);
    }
    if (!cache.has(file)) {
      if (!existsSync(file)) {
        throw new UserError(`${name}: the external data file '${location}' for initializer '${t.name}' is missing (it should be beside the model).`);
      }
      cache.set(file, readFileSync(file));
    }
    const data = cache.get(file)!;
    const offset = Number(kv['offset'] ?? 0);
    const length = kv['length'] !== undefined ? Number(kv['length']) : data.length - offset;
    if (offset + length > data.length) {
      throw new UserError(`${name}: the external data file '${location}' is shorter than initializer '${t.name}' needs.`);
    }
    t.rawData = data.subarray(offset, offset + length);
    t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
    t.externalData = [];
  }
}

export function encodeModel(proto: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(proto).finish();
}

/** Values of a float tensor constant (initializer or Constant node attribute), or undefined if not float. */
export function floatValues(t: TensorProto): Float32Array | undefined {
  if (t.dataType !== DataType.FLOAT && t.dataType !== DataType.DOUBLE) return undefined;
  const raw = tensorBytes(t);
  if (t.dataType === DataType.FLOAT) {
    if (raw.length > 0) {
      const copy = new Uint8Array(raw);
      return new Float32Array(copy.buffer, 0, copy.length / 4);
    }
    return Float32Array.from(t.floatData ?? []);
  }
  if (raw.length > 0) {
    const copy = new Uint8Array(raw);
    return Float32Array.from(new Float64Array(copy.buffer, 0, copy.length / 8));
  }
  return Float32Array.from(t.doubleData ?? []);
}
