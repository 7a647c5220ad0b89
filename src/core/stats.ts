/**
 * Layer statistics over a stream of code batches, in constant memory per unit: dead and always-on units come
 * from a running OR and AND of all codes, distinct codes from 53-bit hashes (see bits.hashBytes).
 */
import { HashSet53, popcountRange } from './bits';
import type { CodeBatch } from './extract';
import type { LayerInfo, LayerStats } from '../shared/results';

export class StatsAccumulator {
  private n = 0;
  private readonly anyOn: Uint8Array;
  private readonly allOn: Uint8Array;
  private readonly activeSum: Float64Array;
  private readonly layerCodes: HashSet53[];
  private readonly prefixCodes: HashSet53[];

  constructor(
    private readonly layers: LayerInfo[],
    private readonly codeBytes: number,
  ) {
    this.anyOn = new Uint8Array(codeBytes);
    this.allOn = new Uint8Array(codeBytes).fill(0xff);
    this.activeSum = new Float64Array(layers.length);
    this.layerCodes = layers.map(() => new HashSet53());
    this.prefixCodes = layers.map(() => new HashSet53());
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
    return this.layers.map((layer, l) => {
      const on = popcountRange(this.anyOn, 0, layer.offset, layer.units);
      return {
        key: layer.key,
        active_fraction: this.n ? this.activeSum[l]! / (this.n * layer.units) : 0,
        dead_units: this.n ? layer.units - on : 0,
        always_on_units: this.n ? popcountRange(this.allOn, 0, layer.offset, layer.units) : 0,
        distinct_codes: this.layerCodes[l]!.size,
        distinct_prefix_codes: this.prefixCodes[l]!.size,
      };
    });
  }
}
