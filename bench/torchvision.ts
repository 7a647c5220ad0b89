/**
 * Real architectures (issue 14's benchmark): the torchvision CNNs of bench/torchvision_corpus.py, 256 seeded
 * Gaussian 224x224 inputs, on this machine (2 cores). For each:
 *   - plain: the unmodified model in one in-process onnxruntime session (its default threads), in batches of 16;
 *   - codes: the whole `polytope-lens codes MODEL --inputs X.npy --out FILE` process, start-up included, with the
 *     peak of the summed RSS of the CLI and its worker processes (sampled every 100 ms);
 *   - hooks: PyTorch's forward with every ReLU's bits recorded and packed, as issue 14 measured it, and with the
 *     MaxPool bits too (the engine's whole code), and PyTorch's plain forward (bench/torchvision_hooks.py, 2
 *     threads), run right after, in the same benchmark run.
 * Plain and codes take turns for ROUNDS rounds (best of each); the hooks script does the same on its side.
 *
 *   node out/bench/torchvision.js [--arch resnet18,alexnet] [--n 256] [--rss-only]
 *
 * --rss-only runs only the codes process, once, and updates each model's peak RSS in the results (its speeds stay
 * those of the last full run: a peak RSS does not depend on the machine's load, a speed does).
 *
 * Writes bench/torchvision-results.json. Targets (issue 14): codes/s >= 1.0x hooks and >= 0.5x plain; peak RSS
 * <= 2 x the model file + 400 MB. Numbers are measured, never asserted.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { PlainForward } from '../src/core/forward';
import { encodeNpy, makeProbes } from '../src/core/inputs';
import { Lens } from '../src/core/lens';
import { ARCHS, CORPUS, makeCorpus } from './lib/corpus';

const ROOT = resolve(__dirname, '../..');
const ROUNDS = 2;
const MB = 2 ** 20;

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};

/** RSS of a process and all its descendants, from /proc (bytes). */
function treeRss(root: number): number {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone
    }
  }
  let sum = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      sum += m ? Number(m[1]) * 1024 : 0;
    } catch {
      // gone
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return sum;
}

/** Runs the CLI's codes job; resolves with its wall time (s) and the peak RSS of its process tree. */
function codesRun(model: string, inputs: string, out: string): Promise<{ seconds: number; peakRss: number }> {
  return new Promise((res, rej) => {
    const t = performance.now();
    const child = spawn(process.execPath, ['out/cli/main.js', 'codes', model, '--inputs', inputs, '--out', out, '--quiet', '--max-model-mb', '1024'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let peak = 0;
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const timer = setInterval(() => (peak = Math.max(peak, treeRss(child.pid!))), 100);
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) rej(new Error(`codes failed: ${err}`));
      else res({ seconds: (performance.now() - t) / 1000, peakRss: peak });
    });
  });
}

async function main(): Promise<void> {
  const archs = arg('--arch')?.split(',') ?? ARCHS;
  const n = Number(arg('--n') ?? 256);
  makeCorpus(archs);
  const tmp = join(ROOT, 'bench/tmp');
  mkdirSync(tmp, { recursive: true });
  const inputs = join(tmp, `torchvision-inputs-${n}.npy`);
  const shape = [3, 224, 224];
  const size = 3 * 224 * 224;
  const data = makeProbes({ type: 'gaussian' }, n, shape, 0);
  if (!existsSync(inputs)) writeFileSync(inputs, encodeNpy({ dtype: 'float32', shape: [n, ...shape], data }));

  const results: Record<string, unknown> = {};
  const file = join(ROOT, 'bench/torchvision-results.json');
  const rssOnly = process.argv.includes('--rss-only');
  for (const arch of archs) {
    const model = join(CORPUS, `${arch}.onnx`);
    if (rssOnly) {
      const c = await codesRun(model, inputs, join(tmp, 'torchvision.codes'));
      const modelMb = statSync(model).size / MB;
      const old = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { models?: Record<string, Record<string, unknown>> }) : {};
      const r = { ...(old.models?.[arch] ?? {}), n, peak_rss_mb: round(c.peakRss / MB), rss_target_mb: round(2 * modelMb + 400), peak_rss_from: '--rss-only run' };
      console.log(`${arch.padEnd(20)} peak RSS ${r.peak_rss_mb} MB (target ${r.rss_target_mb})`);
      writeFileSync(file, JSON.stringify({ ...old, models: { ...(old.models ?? {}), [arch]: r } }, null, 1) + '\n');
      continue;
    }
    const lens = await Lens.open(model, { maxBytes: 2 ** 31 });
    const plainSession = await PlainForward.create(lens);
    const plain = async () => {
      const t = performance.now();
      for (let s = 0; s < n; s += 16) await plainSession.run(data.subarray(s * size, Math.min(n, s + 16) * size), Math.min(16, n - s));
      return (performance.now() - t) / 1000;
    };
    await plainSession.run(data.subarray(0, size), 1);
    let bestPlain = Infinity;
    let bestCodes = Infinity;
    let peakRss = 0;
    for (let r = 0; r < ROUNDS; r++) {
      bestPlain = Math.min(bestPlain, await plain());
      const c = await codesRun(model, inputs, join(tmp, 'torchvision.codes'));
      bestCodes = Math.min(bestCodes, c.seconds);
      peakRss = Math.max(peakRss, c.peakRss);
    }
    await plainSession.dispose();
    const hooks = spawnSync('/usr/bin/python3', ['bench/torchvision_hooks.py', '--arch', arch, '--inputs', inputs, '--rounds', String(ROUNDS)], { cwd: ROOT, encoding: 'utf8' });
    if (hooks.status !== 0) throw new Error(`bench/torchvision_hooks.py ${arch} failed:\n${hooks.stderr}`);
    const torch = JSON.parse(hooks.stdout.trim().split('\n').at(-1)!) as { plain_per_s: number; hooks_per_s: number; hooks_all_per_s: number };
    const modelMb = statSync(model).size / MB;
    const r = {
      bits: lens.totalUnits,
      layers: lens.layers.length,
      n,
      model_mb: round(modelMb),
      plain_onnxruntime_per_s: round(n / bestPlain),
      codes_per_s: round(n / bestCodes),
      codes_seconds: round(bestCodes),
      codes_vs_plain: round(n / bestCodes / (n / bestPlain)),
      torch_plain_per_s: round(torch.plain_per_s),
      torch_hooks_per_s: round(torch.hooks_per_s),
      torch_hooks_all_per_s: round(torch.hooks_all_per_s),
      codes_vs_hooks: round(n / bestCodes / torch.hooks_per_s),
      peak_rss_mb: round(peakRss / MB),
      rss_target_mb: round(2 * modelMb + 400),
      loadavg_1min_after: round(loadavg()[0]!),
    };
    results[arch] = r;
    console.log(`${arch.padEnd(20)} plain ${r.plain_onnxruntime_per_s}/s  codes ${r.codes_per_s}/s (x${r.codes_vs_plain} plain, x${r.codes_vs_hooks} hooks ${r.torch_hooks_per_s}/s)  peak RSS ${r.peak_rss_mb} MB (target ${r.rss_target_mb})`);
    const old = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { models?: Record<string, unknown> }) : {};
    writeFileSync(file, JSON.stringify({ machine: '2 cores', command: 'node out/bench/torchvision.js', rounds: ROUNDS, models: { ...(old.models ?? {}), ...results } }, null, 1) + '\n');
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
