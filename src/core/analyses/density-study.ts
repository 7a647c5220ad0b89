/**
 * Does boundary density peak where the predicted class changes? (PAPER.md "Boundary density reflects semantic
 * boundaries".) Many seeded pairs of inputs: different-class pairs aligned at their first class-change step, and
 * same-class pairs (the control) aligned at the middle step. Per pair, the mean density (Hamming distance per unit
 * of input-space length) within ±window steps of the aligned step is compared with the rest of the path; over
 * pairs: ratio of means, paired effect size and a one-sided sign-flip permutation p-value (seeded).
 *
 *   densityStudy(lens, layers, data, n, classes, { pairs, steps, window, permutations, seed, classSource })
 *
 * Its parts, for the engine pool (src/worker/study.ts runs the pairs in chunks across workers): drawStudyPairs and
 * studyResult (./density-stats, no model), pairDensity (one pair's path); densityStudy is the three in one process.
 */
import type { Lens, LensLayer } from '../lens';
import type { DensityStudyResult } from '../../shared/results';
import type { StudyPairDensity } from '../../shared/worker-protocol';
import { drawStudyPairs, studyResult, type StudyOptions } from './density-stats';
import { computePath } from './path';

export { drawStudyPairs, studyResult, type StudyOptions, type StudyPairs } from './density-stats';

/**
 * One pair's densities near the aligned step (the first class change, or the middle step for a control pair) and
 * elsewhere; null when an aligned pair's path shows no class change (left out of the study).
 */
export async function pairDensity(lens: Lens, layers: LensLayer[], a: Float64Array, b: Float64Array, aligned: boolean, opts: { steps: number; window: number; threads?: number }): Promise<StudyPairDensity | null> {
  const r = await computePath(lens, layers, a, b, { steps: opts.steps, threads: opts.threads });
  const centre = aligned ? r.class_changes_at_step[0] : Math.floor(opts.steps / 2);
  if (centre === undefined) return null;
  const d = r.density_input.map((x) => x ?? 0);
  let nearSum = 0;
  let nearN = 0;
  let elseSum = 0;
  let elseN = 0;
  d.forEach((x, k) => (Math.abs(k - centre) <= opts.window ? ((nearSum += x), nearN++) : ((elseSum += x), elseN++)));
  const profile: (number | null)[] = [];
  for (let o = -opts.window; o <= opts.window; o++) profile.push(centre + o >= 0 && centre + o < d.length ? d[centre + o]! : null);
  return { near: nearSum / Math.max(nearN, 1), elsewhere: elseN ? elseSum / elseN : 0, profile };
}

export async function densityStudy(lens: Lens, layers: LensLayer[], data: Float32Array, n: number, classes: ArrayLike<number>, opts: StudyOptions): Promise<DensityStudyResult> {
  const pairs = drawStudyPairs(classes, n, opts.pairs, opts.seed);
  const size = lens.sampleSize;
  const total = pairs.different.length + pairs.same.length;
  let done = 0;
  const row = (i: number) => Float64Array.from(data.subarray(i * size, (i + 1) * size));
  const measure = async (list: [number, number][], aligned: boolean): Promise<(StudyPairDensity | null)[]> => {
    const out: (StudyPairDensity | null)[] = [];
    for (const [i, j] of list) {
      out.push(await pairDensity(lens, layers, row(i), row(j), aligned, opts));
      opts.onProgress?.(++done, total);
    }
    return out;
  };
  const different = await measure(pairs.different, true);
  const same = await measure(pairs.same, false);
  return studyResult(lens.model.name, pairs, different, same, opts);
}

