// Glossary terms in the pages (src/webview/term.ts): every term shows the glossary's sentence as its tooltip (title),
// its ⓘ link posts {type: 'openGlossary', term} (mouse and keyboard), and no page says "1 paths" when a count is 1.
// The sentences are read from src/shared/glossary.ts itself (bundled here with esbuild), not copied into the test.
// Registered by test/webview/run.mjs, which owns the browser and the harness.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as esbuild from 'esbuild';

const glossarySource = esbuild.buildSync({ entryPoints: ['src/shared/glossary.ts'], bundle: true, format: 'esm', write: false, logLevel: 'warning' }).outputFiles[0].text;
const { GLOSSARY, termTooltip } = await import(`data:text/javascript;base64,${Buffer.from(glossarySource).toString('base64')}`);

/** Counts followed by a plural noun where the count is exactly 1 ("1 paths", "1 regions hit"). */
const WRONG_PLURAL = /(?<![\d.])1 (inputs|paths|steps|units|layers|points|directions|samples|bits|exports|ops|clusters|regions|segments|examples|crossings|pieces|changes|pairs|alphas)\b/;

export function register({ test, open, send, posted, out, fixture }) {
  const summary = fixture('digits.summary.json');
  const codes = fixture('digits.codes.json');
  const path = fixture('digits.path.json');
  const local = fixture('digits.local.json');
  const scale = fixture('digits.scale.json');
  const study = fixture('digits.study.json');
  const cluster = fixture('digits.cluster.json');
  const slice = fixture('mlp2d.slice.json');
  const MODEL = 'file:///ws/digits.onnx';
  const head = (kind, fileName = 'digits.onnx') => ({ kind, model: `file:///ws/${fileName}`, fileName, params: {} });

  /** Every term on the page: [id, title, text], and whether its ⓘ link is drawn. */
  const termsOf = (page) =>
    page.$$eval('.term', (ts) =>
      ts.map((t) => {
        const info = t.querySelector('a.term-info');
        const r = info?.getBoundingClientRect();
        return { id: t.dataset.term, title: t.title, text: t.textContent, infoTerm: info?.dataset.term, infoLabel: info?.getAttribute('aria-label'), infoDrawn: !!r && r.width > 0 && r.height > 0 };
      }),
    );

  /** Asserts every term's tooltip is its glossary sentence, and that the page shows at least the terms `expected`. */
  async function checkTerms(page, expected) {
    const terms = await termsOf(page);
    for (const t of terms) {
      assert.ok(GLOSSARY[t.id], `${t.id} is a glossary term`);
      assert.equal(t.title, termTooltip(t.id), `${t.id}: the tooltip is the glossary's sentence`);
      assert.equal(t.infoTerm, t.id, `${t.id}: an info link`);
      assert.equal(t.infoLabel, `${GLOSSARY[t.id].name}: open the glossary`);
      assert.ok(t.infoDrawn, `${t.id}: the ⓘ is drawn`);
    }
    const ids = new Set(terms.map((t) => t.id));
    for (const id of expected) assert.ok(ids.has(id), `the page shows ${id} with its tooltip (has ${[...ids].join(', ')})`);
    return terms;
  }

  const glossaryPosts = async (page) => (await posted(page)).filter((m) => m.type === 'openGlossary');

  test('terms: the model view names each term once with its glossary sentence; the ⓘ link opens the glossary (mouse, keyboard)', async () => {
    const { page, errors } = await open('modelView');
    await send(page, { type: 'summary', model: MODEL, fileName: 'digits.onnx', summary });
    await send(page, { type: 'codes', codes });
    await send(page, { type: 'results', previousExport: true, items: [{ kind: 'codes', title: 'Probe codes', at: 1000, line: '360 inputs, 356 regions hit' }] });
    await page.waitForSelector('#stats tbody tr');
    await checkTerms(page, ['unit', 'offset', 'sign-code', 'active-fraction', 'dead-unit', 'always-on-unit', 'regions-hit', 'prefix-regions-hit', 'previous-export']);
    // Headers say the one name: "regions hit", never "distinct codes" or "prefix codes".
    const heads = await page.$$eval('#stats thead th', (ths) => ths.map((t) => t.textContent));
    assert.deepEqual(heads, ['layer', 'active', 'units by active fraction', 'dead', 'always on', 'regions hit', 'prefix regions hit']);
    assert.doesNotMatch(await page.textContent('#app'), /distinct codes|prefix codes|top scores/);

    assert.deepEqual(await glossaryPosts(page), []);
    await page.click('#stats thead .term[data-term="regions-hit"] a.term-info');
    await page.focus('#layers thead .term[data-term="offset"] a.term-info');
    await page.keyboard.press('Enter');
    assert.deepEqual(await glossaryPosts(page), [
      { type: 'openGlossary', term: 'regions-hit' },
      { type: 'openGlossary', term: 'offset' },
    ]);
    assert.equal((await posted(page)).filter((m) => m.type === 'run').length, 0, 'an info link runs nothing else');
    await page.screenshot({ path: join(out, 'terms-modelView-dark.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  /** A side panel state with every section: analysis with paths, layers, a delta, checkpoints, previous export. */
  function panelState(over = {}) {
    const stat = (k) => codes.stats.find((s) => s.key === k);
    return {
      status: 'ready',
      source: { fileName: 'train.py', how: 'server' },
      model: { uri: MODEL, fileName: 'digits.onnx', relPath: 'digits.onnx', mtimeMs: 1_700_000_000_000 },
      summary: { opset: summary.opset, producer: summary.producer, layers: summary.layers.length, totalUnits: summary.total_units, unsupported: 0 },
      layers: summary.layers.map((l) => ({ key: l.key, op: l.op, units: l.units, dead: stat(l.key).dead_units, alwaysOn: stat(l.key).always_on_units, distinct: stat(l.key).distinct_codes, crossings: 2.5 })),
      analysis: { n: codes.n, inputsNote: codes.inputs_note, distinct: codes.distinct_codes, dead: 20, alwaysOn: 4, totalUnits: summary.total_units, at: 1_700_000_000_000, paths: 3, meanCrossings: 17.5 },
      results: { previousExport: true, items: [{ kind: 'codes', title: 'Probe codes', at: 1000, line: `${codes.n} inputs, ${codes.distinct_codes} regions hit` }] },
      delta: { at: 1_700_000_000_000, analysed: true, distinct: [codes.distinct_codes + 4, codes.distinct_codes], totalUnits: [112, 112], rows: codes.stats.map((s) => ({ key: s.key, units: [48, 48], distinct: [s.distinct_codes + 1, s.distinct_codes], dead: [1, 1], alwaysOn: [0, 0] })) },
      checkpoints: [
        { fileName: 'digits.onnx', current: true, mtimeMs: 1_700_000_000_000, layers: 3, units: 112, n: 360, distinct: 356, dead: 20, alwaysOn: 4 },
        { fileName: 'digits_1.onnx', current: false, mtimeMs: 1_600_000_000_000, layers: 3, units: 112 },
      ],
      refreshes: 0,
      autoRefresh: true,
      ...over,
    };
  }

  test('terms: the side panel shows tooltips on its terms; the ⓘ link posts openGlossary', async () => {
    const { page, errors } = await open('sidePanelView');
    await send(page, { type: 'state', state: panelState() });
    await page.waitForSelector('#layers tbody tr');
    await checkTerms(page, ['regions-hit', 'dead-unit', 'always-on-unit', 'crossings-per-path', 'unit', 'previous-export']);
    assert.deepEqual(await page.$$eval('#layers thead th', (ths) => ths.map((t) => t.textContent)), ['layer', 'units', 'dead', 'on', 'regions', 'cross.']);
    assert.doesNotMatch(await page.textContent('#app'), /distinct codes/, 'one name: regions hit');
    await page.click('#analysis .term[data-term="crossings-per-path"] a.term-info');
    await page.focus('#layers thead .term[data-term="regions-hit"] a.term-info');
    await page.keyboard.press('Enter');
    assert.deepEqual(await glossaryPosts(page), [
      { type: 'openGlossary', term: 'crossings-per-path' },
      { type: 'openGlossary', term: 'regions-hit' },
    ]);
    await page.screenshot({ path: join(out, 'terms-sidePanel-dark.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('terms: the analysis pages show tooltips on their table headers and summary lines', async () => {
    const cases = [
      ['densityView', { ...head('path'), data: { kind: 'path', result: path } }, ['bits-flipped', 'regions-hit', 'class-change', 'exact-crossings', 'linear-pieces', 'unit']],
      ['densityView', { ...head('study'), data: { kind: 'study', result: study } }, ['boundary-density', 'near-and-elsewhere', 'effect-size', 'p-value']],
      ['statsView', { ...head('local'), data: { kind: 'local', result: local } }, ['local-complexity', 'directions', 'radius', 'units-cut', 'unit']],
      ['statsView', { ...head('scale'), data: { kind: 'scale', result: scale } }, ['alpha', 'bits-flipped']],
      ['clusterView', { ...head('cluster'), data: { kind: 'cluster', result: cluster, sampleShape: [64] } }, ['weighted-purity', 'nmi', 'noise-share']],
      ['regionView', { ...head('slice', 'mlp2d.onnx'), params: { window: [-3, 3] }, data: { kind: 'slice', result: slice, sampleShape: [2] } }, ['plane-coordinates', 'regions-hit', 'region', 'decision-boundary', 'region-area']],
    ];
    for (const [pageName, msg, expected] of cases) {
      const { page, errors } = await open(pageName);
      await send(page, { type: 'result', ...msg });
      await page.waitForSelector('.term');
      await checkTerms(page, expected);
      const text = await page.innerText('#app');
      assert.doesNotMatch(text, /distinct codes|top scores/, `${msg.kind}: one name per concept (${text.match(/.{0,60}(distinct codes|top scores).{0,20}/)?.[0]})`);
      const first = expected[0];
      await page.click(`.term[data-term="${first}"] a.term-info`);
      assert.deepEqual((await glossaryPosts(page)).at(-1), { type: 'openGlossary', term: first }, `${msg.kind}: the info link`);
      assert.deepEqual(errors, [], msg.kind);
      await page.close();
    }
  });

  test('plurals: every page rendered with counts of 1 says "1 input", "1 path", "1 region hit", never "1 inputs"', async () => {
    const texts = [];
    // Model view: one input, one region hit, a one-unit layer.
    const one = { ...summary, total_units: 1, layers: [{ ...summary.layers[0], units: 1, shape: [1] }] };
    const oneCodes = { ...codes, n: 1, distinct_codes: 1, layers: one.layers, stats: [{ ...codes.stats[0], distinct_codes: 1, distinct_prefix_codes: 1 }] };
    {
      const { page } = await open('modelView');
      await send(page, { type: 'summary', model: MODEL, fileName: 'digits.onnx', summary: one });
      await send(page, { type: 'codes', codes: oneCodes });
      await page.waitForSelector('#stats tbody tr');
      const t = await page.innerText('#app');
      assert.match(t, /1 unit\b/);
      assert.match(t, /1 input \(/);
      assert.match(t, /1 region hit \(distinct spline codes of 1 bit\)/);
      texts.push(['modelView', t]);
      await page.close();
    }
    // Side panel: one layer, one path, one checkpoint, one op the lens cannot see through.
    {
      const { page } = await open('sidePanelView');
      const st = panelState({
        summary: { opset: 14, producer: 'pytorch', layers: 1, totalUnits: 1, unsupported: 1 },
        analysis: { n: 1, inputsNote: '1 sample', distinct: 1, dead: 0, alwaysOn: 0, totalUnits: 1, at: 1, paths: 1, meanCrossings: 1 },
        checkpoints: [panelState().checkpoints[0]],
      });
      await send(page, { type: 'state', state: st });
      await page.waitForSelector('#analysis');
      const t = await page.innerText('#app');
      assert.match(t, /1 unit in 1 layer · 1 op the lens/);
      assert.match(t, /1 region hit by 1 input/);
      assert.match(t, /\(mean of 1 path\)/);
      texts.push(['sidePanelView', t]);
      await page.close();
    }
    // A path of one step with one flip, one exact crossing and one class change.
    {
      const k = path.layers[0].key;
      const p1 = {
        ...path,
        layers: [path.layers[0]],
        steps: 1,
        per_step: [1],
        total: 1,
        per_layer_total: { [k]: 1 },
        per_layer_per_step: { [k]: [1] },
        density: { [k]: [1] },
        density_input: [1],
        distinct_codes_on_path: 2,
        preds: [0, 1],
        class_changes_at_step: [0],
        exact: { ...path.exact, total_flips: 1, flips_per_layer: { [k]: 1 }, linear_pieces: 2, crossings: [{ t: 0.5, layer: k, unit: 0 }] },
      };
      const { page } = await open('densityView');
      await send(page, { type: 'result', ...head('path'), data: { kind: 'path', result: p1 } });
      await page.waitForSelector('.meta');
      const t = await page.innerText('#app');
      assert.match(t, /1 step · 1 bit flipped \(sampled\) · 2 regions hit on the path · class change at step 0 · 1 exact crossing, 2 linear pieces/);
      texts.push(['densityView', t]);
      await page.close();
    }
    // Local complexity at one point, one direction, a mean of exactly one unit cut.
    {
      const l1 = { ...local, n: 1, directions: 1, per_point: local.per_point.slice(0, 1), mean_total: 1 };
      const { page } = await open('statsView');
      await send(page, { type: 'result', ...head('local'), data: { kind: 'local', result: l1 } });
      await page.waitForSelector('.meta');
      const t = await page.innerText('#app');
      assert.match(t, /at 1 point · 1 direction · radius/);
      assert.match(t, /mean total 1 unit cut/);
      texts.push(['statsView', t]);
      await page.close();
    }
    // A density study with a window of one step.
    {
      const s1 = { ...study, window: 1, different_class: { ...study.different_class, aligned_profile: study.different_class.aligned_profile.slice(4, 7) }, same_class: { ...study.same_class, aligned_profile: study.same_class.aligned_profile.slice(4, 7) } };
      const { page } = await open('densityView');
      await send(page, { type: 'result', ...head('study'), data: { kind: 'study', result: s1 } });
      await page.waitForSelector('#study-table');
      const t = await page.innerText('#app');
      assert.match(t, /window ±1 step ·/);
      texts.push(['densityStudy', t]);
      await page.close();
    }
    for (const [name, t] of texts) assert.doesNotMatch(t, WRONG_PLURAL, `${name}: ${t.match(WRONG_PLURAL)?.[0]}`);
  });
}
