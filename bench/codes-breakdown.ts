/**
 * Where the time of `codes` goes on the torchvision CNNs (issue 14: "report what stands in the way, measured"), in
 * one process with the CLI's settings (2 onnxruntime threads, tasks of the CLI's size: chunkSize in
 * src/worker/jobs.ts), 64 seeded Gaussian 224x224 inputs:
 *   - plain: the unmodified model (ms per sample);
 *   - code model: the same forward with the bits thresholded and packed in the graph, onnxruntime alone;
 *   - its nodes by kind, from onnxruntime's profiler (a separate profiled run; shares of the code model's kernel
 *     time): the model's own nodes, the bit nodes we add (Greater/Sign/Cast/MatMul...), MaxPool with Indices,
 *     and NCHWc layout changes (Reorder*: a pre-activation read out of the graph leaves onnxruntime's blocked layout);
 *   - JS: reading the outputs into packed codes, pool bits, hashes (CodeExtractor.run minus onnxruntime);
 *   - start-up: the whole `polytope-lens codes MODEL --inputs ONE.npy --out FILE` process for one input (s).
 * Host statistics and the codes file are not in these numbers: the host runs beside the worker.
 *
 *   node esbuild.mjs && node out/bench/codes-breakdown.js [--arch resnet18,googlenet]
 *
 * Writes bench/codes-breakdown-results.json. Numbers are measured, never asserted.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { CodeExtractor } from '../src/core/extract';
import { PlainForward } from '../src/core/forward';
import { encodeNpy, makeProbes } from '../src/core/inputs';
import { codeModel } from '../src/core/instrument';
import { Lens } from '../src/core/lens';
import { ort } from '../src/core/ort';
import { withLoadableModel } from '../src/core/onnx/weights';
import { chunkSize } from '../src/worker/jobs';
import { ARCHS, CORPUS, makeCorpus } from './lib/corpus';

const ROOT = resolve(__dirname, '../..');
const N = 64;
const THREADS = 2;

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};

/** Best of two timed passes of `pass` over the inputs in tasks of `chunk` samples, ms per sample. */
async function msPerSample(chunk: number, pass: (start: number, m: number) => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < 2; round++) {
    const t = performance.now();
    for (let s = 0; s < N; s += chunk) await pass(s, Math.min(chunk, N - s));
    best = Math.min(best, (performance.now() - t) / N);
  }
  return best;
}

/** Kernel time of a profiled code-model run by kind of node (ms per sample). */
async function nodeKinds(lens: Lens, data: Float32Array, chunk: number): Promise<Record<string, number>> {
  const built = codeModel(lens.model.proto, lens.model.opset, lens.layers);
  const prefix = join(tmpdir(), `polytope-lens-profile-${process.pid}`);
  const session = await withLoadableModel(built.proto, (m) =>
    ort.InferenceSession.create(m as string, { graphOptimizationLevel: 'all', executionMode: 'sequential', intraOpNumThreads: THREADS, enableMemPattern: false, enableProfiling: true, profileFilePrefix: prefix }),
  );
  const size = lens.sampleSize;
  const input = lens.model.inputs[0]!.name;
  const fetches = [lens.model.outputs[0]!.name, ...built.outputs.map((o) => o.name)];
  for (let s = 0; s < N; s += chunk) {
    const m = Math.min(chunk, N - s);
    await session.run({ [input]: new ort.Tensor('float32', data.subarray(s * size, (s + m) * size), [m, ...lens.sampleShape]) }, fetches);
  }
  // onnxruntime-node's endProfiling returns nothing: the file is the one its prefix names.
  await session.endProfiling();
  await session.release();
  const name = readdirSync(tmpdir()).find((f) => f.startsWith(basename(prefix)) && f.endsWith('.json'));
  if (!name) throw new Error(`no onnxruntime profile ${prefix}_*.json`);
  const file = join(tmpdir(), name);
  const events = JSON.parse(readFileSync(file, 'utf8')) as { cat?: string; name: string; dur: number; args?: { op_name?: string } }[];
  rmSync(file, { force: true });
  const kinds: Record<string, number> = { model: 0, bits: 0, maxpool_indices: 0, layout: 0 };
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '';
    const added = e.name.includes('__pl_');
    const kind = op.startsWith('Reorder') ? 'layout' : added && op === 'MaxPool' ? 'maxpool_indices' : added ? 'bits' : 'model';
    kinds[kind]! += e.dur / 1000 / N;
  }
  return kinds;
}

async function main(): Promise<void> {
  const archs = arg('--arch')?.split(',') ?? ARCHS;
  makeCorpus(archs);
  const results: Record<string, unknown> = {};
  const shape = [3, 224, 224];
  const data = makeProbes({ type: 'gaussian' }, N, shape, 0);
  const inputs = join(tmpdir(), `polytope-lens-breakdown-${process.pid}.npy`);
  writeFileSync(inputs, encodeNpy({ dtype: 'float32', shape: [1, ...shape], data: data.subarray(0, 3 * 224 * 224) }));
  try {
    for (const arch of archs) {
      const model = join(CORPUS, `${arch}.onnx`);
      const lens = await Lens.open(model, { maxBytes: 2 ** 31 });
      const size = lens.sampleSize;
      const chunk = chunkSize(size, Math.ceil(lens.totalUnits / 8), N, 1);
      const plain = await PlainForward.create(lens, THREADS);
      const ex = await CodeExtractor.create(lens, lens.layers, THREADS);
      const slice = (s: number, m: number) => data.subarray(s * size, (s + m) * size);
      await plain.run(slice(0, 1), 1);
      await ex.run(slice(0, 1), 1);
      const plainMs = await msPerSample(chunk, (s, m) => plain.run(slice(s, m), m));
      // The code model alone: the extractor's session through onnxruntime, without the JS that reads its outputs.
      const session = (ex as unknown as { session: ort.InferenceSession }).session;
      const built = codeModel(lens.model.proto, lens.model.opset, lens.layers);
      const fetches = [lens.model.outputs[0]!.name, ...built.outputs.map((o) => o.name)];
      const input = lens.model.inputs[0]!.name;
      const ortMs = await msPerSample(chunk, (s, m) => session.run({ [input]: new ort.Tensor('float32', slice(s, m), [m, ...lens.sampleShape]) }, fetches));
      const extractMs = await msPerSample(chunk, (s, m) => ex.run(slice(s, m), m));
      await plain.dispose();
      await ex.dispose();
      const kinds = await nodeKinds(lens, data, chunk);
      const kernel = Object.values(kinds).reduce((a, b) => a + b, 0);
      const t = performance.now();
      const run = spawnSync(process.execPath, ['out/cli/main.js', 'codes', model, '--inputs', inputs, '--out', `${inputs}.codes`, '--max-model-mb', '1024', '--quiet'], { cwd: ROOT, encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`codes --limit 1 failed: ${run.stderr}`);
      const startup = (performance.now() - t) / 1000;
      const r = {
        bits: lens.totalUnits,
        task_samples: chunk,
        plain_ms: round(plainMs),
        code_model_ms: round(ortMs),
        code_model_vs_plain: round(ortMs / plainMs),
        code_model_kernel_share: Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, round(v / kernel)])),
        js_ms: round(Math.max(0, extractMs - ortMs)),
        extract_ms: round(extractMs),
        startup_s: round(startup),
        loadavg_1min: round(loadavg()[0]!),
      };
      results[arch] = r;
      const share = r.code_model_kernel_share;
      console.log(
        `${arch.padEnd(20)} plain ${r.plain_ms} ms  code model ${r.code_model_ms} ms (x${r.code_model_vs_plain}; model ${share.model}, bits ${share.bits}, pool indices ${share.maxpool_indices}, layout ${share.layout})  JS ${r.js_ms} ms  start-up ${r.startup_s} s`,
      );
    }
  } finally {
    rmSync(inputs, { force: true });
    rmSync(`${inputs}.codes`, { force: true });
  }
  // Models not measured in this run (--arch) keep their last numbers.
  const file = join(ROOT, 'bench/codes-breakdown-results.json');
  const old = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { models?: Record<string, unknown> }) : {};
  writeFileSync(file, JSON.stringify({ machine: '2 cores', command: 'node out/bench/codes-breakdown.js', n: N, threads: THREADS, models: { ...(old.models ?? {}), ...results } }, null, 1) + '\n');
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
