/** Density study: seeded, well-formed, and the permutation p-value is a probability. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lens } from '../../src/core/lens';
import { CodeExtractor } from '../../src/core/extract';
import { readNpy, toModelInput } from '../../src/core/inputs';
import { densityStudy } from '../../src/core/analyses/density-study';
import { fixture } from '../support/paths';

test('mlp: density study is deterministic per seed and well-formed', async () => {
  const lens = await Lens.open(fixture('mlp.onnx'));
  const { n, data } = toModelInput(readNpy(fixture('mlp.inputs.npy')), lens.sampleShape, 'mlp');
  const ex = await CodeExtractor.create(lens, lens.layers);
  const preds = (await ex.run(data, n)).preds;
  await ex.dispose();
  const opts = { pairs: 6, steps: 20, window: 3, permutations: 500, seed: 4, classSource: 'predicted' as const };
  const r = await densityStudy(lens, lens.layers, data, n, preds, opts);
  assert.deepEqual(await densityStudy(lens, lens.layers, data, n, preds, opts), r);
  for (const g of [r.different_class, r.same_class]) {
    assert.ok(g.p_value > 0 && g.p_value <= 1);
    assert.equal(g.aligned_profile.length, 7);
    assert.ok(g.near_mean >= 0 && g.elsewhere_mean >= 0);
  }
  assert.equal(r.different_class.pairs + r.skipped_pairs, 6);
  assert.equal(r.same_class.pairs, 6);
});
