/**
 * A layer's units by active fraction (LayerStats.active_histogram: ACTIVE_HISTOGRAM_BINS equal bins over [0, 1] of
 * the share of inputs on which a unit is on), as a small Plot chart for a table cell. Dead units (never on) are the
 * bottom of the first bin and always-on units the bottom of the last, in their own colours; a rule marks the
 * layer's mean active fraction. The chart is an image whose aria-label lists every non-empty bin; the mouse moves a
 * cursor over the bins and `onHover` says which (the page shows it in words).
 */
import type { LayerStats } from '../../shared/results';
import { attachCursor } from './cursor';
import { Plot, plotSvg, type PlotSvg } from './plot';

export interface HistogramBin {
  bin: number;
  /** Active-fraction interval of the bin, [lo, hi) (the last bin includes 1). */
  lo: number;
  hi: number;
  units: number;
  /** Of `units`: dead (first bin) or always-on (last bin) units. */
  dead: number;
  alwaysOn: number;
}

export function histogramBins(st: LayerStats): HistogramBin[] {
  const bins = st.active_histogram;
  const B = bins.length;
  return bins.map((units, bin) => ({
    bin,
    lo: bin / B,
    hi: (bin + 1) / B,
    units,
    dead: bin === 0 ? st.dead_units : 0,
    alwaysOn: bin === B - 1 ? st.always_on_units : 0,
  }));
}

const pct0 = (x: number) => `${Math.round(100 * x)}%`;

/** One bin in words: "95–100%: 18 units (3 always on)". */
export function describeBin(b: HistogramBin): string {
  const extra = [b.dead ? `${b.dead} dead` : '', b.alwaysOn ? `${b.alwaysOn} always on` : ''].filter(Boolean).join(', ');
  return `${pct0(b.lo)}–${pct0(b.hi)}: ${b.units} unit${b.units === 1 ? '' : 's'}${extra ? ` (${extra})` : ''}`;
}

export function activeHistogram(st: LayerStats, onHover: (b: HistogramBin | undefined) => void): PlotSvg {
  const bins = histogramBins(st);
  const B = bins.length;
  const W = 220;
  const H = 64;
  const top = 6;
  const bottom = 16;
  const yMax = Math.max(1, ...bins.map((b) => b.units));
  // Three stacked parts per bin: dead / always-on at the bottom, the other units above.
  const special = bins.filter((b) => b.dead + b.alwaysOn > 0);
  const svg = plotSvg({
    width: W,
    height: H,
    marginLeft: 24,
    marginRight: 8,
    marginTop: top,
    marginBottom: bottom,
    class: 'histogram',
    x: { type: 'linear', domain: [0, B], axis: null },
    y: { domain: [0, yMax], axis: null },
    marks: [
      Plot.axisX([0, B / 2, B], { tickFormat: (v: number) => pct0(v / B), tickSize: 3, label: null, className: 'x-axis' }),
      Plot.axisY([yMax], { tickSize: 2, label: null, className: 'y-axis' }),
      Plot.rect(
        bins.filter((b) => b.units > b.dead + b.alwaysOn),
        { x1: 'bin', x2: (b: HistogramBin) => b.bin + 1, y1: (b: HistogramBin) => b.dead + b.alwaysOn, y2: 'units', insetLeft: 0.5, insetRight: 0.5, className: 'hist-bar units' },
      ),
      Plot.rect(special.filter((b) => b.dead > 0), { x1: 'bin', x2: (b: HistogramBin) => b.bin + 1, y1: 0, y2: 'dead', insetLeft: 0.5, insetRight: 0.5, className: 'hist-bar dead' }),
      Plot.rect(special.filter((b) => b.alwaysOn > 0), { x1: 'bin', x2: (b: HistogramBin) => b.bin + 1, y1: 0, y2: 'alwaysOn', insetLeft: 0.5, insetRight: 0.5, className: 'hist-bar always-on' }),
      Plot.ruleY([0], { className: 'axis' }),
      Plot.ruleX([st.active_fraction * B], { className: 'mean-active' }),
    ],
  });
  const words = bins.filter((b) => b.units > 0).map(describeBin).join('; ');
  attachCursor(svg, {
    n: B,
    slider: false,
    ariaLabel: `${st.key}: units by the share of inputs they are on: ${words}; mean active fraction ${(100 * st.active_fraction).toFixed(1)}%`,
    describe: (i) => describeBin(bins[i]!),
    top,
    bottom: H - bottom,
    onCursor: (i) => onHover(bins[i]),
    onLeave: () => onHover(undefined),
  });
  svg.dataset.layer = st.key;
  return svg;
}
