/** Command-line flags, parsed once with node:util parseArgs; bad flags are UserErrors. */
import { parseArgs } from 'node:util';
import { UserError } from '../core/errors';
import { parseShard, type Shard } from '../core/shard';
import { EXTRA_FLAGS } from './path';
import { CODES_FLAGS } from './codes';
import { SCALE_FLAGS } from './scale';
import { CLUSTER_FLAGS } from './cluster';
import { SLICE_FLAGS } from './slice';
import { POLYTOPE_FLAGS } from './polytope';

export const USAGE = `polytope-lens: spline codes and polytope statistics of ONNX models

Usage:
  polytope-lens summary MODEL [--json]
  polytope-lens codes MODEL (--inputs FILE|FOLDER | --probes gaussian|uniform --n N [--seed S]
                             | --probes around --inputs X.npy --radius R --n N)
                      [--limit N] [--shard K/N] [--ops Relu,MaxPool | --layers KEY,...]
                      [--out FILE [--out-format raw|plcodes|arrow|parquet]] [--json]
  polytope-lens path MODEL --inputs X.npy --from I --to J [--steps N] [--layer KEY] [--exact] [--json]
  polytope-lens slice MODEL (--window LO,HI | --inputs X.npy --plane A,B,C) [--resolution R] [--exact] [--json]
  polytope-lens local MODEL --inputs X.npy [--n N] [--shard K/N] [--directions P] [--radius R] [--json]
  polytope-lens density-study MODEL --inputs X.npy [--labels y.npy] [--pairs N] [--json]
  polytope-lens scale MODEL --inputs X.npy --layer KEY --alphas 0.5,1,2 [--json]
  polytope-lens polytope MODEL --inputs X.npy --index I [--box LO,HI] [--facets full|rays] [--rays N]
                         [--time-limit S] [--lp-threads N] [--json]
  polytope-lens polytope MODEL --compare NAME=FILE.npy,...,uniform,gaussian,correct,misclassified
                         [--inputs X.npy --labels y.npy] [--n N] [--box LO,HI] [--json]
  polytope-lens demo [--out-dir DIR]
  polytope-lens lsp --stdio            the language server, for editors other than VS Code

Options:
  --json               print the result as JSON (the contract in the README)
  --inputs PATH        a .npy file ([N, ...], float32/float64/uint8) or a folder of PNG/JPEG images
  --probes KIND        generated inputs: gaussian (mean 0, std 1), uniform (in [--lo, --hi), default [0, 1)),
                       or around (uniform in the L2 ball of --radius around the samples of --inputs, cycled)
  --n N                number of generated probes (default 1000)
  --seed S             seed of generated probes (default 0)
  --limit N            use at most the first N inputs
  --ops LIST           only layers of these ops (comma separated)
  --layers LIST        only these layers (keys from 'summary')
  --out FILE           write the packed codes (N rows of ceil(units/8) bytes, raw) and leave samples out of the JSON
  --out-format F       raw (default), plcodes (header + layer table + rows), arrow (Apache Arrow IPC file) or
                       parquet (Apache Parquet: index, pred, code, active_<layer>; for DuckDB, Spark, pandas)
  --shard K/N          codes, local: only shard K of N (1-based, 1 <= K <= N) of the inputs, rows keeping their
                       global index; N shards hold exactly the rows of one run (docs/scale-out.md)
  --near-ties          codes: also list the bits float rounding could flip (|pre-activation| within --near-tie-tol
                       of the layer's largest |pre-activation| from a threshold; counts per layer, per sample in --json)
  --near-tie-tol T     the relative tolerance of --near-ties (default 1e-5)
  --input-shape DIMS   per-sample input shape for models with dynamic dimensions, e.g. 3,224,224
  --workers N          worker processes (default: CPU cores, at most 4; one for model files of 4 MB or more)
  --threads N          codes: onnxruntime threads per worker (default 1; the CPU cores, at most 4, for model files of 4 MB or more)
  --lp-threads N       polytope: threads deciding facets by LPs (default: CPU cores, at most 4; one below
                       500 rows)
  --chunk N            samples per worker task (default: sized from the model)
  --max-model-mb N     refuse larger models (default 512)
  --quiet              no progress on stderr
`;

export interface CliArgs {
  command?: string;
  /** Every flag as parsed (for the analysis commands' own flags: path.ts, slice.ts, scale.ts). */
  flags: Record<string, string | boolean | undefined>;
  positionals: string[];
  help: boolean;
  json: boolean;
  quiet: boolean;
  inputs?: string;
  probes?: 'gaussian' | 'uniform' | 'around';
  n: number;
  seed: number;
  lo: number;
  hi: number;
  limit?: number;
  shard?: Shard;
  ops?: string[];
  layers?: string[];
  out?: string;
  outDir?: string;
  inputShape?: number[];
  workers?: number;
  threads?: number;
  chunk?: number;
  maxModelMb?: number;
}

/** `--window -3,3`: a value that starts with '-' and a digit is a value, not a flag (parseArgs would refuse it). */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (a.startsWith('--') && !a.includes('=') && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export function parseCli(argv: string[]): CliArgs {
  argv = joinNegativeValues(argv);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
        // lsp: the language server speaks LSP over stdin/stdout.
        stdio: { type: 'boolean' },
        inputs: { type: 'string' },
        probes: { type: 'string' },
        n: { type: 'string' },
        seed: { type: 'string' },
        lo: { type: 'string' },
        hi: { type: 'string' },
        limit: { type: 'string' },
        shard: { type: 'string' },
        ops: { type: 'string' },
        layers: { type: 'string' },
        out: { type: 'string' },
        'out-dir': { type: 'string' },
        'input-shape': { type: 'string' },
        workers: { type: 'string' },
        threads: { type: 'string' },
        chunk: { type: 'string' },
        'max-model-mb': { type: 'string' },
        // Flags of the analysis commands, which read their own values (path.ts, slice.ts, scale.ts).
        ...EXTRA_FLAGS,
        ...CODES_FLAGS,
        ...SLICE_FLAGS,
        ...SCALE_FLAGS,
        ...CLUSTER_FLAGS,
        ...POLYTOPE_FLAGS,
      },
    });
  } catch (e) {
    // Node's hint about '--' after an unknown option does not apply to this CLI.
    throw new UserError(`${(e as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '')}; see polytope-lens --help`);
  }
  const v = parsed.values;
  const [command, ...positionals] = parsed.positionals;
  const probes = v.probes;
  if (probes !== undefined && probes !== 'gaussian' && probes !== 'uniform' && probes !== 'around') {
    throw new UserError(`--probes must be gaussian, uniform or around, not '${probes}'.`);
  }
  return {
    command,
    flags: v,
    positionals,
    help: v.help ?? false,
    json: v.json ?? false,
    quiet: v.quiet ?? false,
    inputs: v.inputs,
    probes,
    n: int(v.n, '--n', 1000, 1),
    seed: int(v.seed, '--seed', 0, 0),
    lo: float(v.lo, '--lo', 0),
    hi: float(v.hi, '--hi', 1),
    limit: v.limit === undefined ? undefined : int(v.limit, '--limit', 0, 1),
    shard: v.shard === undefined ? undefined : parseShard(v.shard),
    ops: list(v.ops),
    layers: list(v.layers),
    out: v.out,
    outDir: v['out-dir'],
    inputShape: v['input-shape'] === undefined ? undefined : list(v['input-shape'])!.map((d) => int(d, '--input-shape', 0, 1)),
    workers: v.workers === undefined ? undefined : int(v.workers, '--workers', 0, 1),
    threads: v.threads === undefined ? undefined : int(v.threads, '--threads', 0, 1),
    chunk: v.chunk === undefined ? undefined : int(v.chunk, '--chunk', 0, 1),
    maxModelMb: v['max-model-mb'] === undefined ? undefined : int(v['max-model-mb'], '--max-model-mb', 0, 1),
  };
}

function list(s: string | undefined): string[] | undefined {
  return s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter(Boolean);
}

function int(s: string | undefined, flag: string, dflt: number, min: number): number {
  if (s === undefined) return dflt;
  const x = Number(s);
  if (!Number.isSafeInteger(x) || x < min) throw new UserError(`${flag} must be an integer of at least ${min}, not '${s}'.`);
  return x;
}

function float(s: string | undefined, flag: string, dflt: number): number {
  if (s === undefined) return dflt;
  const x = Number(s);
  if (!Number.isFinite(x)) throw new UserError(`${flag} must be a number, not '${s}'.`);
  return x;
}

/** The MODEL positional, with a clear message when it is missing. */
export function modelArg(a: CliArgs): string {
  const m = a.positionals[0];
  if (!m) throw new UserError(`'${a.command}' needs a model file: polytope-lens ${a.command} MODEL.onnx.`);
  return m;
}
