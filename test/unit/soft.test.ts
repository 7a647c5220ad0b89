/**
 * Smooth activations (src/core/analyses/soft.ts): soft membership functions, hard codes of smooth layers equal the
 * sign of the pre-activation, and the soft Hamming distance along a path: bounded per step by the unit count,
 * at least the endpoint distance, non-decreasing as steps are refined, and converging (gelu_tf fixture).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lens } from '../../src/core/lens';
import { CodeExtractor } from '../../src/core/extract';
import { getBit } from '../../src/core/bits';
import { readNpy, toModelInput } from '../../src/core/inputs';
import { PreactRunner } from '../../src/core/analyses/preacts';
import { normalCdf, softMembership, softPath } from '../../src/core/analyses/soft';
import { pathEndpoints } from '../../src/core/analyses/path';
import { fixture } from '../support/paths';

test('soft memberships: Phi, sigmoid, (1 + tanh) / 2; the sign code is their rounding', () => {
  assert.ok(Math.abs(normalCdf(0) - 0.5) < 1e-9);
  assert.ok(Math.abs(normalCdf(1.959963985) - 0.975) < 2e-7);
  assert.ok(Math.abs(normalCdf(-1) - 0.158655254) < 2e-7);
  assert.ok(Math.abs(softMembership('SiLU', 2) - 1 / (1 + Math.exp(-2))) < 1e-15);
  assert.ok(Math.abs(softMembership('Tanh', 0.7) - 1 / (1 + Math.exp(-1.4))) < 1e-12);
  for (const op of ['Gelu', 'SiLU', 'Tanh']) for (const z of [-3, -0.01, 0.01, 3]) assert.equal(softMembership(op, z) > 0.5, z > 0, `${op} ${z}`);
  assert.equal(softMembership('Relu', 0.2), 1);
  assert.equal(softMembership('Relu', 0), 0);
});

async function gelu() {
  const lens = await Lens.open(fixture('gelu_tf.onnx'));
  const { n, data } = toModelInput(readNpy(fixture('gelu_tf.inputs.npy')), lens.sampleShape, 'gelu_tf');
  return { lens, n, data };
}

test('gelu_tf: hard codes of GELU / SiLU / Tanh layers equal the sign of the pre-activation, flagged non-exact', async () => {
  const { lens, n, data } = await gelu();
  assert.deepEqual(lens.layers.map((l) => [l.plan.op, l.plan.exact]), [['Gelu', false], ['SiLU', false], ['Tanh', false]]);
  const ex = await CodeExtractor.create(lens, lens.layers);
  const codes = await ex.run(data, n);
  await ex.dispose();
  const runner = await PreactRunner.create(lens, lens.layers, { precision: 'float32' });
  const pre = await runner.run(data, n);
  await runner.dispose();
  let checked = 0;
  lens.layers.forEach((l, li) => {
    const s = runner.sizes[li]!;
    for (let i = 0; i < n; i++) {
      for (let u = 0; u < s; u++) {
        const z = pre.preacts[li]![i * s + u]!;
        assert.equal(getBit(codes.codes, i * ex.codeBytes, ex.offsets[li]! + u), z > 0 ? 1 : 0, `${l.plan.key} sample ${i} unit ${u} z=${z}`);
        checked++;
      }
    }
  });
  assert.ok(checked > 1000);
});

test('gelu_tf: soft Hamming along a path is bounded, grows under refinement and converges', async () => {
  const { lens, n, data } = await gelu();
  const { a, b } = pathEndpoints(data, n, lens.sampleSize, 0, 1);
  const units = lens.layers.reduce((s, l) => s + l.units, 0);
  const totals: number[] = [];
  let endpoint = 0;
  for (const steps of [1, 4, 16, 64, 256, 1024]) {
    const r = await softPath(lens, lens.layers, a, b, steps);
    assert.equal(r.per_step.length, steps);
    for (const d of r.per_step) assert.ok(d >= 0 && d <= units, `step distance ${d} of ${units} units`);
    assert.ok(Math.abs(r.total - Object.values(r.per_layer_total).reduce((s, x) => s + x, 0)) < 1e-9);
    if (steps === 1) endpoint = r.total; // the soft distance of the endpoints: a lower bound for every refinement
    assert.ok(r.total >= endpoint - 1e-9);
    totals.push(r.total);
  }
  // Refining 4x splits every step, so by the triangle inequality the total cannot decrease.
  for (let i = 1; i < totals.length; i++) assert.ok(totals[i]! >= totals[i - 1]! - 1e-9, `totals ${totals.join(', ')}`);
  const last = totals[totals.length - 1]!;
  const prev = totals[totals.length - 2]!;
  assert.ok((last - prev) / last < 0.01, `not converged: ${totals.join(', ')}`);
  console.log(`soft totals for 1, 4, 16, 64, 256, 1024 steps: ${totals.map((t) => t.toFixed(4)).join(', ')}`);
});

test('CLI: path --soft adds soft {per_step, total} to the path result', async () => {
  const { spawnSync } = await import('node:child_process');
  const { join } = await import('node:path');
  const { ROOT } = await import('../support/paths');
  const r = spawnSync(process.execPath, [join(ROOT, 'out/cli/main.js'), 'path', fixture('gelu_tf.onnx'), '--inputs', fixture('gelu_tf.inputs.npy'), '--from', '0', '--to', '1', '--steps', '50', '--soft', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.soft.per_step.length, 50);
  assert.ok(j.soft.total > 0 && Math.abs(j.soft.total - j.soft.per_step.reduce((s: number, x: number) => s + x, 0)) < 1e-9);
  assert.equal(j.soft.membership['/mlp/mlp.1/Erf'], 'Phi(z)');
  const plain = JSON.parse(spawnSync(process.execPath, [join(ROOT, 'out/cli/main.js'), 'path', fixture('gelu_tf.onnx'), '--inputs', fixture('gelu_tf.inputs.npy'), '--from', '0', '--to', '1', '--steps', '50', '--json'], { encoding: 'utf8' }).stdout);
  assert.equal(plain.soft, undefined);
});
