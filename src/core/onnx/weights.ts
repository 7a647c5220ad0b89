/**
 * Large weights stay in the model file instead of in JavaScript memory (issue #14: vgg11_bn's worker held the file's
 * bytes, an encoded copy of the rewritten model and onnxruntime's own copy, 2.1 GB for a 507 MB file).
 *
 * After decoding a model of at least WEIGHTS_ON_DISK.modelBytes, every initializer of at least its tensorBytes becomes an ONNX
 * external-data reference to the model file itself (location = the file's name, offset and length of its raw_data
 * inside the file), and the file's bytes are let go. A session is then created from a small graph-only file whose
 * external data resolves to the model file (graphBesideWeights), so onnxruntime reads the weights from disk once and
 * JavaScript never holds them. Code that needs the values (float64 copies, constant folding) reads them back with
 * tensorBytes(). When no such file can be written the weights are read back into an in-memory model, as before.
 * A file read from disk is not even read whole: onnx/skeleton.ts leaves those weights out as it reads. */
import { closeSync, linkSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { onnx } from 'onnx-proto';
import type { LeftInFile } from './skeleton';

type TensorProto = onnx.ITensorProto;
type ModelProto = onnx.ModelProto;

/** Which weights stay on disk: initializers of at least `tensorBytes` in model files of at least `modelBytes`. */
export interface WeightsOnDisk {
  modelBytes: number;
  tensorBytes: number;
}

/**
 * Models under 16 MiB keep their weights in memory (they cost little there and need no file written to load);
 * initializers under 64 KiB are copied (shapes, biases, small tables: reading them back costs more than they weigh).
 */
export const WEIGHTS_ON_DISK: WeightsOnDisk = { modelBytes: 16 * 2 ** 20, tensorBytes: 64 * 1024 };

interface FileSlice {
  file: string;
  offset: number;
  length: number;
}

/** Where each externalised tensor's bytes are; keyed by the tensor object, which rewritten models share. */
const slices = new WeakMap<TensorProto, FileSlice>();

/**
 * Leaves the initializers of `proto` of at least `minTensorBytes` (decoded from `bytes`, the whole content of `file`) in the file, and copies
 * every other byte field out of `bytes` (protobufjs decodes bytes fields as views of the input), so that `bytes`
 * can be garbage-collected.
 */
export function leaveWeightsInFile(proto: ModelProto, bytes: Uint8Array, file: string, minTensorBytes = WEIGHTS_ON_DISK.tensorBytes): void {
  const visitGraph = (g: onnx.IGraphProto | null | undefined, top: boolean) => {
    if (!g) return;
    for (const t of g.initializer ?? []) {
      const raw = t.rawData;
      if (top && raw && raw.length >= minTensorBytes && raw.buffer === bytes.buffer) markInFile(t, file, raw.byteOffset - bytes.byteOffset, raw.length);
      else copyBytes(t);
    }
    for (const n of g.node ?? []) {
      for (const a of n.attribute ?? []) {
        if (a.t) copyBytes(a.t);
        for (const t of a.tensors ?? []) copyBytes(t);
        visitGraph(a.g, false);
        for (const sub of a.graphs ?? []) visitGraph(sub, false);
      }
    }
  };
  visitGraph(proto.graph, true);
}

/** Marks the top-level initializers whose raw_data readSkeleton (onnx/skeleton.ts) left in `file`, by their index. */
export function markLeftInFile(proto: ModelProto, file: string, weights: (LeftInFile | undefined)[]): void {
  (proto.graph?.initializer ?? []).forEach((t, i) => {
    const w = weights[i];
    if (w) markInFile(t, file, w.offset, w.length);
  });
}

/** `t` becomes an external-data reference to its bytes at `offset` in `file` (the model file itself). */
function markInFile(t: TensorProto, file: string, offset: number, length: number): void {
  slices.set(t, { file, offset, length });
  t.rawData = new Uint8Array(0);
  t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  t.externalData = [
    { key: 'location', value: basename(file) },
    { key: 'offset', value: String(offset) },
    { key: 'length', value: String(length) },
  ];
}

/** A copy, not a view: protobufjs gives Node Buffers, whose slice() is a view that would keep the file alive. */
function copyBytes(t: TensorProto): void {
  if (t.rawData && t.rawData.length > 0) t.rawData = new Uint8Array(t.rawData);
  if (t.stringData) t.stringData = t.stringData.map((s) => new Uint8Array(s));
}

/** The raw bytes of a tensor: its raw_data, or, for a weight left in the model file, read from there. Empty when the values are in typed fields. */
export function tensorBytes(t: TensorProto): Uint8Array {
  if (t.rawData && t.rawData.length > 0) return t.rawData;
  const s = slices.get(t);
  if (!s) return new Uint8Array(0);
  const out = new Uint8Array(s.length);
  const fd = openSync(s.file, 'r');
  try {
    let done = 0;
    while (done < s.length) {
      const n = readSync(fd, out, done, s.length - done, s.offset + done);
      if (n === 0) throw new Error(`${basename(s.file)} changed on disk: the weight '${t.name}' can no longer be read from it.`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** The model file whose weights `proto` leaves on disk, or undefined when it is self-contained. */
function weightsFile(proto: ModelProto): string | undefined {
  for (const t of proto.graph?.initializer ?? []) {
    const s = slices.get(t);
    if (s) return s.file;
  }
  return undefined;
}

let tempCounter = 0;

/**
 * Runs `create` on what onnxruntime should load for `proto`: the path of a graph-only file from which the weights
 * resolve to the model file (removed as soon as `create` returns: onnxruntime has read the weights by then), or, for
 * a self-contained model or when no such file can be written, the encoded model with every weight inlined.
 */
export async function withLoadableModel<T>(proto: ModelProto, create: (model: string | Uint8Array) => Promise<T>): Promise<T> {
  const file = weightsFile(proto);
  const graph = file ? graphBesideWeights(file, onnx.ModelProto.encode(proto).finish()) : undefined;
  if (graph) {
    try {
      return await create(graph.path);
    } finally {
      graph.remove();
    }
  }
  return create(onnx.ModelProto.encode(file ? withWeightsInMemory(proto) : proto).finish());
}

/**
 * Writes `encoded` where its external data (the model file's own name) resolves to `file`: in a new temporary folder
 * beside a hard link of the model (no copy, and nothing appears in the user's folder), or, across file systems,
 * as a hidden file in the model's folder. onnxruntime refuses symbolic links that leave the graph's folder.
 */
function graphBesideWeights(file: string, encoded: Uint8Array): { path: string; remove(): void } | undefined {
  try {
    const dir = mkdtempSync(join(tmpdir(), `polytope-lens-${process.pid}-`));
    try {
      linkSync(file, join(dir, basename(file)));
      const path = join(dir, 'graph.onnx');
      writeFileSync(path, encoded);
      return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
    } catch {
      rmSync(dir, { recursive: true, force: true });
    }
  } catch {
    // no temporary folder: try beside the model
  }
  // Not '.onnx': file watchers on *.onnx (the extension's, the user's) must not react to it.
  const path = join(dirname(file), `.${basename(file)}.${process.pid}-${++tempCounter}.polytope-lens.tmp`);
  try {
    writeFileSync(path, encoded, { flag: 'wx' });
    return { path, remove: () => rmSync(path, { force: true }) };
  } catch {
    return undefined; // a read-only folder
  }
}

/** A copy of `proto` whose file-backed initializers carry their bytes again (for a model that is encoded and decoded again in memory). */
export function withWeightsInMemory(proto: ModelProto): ModelProto {
  const g = proto.graph!;
  const initializer = (g.initializer ?? []).map((t) =>
    slices.has(t) ? onnx.TensorProto.create({ ...t, rawData: tensorBytes(t), dataLocation: onnx.TensorProto.DataLocation.DEFAULT, externalData: [] }) : t,
  );
  return onnx.ModelProto.create({ ...proto, graph: onnx.GraphProto.create({ ...g, initializer }) });
}
