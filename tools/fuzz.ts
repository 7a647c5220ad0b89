/**
 * `npm run fuzz -- --n 10000 --seed 1 [--jobs 2] [--batch 100] [--timeout-ms 60000] [--start K] [--only K]`
 *
 * Seeded fuzzing of the engine with mutated ONNX models (tools/fuzz-mutate.ts): each mutant runs in a worker of
 * the engine pool inside a child process (tools/fuzz-run.ts), and its outcome is one of: result, clear error
 * (a UserError: one sentence naming the model), worker died, host died, unclear error, timeout. Prints the table
 * and writes bench/fuzz-results.json (counts, every finding with its mutations, the distinct clear messages).
 * `--only K` runs mutant K alone and prints its mutations and outcome; `--only K --save FILE` writes its bytes.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mutant } from './fuzz-mutate';
import { formatReport, fuzz, loadSeeds, runChild, type Outcome } from './fuzz-run';

const ROOT = resolve(__dirname, '../..');

async function main(): Promise<number> {
  const { values: v } = parseArgs({
    options: {
      child: { type: 'boolean' },
      n: { type: 'string' },
      seed: { type: 'string' },
      start: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      jobs: { type: 'string' },
      batch: { type: 'string' },
      'timeout-ms': { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string' },
      seeds: { type: 'string' },
      save: { type: 'string' },
    },
  });
  const seed = Number(v.seed ?? 1);
  if (v.child) {
    await runChild(ROOT, seed, Number(v.from), Number(v.to), v.seeds?.split(','));
    return 0;
  }
  const script = __filename;
  if (v.only !== undefined) {
    const id = Number(v.only);
    const m = mutant(loadSeeds(ROOT), seed, id);
    process.stdout.write(`mutant ${id} of seed ${seed}: ${m.seed}, ${m.bytes.length} bytes: ${m.ops.join('; ')}\n`);
    if (v.save) {
      writeFileSync(v.save, m.bytes);
      process.stdout.write(`saved to ${v.save}\n`);
      return 0;
    }
    const r = await fuzz({ root: ROOT, script, n: 1, seed, start: id, jobs: 1 });
    process.stdout.write(`${r.cases[0]!.outcome}: ${r.cases[0]!.message ?? ''}\n`);
    return 0;
  }
  const n = Number(v.n ?? 1000);
  let done = 0;
  const isTty = process.stderr.isTTY === true;
  const report = await fuzz({
    root: ROOT,
    script,
    n,
    seed,
    start: v.start === undefined ? 0 : Number(v.start),
    jobs: v.jobs === undefined ? 2 : Number(v.jobs),
    batch: v.batch === undefined ? 100 : Number(v.batch),
    timeoutMs: v['timeout-ms'] === undefined ? 60_000 : Number(v['timeout-ms']),
    onCase: () => {
      done++;
      if (isTty && done % 25 === 0) process.stderr.write(`\rfuzz: ${done}/${n}`);
      else if (!isTty && done % 1000 === 0) process.stderr.write(`fuzz: ${done}/${n}\n`);
    },
  });
  if (isTty) process.stderr.write('\n');
  process.stdout.write(formatReport(report));
  const bySeed: Record<string, Partial<Record<Outcome, number>>> = {};
  for (const c of report.cases) {
    const s = (bySeed[c.seed!] ??= {});
    s[c.outcome] = (s[c.outcome] ?? 0) + 1;
  }
  const ms = report.cases.map((c) => c.ms ?? 0).sort((a, b) => a - b);
  const file = v.out ?? join(ROOT, 'bench/fuzz-results.json');
  const { cases: _cases, ...rest } = report;
  writeFileSync(
    file,
    JSON.stringify(
      {
        command: `npm run fuzz -- --n ${n} --seed ${seed}`,
        date: new Date().toISOString(),
        ...rest,
        ms_per_case: { median: ms[Math.floor(ms.length / 2)] ?? 0, p99: ms[Math.floor(ms.length * 0.99)] ?? 0, max: ms[ms.length - 1] ?? 0 },
        by_seed_model: bySeed,
        slowest: [...report.cases].sort((a, b) => (b.ms ?? 0) - (a.ms ?? 0)).slice(0, 10).map((c) => ({ id: c.id, ms: c.ms, outcome: c.outcome, seed: c.seed, ops: c.ops, message: c.message })),
      },
      null,
      1,
    ) + '\n',
  );
  process.stdout.write(`\nwrote ${file}\n`);
  return report.counts['host died'] + report.counts['unclear error'] > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`fuzz: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(2);
  },
);
