// The parameter form of the analysis pages (src/webview/params.ts, in the header of src/webview/charts/page.ts) in
// headless Chromium, registered into test/webview/run.mjs's runner. Fed with the recorded results of
// test/webview/fixtures (see analysis.tests.mjs and cluster.tests.mjs for how they were made).
import assert from 'node:assert/strict';
import { join } from 'node:path';

export function register({ test, open, send, posted, out, fixture }) {
  const local = fixture('digits.local.json');
  const path = fixture('digits.path.json');
  const scale = fixture('digits.scale.json');
  const cluster = fixture('digits.cluster.json');
  const slice = fixture('mlp2d.slice-grid.json');
  const head = (kind, fileName = 'digits.onnx') => ({ kind, model: `file:///ws/${fileName}`, fileName });
  // As the host sends them (src/extension/analysisCommands.ts): the values used, the file's sample count, the median distance.
  const localParams = { inputs: '/ws/digits-x.npy', n: local.n, directions: local.directions, radius: local.radius, available: 360, medianDistance: 3.08 };
  const sendLocal = (page, params = localParams) => send(page, { type: 'result', ...head('local'), params, data: { kind: 'local', result: local } });
  const reruns = async (page) => (await posted(page)).filter((m) => m.type === 'rerun');
  const value = (page, id) => page.$eval(`#${id}`, (e) => e.value);
  /** Types into a vscode-textfield as a user does: select its text, type the new one. */
  const retype = async (page, id, text) => {
    await page.click(`#${id}`);
    await page.keyboard.press('Control+A');
    await page.keyboard.type(text);
  };

  test('params form: local complexity shows radius, directions and inputs as run, where the radius comes from, and "n of N inputs"', async () => {
    const { page, errors } = await open('statsView');
    await sendLocal(page);
    await page.waitForSelector('form#params');
    assert.equal(await value(page, 'param-radius'), String(local.radius));
    assert.equal(await value(page, 'param-directions'), String(local.directions));
    assert.equal(await value(page, 'param-n'), String(local.n));
    assert.deepEqual(await page.$$eval('form#params vscode-label', (ls) => ls.map((l) => l.textContent)), ['Radius', 'Directions', 'Inputs']);
    const notes = await page.$$eval('.params-note', (ps) => ps.map((p) => p.textContent));
    assert.deepEqual(notes, ['Default radius: 5 % of the median distance between two inputs (3.08), so 0.154.', `${local.n} of 360 inputs (the first ${local.n}).`]);
    // All inputs: no "n of N".
    await sendLocal(page, { ...localParams, n: 360 });
    assert.deepEqual(await page.$$eval('.params-note', (ps) => ps.map((p) => p.textContent)).then((n) => n.at(-1)), 'All 360 inputs.');
    assert.equal(await page.$('#params-cancel'), null, 'Cancel only while running');
    assert.equal(await page.$('#params-problem'), null, 'no problem to show');
    assert.deepEqual(errors, []);
    await page.screenshot({ path: join(out, 'params-local-dark.png'), fullPage: true });
    await page.close();
  });

  test('params form: Run posts a well-formed rerun with every field of the kind; Enter in a field too', async () => {
    const { page } = await open('statsView');
    await sendLocal(page);
    await page.waitForSelector('#param-radius');
    await retype(page, 'param-radius', '0.3');
    await retype(page, 'param-directions', '8');
    await page.click('vscode-button#params-run');
    assert.deepEqual(await reruns(page), [{ type: 'rerun', kind: 'local', params: { radius: 0.3, directions: 8, n: local.n } }]);
    await retype(page, 'param-n', '12');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.__posted.filter((m) => m.type === 'rerun').length === 2);
    assert.deepEqual((await reruns(page)).at(-1), { type: 'rerun', kind: 'local', params: { radius: 0.3, directions: 8, n: 12 } });
    // Busy: Run is disabled and Cancel posts a cancel; the result comes back with the new values in the fields.
    await send(page, { type: 'busy', ...head('local'), params: { ...localParams, radius: 0.3, directions: 8, n: 12 }, label: 'Local complexity…' });
    assert.equal(await page.$eval('#params-run', (b) => b.hasAttribute('disabled')), true);
    await page.click('vscode-button#params-run', { force: true });
    assert.equal((await reruns(page)).length, 2, 'no Run while running');
    await page.click('vscode-button#params-cancel');
    assert.deepEqual((await posted(page)).filter((m) => m.type === 'cancel'), [{ type: 'cancel' }]);
    await sendLocal(page, { ...localParams, radius: 0.3, directions: 8, n: 12 });
    assert.equal(await value(page, 'param-radius'), '0.3');
    assert.equal(await value(page, 'param-n'), '12');
    await page.close();
  });

  test('params form: a bad value is one sentence under the form, nothing is sent, the result stays; host refusals show there too', async () => {
    const { page, errors } = await open('statsView', { theme: 'vscode-light' });
    await sendLocal(page);
    await page.waitForSelector('#param-radius');
    const bars = await page.$$eval('g.bar rect', (r) => r.length);
    assert.ok(bars > 0);
    await retype(page, 'param-radius', '-1');
    await page.click('vscode-button#params-run');
    assert.equal(await page.textContent('#params-problem'), 'The radius must be a positive number, not -1.');
    assert.equal(await page.$eval('#param-radius', (e) => e.invalid), true, 'the field is marked');
    await retype(page, 'param-radius', 'abc');
    await page.click('vscode-button#params-run');
    assert.equal(await page.textContent('#params-problem'), "Radius: a number, please (not 'abc').");
    await retype(page, 'param-radius', '0.2');
    await retype(page, 'param-n', '500');
    await page.click('vscode-button#params-run');
    assert.equal(await page.textContent('#params-problem'), 'The number of inputs must be at most 360 (the samples in the data file), not 500.');
    assert.deepEqual(await reruns(page), [], 'nothing sent');
    assert.equal(await page.$$eval('g.bar rect', (r) => r.length), bars, 'the result is still shown');
    // What the host refuses (here: a run still going) shows in the same place; the result stays.
    await send(page, { type: 'paramsError', message: 'This analysis is still running: wait for it, or press Cancel first.' });
    assert.equal(await page.textContent('[role=alert]'), 'This analysis is still running: wait for it, or press Cancel first.');
    assert.equal(await page.$$eval('g.bar rect', (r) => r.length), bars);
    assert.equal(await value(page, 'param-n'), '500', 'what was typed stays');
    await page.screenshot({ path: join(out, 'params-error-light.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('params form: unsent edits and the last problem survive a reload (state); a new result shows its own values', async () => {
    const { page } = await open('statsView');
    await sendLocal(page);
    await page.waitForSelector('#param-radius');
    await retype(page, 'param-radius', '0.25');
    await retype(page, 'param-directions', '0');
    await page.click('vscode-button#params-run');
    const state = await page.evaluate(() => window.__state);
    await page.close();
    const again = await open('statsView', { state });
    await again.page.waitForSelector('#param-radius');
    assert.equal(await value(again.page, 'param-radius'), '0.25');
    assert.equal(await value(again.page, 'param-directions'), '0');
    assert.equal(await again.page.textContent('#params-problem'), 'Directions must be between 1 and 10000, not 0.');
    await sendLocal(again.page, { ...localParams, radius: 0.5 });
    assert.equal(await value(again.page, 'param-radius'), '0.5');
    assert.equal(await value(again.page, 'param-directions'), String(local.directions));
    assert.equal(await again.page.$('#params-problem'), null);
    await again.page.close();
  });

  test('params form: each kind has its own fields (path, region map, scaling, clusters) and Run sends them typed', async () => {
    const cases = [
      { page: 'densityView', kind: 'path', params: { inputs: '/ws/digits-x.npy', from: 0, to: 7, steps: 100, exact: true, available: 360 }, result: path, ids: ['param-from', 'param-to', 'param-steps', 'param-exact'], edit: ['param-steps', '40'], sent: { from: 0, to: 7, steps: 40, exact: true } },
      { page: 'regionView', kind: 'slice', file: 'mlp2d.onnx', params: { window: [-3, 3], resolution: slice.grid.resolution, exact: false }, result: slice, extra: { sampleShape: [2] }, ids: ['param-window', 'param-resolution', 'param-exact'], edit: ['param-window', '-1, 2.5'], sent: { window: [-1, 2.5], resolution: slice.grid.resolution, exact: false } },
      { page: 'statsView', kind: 'scale', params: { inputs: '/ws/digits-x.npy', layer: '/act1/Relu', alphas: [0, 0.5, 1, 2, 4], n: 1000, available: 360 }, result: scale, ids: ['param-alphas'], edit: ['param-alphas', '0.5, 1,3'], sent: { alphas: [0.5, 1, 3] } },
      { page: 'clusterView', kind: 'cluster', params: { inputs: '/ws/digits-x.npy', labels: '/ws/digits-y.npy', n: 360, k: 10, minClusterSize: 7, available: 360 }, result: cluster, extra: { sampleShape: [64] }, ids: ['param-n', 'param-k', 'param-minClusterSize'], edit: ['param-k', '12'], sent: { n: 360, k: 12, minClusterSize: 7 } },
    ];
    for (const c of cases) {
      const { page, errors } = await open(c.page);
      await send(page, { type: 'result', ...head(c.kind, c.file), params: c.params, data: { kind: c.kind, result: c.result, ...(c.extra ?? {}) } });
      await page.waitForSelector('form#params');
      assert.deepEqual(await page.$$eval('form#params [id^=param-]', (es) => es.map((e) => e.id)), c.ids, c.kind);
      await retype(page, c.edit[0], c.edit[1]);
      if (c.kind === 'path') await page.click('#param-exact'); // unticked: exact false
      await page.click('vscode-button#params-run');
      const sent = c.kind === 'path' ? { ...c.sent, exact: false } : c.sent;
      assert.deepEqual(await reruns(page), [{ type: 'rerun', kind: c.kind, params: sent }], c.kind);
      assert.deepEqual(errors, [], c.kind);
      await page.screenshot({ path: join(out, `params-${c.kind}-dark.png`), fullPage: false });
      await page.close();
    }
  });

  test('params form: wraps in a 400 px column (no field beyond the right edge) in every theme', async () => {
    const { page } = await open('densityView');
    await page.setViewportSize({ width: 400, height: 700 });
    await send(page, { type: 'result', ...head('path'), params: { inputs: '/ws/digits-x.npy', from: 0, to: 7, steps: 100, exact: true, available: 360 }, data: { kind: 'path', result: path } });
    await page.waitForSelector('form#params');
    for (const theme of ['vscode-light', 'vscode-dark', 'vscode-high-contrast']) {
      await page.evaluate((t) => { document.body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast'); document.body.classList.add(t); }, theme);
      await page.waitForSelector('form#params');
      const got = await page.$eval('form#params', (f) => ({
        overflow: f.scrollWidth - f.clientWidth,
        right: Math.max(...[...f.querySelectorAll('vscode-textfield, vscode-checkbox, vscode-button')].map((e) => e.getBoundingClientRect().right)),
        rows: new Set([...f.querySelectorAll('.param, .param-buttons')].map((e) => Math.round(e.getBoundingClientRect().top))).size,
      }));
      assert.ok(got.overflow <= 1, `${theme}: the form overflows by ${got.overflow} px`);
      assert.ok(got.right <= 400, `${theme}: a control ends at ${got.right} px`);
      assert.ok(got.rows >= 2, `${theme}: the fields wrap onto ${got.rows} rows`);
      await page.screenshot({ path: join(out, `params-path-400-${theme.replace('vscode-', '')}.png`), clip: { x: 0, y: 0, width: 400, height: 260 } });
    }
    await page.close();
  });

  test('cluster view opens on the method that puts most inputs in a cluster of their own label, not on the first one run', async () => {
    const { page } = await open('clusterView');
    await send(page, { type: 'result', ...head('cluster'), params: { n: 360, k: 10, minClusterSize: 7 }, data: { kind: 'cluster', result: cluster, sampleShape: [64] } });
    await page.waitForSelector('#selected');
    // Computed here from the comparison: purity with noise counted as impure.
    const score = Object.fromEntries(cluster.comparison.map((c) => [c.method, c.weighted_purity * (1 - c.noise_share)]));
    const best = Object.keys(score).reduce((b, m) => (score[m] > score[b] ? m : b));
    assert.notEqual(best, cluster.method, 'the recorded run has a better method than its first (HDBSCAN on codes)');
    assert.equal(await page.getAttribute('#selected', 'data-method'), best);
    // Without labels there is no purity: the first method.
    const { page: p2 } = await open('clusterView');
    const noLabels = { ...cluster, labels_note: null, comparison: cluster.comparison.map((c) => ({ ...c, weighted_purity: null, nmi: null })) };
    await send(p2, { type: 'result', ...head('cluster'), params: {}, data: { kind: 'cluster', result: noLabels, sampleShape: [64] } });
    await p2.waitForSelector('#selected');
    assert.equal(await p2.getAttribute('#selected', 'data-method'), cluster.method);
    await p2.close();
    await page.close();
  });
}
