/**
 * Bounded memory at scale (issue 6): codes of N uniform 0..255 probes of mnist-8 streamed through the engine pool
 * to a codes file on disk, exactly as `polytope-lens codes MODEL --probes uniform --hi 255 --n N --out FILE
 * --out-format arrow` does it, while the RSS of the host and of its worker processes (added up) is sampled; then
 * the time of `summary` of ultraface-RFB-320 in a fresh pool; then process against thread workers on the same
 * job without a file (samples/s and peak RSS, interleaved rounds so both see the same machine load).
 *
 *   node out/bench/memory.js [--n 1000000] [--format arrow|plcodes|raw|parquet] [--kind process|thread] [--workers W]
 *                            [--worker-heap-mb M] [--compare-n 50000] [--only-codes] [--keep] [--out FILE]
 *
 * Writes bench/memory-results.json: the codes run under `codes` (arrow) or `codes_<format>` (others). With
 * --only-codes, only the codes run, merged into the existing file (the other entries are kept).
 * Targets: peak RSS under 1 GiB; summary of ultraface in seconds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseOutFormat } from '../src/core/codes-file';
import { chunkSize, runCodes } from '../src/worker/jobs';
import { EnginePool } from '../src/worker/pool';
import { WORKER_KINDS, type WorkerKind } from '../src/worker/engine-worker';

const ROOT = resolve(__dirname, '../..');
/** The two pretrained models (with their SOURCES.md) live beside the test fixtures. */
const PRETRAINED = join(ROOT, 'test/fixtures');
const MB = 2 ** 20;

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      n: { type: 'string' },
      format: { type: 'string' },
      kind: { type: 'string' },
      workers: { type: 'string' },
      'worker-heap-mb': { type: 'string' },
      'compare-n': { type: 'string' },
      'compare-run': { type: 'string' },
      'only-codes': { type: 'boolean' },
      keep: { type: 'boolean' },
      out: { type: 'string' },
    },
  });
  if (v['compare-run']) {
    process.stdout.write(JSON.stringify(await compareRun(JSON.parse(v['compare-run']) as CompareSpec)) + '\n');
    return;
  }
  const n = Number(v.n ?? 1_000_000);
  const format = parseOutFormat(v.format ?? 'arrow');
  const kind = workerKind(v.kind ?? 'process');
  const dir = mkdtempSync(join(tmpdir(), 'pl-memory-'));
  const file = join(dir, `codes.${format}`);
  const rssAtStart = process.memoryUsage().rss;
  const pool = new EnginePool({
    kind,
    ...(v.workers ? { workers: Number(v.workers) } : {}),
    ...(v['worker-heap-mb'] ? { resourceLimits: { maxOldGenerationSizeMb: Number(v['worker-heap-mb']) } } : {}),
  });
  const t0 = Date.now();
  const rss = new RssSampler(pool, t0);
  let lastReport = 0;
  try {
    const r = await runCodes(
      pool,
      { model: { path: join(PRETRAINED, 'mnist-8.onnx') }, selection: {}, inputs: { kind: 'probes', probes: 'uniform', n, seed: 1, lo: 0, hi: 255 }, out: file, outFormat: format, samples: false },
      {
        onProgress: (done, total) => {
          if (Date.now() - lastReport > 10_000) {
            lastReport = Date.now();
            const m = process.memoryUsage();
            process.stderr.write(
              `memory: ${done}/${total}, ${((Date.now() - t0) / 1000).toFixed(0)} s, RSS ${(rss.total() / MB).toFixed(0)} MB with workers (host ${(m.rss / MB).toFixed(0)}, heap ${(m.heapUsed / MB).toFixed(0)}, array buffers ${(m.arrayBuffers / MB).toFixed(0)})\n`,
            );
          }
        },
      },
    );
    const seconds = (Date.now() - t0) / 1000;
    const workersHwm = rss.workersPeak();
    rss.stop();
    const hostMaxRss = process.resourceUsage().maxRSS * 1024;
    const fileBytes = statSync(file).size;
    await pool.dispose();
    const only = v['only-codes'] === true;

    // summary of ultraface-RFB-320 in a fresh pool (a cold worker: opening the model is part of it).
    let summaryUltraface: object | undefined;
    if (!only) {
      const sp = new EnginePool({ workers: 1 });
      const s0 = Date.now();
      const s = await sp.summary({ path: join(PRETRAINED, 'ultraface-RFB-320.onnx') });
      summaryUltraface = { seconds: round((Date.now() - s0) / 1000), layers: s.layers.length, total_units: s.total_units, unsupported: s.unsupported.length };
      await sp.dispose();
    }

    const compare = only ? undefined : await compareKinds(Number(v['compare-n'] ?? 50_000), v.workers ? Number(v.workers) : undefined);

    // Peak of the whole: the host's own peak plus its workers' peaks bounds it from above; the sampled sum from below.
    const peak = kind === 'process' ? hostMaxRss + workersHwm : hostMaxRss;
    const codes = {
      command: `polytope-lens codes mnist-8.onnx --probes uniform --lo 0 --hi 255 --n ${n} --seed 1 --out FILE --out-format ${format}`,
      n,
      worker_kind: kind,
      workers: pool.size,
      seconds: round(seconds),
      samples_per_s: Math.round(n / seconds),
      peak_rss_mb: Math.round(peak / MB),
      peak_rss_note: kind === 'process' ? 'host peak RSS + each worker process peak RSS (VmHWM): an upper bound' : 'the process peak RSS (threads included)',
      peak_rss_sampled_mb: Math.round(rss.peak / MB),
      peak_pss_sampled_mb: Math.round(rss.peakPss / MB),
      host_peak_rss_mb: Math.round(hostMaxRss / MB),
      workers_peak_rss_mb: Math.round(workersHwm / MB),
      rss_at_start_mb: Math.round(rssAtStart / MB),
      rss_timeline_s_mb: rss.timeline,
      target_peak_rss_mb: 1024,
      target_met: peak < 1024 * MB,
      file_bytes: fileBytes,
      row_bytes: r.code_bytes,
      bytes_per_row_on_disk: round(fileBytes / n),
      distinct_codes: r.distinct_codes,
      ...(n < 1_000_000 ? { extrapolated_1m_seconds: round((seconds * 1_000_000) / n), extrapolated_1m_file_bytes: Math.round((fileBytes * 1_000_000) / n) } : {}),
    };
    const out = v.out ?? join(ROOT, 'bench/memory-results.json');
    const key = format === 'arrow' ? 'codes' : `codes_${format}`;
    const machine = `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}`;
    const date = new Date().toISOString();
    const result = only
      ? { ...(existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as object) : {}), [key]: { date, machine, ...codes } }
      : { date, machine, [key]: codes, summary_ultraface: summaryUltraface, worker_kinds: compare };
    writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
    process.stdout.write(JSON.stringify(result, null, 1) + `\nwrote ${out}\n`);
  } finally {
    rss.stop();
    if (!v.keep) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${file}\n`);
  }
}

function workerKind(s: string): WorkerKind {
  if ((WORKER_KINDS as readonly string[]).includes(s)) return s as WorkerKind;
  throw new Error(`--kind must be one of ${WORKER_KINDS.join(', ')}`);
}

/** Resident set of a process from /proc (Linux), `field` VmRSS (now) or VmHWM (peak); 0 once it is gone. */
function procRss(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU time (user + system, ms) of the host and its live worker processes so far (threads are in the host's). */
function cpuMs(pool: EnginePool): number {
  const u = process.cpuUsage();
  let ms = (u.user + u.system) / 1000;
  for (const pid of pool.pids) {
    try {
      // Fields 14 and 15 of /proc/PID/stat (utime, stime), in clock ticks of 10 ms, after the ") " that ends the name.
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ms += (Number(f[11]) + Number(f[12])) * 10;
    } catch {
      // gone
    }
  }
  return ms;
}

/** Proportional set size (KB in smaps_rollup): shared pages (Node's and onnxruntime's code) split among processes. */
function procPss(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Samples the RSS of the host plus its worker processes every 100 ms, with a timeline point every 5 s, and their
 * PSS every second. Summed RSS counts the code pages that processes share once per process; summed PSS counts
 * them once, so it is the memory the machine gives the job.
 */
class RssSampler {
  peak = 0;
  peakPss = 0;
  private ticks = 0;
  readonly timeline: [number, number][] = [];
  private readonly timer: NodeJS.Timeout;
  /** Peak RSS (VmHWM) of every worker process seen, by pid, as last read while it lived. */
  private readonly hwm = new Map<number, number>();

  constructor(
    private readonly pool: EnginePool,
    private readonly t0: number,
  ) {
    this.timer = setInterval(() => this.sample(), 100);
  }

  total(): number {
    return process.memoryUsage().rss + this.pool.pids.reduce((a, pid) => a + procRss(pid, 'VmRSS'), 0);
  }

  private sample(): void {
    const rss = this.total();
    for (const pid of this.pool.pids) this.hwm.set(pid, Math.max(this.hwm.get(pid) ?? 0, procRss(pid, 'VmHWM')));
    this.peak = Math.max(this.peak, rss);
    if (this.ticks++ % 10 === 0) this.peakPss = Math.max(this.peakPss, [process.pid, ...this.pool.pids].reduce((a, pid) => a + procPss(pid), 0));
    const t = (Date.now() - this.t0) / 1000;
    if (this.timeline.length === 0 || t - this.timeline[this.timeline.length - 1]![0] >= 5) this.timeline.push([round(t), Math.round(rss / MB)]);
  }

  /** Sum of the workers' peaks (workers replaced during the run included). */
  workersPeak(): number {
    this.sample();
    return [...this.hwm.values()].reduce((a, b) => a + b, 0);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * Process against thread workers: the same codes job (n uniform probes of mnist-8, statistics only) in a fresh pool
 * of each kind, in alternating rounds, at the default chunk and at 16 samples per chunk, where the per-batch cost
 * shows. Reports samples/s (best round), the sampled peak RSS of host plus workers, and the CPU time of host and
 * workers per sample (what the machine pays, whatever else runs on it).
 */
async function compareKinds(n: number, workers: number | undefined) {
  const rounds = 2;
  const size = new EnginePool(workers ? { workers } : {}).size; // (starts no worker)
  const runs: CompareRun[] = [];
  for (const chunk of [chunkSize(784, 2248, n, size), 16]) {
    const m = chunk === 16 ? Math.round(n / 4) : n;
    for (let r = 0; r < rounds; r++) {
      for (const kind of r % 2 === 0 ? WORKER_KINDS : [...WORKER_KINDS].reverse()) {
        // Each run in a fresh process: a host that ran a job before keeps that memory, and worker threads reuse it.
        const spec: CompareSpec = { kind, chunk, n: m, seed: 1 + r, ...(workers ? { workers } : {}) };
        const child = spawnSync(process.execPath, [__filename, '--compare-run', JSON.stringify(spec)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
        if (child.status !== 0) throw new Error(`the ${kind} run of the comparison failed (exit ${child.status})`);
        const run = JSON.parse(child.stdout.trim().split('\n').pop()!) as CompareRun;
        runs.push(run);
        process.stderr.write(`memory: ${kind} workers, chunk ${chunk}: ${Math.round(m / run.seconds)} samples/s, peak RSS ${run.peak_rss_mb} MB, PSS ${run.peak_pss_mb} MB\n`);
      }
    }
  }
  const best = (kind: WorkerKind, chunk: number) => {
    const rs = runs.filter((x) => x.kind === kind && x.chunk === chunk);
    const s = Math.min(...rs.map((x) => x.seconds));
    return {
      samples_per_s: Math.round(rs[0]!.n / s),
      cpu_us_per_sample: Math.min(...rs.map((x) => x.cpu_us_per_sample)),
      peak_rss_mb: Math.max(...rs.map((x) => x.peak_rss_mb)),
      peak_pss_mb: Math.max(...rs.map((x) => x.peak_pss_mb)),
      seconds: s,
      batches: Math.ceil(rs[0]!.n / chunk),
    };
  };
  const summary = [...new Set(runs.map((r) => r.chunk))].map((chunk) => {
    const p = best('process', chunk);
    const t = best('thread', chunk);
    return {
      chunk,
      process: p,
      thread: t,
      process_over_thread_time: round(p.seconds / t.seconds),
      process_over_thread_cpu: round(p.cpu_us_per_sample / t.cpu_us_per_sample),
      // Wall time over the whole job per batch (two workers run batches side by side).
      extra_ms_per_batch_process: round(((p.seconds - t.seconds) * 1000) / p.batches),
      extra_cpu_ms_per_batch_process: round(((p.cpu_us_per_sample - t.cpu_us_per_sample) * chunk) / 1000),
    };
  });
  return { n, rounds, summary, runs };
}

interface CompareSpec {
  kind: WorkerKind;
  chunk: number;
  n: number;
  seed: number;
  workers?: number;
}

type CompareRun = Omit<CompareSpec, 'seed' | 'workers'> & { seconds: number; cpu_us_per_sample: number; peak_rss_mb: number; peak_pss_mb: number };

/** One run of the comparison (in a process of its own). */
async function compareRun(spec: CompareSpec): Promise<CompareRun> {
  const model = { path: join(PRETRAINED, 'mnist-8.onnx') };
  const pool = new EnginePool({ kind: spec.kind, ...(spec.workers ? { workers: spec.workers } : {}) });
  try {
    await pool.summary(model); // start-up and model load are not part of the rate
    const c0 = cpuMs(pool);
    const t0 = Date.now();
    const rss = new RssSampler(pool, t0);
    await runCodes(pool, { model, selection: {}, inputs: { kind: 'probes', probes: 'uniform', n: spec.n, seed: spec.seed, lo: 0, hi: 255 }, samples: false, chunk: spec.chunk });
    const seconds = (Date.now() - t0) / 1000;
    const cpu = cpuMs(pool) - c0;
    rss.stop();
    return { kind: spec.kind, chunk: spec.chunk, n: spec.n, seconds: round(seconds), cpu_us_per_sample: round((cpu * 1000) / spec.n), peak_rss_mb: Math.round(rss.peak / MB), peak_pss_mb: Math.round(rss.peakPss / MB) };
  } finally {
    await pool.dispose();
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`memory: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
