/**
 * MaxPool bits from onnxruntime's Indices output (poolIndexBits) equal the bits computed from the pool's input
 * (maxPoolBits, the convention: first maximum in row-major window order), over pools with strides, dilations,
 * padding and ceil_mode windows, ties, and windows of -inf only. The indices are made the way onnxruntime's kernel
 * makes them: the flat index into the whole N x C x H x W input of each window's first maximum.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LensLayer } from '../../src/core/lens';
import { maxPoolBits, poolIndexBits, windowTable } from '../../src/core/maxpool';
import { bytesFor } from '../../src/core/bits';
import { Rng } from '../../src/core/inputs';
import { elementCount } from '../../src/shared/shape';

interface Geometry {
  H: number;
  W: number;
  K: [number, number];
  S: [number, number];
  D: [number, number];
  P: [number, number];
  ceil?: boolean;
}

function poolLayer(g: Geometry, C: number): LensLayer {
  const out = (n: number, i: 0 | 1) => {
    const span = n + 2 * g.P[i] - g.D[i] * (g.K[i] - 1) - 1;
    return (g.ceil ? Math.ceil(span / g.S[i]) : Math.floor(span / g.S[i])) + 1;
  };
  const outSpatial = [out(g.H, 0), out(g.W, 1)];
  const units = C * outSpatial[0]! * outSpatial[1]! * g.K[0] * g.K[1];
  const layer = {
    units,
    shape: [C, g.H, g.W],
    plan: { key: 'pool', rule: { kind: 'argmax', pool: { kernel: g.K, strides: g.S, dilations: g.D, pads: [...g.P, ...g.P], autoPad: 'NOTSET', storageOrder: 0 } } },
    pool: { inSpatial: [g.H, g.W], outSpatial, channels: C, beginPads: g.P },
  };
  return layer as unknown as LensLayer;
}

/** onnxruntime's Indices: per output element, the flat N x C x H x W index of the window's first maximum; a window
 * of -inf only has none, and gets an index outside it (here -1, or the next sample's first entry). */
function indicesOf(x: Float32Array, rows: number, layer: LensLayer, outside: (r: number) => number): Int32Array {
  const { table, window } = windowTable(layer);
  const perSample = elementCount(layer.shape);
  const elements = table.length / window;
  const idx = new Int32Array(rows * elements);
  for (let r = 0; r < rows; r++) {
    for (let e = 0; e < elements; e++) {
      let best = -1;
      for (let w = 0; w < window; w++) {
        const t = table[e * window + w]!;
        if (t >= 0 && x[r * perSample + t]! > -Infinity && (best < 0 || x[r * perSample + t]! > x[r * perSample + best]!)) best = t;
      }
      idx[r * elements + e] = best < 0 ? outside(r) : r * perSample + best;
    }
  }
  return idx;
}

const GEOMETRIES: Geometry[] = [
  { H: 12, W: 12, K: [3, 3], S: [2, 2], D: [1, 1], P: [1, 1] }, // ResNet's stem pool
  { H: 13, W: 13, K: [3, 3], S: [2, 2], D: [1, 1], P: [0, 0], ceil: true }, // SqueezeNet's and GoogLeNet's ceil_mode
  { H: 9, W: 9, K: [3, 3], S: [1, 1], D: [1, 1], P: [1, 1] }, // GoogLeNet's inception branch pool
  { H: 10, W: 7, K: [2, 3], S: [1, 2], D: [2, 1], P: [1, 1] }, // dilated, uneven
  { H: 8, W: 4, K: [3, 4], S: [2, 1], D: [1, 1], P: [1, 1] }, // a window as wide as the input
  { H: 9, W: 4, K: [2, 3], S: [3, 1], D: [1, 2], P: [0, 1] }, // the dilated window wider than the input
];

for (const g of GEOMETRIES) {
  test(`poolIndexBits equals maxPoolBits: ${g.H}x${g.W}, kernel ${g.K}, stride ${g.S}, dilation ${g.D}, pad ${g.P}${g.ceil ? ', ceil_mode' : ''}`, () => {
    const C = 3;
    const rows = 4;
    const layer = poolLayer(g, C);
    const rng = new Rng(7);
    const perSample = elementCount(layer.shape);
    // Values on a coarse grid, so windows tie often; the first channel of each sample starts with a block of -inf.
    const x = Float32Array.from({ length: rows * perSample }, () => Math.floor(rng.uniform(0, 4)));
    for (let r = 0; r < rows; r++) for (let h = 0; h < 4; h++) for (let w = 0; w < 4; w++) x[r * perSample + h * g.W + w] = -Infinity;
    const expected = maxPoolBits(x, rows, layer, undefined, bytesFor(layer.units));
    assert.ok(expected.some((b) => b !== 0));
    for (const outside of [() => -1, (r: number) => (r + 1) * perSample]) {
      const got = poolIndexBits(indicesOf(x, rows, layer, outside), rows, layer);
      assert.deepEqual(got, expected);
    }
  });
}
