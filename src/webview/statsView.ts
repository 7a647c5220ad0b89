/**
 * Local complexity and activation scaling: one generic page of a bar chart (hover and arrow keys show the values)
 * over a table.
 *   local: per point, units cut within the radius, stacked by layer; table of the per-layer means.
 *   scale: per alpha, bits flipped per sample in the later layers, stacked by layer; table of the alphas.
 */
import type { LocalResult, ScaleResult } from '../shared/results';
import type { AnalysisData } from '../shared/webview-protocol';
import { barChart, legend, type Series } from './charts/bars';
import { responsive } from './charts/size';
import { fmt, pct, startPage, type PageContext, type Rendered } from './charts/page';
import { h } from './vscodeApi';
import { layerText } from './layerName';
import { counted, headerCells, term, type Column } from './term';
import { plural } from '../shared/glossary';

interface Generic {
  meta: (string | Node)[];
  note?: string;
  categories: string[];
  xTitle: string;
  yTitle: string;
  series: Series[];
  describe(i: number): string;
  columns: Column[];
  rows: (string | number)[][];
  caption: string;
}

function local(r: LocalResult): Generic {
  return {
    meta: [term('local-complexity'), ` at ${plural(r.n, 'point')} · `, ...counted(r.directions, 'directions'), ' · ', term('radius'), ` ${r.radius} (input units) · seed ${r.seed} · ${r.precision} · mean total `, ...counted(r.mean_total, 'units-cut', fmt(r.mean_total))],
    note: r.note,
    categories: r.per_point.map((p) => String(p.index)),
    xTitle: 'input (sample index in the data file)',
    yTitle: `units cut within radius ${r.radius} (bits)`,
    series: r.layers.map((layer, l) => ({ name: layer.key, label: layerText(layer), slot: l, values: r.per_point.map((p) => p.per_layer[l] ?? 0) })),
    describe: (i) => {
      const p = r.per_point[i]!;
      return `input ${p.index}: class ${p.pred}, ${p.total} units cut (${r.layers.map((layer, l) => `${layerText(layer)} ${p.per_layer[l] ?? 0}`).join(', ')})`;
    },
    columns: ['layer', 'op', ['unit', 'units'], ['units-cut', 'mean units cut'], 'share of the units', 'count'],
    rows: r.layers.map((l) => [layerText(l), l.op, l.units, fmt(r.mean_per_layer[l.key] ?? 0), pct((r.mean_per_layer[l.key] ?? 0) / Math.max(1, l.units)), r.exact_layers.includes(l.key) ? 'yes' : 'sampled']),
    caption: 'Mean units cut per input, per layer (count: exact for the first layer, sampled at the 2P points after it)',
  };
}

function scale(r: ScaleResult): Generic {
  const keys = r.later_layers.map((l) => l.key);
  return {
    meta: [`${r.layer} (${r.scaled_tensor}) scaled by `, term('alpha'), ` · ${plural(r.n, 'input')} (${r.inputs_note}) · later layers: ${keys.join(', ') || 'none'}`],
    categories: r.alphas.map((a) => String(a.alpha)),
    xTitle: `alpha (factor on the output of ${r.layer}; 1 = unscaled)`,
    yTitle: 'bits flipped per sample (mean, later layers)',
    series: r.later_layers.map((layer, l) => ({ name: layer.key, label: layerText(layer), slot: l, values: r.alphas.map((a) => a.flipped_bits_per_layer[layer.key] ?? 0) })),
    describe: (i) => {
      const a = r.alphas[i]!;
      return `alpha ${a.alpha}: ${fmt(a.flipped_bits_total)} bits flipped per sample (${r.later_layers.map((l) => `${layerText(l)} ${fmt(a.flipped_bits_per_layer[l.key] ?? 0)}`).join(', ')}); predictions changed ${pct(a.changed_predictions)}; codes changed ${pct(a.changed_codes)}`;
    },
    columns: [['alpha'], 'changed predictions', 'changed codes', ['bits-flipped', 'bits flipped / sample'], ...keys],
    rows: r.alphas.map((a) => [a.alpha, pct(a.changed_predictions), pct(a.changed_codes), fmt(a.flipped_bits_total), ...keys.map((k) => fmt(a.flipped_bits_per_layer[k] ?? 0))]),
    caption: 'Per alpha: share of the inputs whose prediction or spline code changed, and the mean bits flipped per input in each later layer',
  };
}

function renderGeneric(g: Generic, ctx: PageContext): Rendered {
  const hidden = new Set(Array.isArray(ctx.ui.layersHidden) ? (ctx.ui.layersHidden as string[]) : []);
  const info = h('div', { id: 'info', class: 'info', 'aria-live': 'polite' }, 'Hover the chart, or focus it and use the arrow keys.');
  const tbody = h('tbody', {}, ...g.rows.map((row) => h('tr', {}, h('th', { scope: 'row' }, String(row[0])), ...row.slice(1).map((c) => h('td', { class: typeof c === 'number' || /^[\d.%e+-]+$/.test(String(c)) ? 'num' : undefined }, String(c))))));
  const chart = responsive((width) =>
    barChart({
      n: g.categories.length,
      width,
      series: g.series.filter((se) => !hidden.has(se.name)),
      label: (i) => g.categories[i] ?? '',
      ticks: g.categories.length <= 24 ? g.categories.map((_, i) => i) : undefined,
      xTitle: g.xTitle,
      yTitle: g.yTitle,
      ariaLabel: g.yTitle,
      describe: g.describe,
      height: 280,
      cursor: typeof ctx.ui.cursor === 'number' ? (ctx.ui.cursor as number) : undefined,
      onCursor: (i) => {
        ctx.ui.cursor = i;
        ctx.saveUi();
        info.textContent = g.describe(i);
      },
    }),
  );
  if (typeof ctx.ui.cursor === 'number' && g.categories[ctx.ui.cursor as number] !== undefined) info.textContent = g.describe(ctx.ui.cursor as number);
  const toggles = legend(
    g.series.map((se) => ({ name: se.name, label: se.label, slot: se.slot, on: !hidden.has(se.name) })),
    (name) => {
      if (hidden.has(name)) hidden.delete(name);
      else hidden.add(name);
      ctx.setUi({ layersHidden: [...hidden] });
    },
  );
  const root = h(
    'div',
    { class: 'stats' },
    h('p', { class: 'meta' }, ...g.meta),
    g.note ? h('p', { class: 'hint' }, g.note) : undefined,
    toggles,
    chart.box,
    info,
    h('table', { class: 'grid', id: 'stats-table' }, h('caption', {}, g.caption), h('thead', {}, h('tr', {}, ...headerCells(g.columns))), tbody),
  );
  const figure = () => ({
    chart: chart.current().svg,
    // The meta line holds glossary terms (elements): the export carries its text.
    notes: [g.meta.map((m) => (typeof m === 'string' ? m : (m.textContent ?? ''))).join('')],
    legend: g.series.filter((se) => !hidden.has(se.name)).map((se) => ({ text: se.label ?? se.name, shape: 'rect' as const, cls: `s${se.slot % 8}` })),
  });
  return { root, chart: () => chart.current().svg, figure, items: () => tbody.querySelectorAll('tr').length, marks: () => root.querySelectorAll('g.bar rect').length };
}

startPage({
  render: (data: AnalysisData, ctx) => {
    if (data.kind === 'local') return renderGeneric(local(data.result), ctx);
    if (data.kind === 'scale') return renderGeneric(scale(data.result), ctx);
    return { root: h('p', { class: 'error' }, `This view shows local complexity and scaling, not ${data.kind}.`), items: () => 0, marks: () => 0 };
  },
});
