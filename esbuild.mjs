// Builds every bundle of the project. Node bundles keep onnxruntime-node external: its native
// binary is loaded from node_modules (and shipped in the VSIX), never inlined.
import * as esbuild from 'esbuild';
import { readdirSync, readFileSync, existsSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
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
  // @duckdb/node-api (a devDependency, native) is loaded by tests only, from node_modules.
  external: ['onnxruntime-node', 'vscode', '@duckdb/node-api'],
  // The tool's version, written into the files it makes (src/core/version.ts).
  define: { POLYTOPE_LENS_VERSION: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version) },
  logLevel: 'warning',
};

const builds = [
  { ...node, entryPoints: { 'cli/main': 'src/cli/main.ts', 'worker/main': 'src/worker/main.ts', 'worker/row-decider': 'src/worker/row-decider.ts', 'server/main': 'src/server/main.ts' }, outdir: 'out' },
  // The VS Code extension host bundle (vscode and onnxruntime-node stay external).
  { ...node, entryPoints: { 'extension/main': 'src/extension/main.ts' }, outdir: 'out' },
  // Webview pages: browser bundles, one per page, loaded by the webviews through asWebviewUri.
  {
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    sourcemap: production ? false : 'inline',
    minify: production,
    logLevel: 'warning',
    entryPoints: Object.fromEntries(entries('src/webview', 'View.ts').map((f) => [f.replace(/^src\/webview\//, '').replace(/\.ts$/, ''), f])),
    outdir: 'out/webview',
  },
  { ...node, entryPoints: { 'tools/fuzz': 'tools/fuzz.ts' }, outdir: 'out' },
  // The end-to-end suite, run by VS Code inside the extension host (test/e2e/run.mjs).
  { ...node, entryPoints: { 'test/e2e/index': 'test/e2e/suite/index.ts' }, outdir: 'out' },
  {
    ...node,
    entryPoints: Object.fromEntries(
      [...entries('test/unit', '.test.ts'), ...entries('test/corpus', '.test.ts'), ...entries('bench', '.ts')].map((f) => [f.replace(/\.ts$/, ''), f]),
    ),
    outdir: 'out',
  },
];

// A production build (what the VSIX packs) starts from an empty out/, so no stale bundle or source map of an
// earlier development build can be packed with it.
if (production) rmSync('out', { recursive: true, force: true });

for (const b of builds) {
  if (watch) await (await esbuild.context(b)).watch();
  else await esbuild.build(b);
}

// The language server's parser: tree-sitter's runtime and the Python grammar, next to out/server/main.js.
mkdirSync('out/server', { recursive: true });
for (const f of ['web-tree-sitter/web-tree-sitter.wasm', 'tree-sitter-python/tree-sitter-python.wasm']) copyFileSync(join('node_modules', f), join('out/server', f.split('/')[1]));

// HiGHS (the LP solver of `polytope`): its WebAssembly beside the bundles; src/core/lp.ts reads out/highs.wasm.
copyFileSync('node_modules/highs/build/highs.wasm', 'out/highs.wasm');
