// The density study in densityView (kind 'study'), in headless Chromium, registered into test/webview/run.mjs's
// runner. Fed with digits.study.json, recorded by test/webview/make-fixtures.mjs from
//   node out/cli/main.js density-study examples/digits/digits.onnx --inputs examples/digits/digits-x.npy --json
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { box, exportAll, fmt, rgb } from './helpers.mjs';

export function register({ test, open, send, posted, setTheme, THEMES, out, fixture }) {
  const study = fixture('digits.study.json');
  const W = study.window;
  const head = { kind: 'study', model: 'file:///ws/digits.onnx', fileName: 'digits.onnx' };
  const params = { inputs: '/ws/digits-x.npy', pairs: 50, permutations: study.permutations, studyWindow: W };
  const sendStudy = (page) => send(page, { type: 'result', ...head, params, data: { kind: 'study', result: study } });
  const rendered = async (page) => (await posted(page)).filter((m) => m.type === 'rendered').at(-1);
  const signed = (k) => (k > 0 ? `+${k}` : k < 0 ? `−${-k}` : '0');
  const groups = [['different_class', 'different class'], ['same_class', 'same-class control']];

  test('density study: both aligned profiles, the class-change line, elsewhere levels, the test in words, the table', async () => {
    const { page, errors } = await open('densityView');
    await sendStudy(page);
    await page.waitForSelector('svg.chart g.profile-dot circle');
    assert.equal(await page.textContent('h1'), 'Density study: digits.onnx');
    const dots = [...study.different_class.aligned_profile, ...study.same_class.aligned_profile].filter(Number.isFinite).length;
    assert.equal(dots, 2 * (2 * W + 1));
    assert.deepEqual(await rendered(page), { type: 'rendered', view: 'result', kind: 'study', items: dots, marks: 3 });
    // Each group's dots sit at its values: the higher the value, the higher the dot (smaller cy).
    for (const [key, cls] of [['different_class', 's0'], ['same_class', 's1']]) {
      const cy = await page.$$eval(`g.profile-dot.${cls} circle`, (cs) => cs.map((c) => Number(c.getAttribute('cy'))));
      const v = study[key].aligned_profile;
      assert.equal(cy.length, v.length);
      const hi = v.indexOf(Math.max(...v));
      const lo = v.indexOf(Math.min(...v));
      assert.equal(cy.indexOf(Math.min(...cy)), hi, `${key}: highest value, highest dot`);
      assert.equal(cy.indexOf(Math.max(...cy)), lo, `${key}: lowest value, lowest dot`);
    }
    // The recorded study finds no rise near the class change (p about 0.9): the sentence says so, with the numbers.
    const d = study.different_class;
    assert.ok(d.p_value >= 0.05, 'the recorded result is a negative one');
    const verdict = await page.textContent('#verdict');
    assert.match(verdict, new RegExp(`^No evidence that the density rises within ${W} steps of the class change`));
    assert.ok(verdict.includes(`${fmt(d.ratio)}×, p = ${fmt(d.p_value, 2)}`), verdict);
    assert.ok(verdict.includes(`control ${fmt(study.same_class.ratio)}×, p = ${fmt(study.same_class.p_value, 2)}`), verdict);
    const rows = await page.$$eval('#study-table tbody tr', (rs) => rs.map((r) => [...r.children].map((c) => c.textContent)));
    assert.deepEqual(rows, groups.map(([k, name]) => [name, String(study[k].pairs), fmt(study[k].near_mean), fmt(study[k].elsewhere_mean), fmt(study[k].ratio), fmt(study[k].effect_size), fmt(study[k].p_value)]));
    assert.match(await page.textContent('g.elsewhere-label.s0 text'), new RegExp(`elsewhere ${fmt(d.elsewhere_mean)}`));
    assert.match(await page.textContent('.meta'), new RegExp(`window ±${W} steps · classes from the model's predictions · ${study.permutations} sign-flip permutations`));
    assert.deepEqual(errors, []);
    await page.screenshot({ path: join(out, 'densityStudy-dark.png'), fullPage: true });
    await page.close();
  });

  test('density study: hover and the keyboard give both groups\' values at an offset; cursor kept in the state', async () => {
    const { page } = await open('densityView');
    await sendStudy(page);
    await page.waitForSelector('svg.chart g.profile-dot circle');
    // Offset 0 is category W: hover the class-change line.
    const line = await box(page, 'g.class-change line');
    const chart = await box(page, 'svg.chart');
    await page.mouse.move(line.x + line.w / 2 + 2, chart.y + chart.h / 2);
    await page.waitForFunction(() => document.querySelector('.info-step')?.textContent === 'Offset 0');
    const values = await page.$$eval('#info li', (ls) => ls.map((l) => [l.dataset.group, l.querySelector('.info-value').textContent]));
    assert.deepEqual(values, groups.map(([k]) => [k, fmt(study[k].aligned_profile[W])]));
    // Keyboard: Home is offset -W, ArrowRight steps.
    await page.focus('svg.chart');
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getAttribute('svg.chart', 'aria-valuenow'), '1');
    assert.equal(await page.textContent('.info-step'), `Offset ${signed(1 - W)}`);
    assert.match(await page.getAttribute('svg.chart', 'aria-valuetext'), new RegExp(`^offset ${signed(1 - W)}: different class ${fmt(study.different_class.aligned_profile[1])}`));
    const state = await page.evaluate(() => window.__state);
    assert.equal(state.kind, 'study');
    assert.equal(state.ui.cursor, 1);
    await page.close();
    const again = await open('densityView', { state });
    await again.page.waitForSelector('svg.chart g.profile-dot circle');
    assert.equal(await again.page.getAttribute('svg.chart', 'aria-valuenow'), '1', 'cursor restored');
    assert.equal(await again.page.textContent('.info-step'), `Offset ${signed(1 - W)}`);
    await again.page.close();
  });

  test('density study: export SVG / PNG / JSON; theme switch recolours the profiles', async () => {
    const { page } = await open('densityView', { theme: 'vscode-light' });
    await sendStudy(page);
    await page.waitForSelector('svg.chart g.profile-dot circle');
    const ex = await exportAll(page);
    assert.deepEqual(ex.json, study, 'JSON export is the result');
    assert.equal((ex.svg.match(/<circle/g) ?? []).length, 2 * (2 * W + 1), 'every dot in the SVG');
    assert.match(ex.svg, /<path[^>]*stroke="rgb\(26, 133, 255\)"/, 'the different-class line in the light theme colour');
    const strokes = {};
    for (const theme of Object.keys(THEMES)) {
      await setTheme(page, theme);
      await page.waitForSelector('g.profile.s0 path');
      strokes[theme] = await page.evaluate(() => ({ line: getComputedStyle(document.querySelector('g.profile.s0 path')).stroke, text: getComputedStyle(document.querySelector('#verdict')).color }));
      await page.screenshot({ path: join(out, `densityStudy-${theme.replace('vscode-', '')}.png`), fullPage: true });
    }
    assert.equal(rgb(strokes['vscode-light'].line), 'rgb(26, 133, 255)');
    assert.equal(rgb(strokes['vscode-dark'].line), 'rgb(55, 148, 255)');
    assert.notEqual(strokes['vscode-light'].text, strokes['vscode-high-contrast'].text);
    await page.close();
  });
}
