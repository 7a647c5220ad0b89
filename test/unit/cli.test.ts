/**
 * The CLI's JSON contract (README / DESIGN.md §4) through the built CLI: the shape of `summary --json` and
 * `codes --json`, the facts that tie its fields together, and `codes --out FILE` against a run without --out.
 * Error messages are covered by the corpus table in corpus.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { CodesResult, ModelSummary, PolytopeResult } from '../../src/shared/results';
import { ROOT } from '../support/paths';

const CLI = join(ROOT, 'out/cli/main.js');
const MLP = 'test/fixtures/mlp.onnx';
const MLP_X = 'test/fixtures/mlp.inputs.npy';
const MNIST = 'test/fixtures/mnist-8.onnx';
const MNIST_X = 'test/fixtures/mnist8.inputs.npy';

const tmp = mkdtempSync(join(tmpdir(), 'pl-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json<T>(...args: string[]): T {
  const r = cli(...args);
  assert.equal(r.status, 0, `polytope-lens ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr, '');
  return JSON.parse(r.stdout) as T;
}

function bitsSet(hex: string, from: number, count: number): number {
  let n = 0;
  for (let b = from; b < from + count; b++) n += (parseInt(hex[b >> 2]!, 16) >> (3 - (b & 3))) & 1;
  return n;
}

function checkLayers(layers: ModelSummary['layers']): number {
  let offset = 0;
  for (const l of layers) {
    assert.equal(typeof l.key, 'string');
    assert.equal(typeof l.op, 'string');
    assert.equal(typeof l.preact_tensor, 'string');
    assert.equal(typeof l.exact, 'boolean');
    assert.ok(Number.isInteger(l.units) && l.units > 0);
    assert.equal(l.offset, offset, `${l.key}: offset`);
    offset += l.units;
  }
  return offset;
}

test('summary --json: the contract fields', () => {
  const s = json<ModelSummary>('summary', MLP, '--json');
  for (const k of ['model', 'opset', 'inputs', 'outputs', 'layers', 'total_units', 'unsupported']) assert.ok(k in s, k);
  assert.deepEqual([s.model, s.opset], ['mlp.onnx', 14]);
  assert.deepEqual(s.inputs, [{ name: 'input', shape: ['batch', 10], dtype: 'float32' }]);
  assert.deepEqual(s.outputs, [{ name: 'logits', shape: ['batch', 4], dtype: 'float32' }]);
  assert.equal(checkLayers(s.layers), s.total_units);
  assert.equal(s.total_units, 64);
  assert.deepEqual(s.unsupported, []);
});

test('codes --json: the contract fields and the facts that tie them together', () => {
  const r = json<CodesResult>('codes', MLP, '--inputs', MLP_X, '--json');
  for (const k of ['layers', 'n', 'distinct_codes', 'distinct_per_layer', 'samples']) assert.ok(k in r, k);
  const total = checkLayers(r.layers);
  const bytes = Math.ceil(total / 8);
  assert.equal(r.n, 64);
  assert.deepEqual(Object.keys(r.distinct_per_layer), r.layers.map((l) => l.key));
  const samples = r.samples!;
  assert.equal(samples.length, r.n);
  samples.forEach((s, i) => {
    assert.deepEqual(Object.keys(s).sort(), ['active_per_layer', 'code_hex', 'index', 'pred']);
    assert.equal(s.index, i);
    assert.ok(Number.isInteger(s.pred) && s.pred >= 0 && s.pred < 4, `pred ${s.pred}`);
    assert.match(s.code_hex, new RegExp(`^[0-9a-f]{${2 * bytes}}$`));
    // active_per_layer counts the 1 bits of each layer's slice of the code
    assert.deepEqual(s.active_per_layer, r.layers.map((l) => bitsSet(s.code_hex, l.offset, l.units)));
  });
  assert.equal(r.distinct_codes, new Set(samples.map((s) => s.code_hex)).size);
  for (const l of r.layers) {
    const slices = new Set(samples.map((s) => Array.from({ length: l.units }, (_, b) => bitsSet(s.code_hex, l.offset + b, 1)).join('')));
    assert.equal(r.distinct_per_layer[l.key], slices.size, `${l.key}: distinct codes`);
  }
});

test('codes --out FILE writes n * ceil(units/8) bytes equal to the samples of a run without --out (mnist-8, MaxPool bits included)', () => {
  const args = ['codes', MNIST, '--inputs', MNIST_X, '--limit', '6', '--json'];
  const plain = json<CodesResult>(...args);
  const file = join(tmp, 'codes.bin');
  const written = json<CodesResult>(...args, '--out', file);
  assert.equal(written.samples, undefined, 'samples are left out with --out');
  assert.ok(!('samples' in written));
  const total = plain.layers.reduce((a, l) => a + l.units, 0);
  assert.equal(total, 17984);
  const rowBytes = Math.ceil(total / 8);
  const bytes = readFileSync(file);
  assert.equal(bytes.length, 6 * rowBytes);
  assert.equal(bytes.toString('hex'), plain.samples!.map((s) => s.code_hex).join(''));
  assert.deepEqual([written.n, written.distinct_codes, written.distinct_per_layer], [plain.n, plain.distinct_codes, plain.distinct_per_layer]);
});

test('codes: one worker with two onnxruntime threads writes the codes of two one-thread workers (mnist-8, ultraface)', () => {
  for (const [model, source] of [
    [MNIST, ['--inputs', MNIST_X]],
    ['test/fixtures/ultraface-RFB-320.onnx', ['--probes', 'uniform', '--n', '6', '--seed', '3']],
  ] as const) {
    const run = (layout: string[], file: string) => {
      const r = json<CodesResult>('codes', model, ...source, ...layout, '--out', join(tmp, file), '--json');
      return { bytes: readFileSync(join(tmp, file)), stats: r.stats };
    };
    const pooled = run(['--workers', '2', '--threads', '1'], 'pooled.bin');
    const threaded = run(['--workers', '1', '--threads', '2'], 'threaded.bin');
    assert.ok(pooled.bytes.length > 0);
    assert.ok(threaded.bytes.equals(pooled.bytes), `${model}: the same codes`);
    assert.deepEqual(threaded.stats, pooled.stats, model);
  }
});

test('--help prints the usage on stdout and exits 0', () => {
  const r = cli('--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^polytope-lens: .*\n\nUsage:\n/);
  assert.equal(r.stderr, '');
});

test('summary without --json prints the layer table', () => {
  const r = cli('summary', MNIST);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^mnist-8\.onnx {2}\(opset 8, CNTK 2\.5\.1\)/);
  for (const k of ['ReLU32', 'Pooling66', 'ReLU114', 'Pooling160']) assert.ok(r.stdout.includes(k), k);
  assert.match(r.stdout, /total units \(bits\): 17984/);
});

test('CLI: density-study and cluster refuse a labels file of other data (1,437 labels for 360 inputs) in one sentence', () => {
  const d = 'examples/digits';
  for (const cmd of ['density-study', 'cluster']) {
    const r = spawnSync(process.execPath, [CLI, cmd, `${d}/digits.onnx`, '--inputs', `${d}/digits-x.npy`, '--labels', `${d}/digits-train-y.npy`, '--quiet'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 1, `${cmd}: ${r.stderr}`);
    assert.equal(r.stderr.trim(), 'polytope-lens: digits-train-y.npy has 1437 labels but digits-x.npy has 360 inputs: a labels file needs exactly one label per input.', cmd);
  }
  // With --limit the first labels of the file's are used: the file still has one label per input.
  const ok = spawnSync(process.execPath, [CLI, 'cluster', `${d}/digits.onnx`, '--inputs', `${d}/digits-x.npy`, '--labels', `${d}/digits-y.npy`, '--limit', '40', '--k', '5', '--methods', 'kmedoids_codes', '--json'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).n, 40);
});

test('text output says the glossary\'s one names, with units and plurals (#13): regions hit, bits flipped, exact crossings, units cut', () => {
  const d = 'examples/digits';
  const codes = cli('codes', `${d}/digits.onnx`, '--inputs', `${d}/digits-x.npy`, '--limit', '1', '--quiet');
  assert.equal(codes.status, 0, codes.stderr);
  assert.match(codes.stdout, /: 1 input \(/);
  assert.match(codes.stdout, /\n1 region hit \(distinct spline codes of 112 bits; 14 bytes per code\)/);
  assert.match(codes.stdout, /regions hit {2}prefix regions hit/);
  const path = cli('path', `${d}/digits.onnx`, '--inputs', `${d}/digits-x.npy`, '--from', '0', '--to', '1', '--steps', '1', '--exact', '--quiet');
  assert.equal(path.status, 0, path.stderr);
  assert.match(path.stdout, /: 1 step, \d+ bits? flipped \(sampled\), 2 regions hit on the path/);
  assert.match(path.stdout, /bits flipped \(sampled\) {2}exact crossings/);
  assert.match(path.stdout, /\n\d+ exact crossings?, \d+ linear pieces? \(/);
  const local = cli('local', `${d}/digits.onnx`, '--inputs', `${d}/digits-x.npy`, '--limit', '1', '--directions', '1', '--radius', '1', '--quiet');
  assert.equal(local.status, 0, local.stderr);
  assert.match(local.stdout, /local complexity of 1 point, 1 direction, radius 1 \(input units\)/);
  assert.match(local.stdout, /mean total: [\d.]+ units? cut per point/);
  for (const out of [codes.stdout, path.stdout, local.stdout]) {
    assert.doesNotMatch(out, /distinct codes|bit flips|\b1 (inputs|steps|points|directions|paths)\b/);
  }
});

/** The pids of a process's children (Linux /proc). */
function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

/** CPU seconds a process has used (utime + stime of /proc/PID/stat, at 100 ticks per second). */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

test('polytope: Ctrl-C (SIGINT to the process group, as a terminal sends it) during the full facet list prints the facets found so far; a second Ctrl-C quits', async () => {
  const args = [CLI, 'polytope', 'test/fixtures/cnn.onnx', '--inputs', 'test/fixtures/cnn.inputs.npy', '--index', '50', '--box', '0,1', '--json'];
  const run = async (presses: number) => {
    // Its own process group, as a command line started from a terminal.
    const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b));
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    // The worker process is inside the run once it has used 2 s of CPU (starting takes about 0.5 s; the whole run
    // on this CNN 13-22 s on 2 cores): CPU time, not a wall-clock wait, so a loaded machine does not make it early.
    let worker: number | undefined;
    while (worker === undefined) {
      worker = childPids(child.pid!).find((pid) => cpuSeconds(pid) >= 2);
      await new Promise((r) => setTimeout(r, 50));
    }
    for (let p = 0; p < presses; p++) {
      process.kill(-child.pid!, 'SIGINT');
      // The next press once this one was handled (two pending SIGINTs would merge into one).
      for (let w = 0; w < 1000 && !stderr.includes('stopping the facet LPs'); w++) await new Promise((r) => setTimeout(r, 5));
    }
    return { code: await exited, stdout, stderr, worker };
  };
  const stopped = await run(1);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stderr, /stopping the facet LPs; the facets found so far follow/);
  const r = JSON.parse(stopped.stdout) as PolytopeResult;
  assert.equal(r.facets_complete, false);
  assert.equal(r.method.stopped, 'request', JSON.stringify(r.method));
  assert.ok(r.method.unresolved > 0 && r.facets.length > 0, JSON.stringify(r.method));
  // The second press races the stopped run's end (its LPs stop within milliseconds): a press that comes after the
  // facets were printed is too late to quit, so up to three tries; none may die by the signal itself.
  let quit = await run(2);
  assert.notEqual(quit.code, null, 'the CLI handles every Ctrl-C itself');
  for (let t = 1; t < 3 && quit.stdout !== ''; t++) {
    quit = await run(2);
    assert.notEqual(quit.code, null, 'the CLI handles every Ctrl-C itself');
  }
  assert.equal(quit.code, 130, quit.stderr);
  assert.equal(quit.stdout, '');
  // The worker is killed too: gone, or a zombie that nobody reaps yet (its parent, the CLI, has exited).
  const state = () => /^State:\s*(\w)/m.exec(existsSync(`/proc/${quit.worker}/status`) ? readFileSync(`/proc/${quit.worker}/status`, 'utf8') : '')?.[1];
  for (let t = 0; t < 50 && !['Z', undefined].includes(state()); t++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(['Z', undefined].includes(state()), `worker ${quit.worker} state ${state()}`);
});
