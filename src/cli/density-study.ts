/**
 * polytope-lens density-study MODEL --inputs X.npy [--labels y.npy] [--pairs M=50] [--steps N=100] [--window W=5]
 *   [--permutations K=2000] [--seed S] --json
 * Runs in the engine pool (src/worker/study.ts): the pairs' paths in chunks across the workers.
 */
import { UserError } from '../core/errors';
import { readLabels, readLabelsFor, readNpyHeader, sampleCount } from '../core/inputs';
import { basename } from 'node:path';
import type { DensityStudyResult } from '../shared/results';
import { loadSamples, sampleShapeOf } from '../worker/jobs';
import { EnginePool } from '../worker/pool';
import { runDensityStudy as studyInPool } from '../worker/study';
import type { CliArgs } from './args';
import { Progress, table } from './format';
import { extraFlags, intFlag } from './path';
import { modelRef } from './summary';
import { plural } from '../shared/glossary';
import { elementCount } from '../shared/shape';

export async function runDensityStudy(a: CliArgs): Promise<void> {
  const x = extraFlags(a);
  if (!a.inputs) throw new UserError(`'density-study' needs inputs: --inputs FILE.npy (or a folder of images)`);
  const ref = modelRef(a);
  const selection = { ops: a.ops, layers: a.layers };
  const pool = new EnginePool();
  try {
    const summary = await pool.summary(ref, selection);
    const sampleShape = a.inputShape ?? sampleShapeOf(summary);
    const { n, data } = loadSamples({ kind: 'file', path: a.inputs }, sampleShape, a.limit);
    // The same reader as `cluster` and the extension: integer class ids, one per input (float labels are refused).
    // From a .npy, exactly one label per sample of the file (a labels file of other data is refused).
    const total = a.inputs.toLowerCase().endsWith('.npy') ? sampleCount(readNpyHeader(a.inputs).shape, sampleShape, basename(a.inputs)) : undefined;
    const labels = typeof x.labels === 'string' ? (total !== undefined ? readLabelsFor(x.labels, total, n, basename(a.inputs)) : readLabels(x.labels, n)).labels : undefined;
    const progress = new Progress('density-study', !a.quiet && process.stderr.isTTY === true);
    const r = await studyInPool(
      pool,
      {
        model: ref,
        selection,
        data,
        n,
        sampleSize: elementCount(sampleShape),
        labels,
        pairs: intFlag(x.pairs, '--pairs', 50, 1),
        steps: intFlag(x.steps, '--steps', 100, 2),
        window: intFlag(x.window, '--window', 5, 0),
        permutations: intFlag(x.permutations, '--permutations', 2000, 1),
        seed: a.seed,
      },
      { onProgress: (d, t) => progress.update(d, t) },
    );
    progress.end();
    process.stdout.write(a.json ? JSON.stringify(r) + '\n' : formatStudy(r));
  } finally {
    await pool.dispose();
  }
}

export function formatStudy(r: DensityStudyResult): string {
  const row = (name: string, g: DensityStudyResult['different_class']) => [name, g.pairs, g.near_mean.toFixed(3), g.elsewhere_mean.toFixed(3), g.ratio.toFixed(3), g.effect_size.toFixed(3), g.p_value.toPrecision(3)];
  return (
    `${r.model}: ${r.note}\n\n` +
    `boundary density in bits flipped per unit of input distance; near = within ${plural(r.window, 'step')} of the aligned step\n` +
    table(['pairs', 'n', 'near', 'elsewhere', 'near / elsewhere', 'effect size', 'p-value'], [row('different class', r.different_class), row('same class (control)', r.same_class)])
  );
}
