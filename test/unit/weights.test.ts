/**
 * Weights left in the model file (src/core/onnx/weights.ts): a model opened with its large weights on disk gives the
 * same codes, float64 pre-activations, polytope and cut-and-rest results as the same model held in memory,
 * JavaScript holds none of those weights, and no temporary file is left behind. Codes on the two real models of the
 * fixtures with tensors over the default size (ultraface: 7, torchvision's SqueezeNet 1.1); float64 (which onnxruntime
 * has no Conv kernel for) and cuts on the PyTorch-exported MLP fixtures with every raw tensor on disk. A large file
 * is read without its large weights (src/core/onnx/skeleton.ts): the same model as read whole, and a malformed file
 * the same error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { dirname, join } from 'node:path';
import { Lens } from '../../src/core/lens';
import { CodeExtractor } from '../../src/core/extract';
import { PreactRunner } from '../../src/core/analyses/preacts';
import { cutAt, cutValues } from '../../src/core/analyses/cut';
import { decodeModel, onnx, readModel } from '../../src/core/onnx/model';
import { readSkeleton } from '../../src/core/onnx/skeleton';
import { collectGarbage, exposeGc } from '../../src/core/collect';
import { tensorBytes, WEIGHTS_ON_DISK } from '../../src/core/onnx/weights';
import { computePolytope } from '../../src/core/analyses/polytope';
import { readNpy, toModelInput } from '../../src/core/inputs';
import { fixture } from '../support/paths';

/** Deterministic inputs in [0, 1) (a multiplicative hash), n samples of the lens's shape. */
function inputs(lens: Lens, n: number): Float32Array {
  const x = new Float32Array(n * lens.sampleSize);
  for (let i = 0; i < x.length; i++) x[i] = (Math.imul(i + 7, 2654435761) >>> 0) / 4294967296;
  return x;
}

/** This process's temporary graphs (weights.ts names them with its pid: other processes may make their own meanwhile). */
const leftovers = (dir: string) => readdirSync(dir).filter((f) => f.startsWith(`polytope-lens-${process.pid}-`) || f.includes(`.${process.pid}-`));

for (const [name, file] of [
  ['ultraface', fixture('ultraface-RFB-320.onnx')],
  ['squeezenet1_1', fixture('torchvision/squeezenet1_1.onnx')],
] as const) {
  test(`${name}: large weights stay in the file, read back byte for byte, and the codes equal those of the model in memory`, async () => {
    const before = { tmp: leftovers(tmpdir()), beside: leftovers(dirname(file)) };
    const onDisk = await Lens.open(file, { weightsOnDisk: { modelBytes: 0, tensorBytes: WEIGHTS_ON_DISK.tensorBytes } });
    const inMemory = await Lens.open(file);
    const memByName = new Map(inMemory.model.proto.graph!.initializer!.map((t) => [t.name, t]));
    const external = onDisk.model.proto.graph!.initializer!.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
    assert.ok(external.length > 0, 'some initializers are left in the file');
    for (const t of external) {
      assert.equal(t.rawData?.length ?? 0, 0, `${t.name}: no bytes held in memory`);
      const mem = memByName.get(t.name)!;
      assert.ok(mem.rawData!.length >= WEIGHTS_ON_DISK.tensorBytes);
      assert.deepEqual(tensorBytes(t), new Uint8Array(mem.rawData!), `${t.name}: read back from the file`);
    }
    const n = 3;
    const x = inputs(onDisk, n);
    const a = await CodeExtractor.create(onDisk, onDisk.layers);
    const b = await CodeExtractor.create(inMemory, inMemory.layers);
    try {
      const [ca, cb] = [await a.run(x, n), await b.run(x, n)];
      assert.deepEqual(ca.codes, cb.codes);
      assert.deepEqual(ca.preds, cb.preds);
    } finally {
      await a.dispose();
      await b.dispose();
    }
    assert.deepEqual({ tmp: leftovers(tmpdir()), beside: leftovers(dirname(file)) }, before, 'no temporary file left');
  });
}

for (const name of ['mlp', 'resmlp']) {
  test(`${name} with every raw tensor on disk: float64 pre-activations, the polytope at an input and a cut equal the in-memory model`, async () => {
    const file = fixture(`${name}.onnx`);
    const onDisk = await Lens.open(file, { weightsOnDisk: { modelBytes: 0, tensorBytes: 1 } });
    const inMemory = await Lens.open(file);
    assert.ok(onDisk.model.proto.graph!.initializer!.some((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL));
    const { n: all, data } = toModelInput(readNpy(fixture(`${name}.inputs.npy`)), onDisk.sampleShape, name);
    const n = Math.min(all, 4);
    const x = data.subarray(0, n * onDisk.sampleSize);
    const ra = await PreactRunner.create(onDisk, onDisk.layers, { precision: 'float64' });
    const rb = await PreactRunner.create(inMemory, inMemory.layers, { precision: 'float64' });
    try {
      assert.equal(ra.precision, 'float64');
      assert.deepEqual((await ra.run(x, n)).preacts, (await rb.run(x, n)).preacts);
    } finally {
      await ra.dispose();
      await rb.dispose();
    }
    const x0 = data.slice(0, onDisk.sampleSize);
    const [pa, pb] = [await computePolytope(onDisk, x0, 0), await computePolytope(inMemory, x0, 0)];
    assert.equal(pa.precision, 'float64');
    assert.deepEqual({ ...pa, timing: undefined }, { ...pb, timing: undefined });
    const key = onDisk.layers[0]!.plan.key;
    const [cutA, cutB] = [await cutAt(onDisk, key), await cutAt(inMemory, key)];
    const ea = await CodeExtractor.create(cutA.rest, cutA.rest.layers);
    const eb = await CodeExtractor.create(cutB.rest, cutB.rest.layers);
    try {
      assert.deepEqual((await ea.run(await cutValues(onDisk, cutA, x, n), n)).codes, (await eb.run(await cutValues(inMemory, cutB, x, n), n)).codes);
    } finally {
      await ea.dispose();
      await eb.dispose();
    }
  });
}

test('a model file of 64 MiB or more: once read, its bytes are collected (no frame holds them) and only the graph stays in JavaScript', async () => {
  // One Gemm with a 68 MiB weight, written by onnx-proto: above the size from which readModel collects.
  const rows = 4352;
  const cols = 4096;
  const weight = new Float32Array(rows * cols).fill(0.5);
  const graph = onnx.GraphProto.create({
    name: 'big',
    node: [onnx.NodeProto.create({ opType: 'Gemm', input: ['x', 'w'], output: ['y'], name: 'gemm' })],
    initializer: [onnx.TensorProto.create({ name: 'w', dataType: onnx.TensorProto.DataType.FLOAT, dims: [cols, rows], rawData: new Uint8Array(weight.buffer) })],
    input: [onnx.ValueInfoProto.create({ name: 'x', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: cols }] } } } })],
    output: [onnx.ValueInfoProto.create({ name: 'y', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: rows }] } } } })],
  });
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph })).finish();
  const dir = mkdtempSync(join(tmpdir(), 'polytope-lens-big-'));
  const file = join(dir, 'big.onnx');
  writeFileSync(file, bytes);
  try {
    exposeGc();
    collectGarbage();
    const before = process.memoryUsage().arrayBuffers;
    const model = readModel(file);
    // A freed backing store leaves the count when V8's background thread releases it, which a loaded machine can
    // delay past readModel's return: the count is read again after short waits, up to 5 s. Bytes a frame holds never
    // leave.
    let held = process.memoryUsage().arrayBuffers - before;
    for (let wait = 0; held >= 8 * 2 ** 20 && wait < 100; wait++) {
      await delay(50);
      collectGarbage();
      held = process.memoryUsage().arrayBuffers - before;
    }
    assert.equal(model.proto.graph!.initializer![0]!.dataLocation, onnx.TensorProto.DataLocation.EXTERNAL);
    assert.ok(held < 8 * 2 ** 20, `${(held / 2 ** 20).toFixed(1)} MiB of buffers still held after reading a ${(bytes.length / 2 ** 20).toFixed(0)} MiB model`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a large file is read without its large weights: the same graph and the same places in the file as reading it whole', () => {
  const file = fixture('torchvision/squeezenet1_1.onnx');
  const options = { modelBytes: 0, tensorBytes: WEIGHTS_ON_DISK.tensorBytes };
  const skeleton = readSkeleton(file, options.tensorBytes)!;
  const whole = readFileSync(file);
  assert.ok(skeleton.bytes.length < whole.length / 4, `the skeleton is ${skeleton.bytes.length} of ${whole.length} bytes`);
  assert.equal(skeleton.fileBytes, whole.length);
  const fromSkeleton = readModel(file, { weightsOnDisk: options });
  const fromWhole = decodeModel(whole, 'squeezenet1_1.onnx', file, options);
  assert.equal(fromSkeleton.fileBytes, fromWhole.fileBytes);
  // Encoded, the two models are the same bytes: every node, attribute, small initializer and external reference.
  assert.deepEqual(onnx.ModelProto.encode(fromSkeleton.proto).finish(), onnx.ModelProto.encode(fromWhole.proto).finish());
  assert.ok(skeleton.weights.filter(Boolean).length > 10);
});

test('a truncated large file gets the error of its whole bytes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'polytope-lens-cut-'));
  const file = join(dir, 'cut.onnx');
  const whole = readFileSync(fixture('torchvision/squeezenet1_1.onnx'));
  writeFileSync(file, whole.subarray(0, Math.floor(whole.length * 0.6)));
  try {
    assert.equal(readSkeleton(file, WEIGHTS_ON_DISK.tensorBytes), undefined);
    const message = (options?: { modelBytes: number; tensorBytes: number }) => {
      try {
        readModel(file, { weightsOnDisk: options });
        return 'read';
      } catch (e) {
        return (e as Error).message;
      }
    };
    assert.match(message({ modelBytes: 0, tensorBytes: WEIGHTS_ON_DISK.tensorBytes }), /cut\.onnx is truncated or corrupt/);
    assert.equal(message({ modelBytes: 0, tensorBytes: WEIGHTS_ON_DISK.tensorBytes }), message());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
