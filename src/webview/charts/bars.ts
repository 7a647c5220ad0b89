/**
 * A hand-written SVG bar chart: categories on x, stacked series on y, a hover cursor that follows the mouse and
 * the keyboard (the chart is a focusable slider: arrows, Page Up/Down, Home/End), and a hook for decorations
 * (class-change lines, crossing ticks, a second line). Colours are CSS classes over --vscode-charts-* variables.
 */
import { s } from '../vscodeApi';
import { fmt } from './page';

export interface Series {
  name: string;
  values: number[];
  /** Colour slot 0..7 (class s0..s7). */
  slot: number;
}

export interface Geometry {
  /** x of a (fractional) category position: category i spans x(i)..x(i + 1). */
  x(pos: number): number;
  y(v: number): number;
  top: number;
  bottom: number;
  left: number;
  right: number;
}

export interface BarChartSpec {
  n: number;
  series: Series[];
  /** Tick label of category i (only some are drawn). */
  label(i: number): string;
  /** Categories with an x tick label (default: about 10 evenly spaced). */
  ticks?: number[];
  xTitle: string;
  yTitle: string;
  ariaLabel: string;
  /** What the cursor at category i says (hover box and aria-valuetext). */
  describe(i: number): string;
  decorate?(layer: SVGGElement, g: Geometry): void;
  width?: number;
  height?: number;
  cursor?: number;
  onCursor?(i: number): void;
}

export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

export function barChart(spec: BarChartSpec): { svg: SVGSVGElement; setCursor(i: number): void } {
  const W = spec.width ?? 900;
  const H = spec.height ?? 320;
  const L = 56;
  const R = 56;
  const T = 22;
  const B = 44;
  const n = Math.max(1, spec.n);
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, spec.series.reduce((a, se) => a + (se.values[i] ?? 0), 0));
  const yMax = niceMax(max);
  const g: Geometry = {
    x: (pos) => L + (pos / n) * (W - L - R),
    y: (v) => H - B - (v / yMax) * (H - B - T),
    top: T,
    bottom: H - B,
    left: L,
    right: W - R,
  };
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', tabindex: 0, role: 'slider', 'aria-label': spec.ariaLabel, 'aria-valuemin': 0, 'aria-valuemax': n - 1 });
  // Axes and grid.
  const axes = s('g', { class: 'axes' });
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    axes.append(s('line', { class: 'grid-line', x1: L, x2: W - R, y1: g.y(v), y2: g.y(v) }), s('text', { class: 'tick-label', x: L - 6, y: g.y(v) + 4, 'text-anchor': 'end' }, fmt(v)));
  }
  axes.append(s('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }), s('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }));
  const ticks = spec.ticks ?? Array.from({ length: Math.min(n, 11) }, (_, k) => Math.round((k * (n - 1)) / Math.max(1, Math.min(n, 11) - 1)));
  for (const i of new Set(ticks)) {
    axes.append(s('line', { class: 'axis', x1: g.x(i + 0.5), x2: g.x(i + 0.5), y1: H - B, y2: H - B + 4 }), s('text', { class: 'tick-label', x: g.x(i + 0.5), y: H - B + 16, 'text-anchor': 'middle' }, spec.label(i)));
  }
  axes.append(
    s('text', { class: 'axis-title', x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle' }, spec.xTitle),
    s('text', { class: 'axis-title', x: 14, y: (T + H - B) / 2, 'text-anchor': 'middle', transform: `rotate(-90 14 ${(T + H - B) / 2})` }, spec.yTitle),
  );
  svg.append(axes);
  // Bars.
  const bars = s('g', { class: 'bars' });
  const bw = Math.max(0.5, (W - L - R) / n - (n > 60 ? 0.5 : 2));
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (const se of spec.series) {
      const v = se.values[i] ?? 0;
      if (v <= 0) continue;
      bars.append(s('rect', { class: `bar s${se.slot % 8}`, 'data-i': i, 'data-series': se.name, x: g.x(i) + (n > 60 ? 0.25 : 1), width: bw, y: g.y(acc + v), height: g.y(acc) - g.y(acc + v) }));
      acc += v;
    }
  }
  svg.append(bars);
  const deco = s('g', { class: 'decorations' });
  spec.decorate?.(deco, g);
  svg.append(deco);
  // Cursor.
  const cursor = s('rect', { class: 'cursor', x: 0, y: T, width: Math.max(1, (W - L - R) / n), height: H - B - T, visibility: 'hidden' });
  svg.append(cursor);
  let at = -1;
  const setCursor = (i: number) => {
    at = Math.max(0, Math.min(n - 1, i));
    cursor.setAttribute('x', String(g.x(at)));
    cursor.setAttribute('visibility', 'visible');
    svg.setAttribute('aria-valuenow', String(at));
    svg.setAttribute('aria-valuetext', spec.describe(at));
    spec.onCursor?.(at);
  };
  const toCategory = (ev: MouseEvent) => {
    const r = svg.getBoundingClientRect();
    const x = ((ev.clientX - r.left) / r.width) * W;
    return Math.floor(((x - L) / (W - L - R)) * n);
  };
  svg.addEventListener('mousemove', (ev) => {
    const i = toCategory(ev);
    if (i >= 0 && i < n && i !== at) setCursor(i);
  });
  svg.addEventListener('keydown', (ev) => {
    const step: Record<string, number> = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 10, PageDown: -10 };
    let next: number | undefined;
    if (ev.key in step) next = (at < 0 ? 0 : at + step[ev.key]!);
    else if (ev.key === 'Home') next = 0;
    else if (ev.key === 'End') next = n - 1;
    if (next === undefined) return;
    ev.preventDefault();
    setCursor(next);
  });
  if (spec.cursor !== undefined && spec.cursor >= 0 && spec.cursor < n) {
    // Restored cursor: placed without firing a state save loop.
    at = spec.cursor;
    cursor.setAttribute('x', String(g.x(at)));
    cursor.setAttribute('visibility', 'visible');
    svg.setAttribute('aria-valuenow', String(at));
    svg.setAttribute('aria-valuetext', spec.describe(at));
  }
  return { svg, setCursor };
}

/** A legend of toggle buttons (aria-pressed), one per series. */
export function legend(items: { name: string; slot: number; on: boolean }[], onToggle: (name: string) => void): HTMLElement {
  const box = document.createElement('div');
  box.className = 'legend';
  box.setAttribute('role', 'group');
  box.setAttribute('aria-label', 'Layers shown');
  for (const it of items) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'toggle';
    b.setAttribute('aria-pressed', String(it.on));
    b.dataset.series = it.name;
    const sw = s('svg', { width: 12, height: 12, 'aria-hidden': 'true' }, s('rect', { class: `swatch s${it.slot % 8}`, width: 12, height: 12 }));
    b.append(sw, ` ${it.name}`);
    b.addEventListener('click', () => onToggle(it.name));
    box.append(b);
  }
  return box;
}
