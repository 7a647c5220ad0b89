/**
 * Layer statistics over a stream of code batches, in constant memory per unit: dead and always-on units come
 * from a running OR and AND of all codes, distinct codes from 53-bit hashes (see bits.hashBytes), and each unit's
 * on-count from bit-sliced counters (UnitCounter), so no code is ever unpacked into per-bit values.
 */
import { HashSet53, popcountRange } from './bits';
import type { CodeBatch } from './extract';
import { ACTIVE_HISTOGRAM_BINS, type LayerInfo, type LayerStats } from '../shared/results';

/**
 * Per-bit on-counts of packed rows. Eight bit planes per byte hold a vertical 8-bit counter for each of its bits:
 * adding a row is a ripple carry over the planes (about two byte operations per code byte on average), and every
 * 255 rows the planes are flushed into 32-bit counts.
 */
export class UnitCounter {
  private readonly planes: Uint8Array;
  private readonly counts: Uint32Array;
  private pending = 0;

  constructor(private readonly bytes: number) {
    this.planes = new Uint8Array(8 * bytes);
    this.counts = new Uint32Array(8 * bytes);
  }

  add(codes: Uint8Array, start: number): void {
    const { planes, bytes } = this;
    for (let j = 0; j < bytes; j++) {
      let carry = codes[start + j]!;
      for (let k = j; carry !== 0; k += bytes) {
        const t = planes[k]! & carry;
        planes[k]! ^= carry;
        carry = t;
      }
    }
    if (++this.pending === 255) this.flush();
  }

  private flush(): void {
    const { planes, counts, bytes } = this;
    for (let k = 0; k < 8; k++) {
      for (let j = 0; j < bytes; j++) {
        const p = planes[k * bytes + j]!;
        if (p === 0) continue;
        for (let b = 0; b < 8; b++) if (p & (0x80 >> b)) counts[8 * j + b]! += 1 << k;
      }
    }
    planes.fill(0);
    this.pending = 0;
  }

  /** On-count of every bit, MSB-first bit order (bit i of the row is counts[i]). */
  result(): Uint32Array {
    this.flush();
    return this.counts;
  }
}

/** Histogram of fractions count/n of bits [offset, offset + units) in `bins` equal bins over [0, 1]. */
export function fractionHistogram(counts: Uint32Array, offset: number, units: number, n: number, bins = ACTIVE_HISTOGRAM_BINS): number[] {
  const h = new Array<number>(bins).fill(0);
  if (n === 0) return h;
  for (let u = offset; u < offset + units; u++) h[Math.min(bins - 1, Math.floor((counts[u]! / n) * bins))]!++;
  return h;
}

export class StatsAccumulator {
  private n = 0;
  private readonly anyOn: Uint8Array;
  private readonly allOn: Uint8Array;
  private readonly activeSum: Float64Array;
  private readonly layerCodes: HashSet53[];
  private readonly prefixCodes: HashSet53[];
  private readonly unitCounts: UnitCounter;

  constructor(
    private readonly layers: LayerInfo[],
    private readonly codeBytes: number,
  ) {
    this.anyOn = new Uint8Array(codeBytes);
    this.allOn = new Uint8Array(codeBytes).fill(0xff);
    this.activeSum = new Float64Array(layers.length);
    this.layerCodes = layers.map(() => new HashSet53());
    this.prefixCodes = layers.map(() => new HashSet53());
    this.unitCounts = new UnitCounter(codeBytes);
  }

  add(b: CodeBatch): void {
    const L = this.layers.length;
    const cb = this.codeBytes;
    const { anyOn, allOn } = this;
    for (let i = 0; i < b.n; i++) {
      const row = i * cb;
      for (let j = 0; j < cb; j++) {
        const v = b.codes[row + j]!;
        anyOn[j]! |= v;
        allOn[j]! &= v;
      }
      this.unitCounts.add(b.codes, row);
      for (let l = 0; l < L; l++) {
        this.activeSum[l]! += b.active[i * L + l]!;
        this.layerCodes[l]!.add(b.layerHash[i * L + l]!);
        this.prefixCodes[l]!.add(b.prefixHash[i * L + l]!);
      }
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
    const counts = this.unitCounts.result();
    return this.layers.map((layer, l) => {
      const on = popcountRange(this.anyOn, 0, layer.offset, layer.units);
      return {
        key: layer.key,
        active_fraction: this.n ? this.activeSum[l]! / (this.n * layer.units) : 0,
        dead_units: this.n ? layer.units - on : 0,
        always_on_units: this.n ? popcountRange(this.allOn, 0, layer.offset, layer.units) : 0,
        distinct_codes: this.layerCodes[l]!.size,
        distinct_prefix_codes: this.prefixCodes[l]!.size,
        active_histogram: fractionHistogram(counts, layer.offset, layer.units, this.n),
      };
    });
  }
}
