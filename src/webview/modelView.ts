/**
 * The model view page: summary (producer, opset, inputs/outputs, piecewise-linear layers, unsupported ops) and,
 * after probing, per-layer code statistics with each layer's units by active fraction (a Plot histogram). Talks to the host only through the "model view" protocol.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import type { LayerInfo, TensorInfo } from '../shared/results';
import type { CodesView, ModelViewAction, ModelViewState, ModelViewToHost, ModelViewToWebview } from '../shared/webview-protocol';
import { activeHistogram, describeBin, type HistogramBin } from './charts/histogram';
import { h, s, vscodeApi } from './vscodeApi';
import { layerName } from './layerName';
import { headerCells, term } from './term';
import { plural, termName } from '../shared/glossary';

const api = vscodeApi<ModelViewToHost, ModelViewState>();
const app = document.getElementById('app')!;

interface View extends ModelViewState {
  error?: string;
  restricted?: boolean;
  busy?: { label: string; done?: number; total?: number };
  /** A layer to select (openLayer); `pending` until a render with the layers table reports it. */
  highlight?: { layer?: string; nodes: string[]; pending: boolean };
}

let view: View = { ...(api.getState() ?? {}) };

function save(): void {
  const { model, fileName, summary, codes, results } = view;
  api.setState({ model, fileName, summary, codes, results });
}

/** Every analysis the host runs for this model (MODEL_VIEW_ACTIONS after probeCodes), in the order of the toolbar. */
const ANALYSIS_BUTTONS: [ModelViewAction, string][] = [
  ['pathDensity', 'Boundary density'],
  ['densityStudy', 'Density study'],
  ['regionMap', 'Region map'],
  ['localComplexity', 'Local complexity'],
  ['scaleActivations', 'Scale activations'],
  ['clusterCodes', 'Cluster codes'],
  ['exportResults', 'Export results'],
];

const fmtShape = (d: (number | string)[]) => `[${d.join(', ')}]`;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function tensors(title: string, list: TensorInfo[]): HTMLElement {
  return h(
    'section',
    { class: 'tensors' },
    h('h3', {}, title),
    h('ul', {}, ...list.map((t) => h('li', {}, h('code', {}, t.name), ` ${t.dtype} ${fmtShape(t.shape)}`))),
  );
}

function layersTable(layers: LayerInfo[]): HTMLElement {
  return h(
    'table',
    { id: 'layers', class: 'grid' },
    h('caption', {}, 'Piecewise-linear layers'),
    h('thead', {}, h('tr', {}, ...headerCells(['layer', 'op', 'pre-activation', 'shape', ['unit', 'units'], ['offset'], ['sign-code', 'exact']]))),
    h(
      'tbody',
      {},
      ...layers.map((l) =>
        h(
          'tr',
          { 'data-key': l.key },
          h('th', { scope: 'row' }, ...layerName(l)),
          h('td', {}, l.op),
          h('td', {}, h('code', {}, l.preact_tensor)),
          h('td', {}, fmtShape(l.shape)),
          h('td', { class: 'num' }, String(l.units)),
          h('td', { class: 'num' }, String(l.offset)),
          h('td', {}, l.exact ? 'yes' : 'sign code'),
        ),
      ),
    ),
  );
}

/**
 * Tables of more layers than this draw each row's histogram when the row comes near the view: DenseNet-121's 122
 * Plot charts took about a second to draw at once in Chromium (GoogLeNet's 70: 0.65 s), and the view was frozen
 * meanwhile. Smaller tables draw every histogram at once.
 */
const EAGER_HISTOGRAMS = 24;

function statsTable(codes: CodesView): HTMLElement {
  const hover = h('p', { id: 'hist-info', class: 'hint', 'aria-live': 'polite' }, 'Hover a histogram to read a bin.');
  const byKey = new Map(codes.layers.map((l) => [l.key, l]));
  const onHover = (key: string) => (b: HistogramBin | undefined) => {
    hover.textContent = b ? `${key}: ${describeBin(b)} of the layer's units are on for that share of the inputs.` : 'Hover a histogram to read a bin.';
  };
  const pending = new Map<Element, () => void>();
  const lazy =
    codes.stats.length > EAGER_HISTOGRAMS
      ? new IntersectionObserver(
          (entries, observer) => {
            for (const e of entries) {
              if (!e.isIntersecting) continue;
              pending.get(e.target)?.();
              pending.delete(e.target);
              observer.unobserve(e.target);
            }
          },
          { rootMargin: '400px 0px' },
        )
      : undefined;
  const histogramCell = (st: CodesView['stats'][number]): HTMLElement => {
    const td = h('td', { class: 'hist-cell' });
    if (!st.active_histogram?.length) {
      td.append('–');
      return td;
    }
    const draw = () => td.replaceChildren(activeHistogram(st, onHover(st.key)));
    if (!lazy) draw();
    else {
      td.append(h('div', { class: 'hist-placeholder', 'aria-hidden': 'true' }));
      pending.set(td, draw);
      lazy.observe(td);
    }
    return td;
  };
  return h(
    'section',
    { id: 'codes' },
    h('h2', {}, 'Codes'),
    h('p', {}, `${plural(codes.n, 'input')} (${codes.inputs_note}): `, h('strong', {}, `${codes.distinct_codes}`), ' ', term('regions-hit', termName('regions-hit', codes.distinct_codes)), ` (distinct spline codes of ${plural(codes.layers.reduce((a, l) => a + l.units, 0), 'bit')}).`),
    h(
      'table',
      { id: 'stats', class: 'grid' },
      h('caption', {}, 'Per-layer code statistics'),
      h(
        'thead',
        {},
        h('tr', {}, ...headerCells(['layer', ['active-fraction', 'active'], 'units by active fraction', ['dead-unit', 'dead'], ['always-on-unit', 'always on'], ['regions-hit'], ['prefix-regions-hit']])),
      ),
      h(
        'tbody',
        {},
        ...codes.stats.map((st) =>
          h(
            'tr',
            { 'data-key': st.key },
            h('th', { scope: 'row' }, ...layerName(byKey.get(st.key) ?? st)),
            h('td', { class: 'num' }, pct(st.active_fraction)),
            histogramCell(st),
            h('td', { class: 'num' }, String(st.dead_units)),
            h('td', { class: 'num' }, String(st.always_on_units)),
            h('td', { class: 'num' }, String(st.distinct_codes)),
            h('td', { class: 'num' }, String(st.distinct_prefix_codes)),
          ),
        ),
      ),
    ),
    h(
      'p',
      { class: 'hist-legend hint' },
      s('svg', { width: 10, height: 10, 'aria-hidden': 'true' }, s('rect', { class: 'dead', width: 10, height: 10 })),
      ' dead units (never on) ',
      s('svg', { width: 10, height: 10, 'aria-hidden': 'true' }, s('rect', { class: 'always-on', width: 10, height: 10 })),
      ' always-on units ',
      s('svg', { width: 10, height: 10, 'aria-hidden': 'true' }, s('rect', { class: 'units', width: 10, height: 10 })),
      ' other units, by the share of inputs they are on for · the line marks the mean active fraction',
    ),
    hover,
  );
}

/** The kept results of the model: one line per analysis, newest first; a note when they are of an earlier export. */
function resultsList(r: NonNullable<View['results']>): HTMLElement | undefined {
  if (r.items.length === 0) return undefined;
  const when = (ms: number) => new Date(ms).toLocaleString();
  return h(
    'section',
    { id: 'results' },
    h('h2', {}, 'Last results'),
    r.previousExport ? h('p', { class: 'notice', id: 'previous-export' }, 'These results are from the ', term('previous-export'), ` of ${view.fileName ?? 'the model'}: the file has changed since. Run the analyses again to update them.`) : undefined,
    h('ul', { class: 'results' }, ...[...r.items].sort((a, b) => b.at - a.at).map((i) => h('li', { 'data-kind': i.kind }, h('strong', {}, i.title), ` · ${i.line} · `, h('span', { class: 'meta' }, when(i.at))))),
  );
}

function render(): void {
  const parts: (Node | undefined)[] = [];
  let rendered: Extract<ModelViewToHost, { type: 'rendered' }>['view'] = 'empty';
  const sm = view.summary;
  if (view.restricted) {
    rendered = 'restricted';
    parts.push(h('h1', {}, view.fileName ?? 'Model'), h('p', { class: 'notice' }, 'Restricted Mode: trust this workspace to let Polytope Lens open and run the model.'));
  } else if (view.error) {
    rendered = 'error';
    parts.push(h('h1', {}, view.fileName ?? 'Model'), h('p', { class: 'error', role: 'alert' }, view.error));
  } else if (sm) {
    rendered = view.codes ? 'codes' : 'summary';
    const probe = h('vscode-button', { id: 'probe', disabled: !!view.busy }, 'Probe codes');
    probe.addEventListener('click', () => api.post({ type: 'run', action: 'probeCodes' }));
    const more = ANALYSIS_BUTTONS.map(([action, label]) => {
      const b = h('vscode-button', { id: action, secondary: true, disabled: !!view.busy }, label);
      b.addEventListener('click', () => api.post({ type: 'run', action }));
      return b;
    });
    parts.push(
      h(
        'header',
        {},
        h('h1', {}, view.fileName ?? sm.model),
        h('p', { class: 'meta' }, `opset ${sm.opset}`, sm.producer ? ` · ${sm.producer}` : '', ` · `, h('vscode-badge', {}, plural(sm.total_units, 'unit'))),
        h('div', { class: 'actions' }, probe, ...more),
      ),
      view.busy
        ? h(
            'div',
            { class: 'busy' },
            h('span', {}, view.busy.label + (view.busy.total ? ` ${view.busy.done ?? 0} / ${view.busy.total}` : '')),
            h('vscode-progress-bar', view.busy.total ? { value: view.busy.done ?? 0, max: view.busy.total } : { indeterminate: true }),
          )
        : undefined,
      h('div', { class: 'io' }, tensors('Inputs', sm.inputs), tensors('Outputs', sm.outputs)),
      layersTable(sm.layers),
      sm.layers.length === 0 ? h('p', { class: 'notice' }, 'No piecewise-linear units: the lens has nothing to code in this model.') : undefined,
      sm.unsupported.length
        ? h(
            'section',
            { id: 'unsupported' },
            h('h2', {}, 'What the lens cannot see through'),
            h(
              'table',
              { class: 'grid' },
              h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'node'), h('th', { scope: 'col' }, 'op'), h('th', { scope: 'col' }, 'why'))),
              h('tbody', {}, ...sm.unsupported.map((u) => h('tr', {}, h('td', {}, h('code', {}, u.node)), h('td', {}, u.op), h('td', {}, u.reason)))),
            ),
          )
        : undefined,
      view.results ? resultsList(view.results) : undefined,
      view.codes ? statsTable(view.codes) : h('p', { class: 'hint' }, 'Probe codes to see per-layer activity, dead and always-on units and the regions hit.'),
    );
  } else {
    parts.push(h('p', { class: 'hint' }, 'Reading the model…'));
  }
  app.replaceChildren(...parts.filter((p): p is Node => p !== undefined));
  applyHighlight();
  api.post({
    type: 'rendered',
    view: rendered,
    layers: app.querySelectorAll('#layers tbody tr').length,
    statsRows: app.querySelectorAll('#stats tbody tr').length,
    results: app.querySelectorAll('#results li').length,
    previousExport: !!app.querySelector('#previous-export'),
  });
}

/** Marks the highlighted layer's rows (layers and stats tables) and scrolls to it; reports once per request. */
function applyHighlight(): void {
  const hl = view.highlight;
  if (!hl) return;
  const rows = Array.from(app.querySelectorAll<HTMLTableRowElement>('tr[data-key]'));
  const wanted = [hl.layer, ...hl.nodes].filter((k): k is string => !!k);
  const key = wanted.find((k) => rows.some((r) => r.dataset.key === k)) ?? null;
  for (const r of rows) {
    const on = key !== null && r.dataset.key === key;
    r.classList.toggle('highlight', on);
    if (on) r.setAttribute('aria-current', 'true');
    else r.removeAttribute('aria-current');
  }
  if (!hl.pending || !view.summary) return;
  hl.pending = false;
  if (key !== null) rows.find((r) => r.dataset.key === key)?.scrollIntoView({ block: 'center' });
  api.post({ type: 'highlighted', layer: key });
}

window.addEventListener('message', (e: MessageEvent<ModelViewToWebview>) => {
  const m = e.data;
  switch (m.type) {
    case 'summary':
      if (view.model !== m.model) {
        view.codes = undefined;
        view.results = undefined;
      }
      view = { ...view, model: m.model, fileName: m.fileName, summary: m.summary, error: undefined, restricted: false };
      break;
    case 'error':
      view = { model: m.model, fileName: m.fileName, error: m.message };
      break;
    case 'restricted':
      view = { model: m.model, fileName: m.fileName, restricted: true };
      break;
    case 'busy':
      view.busy = m.busy ? { label: m.label ?? 'Working…' } : undefined;
      break;
    case 'progress':
      if (view.busy) view.busy = { ...view.busy, done: m.done, total: m.total };
      break;
    case 'codes':
      view.codes = m.codes;
      break;
    case 'results':
      view.results = { previousExport: m.previousExport, items: m.items };
      break;
    case 'highlight':
      view.highlight = { layer: m.layer, nodes: m.nodes, pending: true };
      break;
    default:
      return;
  }
  save();
  render();
});

// "ready" first: the host queues its messages until then; a restored state renders at once.
api.post({ type: 'ready' });
render();
