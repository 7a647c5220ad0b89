/**
 * The extension host bundle must not load onnxruntime: models run only in the engine pool's workers (activation
 * starts none). An import of a core module that reaches src/core/ort.ts would put a top-level require of the
 * native runtime into out/extension/main.js; this reads the built bundle (npm test builds first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/paths';

test('out/extension/main.js does not require onnxruntime-node; the worker bundle does', () => {
  const ext = readFileSync(join(ROOT, 'out/extension/main.js'), 'utf8');
  assert.doesNotMatch(ext, /require\("onnxruntime-node"\)/);
  const worker = readFileSync(join(ROOT, 'out/worker/main.js'), 'utf8');
  assert.match(worker, /require\("onnxruntime-node"\)/, 'the check looks for the form esbuild writes');
});
