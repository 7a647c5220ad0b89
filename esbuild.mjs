// Builds every bundle of the project. Node bundles keep onnxruntime-node external: its native
// binary is loaded from node_modules (and shipped in the VSIX), never inlined.
import * as esbuild from 'esbuild';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** Test and benchmark entry points are discovered, so adding a test file needs no build change. */
function entries(dir, suffix) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(dir, f));
}

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  external: ['onnxruntime-node', 'vscode'],
  logLevel: 'warning',
};

const builds = [
  { ...node, entryPoints: { 'cli/main': 'src/cli/main.ts', 'worker/main': 'src/worker/main.ts' }, outdir: 'out' },
  {
    ...node,
    entryPoints: Object.fromEntries(
      [...entries('test/unit', '.test.ts'), ...entries('bench', '.ts')].map((f) => [f.replace(/\.ts$/, ''), f]),
    ),
    outdir: 'out',
  },
];

for (const b of builds) {
  if (watch) await (await esbuild.context(b)).watch();
  else await esbuild.build(b);
}
