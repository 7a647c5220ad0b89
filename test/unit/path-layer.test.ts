/**
 * `path --layer KEY`: interpolation in a layer's activation space, the rest of the network run from the cut.
 * Checked against the whole model: at t = 0 and t = 1 the rest, fed the endpoints' cut values, gives the later
 * layers' codes and predictions of the endpoints themselves; with a skip connection both crossing tensors are
 * fed; exact crossings in that space bound the sampled totals and meet them on a fine grid.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lens } from '../../src/core/lens';
import { readNpy, toModelInput } from '../../src/core/inputs';
import { isUserError } from '../../src/core/errors';
import { CodeExtractor } from '../../src/core/extract';
import { computePath, pathEndpoints } from '../../src/core/analyses/path';
import { cutAt, cutValues } from '../../src/core/analyses/cut';
import { fixture, ROOT } from '../support/paths';

async function open(model: string, inputs: string) {
  const lens = await Lens.open(model);
  const { n, data } = toModelInput(readNpy(inputs), lens.sampleShape, inputs);
  return { lens, n, data };
}

const CASES: [string, string, string][] = [
  ['mlp', fixture('mlp.onnx'), fixture('mlp.inputs.npy')],
  ['resmlp', fixture('resmlp.onnx'), fixture('resmlp.inputs.npy')],
  ['cnn', fixture('cnn.onnx'), fixture('cnn.inputs.npy')],
  ['mnist-8', fixture('mnist-8.onnx'), fixture('mnist8.inputs.npy')],
];

for (const [name, model, inputs] of CASES) {
  test(`${name}: the rest of the network fed the cut values reproduces every later layer's codes and the predictions`, async () => {
    const { lens, n, data } = await open(model, inputs);
    const m = Math.min(n, 8);
    const x = data.subarray(0, m * lens.sampleSize);
    for (let i = 0; i < lens.layers.length - 1; i++) {
      const key = lens.layers[i]!.plan.key;
      const cut = await cutAt(lens, key);
      const later = lens.layers.slice(i + 1);
      assert.deepEqual(cut.rest.layers.map((l) => l.plan.key), later.map((l) => l.plan.key), `${key}: the rest's layers are the later ones`);
      assert.equal(cut.tensors[0]!.name, lens.layers[i]!.plan.output);
      const whole = await CodeExtractor.create(lens, later);
      const rest = await CodeExtractor.create(cut.rest, cut.rest.layers);
      try {
        const expected = await whole.run(x, m);
        const got = await rest.run(await cutValues(lens, cut, x, m), m);
        assert.deepEqual(got.preds, expected.preds, `${name} ${key}: predictions`);
        assert.deepEqual(got.codes, expected.codes, `${name} ${key}: later codes`);
      } finally {
        await whole.dispose();
        await rest.dispose();
      }
    }
  });
}

test('path --layer: endpoints match the input-space path, only later layers are reported, densities per layer length', async () => {
  const { lens, n, data } = await open(fixture('mlp.onnx'), fixture('mlp.inputs.npy'));
  const { a, b } = pathEndpoints(data, n, lens.sampleSize, 0, 3);
  const first = lens.layers[0]!.plan.key;
  const inInput = await computePath(lens, lens.layers, a, b, { steps: 32 });
  const inLayer = await computePath(lens, lens.layers, a, b, { steps: 32, layer: first });
  assert.equal(inLayer.interpolated_in, first);
  assert.deepEqual(inLayer.layers.map((l) => l.key), lens.layers.slice(1).map((l) => l.plan.key), 'the first layer is before the cut: its code does not move');
  assert.equal(inLayer.per_layer_total[first], undefined);
  assert.equal(inLayer.preds[0], inInput.preds[0]);
  assert.equal(inLayer.preds[32], inInput.preds[32]);
  assert.deepEqual(inLayer.cut_tensors, [{ name: lens.layers[0]!.plan.output, elements: lens.layers[0]!.units }]);
  // No skip: the fed vector is the layer's activation, so both densities agree.
  for (let k = 0; k < 32; k++) {
    const d = inLayer.density_in_layer![k]!;
    const e = inLayer.density_input[k]!;
    assert.ok(Math.abs(d - e) <= 1e-3 * Math.max(1, e), `step ${k}: ${d} vs ${e}`);
  }
  assert.equal(inLayer.model, lens.model.name);
});

test('resmlp: cutting inside a residual block feeds both the block activation and the skip tensor, and says so', async () => {
  const { lens, n, data } = await open(fixture('resmlp.onnx'), fixture('resmlp.inputs.npy'));
  const { a, b } = pathEndpoints(data, n, lens.sampleSize, 1, 5);
  const r = await computePath(lens, lens.layers, a, b, { steps: 20, layer: '/blocks.0/act/Relu' });
  assert.deepEqual(
    r.cut_tensors!.map((t) => t.name),
    ['/blocks.0/act/Relu_output_0', '/stem_act/Relu_output_0'],
  );
  assert.match(r.note!, /1 more tensor .* interpolated linearly .*'\/stem_act\/Relu_output_0'/);
  assert.deepEqual(r.layers.map((l) => l.key), ['/blocks.1/act/Relu']);
  // The stem's output reaches the rest only through the block: one tensor crosses there.
  const stem = await computePath(lens, lens.layers, a, b, { steps: 20, layer: '/stem_act/Relu' });
  assert.deepEqual(stem.cut_tensors!.map((t) => t.name), ['/stem_act/Relu_output_0']);
});

for (const [name, layer] of [
  ['mlp', '/act1/Relu'],
  ['resmlp', '/blocks.0/act/Relu'],
  ['cnn', '/features/features.3/MaxPool'],
] as const) {
  test(`${name} --layer ${layer}: exact crossings in the layer's space >= sampled totals, equal to the odd-count flips per step`, async () => {
    const { lens, n, data } = await open(fixture(`${name}.onnx`), fixture(`${name}.inputs.npy`));
    const { a, b } = pathEndpoints(data, n, lens.sampleSize, 1, 5);
    const r = await computePath(lens, lens.layers, a, b, { steps: 8, layer, exact: true });
    const exact = r.exact!;
    assert.equal(exact.approximate, false);
    assert.ok(exact.total_flips > 0, 'the path crosses boundaries after the cut');
    assert.ok(exact.max_residual < (exact.precision === 'float64' ? 1e-9 : 1e-2), `residual ${exact.max_residual}`);
    for (const N of [8, 64, 1024]) {
      const s = N === 8 ? r : await computePath(lens, lens.layers, a, b, { steps: N, layer });
      assert.ok(s.total <= exact.total_flips, `N=${N}: sampled ${s.total} > exact ${exact.total_flips}`);
      // Sampling sees a bit flip in a step exactly when the bit crosses an odd number of times inside it.
      const odd = new Map<string, number>();
      let nearGrid = false;
      for (const c of exact.crossings) {
        const k = Math.min(N - 1, Math.floor(c.t * N));
        if (Math.abs(c.t * N - Math.round(c.t * N)) < 1e-4) nearGrid = true;
        const id = `${c.layer}|${c.unit}|${k}`;
        odd.set(id, (odd.get(id) ?? 0) ^ 1);
      }
      const expected = [...odd.values()].reduce((t, x) => t + x, 0);
      if (!nearGrid) assert.equal(s.total, expected, `N=${N}: sampled total = flips with an odd count per step`);
      if (N === 1024) assert.equal(s.total, exact.total_flips, 'no bit crosses twice within a step of 1/1024');
    }
  });
}

test('path --layer with an unknown key is a one-sentence UserError naming the layers', async () => {
  const { lens, n, data } = await open(fixture('mlp.onnx'), fixture('mlp.inputs.npy'));
  const { a, b } = pathEndpoints(data, n, lens.sampleSize, 0, 1);
  await assert.rejects(computePath(lens, lens.layers, a, b, { steps: 4, layer: '/nope/Relu' }), (e: unknown) => {
    const msg = (e as Error).message;
    return isUserError(e) && /^No layer named '\/nope\/Relu'; the layers are '\/act1\/Relu', '\/act2\/Relu'\.$/.test(msg);
  });
});

test('CLI: path --layer --json runs the rest of the network from the cut; an unknown key exits 1 with one line', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'out/cli/main.js'), 'path', fixture('resmlp.onnx'), '--inputs', fixture('resmlp.inputs.npy'), ...args], { cwd: ROOT, encoding: 'utf8' });
  const ok = cli('--from', '1', '--to', '5', '--steps', '50', '--layer', '/blocks.0/act/Relu', '--exact', '--json');
  assert.equal(ok.status, 0, ok.stderr);
  const r = JSON.parse(ok.stdout);
  assert.equal(r.interpolated_in, '/blocks.0/act/Relu');
  assert.equal(r.cut_tensors.length, 2);
  assert.equal(r.per_step.length, 50);
  assert.ok(r.exact.total_flips >= r.total);
  const bad = cli('--from', '1', '--to', '5', '--layer', '/nope');
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.match(bad.stderr, /No layer named '\/nope'/);
});
