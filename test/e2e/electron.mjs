#!/usr/bin/env node
// The same end-to-end suite in desktop VS Code through @vscode/test-electron, for machines that can download
// VS Code (CI cannot: it uses test/e2e/run.mjs with the VS Code inside the npm package code-server). The
// UI-level steps need the browser driver of run.mjs, so they are skipped here (POLYTOPE_E2E_SKIP_UI=1).
//   npm run test:electron [-- --version stable|insiders|1.95.0]
// VS Code is downloaded once into .vscode-test/. On Linux without a display, run it under xvfb-run.
// Exit code: 0 only if VS Code was downloaded, the suite ran, had tests, and all passed.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const v = process.argv.indexOf('--version');
const version = v > 0 ? process.argv[v + 1] : 'stable';
const firstLine = (e) => String(e?.message ?? e).split('\n')[0];

// The download is its own step, so that a machine without access fails with one sentence that says so, not with
// a test failure.
let vscodeExecutablePath;
try {
  vscodeExecutablePath = await downloadAndUnzipVSCode({ version, cachePath: join(root, '.vscode-test') });
} catch (e) {
  console.error(
    `test-electron: VS Code ${version} could not be downloaded (${firstLine(e)}), so this runner needs a machine that can reach VS Code's downloads; without one, \`npm run test:e2e\` runs the same suite in code-server's VS Code.`,
  );
  process.exit(1);
}

const tmp = mkdtempSync(join(tmpdir(), 'polytope-electron-'));
const ws = join(tmp, 'ws');
mkdirSync(ws);
writeFileSync(join(ws, 'README.md'), '# e2e workspace\n');
const resultFile = join(tmp, 'result.json');
let exitCode = 1;
try {
  await runTests({
    vscodeExecutablePath,
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'out/test/e2e/index.js'),
    launchArgs: [ws, '--disable-extensions', '--disable-workspace-trust', '--user-data-dir', join(tmp, 'ud')],
    extensionTestsEnv: { POLYTOPE_E2E_RESULT: resultFile, POLYTOPE_E2E_SKIP_UI: '1' },
  });
  const r = JSON.parse(readFileSync(resultFile, 'utf8'));
  for (const t of r.results ?? []) console.log(`  ${t.ok ? '✓' : '✗'} ${t.name} (${t.ms} ms)${t.ok ? '' : '\n      ' + t.error.split('\n').slice(0, 3).join('\n      ')}`);
  console.log(`${r.passes} passing, ${r.failures} failing`);
  exitCode = r.failures === 0 && r.passes > 0 ? 0 : 1;
} catch (e) {
  console.error(`test-electron: the suite did not finish in VS Code ${version} (${firstLine(e)}).`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);
