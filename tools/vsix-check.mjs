#!/usr/bin/env node
// Runs the CLI of a packaged VSIX as installed, outside the checkout: the VSIX (a zip) is unpacked into a fresh
// folder of the system temp directory (no node_modules above it), and its extension/out/cli/main.js computes the
// summary and the codes of three real models: mnist-8, ultraface-RFB-320 and a torchvision SqueezeNet 1.1. Every
// module a bundle loads at run time must come from the VSIX itself; the results must equal the checkout's.
//   node tools/vsix-check.mjs FILE.vsix
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const vsix = resolve(process.argv[2] ?? '');
const fail = (m) => {
  console.error(`vsix-check: ${m}`);
  process.exit(1);
};
if (!existsSync(vsix)) fail(`no VSIX at ${vsix}`);

const dir = mkdtempSync(join(tmpdir(), 'polytope-vsix-check-'));
for (let d = dir; d !== parse(d).root; d = dirname(d)) if (existsSync(join(d, 'node_modules'))) fail(`${d} has a node_modules folder; unpack elsewhere`);
const unzip = spawnSync('unzip', ['-q', vsix, '-d', dir], { encoding: 'utf8' });
if (unzip.error || unzip.status !== 0) {
  const py = spawnSync('python3', ['-m', 'zipfile', '-e', vsix, dir], { encoding: 'utf8' });
  if (py.status !== 0) fail(`cannot unpack ${vsix}: ${unzip.error?.message ?? unzip.stderr} ${py.stderr}`);
}

const run = (main, args) => {
  const r = spawnSync(process.execPath, [main, ...args, '--json', '--quiet'], { cwd: dirname(main), encoding: 'utf8', maxBuffer: 256 << 20, timeout: 300_000 });
  if (r.status !== 0) fail(`${main} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr || r.error?.message}`);
  return JSON.parse(r.stdout);
};

let failures = 0;
try {
  const installed = join(dir, 'extension/out/cli/main.js');
  const checkout = join(root, 'out/cli/main.js');
  for (const name of ['mnist-8.onnx', 'ultraface-RFB-320.onnx', 'torchvision/squeezenet1_1.onnx']) {
    const model = join(root, 'test/fixtures', name);
    for (const args of [['summary', model], ['codes', model, '--probes', 'uniform', '--n', '3', '--seed', '1']]) {
      const got = run(installed, args);
      const same = isDeepStrictEqual(got, run(checkout, args));
      if (!same) failures++;
      console.log(`vsix-check: ${args[0]} ${name} from the installed VSIX: ${same ? 'same as the checkout' : 'DIFFERS from the checkout'}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (failures) fail(`${failures} result(s) of the installed CLI differ from the checkout's`);
console.log('vsix-check: the installed VSIX runs mnist-8, ultraface and SqueezeNet as the checkout does');
