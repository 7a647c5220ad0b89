/**
 * A stacked bar chart drawn by Observable Plot (charts/plot.ts): categories on x (category i spans x = i..i + 1 of a
 * linear scale, so fractional positions such as exact crossings at t * N fall where they belong), stacked series on
 * y, a cursor that follows the mouse and the keyboard (charts/cursor.ts), and extra Plot marks from the page
 * (class-change lines, crossing ticks, a second line). Colours are CSS classes over --vscode-charts-* variables.
 */
import { s } from '../vscodeApi';
import { attachCursor } from './cursor';
import { fmt } from './page';
import { Plot, plotSvg, type PlotSvg } from './plot';
import { chartFontPx, niceStep, textWidth, ticksBetween } from './size';

export interface Series {
  name: string;
  /** What the legend shows (default: name), e.g. a layer's module path before its ONNX node name. */
  label?: string;
  values: number[];
  /** Colour slot 0..7 (class s0..s7). */
  slot: number;
}

/** What extra marks need to place themselves: the y domain's top, the frame's size in pixels, the text size. */
export interface Geometry {
  n: number;
  yMax: number;
  /** Pixels between the frame's top and bottom. */
  frameHeight: number;
  frameWidth: number;
  font: number;
}

export interface BarChartSpec {
  n: number;
  series: Series[];
  /** Tick label of category i (only some are drawn). */
  label(i: number): string;
  /**
   * Categories that may have an x tick label (default: all); as many as fit the width are kept, every m-th with m a
   * nice number (1, 2, 5, 10 …), so the labels read 0, 10, 20 … and never 59, 69.
   */
  ticks?: number[];
  /**
   * 'edge': the x axis is a position 0..n (category i spans i..i + 1) with ticks at nice positions including n (a
   * path: step k starts at point k); default 'centre': a tick in the middle of each labelled category.
   */
  xAt?: 'centre' | 'edge';
  /** Leave room for a right axis (the page draws it in `marks`). */
  rightAxis?: boolean;
  xTitle: string;
  /** The left axis's title (with its unit), written horizontally above the axis so it never depends on the height. */
  yTitle: string;
  /** The right axis's title, when a page draws a right axis in `marks`. */
  rightTitle?: string;
  ariaLabel: string;
  /** What the cursor at category i says (aria-valuetext). */
  describe(i: number): string;
  /** Marks drawn over the bars. */
  marks?(g: Geometry): Plot.Markish[];
  /** The container's width in px (charts/size.ts responsive); the chart is drawn at exactly this width. */
  width?: number;
  height?: number;
  cursor?: number;
  onCursor?(i: number): void;
}

/**
 * Chart margins in px for a text size: tick labels and the axis title on the left (and on the right when a page adds a
 * right axis, else half a tick label), a label above the frame, tick labels and the axis title below.
 */
export function margins(font: number, rightAxis: boolean, titleLines = 1, xTitleLines = 1): { left: number; right: number; top: number; bottom: number } {
  return { left: Math.round(font * 3.6), right: Math.round(rightAxis ? font * 3.6 : font * 1.6), top: Math.round(font * (1.9 + 1.35 * titleLines)), bottom: Math.round(font * (2.3 + 1.3 * xTitleLines)) };
}

/** A title cut at spaces into lines no wider than `width` (estimated). */
export function wrapText(text: string, width: number, font: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(' ')) {
    const next = cur ? `${cur} ${word}` : word;
    if (cur && textWidth(next, font) > width) {
      lines.push(cur);
      cur = word;
    } else cur = next;
  }
  if (cur) lines.push(cur);
  return lines;
}

/** The x axis's title under the tick labels, centred on the frame, in as many lines as the width needs. */
export function appendXTitle(svg: SVGSVGElement, lines: string[], width: number, height: number, font: number, margin: { left: number; right: number; bottom: number }): void {
  const cx = Math.min(Math.max((margin.left + width - margin.right) / 2, width / 2 - 1), width / 2 + 1);
  const mid = lines.length > 1 ? width / 2 : cx;
  lines.forEach((line, i) => {
    const y = height - margin.bottom + font * (2.3 + 1.3 * i) + font * 0.9;
    svg.append(s('text', { class: 'axis-title x-title', x: mid, y: Math.round(y - font * 0.2), 'text-anchor': 'middle' }, line));
  });
}

/**
 * The y axes' titles as text above the frame (left title at the left edge, right title at the right edge; on a line
 * of its own when both do not fit one line). Horizontal, so a long title with its unit fits a short chart.
 */
export function yTitleLines(width: number, font: number, left: string, right?: string): number {
  if (!right) return 1;
  return textWidth(`↑ ${left}`, font) + textWidth(`${right} ↑`, font) + font * 2 <= width ? 1 : 2;
}

export function appendYTitles(svg: SVGSVGElement, width: number, font: number, left: string, right?: string): void {
  const lines = yTitleLines(width, font, left, right);
  svg.append(s('text', { class: 'axis-title y-title', x: 0, y: Math.round(font * 1.1), 'text-anchor': 'start' }, `↑ ${left}`));
  if (right) svg.append(s('text', { class: 'axis-title y-title right', x: width, y: Math.round(font * (1.1 + 1.35 * (lines - 1))), 'text-anchor': 'end' }, `${right} ↑`));
}

/** The x ticks that fit `frameWidth`: candidates thinned to every m-th category (m nice), or nice positions 0..n. */
export function xTicks(n: number, frameWidth: number, font: number, label: (i: number) => string, at: 'centre' | 'edge', candidates?: number[]): number[] {
  if (at === 'edge') {
    const room = Math.max(textWidth(String(n), font), font * 2) + font * 2;
    const step = niceStep(n, Math.max(1, Math.floor(frameWidth / room)), 1);
    return ticksBetween(0, n, step);
  }
  const cats = candidates ?? Array.from({ length: n }, (_, i) => i);
  if (!cats.length) return [];
  const longest = Math.max(...cats.map((i) => textWidth(label(i), font)));
  const fit = Math.max(1, Math.floor(frameWidth / (longest + font * 1.2)));
  if (cats.length <= fit) return cats;
  const every = niceStep(n, fit, 1);
  return cats.filter((i) => i % every === 0);
}

export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

interface Segment {
  i: number;
  y1: number;
  y2: number;
}

export function barChart(spec: BarChartSpec): { svg: PlotSvg; setCursor(i: number): void } {
  const W = spec.width ?? 900;
  const font = chartFontPx();
  const titleLines = yTitleLines(W, font, spec.yTitle, spec.rightAxis ? spec.rightTitle : undefined);
  const xLines = wrapText(spec.xTitle, W - font, font);
  const MARGIN = margins(font, !!spec.rightAxis, titleLines, xLines.length);
  const H = Math.round(Math.max(spec.height ?? 320, 14 * font + 100) + (titleLines - 1) * font * 1.35 + (xLines.length - 1) * font * 1.3);
  const n = Math.max(1, spec.n);
  // Stacks are summed here (series in order, zero values left out) so each series is one mark with its own class.
  const acc = new Float64Array(n);
  const segments = spec.series.map((se) => {
    const out: Segment[] = [];
    for (let i = 0; i < n; i++) {
      const v = se.values[i] ?? 0;
      if (!(v > 0)) continue;
      out.push({ i, y1: acc[i]!, y2: acc[i]! + v });
      acc[i] += v;
    }
    return out;
  });
  const yMax = niceMax(Math.max(0, ...acc));
  const at = spec.xAt ?? 'centre';
  const frameWidth = W - MARGIN.left - MARGIN.right;
  const ticks = xTicks(n, frameWidth, font, spec.label, at, spec.ticks);
  const gap = frameWidth / n < 4 ? 0 : n > 60 ? 0.25 : 1;
  const g: Geometry = { n, yMax, frameHeight: H - MARGIN.top - MARGIN.bottom, frameWidth, font };
  const yTicks = Math.max(2, Math.min(5, Math.floor(g.frameHeight / (font * 2.5))));
  const svg = plotSvg({
    width: W,
    height: H,
    marginLeft: MARGIN.left,
    marginRight: MARGIN.right,
    marginTop: MARGIN.top,
    marginBottom: MARGIN.bottom,
    ariaLabel: spec.ariaLabel,
    x: { type: 'linear', domain: [0, n], axis: null },
    y: { domain: [0, yMax], axis: null },
    marks: [
      Plot.gridY({ ticks: yTicks, className: 'grid-line', strokeOpacity: 1 }),
      Plot.axisY({ ticks: yTicks, tickFormat: (v: number) => fmt(v), label: null, className: 'y-axis' }),
      at === 'edge'
        ? Plot.axisX(ticks, { tickFormat: (p: number) => spec.label(p), label: null, className: 'x-axis' })
        : Plot.axisX([...new Set(ticks)].map((i) => i + 0.5), { tickFormat: (p: number) => spec.label(Math.floor(p)), label: null, className: 'x-axis' }),
      ...segments.map((segs, k) =>
        Plot.rect(segs, { x1: (d: Segment) => d.i, x2: (d: Segment) => d.i + 1, y1: 'y1', y2: 'y2', insetLeft: gap, insetRight: gap, className: `bar s${spec.series[k]!.slot % 8}`, ariaLabel: spec.series[k]!.name }),
      ),
      Plot.ruleY([0], { className: 'axis' }),
      Plot.ruleX([0], { className: 'axis' }),
      ...(spec.marks?.(g) ?? []),
    ],
  });
  appendYTitles(svg, W, font, spec.yTitle, spec.rightAxis ? spec.rightTitle : undefined);
  appendXTitle(svg, xLines, W, H, font, MARGIN);
  const setCursor = attachCursor(svg, { n, ariaLabel: spec.ariaLabel, describe: spec.describe, top: MARGIN.top, bottom: H - MARGIN.bottom, cursor: spec.cursor, onCursor: spec.onCursor });
  return { svg, setCursor };
}

/** A legend of toggle buttons (aria-pressed), one per series. */
export function legend(items: { name: string; label?: string; slot: number; on: boolean }[], onToggle: (name: string) => void): HTMLElement {
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
    b.append(sw, ` ${it.label ?? it.name}`);
    b.addEventListener('click', () => onToggle(it.name));
    box.append(b);
  }
  return box;
}
