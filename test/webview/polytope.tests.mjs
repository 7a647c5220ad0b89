// Tests of the polytope view (src/webview/polytopeView.ts) in headless Chromium, and of the clicks in the path view
// and the region map that ask for a polytope, registered into test/webview/run.mjs's runner. Fed with polytope
// results recorded by the CLI on the test fixtures (test/webview/make-polytope-fixtures.mjs):
//   resmlp.polytope.json  float64, three ReLU layers with module names, every facet (complete list)
//   cnn.polytope.json     float32 (approximate), rays only (partial list), 128 neighbours
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { exportAll, fmt } from './helpers.mjs';

export function register({ test, open, send, posted, out, fixture }) {
  const resmlp = fixture('resmlp.polytope.json');
  const cnn = fixture('cnn.polytope.json');
  const head = (fileName) => ({ kind: 'polytope', model: `file:///ws/${fileName}`, fileName });
  const origin = { from: 'sample', index: 0, text: 'input 0 of resmlp.inputs.npy' };
  const sendPolytope = (page, result, fileName, params = { inputs: '/ws/x.npy', index: 0, facets: 'full' }) =>
    send(page, { type: 'result', ...head(fileName), params, data: { kind: 'polytope', result, origin: { ...origin, text: `input 0 of ${fileName.replace('.onnx', '.inputs.npy')}` } } });
  const rendered = async (page) => (await posted(page)).filter((m) => m.type === 'rendered').at(-1);
  const inspects = async (page) => (await posted(page)).filter((m) => m.type === 'inspect');
  const noOverflow = (page) => page.evaluate(() => document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth + 1);

  /** The histogram's bins computed here from the facets, independently of the page: 20 bins up to a nice maximum. */
  function bins(r) {
    const max = Math.max(...r.facets.map((f) => f.distance));
    const p = 10 ** Math.floor(Math.log10(max));
    const top = [1, 2, 2.5, 5, 10].map((m) => m * p).find((v) => max <= v);
    const per = new Map();
    for (const f of r.facets) {
      const b = Math.min(19, Math.floor(f.distance / (top / 20)));
      const k = `${f.layer}@${b}`;
      per.set(k, (per.get(k) ?? 0) + 1);
    }
    return per;
  }

  test('polytope view: a real float64 polytope: header, facets grouped by layer (module first), histogram, nearest boundary, neighbours', async () => {
    const r = resmlp;
    const { page, errors } = await open('polytopeView');
    await send(page, { type: 'busy', ...head('resmlp.onnx'), params: {}, label: 'Polytope of input 0 of resmlp.inputs.npy…' });
    assert.match(await page.textContent('.busy'), /Polytope of input 0/);
    await sendPolytope(page, r, 'resmlp.onnx');
    await page.waitForSelector('#facet-layers tbody tr');
    assert.equal(await page.textContent('h1'), 'Polytope: resmlp.onnx');
    assert.equal(await page.textContent('#origin'), 'Around input 0 of resmlp.inputs.npy.');
    // Header: class, dimension, precision, residual, inradius, bounded, the code shortened with the whole in its title.
    assert.equal(await page.textContent('#pred'), String(r.pred));
    assert.equal(await page.textContent('dd[data-field=dimension]'), String(r.dim));
    assert.match(await page.textContent('dd[data-field=precision]'), /^float64/);
    assert.match(await page.textContent('dd[data-field="affine residual"]'), new RegExp(`^${r.residual.toExponential(2).replace('+', '\\+')}`));
    assert.equal(await page.textContent('#inradius'), fmt(r.inradius, 4));
    assert.equal(await page.textContent('#bounded'), r.bounded ? 'yes' : 'no');
    assert.equal(await page.getAttribute('#code', 'title'), r.code_hex);
    assert.equal(await page.$('#partial'), null, 'a complete facet list has no partial notice');
    // Facets grouped by layer: counts per layer, the module name before the node name, nearest distance per layer.
    const rows = await page.$$eval('#facet-layers tbody tr', (rs) => rs.map((tr) => ({ key: tr.dataset.key, module: tr.querySelector('.layer-module')?.textContent, facets: tr.querySelector('td.facets').textContent, nearest: tr.children[4].textContent })));
    assert.deepEqual(rows.map((x) => x.key), r.layers.map((l) => l.key));
    assert.deepEqual(rows.map((x) => x.module), r.layers.map((l) => l.module));
    assert.deepEqual(rows.map((x) => Number(x.facets)), r.layers.map((l) => r.facets_per_layer[l.key]));
    assert.deepEqual(rows.map((x) => x.nearest), r.layers.map((l) => fmt(Math.min(...r.facets.filter((f) => f.layer === l.key).map((f) => f.distance)), 4)));
    const groups = await page.$$eval('details.facet-group', (ds) => ds.map((d) => ({ layer: d.dataset.layer, units: [...d.querySelectorAll('tr.facet-row')].map((tr) => Number(tr.dataset.unit)) })));
    assert.deepEqual(groups, r.layers.filter((l) => r.facets_per_layer[l.key] > 0).map((l) => ({ layer: l.key, units: r.facets.filter((f) => f.layer === l.key).map((f) => f.unit) })));
    // Histogram: one bar segment per (layer, bin) with facets, stacked; the words of each bin agree with the facets.
    const expected = bins(r);
    assert.equal(await page.$$eval('svg.chart g.bar rect', (rs) => rs.length), expected.size);
    const label = await page.getAttribute('svg.chart', 'aria-label');
    const total = [...label.matchAll(/: (\d+) facets?/g)].reduce((a, m) => a + Number(m[1]), 0);
    assert.equal(total, r.facets.length, 'every facet is in one bin');
    // Nearest boundary: its layer (module first), unit and distance; the class across it.
    const near = r.nearest;
    const nearText = await page.textContent('#nearest');
    assert.match(nearText, new RegExp(`${r.layers.find((l) => l.key === near.layer).module} ${near.layer.replace(/[/.]/g, '\\$&')} unit ${near.unit}, at distance ${fmt(near.distance, 4)}`));
    // Neighbours: nearest first, with code and class; the rows where the class changes are marked.
    const nbs = await page.$$eval('#neighbours tbody tr', (rs) => rs.map((tr) => ({ pred: tr.querySelector('td.pred').textContent, code: tr.querySelector('code.code-across').getAttribute('title'), changes: tr.classList.contains('changes') })));
    assert.equal(nbs.length, r.neighbours.length);
    assert.deepEqual(nbs.map((n) => n.code), r.neighbours.map((n) => n.code_hex));
    assert.deepEqual(nbs.map((n) => n.changes), r.neighbours.map((n) => n.pred !== r.pred));
    assert.ok(nbs.some((n) => n.changes), 'the fixture has neighbours of another class');
    assert.deepEqual(await rendered(page), { type: 'rendered', view: 'result', kind: 'polytope', items: r.facets.length, marks: r.neighbours.length });
    // A neighbour's Inspect posts its index (never a point): the host computes the point across its facet.
    const k = r.neighbours.findIndex((n) => n.pred !== r.pred);
    await page.click(`#neighbours tr[data-neighbour="${k}"] button.inspect`);
    assert.deepEqual((await inspects(page)).at(-1), { type: 'inspect', target: 'neighbour', neighbour: k });
    // The same neighbour from its facet row in the layer group.
    const f = r.neighbours[k];
    await page.click(`details.facet-group[data-layer="${f.layer}"] > summary`);
    await page.click(`details.facet-group[data-layer="${f.layer}"] tr.facet-row[data-unit="${f.unit}"] button.inspect`);
    assert.deepEqual((await inspects(page)).at(-1), { type: 'inspect', target: 'neighbour', neighbour: k });
    assert.deepEqual((await page.evaluate(() => window.__state)).ui.open, [f.layer], 'the open group is kept');
    const ex = await exportAll(page);
    assert.equal(ex.json.facets.length, r.facets.length);
    assert.deepEqual(errors, []);
    // At 1600 px and at 500 px: nothing widens the page.
    for (const width of [1600, 500]) {
      await page.setViewportSize({ width, height: 1000 });
      await page.waitForTimeout(400);
      assert.ok(await noOverflow(page), `no horizontal overflow at ${width} px`);
      await page.screenshot({ path: join(out, `polytopeView-resmlp-${width}.png`), fullPage: true });
    }
    await page.close();
  });

  test('polytope view of a neighbour: its nearest boundary is named as the facet crossed to get here, and only that one', async () => {
    const r = resmlp;
    const { page, errors } = await open('polytopeView');
    const viaFacet = (layer, unit) => ({ type: 'result', ...head('resmlp.onnx'), params: { index: 0, facets: 'full' }, data: { kind: 'polytope', result: r, origin: { from: 'neighbour', hops: 1, layer, unit, text: `the neighbour across ${layer} unit ${unit}` } } });
    await send(page, viaFacet(r.nearest.layer, r.nearest.unit));
    await page.waitForSelector('#nearest');
    assert.match(await page.textContent('#origin'), new RegExp(`^Around the neighbour across ${r.nearest.layer} unit ${r.nearest.unit}`));
    assert.match(await page.textContent('#nearest'), /from the point: the facet crossed to get here/);
    // Reached across another facet: the nearest boundary is not the one crossed.
    const other = r.facets.find((f) => f.layer !== r.nearest.layer || f.unit !== r.nearest.unit);
    await send(page, viaFacet(other.layer, other.unit));
    await page.waitForFunction((t) => document.querySelector('#origin')?.textContent.includes(t), `unit ${other.unit}`);
    assert.doesNotMatch(await page.textContent('#nearest'), /crossed to get here/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('polytope view: float32 and rays only: "approximate", the partial list said and Find every facet; all neighbours on demand; restored state', async () => {
    const r = cnn;
    const { page, errors } = await open('polytopeView', { theme: 'vscode-light' });
    await sendPolytope(page, r, 'cnn.onnx', { inputs: '/ws/x.npy', index: 0, facets: 'rays' });
    await page.waitForSelector('#neighbours tbody tr');
    assert.match(await page.textContent('dd[data-field=precision]'), /^approximate: float32/);
    assert.match(await page.textContent('#partial'), new RegExp(`Partial facet list: these ${r.facets.length} facets were found by ${r.method.rays} rays`));
    assert.equal(await page.textContent('#bounded'), 'not shown by the facets found (partial list)');
    assert.match(await page.textContent('#note'), /float32/);
    assert.match(await page.textContent('#facet-layers caption'), /found so far/);
    await page.click('vscode-button#all-facets');
    assert.deepEqual((await inspects(page)).at(-1), { type: 'inspect', target: 'allFacets' });
    // 128 neighbours: the first 50, then all of them.
    assert.equal(await page.$$eval('#neighbours tbody tr', (t) => t.length), 50);
    await page.click('#all-neighbours');
    await page.waitForFunction((n) => document.querySelectorAll('#neighbours tbody tr').length === n, r.neighbours.length);
    assert.deepEqual(await rendered(page), { type: 'rendered', view: 'result', kind: 'polytope', items: r.facets.length, marks: r.neighbours.length });
    // MaxPool and ReLU layers each get their group.
    assert.deepEqual(await page.$$eval('details.facet-group', (d) => d.map((x) => x.dataset.layer)), r.layers.filter((l) => r.facets_per_layer[l.key] > 0).map((l) => l.key));
    // Hover a histogram bin: the words under the chart say its range and counts.
    await page.locator('svg.chart').scrollIntoViewIfNeeded();
    const box = await page.$eval('svg.chart', (s) => { const b = s.getBoundingClientRect(); return { x: b.x, y: b.y, w: b.width, h: b.height }; });
    await page.mouse.move(box.x + box.w * 0.2, box.y + box.h / 2);
    await page.waitForFunction(() => /^distance /.test(document.querySelector('#bin-info').textContent));
    assert.deepEqual(errors, []);
    await page.screenshot({ path: join(out, 'polytopeView-cnn-light.png'), fullPage: true });
    const state = await page.evaluate(() => window.__state);
    await page.close();
    const again = await open('polytopeView', { state });
    await again.page.waitForSelector('#neighbours tbody tr');
    assert.equal(await again.page.$$eval('#neighbours tbody tr', (t) => t.length), r.neighbours.length, 'restored with every neighbour shown');
    await again.page.close();
  });

  test('path view: a click on a step, or its Inspect button, asks for the polytope at that step', async () => {
    const path = fixture('digits.path.json');
    const { page, errors } = await open('densityView');
    await send(page, { type: 'result', kind: 'path', model: 'file:///ws/digits.onnx', fileName: 'digits.onnx', params: { inputs: '/ws/digits-x.npy', from: 0, to: 7, steps: 100, exact: true }, data: { kind: 'path', result: path } });
    await page.waitForSelector('svg.chart g.bar rect');
    await page.focus('svg.chart');
    for (let i = 0; i < 13; i++) await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => document.querySelector('.info-step')?.textContent === 'Step 12');
    await page.click('#inspect-step');
    assert.deepEqual((await inspects(page)).at(-1), { type: 'inspect', target: 'step', step: 12 });
    // A click on the chart inspects the step under the pointer.
    const box = await page.$eval('svg.chart', (s) => { const b = s.getBoundingClientRect(); return { x: b.x, y: b.y, w: b.width, h: b.height }; });
    await page.mouse.click(box.x + box.w / 2, box.y + box.h / 2);
    const step = (await inspects(page)).at(-1);
    assert.equal(step.target, 'step');
    assert.equal(await page.textContent('.info-step'), `Step ${step.step}`);
    assert.ok(step.step > 30 && step.step < 70, `the middle of the chart is a middle step (${step.step})`);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('region view: the clicked point offers "Inspect the polytope here", which posts the same (u, v)', async () => {
    const slice = fixture('mlp2d.slice.json');
    const { page, errors } = await open('regionView');
    await send(page, { type: 'result', kind: 'slice', model: 'file:///ws/mlp2d.onnx', fileName: 'mlp2d.onnx', params: { window: [-3, 3], resolution: slice.grid.resolution, exact: true }, data: { kind: 'slice', result: slice, sampleShape: [2] } });
    await page.waitForSelector('svg.map path.region');
    assert.equal(await page.$('#inspect-point'), null, 'nothing to inspect before a click');
    const box = await page.$eval('svg.map', (s) => { const b = s.getBoundingClientRect(); return { x: b.x, y: b.y, w: b.width, h: b.height }; });
    await page.mouse.click(box.x + box.w * 0.25, box.y + box.h * 0.75);
    const pt = (await posted(page)).filter((m) => m.type === 'point').at(-1);
    await send(page, { type: 'point', u: pt.u, v: pt.v, pred: 0, scores: [1.5, 0.2] });
    await page.click('vscode-button#inspect-point');
    assert.deepEqual((await inspects(page)).at(-1), { type: 'inspect', target: 'point', u: pt.u, v: pt.v });
    assert.deepEqual(errors, []);
    await page.close();
  });
}
