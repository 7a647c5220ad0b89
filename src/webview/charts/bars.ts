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

export interface Series {
  name: string;
  /** What the legend shows (default: name), e.g. a layer's module path before its ONNX node name. */
  label?: string;
  values: number[];
  /** Colour slot 0..7 (class s0..s7). */
  slot: number;
}

/** What extra marks need to place themselves: the y domain's top and the frame's height in pixels. */
export interface Geometry {
  n: number;
  yMax: number;
  /** Pixels between the frame's top and bottom. */
  frameHeight: number;
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
  /** What the cursor at category i says (aria-valuetext). */
  describe(i: number): string;
  /** Marks drawn over the bars. */
  marks?(g: Geometry): Plot.Markish[];
  width?: number;
  height?: number;
  cursor?: number;
  onCursor?(i: number): void;
}

/** Chart margins: room for tick labels on both sides (a page may add a right axis) and a label above the frame. */
export const MARGIN = { left: 56, right: 56, top: 22, bottom: 44 } as const;

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
  const H = spec.height ?? 320;
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
  const ticks = spec.ticks ?? Array.from({ length: Math.min(n, 11) }, (_, k) => Math.round((k * (n - 1)) / Math.max(1, Math.min(n, 11) - 1)));
  const gap = n > 60 ? 0.25 : 1;
  const g: Geometry = { n, yMax, frameHeight: H - MARGIN.top - MARGIN.bottom };
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
      Plot.gridY({ ticks: 4, className: 'grid-line', strokeOpacity: 1 }),
      Plot.axisY({ ticks: 4, tickFormat: (v: number) => fmt(v), label: spec.yTitle, labelAnchor: 'center', labelArrow: 'none', className: 'y-axis' }),
      Plot.axisX([...new Set(ticks)].map((i) => i + 0.5), { tickFormat: (p: number) => spec.label(Math.floor(p)), label: spec.xTitle, labelAnchor: 'center', labelArrow: 'none', className: 'x-axis' }),
      ...segments.map((segs, k) =>
        Plot.rect(segs, { x1: (d: Segment) => d.i, x2: (d: Segment) => d.i + 1, y1: 'y1', y2: 'y2', insetLeft: gap, insetRight: n > 60 ? 0.25 : 1, className: `bar s${spec.series[k]!.slot % 8}`, ariaLabel: spec.series[k]!.name }),
      ),
      Plot.ruleY([0], { className: 'axis' }),
      Plot.ruleX([0], { className: 'axis' }),
      ...(spec.marks?.(g) ?? []),
    ],
  });
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
