#!/usr/bin/env node
// Webview pages alone in headless Chromium (playwright-core, Debian's /usr/bin/chromium): each page bundle
// (out/webview/*.js) is loaded from a file:// harness with a stand-in acquireVsCodeApi that records posted
// messages and keeps state, fed with recorded engine results (test/webview/fixtures, made by the CLI).
// Checks rendering, the protocol (ready first, rendered acks, run action), state restore and the three theme
// kinds; writes screenshots into test-output/webview/. Exit code non-zero on any failure or if no test ran.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const out = join(root, 'test-output', 'webview');
mkdirSync(out, { recursive: true });
const fixture = (n) => JSON.parse(readFileSync(join(root, 'test/webview/fixtures', n), 'utf8'));
const digits = fixture('digits.summary.json');
const digitsCodes = fixture('digits.codes.json');
const gelu = fixture('gelu_tf.summary.json');

// A few --vscode-* variables per theme kind (what VS Code injects), enough to see the page is theme-aware.
const FONT = { '--vscode-font-family': 'system-ui, "Segoe UI", Ubuntu, sans-serif', '--vscode-font-size': '13px', '--vscode-editor-font-family': 'monospace', '--vscode-editor-font-size': '14px' };
const THEMES = {
  'vscode-light': { '--vscode-foreground': '#3b3b3b', '--vscode-editor-background': '#ffffff', '--vscode-descriptionForeground': '#717171', '--vscode-textPreformat-foreground': '#a31515', '--vscode-panel-border': '#e5e5e5', '--vscode-charts-red': '#e51400', '--vscode-charts-blue': '#1a85ff', '--vscode-button-background': '#005fb8', '--vscode-button-foreground': '#ffffff', '--vscode-errorForeground': '#e51400' },
  'vscode-dark': { '--vscode-foreground': '#cccccc', '--vscode-editor-background': '#1f1f1f', '--vscode-descriptionForeground': '#9d9d9d', '--vscode-textPreformat-foreground': '#d7ba7d', '--vscode-panel-border': '#2b2b2b', '--vscode-charts-red': '#f14c4c', '--vscode-charts-blue': '#3794ff', '--vscode-button-background': '#0078d4', '--vscode-button-foreground': '#ffffff', '--vscode-errorForeground': '#f85149' },
  // Light High Contrast as VS Code injects it: no secondary-button hover colour (button.secondaryHoverBackground is
  // null in hc-light), which is what made a hovered button dark grey under black text.
  'vscode-high-contrast-light': { '--vscode-foreground': '#292929', '--vscode-editor-background': '#ffffff', '--vscode-descriptionForeground': '#292929', '--vscode-textPreformat-foreground': '#292929', '--vscode-panel-border': '#0f4a85', '--vscode-contrastBorder': '#0f4a85', '--vscode-contrastActiveBorder': '#006bbd', '--vscode-focusBorder': '#006bbd', '--vscode-charts-red': '#b5200d', '--vscode-charts-blue': '#0f4a85', '--vscode-button-background': '#0f4a85', '--vscode-button-foreground': '#ffffff', '--vscode-button-border': '#0f4a85', '--vscode-button-secondaryBackground': '#ffffff', '--vscode-button-secondaryForeground': '#292929', '--vscode-errorForeground': '#b5200d' },
  'vscode-high-contrast': { '--vscode-foreground': '#ffffff', '--vscode-editor-background': '#000000', '--vscode-descriptionForeground': '#ffffff', '--vscode-textPreformat-foreground': '#ffffff', '--vscode-panel-border': '#6fc3df', '--vscode-contrastBorder': '#6fc3df', '--vscode-contrastActiveBorder': '#f38518', '--vscode-focusBorder': '#f38518', '--vscode-charts-red': '#f14c4c', '--vscode-charts-blue': '#3794ff', '--vscode-button-background': '#000000', '--vscode-button-foreground': '#ffffff', '--vscode-errorForeground': '#f48771' },
};

function harness(page) {
  const css = pathToFileURL(join(root, 'media', `${page}.css`)).href;
  const js = pathToFileURL(join(root, 'out', 'webview', `${page}.js`)).href;
  // Same CSP shape as the extension's (src/extension/webviewHtml.ts), with file: in place of the webview source.
  return `<!DOCTYPE html><html><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src file: data:; style-src file: 'nonce-test'; script-src 'nonce-test' file:">
<link rel="stylesheet" href="${css}" nonce="test">
<script nonce="test">
  window.__posted = [];
  window.__state = window.__initialState;
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
    getState: () => window.__state,
    setState: (s) => { window.__state = JSON.parse(JSON.stringify(s)); },
  });
</script></head>
<body class="vscode-dark"><main id="app"></main><script nonce="test" src="${js}"></script></body></html>`;
}

const tests = [];
// WEBVIEW_ONLY=text runs only the tests whose name contains it (a narrow run while working on one page).
const only = process.env.WEBVIEW_ONLY;
const test = (name, fn) => (!only || name.includes(only)) && tests.push({ name, fn });

let browser;
async function open(pageName, { theme = 'vscode-dark', state, width = 1000, height = 760 } = {}) {
  const file = join(out, `${pageName}.harness.html`);
  writeFileSync(file, harness(pageName));
  const page = await browser.newPage({ viewport: { width, height } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.addInitScript(([s]) => (window.__initialState = s), [state]);
  await page.goto(pathToFileURL(file).href);
  await setTheme(page, theme);
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'ready'));
  return { page, errors };
}

async function setTheme(page, theme) {
  await page.evaluate(([cls, vars]) => {
    document.body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast', 'vscode-high-contrast-light');
    document.body.classList.add(cls);
    for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
  }, [theme, { ...FONT, ...THEMES[theme] }]);
}

// Delivered as VS Code delivers it (a 'message' event on window), but dispatched synchronously: the page has handled
// the message when `send` resolves, so a test can check its effect at once instead of racing window.postMessage's
// asynchronous delivery (which lost on a busy machine).
const send = (page, msg) => page.evaluate((m) => window.dispatchEvent(new MessageEvent('message', { data: m })), msg);
const posted = (page) => page.evaluate(() => window.__posted);
const lastRendered = async (page) => (await posted(page)).filter((m) => m.type === 'rendered').at(-1);
const MODEL = 'file:///ws/digits.onnx';

test('model view: posts ready first and renders the summary', async () => {
  const { page, errors } = await open('modelView');
  assert.deepEqual((await posted(page))[0], { type: 'ready' }, 'ready is the first message');
  await send(page, { type: 'summary', model: MODEL, fileName: 'digits.onnx', summary: digits });
  await page.waitForSelector('#layers tbody tr');
  assert.equal(await page.textContent('h1'), 'digits.onnx');
  const rows = await page.$$eval('#layers tbody tr', (rs) => rs.map((r) => [...r.children].map((c) => c.textContent)));
  assert.deepEqual(rows.map((r) => r[0]), ['/act1/Relu', '/block/block.1/Relu', '/block/block.3/Relu']);
  assert.deepEqual(rows.map((r) => r[4]), ['48', '32', '32']);
  assert.deepEqual(rows.map((r) => r[3]), ['[48]', '[32]', '[32]']);
  assert.match(await page.textContent('.meta'), /opset 14 · pytorch/);
  assert.match(await page.textContent('.io'), /input float32 \[batch, 64\]/);
  assert.deepEqual(await lastRendered(page), { type: 'rendered', view: 'summary', layers: 3, statsRows: 0, results: 0, previousExport: false });
  assert.deepEqual(errors, []);
  await page.screenshot({ path: join(out, 'modelView-summary-dark.png'), fullPage: true });
  await page.close();
});

test('model view: Probe codes button posts a run action; busy and progress show', async () => {
  const { page } = await open('modelView');
  await send(page, { type: 'summary', model: MODEL, fileName: 'digits.onnx', summary: digits });
  await page.click('vscode-button#probe');
  assert.deepEqual((await posted(page)).filter((m) => m.type === 'run'), [{ type: 'run', action: 'probeCodes' }]);
  // Keyboard: Tab reaches the button, Enter activates it.
  await page.click('h1');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'probe');
  await page.keyboard.press('Enter');
  assert.equal((await posted(page)).filter((m) => m.type === 'run').length, 2);
  await send(page, { type: 'busy', busy: true, label: 'Probing codes…' });
  await send(page, { type: 'progress', done: 120, total: 360 });
  assert.match(await page.textContent('.busy'), /Probing codes… 120 \/ 360/);
  assert.equal(await page.$eval('vscode-button#probe', (b) => b.hasAttribute('disabled')), true);
  await send(page, { type: 'busy', busy: false });
  assert.equal(await page.$('.busy'), null);
  await page.close();
});

test('model view: a 37-layer model (ultraface, 2,980,160 bits) draws the histograms of the rows near the view first, the others as they scroll in', async () => {
  const summary = fixture('ultraface.summary.json');
  const codes = fixture('ultraface.codes.json');
  const { page, errors } = await open('modelView');
  await send(page, { type: 'summary', model: 'file:///ws/ultraface-RFB-320.onnx', fileName: 'ultraface-RFB-320.onnx', summary });
  await send(page, { type: 'codes', codes });
  assert.equal(await page.$$eval('#stats tbody tr', (rs) => rs.length), 37);
  const drawn = () => page.$$eval('#stats svg.histogram', (s) => s.length);
  // The statistics are below the layer table, out of the 760 px view: nothing is drawn until they scroll in.
  assert.equal(await drawn(), 0);
  await page.$eval('#stats tbody tr', (r) => r.scrollIntoView());
  await page.waitForFunction(() => document.querySelector('#stats tbody tr svg.histogram') !== null);
  const first = await drawn();
  assert.ok(first < 37, `only the rows near the view are drawn (${first} of 37)`);
  await page.$eval('#stats tbody tr:last-child', (r) => r.scrollIntoView());
  await page.waitForFunction(() => document.querySelector('#stats tbody tr:last-child svg.histogram') !== null);
  assert.ok((await drawn()) > first);
  assert.deepEqual(await lastRendered(page), { type: 'rendered', view: 'codes', layers: 37, statsRows: 37, results: 0, previousExport: false });
  assert.deepEqual(errors, []);
  await page.close();
});

test('model view: per-layer statistics after probing, and state restored after a reload', async () => {
  const { page } = await open('modelView');
  await send(page, { type: 'summary', model: MODEL, fileName: 'digits.onnx', summary: digits });
  await send(page, { type: 'codes', codes: digitsCodes });
  await page.waitForSelector('#stats tbody tr');
  const rows = await page.$$eval('#stats tbody tr', (rs) => rs.map((r) => [...r.children].map((c) => c.textContent)));
  assert.equal(rows.length, 3);
  digitsCodes.stats.forEach((s, i) => {
    assert.equal(rows[i][0], s.key);
    assert.equal(rows[i][1], `${(100 * s.active_fraction).toFixed(1)}%`);
    assert.equal(rows[i][3], String(s.dead_units));
    assert.equal(rows[i][4], String(s.always_on_units));
    assert.equal(rows[i][5], String(s.distinct_codes));
    assert.equal(rows[i][6], String(s.distinct_prefix_codes));
  });
  assert.match(await page.textContent('#codes p'), new RegExp(`${digitsCodes.n} inputs .* ${digitsCodes.distinct_codes} regions hit \\(distinct spline codes of 112 bits\\)`));
  assert.equal(await page.$$eval('#stats svg[role=img]', (s) => s.length), 3);
  assert.deepEqual(await lastRendered(page), { type: 'rendered', view: 'codes', layers: 3, statsRows: 3, results: 0, previousExport: false });
  const state = await page.evaluate(() => window.__state);
  assert.equal(state.model, MODEL);
  assert.equal(state.codes.n, digitsCodes.n);
  await page.screenshot({ path: join(out, 'modelView-codes-dark.png'), fullPage: true });
  await page.close();
  // A new page with that state renders the results before the host says anything.
  const again = await open('modelView', { state });
  await again.page.waitForSelector('#stats tbody tr');
  assert.equal(await again.page.$$eval('#layers tbody tr', (r) => r.length), 3);
  await again.page.close();
});

test('model view: theme switch light / dark / high contrast', async () => {
  const { page } = await open('modelView');
  await send(page, { type: 'summary', model: MODEL, fileName: 'digits.onnx', summary: digits });
  await send(page, { type: 'codes', codes: digitsCodes });
  const seen = {};
  for (const theme of Object.keys(THEMES)) {
    await setTheme(page, theme);
    assert.ok(await page.evaluate((t) => document.body.classList.contains(t), theme));
    seen[theme] = await page.evaluate(() => {
      const cs = getComputedStyle(document.body);
      return { bg: cs.backgroundColor, fg: cs.color, border: getComputedStyle(document.querySelector('#layers td')).borderBottomColor };
    });
    await page.screenshot({ path: join(out, `modelView-codes-${theme.replace('vscode-', '')}.png`), fullPage: true });
  }
  assert.equal(seen['vscode-light'].bg, 'rgb(255, 255, 255)');
  assert.equal(seen['vscode-dark'].bg, 'rgb(31, 31, 31)');
  assert.equal(seen['vscode-high-contrast'].bg, 'rgb(0, 0, 0)');
  assert.equal(seen['vscode-high-contrast'].border, 'rgb(111, 195, 223)');
  assert.notEqual(seen['vscode-light'].fg, seen['vscode-dark'].fg);
  await page.close();
});

test('model view: unsupported ops, sign codes, errors and restricted mode', async () => {
  const { page } = await open('modelView', { theme: 'vscode-light' });
  await send(page, { type: 'summary', model: 'file:///ws/gelu_tf.onnx', fileName: 'gelu_tf.onnx', summary: gelu });
  await page.waitForSelector('#unsupported tbody tr');
  assert.equal(await page.$$eval('#unsupported tbody tr', (r) => r.length), gelu.unsupported.length);
  assert.match(await page.textContent('#layers'), /sign code/);
  await page.screenshot({ path: join(out, 'modelView-unsupported-light.png'), fullPage: true });
  await send(page, { type: 'error', model: 'file:///ws/x.onnx', fileName: 'x.onnx', message: 'x.onnx is not an ONNX model <b>bold</b>' });
  assert.equal(await page.textContent('[role=alert]'), 'x.onnx is not an ONNX model <b>bold</b>', 'text, not HTML');
  assert.equal(await page.$('b'), null);
  assert.equal((await lastRendered(page)).view, 'error');
  await send(page, { type: 'restricted', model: 'file:///ws/x.onnx', fileName: 'x.onnx' });
  assert.match(await page.textContent('.notice'), /Restricted Mode/);
  await page.close();
});

// The model view's histograms and analysis buttons: test/webview/modelView.tests.mjs.
(await import('./modelView.tests.mjs')).register({ test, open, send, posted, setTheme, THEMES, out, fixture });
// The analysis pages (density, region map, local complexity / scaling): test/webview/analysis.tests.mjs.
(await import('./analysis.tests.mjs')).register({ test, open, send, posted, setTheme, THEMES, out, fixture });
// The density study (densityView, kind 'study'): test/webview/study.tests.mjs.
(await import('./study.tests.mjs')).register({ test, open, send, posted, setTheme, THEMES, out, fixture });
// The cluster page: test/webview/cluster.tests.mjs.
(await import('./cluster.tests.mjs')).register({ test, open, send, posted, setTheme, THEMES, out, fixture });
// The polytope view and the path / region-map clicks that open it: test/webview/polytope.tests.mjs.
(await import('./polytope.tests.mjs')).register({ test, open, send, posted, setTheme, THEMES, out, fixture });
// Charts at any width, axes, units, legends, exports and high-contrast buttons: test/webview/charts.tests.mjs.
(await import('./charts.tests.mjs')).register({ test, open, send, posted, setTheme, THEMES, out, fixture });
// The parameter form of the analysis pages: test/webview/params.tests.mjs.
(await import('./params.tests.mjs')).register({ test, open, send, posted, setTheme, THEMES, out, fixture });
// The side panel page: test/webview/sidePanel.tests.mjs.
(await import('./sidePanel.tests.mjs')).register({ test, open, send, posted, setTheme, THEMES, out, fixture });
// Glossary terms on every page (tooltips, the ⓘ link) and plurals: test/webview/terms.tests.mjs.
(await import('./terms.tests.mjs')).register({ test, open, send, posted, setTheme, THEMES, out, fixture });

const t0 = Date.now();
browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage', '--allow-file-access-from-files'],
});
let passes = 0;
let failures = 0;
for (const t of tests) {
  const s = Date.now();
  try {
    await t.fn();
    passes++;
    console.log(`  ✓ ${t.name} (${Date.now() - s} ms)`);
  } catch (e) {
    failures++;
    console.log(`  ✗ ${t.name}\n    ${String(e.stack ?? e).split('\n').slice(0, 6).join('\n    ')}`);
  }
}
await browser.close();
console.log(`${passes} passing, ${failures} failing (${((Date.now() - t0) / 1000).toFixed(1)} s); screenshots in test-output/webview/`);
process.exit(failures === 0 && passes > 0 ? 0 : 1);
