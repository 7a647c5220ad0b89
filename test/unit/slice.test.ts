/**
 * 2D slices: the grid follows DESIGN.md §3 exactly, and the exact partition (Regioncam's algorithm through the
 * model) satisfies PAPER.md invariant 3 and agrees with independent computations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lens } from '../../src/core/lens';
import { CodeExtractor } from '../../src/core/extract';
import { toHex } from '../../src/core/bits';
import { readNpy, toModelInput } from '../../src/core/inputs';
import { constFloats, attrInt } from '../../src/core/onnx/graph';
import { linspace } from '../../src/core/analyses/planar';
import { slice, sliceGrid } from '../../src/core/analyses/slice';
import { exactRegions2d } from '../../src/core/analyses/exact2d';
import { isUserError } from '../../src/core/errors';
import { Rng } from '../../src/core/inputs/random';
import { fixture } from '../support/paths';

async function codesAt(lens: Lens, pts: number[][]): Promise<{ hex: string[]; preds: number[] }> {
  const ex = await CodeExtractor.create(lens, lens.layers);
  const data = Float32Array.from(pts.flat());
  const b = await ex.run(data, pts.length);
  await ex.dispose();
  return { hex: pts.map((_, i) => toHex(b.codes, i * ex.codeBytes, ex.codeBytes)), preds: Array.from(b.preds) };
}

test('grid: point (i, j) = (xs[j], ys[i]), ids in order of first appearance, preds per point', async () => {
  const lens = await Lens.open(fixture('mlp2d.onnx'));
  const R = 30;
  const g = await sliceGrid(lens, lens.layers, { window: [-3, 3], resolution: R });
  assert.equal(g.region_ids_row_major.length, R * R);
  const xs = linspace(-3, 3, R);
  const pts: number[][] = [];
  for (let i = 0; i < R; i++) for (let j = 0; j < R; j++) pts.push([xs[j]!, xs[i]!]);
  const { hex, preds } = await codesAt(lens, pts);
  const ids = new Map<string, number>();
  const expected = hex.map((h) => (ids.has(h) ? ids.get(h)! : (ids.set(h, ids.size), ids.size - 1)));
  assert.deepEqual(g.region_ids_row_major, expected);
  assert.deepEqual(g.pred_row_major, preds);
  assert.equal(g.distinct_codes, ids.size);
  assert.ok(new Set(preds).size === 2, 'the two moons model predicts both classes on [-3,3]^2');
});

test('grid progress: one report per forward pass, points done rising to R²', async () => {
  const lens = await Lens.open(fixture('mlp2d.onnx'));
  const seen: [number, number][] = [];
  const g = await sliceGrid(lens, lens.layers, { window: [-3, 3], resolution: 30, batch: 100, onProgress: (done, total) => seen.push([done, total]) });
  // 900 points in passes of 100.
  assert.deepEqual(seen, Array.from({ length: 9 }, (_, i) => [100 * (i + 1), 900]));
  assert.equal(g.region_ids_row_major.length, 900);
});

test('slice progress with --exact: the pre-activations cut, rising to every unit of every layer, then the grid points', async () => {
  const lens = await Lens.open(fixture('mlp2d.onnx'));
  const seen: [number, number, string][] = [];
  await slice(lens, lens.layers, { window: [-3, 3], resolution: 30, batch: 300, exact: { polygons: false }, onProgress: (d, t, s) => seen.push([d, t, s]) });
  const units = lens.layers.reduce((a, l) => a + l.units, 0);
  const exact = seen.filter(([, , s]) => s === 'exact regions');
  assert.deepEqual(seen.slice(exact.length), [[300, 900, 'grid points'], [600, 900, 'grid points'], [900, 900, 'grid points']], 'the grid comes after the exact stage');
  // A report per unit here (at most one per 1% of the units), rising to all of them.
  assert.deepEqual(exact, Array.from({ length: units }, (_, i) => [i + 1, units, 'exact regions']));
});

test('plane through three inputs: (0,0) is a, (1,0) is b, (0,1) is c', async () => {
  const lens = await Lens.open(fixture('mlp.onnx'));
  const { data } = toModelInput(readNpy(fixture('mlp.inputs.npy')), lens.sampleShape, 'mlp');
  const s = lens.sampleSize;
  const pick = (k: number) => data.slice(k * s, (k + 1) * s);
  const [a, b, c] = [pick(3), pick(7), pick(11)];
  const g = await sliceGrid(lens, lens.layers, { window: [0, 1], resolution: 2, plane: { a, b, c } });
  const ex = await CodeExtractor.create(lens, lens.layers);
  const direct = await ex.run(Float32Array.from([...a, ...b, ...c]), 3);
  await ex.dispose();
  const hex = [0, 1, 2].map((i) => toHex(direct.codes, i * ex.codeBytes, ex.codeBytes));
  // Row-major: (0,0)=a, (1,0)=b, (0,1)=c, (1,1).
  const ids = g.region_ids_row_major;
  assert.equal(ids[0], 0);
  assert.equal(ids[1] === ids[0], hex[1] === hex[0]);
  assert.equal(ids[2] === ids[0], hex[2] === hex[0]);
  assert.equal(ids[2] === ids[1], hex[2] === hex[1]);
  assert.deepEqual(g.pred_row_major.slice(0, 3), Array.from(direct.preds));
});

test('exact regions >= distinct grid codes at R = 50, 100, 200, 400, and the gap closes (invariant 3)', async () => {
  const lens = await Lens.open(fixture('mlp2d.onnx'));
  const window: [number, number] = [-3, 3];
  const exact = await exactRegions2d(lens, { window, polygons: false });
  assert.equal(exact.precision, 'float64');
  const gaps: number[] = [];
  for (const R of [50, 100, 200, 400]) {
    const g = await sliceGrid(lens, lens.layers, { window, resolution: R });
    assert.ok(exact.regions >= g.distinct_codes, `R=${R}: ${g.distinct_codes} grid codes > ${exact.regions} exact regions`);
    gaps.push(exact.regions - g.distinct_codes);
  }
  for (let k = 1; k < gaps.length; k++) assert.ok(gaps[k]! <= gaps[k - 1]!, `gap grew: ${gaps.join(', ')}`);
  assert.ok(gaps[3]! < 0.5 * gaps[0]!, `gap does not close: ${gaps.join(', ')} (exact ${exact.regions})`);
});

test('onelayer2d: exact regions equal the regions of the arrangement of the 12 hidden lines in the window', async () => {
  const lens = await Lens.open(fixture('onelayer2d.onnx'));
  // Independent: the Gemm feeding the ReLU, weights from the initializers.
  const relu = lens.layers[0]!.plan;
  const gemm = lens.graph.producer.get(relu.preact)!;
  assert.equal(gemm.opType, 'Gemm');
  const W = constFloats(lens.graph, gemm.input![1])!;
  const B = constFloats(lens.graph, gemm.input![2])!;
  const transB = attrInt(gemm, 'transB', 0);
  const H = B.length;
  const w = (i: number, k: number) => (transB ? W[i * 2 + k]! : W[k * H + i]!);
  for (const [lo, hi] of [[-4, 4], [-1, 1.5], [-10, 10]] as [number, number][]) {
    const inside = (x: number, y: number) => x > lo && x < hi && y > lo && y < hi;
    let crossing = 0;
    for (let i = 0; i < H; i++) {
      const vals = [[lo, lo], [hi, lo], [hi, hi], [lo, hi]].map(([x, y]) => w(i, 0) * x! + w(i, 1) * y! + B[i]!);
      if (vals.some((v) => v > 0) && vals.some((v) => v < 0)) crossing++;
    }
    let points = 0;
    for (let i = 0; i < H; i++) {
      for (let j = i + 1; j < H; j++) {
        const det = w(i, 0) * w(j, 1) - w(i, 1) * w(j, 0);
        if (det === 0) continue;
        const x = (-B[i]! * w(j, 1) + B[j]! * w(i, 1)) / det;
        const y = (-w(i, 0) * B[j]! + w(j, 0) * B[i]!) / det;
        if (inside(x, y)) points++;
      }
    }
    const expected = 1 + crossing + points;
    const exact = await exactRegions2d(lens, { window: [lo, hi], polygons: false });
    assert.equal(exact.regions, expected, `window [${lo}, ${hi}]: ${crossing} lines, ${points} crossings`);
  }
});

test('exact: areas sum to the window, each region centroid has the region code, pred matches', async () => {
  for (const [name, window] of [['mlp2d', [-3, 3]], ['onelayer2d', [-4, 4]]] as [string, [number, number]][]) {
    const lens = await Lens.open(fixture(`${name}.onnx`));
    const exact = await exactRegions2d(lens, { window });
    const area = (window[1] - window[0]) ** 2;
    assert.ok(Math.abs(exact.total_area - area) <= 1e-9 * area, `${name}: areas sum to ${exact.total_area}, window ${area}`);
    assert.equal(exact.areas.reduce((a, b) => a + b, 0), exact.total_area);
    assert.ok(exact.min_region_area > 0);
    const polys = exact.polygons!;
    assert.equal(new Set(polys.map((p) => p.code_hex)).size, polys.length, 'one code per region');
    const centroids = polys.map((p) => centroid(p.vertices));
    const { hex, preds } = await codesAt(lens, centroids);
    let wrongCode = 0;
    let wrongPred = 0;
    polys.forEach((p, k) => {
      if (hex[k] !== p.code_hex) wrongCode++;
      if (preds[k] !== p.pred && !exact.decision_boundary.length) wrongPred++;
    });
    assert.equal(wrongCode, 0, `${name}: ${wrongCode} of ${polys.length} centroids have another code`);
    assert.equal(wrongPred, 0);
    assert.ok(exact.decision_boundary.length > 0, `${name}: decision boundary found`);
  }
});

test('exact through a plane of a 10-input model (mlp.onnx): regions >= grid codes', async () => {
  const lens = await Lens.open(fixture('mlp.onnx'));
  const { data } = toModelInput(readNpy(fixture('mlp.inputs.npy')), lens.sampleShape, 'mlp');
  const s = lens.sampleSize;
  const pick = (k: number) => data.slice(k * s, (k + 1) * s);
  const r = await slice(lens, lens.layers, { window: [-0.5, 1.5], resolution: 100, plane: { a: pick(0), b: pick(1), c: pick(2) }, exact: true });
  assert.ok(r.exact!.regions >= r.grid.distinct_codes, `${r.exact!.regions} < ${r.grid.distinct_codes}`);
  assert.ok(Math.abs(r.exact!.total_area - 4) < 4e-9);
});

test('exact refuses smooth models, and a grid of a 10-input model needs a plane', async () => {
  const gelu = await Lens.open(fixture('gelu_tf.onnx'));
  await assert.rejects(() => exactRegions2d(gelu, { window: [-1, 1], plane: planeOf(gelu.sampleSize) }), /smooth|piecewise-linear/);
  const mlp = await Lens.open(fixture('mlp.onnx'));
  await assert.rejects(() => sliceGrid(mlp, mlp.layers, { window: [-1, 1], resolution: 10 }), /plane/);
});

test('exact on a CNN whose regions outgrow memory: one sentence naming regions, vertices and size', async () => {
  // SqueezeNet 1.1 at 64x64 (test/fixtures/torchvision) on the plane of three uniform random images: within its
  // first layer's units the faces' codes and the vertices' values pass MAX_HELD_BYTES (seconds). slice() runs the
  // exact partition before the grid, so the refusal does not wait for the default grid's 40,000 forward passes.
  const lens = await Lens.open(fixture('torchvision/squeezenet1_1.onnx'));
  const rng = new Rng(3);
  const [a, b, c] = [0, 1, 2].map(() => Float64Array.from({ length: lens.sampleSize }, () => rng.uniform()));
  await assert.rejects(slice(lens, lens.layers, { window: [0, 1], resolution: 200, plane: { a: a!, b: b!, c: c! }, exact: true }), (e: unknown) => {
    const m = (e as Error).message;
    assert.ok(isUserError(e), m);
    assert.match(m, /^--exact has [\d,]+ regions and [\d,]+ vertices by layer '[^']+' of squeezenet1_1\.onnx: their codes and pre-activations would need [\d.]+ GB \(at most 2 GB\); choose a smaller window, or slice without --exact/);
    return true;
  });
});

function planeOf(size: number) {
  const a = new Float32Array(size);
  const b = new Float32Array(size);
  const c = new Float32Array(size);
  b[0] = 1;
  c[1] = 1;
  return { a, b, c };
}

/** Area centroid of a convex polygon. */
function centroid(v: [number, number][]): number[] {
  let a = 0, cx = 0, cy = 0;
  for (let i = 0; i < v.length; i++) {
    const [x0, y0] = v[i]!;
    const [x1, y1] = v[(i + 1) % v.length]!;
    const c = x0 * y1 - x1 * y0;
    a += c;
    cx += (x0 + x1) * c;
    cy += (y0 + y1) * c;
  }
  return [cx / (3 * a), cy / (3 * a)];
}

// The window avoids the lines u = 0 and v = 0 (through a and b, a and c): on them some MaxPool windows of these
// images are tied exactly, and grid points there see codes of measure-zero sets (first index on ties), not regions.
test('MaxPool (cnn.onnx through a plane of three images): regions >= grid codes, areas sum, float32 fallback stated', async () => {
  const lens = await Lens.open(fixture('cnn.onnx'));
  const { data } = toModelInput(readNpy(fixture('cnn.inputs.npy')), lens.sampleShape, 'cnn');
  const s = lens.sampleSize;
  const pick = (k: number) => data.slice(k * s, (k + 1) * s);
  const r = await slice(lens, lens.layers, { window: [0.013, 0.213], resolution: 200, plane: { a: pick(0), b: pick(1), c: pick(2) }, exact: true });
  const e = r.exact!;
  assert.ok(e.regions >= r.grid.distinct_codes, `${e.regions} < ${r.grid.distinct_codes}`);
  assert.ok(Math.abs(e.total_area - 0.04) < 1e-6 * 0.04, `area ${e.total_area}`);
  assert.equal(new Set(e.polygons!.map((p) => p.code_hex)).size, e.regions);
  // onnxruntime has no double Conv kernel on CPU: the result says so.
  if (e.precision === 'float32') assert.match(e.precision_note ?? '', /float64 unavailable/);
});
