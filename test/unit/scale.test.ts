/**
 * Scaling activations (PAPER.md invariant 5): a bias-free ReLU network is positively homogeneous, so scaling a
 * layer's activation by alpha > 0 flips no later bit and changes no prediction; with biases (mlp.onnx) it does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lens } from '../../src/core/lens';
import { CodeExtractor } from '../../src/core/extract';
import { readNpy, toModelInput } from '../../src/core/inputs';
import { scaleActivations, scaledCodes } from '../../src/core/analyses/scale';
import { getBit } from '../../src/core/bits';
import { fixture } from '../support/paths';

async function load(name: string) {
  // The fixtures' copy of mnist-8 keeps the model zoo's file name.
  const lens = await Lens.open(fixture(name === 'mnist8' ? 'mnist-8.onnx' : `${name}.onnx`));
  const { n, data } = toModelInput(readNpy(fixture(`${name}.inputs.npy`)), lens.sampleShape, name);
  return { lens, n, data };
}

test('biasfree: alpha > 0 flips no later bit and changes no prediction; alpha <= 0 does', async () => {
  const { lens, n, data } = await load('biasfree');
  const r = await scaleActivations(lens, data, n, { layer: '/act1/Relu', alphas: [0.25, 0.5, 1, 2, 3, 10, 0, -1] });
  assert.deepEqual(r.later_layers.map((l) => l.key), ['/act2/Relu']);
  for (const a of r.alphas) {
    if (a.alpha > 0) {
      assert.equal(a.flipped_bits_total, 0, `alpha ${a.alpha}: ${a.flipped_bits_total} bits flipped`);
      assert.equal(a.changed_predictions, 0, `alpha ${a.alpha}`);
      assert.equal(a.changed_codes, 0);
    } else {
      assert.ok(a.flipped_bits_total > 0, `alpha ${a.alpha} should flip bits`);
    }
  }
});

test('mlp (with biases): alpha = 3 flips bits of the later layer; alpha = 1 changes nothing', async () => {
  const { lens, n, data } = await load('mlp');
  const key = lens.layers[0]!.plan.key;
  const r = await scaleActivations(lens, data, n, { layer: key, alphas: [1, 3] });
  const [one, three] = r.alphas;
  assert.equal(one!.flipped_bits_total, 0);
  assert.equal(one!.changed_predictions, 0);
  assert.ok(three!.flipped_bits_total > 0, 'alpha = 3 flips bits');
  assert.ok(three!.changed_codes > 0);
});

for (const name of ['mixed', 'cnn', 'mnist8']) {
test(`the Mul edit is lossless: alpha = 1 gives the unmodified codes and predictions (${name}, every layer)`, async () => {
  // cnn's second MaxPool has its bits computed in JS, mnist-8's pools in the graph (argmax indices).
  const { lens, n, data } = await load(name);
  const ex = await CodeExtractor.create(lens, lens.layers);
  const base = await ex.run(data, n);
  await ex.dispose();
  for (let s = 0; s < lens.layers.length - 1; s++) {
    const r = await scaledCodes(lens, data, n, lens.layers[s]!.plan.key, [1]);
    assert.deepEqual(Array.from(r.preds[0]!), Array.from(base.preds));
    r.later.forEach((l, li) => {
      const li0 = lens.layers.indexOf(l);
      const rb = Math.ceil(l.units / 8);
      for (let i = 0; i < n; i++) {
        for (let b = 0; b < l.units; b++) {
          const bit = getBit(r.bits[0]![li]!, i * rb, b);
          assert.equal(bit, getBit(base.codes, i * ex.codeBytes, ex.offsets[li0]! + b), `layer ${l.plan.key} sample ${i} bit ${b}`);
        }
      }
    });
  }
  await assert.rejects(() => scaleActivations(lens, data, n, { layer: 'nope', alphas: [2] }), /No layer named/);
});
}
