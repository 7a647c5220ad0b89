/** polytope-lens local MODEL --inputs X.npy [--n N] [--shard K/N] [--directions P] [--radius r] [--seed S] --json */
import { UserError } from '../core/errors';
import { hasOrigins, layerOrigin, type LocalResult } from '../shared/results';
import { EnginePool } from '../worker/pool';
import type { CliArgs } from './args';
import { table } from './format';
import { extraFlags, floatFlag, intFlag, precisionFlag } from './path';
import { modelRef } from './summary';
import { plural, termName } from '../shared/glossary';

export async function runLocal(a: CliArgs): Promise<void> {
  const x = extraFlags(a);
  if (!a.inputs) throw new UserError(`'local' needs inputs: --inputs FILE.npy (or a folder of images)`);
  const nGiven = a.flags.n !== undefined;
  const req = {
    inputs: a.inputs,
    n: nGiven ? a.n : a.limit ?? 100,
    shard: a.shard,
    directions: intFlag(x.directions, '--directions', 20, 1),
    radius: floatFlag(x.radius, '--radius', 0.005),
    seed: a.seed,
  };
  if (!(req.radius > 0)) throw new UserError(`--radius must be positive, not '${req.radius}'`);
  precisionFlag(x.precision);
  const pool = new EnginePool({ workers: 1 });
  try {
    const r = await pool.submit((api) => api.local(modelRef(a), { ops: a.ops, layers: a.layers }, req));
    process.stdout.write(a.json ? JSON.stringify(r) + '\n' : formatLocal(r));
  } finally {
    await pool.dispose();
  }
}

export function formatLocal(r: LocalResult): string {
  let out = `${r.model}: local complexity of ${plural(r.n, 'point')}${r.shard ? ` (shard ${r.shard.k}/${r.shard.n}: points ${r.shard.first}..${r.shard.first + r.n - 1} of ${r.shard.total})` : ''}, ${plural(r.directions, 'direction')}, radius ${r.radius} (input units), seed ${r.seed} (${r.precision})\n`;
  out += `${r.note}\n\n`;
  const origin = hasOrigins(r.layers);
  out += table(
    [...(origin ? ['module'] : []), 'layer', 'op', 'units', 'mean units cut'],
    r.layers.map((l) => [...(origin ? [layerOrigin(l) || '-'] : []), l.key, l.op, l.units, Number(r.mean_per_layer[l.key]!.toFixed(3))]),
  );
  out += `\nmean total: ${r.mean_total.toFixed(3)} ${termName('units-cut', r.mean_total)} per point\n`;
  return out;
}
