/**
 * The density study (kind 'study', shown by densityView): the mean boundary density of different-class pairs aligned
 * at their class change, against a control of same-class pairs aligned at the middle step, at offsets -W..+W; each
 * group's mean density elsewhere on the path as a dashed level; the test stated in words above the chart. Hover or
 * the arrow keys move a cursor over the offsets; the box under the chart gives both groups' values there.
 */
import type { DensityGroupStats, DensityStudyResult } from '../shared/results';
import { appendXTitle, appendYTitles, margins, niceMax, wrapText, xTicks } from './charts/bars';
import { chartFontPx, niceStep, responsive, ticksBetween } from './charts/size';
import { attachCursor } from './charts/cursor';
import { fmt, type PageContext, type Rendered } from './charts/page';
import { Plot, plotSvg } from './charts/plot';
import { h, s } from './vscodeApi';
import { headerCells, term } from './term';
import { plural } from '../shared/glossary';

/** The level below which the page calls a p-value evidence (stated on the page with the number itself). */
const ALPHA = 0.05;

const GROUPS = [
  { key: 'different_class', name: 'different class', cls: 's0' },
  { key: 'same_class', name: 'same-class control', cls: 's1' },
] as const;

const signed = (k: number) => (k > 0 ? `+${k}` : k < 0 ? `−${-k}` : '0');
const pValue = (p: number) => (p < 0.001 ? '< 0.001' : `= ${fmt(p, 2)}`);

/** The outcome of the test in one plain sentence. */
export function verdict(r: DensityStudyResult): string {
  const d = r.different_class;
  const c = r.same_class;
  const around = `within ${plural(r.window, 'step')} of the class change`;
  if (d.pairs === 0) return 'No different-class pair had a class change on its path: nothing to test.';
  if (d.p_value < ALPHA && c.p_value >= ALPHA)
    return `The density is higher ${around} than elsewhere on the path (${fmt(d.ratio)}×, p ${pValue(d.p_value)}), and the same-class control shows no such rise (p ${pValue(c.p_value)}).`;
  if (d.p_value < ALPHA)
    return `The density is higher ${around} (${fmt(d.ratio)}×, p ${pValue(d.p_value)}), but so it is at the middle of same-class paths (${fmt(c.ratio)}×, p ${pValue(c.p_value)}): the rise is not specific to class changes.`;
  return `No evidence that the density rises ${around}: near/elsewhere ${fmt(d.ratio)}×, p ${pValue(d.p_value)} (${ALPHA} or less would count as evidence); same-class control ${fmt(c.ratio)}×, p ${pValue(c.p_value)}.`;
}

export function renderStudy(r: DensityStudyResult, ctx: PageContext): Rendered {
  const W = r.window;
  const n = 2 * W + 1;
  const groups = GROUPS.map((g) => ({ ...g, stats: r[g.key] as DensityGroupStats }));
  const top = Math.max(0, ...groups.flatMap((g) => [...g.stats.aligned_profile, g.stats.elsewhere_mean]).filter(Number.isFinite));
  const yMax = niceMax(top);
  // Offset k (-W..W) is category k + W, drawn over x = k + W .. k + W + 1 (charts/cursor.ts).
  const points = groups.flatMap((g) => g.stats.aligned_profile.map((v, i) => ({ group: g.name, cls: g.cls, i, v })));
  const draw = (width: number) => {
    const font = chartFontPx();
    const xTitle = 'steps from the aligned step (different class: the class change; control: the middle)';
    const xLines = wrapText(xTitle, width - font, font);
    const margin = margins(font, false, 1, xLines.length);
    const height = Math.round(Math.max(320, 14 * font + 100) + (xLines.length - 1) * font * 1.3);
    const frameWidth = width - margin.left - margin.right;
    const yTicks = Math.max(2, Math.min(5, Math.floor((height - margin.top - margin.bottom) / (font * 2.5))));
    const svg = plotSvg({
      width,
      height,
      marginLeft: margin.left,
      marginRight: margin.right,
      marginTop: margin.top,
      marginBottom: margin.bottom,
      ariaLabel: `Mean boundary density at offsets ${-W} to ${W} from the aligned step`,
      x: { type: 'linear', domain: [0, n], axis: null },
      y: { domain: [0, yMax], axis: null },
      marks: [
        Plot.gridY({ ticks: yTicks, className: 'grid-line', strokeOpacity: 1 }),
        Plot.axisY({ ticks: yTicks, tickFormat: (v: number) => fmt(v), label: null, className: 'y-axis' }),
        Plot.axisX(
          // Offsets at multiples of a nice step, so 0 (the aligned step) always has its tick.
          ticksBetween(-W, W, xTicks(n, frameWidth, font, (i) => signed(i - W), 'centre').length >= n ? 1 : niceStep(2 * W, Math.max(2, Math.floor(frameWidth / (font * 3.5))), 1)).map((k) => k + W + 0.5),
          { tickFormat: (p: number) => signed(Math.floor(p) - W), label: null, className: 'x-axis' },
        ),
        Plot.ruleX([W + 0.5], { insetTop: -6, className: 'class-change' }),
        Plot.text([W + 0.5], { x: (p: number) => p, frameAnchor: 'top', dy: -font * 0.75, text: () => 'class change', className: 'class-label' }),
        ...groups.flatMap((g) => [
          Plot.ruleY([g.stats.elsewhere_mean], { className: `elsewhere ${g.cls}` }),
          // Inside the frame at its right end, above the level: no margin of its own, so it fits a narrow view.
          Plot.text([g.stats.elsewhere_mean], { y: (v: number) => v, frameAnchor: 'right', dy: -font * 0.6, textAnchor: 'end', text: () => `${g.name === 'different class' ? 'different' : 'control'}, elsewhere ${fmt(g.stats.elsewhere_mean)}`, className: `elsewhere-label ${g.cls}` }),
          Plot.lineY(
            points.filter((p) => p.cls === g.cls),
            { x: (p: { i: number }) => p.i + 0.5, y: 'v', className: `profile ${g.cls}` },
          ),
          Plot.dot(
            points.filter((p) => p.cls === g.cls && Number.isFinite(p.v)),
            { x: (p: { i: number }) => p.i + 0.5, y: 'v', r: 3.5, className: `profile-dot ${g.cls}`, ariaLabel: g.name },
          ),
        ]),
        Plot.ruleY([0], { className: 'axis' }),
        Plot.ruleX([0], { className: 'axis' }),
      ],
    });
    appendYTitles(svg, width, font, 'mean density (bits flipped per unit input distance)');
    appendXTitle(svg, xLines, width, height, font, margin);
    attachCursor(svg, {
      n,
      ariaLabel: `Density study: mean density at offsets ${-W} to ${W} from the aligned step`,
      describe,
      top: margin.top,
      bottom: height - margin.bottom,
      cursor: typeof ctx.ui.cursor === 'number' ? (ctx.ui.cursor as number) : undefined,
      onCursor: (i) => {
        ctx.ui.cursor = i;
        ctx.saveUi();
        showInfo(i);
      },
    });
    return { svg };
  };

  const info = h('div', { id: 'info', class: 'info', 'aria-live': 'polite' }, 'Hover the chart, or focus it and use the arrow keys.');
  const describe = (i: number) =>
    `offset ${signed(i - W)}: ${groups.map((g) => `${g.name} ${fmt(g.stats.aligned_profile[i] ?? NaN)} (elsewhere ${fmt(g.stats.elsewhere_mean)})`).join('; ')}`;
  const showInfo = (i: number) => {
    info.replaceChildren(
      h('strong', { class: 'info-step' }, `Offset ${signed(i - W)}`),
      i === W ? ' (the aligned step)' : '',
      h(
        'ul',
        { class: 'info-layers' },
        ...groups.map((g) =>
          h(
            'li',
            { 'data-group': g.key },
            s('svg', { width: 10, height: 10, 'aria-hidden': 'true' }, s('rect', { class: `swatch ${g.cls}`, width: 10, height: 10 })),
            ` ${g.name}: `,
            h('span', { class: 'info-value' }, fmt(g.stats.aligned_profile[i] ?? NaN)),
            ` (elsewhere ${fmt(g.stats.elsewhere_mean)})`,
          ),
        ),
      ),
    );
  };
  const chart = responsive(draw);
  if (typeof ctx.ui.cursor === 'number' && ctx.ui.cursor >= 0 && ctx.ui.cursor < n) showInfo(ctx.ui.cursor as number);

  const key = h(
    'div',
    { class: 'legend', role: 'group', 'aria-label': 'Groups' },
    ...groups.map((g) => h('span', { class: 'key' }, s('svg', { width: 12, height: 12, 'aria-hidden': 'true' }, s('rect', { class: `swatch ${g.cls}`, width: 12, height: 12 })), ` ${g.name} (${plural(g.stats.pairs, 'pair')})`)),
    h('span', { class: 'key hint' }, '— profile · - - - mean elsewhere on the path'),
  );
  const table = h(
    'table',
    { class: 'grid', id: 'study-table' },
    h('caption', {}, 'Mean ', term('boundary-density'), ` (bits flipped per unit of input distance) near the aligned step (within ±${plural(W, 'step')}) and elsewhere, per group`),
    h('thead', {}, h('tr', {}, ...headerCells(['group', 'pairs', ['near-and-elsewhere', 'near'], ['near-and-elsewhere', 'elsewhere'], 'near / elsewhere', ['effect-size'], ['p-value', 'p-value (one-sided)']]))),
    h(
      'tbody',
      {},
      ...groups.map((g) =>
        h(
          'tr',
          { 'data-group': g.key },
          h('th', { scope: 'row' }, g.name),
          h('td', { class: 'num' }, String(g.stats.pairs)),
          h('td', { class: 'num' }, fmt(g.stats.near_mean)),
          h('td', { class: 'num' }, fmt(g.stats.elsewhere_mean)),
          h('td', { class: 'num' }, fmt(g.stats.ratio)),
          h('td', { class: 'num' }, fmt(g.stats.effect_size)),
          h('td', { class: 'num' }, fmt(g.stats.p_value)),
        ),
      ),
    ),
  );
  const root = h(
    'div',
    { class: 'study' },
    h('p', { class: 'verdict', id: 'verdict' }, verdict(r)),
    h(
      'p',
      { class: 'meta' },
      `${plural(r.steps, 'step')} per path · window ±${plural(W, 'step')} · classes from ${r.class_source === 'labels' ? 'the labels file' : "the model's predictions"} · ${r.permutations} sign-flip permutations, seed ${r.seed}` +
        (r.skipped_pairs ? ` · ${r.skipped_pairs} different-class pair${r.skipped_pairs === 1 ? '' : 's'} without a class change left out` : ''),
    ),
    key,
    chart.box,
    info,
    table,
    h('p', { class: 'hint' }, r.note),
  );
  return {
    root,
    chart: () => chart.current().svg,
    figure: () => ({
      chart: chart.current().svg,
      notes: [verdict(r)],
      legend: [
        ...groups.map((g) => ({ text: `${g.name} (${g.stats.pairs} pairs): mean profile`, shape: 'line' as const, cls: `profile ${g.cls}` })),
        ...groups.map((g) => ({ text: `${g.name}: mean elsewhere on the path`, shape: 'dash' as const, cls: `elsewhere ${g.cls}` })),
        { text: 'aligned step (class change; control: middle)', shape: 'tick' as const, cls: 'class-change' },
      ],
    }),
    items: () => root.querySelectorAll('g.profile-dot circle').length,
    marks: () => root.querySelectorAll('g.class-change line, g.elsewhere line').length,
  };
}
