// The cluster page (clusterView, kind 'cluster') in headless Chromium, registered into test/webview/run.mjs's runner.
// Fed with digits.cluster.json, recorded by test/webview/make-fixtures.mjs from
//   node out/cli/main.js cluster examples/digits/digits.onnx --inputs examples/digits/digits-x.npy --labels examples/digits/digits-y.npy --json
// and digits.cluster-thumbnails.json: the exemplar digits as 8x8 PNG data URLs, made there with pngjs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { box, exportAll, fmt, rgb } from './helpers.mjs';

export function register({ test, open, send, posted, setTheme, THEMES, out, fixture }) {
  const cluster = fixture('digits.cluster.json');
  const thumbnails = fixture('digits.cluster-thumbnails.json');
  // The view opens on the method that puts most inputs in a cluster of their own label (purity x (1 - noise share)).
  const score = (c) => c.weighted_purity * (1 - c.noise_share);
  const opening = cluster.comparison.filter((c) => c.weighted_purity !== null).reduce((b, c) => (score(c) > score(b) ? c : b)).method;
  const head = { kind: 'cluster', model: 'file:///ws/digits.onnx', fileName: 'digits.onnx' };
  const params = { inputs: '/ws/digits-x.npy', labels: '/ws/digits-y.npy', k: 10, minClusterSize: 7 };
  const sendCluster = (page, withThumbs = true) =>
    send(page, { type: 'result', ...head, params, data: { kind: 'cluster', result: cluster, sampleShape: [64], ...(withThumbs ? { thumbnails } : {}) } });
  const rendered = async (page) => (await posted(page)).filter((m) => m.type === 'rendered').at(-1);
  const pct = (x) => `${(100 * x).toFixed(1)}%`;
  // Bars drawn for a method: the majority part and the rest of each cluster, where non-zero.
  const barsOf = (m) => m.clusters.reduce((a, c) => a + (c.size * c.purity > 0 ? 1 : 0) + (c.size * (1 - c.purity) > 0 ? 1 : 0), 0);
  const rowsOf = (page, sel) => page.$$eval(`${sel} tbody tr`, (rs) => rs.map((r) => [...r.children].map((c) => c.textContent.trim())));

  test('cluster view: the activation layer is named by its module first when the file tells it', async () => {
    const { page, errors } = await open('clusterView');
    const code_layers = cluster.code_layers.map((l, i) => ({ ...l, module: `block.${i}.act`, source: { file: 'train.py', line: 30 + i } }));
    await send(page, { type: 'result', ...head, params, data: { kind: 'cluster', result: { ...cluster, code_layers }, sampleShape: [64] } });
    await page.waitForSelector('p.meta');
    const last = cluster.code_layers.length - 1;
    assert.match(await page.textContent('p.meta'), new RegExp(`activations: block\\.${last}\\.act · train\\.py:${30 + last} \\(${cluster.activation_layer.key.replace(/[/.]/g, '\\$&')}\\) \\(Relu, 32 values\\)`));
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('cluster view: every method side by side, the opening method\'s clusters with thumbnails, baselines\' top examples', async () => {
    const { page, errors } = await open('clusterView');
    await sendCluster(page);
    await page.waitForSelector('#clusters tbody tr');
    assert.equal(await page.textContent('h1'), 'Clusters: digits.onnx');
    const first = cluster.methods[opening];
    assert.deepEqual(await rendered(page), { type: 'rendered', view: 'result', kind: 'cluster', items: first.clusters.length, marks: barsOf(first) });
    // The comparison: one row per method with its numbers.
    const cmp = await rowsOf(page, '#methods');
    assert.deepEqual(cmp.map((r) => r.slice(1)), cluster.comparison.map((c) => [String(c.n_clusters), pct(c.weighted_purity), fmt(c.nmi), pct(c.noise_share), fmt(c.seconds)]));
    assert.deepEqual(await page.$$eval('#methods button[aria-pressed=true]', (bs) => bs.map((b) => b.dataset.method)), [opening]);
    // The selected method's clusters: size, majority label, purity, exemplars (medoid first) as the recorded digits.
    const rows = await rowsOf(page, '#clusters');
    assert.deepEqual(rows.map((r) => r.slice(0, 4)), first.clusters.map((c) => [String(c.id), String(c.size), String(c.majority_label), pct(c.purity)]));
    for (const c of first.clusters) {
      const imgs = await page.$$eval(`#clusters tr[data-id="${c.id}"] img.thumb`, (is) => is.map((i) => [i.getAttribute('src'), i.alt, i.naturalWidth]));
      assert.deepEqual(imgs.map((i) => i[0]), c.exemplars.map((i) => thumbnails[i]));
      assert.equal(imgs[0][1], `input ${c.medoid} (medoid)`);
      assert.ok(imgs.every((i) => i[2] === 8), 'the 8x8 PNGs decode');
    }
    // Baselines: every PCA and NMF direction with its top examples.
    for (const k of ['pca', 'nmf']) {
      const heads = await page.$$eval(`[data-baseline=${k}] li .direction-head`, (hs) => hs.map((x) => x.textContent));
      assert.deepEqual(heads, cluster.baselines[k].clusters.map((c) => `${k.toUpperCase()} ${c.id} · label ${c.majority_label} (${pct(c.purity)})`));
      const ex = await page.$$eval(`[data-baseline=${k}] li`, (ls) => ls.map((l) => [...l.querySelectorAll('figure')].map((f) => Number(f.dataset.index))));
      assert.deepEqual(ex, cluster.baselines[k].clusters.map((c) => c.exemplars));
    }
    assert.match(await page.textContent('.meta'), new RegExp(`^${cluster.n} inputs .* codes: ${cluster.code_bits} bits of 3 layers, ${cluster.varying_bits} vary`));
    assert.deepEqual(errors, []);
    await page.screenshot({ path: join(out, 'clusterView-dark.png'), fullPage: true });
    await page.close();
  });

  test('cluster view: the method selector and the table rows switch the method; kept after a reload', async () => {
    const { page } = await open('clusterView');
    await sendCluster(page);
    await page.waitForSelector('vscode-single-select#method');
    assert.equal(await page.getByRole('combobox', { name: 'Method' }).count(), 1, 'the selector has an accessible name');
    // The selector (vscode-elements): open it and click an option.
    await page.click('vscode-single-select#method');
    await page.getByRole('option', { name: 'k-medoids on activations (Euclidean)' }).click();
    await page.waitForSelector('#selected[data-method=kmedoids_activations]');
    const km = cluster.methods.kmedoids_activations;
    // Its parameters at 6 significant digits (the cost is a float64 sum).
    assert.match(await page.textContent('#selected p.meta'), new RegExp(` · k ${km.params.k}, seed ${km.params.seed}, cost ${Number(km.params.cost.toPrecision(6))} · `));
    assert.deepEqual((await rowsOf(page, '#clusters')).map((r) => r.slice(0, 4)), km.clusters.map((c) => [String(c.id), String(c.size), String(c.majority_label), pct(c.purity)]));
    assert.deepEqual(await rendered(page), { type: 'rendered', view: 'result', kind: 'cluster', items: km.clusters.length, marks: barsOf(km) });
    assert.deepEqual(await page.$$eval('#methods button[aria-pressed=true]', (bs) => bs.map((b) => b.dataset.method)), ['kmedoids_activations']);
    // A row of the comparison, by click: NMF's directions, with a score column.
    await page.click('#methods button[data-method=nmf]');
    await page.waitForSelector('#selected[data-method=nmf]');
    const nmf = cluster.methods.nmf;
    assert.deepEqual((await rowsOf(page, '#clusters')).map((r) => [r[0], r[4]]), nmf.clusters.map((c) => [String(c.id), fmt(c.score)]));
    assert.equal(await page.$eval('vscode-single-select#method', (s) => s.value), 'nmf', 'the selector follows');
    // The selector by keyboard: focus it, ArrowDown opens the list, ArrowUp to the option before NMF (PCA), Enter.
    await page.focus('vscode-single-select#method');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#selected[data-method=pca]');
    // A table row by keyboard: focus a method button, Enter.
    await page.focus('#methods button[data-method=hdbscan_activations]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#selected[data-method=hdbscan_activations]');
    const hd = cluster.methods.hdbscan_activations;
    assert.match(await page.textContent('#clusters caption'), new RegExp(`${pct(hd.noise_share).replace('.', '\\.')} of the inputs are noise`));
    const state = await page.evaluate(() => window.__state);
    assert.equal(state.ui.method, 'hdbscan_activations');
    await page.close();
    const again = await open('clusterView', { state });
    await again.page.waitForSelector('#selected[data-method=hdbscan_activations]');
    assert.equal((await rendered(again.page)).items, hd.clusters.length);
    assert.equal((await posted(again.page)).filter((m) => m.type !== 'ready' && m.type !== 'rendered').length, 0, 'nothing asked of the host');
    // A new run of the same analysis keeps the chosen method; one without that method falls back to the first.
    await sendCluster(again.page);
    await again.page.waitForSelector('#selected[data-method=hdbscan_activations]');
    const { hdbscan_activations: _dropped, ...others } = cluster.methods;
    await send(again.page, { type: 'result', ...head, params, data: { kind: 'cluster', result: { ...cluster, methods: others }, sampleShape: [64] } });
    await again.page.waitForSelector(`#selected[data-method=${cluster.method}]`);
    await again.page.close();
  });

  test('cluster view: hover and the keyboard read a cluster; indices without thumbnails; export', async () => {
    // On the first method run (HDBSCAN on codes: its clusters have a score), as a user who picked it before.
    const { page } = await open('clusterView', { theme: 'vscode-light', state: { kind: 'cluster', ui: { method: cluster.method } } });
    await sendCluster(page, false);
    await page.waitForSelector('#clusters tbody tr');
    const first = cluster.methods[cluster.method];
    assert.equal(await page.$$eval('img.thumb', (i) => i.length), 0, 'no images without thumbnails');
    assert.deepEqual(await page.$$eval(`#clusters tr[data-id="${first.clusters[0].id}"] figcaption`, (f) => f.map((x) => Number(x.textContent))), first.clusters[0].exemplars);
    // Hover the last cluster's bar.
    const n = first.clusters.length;
    const last = first.clusters[n - 1];
    const bars = await page.$$eval('#selected g.bar.s0 rect', (rs) => rs.map((r) => { const b = r.getBoundingClientRect(); return { x: b.x + b.width / 2, y: b.y + b.height / 2 }; }));
    await page.mouse.move(bars.at(-1).x, bars.at(-1).y);
    await page.waitForFunction((id) => document.querySelector('#info').textContent.startsWith(`cluster ${id}:`), last.id);
    assert.equal(await page.textContent('#info'), `cluster ${last.id}: ${last.size} inputs, majority label ${last.majority_label} (${pct(last.purity)}), medoid ${last.medoid}, score ${fmt(last.score)}`);
    assert.equal(await page.$eval('#clusters tr.current', (r) => r.dataset.id), String(last.id));
    await page.focus('svg.chart');
    await page.keyboard.press('Home');
    assert.match(await page.getAttribute('svg.chart', 'aria-valuetext'), new RegExp(`^cluster ${first.clusters[0].id}: ${first.clusters[0].size} inputs`));
    const ex = await exportAll(page);
    assert.deepEqual(ex.json, cluster, 'JSON export is the result');
    assert.equal((ex.svg.match(/<rect/g) ?? []).length >= barsOf(first), true, 'the bars are in the SVG');
    await page.screenshot({ path: join(out, 'clusterView-light.png'), fullPage: true });
    await page.close();
  });

  test('cluster view: theme switch', async () => {
    const { page } = await open('clusterView', { theme: 'vscode-light' });
    await sendCluster(page);
    await page.waitForSelector('#selected g.bar.s0 rect');
    const seen = {};
    for (const theme of Object.keys(THEMES)) {
      await setTheme(page, theme);
      await page.waitForSelector('#selected g.bar.s0 rect');
      seen[theme] = await page.evaluate(() => ({
        bar: getComputedStyle(document.querySelector('#selected g.bar.s0 rect')).fill,
        thumb: getComputedStyle(document.querySelector('figure.exemplar:not(.medoid) img.thumb')).borderTopColor,
        bg: getComputedStyle(document.body).backgroundColor,
      }));
      await page.screenshot({ path: join(out, `clusterView-${theme.replace('vscode-', '')}.png`), fullPage: true });
    }
    assert.equal(rgb(seen['vscode-light'].bar), 'rgb(26, 133, 255)');
    assert.equal(rgb(seen['vscode-dark'].bar), 'rgb(55, 148, 255)');
    assert.equal(seen['vscode-high-contrast'].thumb, 'rgb(111, 195, 223)');
    assert.equal(seen['vscode-high-contrast'].bg, 'rgb(0, 0, 0)');
    await page.close();
  });
}
