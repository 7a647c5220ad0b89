#!/usr/bin/env node
// The same end-to-end suite in desktop VS Code through @vscode/test-electron, for machines that can download
// VS Code (CI cannot: it uses test/e2e/run.mjs with the VS Code inside the npm package code-server). The
// UI-level palette check needs the browser driver, so it is skipped here (POLYTOPE_E2E_HANDSHAKE unset).
//   node esbuild.mjs && node test/e2e/electron.mjs [--version stable]
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = mkdtempSync(join(tmpdir(), 'polytope-electron-'));
const ws = join(tmp, 'ws');
mkdirSync(ws);
writeFileSync(join(ws, 'README.md'), '# e2e workspace\n');
const resultFile = join(tmp, 'result.json');
const v = process.argv.indexOf('--version');
try {
  await runTests({
    version: v > 0 ? process.argv[v + 1] : 'stable',
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'out/test/e2e/index.js'),
    launchArgs: [ws, '--disable-extensions', '--disable-workspace-trust', '--user-data-dir', join(tmp, 'ud')],
    extensionTestsEnv: { POLYTOPE_E2E_RESULT: resultFile, POLYTOPE_E2E_SKIP_UI: '1' },
  });
  const r = JSON.parse(readFileSync(resultFile, 'utf8'));
  console.log(`${r.passes} passing, ${r.failures} failing`);
  process.exit(r.failures === 0 && r.passes > 0 ? 0 : 1);
} catch (e) {
  console.error(`test-electron failed: ${e?.message ?? e}`);
  process.exit(1);
}
