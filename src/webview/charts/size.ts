/**
 * Chart sizes that follow the view: a chart is drawn at its container's width (redrawn when the container resizes,
 * never a fixed-width drawing scaled down, which shrank axis text to 5–7 px in a split column), with text at the
 * UI font size but never below the editor's font size minus 2, and margins measured in that font size.
 */
import { h } from '../vscodeApi';

/** A var(--…) of the page in px (VS Code sets them on <html>), or undefined when absent. */
function cssPx(name: string): number | undefined {
  const v = parseFloat(getComputedStyle(document.documentElement).getPropertyValue(name));
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/**
 * The font size of chart text in px; media/charts.css computes the same with max() for the CSS side. Read at each
 * draw, so a changed editor font size applies at the next redraw.
 */
export function chartFontPx(): number {
  const ui = cssPx('--vscode-font-size') ?? 13;
  const editor = cssPx('--vscode-editor-font-size') ?? ui;
  return Math.max(ui, editor - 2);
}

/** Rough width of a label in px (average glyph about 0.62 em in the UI fonts); used to space ticks, not to clip. */
export const textWidth = (text: string, font: number): number => text.length * font * 0.62;

/**
 * A nice tick step (1, 2 or 5 times a power of ten, at least `minStep`) so that at most `maxCount` ticks cover a
 * span: 0, 10, 20 … over 100 steps, 0, 50, 100 … over 200 steps in a narrow chart.
 */
export function niceStep(span: number, maxCount: number, minStep = 0): number {
  const raw = Math.max(span / Math.max(1, maxCount), minStep, 1e-12);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw - 1e-12 * p) return Math.max(m * p, minStep);
  return 10 * p;
}

/** Multiples of `step` in [lo, hi]. */
export function ticksBetween(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * step; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

/** What a responsive chart drew: its SVG (the page's chart for export and tests). */
export interface Drawn {
  svg: SVGSVGElement;
}

export interface Responsive<T extends Drawn> {
  /** The container (div.chart-box): the chart fills its width. */
  box: HTMLElement;
  /** The chart drawn last. */
  current(): T;
}

/** Narrowest drawing width in px; a narrower container scrolls (it is inside a 400 px view only with large fonts). */
export const MIN_CHART_WIDTH = 240;

/**
 * A chart drawn at its container's width and redrawn when that changes (ResizeObserver). The first drawing uses the
 * page column's width (the container is not in the document yet); the observer corrects it before the first paint.
 * Focus stays on the chart across a redraw (the keyboard cursor keeps working).
 */
export function responsive<T extends Drawn>(draw: (width: number) => T, cls = 'chart-box'): Responsive<T> {
  const box = h('div', { class: cls });
  const column = document.getElementById('app');
  let width = Math.max(MIN_CHART_WIDTH, Math.floor(column?.clientWidth || 900));
  let cur = draw(width);
  box.append(cur.svg);
  watchWidth(box, width, (w) => {
    const focused = document.activeElement === cur.svg;
    const next = draw(w);
    cur.svg.replaceWith(next.svg);
    cur = next;
    if (focused) next.svg.focus();
  });
  return { box, current: () => cur };
}

/**
 * Calls `resized` with `box`'s new width (at least MIN_CHART_WIDTH) when it differs from the last one, starting from
 * `width`; stops watching once the box has left the document.
 */
export function watchWidth(box: HTMLElement, width: number, resized: (width: number) => void): void {
  const ro = new ResizeObserver(() => {
    if (!box.isConnected) {
      ro.disconnect();
      return;
    }
    const w = Math.max(MIN_CHART_WIDTH, Math.floor(box.clientWidth));
    if (!box.clientWidth || w === width) return;
    width = w;
    resized(w);
  });
  ro.observe(box);
}
