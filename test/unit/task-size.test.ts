/**
 * How work reaches the workers: samples per task (chunkSize) and the worker process's malloc settings, read from
 * the running process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chunkSize } from '../../src/worker/jobs';
import { EnginePool } from '../../src/worker/pool';
import { fixture } from '../support/paths';

const IMAGE = 3 * 224 * 224;

test('tasks hold about 1 MB of input and codes; samples over 0.5 MB go as many as their pre-activations fit in 64 MB', () => {
  // mnist-8: 784 inputs and 2,248 code bytes a sample, 185 samples in 1 MB; two tasks per worker at most.
  assert.equal(chunkSize(784, 2248, 100_000, 2), 185);
  assert.equal(chunkSize(784, 2248, 300, 2), 75);
  // alexnet (1,288,064 bits) and shufflenet_v2_x0_5 (1,499,008): one sample is 0.76 MB of input and codes.
  assert.equal(chunkSize(IMAGE, 161_008, 256, 1), 10);
  assert.equal(chunkSize(IMAGE, 187_376, 256, 1), 9);
  // densenet121 (17,473,792 bits): 70 MB of pre-activations a sample, one at a time.
  assert.equal(chunkSize(IMAGE, 2_184_224, 256, 1), 1);
  // A few samples still spread over the workers.
  assert.equal(chunkSize(IMAGE, 161_008, 4, 1), 2);
});

test('process workers run with a fixed 32 MiB malloc mmap threshold (task buffers are reused, not mapped afresh)', async (t) => {
  if (process.platform !== 'linux') return t.skip('/proc is Linux only');
  const pool = new EnginePool({ workers: 1 });
  try {
    await pool.summary({ path: fixture('mlp.onnx') });
    const [pid] = pool.pids;
    assert.ok(pid !== undefined);
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    assert.ok(env.includes(`MALLOC_MMAP_THRESHOLD_=${32 * 2 ** 20}`), env.filter((e) => e.startsWith('MALLOC')).join(' ') || 'no MALLOC_ variable');
  } finally {
    await pool.dispose();
  }
});
