/** Local complexity: zero in a tiny neighbourhood, growing with the radius (exactly, for the first layer), seeded. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lens } from '../../src/core/lens';
import { readNpy, toModelInput, Rng } from '../../src/core/inputs';
import { computeLocal, orthonormalDirections } from '../../src/core/analyses/local';
import { defaultLocalRadius, medianPairDistance } from '../../src/core/analyses/local-radius';
import { join } from 'node:path';
import { EnginePool } from '../../src/worker/pool';
import { fixture, ROOT } from '../support/paths';

async function open(name: string) {
  const lens = await Lens.open(fixture(`${name}.onnx`));
  const { n, data } = toModelInput(readNpy(fixture(`${name}.inputs.npy`)), lens.sampleShape, name);
  return { lens, n, data };
}

test('directions are orthonormal and seeded', () => {
  const d = orthonormalDirections(new Rng(3), 5, 10);
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 5; j++) {
      let dot = 0;
      for (let k = 0; k < 10; k++) dot += d[i]![k]! * d[j]![k]!;
      assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-12);
    }
  }
  assert.deepEqual(orthonormalDirections(new Rng(3), 5, 10), d);
});

test('mlp: count is 0 for r -> 0, grows with r (monotone for the exact first layer), deterministic per seed', async () => {
  const { lens, data } = await open('mlp');
  const n = 8;
  const x = data.subarray(0, n * lens.sampleSize);
  const tiny = await computeLocal(lens, lens.layers, x, n, { directions: 8, radius: 1e-9, seed: 1 });
  assert.equal(tiny.mean_total, 0);
  assert.deepEqual(tiny.exact_layers, [lens.layers[0]!.plan.key]);
  const first = lens.layers[0]!.plan.key;
  let prev = tiny;
  for (const radius of [0.01, 0.1, 1, 10]) {
    const r = await computeLocal(lens, lens.layers, x, n, { directions: 8, radius, seed: 1 });
    r.per_point.forEach((p, i) => assert.ok(p.per_layer[0]! >= prev.per_point[i]!.per_layer[0]!, `point ${i}, r=${radius}`));
    prev = r;
  }
  assert.ok(prev.mean_per_layer[first]! > 0 && prev.mean_total > 0);
  const again = await computeLocal(lens, lens.layers, x, n, { directions: 8, radius: 1, seed: 1 });
  const same = await computeLocal(lens, lens.layers, x, n, { directions: 8, radius: 1, seed: 1 });
  assert.deepEqual(same, again);
});

test('cnn (MaxPool) and mixed (Clip): local counts run and are bounded by the units; worker API agrees', async () => {
  for (const name of ['cnn', 'mixed']) {
    const { lens, data } = await open(name);
    const r = await computeLocal(lens, lens.layers, data.subarray(0, 3 * lens.sampleSize), 3, { directions: 20, radius: 0.05, seed: 7 });
    for (const p of r.per_point) p.per_layer.forEach((c, l) => assert.ok(c >= 0 && c <= lens.layers[l]!.units));
    const pool = new EnginePool({ workers: 1 });
    try {
      const w = await pool.submit((api) => api.local({ path: fixture(`${name}.onnx`) }, {}, { inputs: fixture(`${name}.inputs.npy`), n: 3, directions: 20, radius: 0.05, seed: 7 }));
      assert.deepEqual(w.per_point, r.per_point);
    } finally {
      await pool.dispose();
    }
  }
});

test('--shard K/N: the shards of a run hold its points, with the same directions and global indices', async () => {
  const pool = new EnginePool({ workers: 1 });
  try {
    const req = { inputs: fixture('mlp.inputs.npy'), n: 10, directions: 6, radius: 0.3, seed: 5 };
    const whole = await pool.submit((api) => api.local({ path: fixture('mlp.onnx') }, {}, req));
    assert.equal(whole.n, 10);
    const parts = [];
    for (let k = 1; k <= 3; k++) {
      const s = await pool.submit((api) => api.local({ path: fixture('mlp.onnx') }, {}, { ...req, shard: { k, n: 3 } }));
      assert.deepEqual(s.shard, { k, n: 3, first: [0, 3, 6][k - 1], total: 10 });
      parts.push(...s.per_point);
    }
    assert.deepEqual(parts, whole.per_point);
    assert.ok(whole.per_point.some((p) => p.total > 0), 'the radius cuts some units');
  } finally {
    await pool.dispose();
  }
});

test('default radius: 5 % of the median distance between inputs; on the digits example it cuts units around nearly every input', async () => {
  // Three points on a line: distances 1, 1, 2 (median 1); four: 1, 1, 1, 2, 2, 3 (median 1.5); scaled data, scaled median.
  assert.equal(medianPairDistance(Float32Array.from([0, 1, 2]), 3, 1), 1);
  assert.equal(medianPairDistance(Float32Array.from([0, 0, 3, 4, 0, 0, 3, 4]), 4, 2), 5);
  assert.equal(medianPairDistance(Float32Array.from([0, 1, 2, 3]), 4, 1), 1.5);
  assert.equal(medianPairDistance(Float32Array.from([0, 16, 32, 48]), 4, 1), 24);
  assert.equal(medianPairDistance(Float32Array.from([5]), 1, 1), 0);
  assert.equal(defaultLocalRadius(0), 1, 'all inputs equal: a radius that still means something');
  assert.equal(defaultLocalRadius(3.0790), 0.154);

  const lens = await Lens.open(join(ROOT, 'examples/digits/digits.onnx'));
  const { n, data } = toModelInput(readNpy(join(ROOT, 'examples/digits/digits-x.npy')), lens.sampleShape, 'digits-x.npy');
  const median = medianPairDistance(data, n, lens.sampleSize);
  // Pixels in 0..1, 64 of them: inputs are a few units apart.
  assert.ok(median > 1 && median < 8, `median distance ${median}`);
  const radius = defaultLocalRadius(median);
  const r = await computeLocal(lens, lens.layers, data, n, { directions: 20, radius, seed: 0 });
  const cut = r.per_point.filter((p) => p.total > 0).length;
  assert.ok(cut >= 0.9 * n, `units cut around ${cut} of ${n} inputs at radius ${radius}`);
  assert.ok(r.mean_total >= 2, `mean ${r.mean_total} units cut at radius ${radius}`);
  // The old fixed default (0.005) showed a nearly empty chart on the same inputs.
  const old = await computeLocal(lens, lens.layers, data, n, { directions: 20, radius: 0.005, seed: 0 });
  assert.ok(old.mean_total < 0.5 && old.mean_total < r.mean_total / 4, `radius 0.005: mean ${old.mean_total}`);
});
