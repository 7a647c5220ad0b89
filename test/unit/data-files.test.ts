/** The labels file a data file suggests, and which headers can hold labels (src/extension/dataFiles.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readNpyHeader } from '../../src/core/inputs';
import { canLabel, labelsNameFor } from '../../src/extension/dataFiles';
import { ROOT } from '../support/paths';

test('labelsNameFor: -x / X_ / .inputs names map to their labels names', () => {
  assert.deepEqual(labelsNameFor('/w/examples/digits/digits-x.npy'), ['digits-y.npy']);
  assert.deepEqual(labelsNameFor('digits-train-x.npy'), ['digits-train-y.npy']);
  assert.deepEqual(labelsNameFor('X_test.npy'), ['y_test.npy']);
  assert.deepEqual(labelsNameFor('mlp.inputs.npy'), ['mlp.labels.npy']);
  assert.deepEqual(labelsNameFor('images.npy'), []);
});

test('canLabel: the example labels can label the example data, its inputs cannot', () => {
  const dir = join(ROOT, 'examples/digits');
  const y = readNpyHeader(join(dir, 'digits-y.npy'));
  const x = readNpyHeader(join(dir, 'digits-x.npy'));
  assert.equal(canLabel(y, 360), true);
  assert.equal(canLabel(y, 361), false, 'too few labels');
  assert.equal(canLabel(x, 360), false, 'float32 [360, 64] is not a label vector');
  assert.equal(canLabel({ dtype: 'int64', shape: [10, 1] }, 10), true);
  assert.equal(canLabel({ dtype: 'float64', shape: [10] }, 10), false);
});
