/**
 * polytope-lens density-study MODEL --inputs X.npy [--labels y.npy] [--pairs M=50] [--steps N=100] [--window W=5]
 *   [--permutations K=2000] [--seed S] --json
 * Runs in the CLI process (the engine directly; one path after another).
 */
import { UserError } from '../core/errors';
import { CodeExtractor } from '../core/extract';
import { loadInputs, readNpy } from '../core/inputs';
import { Lens } from '../core/lens';
import { densityStudy } from '../core/analyses/density-study';
import type { DensityStudyResult } from '../shared/results';
import type { CliArgs } from './args';
import { Progress, table } from './format';
import { extraFlags, intFlag } from './path';
import { modelRef } from './summary';

export async function runDensityStudy(a: CliArgs): Promise<void> {
  const x = extraFlags(a);
  if (!a.inputs) throw new UserError(`'density-study' needs inputs: --inputs FILE.npy (or a folder of images)`);
  const ref = modelRef(a);
  const lens = await Lens.open(ref.path, { maxBytes: ref.maxBytes, inputShape: ref.inputShape });
  const layers = lens.select({ ops: a.ops, layers: a.layers });
  let { n, data } = loadInputs(a.inputs, lens.sampleShape);
  if (a.limit !== undefined && a.limit < n) (n = a.limit), (data = data.subarray(0, n * lens.sampleSize));
  let classes: ArrayLike<number>;
  let source: 'predicted' | 'labels';
  if (typeof x.labels === 'string') {
    const y = readNpy(x.labels);
    if (y.shape[0] !== undefined && y.shape[0] < n) throw new UserError(`--labels has ${y.shape[0]} entries for ${n} inputs`);
    classes = Array.from(y.data as ArrayLike<number | bigint>, Number).slice(0, n);
    source = 'labels';
  } else {
    const ex = await CodeExtractor.create(lens, layers);
    classes = (await ex.run(data, n)).preds;
    await ex.dispose();
    source = 'predicted';
  }
  const progress = new Progress('density-study', !a.quiet && process.stderr.isTTY === true);
  const r = await densityStudy(lens, layers, data, n, classes, {
    pairs: intFlag(x.pairs, '--pairs', 50, 1),
    steps: intFlag(x.steps, '--steps', 100, 2),
    window: intFlag(x.window, '--window', 5, 0),
    permutations: intFlag(x.permutations, '--permutations', 2000, 1),
    seed: a.seed,
    classSource: source,
    onProgress: (d, t) => progress.update(d, t),
  });
  progress.end();
  process.stdout.write(a.json ? JSON.stringify(r) + '\n' : formatStudy(r));
}

export function formatStudy(r: DensityStudyResult): string {
  const row = (name: string, g: DensityStudyResult['different_class']) => [name, g.pairs, g.near_mean.toFixed(3), g.elsewhere_mean.toFixed(3), g.ratio.toFixed(3), g.effect_size.toFixed(3), g.p_value.toPrecision(3)];
  return (
    `${r.model}: ${r.note}\n\n` +
    table(['pairs', 'n', 'near', 'elsewhere', 'ratio', 'effect', 'p'], [row('different class', r.different_class), row('same class (control)', r.same_class)])
  );
}
