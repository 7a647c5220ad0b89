/**
 * polytope-lens path MODEL --inputs X.npy --from I --to J --steps N [--layer KEY] [--exact] [--precision float64|float32] --json
 *
 * Flags beyond the shared ones are declared here (EXTRA_FLAGS, merged into args.ts's parser) and read from
 * CliArgs.flags.
 */
import { UserError } from '../core/errors';
import { hasOrigins, layerOrigin, type PathResult } from '../shared/results';
import { EnginePool } from '../worker/pool';
import type { CliArgs } from './args';
import { table } from './format';
import { modelRef } from './summary';
import { plural, termName } from '../shared/glossary';

/** The flags of path, local and density-study, parsed leniently from argv (unknown flags are left to args.ts). */
export const EXTRA_FLAGS = {
  from: { type: 'string' },
  to: { type: 'string' },
  steps: { type: 'string' },
  exact: { type: 'boolean' },
  precision: { type: 'string' },
  layer: { type: 'string' },
  directions: { type: 'string' },
  radius: { type: 'string' },
  labels: { type: 'string' },
  pairs: { type: 'string' },
  window: { type: 'string' },
  permutations: { type: 'string' },
  soft: { type: 'boolean' },
} as const;

export function extraFlags(a: CliArgs) {
  return a.flags as Partial<Record<keyof typeof EXTRA_FLAGS, string | boolean>>;
}

export function intFlag(v: string | boolean | undefined, flag: string, dflt: number | undefined, min: number): number {
  if (v === undefined) {
    if (dflt === undefined) throw new UserError(`${flag} is required`);
    return dflt;
  }
  const x = Number(v);
  if (typeof v !== 'string' || !Number.isSafeInteger(x) || x < min) throw new UserError(`${flag} must be an integer of at least ${min}, not '${String(v)}'`);
  return x;
}

export function floatFlag(v: string | boolean | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(x)) throw new UserError(`${flag} must be a number, not '${String(v)}'`);
  return x;
}

export function precisionFlag(v: string | boolean | undefined): 'float64' | 'float32' | undefined {
  if (v === undefined) return undefined;
  if (v !== 'float64' && v !== 'float32') throw new UserError(`--precision must be float64 or float32, not '${String(v)}'`);
  return v;
}

export async function runPath(a: CliArgs): Promise<void> {
  const x = extraFlags(a);
  if (!a.inputs) throw new UserError(`'path' needs inputs: --inputs FILE.npy (or a folder of images) and --from I --to J`);
  if (x.layer !== undefined && typeof x.layer !== 'string') throw new UserError('--layer needs a layer key (from \'summary\')');
  if (x.layer !== undefined && x.soft === true) throw new UserError('--soft with --layer is not supported: the soft code is computed along input-space paths only');
  const req = {
    inputs: a.inputs,
    from: intFlag(x.from, '--from', undefined, 0),
    to: intFlag(x.to, '--to', undefined, 0),
    steps: intFlag(x.steps, '--steps', 100, 1),
    exact: x.exact === true,
    precision: precisionFlag(x.precision),
    soft: x.soft === true,
    ...(typeof x.layer === 'string' ? { layer: x.layer } : {}),
  };
  const pool = new EnginePool({ workers: 1 });
  try {
    const r = await pool.submit((api) => api.path(modelRef(a), { ops: a.ops, layers: a.layers }, req));
    process.stdout.write(a.json ? JSON.stringify(r) + '\n' : formatPath(r));
  } finally {
    await pool.dispose();
  }
}

export function formatPath(r: PathResult): string {
  let out = `${r.model}: ${plural(r.steps, 'step')}, ${r.total} ${termName('bits-flipped', r.total)} (sampled), ${r.distinct_codes_on_path} ${termName('regions-hit', r.distinct_codes_on_path)} on the path\n`;
  if (r.interpolated_in && r.note) out += `${r.note}\n`;
  out += r.class_changes_at_step.length ? `class change${r.class_changes_at_step.length === 1 ? '' : 's'} at step${r.class_changes_at_step.length === 1 ? '' : 's'}: ${r.class_changes_at_step.join(', ')}\n\n` : 'no class change\n\n';
  const origin = hasOrigins(r.layers);
  const rows = r.layers.map((l) => {
    const row: (string | number)[] = [...(origin ? [layerOrigin(l) || '-'] : []), l.key, l.op, l.units, r.per_layer_total[l.key]!];
    if (r.exact) row.push(r.exact.flips_per_layer[l.key]!);
    return row;
  });
  out += table([...(origin ? ['module'] : []), 'layer', 'op', 'units', 'bits flipped (sampled)', ...(r.exact ? ['exact crossings'] : [])], rows);
  if (r.exact) {
    const e = r.exact;
    out += `\n${e.total_flips} ${termName('exact-crossings', e.total_flips)}, ${e.linear_pieces} ${termName('linear-pieces', e.linear_pieces)} (${e.precision}${e.approximate ? ', approximate' : ''}; ${e.forward_points} points evaluated in ${e.seconds.toFixed(2)} s)\n`;
    if (e.note) out += `note: ${e.note}\n`;
  }
  if (r.soft) out += `\nsoft (probabilistic code): ${r.soft.total.toFixed(3)} in total (${Object.entries(r.soft.per_layer_total).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')})\n`;
  return out;
}
