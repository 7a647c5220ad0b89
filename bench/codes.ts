/**
 * Code extraction vs plain forward throughput, measured side by side in one run (issue 3's benchmark).
 *
 *   node out/bench/codes.js                 all models, each in its own child process (own peak RSS)
 *   node out/bench/codes.js --model NAME    one model, prints one JSON line (used by the parent)
 *
 * For each model: plain onnxruntime forward (a single in-process session with onnxruntime's default threads, and
 * the same engine pool the CLI uses running the unmodified model), code extraction through the pool exactly as
 * `polytope-lens codes --out FILE` does it, bytes of packed code per sample, and peak RSS. Each is sized to last
 * about a third of the model's seconds, then the three take turns for three rounds (best of each). The ratio is
 * taken against the faster of the two plain measurements. PyTorch forward-hook numbers come from bench/torch_hooks.py
 * (run separately with Debian's python3-torch; results in bench/torch-results.json).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeProbes } from '../src/core/inputs';
import { PlainForward } from '../src/core/forward';
import { Lens } from '../src/core/lens';
import { chunkSize, runCodes } from '../src/worker/jobs';
import { EnginePool } from '../src/worker/pool';

const ROOT = resolve(__dirname, '../..');
/** The two pretrained models (with their SOURCES.md) live beside the test fixtures. */
const PRETRAINED = join(ROOT, 'test/fixtures');

interface Model {
  name: string;
  path: string;
  /** Probe distribution matching the model's input scale. */
  probes: { type: 'gaussian' } | { type: 'uniform'; lo: number; hi: number };
  /** Seconds each measurement should last, roughly. */
  seconds: number;
}

const MODELS: Model[] = [
  ...['mlp', 'cnn', 'resmlp', 'mixed', 'gelu_tf'].map((name) => ({
    name,
    path: join(ROOT, 'test/fixtures', `${name}.onnx`),
    probes: { type: 'gaussian' as const },
    seconds: 2,
  })),
  { name: 'mnist-8', path: join(PRETRAINED, 'mnist-8.onnx'), probes: { type: 'uniform', lo: 0, hi: 255 }, seconds: 3 },
  { name: 'ultraface', path: join(PRETRAINED, 'ultraface-RFB-320.onnx'), probes: { type: 'uniform', lo: 0, hi: 1 }, seconds: 5 },
];

export interface ModelResult {
  model: string;
  units: number;
  layers: number;
  bytes_per_sample: number;
  n: number;
  plain_single_session_per_s: number;
  plain_pool_per_s: number;
  codes_per_s: number;
  ratio_vs_plain: number;
  peak_rss_mb: number;
  workers: number;
}

/** The sample count at which one call of `f` takes at least `seconds`/3 (or maxN), after a warm-up call. */
async function sizeFor(f: (n: number) => Promise<void>, seconds: number, n0: number, maxN: number): Promise<number> {
  let n = n0;
  await f(Math.min(n, 64));
  for (;;) {
    const t = performance.now();
    await f(n);
    const s = (performance.now() - t) / 1000;
    if (s >= seconds / 3 || n >= maxN) return n;
    n = Math.min(maxN, Math.ceil(n * Math.min(8, Math.max(2, seconds / 3 / Math.max(s, 1e-3)))));
  }
}

/**
 * Samples per second of each measurement, best of ROUNDS rounds in which the measurements take turns: this
 * machine's speed drifts (up to 2x within an hour), and turns make a drift hit all of them alike.
 */
const ROUNDS = 3;
async function interleaved(runs: { f: (n: number) => Promise<void>; n: number }[]): Promise<number[]> {
  const best = runs.map(() => Infinity);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, { f, n }] of runs.entries()) {
      const t = performance.now();
      await f(n);
      best[i] = Math.min(best[i]!, (performance.now() - t) / 1000);
    }
  }
  return runs.map(({ n }, i) => n / best[i]!);
}

async function measure(m: Model): Promise<ModelResult> {
  const lens = await Lens.open(m.path);
  const size = lens.sampleSize;
  const maxN = Math.max(64, Math.floor(2e8 / (size * 4)));
  const data = makeProbes(m.probes, maxN, lens.sampleShape, 0);
  const dir = mkdtempSync(join(tmpdir(), 'pl-bench-'));
  const npy = join(dir, 'inputs.npy');
  const pool = new EnginePool();
  try {
    const single = await PlainForward.create(lens);
    const ref = { path: m.path };
    // Every call runs n samples of the probes made in advance (n <= maxN): that is what is counted.
    const plainSingle = async (n: number) => void (await single.run(data.subarray(0, n * size), n));
    const plainPool = async (n: number) => {
      for await (const _ of pool.forward(ref, data, n, size, chunkFor(lens, n, pool.size))) void _;
    };
    // Codes exactly as `codes --out`: inputs from a .npy file, codes streamed to a file.
    let lastN = 0;
    const codes = async (n: number) => {
      if (n !== lastN) writeNpyF32(npy, data.subarray(0, n * size), [n, ...lens.sampleShape]);
      lastN = n;
      await runCodes(pool, { model: ref, selection: {}, inputs: { kind: 'file', path: npy }, out: join(dir, 'codes.bin') });
    };
    const sized = [];
    for (const f of [plainSingle, plainPool, codes]) sized.push({ f, n: await sizeFor(f, m.seconds, 64, maxN) });
    const [singlePerS, poolPerS, codesPerS] = (await interleaved(sized)) as [number, number, number];
    await single.dispose();
    const bytes = Math.ceil(lens.totalUnits / 8);
    if (statSync(join(dir, 'codes.bin')).size !== lastN * bytes) throw new Error('codes.bin has the wrong size');
    const best = Math.max(singlePerS, poolPerS);
    return {
      model: m.name,
      units: lens.totalUnits,
      layers: lens.layers.length,
      bytes_per_sample: bytes,
      n: sized[2]!.n,
      plain_single_session_per_s: round(singlePerS),
      plain_pool_per_s: round(poolPerS),
      codes_per_s: round(codesPerS),
      ratio_vs_plain: Math.round((codesPerS / best) * 100) / 100,
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      workers: pool.size,
    };
  } finally {
    await pool.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The plain forward pass gets the same task size rule as code extraction (without code bytes). */
function chunkFor(lens: Lens, n: number, workers: number): number {
  return chunkSize(lens.sampleSize, 0, n, workers);
}

function round(x: number): number {
  return x >= 100 ? Math.round(x) : Math.round(x * 100) / 100;
}

function writeNpyF32(path: string, data: Float32Array, shape: number[]): void {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + dict.length + 1) % 64);
  const header = dict + ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head.writeUInt16LE(header.length, 8);
  writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--model');
  if (i >= 0) {
    const m = MODELS.find((x) => x.name === process.argv[i + 1]);
    if (!m) throw new Error(`unknown model ${process.argv[i + 1]}`);
    process.stdout.write(JSON.stringify(await measure(m)) + '\n');
    return;
  }
  const torchFile = join(ROOT, 'bench/torch-results.json');
  const torch = existsSync(torchFile) ? (JSON.parse(readFileSync(torchFile, 'utf8')) as Record<string, { samples_per_s_hooks: number }>) : {};
  const torchKey: Record<string, string> = { ultraface: 'ultraface-RFB-320' };
  const results: (ModelResult & { torch_hooks_per_s?: number; ratio_vs_torch_hooks?: number })[] = [];
  for (const m of MODELS) {
    if (!existsSync(m.path)) {
      process.stderr.write(`skipping ${m.name}: ${m.path} not found\n`);
      continue;
    }
    const out = execFileSync(process.execPath, [__filename, '--model', m.name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const r = JSON.parse(out.trim().split('\n').pop()!) as ModelResult;
    const t = torch[torchKey[m.name] ?? m.name]?.samples_per_s_hooks;
    results.push({ ...r, ...(t ? { torch_hooks_per_s: t, ratio_vs_torch_hooks: Math.round((r.codes_per_s / t) * 100) / 100 } : {}) });
    const x = results.at(-1)!;
    process.stdout.write(
      `${x.model.padEnd(10)} units ${String(x.units).padStart(8)}  plain ${String(x.plain_single_session_per_s).padStart(9)}/s (pool ${String(x.plain_pool_per_s).padStart(9)}/s)  codes ${String(x.codes_per_s).padStart(9)}/s  ratio ${x.ratio_vs_plain.toFixed(2)}  torch hooks ${x.torch_hooks_per_s ?? '-'}/s (x${x.ratio_vs_torch_hooks ?? '-'})  ${x.bytes_per_sample} B/sample  peak RSS ${x.peak_rss_mb} MB\n`,
    );
  }
  const file = join(ROOT, 'bench/results.json');
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  writeFileSync(file, JSON.stringify({ ...previous, codes: { measured: new Date().toISOString(), node: process.version, cpus: require('node:os').cpus().length, results } }, null, 2) + '\n');
  process.stdout.write(`written to ${file}\n`);
}

main().catch((e) => {
  process.stderr.write(String(e instanceof Error ? e.stack : e) + '\n');
  process.exit(1);
});
