#!/usr/bin/env node
// Records the engine results that the webview tests feed to the pages, from real runs of the CLI (build first:
// `node esbuild.mjs`), and writes them to test/webview/fixtures:
//   digits.codes.json     codes  examples/digits/digits.onnx --inputs digits-x.npy --json, per-sample rows left out
//                         (what the host sends a model view: withoutSamples in src/shared/webview-protocol.ts)
//   digits.study.json     density-study examples/digits/digits.onnx --inputs digits-x.npy --json (50 pairs per group,
//                         classes predicted by the model, 2000 permutations, seed 0)
//   digits.cluster.json   cluster examples/digits/digits.onnx --inputs digits-x.npy --labels digits-y.npy --json
//   digits.cluster-thumbnails.json
//                         the inputs the cluster page shows as exemplars (every method's exemplars and medoids, the
//                         PCA/NMF top examples), as PNG data URLs keyed by input index: each row of digits-x.npy
//                         (64 float32 pixels in [0, 1]) is an 8x8 grey image, pixel value * 255, written by pngjs
//                         (the same rule as the host's imageOf in src/extension/analysisPanel.ts).
//   ultraface.summary.json, ultraface.codes.json
//                         summary and codes of test/fixtures/ultraface-RFB-320.onnx (37 layers, 2,980,160 bits) over
//                         8 uniform probes (seed 0), per-sample rows left out: a model view of a real large model
// The older fixtures (path, slice, local, scale, summaries) were recorded by the commands listed at the top of
// analysis.tests.mjs; this script leaves them alone.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = join(root, 'test/webview/fixtures');
const model = 'examples/digits/digits.onnx';
const x = 'examples/digits/digits-x.npy';
const y = 'examples/digits/digits-y.npy';

function cli(...args) {
  const out = execFileSync(process.execPath, ['out/cli/main.js', ...args, '--json', '--quiet'], { cwd: root, encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  return JSON.parse(out);
}

function write(name, value) {
  writeFileSync(join(dir, name), `${JSON.stringify(value, null, 1)}\n`);
  console.log(`wrote test/webview/fixtures/${name}`);
}

/** A little-endian float32 .npy file: its shape and values (enough for the examples' data files). */
function readNpyF32(path) {
  const buf = readFileSync(path);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + headerLen).toString('latin1');
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) throw new Error(`${path}: expected a C-order little-endian float32 array`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const start = 10 + headerLen;
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
  return { shape, data };
}

/** An 8x8 grey PNG data URL of row i of a [N, 64] array with values in [0, 1]. */
function digitPng(xs, i) {
  const side = 8;
  const png = new PNG({ width: side, height: side });
  for (let p = 0; p < side * side; p++) {
    const v = Math.round(Math.min(255, Math.max(0, xs.data[i * side * side + p] * 255)));
    png.data.set([v, v, v, 255], 4 * p);
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

const codes = cli('codes', model, '--inputs', x);
delete codes.samples;
delete codes.out;
write('digits.codes.json', codes);

const ultraface = 'test/fixtures/ultraface-RFB-320.onnx';
write('ultraface.summary.json', cli('summary', ultraface));
const large = cli('codes', ultraface, '--probes', 'uniform', '--n', '8', '--seed', '0');
delete large.samples;
delete large.out;
write('ultraface.codes.json', large);

write('digits.study.json', cli('density-study', model, '--inputs', x));

const cluster = cli('cluster', model, '--inputs', x, '--labels', y);
write('digits.cluster.json', cluster);

const xs = readNpyF32(join(root, x));
if (xs.shape.length !== 2 || xs.shape[1] !== 64) throw new Error(`${x}: expected [N, 64], got [${xs.shape}]`);
const shown = new Set();
for (const m of [...Object.values(cluster.methods), ...Object.values(cluster.baselines)]) {
  for (const c of m.clusters) {
    for (const i of c.exemplars) shown.add(i);
    if (c.medoid !== null) shown.add(c.medoid);
  }
}
write('digits.cluster-thumbnails.json', Object.fromEntries([...shown].sort((a, b) => a - b).map((i) => [i, digitPng(xs, i)])));
