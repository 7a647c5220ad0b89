// Tests of the analysis pages (densityView, regionView, statsView) in headless Chromium, registered into
// test/webview/run.mjs's runner. Fed with engine results recorded by the CLI (test/webview/fixtures/*.json):
//   node out/cli/main.js path examples/digits/digits.onnx --inputs examples/digits/digits-x.npy --from 0 --to 7 --steps 100 --exact --json
//   node out/cli/main.js slice test/fixtures/mlp2d.onnx --window=-3,3 --resolution 100 --exact --json
//   node out/cli/main.js slice test/fixtures/mlp2d.onnx --window=-3,3 --resolution 60 --json
//   node out/cli/main.js local examples/digits/digits.onnx --inputs examples/digits/digits-x.npy --n 30 --json
//   node out/cli/main.js scale examples/digits/digits.onnx --inputs examples/digits/digits-x.npy --layer /act1/Relu --alphas 0,0.5,1,2,4 --json
// Charts are Observable Plot SVGs (src/webview/charts/plot.ts): a mark is a <g> with its class (g.bar.s0, g.class-change)
// around its elements, hence selectors such as 'g.bar rect'.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { exportAll, fmt, rgb } from './helpers.mjs';

export function register({ test, open, send, posted, setTheme, THEMES, out, fixture }) {
  const path = fixture('digits.path.json');
  const slice = fixture('mlp2d.slice.json');
  const grid = fixture('mlp2d.slice-grid.json');
  const local = fixture('digits.local.json');
  const scale = fixture('digits.scale.json');
  const head = (kind, fileName) => ({ kind, model: `file:///ws/${fileName}`, fileName });
  const pathParams = { inputs: '/ws/digits-x.npy', from: 0, to: 7, steps: 100, exact: true };
  const sendPath = (page) => send(page, { type: 'result', ...head('path', 'digits.onnx'), params: pathParams, data: { kind: 'path', result: path } });
  const sendSlice = (page, result = slice) => send(page, { type: 'result', ...head('slice', 'mlp2d.onnx'), params: { window: [-3, 3], resolution: result.grid.resolution, exact: !!result.exact }, data: { kind: 'slice', result, sampleShape: [2] } });
  const rendered = async (page) => (await posted(page)).filter((m) => m.type === 'rendered').at(-1);
  const segments = Object.values(path.per_layer_per_step).reduce((a, v) => a + v.filter((x) => x > 0).length, 0);

  // ---- Boundary density ----

  test('density view: renders the recorded path: stacked bars, class change, exact crossings, table', async () => {
    const { page, errors } = await open('densityView');
    assert.deepEqual((await posted(page))[0], { type: 'ready' });
    await send(page, { type: 'busy', ...head('path', 'digits.onnx'), params: pathParams, label: 'Boundary density along 0 → 7…' });
    assert.match(await page.textContent('.busy'), /Boundary density along 0 → 7/);
    assert.equal((await rendered(page)).view, 'busy');
    await sendPath(page);
    await page.waitForSelector('svg.chart g.bar rect');
    assert.equal(await page.textContent('h1'), 'Boundary density: digits.onnx');
    assert.deepEqual(await rendered(page), { type: 'rendered', view: 'result', kind: 'path', items: segments, marks: path.class_changes_at_step.length + path.exact.crossings.length });
    assert.equal(await page.$$eval('g.class-change line', (l) => l.length), path.class_changes_at_step.length);
    const k = path.class_changes_at_step[0];
    assert.equal(await page.textContent('g.class-label text'), `${path.preds[k]}→${path.preds[k + 1]}`);
    const rows = await page.$$eval('#layer-totals tbody tr', (rs) => rs.map((r) => [...r.children].map((c) => c.textContent)));
    assert.deepEqual(rows.map((r) => r[3]), path.layers.map((l) => String(path.per_layer_total[l.key])));
    assert.deepEqual(rows.map((r) => r[4]), path.layers.map((l) => String(path.exact.flips_per_layer[l.key])));
    assert.match(await page.textContent('.meta'), new RegExp(`${path.total} bits flipped \\(sampled\\) · ${path.distinct_codes_on_path} regions hit on the path`));
    assert.match(await page.textContent('.meta'), new RegExp(`${path.exact.total_flips} exact crossings, ${path.exact.linear_pieces} linear pieces`));
    assert.deepEqual(errors, []);
    await page.screenshot({ path: join(out, 'densityView-dark.png'), fullPage: true });
    await page.close();
  });

  test('density view: hover and arrow keys show step, Hamming per layer, density and class', async () => {
    const { page } = await open('densityView');
    await sendPath(page);
    const k = path.class_changes_at_step[0];
    const box = await page.$eval('svg.chart', (s) => { const r = s.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
    // The dashed class-change line is drawn at x = k + 0.5, the middle of step k: the pointer goes there.
    const line = await page.$eval('g.class-change line', (l) => { const r = l.getBoundingClientRect(); return r.x + r.width / 2; });
    await page.mouse.move(line, box.y + box.h / 2);
    await page.waitForFunction((k) => document.querySelector('.info-step')?.textContent === `Step ${k}`, k);
    assert.equal(await page.textContent('.info-total'), String(path.per_step[k]));
    assert.equal(await page.textContent('.info-class'), `${path.preds[k]} → ${path.preds[k + 1]}`);
    const d = path.density_input[k];
    assert.equal(await page.textContent('.info-density'), d === null ? '–' : fmt(d));
    const perLayer = await page.$$eval('.info-layers li', (ls) => ls.map((l) => l.textContent.trim()));
    assert.deepEqual(perLayer, path.layers.map((l) => `${l.key}: ${path.per_layer_per_step[l.key][k]}`));
    // Keyboard: focus the chart (a slider), arrows move the cursor.
    await page.focus('svg.chart');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getAttribute('svg.chart', 'aria-valuenow'), String(k + 1));
    assert.equal(await page.textContent('.info-step'), `Step ${k + 1}`);
    await page.keyboard.press('Home');
    assert.equal(await page.getAttribute('svg.chart', 'aria-valuenow'), '0');
    await page.keyboard.press('End');
    assert.equal(await page.getAttribute('svg.chart', 'aria-valuenow'), String(path.steps - 1));
    assert.match(await page.getAttribute('svg.chart', 'aria-valuetext'), new RegExp(`^step ${path.steps - 1} `));
    await page.keyboard.press('PageDown');
    assert.equal(await page.getAttribute('svg.chart', 'aria-valuenow'), String(path.steps - 11));
    await page.close();
  });

  test('density view, local complexity and scaling: layers from a torch.export-style file are named by module first in the legend and the hover text', async () => {
    // The digits result with the modules and source lines a torch.export-style file would give its layers.
    const withModules = (layers) => layers.map((l, i) => ({ ...l, module: `block.${i}.act`, module_from: 'metadata', source: { file: 'train.py', line: 30 + i } }));
    const { page, errors } = await open('densityView');
    await send(page, { type: 'result', ...head('path', 'digits.onnx'), params: pathParams, data: { kind: 'path', result: { ...path, layers: withModules(path.layers) } } });
    await page.waitForSelector('.legend button[data-series]');
    const legend = await page.$$eval('.legend button[data-series]', (bs) => bs.map((b) => [b.dataset.series, b.textContent.trim()]));
    assert.deepEqual(legend, path.layers.map((l, i) => [l.key, `block.${i}.act · train.py:${30 + i} (${l.key})`]), 'toggles keep the node key, show the module first');
    await page.focus('svg.chart');
    await page.keyboard.press('ArrowRight');
    const step = Number((await page.textContent('.info-step')).replace('Step ', ''));
    const perLayer = await page.$$eval('.info-layers li', (ls) => ls.map((l) => l.textContent.trim()));
    assert.deepEqual(perLayer, path.layers.map((l, i) => `block.${i}.act · train.py:${30 + i} (${l.key}): ${path.per_layer_per_step[l.key][step]}`), 'the hover text names layers the same way');
    await page.close();
    const lc = await open('statsView');
    await send(lc.page, { type: 'result', ...head('local', 'digits.onnx'), params: { inputs: '/ws/digits-x.npy', n: 30, directions: 20, radius: 0.005, seed: 0 }, data: { kind: 'local', result: { ...local, layers: withModules(local.layers) } } });
    await lc.page.waitForSelector('.legend button[data-series]');
    assert.deepEqual(await lc.page.$$eval('.legend button[data-series]', (bs) => bs.map((b) => b.textContent.trim())), local.layers.map((l, i) => `block.${i}.act · train.py:${30 + i} (${l.key})`));
    const sc = await open('statsView');
    await send(sc.page, { type: 'result', ...head('scale', 'digits.onnx'), params: { inputs: '/ws/digits-x.npy', layer: '/act1/Relu', alphas: [0, 0.5, 1, 2, 4] }, data: { kind: 'scale', result: { ...scale, later_layers: withModules(scale.later_layers) } } });
    await sc.page.waitForSelector('.legend button[data-series]');
    assert.deepEqual(await sc.page.$$eval('.legend button[data-series]', (bs) => bs.map((b) => b.textContent.trim())), scale.later_layers.map((l, i) => `block.${i}.act · train.py:${30 + i} (${l.key})`));
    assert.deepEqual([...errors, ...lc.errors, ...sc.errors], []);
    await lc.page.close();
    await sc.page.close();
  });

  test('density view: layer toggles, export SVG / PNG / JSON, state restored after a reload', async () => {
    const { page } = await open('densityView');
    await sendPath(page);
    const first = path.layers[0].key;
    await page.click(`.legend button[data-series="${first}"]`);
    assert.equal(await page.getAttribute(`.legend button[data-series="${first}"]`, 'aria-pressed'), 'false');
    const without = Object.entries(path.per_layer_per_step).filter(([key]) => key !== first).reduce((a, [, v]) => a + v.filter((x) => x > 0).length, 0);
    assert.equal((await rendered(page)).items, without);
    await page.focus('svg.chart');
    await page.keyboard.press('End');
    const ex = await exportAll(page);
    assert.deepEqual(ex.json, path, 'JSON export is the result');
    assert.match(ex.svg, /<rect[^>]*fill="rgb/);
    await send(page, { type: 'exported', format: 'json', fileName: 'digits.path.json' });
    assert.match(await page.textContent('.exports'), /Saved digits\.path\.json/);
    const state = await page.evaluate(() => window.__state);
    assert.equal(state.kind, 'path');
    assert.deepEqual(state.ui.layersHidden, [first]);
    await page.close();
    const again = await open('densityView', { state });
    await again.page.waitForSelector('svg.chart g.bar rect');
    assert.equal((await rendered(again.page)).items, without, 'hidden layer restored');
    assert.equal(await again.page.getAttribute('svg.chart', 'aria-valuenow'), String(path.steps - 1), 'cursor restored');
    assert.equal((await posted(again.page)).filter((m) => m.type !== 'ready' && m.type !== 'rendered').length, 0, 'nothing asked of the host');
    await again.page.close();
  });

  test('density view: cancelled and error states never show a result; theme switch', async () => {
    const { page } = await open('densityView');
    await sendPath(page);
    await send(page, { type: 'busy', ...head('path', 'digits.onnx'), params: pathParams, label: 'again…' });
    await send(page, { type: 'cancelled', ...head('path', 'digits.onnx'), params: pathParams });
    assert.match(await page.textContent('[role=status]'), /Cancelled/);
    assert.equal(await page.$('svg.chart'), null, 'no chart after a cancel');
    assert.equal((await rendered(page)).view, 'cancelled');
    await send(page, { type: 'error', ...head('path', 'digits.onnx'), params: pathParams, message: '--from 999 is out of range: 360 samples <b>x</b>' });
    assert.equal(await page.textContent('[role=alert]'), '--from 999 is out of range: 360 samples <b>x</b>');
    assert.equal(await page.$('b'), null);
    assert.equal((await rendered(page)).view, 'error');
    await sendPath(page);
    const fills = {};
    for (const theme of Object.keys(THEMES)) {
      await setTheme(page, theme);
      await page.waitForSelector('svg.chart g.bar.s0 rect');
      fills[theme] = await page.evaluate(() => ({ bar: getComputedStyle(document.querySelector('g.bar.s0 rect')).fill, bg: getComputedStyle(document.body).backgroundColor }));
      await page.screenshot({ path: join(out, `densityView-${theme.replace('vscode-', '')}.png`), fullPage: true });
    }
    assert.equal(rgb(fills['vscode-light'].bar), 'rgb(26, 133, 255)');
    assert.equal(rgb(fills['vscode-dark'].bar), 'rgb(55, 148, 255)');
    assert.equal(fills['vscode-high-contrast'].bg, 'rgb(0, 0, 0)');
    await page.close();
  });

  // ---- Region map ----

  test('region view: exact polygons coloured by code, decision boundary, hover shows region, code, area, class', async () => {
    const { page, errors } = await open('regionView');
    await sendSlice(page);
    await page.waitForSelector('svg.map path.region');
    assert.deepEqual(await rendered(page), { type: 'rendered', view: 'result', kind: 'slice', items: slice.exact.polygons.length, marks: slice.exact.decision_boundary.length });
    // Same code, same colour; colours vary across regions.
    const fills = await page.$$eval('path.region', (ps) => ps.map((p) => p.getAttribute('fill')));
    assert.ok(new Set(fills).size > slice.exact.polygons.length / 4, 'many distinct colours');
    const byCode = new Map();
    slice.exact.polygons.forEach((p, i) => {
      if (byCode.has(p.code_hex)) assert.equal(fills[i], byCode.get(p.code_hex));
      byCode.set(p.code_hex, fills[i]);
    });
    const box = await page.$eval('svg.map', (s) => { const r = s.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
    await page.mouse.move(box.x + box.w * 0.3, box.y + box.h * 0.6);
    await page.waitForSelector('dd[data-field=region]');
    const i = Number((await page.textContent('dd[data-field=region]')).slice(1));
    const p = slice.exact.polygons[i];
    assert.ok(p, `region ${i} exists`);
    const bits = [...p.code_hex].reduce((a, c) => a + [...parseInt(c, 16).toString(2)].filter((b) => b === '1').length, 0);
    assert.equal(await page.textContent('dd[data-field="active bits"]'), `${bits} of ${p.code_hex.length * 4}`);
    assert.equal(await page.textContent('dd[data-field=code]'), p.code_hex.slice(0, 16) + (p.code_hex.length > 16 ? '…' : ''));
    const [lo, hi] = slice.window;
    assert.equal(await page.textContent('dd[data-field=area]'), `${fmt(p.area, 4)} plane units² (${fmt((100 * p.area) / ((hi - lo) * (hi - lo)), 3)} % of the window)`);
    assert.equal(await page.textContent('dd[data-field=class]'), String(p.pred));
    assert.equal(await page.$eval('path.region.hover', (e) => e.getAttribute('data-i')), String(i));
    assert.deepEqual(errors, []);
    await page.screenshot({ path: join(out, 'regionView-exact-dark.png'), fullPage: true });
    await page.close();
  });

  test('region view: click posts (u, v); the answer shows class and the input image; zoom, pan, reset', async () => {
    const { page } = await open('regionView');
    await sendSlice(page);
    await page.waitForSelector('svg.map path.region');
    const box = await page.$eval('svg.map', (s) => { const r = s.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
    await page.mouse.click(box.x + box.w * 0.75, box.y + box.h * 0.25);
    const pt = (await posted(page)).filter((m) => m.type === 'point').at(-1);
    assert.ok(pt, 'a point message');
    assert.ok(Math.abs(pt.u - 1.5) < 0.05 && Math.abs(pt.v - 1.5) < 0.05, `(u, v) = (${pt.u}, ${pt.v})`);
    assert.match(await page.textContent('#point'), /Asking the model/);
    // A 2x2 PNG, as the host would send for an image input.
    const png = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAFklEQVR4nGP8z8DwnwEIGBmgDFQBAD0cAf+lJ+N8AAAAAElFTkSuQmCC';
    await send(page, { type: 'point', u: pt.u, v: pt.v, pred: 1, scores: [0.1, 2.5], image: png, imageNote: '2×2, values in [0, 1]' });
    await page.waitForSelector('#point-pred');
    assert.equal(await page.textContent('#point-pred'), '1');
    assert.equal(await page.getAttribute('img.input-image', 'src'), png);
    assert.equal(await page.$$eval('svg.map circle.point-marker', (c) => c.length), 1);
    // Zoom at the pointer with the wheel, pan by dragging, reset.
    const scaleOf = () => page.$eval('g.view', (g) => Number(/scale\(([\d.]+)\)/.exec(g.getAttribute('transform'))[1]));
    await page.mouse.move(box.x + box.w / 2, box.y + box.h / 2);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction(() => !/scale\(1\.00000\)/.test(document.querySelector('g.view').getAttribute('transform')));
    assert.ok((await scaleOf()) > 1.5);
    const before = await page.getAttribute('g.view', 'transform');
    await page.mouse.move(box.x + box.w / 2, box.y + box.h / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.w / 2 + 60, box.y + box.h / 2 + 30, { steps: 5 });
    await page.mouse.up();
    assert.notEqual(await page.getAttribute('g.view', 'transform'), before, 'dragging pans');
    assert.equal((await posted(page)).filter((m) => m.type === 'point').length, 1, 'a drag is not a click');
    const state = await page.evaluate(() => window.__state);
    assert.ok(state.ui.view.k > 1.5, 'zoom kept in the state');
    await page.click('vscode-button#reset');
    assert.equal(await scaleOf(), 1);
    // Keyboard: + zooms, 0 resets, Enter asks for the centre.
    await page.focus('svg.map');
    await page.keyboard.press('+');
    assert.ok((await scaleOf()) > 1.2);
    await page.keyboard.press('0');
    assert.equal(await scaleOf(), 1);
    await page.keyboard.press('Enter');
    const centre = (await posted(page)).filter((m) => m.type === 'point').at(-1);
    assert.ok(Math.abs(centre.u) < 1e-9 && Math.abs(centre.v) < 1e-9, 'the centre of [-3, 3]² is (0, 0)');
    await send(page, { type: 'pointError', u: 0, v: 0, message: 'no plane' });
    assert.equal(await page.textContent('#point [role=alert]'), 'no plane');
    await page.close();
    // Restored: zoom and the clicked point come back without the host.
    const again = await open('regionView', { state });
    await again.page.waitForSelector('svg.map path.region');
    assert.ok(Number(/scale\(([\d.]+)\)/.exec(await again.page.getAttribute('g.view', 'transform'))[1]) > 1.5);
    assert.equal(await again.page.textContent('#point-pred'), '1');
    await again.page.close();
  });

  test('region view: the sampled grid when not exact; export; theme-adapted colours', async () => {
    const { page } = await open('regionView', { theme: 'vscode-light' });
    await sendSlice(page, grid);
    await page.waitForSelector('svg.map rect.region');
    const r = await rendered(page);
    assert.equal(r.items, grid.grid.distinct_codes, 'every sampled region is drawn');
    assert.ok(r.marks > 0, 'the grid decision boundary is drawn');
    assert.match(await page.textContent('.meta'), /showing the sampled grid/);
    await page.screenshot({ path: join(out, 'regionView-grid-light.png'), fullPage: true });
    const ex = await exportAll(page);
    assert.equal(ex.json.grid.resolution, 60);
    const light = await page.$eval('rect.region', (e) => e.getAttribute('fill'));
    await setTheme(page, 'vscode-dark');
    await page.waitForFunction((l) => document.querySelector('rect.region').getAttribute('fill') !== l, light);
    const dark = await page.$eval('rect.region', (e) => e.getAttribute('fill'));
    const lightness = (f) => Number(/(\d+)%\)$/.exec(f)[1]);
    assert.ok(lightness(light) > 60 && lightness(dark) < 45, `light ${light}, dark ${dark}`);
    assert.equal(/^hsl\((\d+)/.exec(light)[1], /^hsl\((\d+)/.exec(dark)[1], 'same hue in both themes');
    await setTheme(page, 'vscode-high-contrast');
    await page.screenshot({ path: join(out, 'regionView-grid-high-contrast.png'), fullPage: true });
    // The grid's row runs carry no outline in high contrast (one on each drew stripes across the map); the exact
    // regions' polygons keep theirs.
    for (const theme of ['vscode-high-contrast', 'vscode-high-contrast-light']) {
      await setTheme(page, theme);
      await page.waitForSelector('svg.map rect.region');
      assert.equal(await page.$eval('svg.map rect.region', (e) => getComputedStyle(e).stroke), 'none', theme);
    }
    await page.close();
    // Exact result: the toggle switches to the grid.
    const ex2 = await open('regionView', { theme: 'vscode-light' });
    await sendSlice(ex2.page);
    await ex2.page.screenshot({ path: join(out, 'regionView-exact-light.png'), fullPage: true });
    await ex2.page.click('#toggle-mode');
    await ex2.page.waitForSelector('svg.map rect.region');
    assert.equal((await rendered(ex2.page)).items, slice.grid.distinct_codes);
    await ex2.page.close();
  });

  // ---- Local complexity and scaling ----

  test('stats view: local complexity chart and table; hover; export', async () => {
    const { page } = await open('statsView');
    await send(page, { type: 'result', ...head('local', 'digits.onnx'), params: { n: 30 }, data: { kind: 'local', result: local } });
    await page.waitForSelector('#stats-table tbody tr');
    assert.equal(await page.textContent('h1'), 'Local complexity: digits.onnx');
    const r = await rendered(page);
    assert.equal(r.items, local.layers.length);
    const bars = local.per_point.reduce((a, p) => a + p.per_layer.filter((x) => x > 0).length, 0);
    assert.equal(r.marks, bars);
    const rows = await page.$$eval('#stats-table tbody tr', (rs) => rs.map((x) => [...x.children].map((c) => c.textContent)));
    assert.deepEqual(rows.map((x) => x[0]), local.layers.map((l) => l.key));
    assert.deepEqual(rows.map((x) => x[3]), local.layers.map((l) => fmt(local.mean_per_layer[l.key])));
    await page.focus('svg.chart');
    await page.keyboard.press('ArrowRight');
    const p0 = local.per_point[0];
    assert.equal(await page.textContent('#info'), `input ${p0.index}: class ${p0.pred}, ${p0.total} units cut (${local.layers.map((l, i) => `${l.key} ${p0.per_layer[i]}`).join(', ')})`);
    const ex = await exportAll(page);
    assert.equal(ex.json.n, local.n);
    await page.screenshot({ path: join(out, 'statsView-local-dark.png'), fullPage: true });
    await page.close();
  });

  test('stats view: scaling table per alpha, theme switch, state restored', async () => {
    const { page } = await open('statsView', { theme: 'vscode-light' });
    await send(page, { type: 'result', ...head('scale', 'digits.onnx'), params: { layer: scale.layer, alphas: scale.alphas.map((a) => a.alpha) }, data: { kind: 'scale', result: scale } });
    await page.waitForSelector('#stats-table tbody tr');
    assert.equal((await rendered(page)).items, scale.alphas.length);
    const rows = await page.$$eval('#stats-table tbody tr', (rs) => rs.map((x) => [...x.children].map((c) => c.textContent)));
    assert.deepEqual(rows.map((x) => x[0]), scale.alphas.map((a) => String(a.alpha)));
    assert.deepEqual(rows.map((x) => x[1]), scale.alphas.map((a) => `${(100 * a.changed_predictions).toFixed(1)}%`));
    const one = scale.alphas.findIndex((a) => a.alpha === 1);
    assert.equal(rows[one][3], '0', 'alpha = 1 flips nothing');
    const box = await page.$eval('svg.chart', (s) => { const r = s.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
    const n = scale.alphas.length;
    // The last alpha's tick label sits in the middle of its bar.
    const last = await page.$$eval('g[aria-label="x-axis tick label"] text', (ts) => { const r = ts.at(-1).getBoundingClientRect(); return r.x + r.width / 2; });
    await page.mouse.move(last, box.y + box.h / 2);
    await page.waitForFunction(() => /^alpha /.test(document.querySelector('#info').textContent));
    assert.match(await page.textContent('#info'), new RegExp(`^alpha ${scale.alphas[n - 1].alpha}: `));
    await page.screenshot({ path: join(out, 'statsView-scale-light.png'), fullPage: true });
    await setTheme(page, 'vscode-high-contrast');
    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('#stats-table td')).borderBottomColor), 'rgb(111, 195, 223)');
    await page.screenshot({ path: join(out, 'statsView-scale-high-contrast.png'), fullPage: true });
    const state = await page.evaluate(() => window.__state);
    await page.close();
    const again = await open('statsView', { state });
    await again.page.waitForSelector('#stats-table tbody tr');
    assert.equal(await again.page.$$eval('#stats-table tbody tr', (x) => x.length), n);
    assert.equal(await again.page.getAttribute('svg.chart', 'aria-valuenow'), String(n - 1));
    await again.page.close();
  });
}
