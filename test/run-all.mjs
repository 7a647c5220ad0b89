#!/usr/bin/env node
// `npm test`: every suite, one after another, with one closing line that adds them up.
//   1. unit (node:test over out/test/unit: engine, analyses, CLI, language server over stdio)
//   2. corpus (node:test over out/test/corpus: torchvision CNNs exported by PyTorch, codes against PyTorch's)
//   3. webview pages in headless Chromium (test/webview/run.mjs)
//   4. the extension in a real VS Code (test/e2e/run.mjs), then the same suite with a broken view, which must fail
//   5. the packaged extension: `npm run package` (tools/package.mjs checks what the VSIX holds), then the VSIX
//      unpacked outside the checkout with its CLI run on three real models (tools/vsix-check.mjs), then
//      installed into VS Code and part of the e2e suite run against it (test/e2e/run.mjs --vsix), with the whole
//      workflow of issue #13 (test/e2e/suite/wholeWorkflow.ts: every analysis from the palette, every view at two
//      widths in four themes, screenshots in test-output/e2e/workflow). Last, because packaging rebuilds out/ in
//      production mode.
// Set-up (Chromium, PyTorch, node 24, code-server) is done by test/e2e/setup.sh, idempotently, before suite 2.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'test-output');
mkdirSync(out, { recursive: true });
const only = process.argv.slice(2); // e.g. `npm test -- unit`
const want = (s) => only.length === 0 || only.includes(s);

let passed = 0;
let failed = 0;
/** One line per failed test (suite, name, place, the error's first line), printed again above the total: a CI log is
 * often read from its tail, and that must say what failed. */
const failures = [];
const fail = (suite, name, error) => failures.push(`${suite}: ${name}: ${String(error ?? '').trim().split('\n')[0].slice(0, 300)}`);

/** The failed tests of a node:test TAP file; a suite that failed only through its subtests is not listed again. */
function tapFailures(suite, text) {
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const head = /^\s*not ok \d+ - (.*)$/.exec(line);
    if (!head) return;
    const field = {};
    for (let j = i + 1; j < lines.length && !/^\s*\.\.\.$/.test(lines[j]); j++) {
      const f = /^\s*(error|location|failureType): (.*)$/.exec(lines[j]);
      if (f) field[f[1]] = /^\|-?$/.test(f[2]) ? lines[j + 1].trim() : f[2].replace(/^'(.*)'$/, '$1');
    }
    if (field.failureType === 'subtestsFailed') return;
    const where = field.location ? ` (${field.location.replace(`${root}/`, '')})` : '';
    fail(suite, `${head[1]}${where}`, field.error);
  });
}
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status === 0;

if (!run(process.execPath, ['esbuild.mjs']) || !run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.', '--noEmit'])) {
  console.log('build or type check failed\n0 passed, 1 failed');
  process.exit(1);
}

/** A node:test suite over the bundled tests in `dir`, counted from its TAP summary (no test run counts as a failure). */
function nodeTests(name, dir) {
  const tap = join(out, `${name}.tap`);
  rmSync(tap, { force: true });
  // Files two at a time or more (node 20's default is cores - 1, one file at a time on the 2-core CI machine):
  // measured 164 s one at a time, 112 s two at a time, 117 s three at a time.
  run(process.execPath, ['--test', `--test-concurrency=${Math.max(2, availableParallelism())}`, '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, dir]);
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const count = (k) => Number((text.match(new RegExp(`^# ${k} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
  const p = count('pass');
  const f = count('fail') + count('cancelled');
  passed += p;
  failed += f + (p === 0 ? 1 : 0);
  tapFailures(name, text);
  if (p === 0) fail(name, 'the suite', 'ran no test');
  console.log(`${name}: ${p} passed, ${f} failed`);
}

/** One step that passes or fails as a whole (set-up, packaging, a check of the tests themselves). */
function step(suite, name, ok) {
  if (ok) passed++;
  else {
    failed++;
    fail(suite, name, 'failed');
  }
  return ok;
}

/** An e2e run, counted from the result file it writes (none, or an unclean exit without a failure, is one failure). */
function e2eResult(suite, file, ok) {
  const res = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { passes: 0, failures: 1, results: [] };
  passed += res.passes;
  failed += res.failures + (!ok && res.failures === 0 ? 1 : 0);
  for (const t of res.results ?? []) if (!t.ok) fail(suite, t.name, t.error);
  if (!ok && res.failures === 0) fail(suite, 'the run', existsSync(file) ? 'exited unclean' : 'wrote no result');
  console.log(`${suite}: ${res.passes} passed, ${res.failures} failed`);
}

if (want('unit')) nodeTests('unit', 'out/test/unit/');

if (want('webview') || want('e2e') || want('vsix') || want('corpus')) {
  if (!run('bash', ['test/e2e/setup.sh'])) {
    console.log('set-up of the browser and VS Code failed');
    failed++;
    fail('setup', 'test/e2e/setup.sh', 'failed');
  }
}

// After the set-up, which installs PyTorch: real torchvision architectures against PyTorch's own codes.
if (want('corpus')) nodeTests('corpus', 'out/test/corpus/');

if (want('webview')) {
  const r = spawnSync(process.execPath, ['test/webview/run.mjs'], { cwd: root, encoding: 'utf8' });
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  const m = /(\d+) passing, (\d+) failing/.exec(r.stdout ?? '');
  const p = m ? Number(m[1]) : 0;
  const f = m ? Number(m[2]) : 1;
  passed += p;
  failed += f + (r.status !== 0 && f === 0 ? 1 : 0);
  for (const [, name, error] of (r.stdout ?? '').matchAll(/^ {2}✗ (.*)\n {4}(.*)$/gm)) fail('webview', name, error);
  if (r.status !== 0 && f === 0) fail('webview', 'the run', `exit ${r.status}`);
  console.log(`webview: ${p} passed, ${f} failed`);
}

if (want('e2e')) {
  const ok = run(process.execPath, ['test/e2e/run.mjs']);
  e2eResult('e2e', join(out, 'e2e/result.json'), ok);
  // The test of the test: with the model view broken on purpose, the suite must fail.
  const caught = step('e2e', 'a broken model view is detected', run(process.execPath, ['test/e2e/run.mjs', '--broken-view']));
  console.log(`e2e with a broken view: ${caught ? 'failures detected, as they must be' : 'NOT DETECTED'}`);
}

if (want('vsix')) {
  const vsix = join(out, 'vsix', 'polytope-lens-linux-x64.vsix');
  const packed = step('vsix', 'packaging', run(process.execPath, ['tools/package.mjs', '--target', 'linux-x64', '--out', vsix]));
  console.log(`vsix: packaging ${packed ? 'passed' : 'FAILED'}`);
  if (packed) {
    // The VSIX unpacked outside the checkout: its CLI must run real models with only what the VSIX holds.
    const standalone = step('vsix', 'the unpacked CLI', run(process.execPath, ['tools/vsix-check.mjs', vsix]));
    console.log(`vsix: the unpacked VSIX's CLI on mnist-8, ultraface and SqueezeNet: ${standalone ? 'passed' : 'FAILED'}`);
    const file = join(out, 'e2e/result-vsix.json');
    rmSync(file, { force: true }); // a result left by an earlier run must not be counted
    e2eResult('vsix: the installed extension in VS Code', file, run(process.execPath, ['test/e2e/run.mjs', '--vsix', vsix]));
  }
}

if (failures.length > 0) console.log(`\nfailed:\n${failures.map((f) => `  ${f}`).join('\n')}`);
console.log(`\ntotal: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
