/** Hover text (Markdown) for a target: the ONNX node(s), op, units, shapes, and live numbers when there are some. */
import { basename } from 'node:path';
import { OPEN_LAYER_COMMAND } from '../shared/lsp-protocol';
import type { LayerInfo } from '../shared/results';
import { GLOSSARY, OPEN_GLOSSARY_COMMAND, plural, termName, termTooltip, type GlossaryTermId } from '../shared/glossary';
import type { Mapped, Via } from './mapping';
import { label, layerRows, mappedOf, openArgs, type DocView, type LayerRow, type Target } from './targets';

const MAX_NODES = 8;

function pct(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : '–';
}

function fixed(x: number | undefined, digits = 2): string {
  return x === undefined ? '–' : x.toFixed(digits);
}

function code(s: string): string {
  return `\`${s.replace(/`/g, "'")}\``;
}

export function commandLink(title: string, command: string, args: unknown): string {
  return `[${title}](command:${command}?${encodeURIComponent(JSON.stringify([args]))})`;
}

/**
 * Where a term's link goes: under VS Code ("client" mode) the extension's command, which opens the glossary in the
 * Markdown preview; in other editors the glossary file itself (a file: URL), when the server knows where it is.
 */
let glossaryTarget: { command: true } | { fileUrl: string } | undefined;
export function setGlossaryTarget(t: typeof glossaryTarget): void {
  glossaryTarget = t;
}

/** A glossary term in Markdown: a link to its section, with its sentence as the link's title (the tooltip). */
export function termLink(id: GlossaryTermId, text: string = GLOSSARY[id].name): string {
  const title = termTooltip(id).replace(/["\\]/g, (c) => `\\${c}`);
  if (!glossaryTarget) return text;
  const href = 'command' in glossaryTarget ? `command:${OPEN_GLOSSARY_COMMAND}?${encodeURIComponent(JSON.stringify([{ term: id }]))}` : `${glossaryTarget.fileUrl}#${GLOSSARY[id].anchor}`;
  return `[${text}](${href} "${title}")`;
}

function nodeList(mapped: Mapped): string {
  const names = mapped.nodes.slice(0, MAX_NODES).map((n) => `${code(n.name)} (${n.op})`);
  const more = mapped.nodes.length - MAX_NODES;
  return names.join(', ') + (more > 0 ? `, … ${more} more` : '');
}

/** The evidence a mapping used, in words. */
function evidence(v: Via, t: Target): string {
  switch (v) {
    case 'metadata':
      return t.kind === 'line' || t.kind === 'use' ? 'the stack traces in the node metadata' : 'module paths in the node metadata';
    case 'scope':
      return 'scope names';
    case 'params':
      return 'parameter names';
    case 'order':
      return 'order';
  }
}

/** Where a layer comes from: its module path (the root module as `(root)`), then its source line. */
export function layerOrigin(l: LayerInfo): string {
  const mod = l.module === undefined ? '' : code(l.module || '(root)');
  const src = l.source ? `${basename(l.source.file)}:${l.source.line}` : '';
  return [mod, src].filter(Boolean).join(' · ');
}

function table(rows: LayerRow[], live: boolean): string[] {
  const withModule = rows.some((r) => r.layer.module !== undefined || r.layer.source);
  const head = withModule ? ['module', 'layer', 'op', 'units', 'shape'] : ['layer', 'op', 'units', 'shape'];
  const text = withModule ? 2 : 1;
  if (live) head.push(termLink('dead-unit', 'dead'), termLink('always-on-unit', 'always on'), termLink('regions-hit'), termLink('crossings-per-path'));
  const out = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i <= text ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of rows) {
    const l = r.layer;
    const cells = [code(l.key), l.op + (l.exact ? '' : ` (${termLink('sign-code')})`), String(l.units), `[${l.shape.join(', ')}]`];
    if (withModule) cells.unshift(layerOrigin(l) || '–');
    if (live) {
      cells.push(
        r.stats ? pct(r.stats.dead_units, l.units) : '–',
        r.stats ? pct(r.stats.always_on_units, l.units) : '–',
        r.distinct === undefined ? '–' : String(r.distinct),
        fixed(r.crossings),
      );
    }
    out.push(`| ${cells.join(' | ')} |`);
  }
  return out;
}

function liveNote(view: DocView): string | null {
  const a = view.analysis;
  if (!a || (!a.codes && !a.pathStats)) return null;
  const parts: string[] = [];
  if (a.codes) parts.push(`${a.codes.inputs_note ?? plural(a.codes.n, 'input')}, ${a.codes.distinct_codes} ${termLink('regions-hit', termName('regions-hit', a.codes.distinct_codes))} overall`);
  if (a.pathStats) parts.push(`${fixed(a.pathStats.mean_crossings)} ${termLink('crossings-per-path')} (mean of ${plural(a.pathStats.paths, 'path')})`);
  const prev = a.previousExport ? ` These results are from the ${termLink('previous-export')} of ${code(basename(a.modelPath))}; run the analyses again for this one.` : '';
  return `_Latest analysis:_ ${parts.join('; ')}.${prev}`;
}

function staleNote(view: DocView): string | null {
  if (!view.stale || !view.structure) return null;
  if (view.staleFrom === 'lines') {
    return `⚠ Line ${(view.staleRow ?? 0) + 1} of this file differs from the source that ${code(basename(view.structure.modelPath))} recorded when it was exported: the numbers may be stale. Re-export the model.`;
  }
  return `⚠ This file was changed after ${code(basename(view.structure.modelPath))} was exported: the numbers may be stale. Re-export the model.`;
}

function missingModel(view: DocView): string {
  const looked = view.candidates.map((c) => code(basename(c))).join(', ');
  return `_No exported model found_ (looked for ${looked || 'a torch.onnx.export path or a same-named .onnx'}).`;
}

function classHover(view: DocView, t: Extract<Target, { kind: 'class' }>, mapped: Mapped | undefined): string[] {
  const s = view.structure!;
  const lines: string[] = [];
  const isRoot = view.mapping?.root === t.cls;
  if (isRoot) {
    const sum = s.summary;
    lines.push(`Exported as ${code(basename(s.modelPath))}: ${s.nodes.length} nodes, ${sum.layers.length} layers with units, **${sum.total_units} units** in all · opset ${sum.opset}${sum.producer ? ` · ${sum.producer}` : ''}`);
    const io = (xs: { name: string; shape: (number | string)[] }[]) => xs.map((x) => `${code(x.name)} [${x.shape.join(', ')}]`).join(', ');
    lines.push('', `inputs ${io(sum.inputs)} → outputs ${io(sum.outputs)}`);
    if (s.note) lines.push('', `_The lens could not size the layers:_ ${s.note}`);
    const a = view.analysis;
    if (a?.codes) {
      const units = sum.total_units;
      const dead = a.codes.stats.reduce((x, st) => x + st.dead_units, 0);
      const on = a.codes.stats.reduce((x, st) => x + st.always_on_units, 0);
      lines.push('', `Live: **${a.codes.distinct_codes}** ${termLink('regions-hit', termName('regions-hit', a.codes.distinct_codes))} by ${plural(a.codes.n, 'input')} · ${termLink('dead-unit', 'dead')} ${pct(dead, units)} · ${termLink('always-on-unit', 'always on')} ${pct(on, units)}` + (a.pathStats ? ` · ${fixed(a.pathStats.mean_crossings)} ${termLink('crossings-per-path')}` : ''));
    } else if (a?.pathStats) lines.push('', `Live: ${fixed(a.pathStats.mean_crossings)} ${termLink('crossings-per-path')} (mean of ${plural(a.pathStats.paths, 'path')})`);
    if (sum.layers.length) lines.push('', ...table(layerRows(view, { instances: [], nodes: [], layers: sum.layers, feeds: [] }).rows, !!a?.codes || !!a?.pathStats));
    return lines;
  }
  if (!mapped || mapped.instances.length === 0) return [`Not used by the exported model ${code(view.mapping?.root?.name ?? '?')}.`];
  lines.push(`Instances in ${code(basename(s.modelPath))}: ${mapped.instances.map((i) => code(i.path)).join(', ')}`);
  const { rows } = layerRows(view, mapped);
  if (rows.length) lines.push('', ...table(rows, !!view.analysis?.codes || !!view.analysis?.pathStats));
  return lines;
}

function exportHover(view: DocView, t: Extract<Target, { kind: 'export' }>): string[] {
  const lit = t.call.path?.literal;
  const lines = [lit ? `Writes ${code(lit)}` : 'The output path is not a literal.'];
  if (view.structure) {
    const s = view.structure;
    lines.push('', `Model: ${code(s.modelPath)} · ${s.nodes.length} nodes · ${s.summary.total_units} units` + (s.mtimeMs ? ` · written ${new Date(s.mtimeMs).toISOString().replace('T', ' ').slice(0, 19)}` : ''));
  } else lines.push('', missingModel(view));
  return lines;
}

/** Markdown for a hover over target t, or null when there is nothing to say. */
export function renderHover(view: DocView, t: Target): string {
  const lines: string[] = [`**${code(label(t))}**`, ''];
  if (t.kind === 'export') return [...lines, ...exportHover(view, t)].join('\n');
  if (!view.structure) return [...lines, missingModel(view)].join('\n');
  const mapped = mappedOf(view, t);
  if (t.kind === 'class') {
    lines.push(...classHover(view, t, mapped));
  } else if (!mapped || mapped.nodes.length === 0) {
    const where = t.kind === 'def' ? `module ${code(t.def.rel)} of ${code(t.def.cls)}` : t.kind === 'use' ? `${code(t.use.written)} in ${code(t.use.cls)}.forward` : `line ${t.row + 1}`;
    lines.push(`No node of ${code(basename(view.structure.modelPath))} matches ${where}` + (t.kind === 'def' && t.def.kind === 'layer' && t.def.ctor.startsWith('Dropout') ? ' (dropout exports to nothing in eval mode).' : '.'));
  } else {
    const via = [...new Set(mapped.instances.map((i) => i.via).filter(Boolean))];
    const paths = mapped.instances.filter((i) => i.nodes.length).map((i) => i.path || '(root)');
    lines.push(`${paths.length > 1 ? `${paths.length} instances (${paths.map(code).join(', ')})` : code(paths[0] ?? '')} → ${nodeList(mapped)}`);
    lines.push('', `_in ${code(basename(view.structure.modelPath))}, matched by ${via.map((v) => evidence(v!, t)).join(' + ')}_`);
    const { rows, fed } = layerRows(view, mapped);
    const live = !!view.analysis?.codes || !!view.analysis?.pathStats;
    if (rows.length) lines.push('', fed ? 'Feeds:' : 'Units:', '', ...table(rows, live));
    else lines.push('', '_No units (no piecewise-linear op here or right after it)._');
  }
  const note = liveNote(view);
  if (note && t.kind !== 'class') lines.push('', note);
  const args = openArgs(view, t, mapped);
  if (args) lines.push('', commandLink(t.kind === 'class' ? 'Open the model view' : 'Open in the model view', OPEN_LAYER_COMMAND, args));
  const stale = staleNote(view);
  if (stale) lines.push('', stale);
  return lines.join('\n');
}
