/**
 * Boundary density along a path: per-step Hamming distance stacked by layer (legend toggles layers), class
 * changes as dashed vertical lines, exact crossings as ticks under the axis, the input-space density as a line.
 * Hover or the arrow keys move a cursor; the box under the chart says step, per-layer counts, density and class.
 * The same page shows a density study (densityStudy.ts).
 */
import type { PathCrossing, PathResult } from '../shared/results';
import type { AnalysisData } from '../shared/webview-protocol';
import { barChart, legend, type Geometry } from './charts/bars';
import { keyBox, type LegendEntry } from './charts/key';
import { niceStep, responsive, ticksBetween } from './charts/size';
import { fmt, startPage, type PageContext, type Rendered } from './charts/page';
import { Plot } from './charts/plot';
import { renderStudy } from './densityStudy';
import { h, s } from './vscodeApi';
import { layerName, layerText } from './layerName';
import { counted, headerCells, term } from './term';
import { plural, termName } from '../shared/glossary';

function renderPath(r: PathResult, endpoints: [number, number] | undefined, endpointLabels: [number, number] | undefined, ctx: PageContext): Rendered {
  const hidden = new Set(Array.isArray(ctx.ui.layersHidden) ? (ctx.ui.layersHidden as string[]) : []);
  const showDensity = ctx.ui.density !== false;
  const keys = r.layers.map((l) => l.key);
  const slotOf = new Map(keys.map((k, i) => [k, i]));
  const visible = keys.filter((k) => !hidden.has(k));
  const N = r.steps;
  const ends = endpointText(r, endpoints, endpointLabels);
  const info = h('div', { id: 'info', class: 'info', 'aria-live': 'polite' }, 'Hover the chart, or focus it and use the arrow keys.');

  const describe = (k: number): string => {
    const per = r.layers.map((l) => `${layerText(l)} ${r.per_layer_per_step[l.key]?.[k] ?? 0}`).join(', ');
    const shown = visible.reduce((a, key) => a + (r.per_layer_per_step[key]?.[k] ?? 0), 0);
    const d = r.density_input[k];
    const p0 = r.preds[k];
    const p1 = r.preds[k + 1];
    return `step ${k} (t ${fmt(k / N)}–${fmt((k + 1) / N)}): ${r.per_step[k] ?? 0} ${termName('bits-flipped', r.per_step[k] ?? 0)} (shown ${shown}; ${per}); boundary density ${d === null || d === undefined ? '–' : `${fmt(d)} bits flipped per unit ${distanceIn(r)}`}; class ${p0}${p0 !== p1 ? ` → ${p1}` : ''}`;
  };
  // The polytope at the start of a step (t = k / N): the host computes the point and opens the polytope view.
  const inspectStep = (k: number) => ctx.post({ type: 'inspect', target: 'step', step: k });
  const showInfo = (k: number) => {
    const inspect = h('button', { type: 'button', class: 'toggle', id: 'inspect-step' }, `Inspect the polytope at t ${fmt(k / N)}`);
    inspect.addEventListener('click', () => inspectStep(k));
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
      d === null || d === undefined ? '' : ` bits flipped per unit ${distanceIn(r)}`,
      ' · class ',
      h('span', { class: 'info-class' }, p0 !== p1 ? `${p0} → ${p1}` : String(p0)),
      ' ',
      inspect,
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
  const density = densityScale(r);
  const chart = responsive((width) =>
    barChart({
      n: N,
      width,
      series: visible.map((key) => ({ name: key, values: r.per_layer_per_step[key] ?? [], slot: slotOf.get(key)! })),
      label: (p) => String(p),
      // Positions, not categories: step k runs from point k to point k + 1, so the ticks sit at points 0 … N.
      xAt: 'edge',
      xTitle: `position on the path (step; 0 = ${ends.a}, ${N} = ${ends.b})`,
      yTitle: 'bits flipped per step (Hamming distance)',
      rightTitle: densityAxis(r),
      ariaLabel: `Bits flipped per step along the path, ${plural(N, 'step')}`,
      describe,
      rightAxis: showDensity,
      cursor: typeof ctx.ui.cursor === 'number' ? (ctx.ui.cursor as number) : undefined,
      onCursor: (k) => {
        ctx.ui.cursor = k;
        ctx.saveUi();
        showInfo(k);
      },
      marks: (g) => {
        const out: Plot.Markish[] = [
          // Dashed lines at class changes, extended above the frame, with "a→b" above them.
          Plot.ruleX(r.class_changes_at_step, { x: (k: number) => k + 0.5, insetTop: -6, className: 'class-change' }),
          Plot.text(r.class_changes_at_step, { x: (k: number) => k + 0.5, frameAnchor: 'top', dy: -g.font * 0.75, text: (k: number) => `${r.preds[k]}→${r.preds[k + 1]}`, className: 'class-label' }),
        ];
        // Exact crossings: ticks from 1 to 7 px under the axis, one mark per layer for its colour.
        for (const key of visible) {
          const own = crossings.filter((c) => c.layer === key);
          if (own.length) out.push(Plot.ruleX(own, { x: (c: PathCrossing) => c.t * N, insetTop: g.frameHeight + 1, insetBottom: -7, title: (c: PathCrossing) => `${c.layer} bit ${c.unit} at t ${fmt(c.t, 4)}`, className: `crossing s${slotOf.get(key)! % 8}` }));
        }
        if (showDensity) out.push(...densityMarks(r, density, g));
        return out;
      },
    }),
  );

  // A click on a step inspects the polytope there (the cursor follows the mouse, so it is the clicked step).
  chart.box.addEventListener('click', () => {
    if (typeof ctx.ui.cursor === 'number') inspectStep(ctx.ui.cursor as number);
  });

  const toggles = legend(
    r.layers.map((l) => ({ name: l.key, label: layerText(l), slot: slotOf.get(l.key)!, on: !hidden.has(l.key) })),
    (name) => {
      if (hidden.has(name)) hidden.delete(name);
      else hidden.add(name);
      ctx.setUi({ layersHidden: [...hidden] });
    },
  );
  const densityToggle = h('button', { type: 'button', class: 'toggle', id: 'toggle-density', 'aria-pressed': String(showDensity) }, density.kind === 'bars' ? 'right axis: density' : '— density (right axis)');
  densityToggle.addEventListener('click', () => {
    ctx.setUi({ density: !showDensity });
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
  const markKeys = pathKeys(r, visible, slotOf, crossings, showDensity ? density : undefined);
  const root = h('div', { class: 'density' }, meta, h('p', { class: 'endpoints', id: 'endpoints' }, ends.sentence), toggles, keyBox('What the marks mean', markKeys, 'marks-key'), chart.box, info, e?.note ? h('p', { class: 'hint' }, e.note) : undefined, table);
  if (typeof ctx.ui.cursor === 'number') showInfo(ctx.ui.cursor as number);
  return {
    root,
    chart: () => chart.current().svg,
    figure: () => ({
      chart: chart.current().svg,
      notes: [ends.sentence, meta.textContent ?? ''],
      legend: [...visible.map((key) => ({ text: layerText(r.layers.find((l) => l.key === key)!), shape: 'rect' as const, cls: `s${slotOf.get(key)! % 8}` })), ...markKeys],
    }),
    items: () => root.querySelectorAll('g.bar rect').length,
    marks: () => root.querySelectorAll('g.class-change line, g.crossing line').length,
  };
}

/** The two ends of the path in words: their sample index (when the host sent it), class from the labels, predicted class. */
function endpointText(r: PathResult, endpoints: [number, number] | undefined, labels: [number, number] | undefined): { a: string; b: string; sentence: string } {
  const one = (end: 0 | 1) => {
    const name = endpoints ? `sample ${endpoints[end]}` : end === 0 ? 'the first sample' : 'the second sample';
    const pred = r.preds[end === 0 ? 0 : r.preds.length - 1];
    const cls = labels ? `class ${labels[end]} (labels file), predicted ${pred}` : `predicted class ${pred}`;
    return { short: endpoints ? `sample ${endpoints[end]}` : end === 0 ? 'start' : 'end', long: `${name}: ${cls}` };
  };
  const a = one(0);
  const b = one(1);
  return { a: a.short, b: b.short, sentence: `From ${a.long} (step 0) to ${b.long} (step ${r.steps}).` };
}

/**
 * How the input-space density is shown. Along a straight path in input space every step has the same length L, so
 * the density of a step (bits flipped / L) is its bar's height divided by L: the right axis is a second scale of the
 * bars ('bars'), with no line of its own (a line through the bar tops drew a spike over every bar). When the step
 * lengths differ (a path interpolated in a layer), the density is a step line on its own scale ('line').
 */
type DensityScale = { kind: 'bars'; stepLength: number } | { kind: 'line'; max: number };

function densityScale(r: PathResult): DensityScale {
  const lengths: number[] = [];
  let max = 0;
  r.density_input.forEach((d, k) => {
    if (d === null || !Number.isFinite(d)) return;
    max = Math.max(max, d);
    if (d > 0 && (r.per_step[k] ?? 0) > 0) lengths.push((r.per_step[k] ?? 0) / d);
  });
  if (lengths.length) {
    const lo = Math.min(...lengths);
    const hi = Math.max(...lengths);
    // float32 step lengths of a straight path differ in the 6th digit; a layer-space path differs by far more.
    if ((hi - lo) / hi < 1e-3) return { kind: 'bars', stepLength: (hi + lo) / 2 };
  }
  return { kind: 'line', max: max > 0 ? max : 1 };
}

/** The space whose distance the density is per: the input, or a layer's activations when the path was interpolated there. */
const distanceIn = (r: PathResult) => (r.interpolated_in ? `distance in ${r.interpolated_in}'s activations` : 'input distance');
const densityTitle = (r: PathResult) => `density: bits flipped per unit ${distanceIn(r)}`;
const densityAxis = (r: PathResult) => `density (bits per unit ${distanceIn(r)})`;

function densityMarks(r: PathResult, d: DensityScale, g: Geometry): Plot.Markish[] {
  const room = g.frameHeight / (g.font * 2.5);
  const axis = (top: number, toY: (v: number) => number) => {
    const values = ticksBetween(0, top, niceStep(top, Math.max(2, Math.min(5, Math.floor(room)))));
    const at = new Map(values.map((v) => [toY(v), v]));
    return Plot.axisY([...at.keys()], { anchor: 'right', tickFormat: (y: number) => fmt(at.get(y) ?? NaN), label: null, className: 'density-axis' });
  };
  if (d.kind === 'bars') return [axis(g.yMax / d.stepLength, (v) => v * d.stepLength)];
  const toY = (v: number) => (v / d.max) * g.yMax;
  // A step line: the density is one value per step, drawn flat over the step from point k to point k + 1.
  const pts = r.density_input.map((v, k) => ({ x: k, y: v === null || !Number.isFinite(v) ? NaN : toY(v) }));
  if (pts.length) pts.push({ x: r.steps, y: pts[pts.length - 1]!.y });
  return [Plot.lineY(pts, { x: 'x', y: 'y', curve: 'step-after', className: 'density-line' }), axis(d.max, toY)];
}

/** The legend entries of the marks that are not layers: class changes, exact crossings, the density. */
function pathKeys(r: PathResult, visible: string[], slotOf: Map<string, number>, crossings: PathCrossing[], density: DensityScale | undefined): LegendEntry[] {
  const out: LegendEntry[] = [];
  if (r.class_changes_at_step.length) out.push({ text: 'class change (predicted class before→after)', shape: 'tick', cls: 'class-change' });
  const crossed = visible.filter((key) => crossings.some((c) => c.layer === key));
  if (crossed.length) {
    const [first, ...rest] = crossed.map((key) => `crossing s${slotOf.get(key)! % 8}`);
    out.push({ text: 'exact crossing (tick under the axis, in its layer\'s colour)', shape: 'tick', cls: first!, more: rest.length ? rest : undefined });
  }
  if (density?.kind === 'bars') out.push({ text: `right axis: ${densityTitle(r)} = bar height ÷ step length ${fmt(density.stepLength, 3)}`, shape: 'tick', cls: 'density-key' });
  if (density?.kind === 'line') out.push({ text: `${densityTitle(r)} (right axis)`, shape: 'line', cls: 'density-line' });
  return out;
}

startPage({
  render: (data: AnalysisData, ctx) => {
    if (data.kind === 'path') return renderPath(data.result, data.endpoints, data.endpointLabels, ctx);
    if (data.kind === 'study') return renderStudy(data.result, ctx);
    return { root: h('p', { class: 'error' }, `This view shows paths and density studies, not ${data.kind}.`), items: () => 0, marks: () => 0 };
  },
});
