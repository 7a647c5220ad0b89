/** The labels file a data file suggests, and which headers can hold labels (src/extension/dataFiles.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readNpyHeader } from '../../src/core/inputs';
import { canLabel, describeForModel, inputsProblem, labelsNameFor, labelsProblem } from '../../src/extension/dataFiles';
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
  assert.equal(canLabel(y, 359), false, 'too many labels: exactly one per input');
  assert.equal(canLabel(x, 360), false, 'float32 [360, 64] is not a label vector');
  assert.equal(canLabel({ dtype: 'int64', shape: [10, 1] }, 10), true);
  assert.equal(canLabel({ dtype: 'float64', shape: [10] }, 10), false);
});

test('labelsProblem: one sentence for a wrong length, a non-integer dtype and a non-vector shape', () => {
  const dir = join(ROOT, 'examples/digits');
  const train = readNpyHeader(join(dir, 'digits-train-y.npy'));
  assert.equal(labelsProblem(train, 'digits-train-y.npy', 360, 'digits-x.npy'), 'digits-train-y.npy has 1437 labels but digits-x.npy has 360 inputs: a labels file needs exactly one label per input.');
  assert.equal(
    labelsProblem({ dtype: 'float32', shape: [360] }, 'y.npy', 360, 'x.npy'),
    'y.npy cannot be the labels of x.npy: labels must be integers (class ids), but it holds float32 values; save it with y.astype(np.int64).',
  );
  assert.match(labelsProblem({ dtype: 'int64', shape: [360, 2] }, 'y.npy', 360, 'x.npy')!, /1-D array of class ids, one per input, but it has shape \[360, 2\]\.$/);
  assert.equal(labelsProblem({ dtype: 'int64', shape: [360, 1] }, 'y.npy', 360, 'x.npy'), undefined);
});

test('inputsProblem and describeForModel: dtype, shape and whether an array fits the model input', () => {
  assert.equal(inputsProblem({ dtype: 'float32', shape: [360, 64] }, 'x.npy', [64], 'input'), undefined);
  assert.equal(inputsProblem({ dtype: 'float32', shape: [10, 63] }, 'x.npy', [64], 'input'), "x.npy has shape [10, 63] but the model input 'input' needs [N, 64] (64 values per sample).");
  assert.deepEqual(describeForModel({ dtype: 'float32', shape: [360, 8, 8] }, [64]), { detail: 'float32 [360, 8, 8] · fits the model input: 360 samples of [64]', fits: true });
  assert.deepEqual(describeForModel({ dtype: 'int64', shape: [360] }, [64]), { detail: 'int64 [360] · does not fit the model input [N, 64] (64 values per sample)', fits: false });
  assert.deepEqual(describeForModel({ dtype: 'int64', shape: [360] }, undefined), { detail: 'int64 [360]', fits: undefined });
});
