/**
 * `codes --near-ties` (src/core/near-ties.ts) through the built CLI and the worker pool: a unit put onto its
 * threshold is reported, the same unit a little way off is not; exact MaxPool ties of a blank image are counted
 * apart; the statistics add up the per-sample lists. The torchvision corpus (test/corpus) checks the other side:
 * every bit that differs from PyTorch is reported.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PreactRunner } from '../../src/core/analyses/preacts';
import { encodeNpy, readNpy } from '../../src/core/inputs';
import { Lens } from '../../src/core/lens';
import type { CodesResult } from '../../src/shared/results';
import { fixture, ROOT } from '../support/paths';

const tmp = mkdtempSync(join(tmpdir(), 'pl-near-ties-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function codes(model: string, inputs: string, ...extra: string[]): CodesResult {
  const r = spawnSync(process.execPath, ['out/cli/main.js', 'codes', model, '--inputs', inputs, '--near-ties', '--json', '--quiet', ...extra], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as CodesResult;
}

test('near-ties: a unit moved onto its threshold is reported, the same unit 1% of the way back is not', async () => {
  const model = fixture('mlp.onnx');
  const lens = await Lens.open(model);
  const layer = lens.layers[0]!; // /act1/Relu: z = W x + b, affine in x everywhere
  const runner = await PreactRunner.create(lens, [layer], { precision: 'float64' });
  const x0 = Float64Array.from((readNpy(fixture('mlp.inputs.npy')).data as Float32Array).subarray(0, lens.sampleSize));
  const d = Float64Array.from({ length: lens.sampleSize }, (_, i) => Math.sin(i + 1));
  const zAt = async (x: Float64Array) => (await runner.run(x, 1)).preacts[0]!;
  const z0 = await zAt(x0);
  const z1 = await zAt(x0.map((v, i) => v + d[i]!));
  const unit = 3;
  const t = -z0[unit]! / (z1[unit]! - z0[unit]!);
  const at = (s: number) => Float32Array.from(x0, (v, i) => v + s * t * d[i]!);
  const onto = at(1);
  const near = at(0.99);
  const zOnto = await zAt(Float64Array.from(onto));
  const zNear = await zAt(Float64Array.from(near));
  await runner.dispose();
  const scale = (z: Float64Array) => Math.max(...Array.from(z, Math.abs));
  assert.ok(Math.abs(zOnto[unit]!) < 1e-6 * scale(zOnto), `the unit is on its threshold (z = ${zOnto[unit]})`);
  assert.ok(Math.abs(zNear[unit]!) > 1e-3 * scale(zNear), `1% of the way back, the unit is clear of it (z = ${zNear[unit]})`);

  const file = join(tmp, 'onto.npy');
  const both = new Float32Array(2 * lens.sampleSize);
  both.set(onto, 0);
  both.set(near, lens.sampleSize);
  writeFileSync(file, encodeNpy({ dtype: 'float32', shape: [2, lens.sampleSize], data: both }));
  const r = codes(model, file);
  const key = r.layers[0]!.key;
  assert.ok(r.samples![0]!.near_ties![key]?.includes(unit), `unit ${unit} of ${key} is a near-tie at the point on its threshold: ${JSON.stringify(r.samples![0]!.near_ties)}`);
  assert.ok(!(r.samples![1]!.near_ties![key] ?? []).includes(unit), 'and not 1% of the way back');
  assert.equal(r.near_tie_tolerance, 1e-5);
  const listed = (k: 'near_ties' | 'exact_ties', l: string) => r.samples!.reduce((a, s) => a + (s[k]![l]?.length ?? 0), 0);
  for (const s of r.stats) {
    assert.equal(s.near_ties, listed('near_ties', s.key), `${s.key}: the statistics add up the per-sample near-ties`);
    assert.equal(s.exact_ties, 0, `${s.key}: no MaxPool, no exact ties`);
  }
  // A larger tolerance reports at least as much.
  const wide = codes(model, file, '--near-tie-tol', '0.5');
  for (const [i, s] of wide.stats.entries()) assert.ok(s.near_ties! >= r.stats[i]!.near_ties!, `${s.key}: tolerance 0.5 reports at least what 1e-5 does`);
});

test('near-ties: the blank mnist-8 image has exact MaxPool ties (equal maxima, whole windows) and no near-tie there', () => {
  const x = readNpy(fixture('mnist8.inputs.npy'));
  const size = 28 * 28;
  const data = x.data as Float32Array;
  const last = data.subarray((x.shape[0]! - 1) * size);
  assert.ok(last.every((v) => v === 0), 'the fixture\'s last image is blank');
  const file = join(tmp, 'blank.npy');
  writeFileSync(file, encodeNpy({ dtype: 'float32', shape: [1, 1, 28, 28], data: Float32Array.from(last) }));
  const r = codes(fixture('mnist-8.onnx'), file);
  const pool = r.layers.find((l) => l.op === 'MaxPool')!;
  const exact = r.samples![0]!.exact_ties![pool.key] ?? [];
  assert.ok(exact.length > 0, 'a constant map gives equal maxima');
  assert.equal(exact.length % 4, 0, 'whole 2x2 windows');
  assert.deepEqual(r.samples![0]!.near_ties![pool.key] ?? [], [], 'equal is not near: no near-tie in that pool');
  assert.equal(r.stats.find((s) => s.key === pool.key)!.exact_ties, exact.length);
  // The text table shows both columns.
  const text = spawnSync(process.execPath, ['out/cli/main.js', 'codes', fixture('mnist-8.onnx'), '--inputs', file, '--near-ties', '--quiet'], { cwd: ROOT, encoding: 'utf8' });
  assert.match(text.stdout, /near-ties\s+exact ties/);
});
