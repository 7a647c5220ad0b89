// The model view's per-layer histograms of units by active fraction and its analysis buttons, in headless Chromium,
// registered into test/webview/run.mjs's runner (the summary, probe, state and highlight tests are in run.mjs).
// Fed with digits.codes.json (LayerStats.active_histogram), recorded by test/webview/make-fixtures.mjs from
//   node out/cli/main.js codes examples/digits/digits.onnx --inputs examples/digits/digits-x.npy --json
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { box } from './helpers.mjs';

export function register({ test, open, send, posted, setTheme, THEMES, out, fixture }) {
  const summary = fixture('digits.summary.json');
  const codes = fixture('digits.codes.json');
  const MODEL = 'file:///ws/digits.onnx';
  const withCodes = async (theme) => {
    const o = await open('modelView', { theme });
    await send(o.page, { type: 'summary', model: MODEL, fileName: 'digits.onnx', summary });
    await send(o.page, { type: 'codes', codes });
    await o.page.waitForSelector('#stats svg.histogram');
    return o;
  };
  const pct0 = (x) => `${Math.round(100 * x)}%`;

  test('model view in a 400 px column: nothing is cut off; wide tables scroll inside themselves', async () => {
    const { page, errors } = await withCodes();
    await page.setViewportSize({ width: 400, height: 760 });
    await page.waitForFunction(() => document.documentElement.clientWidth === 400);
    const fit = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      view: document.documentElement.clientWidth,
      tables: [...document.querySelectorAll('table.grid')].map((t) => {
        const r = t.getBoundingClientRect();
        return { id: t.id, right: Math.round(r.right), scrolls: t.scrollWidth > t.clientWidth, overflowX: getComputedStyle(t).overflowX };
      }),
    }));
    assert.ok(fit.page <= fit.view, `the page does not scroll sideways (${fit.page} px of content in ${fit.view})`);
    for (const t of fit.tables) {
      assert.ok(t.right <= fit.view, `table ${t.id} ends inside the view (${t.right} px)`);
      if (t.scrolls) assert.equal(t.overflowX, 'auto', `table ${t.id} is wider than the column and scrolls`);
    }
    assert.ok(fit.tables.some((t) => t.scrolls), 'at 400 px at least one table is wider than the column (the test sees the case)');
    await page.screenshot({ path: join(out, 'modelView-400px.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('model view: a histogram of units by active fraction per layer, dead and always-on units in their own colours', async () => {
    const { page, errors } = await withCodes();
    const units = new Map(summary.layers.map((l) => [l.key, l.units]));
    for (const st of codes.stats) {
      const hist = `#stats tr[data-key="${st.key}"] svg.histogram`;
      assert.equal(st.active_histogram.length, 20);
      assert.equal(st.active_histogram.reduce((a, b) => a + b, 0), units.get(st.key), 'every unit in one bin');
      // One bar per bin with units that are neither dead nor always on; one dead bar, one always-on bar when any.
      const plain = st.active_histogram.filter((c, i) => c > (i === 0 ? st.dead_units : 0) + (i === 19 ? st.always_on_units : 0)).length;
      assert.equal(await page.$$eval(`${hist} g.hist-bar.units rect`, (r) => r.length), plain, st.key);
      assert.equal(await page.$$eval(`${hist} g.hist-bar.dead rect`, (r) => r.length), st.dead_units > 0 ? 1 : 0);
      assert.equal(await page.$$eval(`${hist} g.hist-bar.always-on rect`, (r) => r.length), st.always_on_units > 0 ? 1 : 0);
      // Heights are proportional to the counts: one scale for the plain bars (count less the dead / always-on units
      // drawn under them) and the dead and always-on bars.
      const parts = st.active_histogram.map((c, i) => c - (i === 0 ? st.dead_units : 0) - (i === 19 ? st.always_on_units : 0)).filter((c) => c > 0);
      const heightsOf = (cls) => page.$$eval(`${hist} g.hist-bar.${cls} rect`, (rs) => rs.map((r) => Number(r.getAttribute('height'))));
      const pairs = [...(await heightsOf('units')).map((hgt, k) => [hgt, parts[k]])];
      if (st.dead_units > 0) pairs.push([(await heightsOf('dead'))[0], st.dead_units]);
      if (st.always_on_units > 0) pairs.push([(await heightsOf('always-on'))[0], st.always_on_units]);
      const perUnit = pairs.map(([hgt, c]) => hgt / c);
      assert.ok(Math.max(...perUnit) - Math.min(...perUnit) < 0.01 * Math.max(...perUnit), `${st.key}: pixels per unit ${perUnit}`);
      // The mean active fraction line sits at that share of the x axis.
      const x0 = await page.$eval(`${hist} g.x-axis text`, (t) => t.getBoundingClientRect().x + t.getBoundingClientRect().width / 2);
      const ticks = await page.$$eval(`${hist} g.x-axis text`, (ts) => ts.map((t) => [t.textContent, t.getBoundingClientRect().x + t.getBoundingClientRect().width / 2]));
      assert.deepEqual(ticks.map((t) => t[0]), ['0%', '50%', '100%']);
      const mean = await box(page, `${hist} g.mean-active line`);
      const at = (mean.x - x0) / (ticks[2][1] - x0);
      assert.ok(Math.abs(at - st.active_fraction) < 0.02, `${st.key}: mean line at ${at}, active fraction ${st.active_fraction}`);
      // The aria-label says every non-empty bin.
      const label = await page.getAttribute(hist, 'aria-label');
      assert.equal(await page.getAttribute(hist, 'role'), 'img');
      for (const [i, c] of st.active_histogram.entries()) if (c > 0) assert.ok(label.includes(`${pct0(i / 20)}–${pct0((i + 1) / 20)}: ${c} unit`), `${st.key} bin ${i} in "${label}"`);
    }
    assert.deepEqual(errors, []);
    await page.screenshot({ path: join(out, 'modelView-histograms-dark.png'), fullPage: true });
    await page.close();
  });

  test('model view: hovering a histogram bin reads it out', async () => {
    const { page } = await withCodes('vscode-light');
    const st = codes.stats[0];
    const hist = `#stats tr[data-key="${st.key}"] svg.histogram`;
    // The last bin: the always-on units and the others on for 95-100% of the inputs.
    const b = await box(page, `${hist} g.hist-bar.always-on rect`);
    await page.mouse.move(b.x + b.w / 2, b.y + b.h / 2);
    await page.waitForFunction(() => /^\/act1\/Relu: 95%/.test(document.querySelector('#hist-info').textContent));
    assert.equal(await page.textContent('#hist-info'), `${st.key}: 95%–100%: ${st.active_histogram[19]} units (${st.always_on_units} always on) of the layer's units are on for that share of the inputs.`);
    assert.equal(await page.$eval(`${hist} rect.cursor`, (r) => r.getAttribute('visibility')), 'visible');
    // The first bin holds the dead units.
    const d = await box(page, `${hist} g.hist-bar.dead rect`);
    await page.mouse.move(d.x + d.w / 2, d.y + d.h / 2);
    await page.waitForFunction(() => /: 0%–5%/.test(document.querySelector('#hist-info').textContent));
    assert.match(await page.textContent('#hist-info'), new RegExp(`0%–5%: ${st.active_histogram[0]} units \\(${st.dead_units} dead\\)`));
    await page.mouse.move(5, 5);
    await page.waitForFunction(() => /^Hover a histogram/.test(document.querySelector('#hist-info').textContent));
    assert.equal(await page.$eval(`${hist} rect.cursor`, (r) => r.getAttribute('visibility')), 'hidden');
    await page.screenshot({ path: join(out, 'modelView-histograms-light.png'), fullPage: true });
    await page.close();
  });

  test('model view: a layer from a torch.export-style file shows its module and source line first, its node second', async () => {
    // nested_dynamo.summary.json: node out/cli/main.js summary test/fixtures/python/nested_dynamo.onnx --json
    const dyn = fixture('nested_dynamo.summary.json');
    const { page, errors } = await open('modelView');
    await send(page, { type: 'summary', model: 'file:///ws/nested.onnx', fileName: 'nested.onnx', summary: dyn });
    await page.waitForSelector('#layers tbody tr');
    const rows = await page.$$eval('#layers tbody th', (ths) => ths.map((th) => [...th.children].map((c) => `${c.className}=${c.textContent}`)));
    assert.deepEqual(rows[1], ['layer-module=blocks.0.act · nested.py:23', 'layer-node=node_relu_1']);
    assert.deepEqual(rows[3], ['layer-module=(root) · nested.py:55', 'layer-node=node_relu_3']);
    // a file without modules keeps the plain node name
    await send(page, { type: 'summary', model: MODEL, fileName: 'digits.onnx', summary });
    await page.waitForSelector(`#layers tbody tr[data-key="${summary.layers[0].key}"]`);
    assert.equal(await page.$eval('#layers tbody th', (th) => th.innerHTML), `<code>${summary.layers[0].key}</code>`);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('model view: the kept results are listed, newest first, with a note when they are of the previous export', async () => {
    const { page, errors } = await withCodes();
    const items = [
      { kind: 'codes', title: 'Probe codes', at: 1000, line: '360 inputs, 356 regions hit' },
      { kind: 'path', title: 'Boundary density', at: 3000, line: '17 exact crossings over 20 steps' },
      { kind: 'local', title: 'Local complexity', at: 2000, line: 'mean 0.15 units cut within radius 0.005 around 20 inputs' },
    ];
    await send(page, { type: 'results', previousExport: false, items });
    await page.waitForFunction(() => document.querySelectorAll('#results li').length === 3);
    assert.deepEqual(await page.$$eval('#results li', (ls) => ls.map((l) => l.dataset.kind)), ['path', 'local', 'codes']);
    assert.equal(await page.$('#previous-export'), null);
    let r = (await posted(page)).filter((m) => m.type === 'rendered').at(-1);
    assert.equal(r.results, 3);
    assert.equal(r.previousExport, false);
    await send(page, { type: 'results', previousExport: true, items: items.slice(0, 1) });
    await page.waitForFunction(() => !!document.querySelector('#previous-export'));
    assert.match(await page.textContent('#previous-export'), /from the previous export of digits\.onnx/);
    r = (await posted(page)).filter((m) => m.type === 'rendered').at(-1);
    assert.equal(r.results, 1);
    assert.equal(r.previousExport, true);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('model view: a button for every analysis posts its action, by click and by keyboard', async () => {
    const { page } = await withCodes();
    const expected = [
      ['pathDensity', 'Boundary density'],
      ['densityStudy', 'Density study'],
      ['regionMap', 'Region map'],
      ['localComplexity', 'Local complexity'],
      ['scaleActivations', 'Scale activations'],
      ['clusterCodes', 'Cluster codes'],
      ['exportResults', 'Export results'],
    ];
    const buttons = await page.$$eval('.actions vscode-button', (bs) => bs.map((b) => [b.id, b.textContent.trim()]));
    assert.deepEqual(buttons, [['probe', 'Probe codes'], ...expected]);
    for (const [id] of expected) await page.click(`vscode-button#${id}`);
    assert.deepEqual((await posted(page)).filter((m) => m.type === 'run').map((m) => m.action), expected.map(([a]) => a));
    // Keyboard: focus the last button and press Space.
    await page.focus('vscode-button#exportResults');
    await page.keyboard.press('Space');
    assert.equal((await posted(page)).filter((m) => m.type === 'run').at(-1).action, 'exportResults');
    // Busy: every analysis button is disabled.
    await send(page, { type: 'busy', busy: true, label: 'Clustering…' });
    assert.deepEqual(await page.$$eval('.actions vscode-button', (bs) => bs.map((b) => b.hasAttribute('disabled'))), new Array(expected.length + 1).fill(true));
    await page.close();
  });

  test('model view: histogram colours follow the theme', async () => {
    const { page } = await withCodes('vscode-light');
    const seen = {};
    for (const theme of Object.keys(THEMES)) {
      await setTheme(page, theme);
      seen[theme] = await page.evaluate(() => ({
        dead: getComputedStyle(document.querySelector('g.hist-bar.dead rect')).fill,
        tick: getComputedStyle(document.querySelector('svg.histogram g.x-axis text')).fill,
        border: getComputedStyle(document.querySelector('g.hist-bar.dead')).stroke,
      }));
      await page.screenshot({ path: join(out, `modelView-histograms-${theme.replace('vscode-', '')}.png`), fullPage: true });
    }
    assert.equal(seen['vscode-light'].dead, 'rgb(229, 20, 0)');
    assert.equal(seen['vscode-dark'].dead, 'rgb(241, 76, 76)');
    assert.notEqual(seen['vscode-light'].tick, seen['vscode-dark'].tick, 'axis text follows the theme');
    assert.equal(seen['vscode-high-contrast'].border, 'rgb(111, 195, 223)', 'bars outlined in high contrast');
    await page.close();
  });
}
