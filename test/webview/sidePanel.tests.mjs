// The side panel page (out/webview/sidePanelView.js) alone in Chromium, fed with states built from recorded engine
// results (fixtures digits.summary.json / digits.codes.json): rendering, the rendered ack, the buttons' run actions
// (mouse and keyboard), state restore, missing / error / restricted / busy, the three theme kinds.
// Registered by test/webview/run.mjs, which owns the browser and the harness.
import assert from 'node:assert/strict';
import { join } from 'node:path';

export function register({ test, open, send, posted, setTheme, THEMES, out, fixture }) {
  const digits = fixture('digits.summary.json');
  const codes = fixture('digits.codes.json');
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const stat = (k) => codes.stats.find((s) => s.key === k);

  /** What the host sends for train.py after a re-export: the previous export had 10 more distinct codes per layer. */
  function fullState() {
    return {
      status: 'ready',
      source: { fileName: 'train.py', how: 'server' },
      model: { uri: 'file:///ws/digits/digits.onnx', fileName: 'digits.onnx', relPath: 'digits/digits.onnx', mtimeMs: 1_700_000_000_000 },
      summary: { opset: digits.opset, producer: digits.producer, layers: digits.layers.length, totalUnits: digits.total_units, unsupported: 0 },
      layers: digits.layers.map((l) => ({ key: l.key, op: l.op, units: l.units, dead: stat(l.key).dead_units, alwaysOn: stat(l.key).always_on_units, distinct: stat(l.key).distinct_codes, active: stat(l.key).active_fraction })),
      analysis: { n: codes.n, inputsNote: codes.inputs_note, distinct: codes.distinct_codes, dead: sum(codes.stats.map((s) => s.dead_units)), alwaysOn: sum(codes.stats.map((s) => s.always_on_units)), totalUnits: digits.total_units, at: 1_700_000_000_000 },
      delta: {
        at: 1_700_000_000_000,
        analysed: true,
        distinct: [codes.distinct_codes + 4, codes.distinct_codes],
        totalUnits: [digits.total_units, digits.total_units],
        rows: codes.stats.map((s) => ({ key: s.key, units: [48, 48], distinct: [s.distinct_codes + 10, s.distinct_codes], dead: [s.dead_units - 1, s.dead_units], alwaysOn: [s.always_on_units, s.always_on_units] })),
      },
      checkpoints: [
        { fileName: 'digits_ep1.onnx', current: false, mtimeMs: 1, layers: 3, units: 112, n: 360, distinct: 200, dead: 40, alwaysOn: 9 },
        { fileName: 'digits_ep2.onnx', current: false, mtimeMs: 2, layers: 3, units: 112 },
        { fileName: 'digits.onnx', current: true, mtimeMs: 3, layers: 3, units: 112, n: 360, distinct: codes.distinct_codes, dead: 21, alwaysOn: 4 },
      ],
      refreshes: 1,
      lastRefresh: { at: 1_700_000_000_000, fileName: 'digits.onnx', reprobed: true },
      autoRefresh: true,
    };
  }
  const lastRendered = async (page) => (await posted(page)).filter((m) => m.type === 'rendered').at(-1);
  const cells = (page, sel) => page.$$eval(`${sel} tbody tr`, (rs) => rs.map((r) => [...r.children].map((c) => c.textContent)));

  test('side panel: a layer with a module (torch.export-style file) is named by it first in the change table', async () => {
    const { page, errors } = await open('sidePanelView');
    const st = fullState();
    st.delta.rows = st.delta.rows.map((r, i) => ({ ...r, module: `block.${i}.act`, source: { file: 'train.py', line: 30 + i } }));
    await send(page, { type: 'state', state: st });
    await page.waitForSelector('#delta-table tbody tr');
    const heads = await page.$$eval('#delta-table tbody th', (ths) => ths.map((th) => th.textContent.trim()));
    assert.deepEqual(heads, codes.stats.map((s, i) => `block.${i}.act · train.py:${30 + i} ${s.key}`));
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('side panel at its default width (300 px): every table fits, with module names and long node names', async () => {
    // VS Code opens the side bar 300 px wide; the Layers table had cut its last header ("regions") to "regi".
    const { page, errors } = await open('sidePanelView', { width: 300 });
    const st = fullState();
    const named = (r, i) => ({ ...r, key: `/features/features.${i}/block/Relu_${i}`, module: `features.${i}.block.act`, source: { file: 'train.py', line: 30 + i } });
    st.layers = st.layers.map((l, i) => ({ ...named(l, i), crossings: 5.5 + i }));
    st.delta.rows = st.delta.rows.map(named);
    await send(page, { type: 'state', state: st });
    await page.waitForSelector('#delta-table tbody tr');
    await page.screenshot({ path: join(out, 'sidePanelView-300px.png'), fullPage: true });
    const fit = await page.$$eval('table.grid', (ts) => ts.map((t) => ({ id: t.id, table: Math.ceil(t.getBoundingClientRect().width), column: t.parentElement.clientWidth, heads: [...t.tHead.rows[0].cells].map((c) => ({ text: c.textContent, cut: c.scrollWidth > c.clientWidth })) })));
    assert.deepEqual(fit.map((t) => t.id), ['layers', 'delta-table', 'series-table']);
    for (const t of fit) {
      assert.ok(t.table <= t.column, `table ${t.id} is ${t.table} px wide in a ${t.column} px column`);
      assert.deepEqual(t.heads.filter((c) => c.cut), [], `no header of ${t.id} is cut`);
    }
    assert.deepEqual(fit[0].heads.map((c) => c.text), ['layer', 'units', 'dead', 'on', 'regions', 'cross.']);
    const names = await page.$$eval('#layers tbody th, #delta-table tbody th', (ths) => ths.map((th) => ({ text: th.textContent, cut: th.scrollWidth > th.clientWidth, above: th.getBoundingClientRect().bottom <= th.nextElementSibling.getBoundingClientRect().top + 0.5 })));
    assert.equal(names.length, 6);
    for (const n of names) assert.deepEqual(n, { text: n.text, cut: false, above: true }, 'each layer named in full on a line above its numbers');
    assert.equal(names[0].text, 'features.0.block.act · train.py:30 /features/features.0/block/Relu_0');
    // A wide panel keeps one row per layer.
    await page.setViewportSize({ width: 700, height: 760 });
    await page.waitForFunction(() => { const th = document.querySelector('#layers tbody th'); return th.getBoundingClientRect().top === th.nextElementSibling.getBoundingClientRect().top; });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('side panel: ready first, a hint when no model, then the model of train.py with its analysis', async () => {
    const { page, errors } = await open('sidePanelView');
    assert.deepEqual((await posted(page))[0], { type: 'ready' });
    assert.match(await page.textContent('#app'), /Open a PyTorch training script/);
    assert.deepEqual(await lastRendered(page), { type: 'rendered', view: 'empty', layers: 0, deltaRows: 0, checkpoints: 0 });
    await send(page, { type: 'state', state: fullState() });
    await page.waitForSelector('#layers tbody tr');
    assert.equal(await page.textContent('h1'), 'digits.onnx');
    assert.match(await page.textContent('.source'), /exported by train\.py/);
    assert.match(await page.textContent('.meta'), /opset 14 · pytorch .* 112 units in 3 layers/);
    assert.equal(await page.textContent('#distinct'), String(codes.distinct_codes));
    assert.match(await page.textContent('#analysis'), /regions hit by 360 inputs · dead 18\.8% · always on 3\.6% of the units/);
    const layers = await cells(page, '#layers');
    assert.deepEqual(layers.map((r) => r[0]), digits.layers.map((l) => l.key));
    codes.stats.forEach((s, i) => assert.deepEqual(layers[i].slice(1), [String(digits.layers[i].units), String(s.dead_units), String(s.always_on_units), String(s.distinct_codes)]));
    const delta = await cells(page, '#delta-table');
    assert.equal(delta.length, 3);
    assert.deepEqual(delta[0], ['/act1/Relu', '48 ±0', `${stat('/act1/Relu').distinct_codes} -10`, `${stat('/act1/Relu').dead_units} +1`, `${stat('/act1/Relu').always_on_units} ±0`]);
    assert.ok(await page.$eval('#delta-table tbody tr td:nth-child(3)', (td) => td.classList.contains('down')), 'fewer codes is marked as down');
    assert.match(await page.textContent('#delta-total'), new RegExp(`regions hit ${codes.distinct_codes} -4 · units 112 ±0`));
    const series = await cells(page, '#series-table');
    assert.deepEqual(series.map((r) => r[0]), ['digits_ep1', 'digits_ep2', 'digits'], 'file names without the .onnx they share');
    assert.deepEqual(series[1], ['digits_ep2', '112', '–', '–', '–'], 'a checkpoint not probed yet');
    assert.match(await page.getAttribute('#series-table tbody tr:nth-child(2)', 'title'), /^digits_ep2\.onnx: /, 'the whole name in the tooltip');
    assert.equal(await page.$eval('#series-table tbody tr:nth-child(3)', (r) => r.getAttribute('aria-current')), 'true');
    assert.equal(await page.textContent('#action-probeSeries'), 'Probe all', 'not every checkpoint was probed');
    assert.match(await page.textContent('#refreshed'), /re-export of digits\.onnx .* with the last probe inputs/);
    assert.deepEqual(await lastRendered(page), { type: 'rendered', view: 'model', layers: 3, deltaRows: 3, checkpoints: 3 });
    assert.deepEqual(errors, []);
    await page.screenshot({ path: join(out, 'sidePanelView-dark.png'), fullPage: true });
    await page.close();
  });

  test('side panel: buttons post run actions (mouse and keyboard); busy disables them', async () => {
    const { page } = await open('sidePanelView');
    await send(page, { type: 'state', state: fullState() });
    await page.waitForSelector('#action-probeCodes');
    for (const a of ['probeCodes', 'openModel', 'refresh', 'probeSeries']) await page.click(`#action-${a}`);
    const runs = () => posted(page).then((ms) => ms.filter((m) => m.type === 'run').map((m) => m.action));
    assert.deepEqual(await runs(), ['probeCodes', 'openModel', 'refresh', 'probeSeries']);
    await page.click('h1');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'action-probeCodes');
    await page.keyboard.press('Enter');
    assert.equal((await runs()).length, 5);
    await send(page, { type: 'state', state: { ...fullState(), busy: 'Re-probing digits.onnx…' } });
    assert.match(await page.textContent('.busy'), /Re-probing digits\.onnx…/);
    assert.equal(await page.$eval('#action-probeCodes', (b) => b.hasAttribute('disabled')), true);
    assert.equal(await page.$eval('#action-refresh', (b) => b.hasAttribute('disabled')), true);
    await page.close();
  });

  test('side panel: the state is restored after a reload', async () => {
    const { page } = await open('sidePanelView');
    await send(page, { type: 'state', state: fullState() });
    await page.waitForSelector('#series-table tbody tr');
    const state = await page.evaluate(() => window.__state);
    assert.equal(state.model.fileName, 'digits.onnx');
    await page.close();
    const again = await open('sidePanelView', { state });
    await again.page.waitForSelector('#delta-table tbody tr');
    assert.equal(await again.page.$$eval('#layers tbody tr', (r) => r.length), 3);
    assert.deepEqual(await lastRendered(again.page), { type: 'rendered', view: 'model', layers: 3, deltaRows: 3, checkpoints: 3 });
    await again.page.close();
  });

  test('side panel: not exported yet, errors as text, restricted mode, no analysis yet', async () => {
    const { page } = await open('sidePanelView', { theme: 'vscode-light' });
    const base = { layers: [], checkpoints: [], refreshes: 0, autoRefresh: true, source: { fileName: 'train.py', how: 'export-call' } };
    const model = { uri: 'file:///ws/net.onnx', fileName: 'net.onnx', relPath: 'net.onnx', mtimeMs: 0 };
    await send(page, { type: 'state', state: { ...base, status: 'missing', model } });
    assert.match(await page.textContent('.notice'), /Not exported yet: run the script to write net\.onnx/);
    assert.match(await page.textContent('.source'), /torch\.onnx\.export path of train\.py/);
    assert.equal((await lastRendered(page)).view, 'missing');
    await send(page, { type: 'state', state: { ...base, status: 'error', model, message: 'net.onnx is not an ONNX model <b>x</b>' } });
    assert.equal(await page.textContent('[role=alert]'), 'net.onnx is not an ONNX model <b>x</b>');
    assert.equal(await page.$('b'), null);
    assert.equal((await lastRendered(page)).view, 'error');
    await send(page, { type: 'state', state: { ...base, status: 'restricted', model } });
    assert.match(await page.textContent('.notice'), /Restricted Mode/);
    const s = fullState();
    await send(page, { type: 'state', state: { ...s, analysis: undefined, delta: undefined, checkpoints: [], lastRefresh: undefined, autoRefresh: false, layers: s.layers.map(({ key, op, units }) => ({ key, op, units })) } });
    assert.match(await page.textContent('#app'), /No analysis of this export yet/);
    assert.match(await page.textContent('#app'), /Automatic refresh is off/);
    assert.deepEqual(await page.$$eval('#layers thead th', (t) => t.map((x) => x.textContent)), ['layer', 'units']);
    assert.deepEqual(await lastRendered(page), { type: 'rendered', view: 'model', layers: 3, deltaRows: 0, checkpoints: 0 });
    await page.close();
  });

  // The model view's side of polytopeLens.openLayer (hover link / CodeLens): select and report the layer.
  test('model view: a highlight selects the layer row, even when it arrives before the summary', async () => {
    const { page } = await open('modelView');
    await send(page, { type: 'highlight', layer: '/block/block.1/Relu', nodes: ['/block/block.0/Gemm'] });
    assert.equal((await posted(page)).filter((m) => m.type === 'highlighted').length, 0, 'nothing to select yet');
    await send(page, { type: 'summary', model: 'file:///ws/digits.onnx', fileName: 'digits.onnx', summary: digits });
    await page.waitForSelector('#layers tr.highlight');
    assert.equal(await page.$eval('#layers tr.highlight', (r) => r.dataset.key), '/block/block.1/Relu');
    assert.equal(await page.$eval('#layers tr.highlight', (r) => r.getAttribute('aria-current')), 'true');
    assert.deepEqual((await posted(page)).filter((m) => m.type === 'highlighted'), [{ type: 'highlighted', layer: '/block/block.1/Relu' }]);
    await send(page, { type: 'codes', codes });
    assert.equal(await page.$$eval('tr.highlight', (r) => r.length), 2, 'the layers row and the stats row');
    assert.equal((await posted(page)).filter((m) => m.type === 'highlighted').length, 1, 'reported once per request');
    await send(page, { type: 'highlight', nodes: ['/head/Gemm'] });
    assert.deepEqual((await posted(page)).filter((m) => m.type === 'highlighted').at(-1), { type: 'highlighted', layer: null });
    assert.equal(await page.$$eval('tr.highlight', (r) => r.length), 0);
    await page.close();
  });

  test('side panel: theme switch light / dark / high contrast', async () => {
    const { page } = await open('sidePanelView');
    await send(page, { type: 'state', state: fullState() });
    await page.waitForSelector('#delta-table tbody tr');
    const seen = {};
    for (const theme of Object.keys(THEMES)) {
      await setTheme(page, theme);
      seen[theme] = await page.evaluate(() => ({ bg: getComputedStyle(document.body).backgroundColor, border: getComputedStyle(document.querySelector('#layers td')).borderBottomColor }));
      await page.screenshot({ path: join(out, `sidePanelView-${theme.replace('vscode-', '')}.png`), fullPage: true });
    }
    assert.equal(seen['vscode-light'].bg, 'rgb(255, 255, 255)');
    assert.equal(seen['vscode-dark'].bg, 'rgb(31, 31, 31)');
    assert.equal(seen['vscode-high-contrast'].border, 'rgb(111, 195, 223)');
    await page.close();
  });
}
