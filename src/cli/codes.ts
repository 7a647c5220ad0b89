import { parseOutFormat } from '../core/codes-file';
import { NEAR_TIE_TOLERANCE } from '../core/near-ties';
import { UserError } from '../core/errors';
import { hasOrigins, layerOrigin, type CodesResult } from '../shared/results';
import { runCodes as runCodesJob, type InputSource } from '../worker/jobs';
import { EnginePool } from '../worker/pool';
import { modelPoolLayout } from '../worker/layout';
import type { CliArgs } from './args';
import { pct, Progress, table } from './format';
import { modelRef } from './summary';
import { plural, termName } from '../shared/glossary';

/** The flags of codes beyond the shared ones (merged into args.ts's parser). */
export const CODES_FLAGS = {
  'out-format': { type: 'string' },
  'near-ties': { type: 'boolean' },
  'near-tie-tol': { type: 'string' },
} as const;

export function inputSource(a: CliArgs): InputSource {
  if (a.probes === 'around') {
    const radius = Number(a.flags.radius);
    if (!a.inputs) throw new UserError('--probes around needs --inputs: the data file to draw probes around.');
    if (typeof a.flags.radius !== 'string' || !Number.isFinite(radius) || radius < 0) throw new UserError('--probes around needs --radius R, a non-negative number.');
    return { kind: 'probes', probes: 'around', n: a.n, seed: a.seed, base: a.inputs, radius };
  }
  if (a.inputs && a.probes) throw new UserError('Give either --inputs or --probes, not both.');
  if (a.inputs) return { kind: 'file', path: a.inputs };
  if (a.probes) return { kind: 'probes', probes: a.probes, n: a.n, seed: a.seed, lo: a.lo, hi: a.hi };
  throw new UserError(`'${a.command}' needs inputs: --inputs FILE.npy, --inputs FOLDER of images, or --probes gaussian --n 1000.`);
}

export async function runCodes(a: CliArgs): Promise<void> {
  const model = modelRef(a);
  const pool = new EnginePool(modelPoolLayout(model.path, a));
  const progress = new Progress('codes', !a.quiet && process.stderr.isTTY === true);
  try {
    const result = await runCodesJob(
      pool,
      { model, selection: { ops: a.ops, layers: a.layers }, inputs: inputSource(a), limit: a.limit, shard: a.shard, out: a.out, outFormat: outFormat(a), chunk: a.chunk, nearTies: nearTies(a) },
      { onProgress: (d, t) => progress.update(d, t), workersDone: () => pool.dispose() },
    );
    progress.end();
    process.stdout.write(a.json ? JSON.stringify(result) + '\n' : formatCodes(result));
  } finally {
    await pool.dispose();
  }
}

export function formatCodes(r: CodesResult): string {
  let out = `${r.model}: ${plural(r.n, 'input')} (${r.inputs_note})\n`;
  out += `${r.distinct_codes} ${termName('regions-hit', r.distinct_codes)} (distinct spline codes of ${plural(r.layers.reduce((a, l) => a + l.units, 0), 'bit')}; ${plural(r.code_bytes, 'byte')} per code)\n\n`;
  const origin = hasOrigins(r.layers);
  const ties = r.near_tie_tolerance !== undefined;
  out += table(
    [...(origin ? ['module'] : []), 'layer', 'op', 'units', 'active', 'dead', 'always on', 'regions hit', 'prefix regions hit', ...(ties ? ['near-ties', 'exact ties'] : [])],
    r.stats.map((s, i) => [
      ...(origin ? [layerOrigin(r.layers[i]!) || '-'] : []),
      s.key,
      r.layers[i]!.op,
      r.layers[i]!.units,
      pct(s.active_fraction),
      s.dead_units,
      s.always_on_units,
      s.distinct_codes,
      s.distinct_prefix_codes,
      ...(ties ? [s.near_ties ?? 0, s.exact_ties ?? 0] : []),
    ]),
  );
  if (ties) {
    out += `\nnear-ties: bits within ${r.near_tie_tolerance} x the layer's largest |pre-activation| of a threshold, summed over the inputs: another runtime may compute them the other way.\n`;
    out += `exact ties: bits of MaxPool windows whose maximum is shared by equal entries (the first one wins); a runtime that rounds them apart may pick another.\n`;
  }
  if (r.out) out += `\ncodes written to ${r.out.path}: ${r.out.rows} rows of ${r.out.row_bytes} bytes (${r.out.format})\n`;
  return out;
}

/** The file's size in bytes, or 0 when it cannot be read (the job then says why, in its own words). */
/** The --near-ties tolerance, or undefined without --near-ties. */
function nearTies(a: CliArgs): number | undefined {
  const t = a.flags['near-tie-tol'];
  if (t !== undefined && !a.flags['near-ties']) throw new UserError('--near-tie-tol needs --near-ties.');
  if (!a.flags['near-ties']) return undefined;
  if (t === undefined) return NEAR_TIE_TOLERANCE;
  const v = Number(t);
  if (typeof t !== 'string' || t.trim() === '' || !Number.isFinite(v) || v < 0) throw new UserError(`--near-tie-tol must be a number >= 0 (a share of each layer's largest |pre-activation|), got '${t}'.`);
  return v;
}

function outFormat(a: CliArgs) {
  const f = a.flags['out-format'];
  if (f !== undefined && !a.out) throw new UserError('--out-format needs --out FILE.');
  return parseOutFormat(typeof f === 'string' ? f : undefined);
}
