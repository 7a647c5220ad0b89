/**
 * A glossary term in a page: its text with the term's sentence as a tooltip (title), and a small ⓘ link that asks
 * the host to open docs/glossary.md at the term (the host opens it in the Markdown preview). The ⓘ is drawn by CSS
 * (media/terms.css), so a term's textContent is its text alone. The sentences live in
 * src/shared/glossary.ts, so every view, the hover and the CodeLens say the same thing.
 */
import { GLOSSARY, termName, termTooltip, type GlossaryTermId } from '../shared/glossary';
import { h, postGlossary } from './vscodeApi';

/** The term `id`, shown as `text` (its one name by default: pass text only for a different grammatical form). */
export function term(id: GlossaryTermId, text: string = GLOSSARY[id].name): HTMLSpanElement {
  const tip = termTooltip(id);
  const info = h('a', { class: 'term-info', href: '#', role: 'button', title: `${tip} Click to open the glossary.`, 'aria-label': `${GLOSSARY[id].name}: open the glossary`, 'data-term': id });
  info.addEventListener('click', (e) => {
    e.preventDefault();
    // A term in a sortable or clickable header must not also act on it.
    e.stopPropagation();
    postGlossary({ type: 'openGlossary', term: id });
  });
  return h('span', { class: 'term', title: tip, 'data-term': id }, text, info);
}

/** "n term": a count followed by the term in the right number ("1 region hit", "356 regions hit"). */
export function counted(n: number, id: GlossaryTermId, shown: string = String(n)): (string | HTMLElement)[] {
  return [`${shown} `, term(id, termName(id, n))];
}

/** A column header: plain text, or a term ([id] for its one name, [id, text] for another form of it). */
export type Column = string | [GlossaryTermId] | [GlossaryTermId, string];

/** Table header cells of `cols`, terms with their tooltips. */
export function headerCells(cols: Column[]): HTMLTableCellElement[] {
  return cols.map((c) => h('th', { scope: 'col' }, typeof c === 'string' ? c : term(c[0], c[1])));
}
