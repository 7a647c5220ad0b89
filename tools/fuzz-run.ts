/**
 * The fuzzer's runner. The parent generates no bytes itself: it hands ranges of mutant ids to child processes
 * (this same script with --child), each of which rebuilds its mutants from the seed, writes each to a temp file
 * and runs it through the engine in a worker of an EnginePool (summary, then codes of a few probes). A child
 * reports one line per mutant; when a child dies, the mutant it was on is a host death (observed, not suffered)
 * and a new child takes the rest. A mutant that runs past the time limit is killed with its child: a timeout.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { isUserError } from '../src/core/errors';
import { EnginePool } from '../src/worker/pool';
import { runCodes } from '../src/worker/jobs';
import { mutant, type Seed } from './fuzz-mutate';

export const OUTCOMES = ['result', 'clear error', 'worker died', 'host died', 'unclear error', 'timeout'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface CaseResult {
  id: number;
  outcome: Outcome;
  seed?: string;
  ops?: string[];
  message?: string;
  ms?: number;
}

/** The seed models: the fixtures and the single-file models of the bad-input corpus (relative to the root). */
export function seedFiles(root: string): string[] {
  const dirs = ['test/fixtures', 'test/fixtures/corpus/models'];
  const files: string[] = [];
  for (const d of dirs) {
    for (const f of readdirSync(join(root, d)).sort()) {
      const p = join(root, d, f);
      if (f.endsWith('.onnx') && statSync(p).isFile() && statSync(p).size > 0) files.push(relative(root, p));
    }
  }
  return files;
}

export function loadSeeds(root: string, files = seedFiles(root)): Seed[] {
  return files.map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(root, f))) }));
}

/**
 * Messages that say nothing to a user, or leak an implementation: JavaScript exceptions, protobufjs and
 * allocation errors, C++ exception names, unformatted values.
 */
const GENERIC = [
  /\bundefined\b/,
  /\bnull\b/,
  /\[object /,
  /Cannot read propert/i,
  /is not a function/,
  /is not iterable/,
  /Maximum call stack/,
  /Invalid (typed )?array length/i,
  /Array buffer allocation failed/i,
  /index out of range/i,
  /invalid wire type/i,
  /std::|bad_alloc/,
  /RangeError|TypeError|SyntaxError/,
  /^\s*$/,
  /:\s*\.?$/,
];

/** Why a message is unclear, or undefined when it is a clear user error about `file`. */
export function unclearReason(e: unknown, file: string): string | undefined {
  if (!isUserError(e)) return `not a UserError (${e instanceof Error ? e.name : typeof e})`;
  const msg = e.message;
  if (msg.includes('\n')) return 'more than one line';
  if (/^\s+at /m.test(msg) || /\.(ts|js|cc|h):\d+/.test(msg)) return 'a stack trace or source location';
  if (msg.length > 600) return 'longer than 600 characters';
  const g = GENERIC.find((r) => r.test(msg));
  if (g) return `generic (${g.source})`;
  if (!msg.includes(file) && !/The analysis worker stopped/.test(msg)) return 'does not name the model';
  return undefined;
}

/** One mutant through the engine: summary, then codes of 3 Gaussian probes when the model has units. */
async function runOne(pool: EnginePool, path: string): Promise<{ outcome: Outcome; message?: string }> {
  try {
    const s = await pool.summary({ path });
    if (s.total_units > 0) {
      await runCodes(pool, { model: { path }, selection: {}, inputs: { kind: 'probes', probes: 'gaussian', n: 3, seed: 1 }, samples: true });
    }
    return { outcome: 'result' };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (isUserError(e) && /The analysis worker stopped unexpectedly/.test(message)) return { outcome: 'worker died', message };
    const why = unclearReason(e, basename(path));
    if (why) return { outcome: 'unclear error', message: `${why}: ${e instanceof Error ? (e.stack ?? message) : message}`.slice(0, 2000) };
    return { outcome: 'clear error', message };
  }
}

const LINE = '@@fuzz ';

/** Child mode: runs mutants [from, to) of `seed`, printing a start line and a result line for each. */
export async function runChild(root: string, seed: number, from: number, to: number, files?: string[]): Promise<void> {
  const seeds = loadSeeds(root, files);
  const dir = join(tmpdir(), `plfuzz-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const pool = new EnginePool({ workers: 1 });
  try {
    for (let id = from; id < to; id++) {
      const m = mutant(seeds, seed, id);
      const path = join(dir, `mutant-${id}.onnx`);
      writeFileSync(path, m.bytes);
      process.stdout.write(`${LINE}${JSON.stringify({ start: id })}\n`);
      const t0 = Date.now();
      const r = await runOne(pool, path);
      // Chunks still running after a failed job count toward this mutant, not the next one.
      await pool.idle();
      rmSync(path, { force: true });
      process.stdout.write(`${LINE}${JSON.stringify({ id, ...r, ms: Date.now() - t0 })}\n`);
    }
  } finally {
    await pool.dispose(1000);
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface FuzzOptions {
  root: string;
  /** The built fuzz script (out/tools/fuzz.js), run as the child. */
  script: string;
  n: number;
  seed: number;
  /** First mutant id (default 0). */
  start?: number;
  /** Concurrent child processes. */
  jobs?: number;
  /** Mutants per child process. */
  batch?: number;
  /** Per-mutant time limit (ms). */
  timeoutMs?: number;
  onCase?: (c: CaseResult) => void;
}

export interface FuzzReport {
  n: number;
  seed: number;
  seconds: number;
  counts: Record<Outcome, number>;
  /** Every case that is not a result or a clear error. */
  findings: CaseResult[];
  /** Distinct clear messages (mutant file names replaced by MUTANT), most frequent first. */
  clear_messages: { message: string; count: number }[];
  cases: CaseResult[];
}

/** Runs mutants [start, start + n) in child processes and adds up the outcomes. */
export async function fuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const t0 = Date.now();
  const start = opts.start ?? 0;
  const batch = opts.batch ?? 100;
  const ranges: [number, number][] = [];
  for (let a = start; a < start + opts.n; a += batch) ranges.push([a, Math.min(start + opts.n, a + batch)]);
  // The seed list is fixed for the whole run (and handed to every child), so mutant ids mean the same everywhere.
  const files = seedFiles(opts.root);
  const cases: CaseResult[] = [];
  const record = (c: CaseResult) => {
    cases.push(c);
    opts.onCase?.(c);
  };
  const worker = async () => {
    for (let r = ranges.shift(); r; r = ranges.shift()) {
      let [a, b] = r;
      while (a < b) a = await runRange(opts, files, a, b, record);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.jobs ?? 2) }, worker));
  cases.sort((x, y) => x.id - y.id);
  const seeds = loadSeeds(opts.root, files);
  for (const c of cases) {
    const m = mutant(seeds, opts.seed, c.id);
    c.seed = m.seed;
    c.ops = m.ops;
  }
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const c of cases) counts[c.outcome]++;
  const clear = new Map<string, number>();
  for (const c of cases) {
    if (c.outcome !== 'clear error') continue;
    const k = c.message!.replace(/mutant-\d+\.onnx/g, 'MUTANT');
    clear.set(k, (clear.get(k) ?? 0) + 1);
  }
  return {
    n: opts.n,
    seed: opts.seed,
    seconds: (Date.now() - t0) / 1000,
    counts,
    findings: cases.filter((c) => c.outcome !== 'result' && c.outcome !== 'clear error'),
    clear_messages: [...clear].sort((x, y) => y[1] - x[1]).map(([message, count]) => ({ message, count })),
    cases,
  };
}

/** One child over [a, b); returns the first id it did not finish (b when all are done). */
function runRange(opts: FuzzOptions, files: string[], a: number, b: number, record: (c: CaseResult) => void): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [opts.script, '--child', '--seed', String(opts.seed), '--from', String(a), '--to', String(b), '--seeds', files.join(',')], {
      cwd: opts.root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let next = a;
    let current: number | undefined;
    let currentSince = Date.now();
    let buf = '';
    let stderr = '';
    let timedOut = false;
    const limit = opts.timeoutMs ?? 60_000;
    const timer = setInterval(() => {
      if (current !== undefined && Date.now() - currentSince > limit) {
        timedOut = true;
        child.kill('SIGKILL');
      }
    }, 250);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.startsWith(LINE)) continue;
        const msg = JSON.parse(line.slice(LINE.length)) as { start?: number } & Partial<CaseResult>;
        if (msg.start !== undefined) {
          current = msg.start;
          currentSince = Date.now();
          stderr = '';
        } else {
          record({ id: msg.id!, outcome: msg.outcome!, message: msg.message, ms: msg.ms });
          current = undefined;
          next = msg.id! + 1;
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    child.on('close', (code, signal) => {
      clearInterval(timer);
      if (current !== undefined) {
        record({
          id: current,
          outcome: timedOut ? 'timeout' : 'host died',
          message: timedOut ? `no result after ${limit} ms` : `the process ended (${signal ?? `exit code ${code}`}): ${stderr.trim().slice(-600)}`,
        });
        resolve(current + 1);
      } else if (next < b) {
        // Died between mutants (should not happen): count the next one so the run always advances.
        record({ id: next, outcome: 'host died', message: `the process ended between mutants (${signal ?? `exit code ${code}`}): ${stderr.trim().slice(-600)}` });
        resolve(next + 1);
      } else resolve(b);
    });
  });
}

export function formatReport(r: FuzzReport): string {
  let s = `fuzz: ${r.n} mutants, seed ${r.seed}, ${r.seconds.toFixed(1)} s\n\n`;
  const w = Math.max(...OUTCOMES.map((o) => o.length));
  for (const o of OUTCOMES) s += `  ${o.padEnd(w)}  ${String(r.counts[o]).padStart(6)}  ${((100 * r.counts[o]) / Math.max(1, r.n)).toFixed(1).padStart(5)}%\n`;
  if (r.findings.length) {
    s += `\nfindings (first 20):\n`;
    for (const f of r.findings.slice(0, 20)) s += `  #${f.id} ${f.outcome} [${f.seed}: ${f.ops?.join('; ')}]\n    ${(f.message ?? '').split('\n')[0]}\n`;
  }
  return s;
}
