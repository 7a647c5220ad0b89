/** Local complexity: zero in a tiny neighbourhood, growing with the radius (exactly, for the first layer), seeded. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lens } from '../../src/core/lens';
import { readNpy, toModelInput, Rng } from '../../src/core/inputs';
import { computeLocal, orthonormalDirections } from '../../src/core/analyses/local';
import { EnginePool } from '../../src/worker/pool';
import { fixture } from '../support/paths';

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
