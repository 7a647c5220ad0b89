/**
 * Linear programs through HiGHS compiled to WebAssembly (the npm package `highs`, pinned). The runtime is loaded
 * once per process; its `.wasm` is read from beside the bundle (esbuild.mjs copies it to out/highs.wasm) or, when
 * running from sources, from node_modules. Nothing is fetched.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Highs, InitOptions } from 'highs';

// require, not import: esbuild would pick the package's ES module build, which needs import.meta.url (absent in
// the CommonJS bundles); the CommonJS build finds nothing by itself either, it gets the bytes below.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const highsLoader = require('highs') as (options?: InitOptions) => Promise<Highs>;

let loading: Promise<Highs> | undefined;

function wasmPath(): string {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const candidates = [join(here, 'highs.wasm'), join(here, '..', 'highs.wasm'), join(here, '..', '..', 'highs.wasm'), join(here, '..', '..', '..', 'highs.wasm')];
  for (const c of candidates) if (existsSync(c)) return c;
  try {
    return require.resolve('highs/build/highs.wasm');
  } catch {
    throw new Error(`highs.wasm not found beside ${here} (the build copies it to out/highs.wasm)`);
  }
}

/** The HiGHS runtime of this process. */
export function loadHighs(): Promise<Highs> {
  const path = wasmPath();
  loading ??= highsLoader({ wasmBinary: readFileSync(path), locateFile: (f) => (f.endsWith('.wasm') ? path : f) });
  return loading;
}

export type { Highs };
