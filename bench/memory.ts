/**
 * Bounded memory at scale (issue 6): codes of N uniform 0..255 probes of mnist-8 streamed through the engine pool
 * to a codes file on disk, exactly as `polytope-lens codes MODEL --probes uniform --hi 255 --n N --out FILE
 * --out-format arrow` does it, while the process's RSS is sampled (workers are threads, so it includes them);
 * then the time of `summary` of ultraface-RFB-320 in a fresh pool.
 *
 *   node out/bench/memory.js [--n 1000000] [--format arrow|plcodes|raw] [--workers W] [--worker-heap-mb M] [--keep]
 *
 * Writes bench/memory-results.json. Targets: peak RSS under 1 GiB; summary of ultraface in seconds.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseOutFormat } from '../src/core/codes-file';
import { runCodes } from '../src/worker/jobs';
import { EnginePool } from '../src/worker/pool';

const ROOT = resolve(__dirname, '../..');
const SHARED = resolve(ROOT, '../shared/models');
const MB = 2 ** 20;

async function main(): Promise<void> {
  const { values: v } = parseArgs({ options: { n: { type: 'string' }, format: { type: 'string' }, workers: { type: 'string' }, 'worker-heap-mb': { type: 'string' }, keep: { type: 'boolean' }, out: { type: 'string' } } });
  const n = Number(v.n ?? 1_000_000);
  const format = parseOutFormat(v.format ?? 'arrow');
  const dir = mkdtempSync(join(tmpdir(), 'pl-memory-'));
  const file = join(dir, `codes.${format}`);
  const rssAtStart = process.memoryUsage().rss;
  let sampledPeak = rssAtStart;
  const timeline: [number, number][] = [];
  const t0 = Date.now();
  const sampler = setInterval(() => {
    const rss = process.memoryUsage().rss;
    sampledPeak = Math.max(sampledPeak, rss);
    if (timeline.length === 0 || Date.now() - t0 - timeline[timeline.length - 1]![0] * 1000 >= 5000) timeline.push([(Date.now() - t0) / 1000, Math.round(rss / MB)]);
  }, 100);
  const pool = new EnginePool({
    ...(v.workers ? { workers: Number(v.workers) } : {}),
    ...(v['worker-heap-mb'] ? { resourceLimits: { maxOldGenerationSizeMb: Number(v['worker-heap-mb']) } } : {}),
  });
  let lastReport = 0;
  try {
    const r = await runCodes(
      pool,
      { model: { path: join(SHARED, 'mnist-8.onnx') }, selection: {}, inputs: { kind: 'probes', probes: 'uniform', n, seed: 1, lo: 0, hi: 255 }, out: file, outFormat: format, samples: false },
      {
        onProgress: (done, total) => {
          if (Date.now() - lastReport > 10_000) {
            lastReport = Date.now();
            const m = process.memoryUsage();
            process.stderr.write(
              `memory: ${done}/${total}, ${((Date.now() - t0) / 1000).toFixed(0)} s, RSS ${(m.rss / MB).toFixed(0)} MB (heap ${(m.heapUsed / MB).toFixed(0)}, array buffers ${(m.arrayBuffers / MB).toFixed(0)})\n`,
            );
          }
        },
      },
    );
    const seconds = (Date.now() - t0) / 1000;
    clearInterval(sampler);
    const maxRss = process.resourceUsage().maxRSS * 1024;
    const fileBytes = statSync(file).size;
    await pool.dispose();

    // summary of ultraface-RFB-320 in a fresh pool (a cold worker: opening the model is part of it).
    const sp = new EnginePool({ workers: 1 });
    const s0 = Date.now();
    const s = await sp.summary({ path: join(SHARED, 'ultraface-RFB-320.onnx') });
    const summarySeconds = (Date.now() - s0) / 1000;
    await sp.dispose();

    const result = {
      date: new Date().toISOString(),
      machine: `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}`,
      codes: {
        command: `polytope-lens codes mnist-8.onnx --probes uniform --lo 0 --hi 255 --n ${n} --seed 1 --out FILE --out-format ${format}`,
        n,
        workers: pool.size,
        seconds: round(seconds),
        samples_per_s: Math.round(n / seconds),
        peak_rss_mb: Math.round(maxRss / MB),
        peak_rss_sampled_mb: Math.round(sampledPeak / MB),
        rss_at_start_mb: Math.round(rssAtStart / MB),
        rss_timeline_s_mb: timeline,
        target_peak_rss_mb: 1024,
        target_met: maxRss < 1024 * MB,
        file_bytes: fileBytes,
        row_bytes: r.code_bytes,
        bytes_per_row_on_disk: round(fileBytes / n),
        distinct_codes: r.distinct_codes,
        ...(n < 1_000_000 ? { extrapolated_1m_seconds: round((seconds * 1_000_000) / n), extrapolated_1m_file_bytes: Math.round((fileBytes * 1_000_000) / n) } : {}),
      },
      summary_ultraface: { seconds: round(summarySeconds), layers: s.layers.length, total_units: s.total_units, unsupported: s.unsupported.length },
    };
    const out = v.out ?? join(ROOT, 'bench/memory-results.json');
    writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
    process.stdout.write(JSON.stringify(result, null, 1) + `\nwrote ${out}\n`);
  } finally {
    clearInterval(sampler);
    if (!v.keep) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${file}\n`);
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
