/**
 * The bundles must run from an installed VSIX: a folder with no node_modules above it, where the only packages are
 * the ones .vscodeignore packs (onnxruntime-node and onnxruntime-common). A module that a bundle loads at run time
 * through a require esbuild cannot see (protobufjs finds `long` that way) resolves from the checkout's node_modules
 * in every other test, so these copy out/ the way the VSIX lays it out into the system temp folder and run the copy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { ROOT, fixture } from '../support/paths';

const BUNDLES = ['out/cli/main.js', 'out/worker/main.js', 'out/server/main.js', 'out/extension/main.js'];
/** What a bundle may require at run time: Node's own modules, VS Code's API, and the one packed package. */
const ALLOWED = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`), 'vscode', 'onnxruntime-node']);

test('every require in the node bundles is a Node built-in, vscode or onnxruntime-node (the rest is bundled)', () => {
  for (const b of BUNDLES) {
    const text = readFileSync(join(ROOT, b), 'utf8');
    const names = new Set([...text.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]));
    const stray = [...names].filter((n) => !ALLOWED.has(n));
    assert.deepEqual(stray, [], `${b} requires modules the VSIX does not carry`);
  }
});

function hasNodeModulesAbove(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules'))) return true;
    if (d === parse(d).root) return false;
  }
}

/** out/ and the packed packages copied as the VSIX has them (extension/out, extension/node_modules). */
function installedCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'polytope-vsix-layout-'));
  assert.ok(!hasNodeModulesAbove(dir), `${dir} has a node_modules folder above it; the test needs a clean place`);
  const ext = join(dir, 'extension');
  for (const b of ['cli', 'worker', 'server']) cpSync(join(ROOT, 'out', b), join(ext, 'out', b), { recursive: true });
  for (const p of ['onnxruntime-node', 'onnxruntime-common']) cpSync(join(ROOT, 'node_modules', p), join(ext, 'node_modules', p), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(ext, 'package.json'));
  return dir;
}

function cli(main: string, args: string[]): unknown {
  const r = spawnSync(process.execPath, [main, ...args, '--json', '--quiet'], { encoding: 'utf8', cwd: dirname(main), timeout: 120_000, maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

test('the CLI copied as the VSIX lays it out, outside the checkout, reads mnist-8, ultraface and a torchvision SqueezeNet as the checkout does', () => {
  const dir = installedCopy();
  try {
    const copied = join(dir, 'extension/out/cli/main.js');
    const here = join(ROOT, 'out/cli/main.js');
    for (const model of [fixture('mnist-8.onnx'), fixture('ultraface-RFB-320.onnx'), fixture('torchvision/squeezenet1_1.onnx')]) {
      const summary = cli(copied, ['summary', model]) as { layers: unknown[]; total_units: number; batch: unknown };
      assert.deepEqual(summary, cli(here, ['summary', model]), `${model}: the copy's summary differs`);
      assert.ok(summary.total_units > 0);
      const args = ['codes', model, '--probes', 'uniform', '--n', '3', '--seed', '1'];
      const codes = cli(copied, args) as { distinct_codes: number; samples: { code_hex: string }[] };
      assert.deepEqual(codes, cli(here, args), `${model}: the copy's codes differ`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
