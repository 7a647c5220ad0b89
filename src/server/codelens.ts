/**
 * CodeLens above each mapped layer: "N units · M regions hit · open" (regions hit only when an analysis is known),
 * with a tooltip that says what each word means (the glossary's sentences: a lens has no room for a link).
 */
import { GLOSSARY, plural, termName, termTooltip, type GlossaryTermId } from '../shared/glossary';
import { OPEN_LAYER_COMMAND, type OpenLayerArgs } from '../shared/lsp-protocol';
import { layerRows, lineTarget, mappedOf, openArgs, targets, type DocView } from './targets';

export interface Lens {
  line: number;
  col: number;
  title: string;
  /** What the lens's words mean, one glossary sentence per term, and what a click does. */
  tooltip: string;
  command: string;
  args: OpenLayerArgs;
}

function lensText(view: DocView, mapped: NonNullable<ReturnType<typeof mappedOf>>, isRoot: boolean): { title: string; tooltip: string } {
  const parts: string[] = [];
  const terms: GlossaryTermId[] = [];
  const { rows, fed } = layerRows(view, mapped);
  const units = isRoot ? (view.structure?.summary.total_units ?? 0) : rows.reduce((a, r) => a + r.layer.units, 0);
  if (rows.length || isRoot) {
    parts.push(`${fed ? 'feeds ' : ''}${plural(units, 'unit')}`);
    terms.push('unit');
  } else parts.push([...new Set(mapped.nodes.map((n) => n.op))].join(', '));
  // Regions hit: distinct codes of the layer; known for one layer, or for the whole model.
  const regions = isRoot ? view.analysis?.codes?.distinct_codes : rows.length === 1 ? rows[0]!.distinct : undefined;
  if (regions !== undefined) {
    parts.push(`${regions} ${termName('regions-hit', regions)}${view.analysis?.previousExport ? ' (previous export)' : ''}`);
    terms.push('regions-hit');
    if (view.analysis?.previousExport) terms.push('previous-export');
  }
  parts.push('open');
  const tooltip = [...terms.map((id) => `${GLOSSARY[id].name}: ${termTooltip(id)}`), 'Click to open the model view at this layer.'].join('\n');
  return { title: parts.join(' · '), tooltip };
}

export function codeLenses(view: DocView): Lens[] {
  if (!view.mapping || !view.structure) return [];
  const out: Lens[] = [];
  // One lens per line: the outermost definition on it (a one-line Sequential, not each child).
  const lines = new Set<number>();
  for (const t of targets(view.py)) {
    if (t.kind === 'export' || lines.has(t.span.startRow)) continue;
    const isRoot = t.kind === 'class' && view.mapping.root === t.cls;
    if (t.kind === 'class' && !isRoot) continue;
    const mapped = mappedOf(view, t);
    if (!mapped || mapped.nodes.length === 0) continue;
    const args = openArgs(view, t, mapped);
    if (!args) continue;
    lines.add(t.span.startRow);
    out.push({ line: t.span.startRow, col: t.span.startCol, ...lensText(view, mapped, isRoot), command: OPEN_LAYER_COMMAND, args });
  }
  // Lines of forward that the export's stack traces point at (module calls, residual additions).
  for (const row of [...view.mapping.lines.keys()].sort((a, b) => a - b)) {
    if (lines.has(row)) continue;
    const t = lineTarget(view, row);
    const mapped = t ? mappedOf(view, t) : undefined;
    const args = t ? openArgs(view, t, mapped) : null;
    if (!t || !mapped || !args) continue;
    lines.add(row);
    out.push({ line: row, col: 0, ...lensText(view, mapped, false), command: OPEN_LAYER_COMMAND, args });
  }
  out.sort((a, b) => a.line - b.line);
  return out;
}
