/**
 * The default radius of local complexity (src/core/analyses/local.ts), apart from it so that the extension host can
 * compute it without loading the engine (onnxruntime).
 */

/** The default radius is this share of the median distance between two inputs. */
export const DEFAULT_RADIUS_SHARE = 0.05;
/** The median distance is taken over the pairs of the first this many inputs (200 give 19,900 pairs). */
const MEDIAN_SAMPLES = 200;

/**
 * The median Euclidean distance between two of the first min(n, 200) inputs (data: n x D, row-major); 0 with
 * fewer than two. Why a distance between inputs and not the value range: the vertices are x ± r·v with unit
 * directions v in D dimensions, so a radius scaled to one coordinate's range (e.g. 5 % of 0..1) moves each pixel by
 * about r/√D and cuts almost nothing in 64 or 784 dimensions; the distance between inputs already carries √D and the
 * data's scale (digits: 3.08 for pixels in 0..1, so the default radius is 0.154 and 350 of the 360 test digits
 * have at least one unit cut; 5 % of the value range, 0.05, leaves 88 with none).
 */
export function medianPairDistance(data: Float32Array | Float64Array, n: number, D: number): number {
  const m = Math.min(n, MEDIAN_SAMPLES);
  const d: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) {
      let s = 0;
      for (let k = 0; k < D; k++) {
        const t = data[i * D + k]! - data[j * D + k]!;
        s += t * t;
      }
      d.push(Math.sqrt(s));
    }
  }
  if (d.length === 0) return 0;
  d.sort((a, b) => a - b);
  const h = d.length >> 1;
  return d.length % 2 ? d[h]! : (d[h - 1]! + d[h]!) / 2;
}

/** The default radius of local complexity: 5 % of the median distance between inputs, rounded to 3 significant digits (1 when all inputs are equal). */
export function defaultLocalRadius(medianDistance: number): number {
  const r = DEFAULT_RADIUS_SHARE * medianDistance;
  return r > 0 && Number.isFinite(r) ? Number(r.toPrecision(3)) : 1;
}
