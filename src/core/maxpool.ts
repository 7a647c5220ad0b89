/**
 * MaxPool windows: which input element each window position reads, and the layer's bits (one per window element,
 * 1 at the window's first maximum, padding positions 0) computed from the pool's input.
 */
import type { LensLayer } from './lens';
import { bytesFor, setBit } from './bits';

/** For a MaxPool layer: per output element (C order) and window element (row-major), the flat index into the
 * pre-activation of one sample, or -1 for padding. */
export interface WindowTable {
  table: Int32Array;
  window: number;
}

export function windowTable(layer: LensLayer): WindowTable {
  const pool = layer.pool!;
  const spec = layer.plan.rule.kind === 'argmax' ? layer.plan.rule.pool : undefined;
  if (!spec) throw new Error('windowTable on a layer that is not a MaxPool');
  const d = pool.inSpatial.length;
  const plane = pool.inSpatial.reduce((x, y) => x * y, 1);
  const outPlane = pool.outSpatial.reduce((x, y) => x * y, 1);
  const window = spec.kernel.reduce((x, y) => x * y, 1);
  const table = new Int32Array(pool.channels * outPlane * window);
  const opos = new Array<number>(d);
  const wpos = new Array<number>(d);
  for (let c = 0; c < pool.channels; c++) {
    for (let o = 0; o < outPlane; o++) {
      let r = o;
      for (let k = d - 1; k >= 0; k--) (opos[k] = r % pool.outSpatial[k]!), (r = Math.floor(r / pool.outSpatial[k]!));
      for (let w = 0; w < window; w++) {
        let q = w;
        for (let k = d - 1; k >= 0; k--) (wpos[k] = q % spec.kernel[k]!), (q = Math.floor(q / spec.kernel[k]!));
        let flat = 0;
        let inside = true;
        for (let k = 0; k < d; k++) {
          const p = opos[k]! * spec.strides[k]! - pool.beginPads[k]! + wpos[k]! * spec.dilations[k]!;
          if (p < 0 || p >= pool.inSpatial[k]!) inside = false;
          flat = flat * pool.inSpatial[k]! + p;
        }
        table[(c * outPlane + o) * window + w] = inside ? c * plane + flat : -1;
      }
    }
  }
  return { table, window };
}


/** The window table maxPoolBits needs for a MaxPool layer (2-D pools walk their windows without one). */
export function bitsWindowTable(layer: LensLayer): WindowTable | undefined {
  return layer.plan.rule.kind === 'argmax' && layer.pool?.inSpatial.length !== 2 ? windowTable(layer) : undefined;
}

/**
 * The bits of a MaxPool layer for `rows` samples, from its input tensor (rows x input elements, float32). Reading
 * the input instead of MaxPool's Indices output keeps onnxruntime's fast pooling kernel, and defines ties by the
 * convention (first maximum in row-major window order) rather than by a runtime's loop order.
 */
export function maxPoolBits(x: Float32Array, rows: number, layer: LensLayer, table?: WindowTable, rowBytes = bytesFor(layer.units)): Uint8Array {
  if (layer.pool?.inSpatial.length === 2) return maxPoolBits2d(x, rows, layer, rowBytes);
  const { table: t, window } = table ?? windowTable(layer);
  const inPerSample = layer.shape.reduce((a, b) => a * b, 1);
  const outElements = t.length / window;
  const bits = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    const base = r * inPerSample;
    for (let e = 0; e < outElements; e++) {
      let best = -1;
      let bestValue = -Infinity;
      for (let w = 0; w < window; w++) {
        const idx = t[e * window + w]!;
        if (idx < 0) continue;
        const v = x[base + idx]!;
        if (best < 0 || v > bestValue) {
          best = w;
          bestValue = v;
        }
      }
      if (best >= 0) setBit(bits, r * rowBytes, e * window + best);
    }
  }
  return bits;
}

/** The 2-D case (almost every CNN) with the window walked directly: several times faster than the table. */
function maxPoolBits2d(x: Float32Array, rows: number, layer: LensLayer, rowBytes: number): Uint8Array {
  const pool = layer.pool!;
  const spec = layer.plan.rule.kind === 'argmax' ? layer.plan.rule.pool : undefined;
  if (!spec) throw new Error('maxPoolBits on a layer that is not a MaxPool');
  const [H, W] = pool.inSpatial as [number, number];
  const [OH, OW] = pool.outSpatial as [number, number];
  const [KH, KW] = spec.kernel as [number, number];
  const [SH, SW] = spec.strides as [number, number];
  const [DH, DW] = spec.dilations as [number, number];
  const [PH, PW] = pool.beginPads as [number, number];
  const C = pool.channels;
  const window = KH * KW;
  const bits = new Uint8Array(rows * rowBytes);
  const inPerSample = C * H * W;
  for (let r = 0; r < rows; r++) {
    const out = r * rowBytes;
    let e = 0;
    for (let c = 0; c < C; c++) {
      const plane = r * inPerSample + c * H * W;
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++, e++) {
          let best = -1;
          let bestValue = 0;
          for (let kh = 0; kh < KH; kh++) {
            const h = oh * SH - PH + kh * DH;
            if (h < 0 || h >= H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const w = ow * SW - PW + kw * DW;
              if (w < 0 || w >= W) continue;
              const v = x[plane + h * W + w]!;
              if (best < 0 || v > bestValue) {
                best = kh * KW + kw;
                bestValue = v;
              }
            }
          }
          if (best >= 0) {
            const bit = e * window + best;
            bits[out + (bit >> 3)]! |= 0x80 >> (bit & 7);
          }
        }
      }
    }
  }
  return bits;
}

/** MaxPool bits from the index of each window's first maximum (rows x output elements, C order). */
export function oneHotBits(first: Uint8Array | Int32Array, rows: number, window: number, rowBytes: number): Uint8Array {
  const elements = first.length / rows;
  const bits = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    const out = r * rowBytes;
    for (let e = 0; e < elements; e++) {
      const bit = e * window + first[r * elements + e]!;
      bits[out + (bit >> 3)]! |= 0x80 >> (bit & 7);
    }
  }
  return bits;
}
