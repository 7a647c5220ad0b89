/**
 * MaxPool windows: which input element each window position reads, and the layer's bits (one per window element,
 * 1 at the window's first maximum, padding positions 0) computed from the pool's input.
 */
import type { LensLayer } from './lens';
import { bytesFor, OrderedBitWriter, setBit } from './bits';
import { elementCount } from '../shared/shape';

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
  const plane = elementCount(pool.inSpatial);
  const outPlane = elementCount(pool.outSpatial);
  const window = elementCount(spec.kernel);
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
  const inPerSample = elementCount(layer.shape);
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

/** A 2-D MaxPool layer's geometry: input and output size, kernel, strides, dilations, begin pads, channels. */
function pool2d(layer: LensLayer) {
  const pool = layer.pool!;
  const spec = layer.plan.rule.kind === 'argmax' ? layer.plan.rule.pool : undefined;
  if (!spec) throw new Error(`${layer.plan.key} is not a MaxPool layer`);
  const [H, W] = pool.inSpatial as [number, number];
  const [OH, OW] = pool.outSpatial as [number, number];
  const [KH, KW] = spec.kernel as [number, number];
  const [SH, SW] = spec.strides as [number, number];
  const [DH, DW] = spec.dilations as [number, number];
  const [PH, PW] = pool.beginPads as [number, number];
  return { H, W, OH, OW, KH, KW, SH, SW, DH, DW, PH, PW, C: pool.channels };
}

/** The 2-D case (almost every CNN) with the window walked directly: several times faster than the table. */
function maxPoolBits2d(x: Float32Array, rows: number, layer: LensLayer, rowBytes: number): Uint8Array {
  const { H, W, OH, OW, KH, KW, SH, SW, DH, DW, PH, PW, C } = pool2d(layer);
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

/**
 * 2-D MaxPool bits from onnxruntime's Indices output (flat indices into the whole input tensor, N x C x H x W, cast
 * to int32: the low 32 bits). The sample and channel offset is taken away modulo 2^32 (the index within a plane is
 * below 2^31), which leaves the position in the plane and so in the window. A window whose entries are all -inf
 * (no entry beats the kernel's start value) gets an index outside it: its bit is the first valid entry, as in
 * maxPoolBits.
 */
export function poolIndexBits(idx: Int32Array, rows: number, layer: LensLayer, rowBytes = bytesFor(layer.units)): Uint8Array {
  const g = pool2d(layer);
  const { H, W, OH, OW, KH, KW, SH, SW, DH, DW, PH, PW, C } = g;
  const window = KH * KW;
  const plane = H * W;
  // An index's offset from its window's first entry gives its window position directly while a window's columns fit
  // in a row ((KW - 1) * DW < W: no two positions share an offset); otherwise it is decoded by division.
  const byOffset = (KW - 1) * DW < W ? offsetPositions(W, KH, KW, DH, DW) : new Int16Array(0);
  const span = byOffset.length;
  /** The window position of an index the offset table does not know: by division, or the first entry inside the window. */
  const position = (local: number, h0: number, w0: number) => {
    const k = local >= 0 && local < plane && span === 0 ? windowPosition(local, h0, w0, g) : -1;
    return k >= 0 ? k : firstInside(h0, w0, KH, KW, DH, DW);
  };
  const bits = new Uint8Array(rows * rowBytes);
  let i = 0;
  for (let r = 0; r < rows; r++) {
    // Bits come in increasing order (window positions of successive outputs).
    const row = new OrderedBitWriter(bits, r * rowBytes);
    let first = 0;
    for (let c = 0; c < C; c++) {
      const base = Math.imul(r * C + c, plane);
      for (let oh = 0; oh < OH; oh++) {
        const h0 = oh * SH - PH;
        // Where the window of (oh, ow) starts, as an offset in the plane (negative in the padding).
        let start = h0 * W - PW;
        for (let ow = 0; ow < OW; ow++, i++, first += window, start += SW) {
          const local = (idx[i]! - base) | 0;
          const offset = local - start;
          let k = local >= 0 && local < plane && offset >= 0 && offset < span ? byOffset[offset]! : -1;
          if (k < 0) k = position(local, h0, ow * SW - PW);
          row.set(first + k);
        }
      }
    }
    row.flush();
  }
  return bits;
}

/** Per offset of an input element from its window's first entry (dh * DH * W + dw * DW), its window position dh * KW + dw; -1 elsewhere. */
function offsetPositions(W: number, KH: number, KW: number, DH: number, DW: number): Int16Array {
  const positions = new Int16Array((KH - 1) * DH * W + (KW - 1) * DW + 1).fill(-1);
  for (let dh = 0; dh < KH; dh++) for (let dw = 0; dw < KW; dw++) positions[dh * DH * W + dw * DW] = dh * KW + dw;
  return positions;
}

/** The window position of the element at `local` (row-major in the plane) in the window whose first entry is at (h0, w0); -1 if it is not in it. */
function windowPosition(local: number, h0: number, w0: number, g: ReturnType<typeof pool2d>): number {
  const h = Math.floor(local / g.W);
  const dh = h - h0;
  const dw = local - h * g.W - w0;
  if (dh < 0 || dw < 0 || dh % g.DH !== 0 || dw % g.DW !== 0 || dh / g.DH >= g.KH || dw / g.DW >= g.KW) return -1;
  return (dh / g.DH) * g.KW + dw / g.DW;
}

/** The first window position (row-major: kh * KW + kw) inside the input, for a window whose first entry is at (h0, w0). */
function firstInside(h0: number, w0: number, KH: number, KW: number, DH: number, DW: number): number {
  let kh = 0;
  while (kh < KH - 1 && h0 + kh * DH < 0) kh++;
  let kw = 0;
  while (kw < KW - 1 && w0 + kw * DW < 0) kw++;
  return kh * KW + kw;
}

/** MaxPool bits from the index of each window's first maximum (rows x output elements, C order). */
export function oneHotBits(first: Uint8Array | Int32Array, rows: number, window: number, rowBytes: number): Uint8Array {
  const elements = first.length / rows;
  const bits = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    const row = new OrderedBitWriter(bits, r * rowBytes);
    for (let e = 0; e < elements; e++) row.set(e * window + first[r * elements + e]!);
    row.flush();
  }
  return bits;
}
