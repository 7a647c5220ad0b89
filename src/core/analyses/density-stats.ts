/**
 * The density study's pure parts (no model; the extension host and the CLI use them without onnxruntime): the
 * seeded pairs, and the statistics over the pairs' densities. src/core/analyses/density-study.ts measures the pairs.
 */
import { UserError } from '../errors';
import { Rng } from '../inputs/random';
import type { DensityGroupStats, DensityStudyResult } from '../../shared/results';
import type { StudyPairDensity } from '../../shared/worker-protocol';

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

/** The pairs of a study, drawn from the seed: different-class pairs and same-class (control) pairs of input indices. */
export interface StudyPairs {
  different: [number, number][];
  same: [number, number][];
}

export function drawStudyPairs(classes: ArrayLike<number>, n: number, pairs: number, seed: number): StudyPairs {
  const rng = new Rng(seed);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) byClass.set(classes[i]!, [...(byClass.get(classes[i]!) ?? []), i]);
  const multi = [...byClass.values()].filter((v) => v.length >= 2);
  if (byClass.size < 2) throw new UserError('the inputs fall into one class only; a density study needs at least two classes');
  if (!multi.length) throw new UserError('no class has two inputs; same-class control pairs cannot be drawn');
  const different: [number, number][] = [];
  const same: [number, number][] = [];
  for (let guard = 0; different.length < pairs && guard < 100 * pairs; guard++) {
    const i = rng.int(n);
    const j = rng.int(n);
    if (classes[i] !== classes[j]) different.push([i, j]);
  }
  for (let k = 0; k < pairs; k++) {
    const group = multi[rng.int(multi.length)]!;
    const i = group[rng.int(group.length)]!;
    let j = group[rng.int(group.length)]!;
    while (j === i) j = group[rng.int(group.length)]!;
    same.push([i, j]);
  }
  return { different, same };
}

/** The study's statistics from each pair's densities (in the order of `pairs`; null = no class change, left out). */
export function studyResult(
  model: string,
  pairs: StudyPairs,
  different: (StudyPairDensity | null)[],
  same: (StudyPairDensity | null)[],
  opts: Omit<StudyOptions, 'pairs' | 'threads' | 'onProgress'>,
): DensityStudyResult {
  const kept = (xs: (StudyPairDensity | null)[]) => xs.filter((x): x is StudyPairDensity => x !== null);
  const skipped = different.length - kept(different).length;
  return {
    model,
    steps: opts.steps,
    window: opts.window,
    permutations: opts.permutations,
    seed: opts.seed,
    class_source: opts.classSource,
    different_class: groupStats(kept(different), opts, new Rng(opts.seed + 1)),
    same_class: groupStats(kept(same), opts, new Rng(opts.seed + 2)),
    skipped_pairs: skipped,
    note:
      `density = Hamming distance per unit of input-space step length over all selected layers; ${pairs.different.length} different-class pairs ` +
      `(aligned at the first class change; ${skipped} without a change left out) and ${pairs.same.length} same-class pairs (aligned at step ${Math.floor(opts.steps / 2)}); ` +
      `classes from ${opts.classSource === 'labels' ? 'the labels file' : 'the model\'s predictions'}; one-sided sign-flip permutation test of mean(near - elsewhere) > 0`,
  };
}

function groupStats(list: StudyPairDensity[], opts: Pick<StudyOptions, 'permutations' | 'window'>, rng: Rng): DensityGroupStats {
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
