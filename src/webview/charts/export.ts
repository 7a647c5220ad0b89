/**
 * Export of a chart: the whole figure (title, notes such as the endpoints of a path, the chart with its axes and
 * units, the legend) as one SVG with its computed colours and fonts written into attributes (the --vscode-*
 * variables do not exist outside VS Code) on the theme's background, and a PNG drawn from that SVG on a canvas.
 */
import { s } from '../vscodeApi';
import { swatchShapes, swatchWidth, type LegendEntry } from './key';
import { chartFontPx } from './size';

/** What a page exports: its chart, the legend entries of what the chart shows, and lines said above the chart. */
export interface Figure {
  chart: SVGSVGElement;
  legend: LegendEntry[];
  notes?: string[];
}

const PROPS = ['fill', 'stroke', 'stroke-width', 'stroke-dasharray', 'stroke-opacity', 'fill-opacity', 'opacity', 'font-family', 'font-size', 'font-weight', 'text-anchor', 'dominant-baseline', 'display', 'visibility', 'paint-order', 'stroke-linejoin'];

/**
 * A computed colour as rgb()/rgba(): colours made with relative colour syntax (media/analysis.css, series drawn
 * opaque) compute to `color(srgb r g b)`, which SVG tools older than CSS Color 4 do not read.
 */
export function plainColour(v: string): string {
  return v.replace(/color\(srgb ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)(?: \/ ([\d.e-]+))?\)/g, (_, r: string, g: string, b: string, a?: string) => {
    const [R, G, B] = [r, g, b].map((c) => Math.round(Math.min(1, Math.max(0, Number(c))) * 255));
    return a === undefined || Number(a) >= 1 ? `rgb(${R}, ${G}, ${B})` : `rgba(${R}, ${G}, ${B}, ${Number(a)})`;
  });
}

export function svgToString(svg: SVGSVGElement): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const src = [svg, ...Array.from(svg.querySelectorAll('*'))];
  const dst = [clone, ...Array.from(clone.querySelectorAll('*'))];
  for (let i = 0; i < src.length; i++) {
    const cs = getComputedStyle(src[i]!);
    const el = dst[i]!;
    if (cs.display === 'none') {
      el.remove();
      continue;
    }
    for (const p of PROPS) {
      const v = cs.getPropertyValue(p);
      if (v) el.setAttribute(p, plainColour(v));
    }
    el.removeAttribute('class');
    el.removeAttribute('tabindex');
  }
  const box = svg.viewBox.baseVal;
  const w = box && box.width ? box.width : svg.clientWidth;
  const hgt = box && box.height ? box.height : svg.clientHeight;
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', String(w));
  clone.setAttribute('height', String(hgt));
  const bg = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  bg.setAttribute('x', String(box?.x ?? 0));
  bg.setAttribute('y', String(box?.y ?? 0));
  bg.setAttribute('width', String(w));
  bg.setAttribute('height', String(hgt));
  bg.setAttribute('fill', getComputedStyle(document.body).backgroundColor || '#ffffff');
  clone.insertBefore(bg, clone.firstChild);
  return new XMLSerializer().serializeToString(clone);
}

export async function svgToPng(svg: SVGSVGElement, scale = 2): Promise<string> {
  const text = svgToString(svg);
  const box = svg.viewBox.baseVal;
  const w = Math.max(1, Math.round((box?.width || svg.clientWidth) * scale));
  const hgt = Math.max(1, Math.round((box?.height || svg.clientHeight) * scale));
  return pngOf(text, w, hgt);
}

async function pngOf(text: string, w: number, hgt: number): Promise<string> {
  const img = new Image();
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  img.src = `data:image/svg+xml;base64,${btoa(bin)}`;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = hgt;
  const g = canvas.getContext('2d')!;
  g.drawImage(img, 0, 0, w, hgt);
  return canvas.toDataURL('image/png');
}

/**
 * The figure as one SVG element, built inside the page next to the chart (so the page's CSS, theme and chart
 * classes apply while the colours are read) and out of sight: the title, the notes, the chart, then the legend
 * entries in rows that wrap at the chart's width.
 */
function buildFigure(title: string, f: Figure): SVGSVGElement {
  const font = chartFontPx();
  const width = Number(f.chart.getAttribute('width')) || f.chart.clientWidth || 600;
  const chartHeight = Number(f.chart.getAttribute('height')) || f.chart.clientHeight || 300;
  const pad = Math.round(font * 0.8);
  const fig = s('svg', { class: 'plot export-figure', width, height: 10, 'aria-hidden': 'true' });
  (f.chart.parentElement ?? document.body).append(fig);
  let y = pad;
  const line = (text: string, cls: string, size: number) => {
    y += size * 1.25;
    const t = s('text', { class: cls, x: pad, y, 'font-size': size }, text);
    fig.append(t);
    // A note longer than the width is cut into lines at spaces.
    if (t.getComputedTextLength() > width - 2 * pad) {
      t.remove();
      y -= size * 1.25;
      let cur = '';
      for (const word of text.split(' ')) {
        const probe = s('text', { class: cls, x: pad, y: -100, 'font-size': size }, cur ? `${cur} ${word}` : word);
        fig.append(probe);
        const over = probe.getComputedTextLength() > width - 2 * pad;
        probe.remove();
        if (over && cur) {
          y += size * 1.25;
          fig.append(s('text', { class: cls, x: pad, y, 'font-size': size }, cur));
          cur = word;
        } else cur = cur ? `${cur} ${word}` : word;
      }
      y += size * 1.25;
      fig.append(s('text', { class: cls, x: pad, y, 'font-size': size }, cur));
    }
  };
  line(title, 'figure-title', Math.round(font * 1.3));
  for (const n of f.notes ?? []) line(n, 'figure-note', font);
  y += pad / 2;
  const chart = f.chart.cloneNode(true) as SVGSVGElement;
  chart.removeAttribute('class');
  chart.removeAttribute('tabindex');
  chart.setAttribute('x', '0');
  chart.setAttribute('y', String(y));
  chart.setAttribute('width', String(width));
  chart.setAttribute('height', String(chartHeight));
  fig.append(chart);
  y += chartHeight + pad;
  // Legend: swatch and text per entry, flowing left to right and wrapping.
  const sw = Math.round(font * 0.9);
  let x = pad;
  let rowTop = y;
  let rowHeight = font * 1.6;
  for (const e of f.legend) {
    const sww = swatchWidth(e, sw);
    const g = s('g', { class: 'figure-key' });
    // A single line swatch spans the whole swatch width; others are drawn as they are.
    const shapes = e.more || (e.shape !== 'line' && e.shape !== 'dash') ? swatchShapes(e, sw, 0, 0) : [s('line', { class: e.cls, x1: 0, y1: sw / 2, x2: sww, y2: sw / 2 })];
    const textX = sww + font * 0.35;
    const t = s('text', { x: textX, y: sw * 0.85, class: 'figure-key-text' }, e.text);
    g.append(...shapes, t);
    fig.append(g);
    let w = textX + t.getComputedTextLength() + font * 1.2;
    let lines = 1;
    // An entry wider than the figure: its text in lines under each other, beside the swatch.
    if (w > width - 2 * pad) {
      t.remove();
      const room = width - 2 * pad - textX;
      let cur = '';
      const flush = () => {
        g.append(s('text', { x: textX, y: sw * 0.85 + (lines - 1) * font * 1.3, class: 'figure-key-text' }, cur));
        lines++;
      };
      for (const word of e.text.split(' ')) {
        const probe = s('text', { class: 'figure-key-text', y: -100 }, cur ? `${cur} ${word}` : word);
        fig.append(probe);
        const over = probe.getComputedTextLength() > room;
        probe.remove();
        if (over && cur) {
          flush();
          cur = word;
        } else cur = cur ? `${cur} ${word}` : word;
      }
      flush();
      lines--;
      w = width - 2 * pad;
    }
    if (x > pad && x + w > width - pad) {
      x = pad;
      rowTop += rowHeight;
      rowHeight = font * 1.6;
    }
    g.setAttribute('transform', `translate(${x} ${rowTop})`);
    rowHeight = Math.max(rowHeight, font * (0.3 + 1.3 * lines));
    x += w;
  }
  if (f.legend.length) y = rowTop + rowHeight;
  const height = Math.ceil(y + pad);
  fig.setAttribute('height', String(height));
  fig.setAttribute('viewBox', `0 0 ${width} ${height}`);
  return fig;
}

/** The whole figure as SVG text, and its size. */
export function figureToString(title: string, f: Figure): { text: string; width: number; height: number } {
  const fig = buildFigure(title, f);
  try {
    return { text: svgToString(fig), width: fig.viewBox.baseVal.width, height: fig.viewBox.baseVal.height };
  } finally {
    fig.remove();
  }
}

export async function figureToPng(title: string, f: Figure, scale = 2): Promise<string> {
  const { text, width, height } = figureToString(title, f);
  return pngOf(text, Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)));
}
