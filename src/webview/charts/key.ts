/**
 * Legend entries that are not toggles (class-change lines, crossing ticks, the decision boundary …): one description
 * used twice, for the page's legend and for the exported figure (charts/export.ts), so both always say the same.
 * A swatch draws the mark's own shape with the mark's own CSS classes, so its colour is the chart's.
 */
import { h, s } from '../vscodeApi';

export interface LegendEntry {
  text: string;
  /** rect: a filled square; line / dash: a horizontal stroke; tick: a short vertical stroke; ring / dot: a circle. */
  shape: 'rect' | 'line' | 'dash' | 'tick' | 'ring' | 'dot';
  /** CSS classes of the swatch's shape (those of the mark it stands for). */
  cls: string;
  /** Several swatches (e.g. one crossing tick per layer colour). */
  more?: string[];
  /** Fill colours of the swatches, in order, for marks coloured by data rather than by class (region colours). */
  fills?: string[];
}

/** The swatch of an entry as SVG elements in a size × size box at (x, y). */
export function swatchShapes(e: LegendEntry, size: number, x = 0, y = 0): SVGElement[] {
  const classes = [e.cls, ...(e.more ?? [])];
  const w = swatchStep(e, size);
  return classes.map((cls, i) => {
    const x0 = x + i * w;
    const el = shape(cls, x0);
    if (e.fills?.[i]) el.setAttribute('fill', e.fills[i]!);
    return el;
  });
  function shape(cls: string, x0: number): SVGElement {
    switch (e.shape) {
      case 'rect':
        return s('rect', { class: cls, x: x0, y, width: w, height: size });
      case 'line':
      case 'dash':
        return s('line', { class: cls, x1: x0, y1: y + size / 2, x2: x0 + w, y2: y + size / 2 });
      case 'tick':
        return s('line', { class: cls, x1: x0 + w / 2, y1: y, x2: x0 + w / 2, y2: y + size });
      case 'ring':
      case 'dot':
        return s('circle', { class: cls, cx: x0 + w / 2, cy: y + size / 2, r: Math.min(w, size) / 2 - 1.5 });
    }
  }
}

/** The width of one of an entry's swatches (ticks side by side are narrower than squares). */
const swatchStep = (e: LegendEntry, size: number) => (e.shape === 'tick' && e.more ? size * 0.5 : size);

/** The whole swatch width of an entry. */
export function swatchWidth(e: LegendEntry, size: number): number {
  return e.more ? swatchStep(e, size) * (e.more.length + 1) : size * (e.shape === 'line' || e.shape === 'dash' ? 1.6 : 1);
}

/** One entry as an inline key: swatch and text. */
export function keyItem(e: LegendEntry): HTMLElement {
  const size = 12;
  const width = swatchWidth(e, size);
  const sw = s('svg', { width, height: size, 'aria-hidden': 'true', class: 'key-swatch' }, ...swatchShapes(e, size, 0, 0).map((el) => (e.more ? el : stretch(el, width, size))));
  return h('span', { class: 'key', 'data-key': e.text }, sw, ` ${e.text}`);
}

/** A single line swatch drawn across the whole (wider) box. */
function stretch(el: SVGElement, width: number, size: number): SVGElement {
  if (el.tagName === 'line' && el.getAttribute('y1') === el.getAttribute('y2')) {
    el.setAttribute('x1', '0');
    el.setAttribute('x2', String(width));
  } else if (el.tagName === 'line' || el.tagName === 'circle') {
    el.setAttribute(el.tagName === 'line' ? 'x1' : 'cx', String(width / 2));
    if (el.tagName === 'line') el.setAttribute('x2', String(width / 2));
  } else if (el.tagName === 'rect') el.setAttribute('x', String((width - size) / 2));
  return el;
}

/** Entries as a legend group (role group, named). */
export function keyBox(label: string, entries: LegendEntry[], id?: string): HTMLElement {
  return h('div', { class: 'legend keys', role: 'group', 'aria-label': label, id }, ...entries.map(keyItem));
}
