/** PreactRunner: float64 copies of the fixtures load, and the signs of the pre-activations reproduce the codes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lens } from '../../src/core/lens';
import { CodeExtractor } from '../../src/core/extract';
import { getBit } from '../../src/core/bits';
import { readNpy, toModelInput } from '../../src/core/inputs';
import { PreactRunner } from '../../src/core/analyses/preacts';
import { fixture } from '../support/paths';

async function check(path: string, inputs: string, name: string, limit = 16): Promise<string> {
  const lens = await Lens.open(path);
  const { n: all, data: full } = toModelInput(readNpy(inputs), lens.sampleShape, name);
  const n = Math.min(all, limit);
  const data = full.subarray(0, n * lens.sampleSize);
  const layers = lens.layers.filter((l) => l.plan.rule.kind !== 'argmax');
  const runner = await PreactRunner.create(lens, lens.layers, { precision: 'float64' });
  const r = await runner.run(data, n);
  const ex = await CodeExtractor.create(lens, lens.layers);
  const codes = await ex.run(data, n);
  let mismatches = 0;
  let checked = 0;
  lens.layers.forEach((layer, l) => {
    if (!layers.includes(layer)) return;
    const rule = layer.plan.rule;
    const s = runner.sizes[l]!;
    for (let i = 0; i < n; i++) {
      for (let u = 0; u < s; u++) {
        const z = r.preacts[l]![i * s + u]!;
        const bits = rule.kind === 'between' ? [z > runner.bounds[l]!.lo[u]!, z > runner.bounds[l]!.hi[u]!] : [z > 0];
        bits.forEach((b, k) => {
          const bit = getBit(codes.codes, i * ex.codeBytes, ex.offsets[l]! + (rule.kind === 'between' ? 2 * u + k : u));
          checked++;
          if (Number(b) !== bit && Math.abs(z) > 1e-5) mismatches++;
        });
      }
    }
  });
  for (let i = 0; i < n; i++) {
    const per = runner.outputSize;
    let best = 0;
    for (let k = 1; k < per; k++) if (r.outputs[i * per + k]! > r.outputs[i * per + best]!) best = k;
    assert.equal(best, codes.preds[i], `${name}: prediction of sample ${i}`);
  }
  await runner.dispose();
  await ex.dispose();
  assert.equal(mismatches, 0, `${name}: ${mismatches} of ${checked} bits differ`);
  return runner.precision;
}

for (const name of ['mlp', 'cnn', 'resmlp', 'mixed', 'gelu_tf', 'mlp2d', 'onelayer2d', 'biasfree']) {
  test(`${name}: float pre-activations reproduce the codes`, async () => {
    const p = await check(fixture(`${name}.onnx`), fixture(`${name}.inputs.npy`), name);
    console.log(`# ${name}: ${p}`);
  });
}

test('mnist-8: float pre-activations reproduce the codes', async () => {
  const p = await check(fixture('mnist-8.onnx'), fixture('mnist8.inputs.npy'), 'mnist8', 4);
  console.log(`# mnist-8: ${p}`);
});

// onnxruntime-node 1.30's CPU provider: double kernels for Gemm, MatMul, Relu, Clip, MaxPool, Sigmoid, Tanh; none
// for Conv, Erf, LeakyRelu, PRelu, HardSigmoid. The runner must say which precision it used and, when it fell back, why.
for (const [name, model, precision, op] of [
  ['mlp', fixture('mlp.onnx'), 'float64', undefined],
  ['resmlp', fixture('resmlp.onnx'), 'float64', undefined],
  ['hard', fixture('hard.onnx'), 'float32', 'HardSigmoid'],
  ['cnn', fixture('cnn.onnx'), 'float32', 'Conv'],
  ['gelu_tf', fixture('gelu_tf.onnx'), 'float32', 'Erf'],
  ['mixed', fixture('mixed.onnx'), 'float32', undefined],
  ['mnist-8', fixture('mnist-8.onnx'), 'float32', 'Conv'],
] as const) {
  test(`${name}: float64 asked for, ${precision} used${op ? ` (no double ${op} kernel), and the note says why` : ''}`, async () => {
    const lens = await Lens.open(model);
    const runner = await PreactRunner.create(lens, lens.layers, { precision: 'float64' });
    try {
      assert.equal(runner.precision, precision);
      if (precision === 'float64') assert.equal(runner.note, undefined);
      else {
        const m = /^float64 unavailable: onnxruntime's CPU provider has no float64 \(double\) kernel for (\w+) \(node '([^']+)'.*\); float32 used$/.exec(runner.note ?? '');
        assert.ok(m, runner.note);
        if (op) assert.equal(m[1], op);
        // The op named is one of the model's own.
        assert.ok(lens.graph.order.some((n) => n.opType === m[1]), `${m[1]} is in ${name}`);
        const r = await runner.run(new Float32Array(lens.sampleSize), 1);
        assert.equal(r.precision, 'float32');
      }
    } finally {
      await runner.dispose();
    }
  });
}
