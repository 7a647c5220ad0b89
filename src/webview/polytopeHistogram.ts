/**
 * The polytope view's histogram of facet distances: equal bins from 0 to a nice maximum, stacked by layer (one Plot
 * rect mark per layer, coloured by its class s0..s7), the x axis in distance units with ticks at bin edges, and a
 * cursor over the bins (charts/cursor.ts: mouse and arrow keys) whose words the page shows beside the chart.
 */
import { appendXTitle, margins, niceMax, wrapText } from './charts/bars';
import { attachCursor } from './charts/cursor';
import { fmt } from './charts/page';
import { Plot, plotSvg, type PlotSvg } from './charts/plot';
import { chartFontPx } from './charts/size';

export interface HistogramSeries {
  key: string;
  slot: number;
  /** Facets per bin. */
  counts: number[];
}

export interface DistanceHistogramSpec {
  bins: number;
  /** The upper end of the last bin (a nice number: niceMax of the largest distance). */
  top: number;
  series: HistogramSeries[];
  width: number;
  xTitle: string;
  ariaLabel: string;
  describe(bin: number): string;
  cursor?: number;
  onCursor?(bin: number): void;
}

export function distanceHistogram(spec: DistanceHistogramSpec): PlotSvg {
  const B = spec.bins;
  // The x title in as many lines as the width needs (a narrow column cannot hold it on one), as in the bar charts.
  const font = chartFontPx();
  const xLines = wrapText(spec.xTitle, spec.width - font, font);
  const M = { ...margins(font, false, 0, xLines.length), top: Math.round(font * 1.2) };
  const H = Math.round(Math.max(240, 12 * font + 60) + (xLines.length - 1) * font * 1.3);
  const acc = new Array<number>(B).fill(0);
  // x is in bin units (bin i spans i..i + 1, as the cursor expects); ticks are labelled in distance units.
  const marks = spec.series.map((se) => {
    const segs: { i: number; y1: number; y2: number }[] = [];
    se.counts.forEach((c, i) => {
      if (c > 0) segs.push({ i, y1: acc[i]!, y2: (acc[i] += c) });
    });
    return Plot.rect(segs, { x1: 'i', x2: (d: { i: number }) => d.i + 1, y1: 'y1', y2: 'y2', insetLeft: 1, insetRight: 1, className: `bar s${se.slot % 8}`, ariaLabel: se.key });
  });
  const yMax = niceMax(Math.max(1, ...acc));
  // Whole facets only: a step of 1 up to 5, else a nice step giving about five ticks.
  const yStep = yMax <= 5 ? 1 : niceMax(yMax / 5);
  const yTicks = Array.from({ length: Math.floor(yMax / yStep) + 1 }, (_, k) => k * yStep);
  const xTicks = Array.from({ length: 6 }, (_, k) => (k * B) / 5);
  const svg = plotSvg({
    width: spec.width,
    height: H,
    marginLeft: M.left,
    marginRight: M.right,
    marginTop: M.top,
    marginBottom: M.bottom,
    ariaLabel: spec.ariaLabel,
    x: { type: 'linear', domain: [0, B], axis: null },
    y: { domain: [0, yMax], axis: null },
    marks: [
      Plot.gridY(yTicks, { className: 'grid-line', strokeOpacity: 1 }),
      Plot.axisY(yTicks, { tickFormat: (v: number) => String(v), label: 'facets', labelAnchor: 'center', labelArrow: 'none', className: 'y-axis' }),
      Plot.axisX(xTicks, { tickFormat: (p: number) => fmt((p / B) * spec.top), label: null, className: 'x-axis' }),
      ...marks,
      Plot.ruleY([0], { className: 'axis' }),
    ],
  });
  appendXTitle(svg, xLines, spec.width, H, font, M);
  attachCursor(svg, { n: B, ariaLabel: spec.ariaLabel, describe: spec.describe, top: M.top, bottom: H - M.bottom, cursor: spec.cursor, onCursor: spec.onCursor });
  return svg;
}
