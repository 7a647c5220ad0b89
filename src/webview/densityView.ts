/**
 * Boundary density along a path: per-step Hamming distance stacked by layer (legend toggles layers), class
 * changes as dashed vertical lines, exact crossings as ticks under the axis, the input-space density as a line.
 * Hover or the arrow keys move a cursor; the box under the chart says step, per-layer counts, density and class.
 */
import type { PathResult } from '../shared/results';
import type { AnalysisData } from '../shared/webview-protocol';
import { barChart, legend } from './charts/bars';
import { fmt, startPage, type PageContext, type Rendered } from './charts/page';
import { h, s } from './vscodeApi';

function renderPath(r: PathResult, ctx: PageContext): Rendered {
  const hidden = new Set(Array.isArray(ctx.ui.layersHidden) ? (ctx.ui.layersHidden as string[]) : []);
  const showDensity = ctx.ui.density !== false;
  const keys = r.layers.map((l) => l.key);
  const slotOf = new Map(keys.map((k, i) => [k, i]));
  const visible = keys.filter((k) => !hidden.has(k));
  const N = r.steps;
  const info = h('div', { id: 'info', class: 'info', 'aria-live': 'polite' }, 'Hover the chart, or focus it and use the arrow keys.');

  const describe = (k: number): string => {
    const per = keys.map((key) => `${key} ${r.per_layer_per_step[key]?.[k] ?? 0}`).join(', ');
    const shown = visible.reduce((a, key) => a + (r.per_layer_per_step[key]?.[k] ?? 0), 0);
    const d = r.density_input[k];
    const p0 = r.preds[k];
    const p1 = r.preds[k + 1];
    return `step ${k} (t ${fmt(k / N)}–${fmt((k + 1) / N)}): Hamming ${r.per_step[k] ?? 0} (shown ${shown}; ${per}); density ${d === null || d === undefined ? '–' : fmt(d)}; class ${p0}${p0 !== p1 ? ` → ${p1}` : ''}`;
  };
  const showInfo = (k: number) => {
    const d = r.density_input[k];
    const p0 = r.preds[k];
    const p1 = r.preds[k + 1];
    info.replaceChildren(
      h('strong', { class: 'info-step' }, `Step ${k}`),
      ` (t ${fmt(k / N)}–${fmt((k + 1) / N)}) · Hamming `,
      h('strong', { class: 'info-total' }, String(r.per_step[k] ?? 0)),
      ' · density ',
      h('span', { class: 'info-density' }, d === null || d === undefined ? '–' : fmt(d)),
      ' · class ',
      h('span', { class: 'info-class' }, p0 !== p1 ? `${p0} → ${p1}` : String(p0)),
      h(
        'ul',
        { class: 'info-layers' },
        ...keys.map((key) =>
          h('li', { 'data-layer': key, class: hidden.has(key) ? 'muted' : undefined }, s('svg', { width: 10, height: 10, 'aria-hidden': 'true' }, s('rect', { class: `swatch s${slotOf.get(key)! % 8}`, width: 10, height: 10 })), ` ${key}: ${r.per_layer_per_step[key]?.[k] ?? 0}`),
        ),
      ),
    );
  };

  const crossings = r.exact?.crossings ?? [];
  const chart = barChart({
    n: N,
    series: visible.map((key) => ({ name: key, values: r.per_layer_per_step[key] ?? [], slot: slotOf.get(key)! })),
    label: (i) => String(i),
    xTitle: `step along the path ${r.layers.length ? '' : ''}(${N} steps)`,
    yTitle: 'Hamming distance (bits)',
    ariaLabel: `Per-step Hamming distance along the path, ${N} steps`,
    describe,
    cursor: typeof ctx.ui.cursor === 'number' ? (ctx.ui.cursor as number) : undefined,
    onCursor: (k) => {
      ctx.ui.cursor = k;
      ctx.saveUi();
      showInfo(k);
    },
    decorate: (layer, g) => {
      for (const k of r.class_changes_at_step) {
        const x = g.x(k + 0.5);
        layer.append(
          s('line', { class: 'class-change', x1: x, x2: x, y1: g.top - 6, y2: g.bottom }),
          s('text', { class: 'class-label', x, y: g.top - 9, 'text-anchor': 'middle' }, `${r.preds[k]}→${r.preds[k + 1]}`),
        );
      }
      for (const c of crossings) {
        if (hidden.has(c.layer)) continue;
        const x = g.x(c.t * N);
        layer.append(s('line', { class: `crossing s${slotOf.get(c.layer)! % 8}`, x1: x, x2: x, y1: g.bottom + 1, y2: g.bottom + 7 }, s('title', {}, `${c.layer} bit ${c.unit} at t ${fmt(c.t, 4)}`)));
      }
      if (showDensity) {
        const ds = r.density_input.map((d) => (d === null ? NaN : d));
        const dmax = Math.max(1e-12, ...ds.filter((d) => Number.isFinite(d)));
        const y = (d: number) => g.bottom - (d / dmax) * (g.bottom - g.top);
        let path = '';
        let pen = false;
        ds.forEach((d, k) => {
          if (!Number.isFinite(d)) {
            pen = false;
            return;
          }
          path += `${pen ? 'L' : 'M'}${g.x(k + 0.5).toFixed(1)},${y(d).toFixed(1)}`;
          pen = true;
        });
        if (path) layer.append(s('path', { class: 'density-line', d: path }));
        layer.append(s('text', { class: 'tick-label', x: g.right + 6, y: g.top + 4 }, fmt(dmax)), s('text', { class: 'tick-label', x: g.right + 6, y: g.bottom }, '0'));
      }
    },
  });

  const toggles = legend(
    keys.map((key) => ({ name: key, slot: slotOf.get(key)!, on: !hidden.has(key) })),
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
    `${N} steps · ${r.total} bit flips sampled · ${r.distinct_codes_on_path} distinct codes on the path · class changes at step${r.class_changes_at_step.length === 1 ? '' : 's'} ${r.class_changes_at_step.join(', ') || 'none'}`,
    e ? ` · exact: ${e.total_flips} flips, ${e.linear_pieces} linear pieces (${e.precision}${e.approximate ? ', approximate' : ''})` : '',
  );
  const table = h(
    'table',
    { class: 'grid', id: 'layer-totals' },
    h('caption', {}, 'Per layer'),
    h('thead', {}, h('tr', {}, ...['layer', 'op', 'bits', 'flips sampled', ...(e ? ['flips exact'] : [])].map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      {},
      ...r.layers.map((l) =>
        h(
          'tr',
          { 'data-key': l.key },
          h('th', { scope: 'row' }, h('code', {}, l.key)),
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
    items: () => root.querySelectorAll('rect.bar').length,
    marks: () => root.querySelectorAll('.class-change, .crossing').length,
  };
}

startPage({
  render: (data: AnalysisData, ctx) => {
    if (data.kind !== 'path') return { root: h('p', { class: 'error' }, `This view shows paths, not ${data.kind}.`), items: () => 0, marks: () => 0 };
    return renderPath(data.result, ctx);
  },
});
