/** Freeing a fixed batch dimension: done where safe, checked against one-sample runs, and refused otherwise. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lens } from '../../src/core/lens';
import { indexGraph } from '../../src/core/onnx/graph';
import { freeBatch } from '../../src/core/batch';
import { onnx } from '../../src/core/onnx/model';
import { fixture } from '../support/paths';

test('mnist-8 (batch fixed at 1, Reshape to [1, 256]) is freed for batched runs', async () => {
  const lens = await Lens.open(fixture('mnist-8.onnx'));
  assert.equal(lens.fixedBatch, undefined);
  assert.match(lens.summary().batch ?? '', /fixed at 1 in the file; freed/);
  assert.deepEqual(lens.summary().inputs[0]!.shape, [1, 1, 28, 28], 'the summary describes the file as it is');
});

test('a model with a fixed batch of 4 is freed as well, and a dynamic one is left alone', async () => {
  const fixed = await Lens.open(fixture('corpus/models/batch4.onnx'));
  assert.equal(fixed.fixedBatch, undefined);
  const free = await Lens.open(fixture('mlp.onnx'));
  assert.equal(free.summary().batch, 'free');
});

test('freeBatch refuses a graph that mixes samples (a Transpose that moves the batch axis)', async () => {
  const lens = await Lens.open(fixture('mnist-8.onnx'));
  const proto = onnx.ModelProto.decode(onnx.ModelProto.encode(lens.model.proto).finish());
  const relu = proto.graph!.node!.find((n) => n.opType === 'Relu')!;
  const out = relu.output![0]!;
  relu.output = [`${out}_pre`];
  proto.graph!.node!.push(
    onnx.NodeProto.create({
      opType: 'Transpose',
      input: [`${out}_pre`],
      output: [out],
      name: 'swap',
      attribute: [onnx.AttributeProto.create({ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 0, 2, 3] })],
    }),
  );
  const result = freeBatch(proto, indexGraph(proto.graph!), 'Input3', 1);
  assert.ok('reason' in result);
  assert.match(result.reason, /Transpose moves the batch axis/);
});
