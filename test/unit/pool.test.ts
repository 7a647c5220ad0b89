/**
 * The engine pool with real workers: results equal the in-process engine, cancel stops the workers of the job,
 * a worker that dies fails only its request, and the next request starts a fresh worker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CodeExtractor } from '../../src/core/extract';
import { encodeNpy, loadInputs, makeProbes, npyRowsSource } from '../../src/core/inputs';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lens } from '../../src/core/lens';
import { CancelledError, EnginePool } from '../../src/worker/pool';
import { runCodes } from '../../src/worker/jobs';
import { fixture } from '../support/paths';
import { cancelAtSecondProgress } from '../support/cancel';

test('codes through the pool, in 7 chunks over 2 workers, equal the in-process engine', async () => {
  const path = fixture('cnn.onnx');
  const lens = await Lens.open(path);
  const n = 100;
  const data = makeProbes({ type: 'uniform', lo: 0, hi: 1 }, n, lens.sampleShape, 7);
  const ex = await CodeExtractor.create(lens, lens.layers);
  const direct = await ex.run(data, n);
  await ex.dispose();
  const pool = new EnginePool({ workers: 2 });
  try {
    const parts: Uint8Array[] = [];
    for await (const b of pool.codes({ path }, {}, data, n, lens.sampleSize, 15)) parts.push(b.codes);
    assert.equal(parts.length, 7);
    assert.deepEqual(Buffer.concat(parts), Buffer.from(direct.codes));
    assert.equal(pool.live, 2);
  } finally {
    await pool.dispose();
  }
});

test('a float32 .npy is read by the workers in place: the same codes as the samples sent, and the same note', async () => {
  const path = fixture('cnn.onnx');
  const lens = await Lens.open(path);
  const n = 100;
  const data = makeProbes({ type: 'uniform', lo: 0, hi: 1 }, n, lens.sampleShape, 11);
  const file = join(mkdtempSync(join(tmpdir(), 'pl-rows-')), 'x.npy');
  writeFileSync(file, encodeNpy({ dtype: 'float32', shape: [n, lens.sampleSize], data }));
  const source = await npyRowsSource(file, lens.sampleShape);
  assert.ok(source, 'a float32 .npy is read in place');
  assert.equal(source.note, loadInputs(file, lens.sampleShape).note);
  const ex = await CodeExtractor.create(lens, lens.layers);
  const direct = await ex.run(data, n);
  await ex.dispose();
  const pool = new EnginePool({ workers: 2 });
  try {
    const r = await runCodes(pool, { model: { path }, selection: {}, inputs: { kind: 'file', path: file }, limit: 90, chunk: 13 });
    assert.equal(r.inputs_note, `${source.note}; first 90 used`);
    assert.equal(r.samples!.map((x) => x.code_hex).join(''), Buffer.from(direct.codes.subarray(0, 90 * ex.codeBytes)).toString('hex'));
    assert.deepEqual(r.samples!.map((x) => x.pred), Array.from(direct.preds.subarray(0, 90)));
  } finally {
    await pool.dispose();
  }
  // Other dtypes are converted on the host, as before.
  writeFileSync(file, encodeNpy({ dtype: 'float64', shape: [n, lens.sampleSize], data: Float64Array.from(data) }));
  assert.equal(await npyRowsSource(file, lens.sampleShape), undefined);
});

test('cancel rejects the job at once, starts no further chunk, and the workers go idle', async () => {
  const path = fixture('mnist-8.onnx');
  const pool = new EnginePool({ workers: 2 });
  try {
    const progressed = await cancelAtSecondProgress(pool, (opts) =>
      runCodes(pool, { model: { path }, selection: {}, inputs: { kind: 'probes', probes: 'uniform', n: 20_000, seed: 1, lo: 0, hi: 255 }, chunk: 64 }, opts),
    );
    assert.ok(progressed < 20_000 / 64, 'the job stopped early');
    assert.equal((await pool.summary({ path })).total_units, 17984, 'the pool works after a cancel');
  } finally {
    await pool.dispose();
  }
});

test('thread workers: cancel during a long onnxruntime run rejects the caller while the run is still going', async () => {
  const path = fixture('mnist-8.onnx');
  const pool = new EnginePool({ workers: 1, kind: 'thread' });
  try {
    await pool.summary({ path });
    const n = 5_000; // one task of about a second or more
    const data = makeProbes({ type: 'uniform', lo: 0, hi: 255 }, n, [1, 28, 28], 2);
    const ac = new AbortController();
    const started = pool.tasksStarted;
    const task = pool.submit((api) => api.codes({ path }, {}, data, n), ac.signal);
    // Cancel once the task has gone to the worker (inside onnxruntime for a second or more), however busy the machine.
    while (pool.tasksStarted === started) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await assert.rejects(task, CancelledError);
    assert.equal(pool.busy, 1, 'the caller was released before the worker finished');
    await pool.idle();
    assert.equal(pool.live, 1, 'the worker was not terminated (that can abort the process inside onnxruntime)');
    assert.equal((await pool.summary({ path })).layers.length, 4);
  } finally {
    await pool.dispose();
  }
});

test('process workers: cancel during a long onnxruntime run kills the worker process, so its CPU is free; the next request works', async () => {
  const path = fixture('mnist-8.onnx');
  const pool = new EnginePool({ workers: 1 });
  try {
    await pool.summary({ path });
    const [pid] = pool.pids;
    assert.ok(pid !== undefined && isAlive(pid));
    const n = 50_000; // one task of several seconds
    const data = makeProbes({ type: 'uniform', lo: 0, hi: 255 }, n, [1, 28, 28], 2);
    const ac = new AbortController();
    let sent = false;
    const task = pool.submit((api) => ((sent = true), api.codes({ path }, {}, data, n)), ac.signal);
    while (!sent) await new Promise((r) => setImmediate(r));
    ac.abort();
    await assert.rejects(task, CancelledError);
    assert.equal(pool.live, 0, 'the worker running the cancelled task left the pool at once');
    // Gone, not merely idle: the operating system no longer knows the process.
    while (isAlive(pid)) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await pool.summary({ path })).layers.length, 4, 'the next request starts a new worker');
    assert.notEqual(pool.pids[0], pid);
  } finally {
    await pool.dispose();
  }
});

test('process workers: cancelling one job kills only its worker; a job running beside it finishes with the right codes', async () => {
  const mnist = fixture('mnist-8.onnx');
  const mlp = fixture('mlp.onnx');
  const pool = new EnginePool({ workers: 2 });
  try {
    await pool.summary({ path: mnist });
    const [pid] = pool.pids;
    const n = 20_000; // one long task on worker 0
    const data = makeProbes({ type: 'uniform', lo: 0, hi: 255 }, n, [1, 28, 28], 3);
    const ac = new AbortController();
    let sent = false;
    const cancelled = pool.submit((api) => ((sent = true), api.codes({ path: mnist }, {}, data, n)), ac.signal);
    cancelled.catch(() => undefined);
    while (!sent) await new Promise((r) => setImmediate(r));
    // The other job starts worker 1; cancel the first once it has delivered a chunk.
    let chunks = 0;
    const other = runCodes(pool, { model: { path: mlp }, selection: {}, inputs: { kind: 'probes', probes: 'gaussian', n: 2000, seed: 9 }, chunk: 50 }, { onProgress: () => void (++chunks === 1 && ac.abort()) });
    await assert.rejects(cancelled, CancelledError);
    const r = await other;
    const lens = await Lens.open(mlp);
    const ex = await CodeExtractor.create(lens, lens.layers);
    const direct = await ex.run(makeProbes({ type: 'gaussian' }, 2000, lens.sampleShape, 9), 2000);
    await ex.dispose();
    assert.equal(r.samples!.map((x) => x.code_hex).join(''), Buffer.from(direct.codes).toString('hex'));
    assert.equal(chunks, 40);
    assert.ok(!pool.pids.includes(pid!), "the cancelled job's worker was killed");
  } finally {
    await pool.dispose();
  }
});

/** Whether a process with this id exists (signal 0 checks without signalling). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const [kind, why] of [
  ['process', 'it was killed (SIGKILL)'],
  ['thread', 'it exited with code 1'],
] as const) {
  test(`a ${kind} worker that dies fails only its request with a clear error; the next request works`, async () => {
    const path = fixture('mlp.onnx');
    const pool = new EnginePool({ workers: 1, kind });
    try {
      const first = pool.submit(async (api) => {
        await api.summary({ path }, {});
        // The worker disappears while the request is outstanding (real faults: test/unit/faults.test.ts).
        setImmediate(() => void pool.terminateAll());
        return new Promise<never>(() => undefined);
      });
      await assert.rejects(first, (e: Error) => e.message.startsWith(`The analysis worker stopped unexpectedly (${why}); the request failed`));
      const s = await pool.summary({ path });
      assert.equal(s.layers.length, 2);
    } finally {
      await pool.dispose();
    }
  });
}

test('a user error in a worker arrives as a UserError with its message', async () => {
  const pool = new EnginePool({ workers: 1 });
  try {
    await assert.rejects(pool.summary({ path: fixture('no-such-model.onnx') }), (e: Error) => e.name === 'UserError' && /no such file/.test(e.message));
  } finally {
    await pool.dispose();
  }
});

test('probes drawn chunk by chunk give the same codes as probes drawn at once', async () => {
  const path = fixture('mlp.onnx');
  const lens = await Lens.open(path);
  const n = 50;
  const ex = await CodeExtractor.create(lens, lens.layers);
  const direct = await ex.run(makeProbes({ type: 'gaussian' }, n, lens.sampleShape, 11), n);
  await ex.dispose();
  const pool = new EnginePool({ workers: 2 });
  try {
    const r = await runCodes(pool, { model: { path }, selection: {}, inputs: { kind: 'probes', probes: 'gaussian', n, seed: 11 }, chunk: 7 });
    const hex = r.samples!.map((s) => s.code_hex).join('');
    assert.equal(hex, Buffer.from(direct.codes).toString('hex'));
    const statsOnly = await runCodes(pool, { model: { path }, selection: {}, inputs: { kind: 'probes', probes: 'gaussian', n, seed: 11 }, samples: false });
    assert.equal(statsOnly.samples, undefined);
    assert.deepEqual(statsOnly.stats, r.stats);
  } finally {
    await pool.dispose();
  }
});

test('probes around a data file: radius 0 reproduces the file (cycled); a radius moves codes', async () => {
  const path = fixture('mlp.onnx');
  const base = fixture('mlp.inputs.npy');
  const pool = new EnginePool({ workers: 2 });
  try {
    const file = await runCodes(pool, { model: { path }, selection: {}, inputs: { kind: 'file', path: base } });
    const n = file.n + 10;
    const around0 = await runCodes(pool, { model: { path }, selection: {}, inputs: { kind: 'probes', probes: 'around', n, seed: 3, base, radius: 0 } });
    assert.deepEqual(
      around0.samples!.map((s) => s.code_hex),
      Array.from({ length: n }, (_, i) => file.samples![i % file.n]!.code_hex),
    );
    const around = await runCodes(pool, { model: { path }, selection: {}, inputs: { kind: 'probes', probes: 'around', n, seed: 3, base, radius: 2 } });
    assert.ok(around.samples!.some((s, i) => s.code_hex !== around0.samples![i]!.code_hex));
    assert.match(around.inputs_note, /L2 ball of radius 2 around the samples of mlp.inputs.npy/);
  } finally {
    await pool.dispose();
  }
});

/** A full garbage collection of this isolate (tests are not started with --expose-gc). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

for (const kind of ['process', 'thread'] as const) {
  test(`the pool of ${kind} workers keeps no reference to the results it delivered (a long job runs in bounded memory)`, async () => {
    const path = fixture('cnn.onnx');
    const lens = await Lens.open(path);
    const pool = new EnginePool({ workers: 2, kind });
    try {
      // In a function of its own: a suspended async function's frame would hold the last batch itself.
      const consume = async () => {
        const refs: WeakRef<Uint8Array>[] = [];
        const data = makeProbes({ type: 'uniform', lo: 0, hi: 1 }, 200, lens.sampleShape, 5);
        for await (const b of pool.codes({ path }, {}, data, 200, lens.sampleSize, 10)) refs.push(new WeakRef(b.codes));
        return refs;
      };
      const refs = await consume();
      assert.equal(refs.length, 20);
      // WeakRefs hold their target until the current job ends, and a message just received can be held a little
      // longer by the IPC channel: a few rounds of collection (a retained batch stays retained however many).
      const alive = () => refs.filter((r) => r.deref() !== undefined).length;
      for (let round = 0; round < 5 && alive() > 0; round++) {
        await new Promise((r) => setTimeout(r, 20));
        collectGarbage();
      }
      assert.equal(alive(), 0, 'every code batch was collected while the pool lives');
      assert.equal(pool.live, 2);
    } finally {
      await pool.dispose();
    }
  });
}

test('process workers: stopPolytope during the facet LPs ends the run with the facets found so far (on one LP thread and with a helper), a subset of the float64 reference facets', async () => {
  const path = fixture('cnn.onnx');
  const ref = (JSON.parse(readFileSync(fixture('polytope.expected.json'), 'utf8')) as { cases: { model: string; index: number; box: [number, number]; facets: { layer: string; unit: number }[] }[] }).cases.find((c) => c.model === 'cnn')!;
  const refSet = new Set(ref.facets.map((f) => `${f.layer}#${f.unit}`));
  const lens = await Lens.open(path);
  const { data } = loadInputs(fixture('cnn.inputs.npy'), lens.sampleShape);
  const x = Float64Array.from(data.subarray(ref.index * lens.sampleSize, (ref.index + 1) * lens.sampleSize));
  const pool = new EnginePool({ workers: 1 });
  try {
    for (const lpThreads of [1, 2]) {
      let asked: Promise<boolean> | undefined;
      let stop: (() => Promise<boolean>) | undefined;
      const { result: r } = await pool.submit(
        (api, task) => ((stop = () => api.stopPolytope(task)), api.polytopeAcross({ path }, { x, index: ref.index, box: ref.box, facets: 'full', lpThreads, progressTask: task })),
        undefined,
        // The LPs' first progress report (50 rows tested): the stop message reaches a worker that is inside them.
        { onProgress: (_done, _total, stage) => void (stage === 'local facets' && (asked ??= stop!())) },
      );
      assert.equal(await asked, true, 'the run was found in the worker');
      assert.equal(r.facets_complete, false);
      assert.equal(r.method.stopped, 'request', JSON.stringify(r.method));
      assert.equal(r.method.local_threads, lpThreads);
      assert.ok(r.method.unresolved > 0, JSON.stringify(r.method));
      assert.match(r.note ?? '', /stopped on request: \d+ of the rows no ray hit were not tested/);
      assert.ok(r.facets.length < ref.facets.length, `${r.facets.length} facets before the stop, ${ref.facets.length} in all`);
      for (const f of r.facets) assert.ok([f, ...(f.also ?? [])].some((u) => refSet.has(`${u.layer}#${u.unit}`)), `${f.layer}#${f.unit} is a reference facet`);
      assert.equal(r.neighbours.length, r.facets.length, 'the neighbours of the facets found still come');
    }
    assert.equal(await pool.submit((api) => api.stopPolytope(12345)), false, 'no such run');
  } finally {
    await pool.dispose();
  }
});
