/**
 * Bit-exactness of the engine against PyTorch: for every fixture exported by the real PyTorch exporter, the codes
 * computed through onnxruntime-node equal the codes PyTorch forward hooks computed (test/fixtures/make_fixtures.py),
 * bit for bit, and so do the layer table and the predictions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Lens } from '../../src/core/lens';
import { CodeExtractor } from '../../src/core/extract';
import { toHex } from '../../src/core/bits';
import { codeModel } from '../../src/core/instrument';
import { createSession, ort } from '../../src/core/ort';
import { readNpy, toModelInput } from '../../src/core/inputs';
import { fixture } from '../support/paths';

interface Expected {
  layers: { key: string; op: string; units: number; offset: number; exact: boolean }[];
  total_units: number;
  codes_hex: string[];
  preds: number[];
}

function differingBits(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < a.length; i += 2) {
    let x = parseInt(a.slice(i, i + 2), 16) ^ parseInt(b.slice(i, i + 2), 16);
    while (x) (d += x & 1), (x >>= 1);
  }
  return d;
}

async function checkAgainstTorch(modelPath: string, name: string): Promise<void> {
  const expected = JSON.parse(readFileSync(fixture(`${name}.expected.json`), 'utf8')) as Expected;
  const lens = await Lens.open(modelPath);
  const summary = lens.summary();
  assert.deepEqual(
    summary.layers.map(({ key, op, units, offset, exact }) => ({ key, op, units, offset, exact })),
    expected.layers.map(({ key, op, units, offset, exact }) => ({ key, op, units, offset, exact })),
  );
  assert.equal(summary.total_units, expected.total_units);
  const { n, data } = toModelInput(readNpy(fixture(`${name}.inputs.npy`)), lens.sampleShape, name);
  const ex = await CodeExtractor.create(lens, lens.layers);
  const batch = await ex.run(data, n);
  await ex.dispose();
  let differing = 0;
  for (let i = 0; i < n; i++) {
    const hex = toHex(batch.codes, i * ex.codeBytes, ex.codeBytes);
    assert.equal(hex.length, expected.codes_hex[i]!.length, `sample ${i}: code length`);
    differing += differingBits(hex, expected.codes_hex[i]!);
  }
  assert.equal(differing, 0, `${name}: ${differing} bits differ from PyTorch over ${n} samples`);
  assert.deepEqual(Array.from(batch.preds), expected.preds);
}

for (const name of ['mlp', 'cnn', 'resmlp', 'mixed', 'gelu_tf', 'mlp2d', 'onelayer2d', 'biasfree', 'hard']) {
  test(`${name}: codes equal PyTorch forward hooks bit for bit`, () => checkAgainstTorch(fixture(`${name}.onnx`), name));
}

// Clip layers of 128, 10 and 1200 units (the pair packing's three shapes), with bounds as Constant inputs (opset 14:
// uint8 bits and MatMulInteger) and as attributes (opset 10: float bits and MatMul).
for (const name of ['clips', 'clips10']) {
  test(`${name}: Clip codes equal PyTorch forward hooks bit for bit`, () => checkAgainstTorch(fixture(`${name}.onnx`), name));
}

test('mnist-8 (CNTK export, fixed batch 1): codes equal a PyTorch re-implementation bit for bit', () =>
  checkAgainstTorch(fixture('mnist-8.onnx'), 'mnist8'));

test('the graph edit is lossless: every original output of the code model equals the plain model bit for bit', async () => {
  for (const [path, name] of [...['mlp', 'cnn', 'mixed', 'gelu_tf', 'hard', 'clips10'].map((n) => [fixture(`${n}.onnx`), n]), [fixture('mnist-8.onnx'), 'mnist8']] as const) {
    const lens = await Lens.open(path);
    const { n, data } = toModelInput(readNpy(fixture(`${name}.inputs.npy`)), lens.sampleShape, name);
    const built = codeModel(lens.model.proto, lens.model.opset, lens.layers);
    const plain = await createSession(lens.model.proto, name);
    const coded = await createSession(built.proto, name);
    const feeds = { [lens.model.inputs[0]!.name]: new ort.Tensor('float32', data, [n, ...lens.sampleShape]) };
    const names = lens.model.outputs.map((o) => o.name);
    const a = await plain.run(feeds, names);
    const b = await coded.run(feeds, names);
    for (const o of names) {
      assert.deepEqual(Buffer.from((b[o]!.data as Float32Array).buffer), Buffer.from((a[o]!.data as Float32Array).buffer), `${name}: output ${o}`);
    }
    await plain.release();
    await coded.release();
  }
});
