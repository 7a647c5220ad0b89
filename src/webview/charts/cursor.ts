/**
 * A category cursor on a chart: the SVG becomes a focusable slider (arrows, Page Up/Down, Home/End), the mouse
 * moves the cursor to the category under it, and a highlight rectangle shows where it is. Categories are the unit
 * intervals [i, i + 1) of the chart's x scale (category i is drawn over x(i)..x(i + 1)).
 */
import { s } from '../vscodeApi';
import type { PlotSvg } from './plot';

export interface CursorSpec {
  /** Number of categories. */
  n: number;
  ariaLabel: string;
  /** What the cursor at category i says (aria-valuetext; the page shows more beside the chart). */
  describe(i: number): string;
  /** Frame top and bottom in SVG pixels (the highlight's extent). */
  top: number;
  bottom: number;
  /**
   * false: the chart stays an image (role img, its aria-label says everything) and only the mouse moves the cursor;
   * for small charts inside a table, where one tab stop per chart would be noise.
   */
  slider?: boolean;
  /** A restored cursor: placed without calling onCursor. */
  cursor?: number;
  onCursor?(i: number): void;
  /** Images only: the mouse left the chart (the cursor is hidden). */
  onLeave?(): void;
}

export function attachCursor(svg: PlotSvg, spec: CursorSpec): (i: number) => void {
  const n = Math.max(1, spec.n);
  const x = svg.scale('x');
  const width = Number(svg.getAttribute('width'));
  const slider = spec.slider !== false;
  svg.setAttribute('role', slider ? 'slider' : 'img');
  svg.setAttribute('aria-label', spec.ariaLabel);
  if (slider) {
    svg.setAttribute('tabindex', '0');
    svg.setAttribute('aria-valuemin', '0');
    svg.setAttribute('aria-valuemax', String(n - 1));
  }
  const band = s('rect', { class: 'cursor', x: 0, y: spec.top, width: Math.max(1, x.apply(1) - x.apply(0)), height: spec.bottom - spec.top, visibility: 'hidden' });
  svg.append(band);
  let at = -1;
  const place = (i: number) => {
    at = i;
    band.setAttribute('x', String(x.apply(i)));
    band.setAttribute('visibility', 'visible');
    if (!slider) return;
    svg.setAttribute('aria-valuenow', String(i));
    svg.setAttribute('aria-valuetext', spec.describe(i));
  };
  const setCursor = (i: number) => {
    place(Math.max(0, Math.min(n - 1, i)));
    spec.onCursor?.(at);
  };
  svg.addEventListener('mousemove', (ev) => {
    const r = svg.getBoundingClientRect();
    const px = ((ev.clientX - r.left) / r.width) * width;
    const i = Math.floor(x.invert!(px));
    if (i >= 0 && i < n && i !== at) setCursor(i);
  });
  svg.addEventListener('mouseleave', () => {
    if (slider) return;
    at = -1;
    band.setAttribute('visibility', 'hidden');
    spec.onLeave?.();
  });
  if (slider) svg.addEventListener('keydown', (ev) => {
    const step: Record<string, number> = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 10, PageDown: -10 };
    let next: number | undefined;
    if (ev.key in step) next = at < 0 ? 0 : at + step[ev.key]!;
    else if (ev.key === 'Home') next = 0;
    else if (ev.key === 'End') next = n - 1;
    if (next === undefined) return;
    ev.preventDefault();
    setCursor(next);
  });
  if (spec.cursor !== undefined && spec.cursor >= 0 && spec.cursor < n) place(spec.cursor);
  return setCursor;
}
