#!/usr/bin/env node
// Records the polytope results that the polytope view's webview tests feed to the page, from real runs of the CLI
// (build first: `node esbuild.mjs`), into test/webview/fixtures (like make-fixtures.mjs, which records the others):
//   resmlp.polytope.json  polytope test/fixtures/resmlp.onnx --inputs test/fixtures/resmlp.inputs.npy --index 0 --json
//                         (float64, three ReLU layers named by module, every facet: the list is complete)
//   cnn.polytope.json     polytope test/fixtures/cnn.onnx --inputs test/fixtures/cnn.inputs.npy --index 0 --facets rays --json
//                         (Conv has no float64 kernel: float32, approximate; rays only: the facet list is partial)
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = join(root, 'test/webview/fixtures');

function polytope(name, ...extra) {
  const out = execFileSync(process.execPath, ['out/cli/main.js', 'polytope', `test/fixtures/${name}.onnx`, '--inputs', `test/fixtures/${name}.inputs.npy`, '--index', '0', ...extra, '--json', '--quiet'], { cwd: root, encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  const file = `${name}.polytope.json`;
  writeFileSync(join(dir, file), `${JSON.stringify(JSON.parse(out), null, 1)}\n`);
  console.log(`wrote test/webview/fixtures/${file}`);
}

polytope('resmlp');
polytope('cnn', '--facets', 'rays');
