/**
 * The density study over the engine pool (src/worker/study.ts, EngineApi.densityStudy): the same result as the
 * in-process densityStudy() on real models, with labels and with predicted classes; progress per chunk; and a
 * cancel that rejects at once and starts no further chunk. The CLI runs it through the pool: its JSON equals the
 * in-process function too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CodeExtractor } from '../../src/core/extract';
import { readNpy, toLabels, toModelInput } from '../../src/core/inputs';
import { Lens } from '../../src/core/lens';
import { densityStudy } from '../../src/core/analyses/density-study';
import type { DensityStudyResult } from '../../src/shared/results';
import { EnginePool } from '../../src/worker/pool';
import { runDensityStudy } from '../../src/worker/study';
import { fixture, ROOT } from '../support/paths';
import { cancelAtSecondProgress } from '../support/cancel';

const DIGITS = join(ROOT, 'examples/digits');

async function inProcess(path: string, inputs: string, labels: ArrayLike<number> | undefined, opts: { pairs: number; steps: number; window: number; permutations: number; seed: number }) {
  const lens = await Lens.open(path);
  const { n, data } = toModelInput(readNpy(inputs), lens.sampleShape, inputs);
  let classes = labels;
  if (!classes) {
    const ex = await CodeExtractor.create(lens, lens.layers);
    classes = (await ex.run(data, n)).preds;
    await ex.dispose();
  }
  const r = await densityStudy(lens, lens.layers, data, n, classes, { ...opts, classSource: labels ? 'labels' : 'predicted' });
  return { r, n, data, sampleSize: lens.sampleSize };
}

test('mlp: the study in 2 workers, 3 pairs per task, equals the in-process study (predicted classes)', async () => {
  const opts = { pairs: 10, steps: 30, window: 3, permutations: 400, seed: 5 };
  const { r, n, data, sampleSize } = await inProcess(fixture('mlp.onnx'), fixture('mlp.inputs.npy'), undefined, opts);
  const pool = new EnginePool({ workers: 2 });
  try {
    const seen: [number, number][] = [];
    const p = await runDensityStudy(pool, { model: { path: fixture('mlp.onnx') }, selection: {}, data, n, sampleSize, ...opts, chunk: 3 }, { onProgress: (d, t) => seen.push([d, t]) });
    assert.deepEqual(p, r);
    assert.equal(r.class_source, 'predicted');
    // 10 different-class pairs in chunks of 3 (3, 3, 3, 1), then 10 control pairs likewise.
    assert.deepEqual(seen.map((s) => s[0]), [3, 6, 9, 10, 13, 16, 19, 20]);
    assert.ok(seen.every((s) => s[1] === 20));
  } finally {
    await pool.dispose();
  }
});

test('digits with labels: the pool study equals the in-process study; p-values are probabilities', async () => {
  const labels = toLabels(readNpy(join(DIGITS, 'digits-y.npy')), 'digits-y.npy');
  const opts = { pairs: 12, steps: 40, window: 4, permutations: 500, seed: 1 };
  const { r, n, data, sampleSize } = await inProcess(join(DIGITS, 'digits.onnx'), join(DIGITS, 'digits-x.npy'), labels, opts);
  const pool = new EnginePool({ workers: 2 });
  try {
    const p = await runDensityStudy(pool, { model: { path: join(DIGITS, 'digits.onnx') }, selection: {}, data, n, sampleSize, labels, ...opts });
    assert.deepEqual(p, r);
    assert.equal(p.class_source, 'labels');
    for (const g of [p.different_class, p.same_class]) assert.ok(g.p_value > 0 && g.p_value <= 1);
  } finally {
    await pool.dispose();
  }
});

test('cancel of a study rejects at once and starts no further chunk; the pool works after it', async () => {
  const path = join(DIGITS, 'digits.onnx');
  const lens = await Lens.open(path);
  const { n, data } = toModelInput(readNpy(join(DIGITS, 'digits-x.npy')), lens.sampleShape, 'digits');
  const pool = new EnginePool({ workers: 2 });
  try {
    const progressed = await cancelAtSecondProgress(pool, (opts) =>
      runDensityStudy(pool, { model: { path }, selection: {}, data, n, sampleSize: lens.sampleSize, pairs: 200, steps: 50, window: 5, permutations: 100, seed: 0, chunk: 2 }, opts),
    );
    assert.equal(progressed, 2);
    assert.equal((await pool.summary({ path })).total_units, 112, 'the pool works after a cancel');
  } finally {
    await pool.dispose();
  }
});

test('density-study CLI (through the pool) prints the in-process result', async () => {
  const opts = { pairs: 8, steps: 30, window: 5, permutations: 2000, seed: 3 };
  const { r } = await inProcess(fixture('mlp.onnx'), fixture('mlp.inputs.npy'), undefined, opts);
  const out = spawnSync(process.execPath, [join(ROOT, 'out/cli/main.js'), 'density-study', fixture('mlp.onnx'), '--inputs', fixture('mlp.inputs.npy'), '--pairs', '8', '--steps', '30', '--seed', '3', '--json'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  assert.deepEqual(JSON.parse(out.stdout) as DensityStudyResult, r);
});
