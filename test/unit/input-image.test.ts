/** Inputs drawn as PNGs (src/extension/inputImage.ts): image shapes, flat k*k pixel vectors, and what is not drawn. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { readNpy } from '../../src/core/inputs';
import { exemplarImages, imageOf } from '../../src/extension/inputImage';
import { clusterInputs } from '../../src/core/analyses/cluster';
import { Lens } from '../../src/core/lens';
import { toLabels } from '../../src/core/inputs';
import { fixture, ROOT } from '../support/paths';

function decode(url: string): PNG {
  assert.match(url, /^data:image\/png;base64,/);
  return PNG.sync.read(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'));
}

test('a digits row (64 values in [0, 1]) is drawn as its 8x8 pixels', () => {
  const x = readNpy(join(ROOT, 'examples/digits/digits-x.npy')).data as Float32Array;
  const row = x.subarray(5 * 64, 6 * 64);
  const img = imageOf(row, [64])!;
  assert.ok(img, 'drawn');
  assert.match(img.note, /^64 values as 8×8, values in \[0, 1\]/);
  const png = decode(img.url);
  assert.deepEqual([png.width, png.height], [8, 8]);
  for (let p = 0; p < 64; p++) assert.equal(png.data[4 * p], Math.round(row[p]! * 255), `pixel ${p}`);
});

test('a [1, 12, 12] image is drawn; feature vectors and non-square vectors are not', () => {
  const cnn = readNpy(fixture('cnn.inputs.npy')).data as Float32Array;
  const png = decode(imageOf(cnn.subarray(0, 144), [1, 12, 12])!.url);
  assert.deepEqual([png.width, png.height], [12, 12]);
  const mlp = readNpy(fixture('mlp.inputs.npy')).data as Float32Array;
  assert.equal(imageOf(mlp.subarray(0, 10), [10]), undefined, '10 features');
  const negative = new Float32Array(64).fill(-0.5);
  assert.equal(imageOf(negative, [64]), undefined, 'negative values are not pixels');
  assert.equal(imageOf(new Float32Array(16), [16]), undefined, 'a 4x4 vector is too small to be taken for an image');
});

test('exemplar thumbnails of a digits clustering: every medoid and exemplar of every method, each its own pixels', async () => {
  const dir = join(ROOT, 'examples/digits');
  const lens = await Lens.open(join(dir, 'digits.onnx'));
  const n = 120;
  const x = (readNpy(join(dir, 'digits-x.npy')).data as Float32Array).subarray(0, n * 64);
  const y = toLabels(readNpy(join(dir, 'digits-y.npy')), 'digits-y.npy').slice(0, n);
  const r = await clusterInputs(lens, lens.layers, x, n, { labels: y, k: 10, minClusterSize: 5, seed: 0, methods: ['kmedoids_codes', 'hdbscan_codes', 'pca'] });
  const want = new Set<number>();
  for (const m of Object.values(r.methods)) for (const c of m!.clusters) for (const i of [...(c.medoid === null ? [] : [c.medoid]), ...c.exemplars]) want.add(i);
  assert.ok(want.size > 10);
  const thumbs = exemplarImages(r, x, [64], 10_000)!;
  assert.deepEqual(Object.keys(thumbs).map(Number).sort((a, b) => a - b), [...want].sort((a, b) => a - b));
  for (const i of want) {
    const png = decode(thumbs[i]!);
    for (let p = 0; p < 64; p++) assert.equal(png.data[4 * p], Math.round(x[i * 64 + p]! * 255));
  }
  assert.equal(Object.keys(exemplarImages(r, x, [64], 7)!).length, 7, 'capped');
  assert.equal(exemplarImages(r, x.map((v) => v - 0.5), [64], 100), undefined, 'not pixels: no thumbnails');
});
