/**
 * The side panel page: the model of the open file, its last analysis, what changed since the previous export and
 * its checkpoints as a series. Renders the host's state as is (the host computes everything); talks to the host only
 * through the "side panel" protocol; keeps the last state with setState so it shows at once after a reload.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import type { BeforeAfter, SidePanelAction, SidePanelRenderedView, SidePanelState, SidePanelToHost, SidePanelToWebview } from '../shared/webview-protocol';
import { h, vscodeApi } from './vscodeApi';
import { layerName, layerText } from './layerName';
import { headerCells, term, type Column } from './term';
import { plural, termName } from '../shared/glossary';

const api = vscodeApi<SidePanelToHost, SidePanelState>();
const app = document.getElementById('app')!;
let state: SidePanelState | undefined = api.getState();

const pct = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '–');
const num = (x: number | undefined | null) => (x === undefined || x === null ? '–' : String(x));
const when = (ms: number) => new Date(ms).toLocaleTimeString();

const HOW: Record<NonNullable<SidePanelState['source']>['how'], string> = {
  server: 'exported by',
  'export-call': 'the torch.onnx.export path of',
  'same-name': 'same name as',
  setting: 'polytopeLens.modelForFile for',
  workspace: 'same name (workspace) as',
  editor: 'open in the model view',
};

function button(action: SidePanelAction, label: string, disabled = false): HTMLElement {
  const b = h('vscode-button', { id: `action-${action}`, disabled, secondary: action !== 'probeCodes' }, label);
  b.addEventListener('click', () => api.post({ type: 'run', action }));
  return b;
}

/** "before → after" with the signed change; a class says which way it went. */
function change(v: BeforeAfter, tag: 'td' | 'span' = 'td'): HTMLElement {
  const [a, b] = v;
  if (a === null && b === null) return h(tag, { class: 'num' }, '–');
  if (a === null || b === null) return h(tag, { class: 'num' }, `${num(a)} → ${num(b)}`);
  const d = b - a;
  return h(tag, { class: `num ${d > 0 ? 'up' : d < 0 ? 'down' : 'same'}`, title: `${a} → ${b}` }, `${b}`, h('span', { class: 'delta' }, d === 0 ? ' ±0' : ` ${d > 0 ? '+' : ''}${d}`));
}

/** A table; `stack` (per-layer tables) lets a narrow panel put each row's name on a line above its numbers. */
function table(id: string, caption: string, head: Column[], rows: HTMLElement[], stack = false): HTMLElement {
  // Narrow panels scroll a wide table sideways instead of cutting it off.
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { id, class: stack ? `grid stack cols-${head.length - 1}` : 'grid' },
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, ...headerCells(head))),
      h('tbody', {}, ...rows),
    ),
  );
}

function modelSection(st: SidePanelState): HTMLElement[] {
  const out: HTMLElement[] = [];
  const busy = !!st.busy;
  const sm = st.summary;
  if (sm) {
    out.push(
      h('p', { class: 'meta' }, `opset ${sm.opset}`, sm.producer ? ` · ${sm.producer}` : '', ' · ', h('vscode-badge', {}, plural(sm.totalUnits, 'unit')), ` in ${plural(sm.layers, 'layer')}`, sm.unsupported ? ` · ${plural(sm.unsupported, 'op')} the lens cannot see through` : ''),
      h('div', { class: 'actions' }, button('probeCodes', 'Probe codes', busy), button('openModel', 'Model view'), button('refresh', 'Refresh', busy)),
    );
  }
  if (st.busy) out.push(h('div', { class: 'busy' }, h('span', {}, st.busy), h('vscode-progress-bar', { indeterminate: true })));
  if (st.message) out.push(h('p', { class: 'error', role: 'alert' }, st.message));
  const a = st.analysis;
  if (a) {
    const parts: (string | HTMLElement)[] = [];
    if (a.n) parts.push(h('strong', { id: 'distinct' }, String(a.distinct)), ' ', term('regions-hit', termName('regions-hit', a.distinct)), ` by ${plural(a.n, 'input')} · `, term('dead-unit', 'dead'), ` ${pct(a.dead, a.totalUnits)} · `, term('always-on-unit', 'always on'), ` ${pct(a.alwaysOn, a.totalUnits)} of the units`);
    if (a.paths) parts.push(`${a.n ? ' · ' : ''}${(a.meanCrossings ?? 0).toFixed(2)} `, term('crossings-per-path'), ` (mean of ${plural(a.paths, 'path')})`);
    out.push(h('section', { id: 'analysis' }, h('h2', {}, 'Last analysis'), h('p', {}, ...parts), a.inputsNote ? h('p', { class: 'hint' }, `${a.inputsNote} · ${when(a.at)}`) : h('span')));
  } else if (sm && !st.results?.items.length) {
    out.push(h('p', { class: 'hint' }, 'No analysis of this export yet: Probe codes to see dead and always-on units and the regions hit per layer.'));
  }
  const kept = st.results;
  if (kept?.items.length) {
    out.push(
      h(
        'section',
        { id: 'results' },
        h('h2', {}, 'Last results'),
        kept.previousExport ? h('p', { class: 'notice', id: 'previous-export' }, 'From the ', term('previous-export'), ` of ${st.model?.fileName ?? 'the model'}: the file has changed since.`) : h('span'),
        h('ul', { class: 'results' }, ...[...kept.items].sort((x, y) => y.at - x.at).map((i) => h('li', { 'data-kind': i.kind }, h('strong', {}, i.title), ` · ${i.line}`))),
      ),
    );
  }
  if (st.layers.length) {
    const live = st.layers.some((l) => l.distinct !== undefined);
    const paths = st.layers.some((l) => l.crossings !== undefined);
    const head: Column[] = ['layer', ['unit', 'units'], ...(live ? ([['dead-unit', 'dead'], ['always-on-unit', 'on'], ['regions-hit', 'regions']] as Column[]) : []), ...(paths ? ([['crossings-per-path', 'cross.']] as Column[]) : [])];
    out.push(
      table(
        'layers',
        'Layers',
        head,
        st.layers.map((l) =>
          h(
            'tr',
            { 'data-key': l.key },
            h('th', { scope: 'row', title: `${layerText(l)} (${l.op})` }, ...layerName(l)),
            h('td', { class: 'num' }, String(l.units)),
            ...(live ? [h('td', { class: 'num' }, num(l.dead)), h('td', { class: 'num' }, num(l.alwaysOn)), h('td', { class: 'num' }, num(l.distinct))] : []),
            ...(paths ? [h('td', { class: 'num' }, l.crossings === undefined ? '–' : l.crossings.toFixed(2))] : []),
          ),
        ),
        true,
      ),
    );
  }
  const d = st.delta;
  if (d) {
    out.push(
      h(
        'section',
        { id: 'delta' },
        h('h2', {}, 'Since the previous export'),
        h('p', { class: 'hint' }, `Re-exported at ${when(d.at)}.`, d.analysed ? '' : ' Codes are compared once both exports were probed.'),
        h('p', { id: 'delta-total' }, term('regions-hit'), ' ', change(d.distinct, 'span'), ' · ', term('unit', 'units'), ' ', change(d.totalUnits, 'span')),
        table('delta-table', 'Per layer (after, change)', ['layer', ['unit', 'units'], ['regions-hit', 'regions'], ['dead-unit', 'dead'], ['always-on-unit', 'on']], d.rows.map((r) => h('tr', { 'data-key': r.key }, h('th', { scope: 'row', title: layerText(r) }, ...layerName(r)), change(r.units), change(r.distinct), change(r.dead), change(r.alwaysOn))), true),
      ),
    );
  }
  if (st.checkpoints.length) {
    const probed = st.checkpoints.every((c) => c.distinct !== undefined);
    out.push(
      h(
        'section',
        { id: 'series' },
        h('h2', {}, 'Checkpoints'),
        table(
          'series-table',
          `${plural(st.checkpoints.length, 'export')} of this model`,
          ['file', ['unit', 'units'], ['regions-hit', 'regions'], ['dead-unit', 'dead'], ['always-on-unit', 'on']],
          st.checkpoints.map((c) =>
            h(
              'tr',
              { class: c.current ? 'current' : '', 'aria-current': c.current ? 'true' : undefined, title: `${c.fileName}: ${c.error ?? new Date(c.mtimeMs).toLocaleString()}` },
              // Without the extension every export shares, the name fits the side bar's default width.
              h('th', { scope: 'row' }, c.fileName.replace(/\.onnx$/i, '')),
              h('td', { class: 'num' }, c.error ? '!' : num(c.units)),
              h('td', { class: 'num' }, num(c.distinct)),
              h('td', { class: 'num' }, num(c.dead)),
              h('td', { class: 'num' }, num(c.alwaysOn)),
            ),
          ),
        ),
        h('div', { class: 'actions' }, button('probeSeries', probed ? 'Probe all again' : 'Probe all', busy)),
      ),
    );
  }
  if (st.lastRefresh) {
    out.push(h('p', { class: 'hint', id: 'refreshed' }, `Refreshed after the re-export of ${st.lastRefresh.fileName} at ${when(st.lastRefresh.at)}${st.lastRefresh.reprobed ? ', with the last probe inputs' : ''}.`));
  } else if (!st.autoRefresh && sm) {
    out.push(h('p', { class: 'hint' }, 'Automatic refresh is off (polytopeLens.autoRefresh).'));
  }
  return out;
}

function render(): void {
  const st = state;
  let view: SidePanelRenderedView = 'empty';
  const parts: HTMLElement[] = [];
  if (!st || (!st.model && st.status !== 'loading')) {
    parts.push(h('p', { class: 'hint' }, 'Open a PyTorch training script that exports an ONNX model (torch.onnx.export), or an .onnx file.'));
  } else {
    if (st.model) {
      parts.push(
        h('h1', { title: st.model.relPath }, st.model.fileName),
        st.source && st.source.how !== 'editor' ? h('p', { class: 'source' }, `${HOW[st.source.how]} `, h('code', {}, st.source.fileName)) : h('p', { class: 'source' }, HOW.editor),
      );
    }
    switch (st.status) {
      case 'loading':
        view = 'loading';
        parts.push(h('p', { class: 'hint' }, 'Reading the model…'));
        break;
      case 'missing':
        view = 'missing';
        parts.push(h('p', { class: 'notice' }, `Not exported yet: run the script to write ${st.model?.relPath ?? 'the model'}; this panel refreshes when it appears.`));
        break;
      case 'restricted':
        view = 'restricted';
        parts.push(h('p', { class: 'notice' }, 'Restricted Mode: trust this workspace to let Polytope Lens open and run the model.'));
        break;
      case 'error':
        view = 'error';
        parts.push(h('p', { class: 'error', role: 'alert' }, st.message ?? 'The model could not be read.'));
        break;
      default:
        view = st.summary ? 'model' : 'loading';
        parts.push(...modelSection(st));
    }
  }
  app.replaceChildren(...parts);
  api.post({
    type: 'rendered',
    view,
    layers: app.querySelectorAll('#layers tbody tr').length,
    deltaRows: app.querySelectorAll('#delta-table tbody tr').length,
    checkpoints: app.querySelectorAll('#series-table tbody tr').length,
  });
}

window.addEventListener('message', (e: MessageEvent<SidePanelToWebview>) => {
  const m = e.data;
  if (m?.type !== 'state') return;
  state = m.state;
  api.setState(state);
  render();
});

api.post({ type: 'ready' });
render();
