/**
 * An input shown as a picture: a region map's clicked point, a cluster's exemplars. Inputs shaped like an image
 * ([1,H,W], [3,H,W] or [H,W]) are drawn; so is a flat vector of k*k pixel-like values (k >= 8, all in [0, 255]),
 * such as the digits example's 64 = 8x8 pixels. Any other vector (features, negative values) is not drawn.
 */
import { PNG } from 'pngjs';
import type { ClusterResult } from '../shared/results';
import { elementCount } from '../shared/shape';

/** A PNG data URL of an image-like input ([1,H,W], [3,H,W] or [H,W]); values in [0,1] or [0,255] as they are, else min-max scaled. */
export function imageOf(x: Float32Array, shape: number[]): { url: string; note: string } | undefined {
  let c: number, hgt: number, w: number;
  let flat = '';
  if (shape.length === 3 && (shape[0] === 1 || shape[0] === 3)) [c, hgt, w] = shape as [number, number, number];
  else if (shape.length === 2) [c, hgt, w] = [1, shape[0]!, shape[1]!];
  else if (shape.length === 1 && Number.isInteger(Math.sqrt(shape[0]!)) && shape[0]! >= 64 && x.every((v) => v >= 0 && v <= 255)) {
    [c, hgt, w] = [1, Math.sqrt(shape[0]!), Math.sqrt(shape[0]!)];
    flat = `${shape[0]} values as `;
  } else return undefined;
  if (hgt < 2 || w < 2 || hgt * w > 4096 * 4096) return undefined;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of x) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  let scale: (v: number) => number;
  let note: string;
  if (lo >= 0 && hi <= 1) {
    scale = (v) => v * 255;
    note = 'values in [0, 1]';
  } else if (lo >= 0 && hi <= 255) {
    scale = (v) => v;
    note = 'values in [0, 255]';
  } else {
    const span = hi - lo || 1;
    scale = (v) => ((v - lo) / span) * 255;
    note = `min-max scaled from [${lo.toPrecision(3)}, ${hi.toPrecision(3)}]`;
  }
  const png = new PNG({ width: w, height: hgt });
  const plane = hgt * w;
  for (let p = 0; p < plane; p++) {
    const r = scale(x[p]!);
    const g = c === 3 ? scale(x[plane + p]!) : r;
    const b = c === 3 ? scale(x[2 * plane + p]!) : r;
    png.data[4 * p] = Math.round(Math.min(255, Math.max(0, r)));
    png.data[4 * p + 1] = Math.round(Math.min(255, Math.max(0, g)));
    png.data[4 * p + 2] = Math.round(Math.min(255, Math.max(0, b)));
    png.data[4 * p + 3] = 255;
  }
  return { url: `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`, note: `${flat}${w}×${hgt}${c === 3 ? ' RGB' : ''}, ${note}` };
}

/**
 * PNG data URLs of the medoids and exemplars of every method of a clustering, by input index (at most `max`), when
 * the inputs can be drawn; undefined when they cannot.
 */
export function exemplarImages(r: ClusterResult, data: Float32Array, sampleShape: number[], max: number): Record<number, string> | undefined {
  const size = elementCount(sampleShape);
  const wanted = new Set<number>();
  for (const m of Object.values(r.methods)) for (const c of m?.clusters ?? []) for (const i of [...(c.medoid === null ? [] : [c.medoid]), ...c.exemplars]) wanted.add(i);
  const out: Record<number, string> = {};
  let count = 0;
  for (const i of wanted) {
    if (count >= max) break;
    const img = imageOf(data.subarray(i * size, (i + 1) * size), sampleShape);
    if (!img) return undefined; // not image-like inputs: no thumbnails at all
    out[i] = img.url;
    count++;
  }
  return count ? out : undefined;
}
