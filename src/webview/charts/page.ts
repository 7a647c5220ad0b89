/**
 * The shell every analysis page shares: state (getState/setState; a restored state renders before the host says
 * anything), the host messages common to all kinds (busy, result, error, cancelled, exported), the header, the
 * export toolbar (SVG / PNG / JSON: the page sends content, the host asks where to save), the "rendered" report
 * counted from the DOM, and a re-render when the theme changes.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import {
  ANALYSIS_TITLES,
  RERUN_FIELDS,
  type AnalysisData,
  type AnalysisRenderedView,
  type AnalysisToHost,
  type AnalysisToWebview,
  type AnalysisViewState,
  type ExportFormat,
} from '../../shared/webview-protocol';
import { h, vscodeApi } from '../vscodeApi';
import { paramsForm } from '../params';
import { figureToPng, figureToString, svgToPng, svgToString, type Figure } from './export';
import { bestClusterMethod } from '../../shared/cluster-methods';

export interface Rendered {
  /** The page's content under the header. */
  root: HTMLElement;
  /** The chart that Export SVG / PNG writes. */
  chart?: () => SVGSVGElement | undefined;
  /** The whole figure Export SVG / PNG writes (chart, legend, notes; the page title is added): preferred to `chart`. */
  figure?: () => Figure | undefined;
  items(): number;
  marks(): number;
}

export interface PageContext {
  /** Page-specific view settings, kept in the state. */
  ui: Record<string, unknown>;
  saveUi(): void;
  /** Sets view settings, keeps them in the state and renders the page again with them. */
  setUi(patch: Record<string, unknown>): void;
  post(m: AnalysisToHost): void;
  rerender(): void;
}

export interface PageSpec {
  render(data: AnalysisData, ctx: PageContext): Rendered;
  /** Messages only this page handles (a region map's point); return true when handled. */
  onMessage?(m: AnalysisToWebview, ctx: PageContext): boolean;
}

export function startPage(spec: PageSpec): void {
  const api = vscodeApi<AnalysisToHost, AnalysisViewState>();
  const app = document.getElementById('app')!;
  let state: AnalysisViewState = { ...(api.getState() ?? {}) };
  state.ui ??= {};
  let busyLabel: string | undefined = state.status === 'busy' ? state.message : undefined;
  let exported: string | undefined;

  const save = () => api.setState(state);
  const ctx: PageContext = {
    get ui() {
      return (state.ui ??= {});
    },
    saveUi: save,
    setUi: (patch) => {
      Object.assign((state.ui ??= {}), patch);
      save();
      render();
    },
    post: (m) => api.post(m),
    rerender: () => render(),
  };

  let current: Rendered | undefined;

  function exportBar(data: AnalysisData, chart: (() => SVGSVGElement | undefined) | undefined, figure: Rendered['figure'], title: string): HTMLElement {
    const bar = h('div', { class: 'exports', role: 'group', 'aria-label': 'Export' });
    const add = (format: ExportFormat, label: string, make: () => Promise<string | undefined>) => {
      const b = h('vscode-button', { id: `export-${format}`, secondary: true }, label);
      b.addEventListener('click', async () => {
        const content = await make();
        if (content) api.post({ type: 'export', format, content });
      });
      bar.append(b);
    };
    if (figure) {
      add('svg', 'Export SVG', async () => {
        const f = figure();
        return f ? figureToString(title, f).text : undefined;
      });
      add('png', 'Export PNG', async () => {
        const f = figure();
        return f ? figureToPng(title, f) : undefined;
      });
    } else if (chart) {
      add('svg', 'Export SVG', async () => {
        const svg = chart();
        return svg ? svgToString(svg) : undefined;
      });
      add('png', 'Export PNG', async () => {
        const svg = chart();
        return svg ? svgToPng(svg) : undefined;
      });
    }
    add('json', 'Export JSON', async () => JSON.stringify(data.result, null, 1));
    if (exported) bar.append(h('span', { class: 'hint', role: 'status' }, exported));
    return bar;
  }

  function render(): void {
    const parts: Node[] = [];
    let view: AnalysisRenderedView = 'empty';
    current = undefined;
    const title = state.kind ? ANALYSIS_TITLES[state.kind] : 'Analysis';
    const heading = state.fileName ? `${title}: ${state.fileName}` : title;
    parts.push(h('h1', {}, heading));
    // The form of the analysis's parameters, with Run (and Cancel while running): see src/webview/params.ts.
    // (None for a kind without parameters: the polytope view has its own Find every facet.)
    if (state.kind && state.params && RERUN_FIELDS[state.kind].length) {
      const ui = (state.ui ??= {});
      parts.push(
        paramsForm({
          kind: state.kind,
          params: state.params,
          draft: typeof ui.draft === 'object' && ui.draft !== null ? (ui.draft as Record<string, string | boolean>) : {},
          busy: busyLabel !== undefined,
          problem: typeof ui.paramsError === 'string' ? ui.paramsError : undefined,
          saveDraft: (draft) => {
            ui.draft = draft;
            save();
          },
          setProblem: (problem) => {
            ui.paramsError = problem;
            save();
          },
          run: (params) => api.post({ type: 'rerun', kind: state.kind!, params }),
          cancel: () => api.post({ type: 'cancel' }),
        }),
      );
    }
    if (busyLabel !== undefined) {
      view = 'busy';
      parts.push(h('div', { class: 'busy' }, h('span', {}, busyLabel), h('vscode-progress-bar', { indeterminate: true })));
    } else if (state.status === 'error') {
      view = 'error';
      parts.push(h('p', { class: 'error', role: 'alert' }, state.message ?? 'The analysis failed.'));
    } else if (state.status === 'cancelled') {
      view = 'cancelled';
      parts.push(h('p', { class: 'notice', role: 'status' }, 'Cancelled: no result. Press Run, or run the command again, to compute it.'));
    } else if (state.data) {
      view = 'result';
      current = spec.render(state.data, ctx);
      parts.push(exportBar(state.data, current.chart, current.figure, heading), current.root);
    } else {
      parts.push(h('p', { class: 'hint' }, 'Waiting for the analysis…'));
    }
    app.replaceChildren(...parts);
    api.post({ type: 'rendered', view, kind: state.kind, items: current ? current.items() : 0, marks: current ? current.marks() : 0 });
  }

  window.addEventListener('message', (e: MessageEvent<AnalysisToWebview>) => {
    const m = e.data;
    if (!m || typeof m !== 'object') return;
    switch (m.type) {
      case 'busy':
        state = { ...state, kind: m.kind, model: m.model, fileName: m.fileName, params: m.params, status: 'busy', message: m.label, ui: { ...state.ui, paramsError: undefined } };
        busyLabel = m.label;
        break;
      case 'result':
        // A new result starts with fresh view settings (zoom, cursor); a result of the same kind keeps the choices that
        // still apply to it (hidden layers, the cluster method: the page falls back when it is not in the result).
        state = { kind: m.kind, model: m.model, fileName: m.fileName, params: m.params, data: m.data, ui: state.kind === m.kind ? { layersHidden: state.ui?.layersHidden, method: keptMethod(state.ui) } : {} };
        openOnBestMethod(state);
        busyLabel = undefined;
        exported = undefined;
        break;
      case 'error':
        state = { kind: m.kind, model: m.model, fileName: m.fileName, params: m.params, status: 'error', message: m.message, ui: {} };
        busyLabel = undefined;
        break;
      case 'cancelled':
        state = { kind: m.kind, model: m.model, fileName: m.fileName, params: m.params, status: 'cancelled', ui: {} };
        busyLabel = undefined;
        break;
      case 'exported':
        exported = `Saved ${m.fileName}.`;
        break;
      case 'paramsError':
        // A Run the host refused: the sentence under the form; what the view shows stays.
        (state.ui ??= {}).paramsError = m.message;
        break;
      default:
        if (spec.onMessage?.(m, ctx)) return;
        return;
    }
    save();
    render();
  });

  // Theme changes (body class, --vscode-* variables) re-render: region colours are computed for the theme.
  let pending = false;
  const onTheme = () => {
    if (pending) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      render();
    });
  };
  new MutationObserver(onTheme).observe(document.body, { attributes: true, attributeFilter: ['class'] });

  // A state saved while busy is stale after a reload (the run belonged to the old page): show what it had.
  if (state.status === 'busy') {
    busyLabel = undefined;
    state.status = state.data ? undefined : 'cancelled';
  }
  api.post({ type: 'ready' });
  render();
}

/**
 * A cluster result opens on the method that puts most inputs in a cluster of their own label (bestClusterMethod);
 * without labels, on the engine's first method. `ui.autoMethod` remembers the choice, so a method the user picked is kept
 * on the next result of the same view and an automatic one is chosen again.
 */
function openOnBestMethod(state: AnalysisViewState): void {
  if (state.data?.kind !== 'cluster') return;
  const ui = (state.ui ??= {});
  if (ui.method !== undefined) return;
  const best = bestClusterMethod(state.data.result);
  if (best) ui.method = ui.autoMethod = best;
}

/** The method the user picked in the previous result (not one chosen automatically). */
function keptMethod(ui: Record<string, unknown> | undefined): unknown {
  return ui?.method !== undefined && ui.method !== ui.autoMethod ? ui.method : undefined;
}


/** The theme kind from VS Code's body class. */
export function themeKind(): 'light' | 'dark' | 'hc-dark' | 'hc-light' {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'hc-light';
  if (c.contains('vscode-high-contrast')) return 'hc-dark';
  if (c.contains('vscode-light')) return 'light';
  return 'dark';
}

/** A stable 32-bit hash of a string (FNV-1a). */
export function hash32(s: string): number {
  let x = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    x ^= s.charCodeAt(i);
    x = Math.imul(x, 0x01000193) >>> 0;
  }
  return x >>> 0;
}

/** The fill of a region: hue from the hash of its code, lightness and saturation for the theme. */
export function regionColour(key: string): string {
  const x = hash32(key);
  const hue = x % 360;
  const jitter = (x >>> 9) % 12;
  switch (themeKind()) {
    case 'light':
      return `hsl(${hue} ${55 + jitter}% ${76 + (jitter % 6)}%)`;
    case 'hc-light':
      return `hsl(${hue} 90% ${82 + (jitter % 6)}%)`;
    case 'hc-dark':
      return `hsl(${hue} 90% ${22 + (jitter % 6)}%)`;
    default:
      return `hsl(${hue} ${40 + jitter}% ${28 + (jitter % 6)}%)`;
  }
}

/** Bits set in a hex code. */
export function popcountHex(hex: string): number {
  let n = 0;
  for (const ch of hex) {
    let v = parseInt(ch, 16);
    while (v) {
      n += v & 1;
      v >>= 1;
    }
  }
  return n;
}

export const fmt = (x: number, digits = 3): string => (Number.isInteger(x) ? String(x) : Math.abs(x) >= 1000 || Math.abs(x) < 1e-3 ? x.toPrecision(digits) : Number(x.toPrecision(digits)).toString());
export const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
