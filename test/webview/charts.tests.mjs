// The charts of the analysis pages at any width and the defects of issue #13 item 6, in headless Chromium, registered
// into test/webview/run.mjs's runner. Fed with engine results recorded by the CLI (test/webview/fixtures):
//   digits.path-200.json    path examples/digits/digits.onnx --inputs examples/digits/digits-x.npy --from 0 --to 1 --steps 200 --exact --json
//   digits.path-layer.json  path examples/digits/digits.onnx --inputs examples/digits/digits-x.npy --from 0 --to 7 --steps 100 --layer /act1/Relu --json
//   digits.slice-plane.json slice examples/digits/digits.onnx --inputs examples/digits/digits-x.npy --plane 0,1,2 --window=-0.2,1.2 --resolution 40 --exact --json
// (the others as listed in analysis.tests.mjs and make-fixtures.mjs). Screenshots at 400, 500 and 1600 px go to
// test-output/webview/charts-*.png.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportAll } from './helpers.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** An integer .npy vector (the examples' label files are little-endian int64). */
function readLabels(path) {
  const buf = readFileSync(path);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + headerLen).toString('latin1');
  assert.match(header, /'descr':\s*'<i8'/);
  const start = 10 + headerLen;
  return Array.from({ length: (buf.length - start) / 8 }, (_, i) => Number(buf.readBigInt64LE(start + 8 * i)));
}

/** Width and height of a PNG data URL (its IHDR chunk). */
function pngSize(dataUrl) {
  const bytes = Buffer.from(dataUrl.split(',')[1], 'base64');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** WCAG contrast ratio of two computed colours 'rgb(r, g, b)'. */
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = c.match(/[\d.]+/g).slice(0, 3).map((v) => {
      const x = Number(v) / 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Whether the step between sorted tick values is 1, 2 or 5 times a power of ten and the same everywhere. */
function niceSpacing(values) {
  const steps = values.slice(1).map((v, i) => Number((v - values[i]).toPrecision(6)));
  if (new Set(steps).size !== 1) return false;
  const step = steps[0];
  const p = 10 ** Math.floor(Math.log10(step) + 1e-9);
  return [1, 2, 5].some((m) => Math.abs(step - m * p) < 1e-9 * p) && values.every((v) => Math.abs(v / step - Math.round(v / step)) < 1e-6);
}

// Two animation frames: the ResizeObserver has redrawn and the page has painted.
const settle = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

/** Every text of the charts on the page: computed font size, rendered box, content. */
const chartTexts = (page) =>
  page.$$eval('svg.chart text, svg.map-figure text', (ts) =>
    ts.filter((t) => t.textContent.trim()).map((t) => {
      const r = t.getBoundingClientRect();
      return { text: t.textContent, fontSize: parseFloat(getComputedStyle(t).fontSize), height: r.height, left: r.left, right: r.right };
    }),
  );

const xTickValues = (page) => page.$$eval('svg.chart g[aria-label="x-axis tick label"] text', (ts) => ts.map((t) => Number(t.textContent.replace('−', '-'))));

export function register({ test, open, send, posted, setTheme, out, fixture }) {
  const path = fixture('digits.path.json');
  const path200 = fixture('digits.path-200.json');
  const pathLayer = fixture('digits.path-layer.json');
  const study = fixture('digits.study.json');
  const plane = fixture('digits.slice-plane.json');
  const local = fixture('digits.local.json');
  const scale = fixture('digits.scale.json');
  const cluster = fixture('digits.cluster.json');
  const thumbs = fixture('digits.cluster-thumbnails.json');
  const labels = readLabels(join(root, 'examples/digits/digits-y.npy'));
  const head = (kind) => ({ kind, model: 'file:///ws/digits.onnx', fileName: 'digits.onnx', params: {} });
  const result = (kind, data) => ({ type: 'result', ...head(kind), data: { kind, ...data } });
  // The recorded path runs from sample 0 to sample 7 (analysis.tests.mjs), the 200-step one from 0 to 1.
  const pathMsg = (r = path, ends = [0, 7], withLabels = true) => result('path', { result: r, endpoints: ends, ...(withLabels ? { endpointLabels: [labels[ends[0]], labels[ends[1]]] } : {}) });
  const views = [
    { name: 'path', page: 'densityView', msg: pathMsg() },
    { name: 'study', page: 'densityView', msg: result('study', { result: study }) },
    { name: 'region', page: 'regionView', msg: result('slice', { result: plane, sampleShape: [64] }) },
    { name: 'local', page: 'statsView', msg: result('local', { result: local }) },
    { name: 'scale', page: 'statsView', msg: result('scale', { result: scale }) },
    { name: 'cluster', page: 'clusterView', msg: result('cluster', { result: cluster, sampleShape: [64], thumbnails: thumbs }) },
    {
      name: 'polytope',
      page: 'polytopeView',
      msg: { ...result('polytope', { result: fixture('cnn.polytope.json'), origin: { from: 'sample', index: 0, text: 'input 0 of cnn.inputs.npy' } }), params: { index: 0, facets: 'rays' } },
    },
  ];
  const EDITOR_FONT = 14; // run.mjs's FONT: --vscode-editor-font-size

  async function checkFits(page, what, width) {
    const texts = await chartTexts(page);
    assert.ok(texts.length >= 6, `${what}: the chart has text`);
    for (const t of texts) {
      assert.ok(t.fontSize >= EDITOR_FONT - 2, `${what}: "${t.text}" is ${t.fontSize}px, under the editor's font size minus 2`);
      // The rendered box: a chart scaled down (a fixed viewBox in a narrow column) would shrink it below the font size.
      assert.ok(t.height >= EDITOR_FONT - 2, `${what}: "${t.text}" renders ${t.height.toFixed(1)}px high`);
      assert.ok(t.left >= -0.5 && t.right <= width + 0.5, `${what}: "${t.text}" spans ${t.left.toFixed(0)}..${t.right.toFixed(0)} in a ${width}px view`);
    }
    const svgs = await page.$$eval('svg.chart, svg.map-figure', (ss) => ss.map((s) => ({ attr: Number(s.getAttribute('width')), shown: s.getBoundingClientRect().width, right: s.getBoundingClientRect().right, viewBox: s.getAttribute('viewBox') })));
    for (const s of svgs) {
      assert.ok(Math.abs(s.attr - s.shown) < 1, `${what}: drawn at ${s.attr}px, shown at ${s.shown}px: the chart is scaled, not redrawn`);
      assert.ok(s.right <= width + 0.5, `${what}: the chart ends at ${s.right}px`);
    }
    assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= width, `${what}: the page scrolls sideways`);
    // A table wider than the view scrolls inside its box; its caption wraps at the view's width instead of being cut.
    const captions = await page.$$eval('caption', (cs) => cs.filter((c) => c.getClientRects().length).map((c) => ({ text: c.textContent.trim().slice(0, 40), right: c.getBoundingClientRect().right })));
    for (const c of captions) assert.ok(c.right <= width + 0.5, `${what}: the caption "${c.text}" ends at ${c.right.toFixed(0)}px, cut by its table's scroll box`);
    // The page's other text (tables, legends, captions, exemplar numbers): no smaller either.
    const small = await page.evaluate((min) => Array.from(document.querySelectorAll('body *'))
      .filter((e) => Array.from(e.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim()) && e.getClientRects().length)
      .map((e) => ({ tag: e.tagName, text: e.textContent.trim().slice(0, 30), size: parseFloat(getComputedStyle(e).fontSize) }))
      .filter((x) => x.size < min), EDITOR_FONT - 2);
    assert.deepEqual(small, [], `${what}: text under the editor's font size minus 2`);
  }

  for (const v of views) {
    test(`charts: ${v.name} at 400, 500 and 1600 px: redrawn at the width, axis text at least the editor font minus 2, nothing overflows`, async () => {
      for (const width of [400, 500, 1600]) {
        const { page, errors } = await open(v.page, { width, height: 1000 });
        await send(page, v.msg);
        await page.waitForSelector('svg.chart, svg.map-figure');
        await settle(page);
        await checkFits(page, `${v.name} at ${width}px`, width);
        assert.deepEqual(errors, []);
        await page.screenshot({ path: join(out, `charts-${v.name}-${width}.png`), fullPage: true });
        // The other themes re-render the page (the body class changes): the same checks, and a screenshot each.
        if (width !== 400) {
          for (const theme of ['vscode-light', 'vscode-high-contrast-light', 'vscode-high-contrast']) {
            await setTheme(page, theme);
            await settle(page);
            await checkFits(page, `${v.name} at ${width}px, ${theme}`, width);
            await page.screenshot({ path: join(out, `charts-${v.name}-${width}-${theme.replace('vscode-', '')}.png`), fullPage: true });
          }
        }
        await page.close();
      }
    });
  }

  test('charts: a view narrowed from 1600 to 500 px redraws its chart at the new width (ResizeObserver); keyboard focus stays on the chart', async () => {
    const { page } = await open('densityView', { width: 1600, height: 900 });
    await send(page, pathMsg());
    await page.waitForSelector('svg.chart');
    await settle(page);
    const wide = Number(await page.getAttribute('svg.chart', 'width'));
    assert.ok(wide > 1400, `drawn ${wide}px wide in a 1600px view`);
    await page.focus('svg.chart');
    await page.keyboard.press('Home');
    await page.setViewportSize({ width: 500, height: 900 });
    await page.waitForFunction(() => Number(document.querySelector('svg.chart').getAttribute('width')) < 500);
    await settle(page);
    await checkFits(page, 'path narrowed to 500px', 500);
    assert.equal(await page.evaluate(() => document.activeElement?.matches('svg.chart')), true, 'focus stays on the redrawn chart');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getAttribute('svg.chart', 'aria-valuenow'), '1', 'the keyboard cursor works after the redraw');
    await page.close();
  });

  test('charts: text follows a larger editor font (20px: no chart text under 18px)', async () => {
    const { page } = await open('statsView', { width: 500, height: 900 });
    await page.evaluate(() => document.documentElement.style.setProperty('--vscode-editor-font-size', '20px'));
    await send(page, views.find((v) => v.name === 'local').msg);
    await page.waitForSelector('svg.chart');
    await settle(page);
    const texts = await chartTexts(page);
    assert.ok(texts.every((t) => t.fontSize >= 18 && t.right <= 500.5), texts.filter((t) => t.fontSize < 18 || t.right > 500.5).map((t) => `${t.text} ${t.fontSize}px`).join(', '));
    await page.close();
  });

  test('charts: density view: x ticks at nice numbers at 100 and 200 steps, from 0 to the last point, at 500 and 1600 px', async () => {
    for (const [r, ends] of [[path, [0, 7]], [path200, [0, 1]]]) {
      for (const width of [500, 1600]) {
        const { page } = await open('densityView', { width, height: 900 });
        await send(page, pathMsg(r, ends));
        await page.waitForSelector('svg.chart g.bar rect');
        await settle(page);
        const ticks = await xTickValues(page);
        assert.ok(ticks.length >= 3, `${ticks}`);
        assert.equal(ticks[0], 0);
        assert.equal(ticks.at(-1), r.steps, `the last tick is the path's end (${ticks})`);
        assert.ok(niceSpacing(ticks), `${r.steps} steps at ${width}px: ticks ${ticks.join(', ')}`);
        await page.close();
      }
    }
  });

  test('charts: density view: the density is a second scale of the bars (no line spiking over every bar), its right axis has a title with the unit', async () => {
    const { page } = await open('densityView', { width: 1000, height: 900 });
    await send(page, pathMsg());
    await page.waitForSelector('svg.chart g.bar rect');
    assert.equal(await page.$('svg.chart g.density-line'), null, 'no density line over the bars');
    const titles = await page.$$eval('svg.chart text.y-title', (ts) => ts.map((t) => t.textContent));
    assert.deepEqual(titles, ['↑ bits flipped per step (Hamming distance)', 'density (bits per unit input distance) ↑']);
    // Tick label centres of both axes: value -> y in px.
    const axis = (sel) => page.$$eval(sel, (ts) => ts.map((t) => { const r = t.getBoundingClientRect(); return { v: Number(t.textContent), y: r.y + r.height / 2 }; }));
    const left = await axis('svg.chart g.y-axis[aria-label="y-axis tick label"] text');
    const right = await axis('svg.chart g.density-axis[aria-label="y-axis tick label"] text');
    assert.ok(left.length >= 2 && right.length >= 2);
    assert.ok(niceSpacing(right.map((t) => t.v)), `right ticks ${right.map((t) => t.v)}`);
    const yOf = (ts, v) => ts[0].y + ((v - ts[0].v) / (ts[1].v - ts[0].v)) * (ts[1].y - ts[0].y);
    // The step length from the result itself: a step's Hamming distance over its density.
    const k = path.per_step.findIndex((h) => h > 0);
    const stepLength = path.per_step[k] / path.density_input[k];
    for (const t of left) assert.ok(Math.abs(yOf(right, t.v / stepLength) - t.y) < 1.5, `${t.v} bits is ${fmtNum(t.v / stepLength)} per unit distance on the right axis`);
    // A path interpolated in a layer: its density is per unit distance in that layer's activations, and says so.
    await send(page, pathMsg(pathLayer, [0, 7]));
    await page.waitForSelector('svg.chart text.y-title.right');
    assert.equal(await page.textContent('svg.chart text.y-title.right'), `density (bits per unit distance in ${pathLayer.interpolated_in}'s activations) ↑`);
    await page.close();
  });

  test('charts: density view: the legend shows class changes, exact crossings (in the layers\' colours) and the density; endpoints with their classes', async () => {
    const { page } = await open('densityView', { width: 1000, height: 900 });
    await send(page, pathMsg());
    await page.waitForSelector('#marks-key .key');
    const keys = await page.$$eval('#marks-key .key', (ks) => ks.map((k) => k.textContent.trim()));
    assert.equal(keys.length, 3, keys.join(' | '));
    assert.match(keys[0], /^class change/);
    assert.match(keys[1], /^exact crossing/);
    assert.match(keys[2], /^right axis: density: bits flipped per unit input distance = bar height ÷ step length 0\.0281$/);
    // One swatch per layer that has crossings, in the colour of that layer's ticks in the chart.
    const crossed = path.layers.filter((l) => path.exact.crossings.some((c) => c.layer === l.key));
    const swatches = await page.$$eval('#marks-key .key:nth-child(2) line', (ls) => ls.map((l) => getComputedStyle(l).stroke));
    const ticks = await page.$$eval('svg.chart g.crossing', (gs) => gs.map((g) => getComputedStyle(g).stroke));
    assert.equal(swatches.length, crossed.length);
    assert.deepEqual(swatches, ticks);
    assert.equal(new Set(swatches).size, crossed.length, 'one colour per layer');
    assert.equal(await page.textContent('#endpoints'), `From sample 0: class ${labels[0]} (labels file), predicted ${path.preds[0]} (step 0) to sample 7: class ${labels[7]} (labels file), predicted ${path.preds.at(-1)} (step ${path.steps}).`);
    // Without a labels file: the predicted class at each end.
    await send(page, pathMsg(path, [0, 7], false));
    assert.equal(await page.textContent('#endpoints'), `From sample 0: predicted class ${path.preds[0]} (step 0) to sample 7: predicted class ${path.preds.at(-1)} (step ${path.steps}).`);
    await page.close();
  });

  test('charts: exported SVG and PNG are the whole figure: title, notes, axis titles with units, legend', async () => {
    const expect = {
      path: ['Boundary density: digits.onnx', 'From sample 0: class', '↑ bits flipped per step (Hamming distance)', 'density (bits per unit input distance)', 'exact crossing', 'class change', ...path.layers.map((l) => l.key)],
      study: ['Density study: digits.onnx', 'mean density (bits flipped per unit input distance)', 'same-class control', 'mean elsewhere on the path'],
      region: ['Region map: digits.onnx', 'u: from sample 0 (u = 0) to sample 1 (u = 1)', 'v: to sample 2 (v = 1)', 'a: sample 0', 'decision boundary', 'linear region'],
      local: ['Local complexity: digits.onnx', `units cut within radius ${local.radius} (bits)`, 'input (sample index in the data file)', ...local.layers.map((l) => l.key)],
      cluster: ['Clusters: digits.onnx', 'inputs (count)', 'majority label', 'other labels'],
    };
    for (const v of views.filter((x) => expect[x.name])) {
      const { page } = await open(v.page, { width: 900, height: 900 });
      await send(page, v.msg);
      await page.waitForSelector('svg.chart, svg.map-figure');
      await settle(page);
      const chart = await page.$eval('svg.chart, svg.map-figure', (s) => ({ w: Number(s.getAttribute('width')), h: Number(s.getAttribute('height')) }));
      const ex = await exportAll(page);
      const text = ex.svg.replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&amp;/g, '&');
      for (const e of expect[v.name]) assert.ok(text.includes(e), `${v.name}: the exported SVG says "${e}"`);
      const png = pngSize(ex.png);
      assert.equal(png.width, 2 * chart.w, `${v.name}: PNG at twice the chart's width`);
      assert.ok(png.height > 2 * chart.h + 40, `${v.name}: the PNG holds more than the bare chart (${png.height} for a ${chart.h}px chart)`);
      assert.equal(await page.$('svg.export-figure'), null, 'the figure built for the export is gone');
      await page.close();
    }
  });

  test('charts: high contrast: a hovered or focused button keeps readable colours (Light High Contrast and High Contrast)', async () => {
    for (const theme of ['vscode-high-contrast-light', 'vscode-high-contrast']) {
      const { page } = await open('densityView', { theme, width: 1000, height: 800 });
      await send(page, pathMsg());
      await page.waitForSelector('vscode-button#export-svg');
      const colours = (sel) => page.$eval(sel, (b) => { const cs = getComputedStyle(b.shadowRoot.querySelector('.base')); return { bg: cs.backgroundColor, fg: cs.color }; });
      const bodyBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      await page.hover('vscode-button#export-svg');
      const hovered = await colours('vscode-button#export-svg');
      assert.ok(contrast(hovered.fg, hovered.bg) >= 4.5, `${theme}: hovered button ${hovered.fg} on ${hovered.bg}: contrast ${contrast(hovered.fg, hovered.bg).toFixed(2)}`);
      assert.notEqual(await page.$eval('vscode-button#export-svg', (b) => getComputedStyle(b).outlineStyle), 'none', `${theme}: the hovered button shows the active border`);
      await page.mouse.move(0, 700);
      await page.focus('vscode-button#export-png');
      const focused = await colours('vscode-button#export-png');
      assert.ok(contrast(focused.fg, focused.bg) >= 4.5, `${theme}: focused button ${focused.fg} on ${focused.bg}`);
      // The layer toggles: hovered text against the page.
      await page.hover('.legend button.toggle');
      const toggle = await page.$eval('.legend button.toggle', (b) => { const cs = getComputedStyle(b); return { bg: cs.backgroundColor, fg: cs.color }; });
      const behind = toggle.bg === 'rgba(0, 0, 0, 0)' ? bodyBg : toggle.bg;
      assert.ok(contrast(toggle.fg, behind) >= 4.5, `${theme}: hovered toggle ${toggle.fg} on ${behind}`);
      await page.setViewportSize({ width: 500, height: 800 });
      await settle(page);
      await page.hover('vscode-button#export-svg');
      await page.screenshot({ path: join(out, `charts-path-${theme.replace('vscode-', '')}-500.png`), fullPage: true });
      await page.close();
    }
  });

  test('charts: region map: axes in the plane\'s coordinates, the three samples that span it with index and class, a legend; zoom redraws the axes', async () => {
    const { page, errors } = await open('regionView', { width: 1000, height: 1000, theme: 'vscode-light' });
    await send(page, views.find((v) => v.name === 'region').msg);
    await page.waitForSelector('svg.map path.region');
    await settle(page);
    const titles = await page.$$eval('svg.map-figure text.x-title, svg.map-figure g[aria-label="y-axis label"] text', (ts) => ts.map((t) => t.textContent));
    assert.deepEqual(titles.sort(), ['u: from sample 0 (u = 0) to sample 1 (u = 1)', 'v: to sample 2 (v = 1)']);
    const xTicks = () => page.$$eval('svg.map-figure g[aria-label="x-axis tick label"] text', (ts) => ts.map((t) => Number(t.textContent)));
    const before = await xTicks();
    assert.ok(niceSpacing(before) && before[0] >= plane.window[0] && before.at(-1) <= plane.window[1], `${before}`);
    assert.equal(await page.$$eval('svg.map-figure g.plane-sample circle', (c) => c.length), 3);
    const sampleLabels = await page.$$eval('svg.map-figure g.plane-sample-label text', (ts) => ts.map((t) => t.textContent));
    // Samples 0 and 1 are the ends of the recorded 200-step path: the model's class at each end is that path's.
    assert.deepEqual(sampleLabels.slice(0, 2), [`a: sample 0, predicted ${path200.preds[0]}`, `b: sample 1, predicted ${path200.preds.at(-1)}`]);
    assert.match(sampleLabels[2], /^c: sample 2, predicted \d+$/);
    // a is drawn at (u, v) = (0, 0): where the axes put 0.
    const zeroX = await page.$$eval('svg.map-figure g[aria-label="x-axis tick label"] text', (ts) => { const t = ts.find((x) => x.textContent === '0'); const r = t.getBoundingClientRect(); return r.x + r.width / 2; });
    const aX = await page.$eval('svg.map-figure g.plane-sample circle', (c) => { const r = c.getBoundingClientRect(); return r.x + r.width / 2; });
    assert.ok(Math.abs(zeroX - aX) < 1.5, `a at ${aX}, u = 0 at ${zeroX}`);
    const keys = await page.$$eval('#map-key .key', (ks) => ks.map((k) => k.textContent.trim()));
    assert.deepEqual(keys.map((k) => k.split(' (')[0].split(':')[0]), ['decision boundary', 'linear region', 'a, b, c', 'clicked point']);
    const boundary = await page.$eval('svg.map .boundary', (l) => getComputedStyle(l).stroke);
    assert.equal(await page.$eval('#map-key line.boundary', (l) => getComputedStyle(l).stroke), boundary, 'the legend\'s boundary is the map\'s');
    await page.screenshot({ path: join(out, 'charts-region-light-1000.png'), fullPage: true });
    // Zoom in at the middle: the axes show the smaller window.
    const box = await page.$eval('svg.map', (s) => { const r = s.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
    await page.mouse.move(box.x + box.w / 2, box.y + box.h / 2);
    await page.mouse.wheel(0, -600);
    await page.waitForFunction((n) => document.querySelectorAll('svg.map-figure g[aria-label="x-axis tick label"] text').length > 0 && document.querySelector('svg.map-figure g[aria-label="x-axis tick label"] text').textContent !== n, String(before[0]));
    await settle(page);
    const after = await xTicks();
    assert.ok(after.at(-1) - after[0] < before.at(-1) - before[0], `zoomed ticks ${after} within ${before}`);
    assert.ok(niceSpacing(after), `${after}`);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('charts: region map: a click keeps the hover box while the pointer is on the map; the answer shows without a re-render', async () => {
    const { page } = await open('regionView', { width: 1000, height: 1000 });
    await send(page, views.find((v) => v.name === 'region').msg);
    await page.waitForSelector('svg.map path.region');
    await settle(page);
    const box = await page.$eval('svg.map', (s) => { const r = s.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
    const at = { x: box.x + box.w * 0.4, y: box.y + box.h * 0.55 };
    await page.mouse.move(at.x, at.y);
    await page.waitForSelector('dd[data-field=region]');
    const region = await page.textContent('dd[data-field=region]');
    const renders = (await posted(page)).filter((m) => m.type === 'rendered').length;
    await page.mouse.click(at.x, at.y);
    const pt = (await posted(page)).filter((m) => m.type === 'point').at(-1);
    assert.ok(pt, 'the click asked for the point');
    assert.equal(await page.textContent('dd[data-field=region]'), region, 'the hover box still shows the region after the click');
    await send(page, { type: 'point', u: pt.u, v: pt.v, pred: 4, scores: [0, 1, 2, 3, 9] });
    assert.equal(await page.textContent('#point-pred'), '4');
    assert.equal(await page.textContent('dd[data-field=region]'), region, 'and after the answer');
    assert.equal(await page.$$eval('svg.map circle.point-marker', (c) => c.length), 1);
    assert.equal((await posted(page)).filter((m) => m.type === 'rendered').length, renders, 'the answer did not re-render the page');
    await page.close();
  });
}

const fmtNum = (x) => Number(x.toPrecision(4));
