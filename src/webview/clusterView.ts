/**
 * Clusters of spline codes (kind 'cluster'): every method side by side (clusters, size-weighted purity, NMI, noise
 * share, seconds), a method selector (the table's rows select too), the selected method's clusters as a chart of
 * sizes (majority label / other labels stacked, hover and arrow keys read a cluster) and a table with exemplars
 * (thumbnails when the host sent the inputs as images, else indices), and the PCA / NMF baselines' top examples.
 * The selected method and the cursor are kept in the state.
 */
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import type { ClusterInfo, ClusterMethodKey, ClusterMethodResult, ClusterResult } from '../shared/results';
import type { AnalysisData } from '../shared/webview-protocol';
import { barChart, type Series } from './charts/bars';
import type { Figure } from './charts/export';
import { responsive } from './charts/size';
import { fmt, pct, startPage, type PageContext, type Rendered } from './charts/page';
import { layerText } from './layerName';
import { h, s } from './vscodeApi';
import { METHOD_NAMES } from '../shared/cluster-methods';
import { headerCells } from './term';
import { plural } from '../shared/glossary';

/** How each method is named on the page. */

type Thumbs = Record<number, string> | undefined;
type Method = Omit<ClusterMethodResult, 'assignments'> & { assignments?: number[] };

const swatch = (cls: string, text: string) => h('span', { class: 'key' }, s('svg', { width: 12, height: 12, 'aria-hidden': 'true' }, s('rect', { class: `swatch ${cls}`, width: 12, height: 12 })), ` ${text}`);
const purityText = (p: number | null) => (p === null ? '–' : pct(p));

/** An input shown as its image (when the host sent one) or as its index; both say which input it is. */
function exemplar(i: number, thumbs: Thumbs, medoid: boolean): HTMLElement {
  const label = `input ${i}${medoid ? ' (medoid)' : ''}`;
  const url = thumbs?.[i];
  return h(
    'figure',
    { class: `exemplar${medoid ? ' medoid' : ''}`, 'data-index': i, title: label },
    url ? h('img', { src: url, alt: label, class: 'thumb' }) : undefined,
    h('figcaption', {}, String(i)),
  );
}

function exemplars(c: ClusterInfo, thumbs: Thumbs): HTMLElement {
  return h('div', { class: 'exemplars' }, ...c.exemplars.map((i) => exemplar(i, thumbs, i === c.medoid)));
}

function comparisonTable(r: ClusterResult, selected: ClusterMethodKey, select: (m: ClusterMethodKey) => void): HTMLElement {
  return h(
    'table',
    { class: 'grid', id: 'methods' },
    h('caption', {}, `Every method on the same ${plural(r.n, 'input')}${r.labels_note ? '' : ' (no labels: purity and NMI need a labels file)'}`),
    h('thead', {}, h('tr', {}, ...headerCells(['method', 'clusters', ['weighted-purity'], ['nmi'], ['noise-share', 'noise'], 'seconds']))),
    h(
      'tbody',
      {},
      ...r.comparison.map((row) => {
        const on = row.method === selected;
        const b = h('button', { type: 'button', class: 'method-button', 'aria-pressed': String(on), 'data-method': row.method }, METHOD_NAMES[row.method] ?? row.method);
        b.addEventListener('click', () => select(row.method));
        return h(
          'tr',
          { 'data-method': row.method, class: on ? 'current' : undefined, 'aria-current': on ? 'true' : undefined },
          h('th', { scope: 'row' }, b),
          h('td', { class: 'num' }, String(row.n_clusters)),
          h('td', { class: 'num' }, purityText(row.weighted_purity)),
          h('td', { class: 'num' }, row.nmi === null ? '–' : fmt(row.nmi)),
          h('td', { class: 'num' }, pct(row.noise_share)),
          h('td', { class: 'num' }, fmt(row.seconds)),
        );
      }),
    ),
  );
}

function methodSelect(r: ClusterResult, selected: ClusterMethodKey, select: (m: ClusterMethodKey) => void): HTMLElement {
  const keys = Object.keys(r.methods) as ClusterMethodKey[];
  const sel = h('vscode-single-select', { id: 'method', label: 'Method' }, ...keys.map((k) => h('vscode-option', { value: k, selected: k === selected }, METHOD_NAMES[k] ?? k)));
  sel.addEventListener('change', () => {
    const v = (sel as unknown as { value: string }).value as ClusterMethodKey;
    if (v && v !== selected && v in r.methods) select(v);
  });
  return h('label', { class: 'method-pick' }, h('span', {}, 'Method'), sel);
}

/** The selected method's clusters (or directions) as a chart of sizes and a table. */
function methodPart(key: ClusterMethodKey, m: Method, r: ClusterResult, thumbs: Thumbs, ctx: PageContext): { part: HTMLElement; svg: () => SVGSVGElement; figure: () => Figure } {
  const directions = m.kind === 'directions';
  const cs = m.clusters;
  const what = directions ? 'direction' : 'cluster';
  const labelled = cs.some((c) => c.purity !== null);
  // Stacked: the members with the majority label, then the others (without labels: the size alone).
  const series: Series[] = labelled
    ? [
        { name: 'majority label', slot: 0, values: cs.map((c) => c.size * (c.purity ?? 0)) },
        // Slot 7 is drawn neutral on this page (media/clusterView.css).
        { name: 'other labels', slot: 7, values: cs.map((c) => c.size * (1 - (c.purity ?? 0))) },
      ]
    : [{ name: 'members', slot: 0, values: cs.map((c) => c.size) }];
  const describe = (i: number) => {
    const c = cs[i]!;
    const lab = c.majority_label === null ? '' : `, majority label ${c.majority_label} (${purityText(c.purity)})`;
    const score = c.score === undefined ? '' : `, score ${fmt(c.score)}`;
    return `${what} ${c.id}: ${c.size} ${directions ? 'top examples' : 'inputs'}${lab}${c.medoid === null ? '' : `, medoid ${c.medoid}`}${score}`;
  };
  const info = h('div', { id: 'info', class: 'info', 'aria-live': 'polite' }, 'Hover the chart, or focus it and use the arrow keys.');
  const cursor = typeof ctx.ui.cursor === 'number' && ctx.ui.cursor < cs.length ? (ctx.ui.cursor as number) : undefined;
  const chart = responsive((width) =>
    barChart({
      n: cs.length,
      width,
      series,
      label: (i) => `${cs[i]!.id}${cs[i]!.majority_label === null ? '' : `: ${cs[i]!.majority_label}`}`,
      ticks: cs.length <= 30 ? cs.map((_, i) => i) : undefined,
      xTitle: labelled ? `${what} id: majority label` : `${what} id`,
      yTitle: directions ? 'top examples (count)' : 'inputs (count)',
      ariaLabel: `${METHOD_NAMES[key]}: ${what} sizes`,
      describe,
      height: 260,
      cursor,
      onCursor: (i) => {
        ctx.ui.cursor = i;
        ctx.saveUi();
        info.textContent = describe(i);
        for (const tr of Array.from(table.querySelectorAll('tbody tr'))) tr.classList.toggle('current', tr.getAttribute('data-i') === String(i));
      },
    }),
  );
  const table = h(
    'table',
    { class: 'grid', id: 'clusters' },
    h('caption', {}, directions ? `Directions: each with its top ${plural(r.params.top_m, 'example')}` : `Clusters${m.noise_share > 0 ? ` (${pct(m.noise_share)} of the inputs are noise, in no cluster)` : ''}`),
    h('thead', {}, h('tr', {}, ...headerCells([what, directions ? 'examples' : 'size (inputs)', 'majority label', 'purity', ...(directions ? ['score'] : []), directions ? 'top examples' : 'exemplars (medoid first)']))),
    h(
      'tbody',
      {},
      ...cs.map((c, i) =>
        h(
          'tr',
          { 'data-i': i, 'data-id': c.id, class: i === cursor ? 'current' : undefined },
          h('th', { scope: 'row' }, String(c.id)),
          h('td', { class: 'num' }, String(c.size)),
          h('td', { class: 'num' }, c.majority_label === null ? '–' : String(c.majority_label)),
          h('td', { class: 'num' }, purityText(c.purity)),
          directions ? h('td', { class: 'num' }, c.score === undefined ? '–' : fmt(c.score)) : undefined,
          h('td', {}, exemplars(c, thumbs)),
        ),
      ),
    ),
  );
  if (cursor !== undefined) info.textContent = describe(cursor);
  // Numbers at 6 significant digits (a k-medoids cost printed 2589.5218950510025).
  const params = Object.entries(m.params).map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v, 6) : v}`).join(', ');
  const part = h(
    'section',
    { id: 'selected', 'data-method': key },
    h('h2', {}, `${m.n_clusters} ${what}s`),
    h('p', { class: 'meta' }, `${m.space}${m.distance ? `, ${m.distance} distance` : ''} · ${params} · weighted purity ${purityText(m.weighted_purity)} · NMI ${m.nmi === null ? '–' : fmt(m.nmi)} · ${fmt(m.seconds)} s`),
    m.note ? h('p', { class: 'hint' }, m.note) : undefined,
    labelled ? h('p', { class: 'legend hint' }, swatch('s0', 'majority label'), swatch('s7', 'other labels')) : undefined,
    chart.box,
    info,
    table,
  );
  const meta = part.querySelector('.meta')?.textContent ?? '';
  const figure = (): Figure => ({
    chart: chart.current().svg,
    notes: [`${METHOD_NAMES[key] ?? key}: ${m.n_clusters} ${what}s`, meta],
    legend: series.map((se) => ({ text: se.name, shape: 'rect', cls: `s${se.slot}` })),
  });
  return { part, svg: () => chart.current().svg, figure };
}

/** PCA and NMF: each direction's top examples, beside the clusterings. */
function baselines(r: ClusterResult, thumbs: Thumbs): HTMLElement | undefined {
  const entries = (['pca', 'nmf'] as const).map((k) => [k, r.baselines[k]] as const).filter((e): e is readonly ['pca' | 'nmf', Method] => e[1] !== undefined);
  if (!entries.length) return undefined;
  return h(
    'section',
    { id: 'baselines' },
    h('h2', {}, 'Baseline directions'),
    h('p', { class: 'hint' }, `The top ${r.params.top_m} examples along each direction of the activations; purity is the majority-label share among them.`),
    ...entries.map(([k, b]) =>
      h(
        'div',
        { class: 'baseline', 'data-baseline': k },
        h('h3', {}, `${METHOD_NAMES[k]} · mean purity ${purityText(b.weighted_purity)}`),
        h(
          'ol',
          { class: 'directions' },
          ...b.clusters.map((c) =>
            h(
              'li',
              { 'data-id': c.id },
              h('span', { class: 'direction-head' }, `${k.toUpperCase()} ${c.id}`, c.majority_label === null ? '' : ` · label ${c.majority_label} (${purityText(c.purity)})`),
              exemplars(c, thumbs),
            ),
          ),
        ),
      ),
    ),
  );
}

function renderCluster(r: ClusterResult, thumbs: Thumbs, ctx: PageContext): Rendered {
  const keys = Object.keys(r.methods) as ClusterMethodKey[];
  const wanted = ctx.ui.method as ClusterMethodKey | undefined;
  const selected: ClusterMethodKey = wanted && r.methods[wanted] ? wanted : r.methods[r.method] ? r.method : keys[0]!;
  const select = (m: ClusterMethodKey) => {
    ctx.setUi({ method: m, cursor: undefined });
  };
  const m = r.methods[selected];
  const act = r.activation_layer;
  const meta = h(
    'p',
    { class: 'meta' },
    `${plural(r.n, 'input')} (${r.inputs_note}) · labels: ${r.labels_note ?? 'none'} · codes: ${plural(r.code_bits, 'bit')} of ${r.code_layers.length} layer${r.code_layers.length === 1 ? '' : 's'}, ${r.varying_bits} vary` +
      (act ? ` · activations: ${layerText(r.code_layers.find((l) => l.key === act.key) ?? act)} (${act.op}, ${act.size} values)` : '') +
      ` · ${fmt(r.timing.total_s)} s in all`,
  );
  const shown = m ? methodPart(selected, m, r, thumbs, ctx) : undefined;
  const root = h(
    'div',
    { class: 'cluster' },
    meta,
    comparisonTable(r, selected, select),
    h('div', { class: 'toolbar' }, methodSelect(r, selected, select)),
    shown?.part ?? h('p', { class: 'notice' }, 'No method ran.'),
    baselines(r, thumbs),
    h('p', { class: 'hint' }, r.conventions),
  );
  return {
    root,
    chart: shown ? shown.svg : undefined,
    figure: shown ? shown.figure : undefined,
    items: () => root.querySelectorAll('#clusters tbody tr').length,
    marks: () => root.querySelectorAll('#selected g.bar rect').length,
  };
}

startPage({
  render: (data: AnalysisData, ctx) => {
    if (data.kind === 'cluster') return renderCluster(data.result, data.thumbnails, ctx);
    return { root: h('p', { class: 'error' }, `This view shows clusters, not ${data.kind}.`), items: () => 0, marks: () => 0 };
  },
});
