/**
 * Does boundary density peak where the predicted class changes? (PAPER.md "Boundary density reflects semantic
 * boundaries".) Many seeded pairs of inputs: different-class pairs aligned at their first class-change step, and
 * same-class pairs (the control) aligned at the middle step. Per pair, the mean density (Hamming distance per unit
 * of input-space length) within ±window steps of the aligned step is compared with the rest of the path; over
 * pairs: ratio of means, paired effect size and a one-sided sign-flip permutation p-value (seeded).
 *
 *   densityStudy(lens, layers, data, n, classes, { pairs, steps, window, permutations, seed, classSource })
 */
import { UserError } from '../errors';
import { Rng } from '../inputs/random';
import type { Lens, LensLayer } from '../lens';
import type { DensityGroupStats, DensityStudyResult } from '../../shared/results';
import { computePath } from './path';

export interface StudyOptions {
  pairs: number;
  steps: number;
  window: number;
  permutations: number;
  seed: number;
  classSource: 'predicted' | 'labels';
  threads?: number;
  onProgress?: (done: number, total: number) => void;
}

interface PairDensity {
  near: number;
  elsewhere: number;
  profile: (number | null)[];
}

export async function densityStudy(lens: Lens, layers: LensLayer[], data: Float32Array, n: number, classes: ArrayLike<number>, opts: StudyOptions): Promise<DensityStudyResult> {
  const rng = new Rng(opts.seed);
  const size = lens.sampleSize;
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) byClass.set(classes[i]!, [...(byClass.get(classes[i]!) ?? []), i]);
  const multi = [...byClass.values()].filter((v) => v.length >= 2);
  if (byClass.size < 2) throw new UserError('the inputs fall into one class only; a density study needs at least two classes');
  if (!multi.length) throw new UserError('no class has two inputs; same-class control pairs cannot be drawn');
  const diff: [number, number][] = [];
  const same: [number, number][] = [];
  for (let guard = 0; diff.length < opts.pairs && guard < 100 * opts.pairs; guard++) {
    const i = rng.int(n);
    const j = rng.int(n);
    if (classes[i] !== classes[j]) diff.push([i, j]);
  }
  for (let k = 0; k < opts.pairs; k++) {
    const group = multi[rng.int(multi.length)]!;
    const i = group[rng.int(group.length)]!;
    let j = group[rng.int(group.length)]!;
    while (j === i) j = group[rng.int(group.length)]!;
    same.push([i, j]);
  }
  const total = diff.length + same.length;
  let done = 0;
  const row = (i: number) => Float64Array.from(data.subarray(i * size, (i + 1) * size));
  const measure = async (pairs: [number, number][], aligned: boolean): Promise<{ list: PairDensity[]; skipped: number }> => {
    const list: PairDensity[] = [];
    let skipped = 0;
    for (const [i, j] of pairs) {
      const r = await computePath(lens, layers, row(i), row(j), { steps: opts.steps, threads: opts.threads });
      opts.onProgress?.(++done, total);
      const centre = aligned ? r.class_changes_at_step[0] : Math.floor(opts.steps / 2);
      if (centre === undefined) {
        skipped++;
        continue;
      }
      const d = r.density_input.map((x) => x ?? 0);
      let nearSum = 0;
      let nearN = 0;
      let elseSum = 0;
      let elseN = 0;
      d.forEach((x, k) => (Math.abs(k - centre) <= opts.window ? ((nearSum += x), nearN++) : ((elseSum += x), elseN++)));
      const profile: (number | null)[] = [];
      for (let o = -opts.window; o <= opts.window; o++) profile.push(centre + o >= 0 && centre + o < d.length ? d[centre + o]! : null);
      list.push({ near: nearSum / Math.max(nearN, 1), elsewhere: elseN ? elseSum / elseN : 0, profile });
    }
    return { list, skipped };
  };
  const different = await measure(diff, true);
  const control = await measure(same, false);
  return {
    model: lens.model.name,
    steps: opts.steps,
    window: opts.window,
    permutations: opts.permutations,
    seed: opts.seed,
    class_source: opts.classSource,
    different_class: groupStats(different.list, opts, new Rng(opts.seed + 1)),
    same_class: groupStats(control.list, opts, new Rng(opts.seed + 2)),
    skipped_pairs: different.skipped,
    note:
      `density = Hamming distance per unit of input-space step length over all selected layers; ${diff.length} different-class pairs ` +
      `(aligned at the first class change; ${different.skipped} without a change left out) and ${same.length} same-class pairs (aligned at step ${Math.floor(opts.steps / 2)}); ` +
      `classes from ${opts.classSource === 'labels' ? 'the labels file' : 'the model\'s predictions'}; one-sided sign-flip permutation test of mean(near - elsewhere) > 0`,
  };
}

function groupStats(list: PairDensity[], opts: StudyOptions, rng: Rng): DensityGroupStats {
  const m = list.length;
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
  const d = list.map((p) => p.near - p.elsewhere);
  const obs = mean(d);
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - obs) ** 2, 0) / Math.max(m - 1, 1));
  let atLeast = 0;
  for (let k = 0; k < opts.permutations; k++) {
    let s = 0;
    for (const x of d) s += rng.uniform() < 0.5 ? -x : x;
    if (s / Math.max(m, 1) >= obs - 1e-12) atLeast++;
  }
  const near = mean(list.map((p) => p.near));
  const elsewhere = mean(list.map((p) => p.elsewhere));
  const profile: number[] = [];
  for (let o = 0; o <= 2 * opts.window; o++) profile.push(mean(list.flatMap((p) => (p.profile[o] === null ? [] : [p.profile[o]!]))));
  return {
    pairs: m,
    near_mean: near,
    elsewhere_mean: elsewhere,
    ratio: elsewhere > 0 ? near / elsewhere : near > 0 ? Infinity : 1,
    effect_size: sd > 0 ? obs / sd : 0,
    p_value: m ? (atLeast + 1) / (opts.permutations + 1) : 1,
    aligned_profile: profile,
  };
}
