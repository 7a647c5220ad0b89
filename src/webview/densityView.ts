/**
 * Boundary density along a path: per-step Hamming distance stacked by layer (legend toggles layers), class
 * changes as dashed vertical lines, exact crossings as ticks under the axis, the input-space density as a line.
 * Hover or the arrow keys move a cursor; the box under the chart says step, per-layer counts, density and class.
 * The same page shows a density study (densityStudy.ts).
 */
import type { PathCrossing, PathResult } from '../shared/results';
import type { AnalysisData } from '../shared/webview-protocol';
import { barChart, legend } from './charts/bars';
import { fmt, startPage, type PageContext, type Rendered } from './charts/page';
import { Plot } from './charts/plot';
import { renderStudy } from './densityStudy';
import { h, s } from './vscodeApi';
import { layerName, layerText } from './layerName';
import { counted, headerCells, term } from './term';
import { plural, termName } from '../shared/glossary';

function renderPath(r: PathResult, ctx: PageContext): Rendered {
  const hidden = new Set(Array.isArray(ctx.ui.layersHidden) ? (ctx.ui.layersHidden as string[]) : []);
  const showDensity = ctx.ui.density !== false;
  const keys = r.layers.map((l) => l.key);
  const slotOf = new Map(keys.map((k, i) => [k, i]));
  const visible = keys.filter((k) => !hidden.has(k));
  const N = r.steps;
  const info = h('div', { id: 'info', class: 'info', 'aria-live': 'polite' }, 'Hover the chart, or focus it and use the arrow keys.');

  const describe = (k: number): string => {
    const per = r.layers.map((l) => `${layerText(l)} ${r.per_layer_per_step[l.key]?.[k] ?? 0}`).join(', ');
    const shown = visible.reduce((a, key) => a + (r.per_layer_per_step[key]?.[k] ?? 0), 0);
    const d = r.density_input[k];
    const p0 = r.preds[k];
    const p1 = r.preds[k + 1];
    return `step ${k} (t ${fmt(k / N)}–${fmt((k + 1) / N)}): ${r.per_step[k] ?? 0} ${termName('bits-flipped', r.per_step[k] ?? 0)} (shown ${shown}; ${per}); boundary density ${d === null || d === undefined ? '–' : `${fmt(d)} bits flipped per unit of input distance`}; class ${p0}${p0 !== p1 ? ` → ${p1}` : ''}`;
  };
  const showInfo = (k: number) => {
    const d = r.density_input[k];
    const p0 = r.preds[k];
    const p1 = r.preds[k + 1];
    info.replaceChildren(
      h('strong', { class: 'info-step' }, `Step ${k}`),
      ` (t ${fmt(k / N)}–${fmt((k + 1) / N)}) · `,
      h('strong', { class: 'info-total' }, String(r.per_step[k] ?? 0)),
      ' ',
      term('bits-flipped', termName('bits-flipped', r.per_step[k] ?? 0)),
      ' · ',
      term('boundary-density'),
      ' ',
      h('span', { class: 'info-density' }, d === null || d === undefined ? '–' : fmt(d)),
      d === null || d === undefined ? '' : ' per unit of input distance',
      ' · class ',
      h('span', { class: 'info-class' }, p0 !== p1 ? `${p0} → ${p1}` : String(p0)),
      h(
        'ul',
        { class: 'info-layers' },
        ...r.layers.map(({ key }, l) =>
          h('li', { 'data-layer': key, class: hidden.has(key) ? 'muted' : undefined }, s('svg', { width: 10, height: 10, 'aria-hidden': 'true' }, s('rect', { class: `swatch s${slotOf.get(key)! % 8}`, width: 10, height: 10 })), ` ${layerText(r.layers[l]!)}: ${r.per_layer_per_step[key]?.[k] ?? 0}`),
        ),
      ),
    );
  };

  const crossings = r.exact?.crossings ?? [];
  const chart = barChart({
    n: N,
    series: visible.map((key) => ({ name: key, values: r.per_layer_per_step[key] ?? [], slot: slotOf.get(key)! })),
    label: (i) => String(i),
    xTitle: `step along the path (${plural(N, 'step')})`,
    yTitle: 'Hamming distance (bits)',
    ariaLabel: `Bits flipped per step along the path, ${plural(N, 'step')}`,
    describe,
    cursor: typeof ctx.ui.cursor === 'number' ? (ctx.ui.cursor as number) : undefined,
    onCursor: (k) => {
      ctx.ui.cursor = k;
      ctx.saveUi();
      showInfo(k);
    },
    marks: (g) => {
      const out: Plot.Markish[] = [
        // Dashed lines at class changes, extended 6 px above the frame, with "a→b" above them.
        Plot.ruleX(r.class_changes_at_step, { x: (k: number) => k + 0.5, insetTop: -6, className: 'class-change' }),
        Plot.text(r.class_changes_at_step, { x: (k: number) => k + 0.5, frameAnchor: 'top', dy: -9, text: (k: number) => `${r.preds[k]}→${r.preds[k + 1]}`, className: 'class-label' }),
      ];
      // Exact crossings: ticks from 1 to 7 px under the axis, one mark per layer for its colour.
      for (const key of visible) {
        const own = crossings.filter((c) => c.layer === key);
        if (own.length) out.push(Plot.ruleX(own, { x: (c: PathCrossing) => c.t * N, insetTop: g.frameHeight + 1, insetBottom: -7, title: (c: PathCrossing) => `${c.layer} bit ${c.unit} at t ${fmt(c.t, 4)}`, className: `crossing s${slotOf.get(key)! % 8}` }));
      }
      if (showDensity) {
        // The density line on a right axis of its own: values scaled into the bars' y domain.
        const dmax = Math.max(1e-12, ...r.density_input.filter((d): d is number => d !== null && Number.isFinite(d)));
        const toY = (d: number) => (d / dmax) * g.yMax;
        out.push(
          Plot.lineY(
            r.density_input.map((d, k) => ({ k, d })),
            { x: (p: { k: number }) => p.k + 0.5, y: (p: { d: number | null }) => (p.d === null || !Number.isFinite(p.d) ? NaN : toY(p.d)), className: 'density-line' },
          ),
          Plot.axisY([0, dmax / 2, dmax].map(toY), { anchor: 'right', tickFormat: (y: number) => fmt((y / g.yMax) * dmax), className: 'density-axis', label: null }),
        );
      }
      return out;
    },
  });

  const toggles = legend(
    r.layers.map((l) => ({ name: l.key, label: layerText(l), slot: slotOf.get(l.key)!, on: !hidden.has(l.key) })),
    (name) => {
      if (hidden.has(name)) hidden.delete(name);
      else hidden.add(name);
      ctx.ui.layersHidden = [...hidden];
      ctx.saveUi();
      ctx.rerender();
    },
  );
  const densityToggle = h('button', { type: 'button', class: 'toggle', id: 'toggle-density', 'aria-pressed': String(showDensity) }, '— density per unit length');
  densityToggle.addEventListener('click', () => {
    ctx.ui.density = !showDensity;
    ctx.saveUi();
    ctx.rerender();
  });
  toggles.append(densityToggle);

  const e = r.exact;
  const meta = h(
    'p',
    { class: 'meta' },
    `${plural(N, 'step')} · `,
    ...counted(r.total, 'bits-flipped'),
    ' (sampled) · ',
    ...counted(r.distinct_codes_on_path, 'regions-hit'),
    ' on the path · ',
    ...(r.class_changes_at_step.length
      ? [term('class-change', r.class_changes_at_step.length === 1 ? 'class change' : 'class changes'), ` at step${r.class_changes_at_step.length === 1 ? '' : 's'} ${r.class_changes_at_step.join(', ')}`]
      : ['no ', term('class-change')]),
    ...(e ? [' · ', ...counted(e.total_flips, 'exact-crossings'), ', ', ...counted(e.linear_pieces, 'linear-pieces'), ` (${e.precision}${e.approximate ? ', approximate' : ''})`] : []),
  );
  const table = h(
    'table',
    { class: 'grid', id: 'layer-totals' },
    h('caption', {}, 'Per layer'),
    h('thead', {}, h('tr', {}, ...headerCells(['layer', 'op', ['unit', 'units'], ['bits-flipped', 'bits flipped (sampled)'], ...(e ? [['exact-crossings'] as ['exact-crossings']] : [])]))),
    h(
      'tbody',
      {},
      ...r.layers.map((l) =>
        h(
          'tr',
          { 'data-key': l.key },
          h('th', { scope: 'row' }, ...layerName(l)),
          h('td', {}, l.op),
          h('td', { class: 'num' }, String(l.units)),
          h('td', { class: 'num' }, String(r.per_layer_total[l.key] ?? 0)),
          e ? h('td', { class: 'num' }, String(e.flips_per_layer[l.key] ?? 0)) : undefined,
        ),
      ),
    ),
  );
  const root = h('div', { class: 'density' }, meta, toggles, h('div', { class: 'chart-box' }, chart.svg), info, e?.note ? h('p', { class: 'hint' }, e.note) : undefined, table);
  if (typeof ctx.ui.cursor === 'number') showInfo(ctx.ui.cursor as number);
  return {
    root,
    chart: () => chart.svg,
    items: () => root.querySelectorAll('g.bar rect').length,
    marks: () => root.querySelectorAll('g.class-change line, g.crossing line').length,
  };
}

startPage({
  render: (data: AnalysisData, ctx) => {
    if (data.kind === 'path') return renderPath(data.result, ctx);
    if (data.kind === 'study') return renderStudy(data.result, ctx);
    return { root: h('p', { class: 'error' }, `This view shows paths and density studies, not ${data.kind}.`), items: () => 0, marks: () => 0 };
  },
});
