/**
 * Worker faults, real ones: a worker that runs out of memory, is killed (SIGKILL) mid-run or aborts natively
 * (process.abort() inside onnxruntime's run, through the test-only hook of src/worker/test-faults.ts) fails only its
 * own request with a clear error; the pool replaces it; a second job running at the same time on another worker
 * finishes with the right codes; the next request works. Process workers (the default) and worker threads, where
 * the fault can be survived at all. Bad values (NaN, Inf) are refused with a clear message before any worker runs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { onnx } from 'onnx-proto';
import { isUserError } from '../../src/core/errors';
import { CodeExtractor } from '../../src/core/extract';
import { makeProbes } from '../../src/core/inputs';
import { Lens } from '../../src/core/lens';
import { runCodes, type CodesRequest } from '../../src/worker/jobs';
import { EnginePool, WorkerDiedError } from '../../src/worker/pool';
import { TEST_FAULTS_ENV } from '../../src/worker/test-faults';
import { fixture } from '../support/paths';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pl-faults-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A valid model of 200,000 chained ReLUs (7 MB): decoding it needs far more than a 32 MB worker heap. */
function manyNodesModel(): string {
  const N = 200_000;
  const dims = [{ dimParam: 'N' }, { dimValue: 4 }];
  const node = Array.from({ length: N }, (_, i) => ({ opType: 'Relu', name: `relu${i}`, input: [i === 0 ? 'x' : `t${i}`], output: [i === N - 1 ? 'y' : `t${i + 1}`] }));
  const m = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 14 }],
    graph: { name: 'many', node, input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: dims } } } }], output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: dims } } } }] },
  });
  const path = join(dir, 'many_relus.onnx');
  writeFileSync(path, onnx.ModelProto.encode(m).finish());
  return path;
}

const MLP = fixture('mlp.onnx');
const mlpJob = (n: number): CodesRequest => ({ model: { path: MLP }, selection: {}, inputs: { kind: 'probes', probes: 'gaussian', n, seed: 3 }, chunk: 50 });

/** The codes of mlpJob(n) computed in this process, as hex. */
async function directHex(n: number): Promise<string> {
  const lens = await Lens.open(MLP);
  const ex = await CodeExtractor.create(lens, lens.layers);
  try {
    return Buffer.from((await ex.run(makeProbes({ type: 'gaussian' }, n, lens.sampleShape, 3), n)).codes).toString('hex');
  } finally {
    await ex.dispose();
  }
}

for (const kind of ['process', 'thread'] as const) {
  test(`a ${kind} worker that runs out of memory fails only its request; a concurrent job finishes; the pool replaces the worker`, { timeout: 120_000 }, async () => {
    const big = manyNodesModel();
    const pool = new EnginePool({ workers: 2, kind, resourceLimits: { maxOldGenerationSizeMb: 32 } });
    try {
      const doomed = pool.summary({ path: big });
      doomed.catch(() => undefined);
      const other = runCodes(pool, mlpJob(3000));
      await assert.rejects(doomed, (e: unknown) => {
        assert.ok(e instanceof WorkerDiedError && isUserError(e), String(e));
        assert.match((e as Error).message, /^The analysis worker stopped unexpectedly \(it ran out of memory: the model or the request is too large for the worker\); the request failed/);
        return true;
      });
      const r = await other;
      assert.equal(r.samples!.map((s) => s.code_hex).join(''), await directHex(3000), 'the concurrent job is complete and correct');
      const next = await pool.summary({ path: MLP });
      assert.equal(next.total_units, 64, 'the next request works');
      assert.ok(pool.live <= 2);
    } finally {
      await pool.dispose();
    }
  });
}

test('a thread worker killed mid-request fails only its request; the job on the other worker finishes; the next request works', { timeout: 120_000 }, async () => {
  // Killed while it decodes a large model (JavaScript). Terminating a thread while onnxruntime is running a session
  // aborts the whole process (an uncaught Napi::Error in onnxruntime-node), which is why the pool never terminates
  // busy threads on cancel; see pool.ts. Process workers are killed inside onnxruntime below.
  const big = manyNodesModel();
  const pool = new EnginePool({ workers: 2, kind: 'thread' });
  try {
    await pool.summary({ path: MLP }); // worker 0 exists
    let running = false;
    const doomed = pool.submit(async (api) => {
      running = true;
      return api.summary({ path: big }, {});
    });
    doomed.catch(() => undefined);
    while (!running) await new Promise((r) => setTimeout(r, 5));
    // The second job can only get worker 1 while worker 0 is busy.
    let chunks = 0;
    const other = runCodes(pool, mlpJob(4000), { onProgress: () => void chunks++ });
    // Worker 0 dies once the other job is under way on worker 1 (its first chunk is back), however busy the machine.
    while (chunks === 0) await new Promise((r) => setTimeout(r, 5));
    await pool.terminateWorker(0);
    await assert.rejects(doomed, (e: unknown) => e instanceof WorkerDiedError && /it exited with code 1/.test((e as Error).message));
    const r = await other;
    assert.equal(r.n, 4000);
    assert.equal(r.samples!.map((s) => s.code_hex).join(''), await directHex(4000), 'the other job is complete and correct');
    assert.equal(chunks, 80, 'progress was reported for every chunk');
    assert.equal((await pool.summary({ path: fixture('mnist-8.onnx') })).total_units, 17984, 'the next request works');
  } finally {
    await pool.dispose();
  }
});

/**
 * Worker 0 (a process) is given one long codes task of mnist-8 (onnxruntime runs for seconds); while it runs,
 * `fault` strikes it, once a job of the MLP has started worker 1 and finished a chunk there (starting a worker
 * takes longer than handing worker 0 its 60 MB of input, so worker 0 is then inside onnxruntime's run). The long task fails with `why`; the MLP job is complete
 * and correct; the next request works on a replacement worker.
 */
async function processFaultMidRun(fault: (pool: EnginePool, pid: number) => void, why: string): Promise<void> {
  const mnist = fixture('mnist-8.onnx');
  const pool = new EnginePool({ workers: 2 });
  try {
    await pool.summary({ path: mnist }); // worker 0 exists, mnist-8 is open
    const [pid] = pool.pids;
    const n = 20_000;
    const data = makeProbes({ type: 'uniform', lo: 0, hi: 255 }, n, [1, 28, 28], 4);
    let sent = false;
    const doomed = pool.submit((api) => ((sent = true), api.codes({ path: mnist }, {}, data, n)));
    doomed.catch(() => undefined);
    while (!sent) await new Promise((r) => setImmediate(r));
    // The second job can only get worker 1 while worker 0 is busy; strike once it has delivered a chunk.
    let chunks = 0;
    let struck = false;
    const other = runCodes(pool, mlpJob(4000), {
      onProgress: () => {
        if (++chunks === 1) {
          fault(pool, pid!);
          struck = true;
        }
      },
    });
    await assert.rejects(doomed, (e: unknown) => {
      assert.ok(e instanceof WorkerDiedError && isUserError(e), String(e));
      assert.equal((e as Error).message, `The analysis worker stopped unexpectedly (${why}); the request failed, and the next one starts a new worker.`);
      return true;
    });
    assert.ok(struck);
    const r = await other;
    assert.equal(r.samples!.map((s) => s.code_hex).join(''), await directHex(4000), 'the other job is complete and correct');
    assert.equal(chunks, 80, 'progress was reported for every chunk');
    assert.equal((await pool.summary({ path: mnist })).total_units, 17984, 'the next request works');
    assert.ok(!pool.pids.includes(pid!), 'the dead worker was replaced');
  } finally {
    await pool.dispose();
  }
}

test('a process worker killed (SIGKILL) mid-run fails only its request; the other job finishes; the next request works', { timeout: 120_000 }, async () => {
  await processFaultMidRun((_pool, pid) => process.kill(pid, 'SIGKILL'), 'it was killed (SIGKILL)');
});

test('a native abort in a process worker mid-run fails only its request; the host and the other job live on; the next request works', { timeout: 120_000 }, async () => {
  // The hook is read by the worker from its environment, inherited when the pool forks it.
  process.env[TEST_FAULTS_ENV] = '1';
  try {
    await processFaultMidRun((pool) => pool.injectTestFault(0, 'abort'), 'it crashed with a native abort (SIGABRT)');
  } finally {
    delete process.env[TEST_FAULTS_ENV];
  }
});

test('without the test environment variable a worker ignores the fault hook', { timeout: 60_000 }, async () => {
  const pool = new EnginePool({ workers: 1 });
  try {
    await pool.summary({ path: MLP });
    const [pid] = pool.pids;
    pool.injectTestFault(0, 'abort');
    // Messages arrive in order: once this request is answered, the fault message has been handled.
    assert.equal((await pool.summary({ path: MLP })).total_units, 64);
    assert.deepEqual(pool.pids, [pid], 'the same worker is alive');
  } finally {
    await pool.dispose();
  }
});

test('tasks of a cancelled job that were waiting for a worker never block the next job', { timeout: 60_000 }, async () => {
  const pool = new EnginePool({ workers: 1 });
  try {
    for (let round = 0; round < 3; round++) {
      const ac = new AbortController();
      let chunks = 0;
      const job = runCodes(pool, { ...mlpJob(5000), chunk: 10 }, { signal: ac.signal, onProgress: () => void (++chunks === 2 && ac.abort()) });
      await assert.rejects(job, (e: unknown) => (e as Error).name === 'CancelledError');
    }
    const r = await runCodes(pool, mlpJob(500));
    assert.equal(r.samples!.map((s) => s.code_hex).join(''), await directHex(500));
  } finally {
    await pool.dispose();
  }
});

test('NaN and Inf inputs are refused with a clear message before any worker runs', async () => {
  const pool = new EnginePool({ workers: 1 });
  try {
    for (const [v, text] of [
      [NaN, 'NaN'],
      [Infinity, 'Infinity'],
      [-Infinity, '-Infinity'],
    ] as const) {
      const x = new Float32Array(3 * 10).fill(0.5);
      x[12] = v;
      const path = join(dir, `bad_${text}.npy`);
      writeFileSync(path, npyFloat32(x, [3, 10]));
      await assert.rejects(
        runCodes(pool, { model: { path: MLP }, selection: {}, inputs: { kind: 'file', path } }),
        (e: unknown) => isUserError(e) && (e as Error).message === `bad_${text}.npy: the value ${text} at index [1, 2] (flat index 12) is not a finite number; clean or drop it before probing`,
      );
    }
    assert.equal(pool.tasksStarted, 3, 'only the three summaries ran, no chunk of codes');
    // Probes cannot produce them: a uniform range beyond float32 is refused.
    await assert.rejects(
      runCodes(pool, { model: { path: MLP }, selection: {}, inputs: { kind: 'probes', probes: 'uniform', n: 3, seed: 1, lo: -1e39, hi: 0 } }),
      (e: unknown) => isUserError(e) && /outside float32's finite range/.test((e as Error).message),
    );
  } finally {
    await pool.dispose();
  }
});

/** A C-order float32 .npy file (format 1.0). */
function npyFloat32(data: Float32Array, shape: number[]): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(pre);
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}
