/**
 * Layer statistics over a stream of code batches, in constant memory per unit: every unit's on-count (bit-sliced
 * counters over the packed rows, bits.UnitCounter, about five word operations per row word) gives the active
 * fractions, their histograms, dead units (count 0) and always-on units (count n); distinct codes come from 53-bit
 * hashes (bits.hashWords, computed by the workers). Counting here, not in the workers: a per-batch count vector is
 * 32 times the size of a code row, which for one-sample batches of a large model costs more to send than the codes
 * themselves.
 */
import { HashSet53, UnitCounter } from './bits';
import type { CodeBatch } from './extract';
import { ACTIVE_HISTOGRAM_BINS, type LayerInfo, type LayerStats } from '../shared/results';

/** Histogram of fractions count/n of bits [offset, offset + units) in `bins` equal bins over [0, 1]. */
export function fractionHistogram(counts: ArrayLike<number>, offset: number, units: number, n: number, bins = ACTIVE_HISTOGRAM_BINS): number[] {
  const h = new Array<number>(bins).fill(0);
  if (n === 0) return h;
  for (let u = offset; u < offset + units; u++) h[Math.min(bins - 1, Math.floor((counts[u]! / n) * bins))]!++;
  return h;
}

export class StatsAccumulator {
  private n = 0;
  /** On-count of every bit of the packed row over all samples so far. */
  private readonly counts: UnitCounter;
  private readonly layerCodes: HashSet53[];
  private readonly prefixCodes: HashSet53[];

  /**
   * `expected`: the samples to come, when known. The distinct-code sets start at that size (at most 2^20 entries,
   * 16 MB each): growing a set from empty rehashes its entries about twice, which cost a third of the host's time
   * on a 300k-sample job of a small model.
   */
  constructor(
    private readonly layers: LayerInfo[],
    codeBytes: number,
    expected = 0,
  ) {
    const capacity = Math.min(expected, 1 << 20);
    this.counts = new UnitCounter(codeBytes);
    this.layerCodes = layers.map(() => new HashSet53(capacity));
    this.prefixCodes = layers.map((_, l) => (l === 0 ? this.layerCodes[0]! : new HashSet53(capacity)));
  }

  add(b: CodeBatch): void {
    const L = this.layers.length;
    this.counts.addRows(b.codes, b.n);
    for (let i = 0; i < b.n * L; i += L) {
      for (let l = 0; l < L; l++) this.layerCodes[l]!.add(b.layerHash[i + l]!);
      // The first prefix is the first layer: its set is layerCodes[0] itself.
      for (let l = 1; l < L; l++) this.prefixCodes[l]!.add(b.prefixHash[i + l]!);
    }
    this.n += b.n;
  }

  get count(): number {
    return this.n;
  }

  /** Distinct full codes (all selected layers): the last prefix. */
  get distinctCodes(): number {
    return this.prefixCodes.at(-1)?.size ?? 0;
  }

  result(): LayerStats[] {
    const counts = this.counts.result();
    const n = this.n;
    return this.layers.map((layer, l) => {
      let on = 0;
      let dead = 0;
      let always = 0;
      for (let u = layer.offset; u < layer.offset + layer.units; u++) {
        const c = counts[u]!;
        on += c;
        if (c === 0) dead++;
        else if (c === n) always++;
      }
      return {
        key: layer.key,
        active_fraction: n ? on / (n * layer.units) : 0,
        dead_units: n ? dead : 0,
        always_on_units: always,
        distinct_codes: this.layerCodes[l]!.size,
        distinct_prefix_codes: this.prefixCodes[l]!.size,
        active_histogram: fractionHistogram(counts, layer.offset, layer.units, n),
      };
    });
  }
}
