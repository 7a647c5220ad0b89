/**
 * The parameter form at the top of each analysis page: the values the shown result was made with, editable, and a
 * Run button that asks the host to run the same analysis on the same model and inputs again, in the same tab
 * (message 'rerun'). Values are checked here first (rerunProblem, the same check the host makes) so a bad value is
 * one sentence under the form and nothing is sent; the host's refusals ('paramsError') show in the same place.
 * Unsent edits are kept in the page state (`draft`), so they survive a reload; a new result shows its own values.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { RERUN_FIELDS, rerunProblem, type AnalysisKind, type AnalysisParams, type RerunField, type RerunParams } from '../shared/webview-protocol';
import { h } from './vscodeApi';

/** What a field holds, how it is typed in. */
type FieldType = 'int' | 'number' | 'bool' | 'window' | 'alphas';

interface FieldSpec {
  label: string;
  type: FieldType;
  /** Said in the field's tooltip. */
  title: string;
}

const FIELDS: Record<RerunField, FieldSpec> = {
  from: { label: 'From sample', type: 'int', title: 'The first endpoint: a sample index in the data file.' },
  to: { label: 'To sample', type: 'int', title: 'The second endpoint: a sample index in the data file.' },
  steps: { label: 'Steps', type: 'int', title: 'Equal steps along each path; the codes are compared between neighbouring steps.' },
  exact: { label: 'Exact', type: 'bool', title: 'Also compute the exact boundaries (in float64), not only the sampled steps.' },
  pairs: { label: 'Pairs', type: 'int', title: 'Pairs of each kind: different-class pairs and same-class controls.' },
  studyWindow: { label: 'Window (steps)', type: 'int', title: 'Steps either side of the class change counted as "near" it.' },
  permutations: { label: 'Permutations', type: 'int', title: 'Permutations of the test that gives p.' },
  window: { label: 'Window LO, HI', type: 'window', title: 'The square [LO, HI]² of plane coordinates u, v (a at 0,0; b at 1,0; c at 0,1), or of the two inputs.' },
  resolution: { label: 'Resolution', type: 'int', title: 'Grid points per side of the window.' },
  radius: { label: 'Radius', type: 'number', title: 'Distance from each input to the vertices x ± r·v of its neighbourhood (input units).' },
  directions: { label: 'Directions', type: 'int', title: 'Random orthonormal directions per input; each adds two vertices.' },
  n: { label: 'Inputs', type: 'int', title: 'How many inputs, from the first of the data file.' },
  alphas: { label: 'Alphas', type: 'alphas', title: 'Comma-separated scale factors of the layer (1 is the model as it is).' },
  k: { label: 'k', type: 'int', title: 'Clusters of k-medoids, and directions of PCA / NMF.' },
  minClusterSize: { label: 'Min cluster size', type: 'int', title: "HDBSCAN's smallest cluster; fewer inputs together are noise." },
};

/** The text a field shows for a value. */
function shown(type: FieldType, v: unknown): string | boolean {
  if (type === 'bool') return v === true;
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.join(type === 'window' ? ', ' : ',');
  return String(v);
}

/** A field's typed text as a value, or a sentence saying what is wrong with it. */
function read(key: RerunField, type: FieldType, raw: string | boolean): { value: unknown } | { problem: string } {
  const label = FIELDS[key].label;
  if (type === 'bool') return { value: raw === true };
  const text = String(raw).trim();
  const nums = text.split(',').map((p) => p.trim());
  const asNums = nums.map((p) => (p === '' ? NaN : Number(p)));
  switch (type) {
    case 'int':
      return /^-?\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? { value: Number(text) } : { problem: `${label}: a whole number, please (not '${text}').` };
    case 'number':
      return text !== '' && Number.isFinite(Number(text)) ? { value: Number(text) } : { problem: `${label}: a number, please (not '${text}').` };
    case 'window':
      return asNums.length === 2 && asNums.every(Number.isFinite) ? { value: asNums } : { problem: `${label}: two numbers LO, HI, please (not '${text}').` };
    case 'alphas':
      return asNums.length > 0 && asNums.every(Number.isFinite) ? { value: asNums } : { problem: `${label}: comma-separated numbers, for example 0.5, 1, 2 (not '${text}').` };
  }
}

/** The field a sentence is about: the one whose label comes first in it, as a word. */
function fieldNamedIn(sentence: string, keys: readonly RerunField[]): RerunField | undefined {
  let best: { key: RerunField; at: number } | undefined;
  for (const key of keys) {
    const label = FIELDS[key].label.split(' ')[0]!.replace(/[^\w]/g, '');
    const at = sentence.search(new RegExp(`\\b${label}\\b`, 'i'));
    if (at >= 0 && (!best || at < best.at)) best = { key, at };
  }
  return best?.key;
}

export interface ParamsFormOptions {
  kind: AnalysisKind;
  /** The values of the shown result (or of the run in progress). */
  params: AnalysisParams;
  /** Unsent edits by field (kept in the page state). */
  draft: Partial<Record<RerunField, string | boolean>>;
  busy: boolean;
  /** A sentence from the host (paramsError) or from this form's own check. */
  problem?: string;
  saveDraft(draft: Partial<Record<RerunField, string | boolean>>): void;
  /** Shows a problem (kept in the state), or clears it with undefined. */
  setProblem(problem: string | undefined): void;
  run(params: RerunParams): void;
  cancel(): void;
}

/** What the form says under its fields: where the defaults come from, and how many of the inputs a run used. */
function notes(kind: AnalysisKind, p: AnalysisParams): string[] {
  const out: string[] = [];
  if (kind === 'local') {
    if (p.medianDistance !== undefined) out.push(`Default radius: 5 % of the median distance between two inputs (${p.medianDistance}), so ${Number((0.05 * p.medianDistance).toPrecision(3))}.`);
  }
  if ((kind === 'local' || kind === 'cluster' || kind === 'scale') && p.n !== undefined && p.available !== undefined) {
    out.push(p.n < p.available ? `${p.n} of ${p.available} inputs (the first ${p.n}).` : `All ${p.available} inputs.`);
  }
  if ((kind === 'path' || kind === 'slice') && p.available !== undefined) out.push(`Sample indices 0–${p.available - 1}.`);
  return out;
}

export function paramsForm(o: ParamsFormOptions): HTMLElement {
  const keys = RERUN_FIELDS[o.kind] as readonly RerunField[];
  const draft = { ...o.draft };
  const controls = new Map<RerunField, HTMLElement & { value?: string; checked?: boolean; invalid?: boolean }>();
  // Only in the page while there is something to say (an empty alert would be the page's first alert).
  const problem = h('p', { class: 'params-problem error', role: 'alert', id: 'params-problem' }, o.problem ?? '');

  const fields = keys.map((key) => {
    const spec = FIELDS[key];
    const id = `param-${key}`;
    const value = key in draft ? draft[key]! : shown(spec.type, o.params[key]);
    if (spec.type === 'bool') {
      const box = h('vscode-checkbox', { id, title: spec.title, checked: value === true, disabled: o.busy }, spec.label);
      box.addEventListener('change', () => {
        draft[key] = (box as unknown as { checked: boolean }).checked;
        o.saveDraft(draft);
      });
      controls.set(key, box);
      return h('div', { class: 'param param-bool' }, box);
    }
    const field = h('vscode-textfield', { id, title: spec.title, value: String(value), disabled: o.busy, class: spec.type === 'alphas' || spec.type === 'window' ? 'wide' : undefined });
    // The property too: the attribute only sets the initial value.
    (field as unknown as { value: string }).value = String(value);
    field.addEventListener('input', () => {
      draft[key] = (field as unknown as { value: string }).value;
      o.saveDraft(draft);
    });
    // Enter in a field submits the form (vscode-textfield is form-associated): handled by the form's submit below.
    controls.set(key, field);
    return h('div', { class: 'param' }, h('vscode-label', { for: id, title: spec.title }, spec.label), field);
  });

  function submit(): void {
    if (o.busy) return;
    const params: Record<string, unknown> = {};
    for (const c of controls.values()) c.invalid = false;
    for (const key of keys) {
      const c = controls.get(key)!;
      const r = read(key, FIELDS[key].type, FIELDS[key].type === 'bool' ? !!c.checked : (c.value ?? ''));
      if ('problem' in r) return fail(r.problem, key);
      params[key] = r.value;
    }
    const sentence = rerunProblem(o.kind, params as RerunParams, o.params.available);
    if (sentence) return fail(sentence, fieldNamedIn(sentence, keys));
    o.setProblem(undefined);
    o.run(params as RerunParams);
  }

  function fail(sentence: string, key: RerunField | undefined): void {
    const c = key && controls.get(key);
    if (c) c.invalid = true;
    problem.textContent = sentence;
    if (!problem.isConnected) form.querySelector('.param-row')!.after(problem);
    o.setProblem(sentence);
  }

  const run = h('vscode-button', { id: 'params-run', disabled: o.busy, title: 'Run this analysis again with these values, in this tab' }, 'Run');
  run.addEventListener('click', submit);
  const buttons = h('div', { class: 'param-buttons' }, run);
  if (o.busy) {
    const cancel = h('vscode-button', { id: 'params-cancel', secondary: true, title: 'Stop the run in progress' }, 'Cancel');
    cancel.addEventListener('click', () => o.cancel());
    buttons.append(cancel);
  }
  const form = h(
    'form',
    { id: 'params', class: 'params', 'aria-label': 'Parameters' },
    h('div', { class: 'param-row' }, ...fields, buttons),
    o.problem ? problem : undefined,
    ...notes(o.kind, o.params).map((t) => h('p', { class: 'hint params-note' }, t)),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
  return form;
}
