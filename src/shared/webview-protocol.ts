/**
 * The host <-> webview channels, one typed protocol per channel. Every message a webview sends is untrusted: the
 * host accepts it only through the matching `parse...` function below, and nothing in it names a file (the host
 * knows which model a view shows).
 */
import type { CodesResult, ModelSummary } from './results';

/** A CodesResult as a view receives it: without per-sample rows (they can be large and the view does not need them). */
export type CodesView = Omit<CodesResult, 'samples' | 'out'>;

// ---- channel "model view" (custom editor polytopeLens.modelView and the summary panel polytopeLens.summary) ----

export type ModelViewToWebview =
  /** `model` is the model's URI: the page keeps it in its state for the summary panel's serializer. */
  | { type: 'summary'; model: string; fileName: string; summary: ModelSummary }
  /** The model could not be read or analysed; `message` is one sentence for the user. */
  | { type: 'error'; model: string; fileName: string; message: string }
  | { type: 'restricted'; model: string; fileName: string }
  | { type: 'busy'; busy: boolean; label?: string }
  | { type: 'progress'; done: number; total: number }
  | { type: 'codes'; codes: CodesView };

/** Analyses a view may ask for: a closed list, checked by the host. */
export const MODEL_VIEW_ACTIONS = ['probeCodes'] as const;
export type ModelViewAction = (typeof MODEL_VIEW_ACTIONS)[number];

export type ModelViewToHost =
  | { type: 'ready' }
  | { type: 'run'; action: ModelViewAction }
  /** Posted after each render: what the page shows (the host logs it; tests assert on it). */
  | { type: 'rendered'; view: 'empty' | 'summary' | 'codes' | 'error' | 'restricted'; layers: number; statsRows: number };

const RENDERED_VIEWS = ['empty', 'summary', 'codes', 'error', 'restricted'] as const;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < 1e9;
}

/** The only way a message from a model view enters the host: returns undefined for anything malformed. */
export function parseModelViewMessage(x: unknown): ModelViewToHost | undefined {
  if (!isRecord(x)) return undefined;
  switch (x.type) {
    case 'ready':
      return { type: 'ready' };
    case 'run':
      return typeof x.action === 'string' && (MODEL_VIEW_ACTIONS as readonly string[]).includes(x.action)
        ? { type: 'run', action: x.action as ModelViewAction }
        : undefined;
    case 'rendered':
      return typeof x.view === 'string' && (RENDERED_VIEWS as readonly string[]).includes(x.view) && isCount(x.layers) && isCount(x.statsRows)
        ? { type: 'rendered', view: x.view as (typeof RENDERED_VIEWS)[number], layers: x.layers, statsRows: x.statsRows }
        : undefined;
    default:
      return undefined;
  }
}

/** What a model view keeps with setState (restored after a reload; the summary panel's serializer reads `model`). */
export interface ModelViewState {
  /** The model's URI as the host sent it; the host re-validates it before use. */
  model?: string;
  fileName?: string;
  summary?: ModelSummary;
  codes?: CodesView;
}

/** The host-side check of a restored state: only a string URI is taken from it, and the host validates that too. */
export function parseModelViewState(x: unknown): { model: string } | undefined {
  return isRecord(x) && typeof x.model === 'string' && x.model.length < 4096 ? { model: x.model } : undefined;
}

export function withoutSamples(r: CodesResult): CodesView {
  const { samples: _s, out: _o, ...rest } = r;
  return rest;
}
