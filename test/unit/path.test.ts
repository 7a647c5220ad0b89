/**
 * Paths and exact 1D crossings: the DESIGN.md §3 path convention, PAPER.md invariant 2 (exact >= sampled,
 * converging from below), equality with an independent computation from the weights for one hidden layer, and
 * the mnist-8 case between two digits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lens } from '../../src/core/lens';
import { readNpy, toModelInput } from '../../src/core/inputs';
import { isUserError } from '../../src/core/errors';
import { computePath, pathEndpoints, pathPoints } from '../../src/core/analyses/path';
import { exactCrossings } from '../../src/core/analyses/exact1d';
import { floatValues } from '../../src/core/onnx/model';
import { EnginePool } from '../../src/worker/pool';
import { Rng } from '../../src/core/inputs/random';
import { fixture } from '../support/paths';

async function open(model: string, inputs: string) {
  const lens = await Lens.open(model);
  const { n, data } = toModelInput(readNpy(inputs), lens.sampleShape, inputs);
  return { lens, n, data };
}

test('path points follow DESIGN.md: x_k = a + (k/N)(b - a) in float64, cast to float32', () => {
  const a = [0.1, -3, 7];
  const b = [0.7, 2, -1];
  const xs = pathPoints(a, b, 3);
  for (let k = 0; k <= 3; k++) for (let i = 0; i < 3; i++) assert.equal(xs[k * 3 + i], Math.fround(a[i]! + (k / 3) * (b[i]! - a[i]!)));
  assert.equal(xs[0], Math.fround(0.1));
  assert.equal(xs[9], Math.fround(0.7));
});

test('path: --from / --to out of range is a UserError naming the valid range', async () => {
  const { lens, n, data } = await open(fixture('mlp.onnx'), fixture('mlp.inputs.npy'));
  assert.throws(() => pathEndpoints(data, n, lens.sampleSize, 0, n), (e: unknown) => isUserError(e) && /--to .* out of range.*0\.\.\d+/.test((e as Error).message));
  assert.throws(() => pathEndpoints(data, n, lens.sampleSize, -1, 0), (e: unknown) => isUserError(e) && /--from/.test((e as Error).message));
});

test('path: per-step counts, totals, class changes and densities are consistent', async () => {
  const { lens, n, data } = await open(fixture('cnn.onnx'), fixture('cnn.inputs.npy'));
  const { a, b } = pathEndpoints(data, n, lens.sampleSize, 0, 1);
  const r = await computePath(lens, lens.layers, a, b, { steps: 40 });
  assert.equal(r.per_step.length, 40);
  assert.equal(r.preds.length, 41);
  assert.equal(r.total, r.per_step.reduce((s, x) => s + x, 0));
  for (let k = 0; k < 40; k++) {
    assert.equal(r.per_step[k], r.layers.reduce((s, l) => s + r.per_layer_per_step[l.key]![k]!, 0));
    for (const l of r.layers) {
      const d = r.density[l.key]![k];
      if (r.per_layer_per_step[l.key]![k] === 0) assert.ok(d === 0 || d === null);
      else assert.ok(d === null || d! > 0);
    }
  }
  assert.deepEqual(r.class_changes_at_step, r.preds.slice(0, -1).flatMap((p, k) => (p !== r.preds[k + 1] ? [k] : [])));
  assert.ok(r.distinct_codes_on_path >= 1 && r.distinct_codes_on_path <= 41);
});

for (const name of ['mlp', 'cnn', 'resmlp', 'mixed', 'mlp2d']) {
  test(`${name}: exact crossings >= sampled Hamming total, converging from below (nested step counts)`, async () => {
    const { lens, n, data } = await open(fixture(`${name}.onnx`), fixture(`${name}.inputs.npy`));
    const { a, b } = pathEndpoints(data, n, lens.sampleSize, 1, Math.min(n - 1, 5));
    const exact = await exactCrossings(lens, lens.layers, a, b);
    assert.equal(exact.approximate, false);
    assert.ok(exact.max_residual < (exact.precision === 'float64' ? 1e-9 : 1e-2), `residual ${exact.max_residual}`);
    let previous = 0;
    let last = 0;
    for (const N of [1, 4, 16, 64, 256, 1024]) {
      const r = await computePath(lens, lens.layers, a, b, { steps: N });
      assert.ok(r.total >= previous, `${name}: sampled total must not decrease on a refined grid (${N}: ${r.total} < ${previous})`);
      assert.ok(r.total <= exact.total_flips, `${name}: N=${N}: sampled ${r.total} > exact ${exact.total_flips}`);
      for (const l of r.layers) assert.ok(r.per_layer_total[l.key]! <= exact.flips_per_layer[l.key]!, `${name} ${l.key} N=${N}`);
      previous = last = r.total;
    }
    // Fine enough when no two crossings share a step: then sampling sees every flip.
    const ts = [...new Set(exact.crossings.map((c) => c.t))].sort((x, y) => x - y);
    const gap = Math.min(...ts.slice(1).map((t, i) => t - ts[i]!), 1);
    if (gap > 2 / 1024) assert.equal(last, exact.total_flips, `${name}: sampled at 1024 steps equals exact`);
  });
}

test('onelayer2d: exact crossings equal the sign changes of the affine pre-activations read from the weights', async () => {
  const { lens, n, data } = await open(fixture('onelayer2d.onnx'), fixture('onelayer2d.inputs.npy'));
  const W = floatValues(lens.graph.constants.get('fc1.weight')!)!; // [12, 2], Gemm transB=1
  const c = floatValues(lens.graph.constants.get('fc1.bias')!)!;
  let pairs = 0;
  for (const [i, j] of [[0, 1], [2, 3], [4, 9], [10, 20], [0, 63]] as const) {
    const { a, b } = pathEndpoints(data, n, 2, i, j);
    const z = (u: number, x: ArrayLike<number>) => W[2 * u]! * x[0]! + W[2 * u + 1]! * x[1]! + c[u]!;
    const expected: number[] = [];
    for (let u = 0; u < 12; u++) {
      const z0 = z(u, a);
      const z1 = z(u, b);
      if (z0 > 0 !== z1 > 0) expected.push(z0 / (z0 - z1));
    }
    const exact = await exactCrossings(lens, lens.layers, a, b);
    assert.equal(exact.precision, 'float64');
    assert.equal(exact.total_flips, expected.length, `pair ${i},${j}`);
    const got = exact.crossings.map((x) => x.t).sort((p, q) => p - q);
    expected.sort((p, q) => p - q).forEach((t, k) => assert.ok(Math.abs(t - got[k]!) < 1e-6, `crossing ${k}: ${t} vs ${got[k]}`));
    const r = await computePath(lens, lens.layers, a, b, { steps: 20000 });
    assert.equal(r.total, exact.total_flips, `pair ${i},${j}: fine sampling equals exact for one hidden layer`);
    pairs++;
  }
  assert.equal(pairs, 5);
});

test('gelu_tf: smooth layers give sign crossings flagged approximate', async () => {
  const { lens, n, data } = await open(fixture('gelu_tf.onnx'), fixture('gelu_tf.inputs.npy'));
  const { a, b } = pathEndpoints(data, n, lens.sampleSize, 0, 1);
  const exact = await exactCrossings(lens, lens.layers, a, b);
  assert.equal(exact.approximate, true);
  assert.ok(exact.approximate_layers.length > 0 && exact.note);
});

test('mnist-8: exact crossings between two digits (0 and 1) bound sampled totals from above', async () => {
  const { lens, n, data } = await open(fixture('mnist-8.onnx'), fixture('mnist8.inputs.npy'));
  const { a, b } = pathEndpoints(data, n, lens.sampleSize, 0, 2);
  const exact = await exactCrossings(lens, lens.layers, a, b);
  console.log(`# mnist-8 0->2: ${exact.total_flips} exact flips, ${exact.linear_pieces} pieces, ${exact.precision}, ${exact.seconds.toFixed(2)} s, ${exact.forward_points} points, residual ${exact.max_residual.toExponential(2)}`);
  for (const N of [10, 100]) {
    const r = await computePath(lens, lens.layers, a, b, { steps: N });
    console.log(`#   sampled N=${N}: ${r.total}, class changes at ${r.class_changes_at_step.join(',')}`);
    assert.ok(r.total <= exact.total_flips);
    assert.ok(r.class_changes_at_step.length >= 1, 'the prediction changes between a 0 and a 1');
  }
});

test('worker pool: api.path gives the same result as the engine called directly', async () => {
  const { lens, n, data } = await open(fixture('mlp2d.onnx'), fixture('mlp2d.inputs.npy'));
  const { a, b } = pathEndpoints(data, n, lens.sampleSize, 3, 7);
  const direct = await computePath(lens, lens.layers, a, b, { steps: 50, exact: true });
  const pool = new EnginePool({ workers: 1 });
  try {
    const viaPool = await pool.submit((api) => api.path({ path: fixture('mlp2d.onnx') }, {}, { inputs: fixture('mlp2d.inputs.npy'), from: 3, to: 7, steps: 50, exact: true }));
    assert.deepEqual(viaPool.per_step, direct.per_step);
    assert.deepEqual(viaPool.exact!.crossings, direct.exact!.crossings);
    await assert.rejects(
      pool.submit((api) => api.path({ path: fixture('mlp2d.onnx') }, {}, { inputs: fixture('mlp2d.inputs.npy'), from: 0, to: 10_000, steps: 5 })),
      /out of range/,
    );
  } finally {
    await pool.dispose();
  }
});

test('exact path on a CNN whose breakpoints outgrow memory: one sentence naming their count and size, pointing to the sampled path', async () => {
  // SqueezeNet 1.1 at 64x64 (test/fixtures/torchvision): two uniform random images cross so many boundaries that
  // holding the later layers' pre-activations at every breakpoint would take more than MAX_HELD_BYTES.
  const lens = await Lens.open(fixture('torchvision/squeezenet1_1.onnx'));
  const rng = new Rng(7);
  const [a, b] = [0, 1].map(() => Float64Array.from({ length: lens.sampleSize }, () => rng.uniform()));
  await assert.rejects(exactCrossings(lens, lens.layers, a!, b!), (e: unknown) => {
    const m = (e as Error).message;
    assert.ok(isUserError(e), m);
    assert.match(m, /^--exact found [\d,]+ breakpoints on this segment by layer '[^']+' of squeezenet1_1\.onnx: holding their later layers' pre-activations would need [\d.,]+ GB \(at most 2 GB\); run the path without --exact/);
    return true;
  });
});
