/**
 * Region map of a 2D slice: the exact regions as polygons (or the sampled grid), each coloured by a stable hash of
 * its code (hue from the hash, lightness for the theme), the decision boundary on top. Hover says region, code
 * summary, area and class; a click asks the host for the model at that point (and its input as an image when the
 * input is one). Wheel zooms at the pointer, drag pans, Reset restores; keyboard: arrows pan, +/- zoom, 0 resets,
 * Enter asks for the point at the centre.
 */
import type { SliceResult } from '../shared/results';
import type { AnalysisData, AnalysisToWebview } from '../shared/webview-protocol';
import type { Figure } from './charts/export';
import { keyBox, type LegendEntry } from './charts/key';
import { fmt, popcountHex, regionColour, startPage, type PageContext, type Rendered } from './charts/page';
import { appendXTitle, wrapText } from './charts/bars';
import { Plot, plotSvg } from './charts/plot';
import { chartFontPx, MIN_CHART_WIDTH, niceStep, textWidth, ticksBetween, watchWidth } from './charts/size';
import { h, s } from './vscodeApi';
import { counted, term } from './term';
import { plural, type GlossaryTermId } from '../shared/glossary';
import { elementCount } from '../shared/shape';

/** Hover-box labels that are glossary terms. */
const TERM_OF: Record<string, GlossaryTermId> = { at: 'plane-coordinates', code: 'spline-code', 'active bits': 'unit', area: 'region-area', 'area (grid)': 'region-area' };

const S = 600;

interface ViewBox {
  k: number;
  tx: number;
  ty: number;
}

interface PointInfo {
  u: number;
  v: number;
  pending?: boolean;
  pred?: number;
  scores?: number[];
  image?: string;
  imageNote?: string;
  error?: string;
}

interface RegionHit {
  index: number;
  code?: string;
  area: number;
  pred: number;
  approx: boolean;
}

/** The page's region map, while one is shown: a clicked point's answer updates it in place (no re-render). */
let live: { showPoint(p: PointInfo): void } | undefined;

function renderSlice(r: SliceResult, sampleShape: number[], ctx: PageContext): Rendered {
  const [lo, hi] = r.window;
  const span = hi - lo || 1;
  const sx = (u: number) => ((u - lo) / span) * S;
  const sy = (v: number) => S - ((v - lo) / span) * S;
  const exact = r.exact?.polygons;
  const mode: 'exact' | 'grid' = exact && ctx.ui.mode !== 'grid' ? 'exact' : 'grid';
  const vb: ViewBox = isViewBox(ctx.ui.view) ? { ...(ctx.ui.view as ViewBox) } : { k: 1, tx: 0, ty: 0 };

  const svg = s('svg', { viewBox: `0 0 ${S} ${S}`, class: 'map', tabindex: 0, role: 'application', 'aria-label': `Region map over [${lo}, ${hi}]², ${mode === 'exact' ? `${exact!.length} exact regions` : `${r.grid.distinct_codes} sampled regions`}. Arrows pan, plus and minus zoom, 0 resets, Enter shows the model at the centre.` });
  const clipId = 'map-clip';
  svg.append(s('defs', {}, s('clipPath', { id: clipId }, s('rect', { x: 0, y: 0, width: S, height: S }))));
  const clip = s('g', { 'clip-path': `url(#${clipId})` });
  const view = s('g', { class: 'view' });
  const regions = s('g', { class: 'regions' });
  const boundary = s('g', { class: 'boundaries' });
  const marker = s('g', { class: 'markers' });
  view.append(regions, boundary, marker);
  clip.append(view);
  svg.append(clip, s('rect', { class: 'map-frame', x: 0.5, y: 0.5, width: S - 1, height: S - 1 }));
  // The map sits in a figure drawn at the container's width: axes in the plane's coordinates (redrawn for the zoomed
  // window) and the samples spanning the plane, with text at the chart font size. The map itself is never moved (a
  // drag holds pointer capture on it), only the layers around it are redrawn.
  const axesLayer = s('g', { class: 'map-axes' });
  const overlay = s('g', { class: 'map-overlay' });
  const figure = s('svg', { class: 'plot map-figure' }, axesLayer, svg, overlay);

  // ---- regions ----
  const R = r.grid.resolution;
  const ids = r.grid.region_ids_row_major;
  const cell = S / (R - 1);
  const gridCounts = new Map<number, number>();
  if (mode === 'exact') {
    exact!.forEach((p, i) => {
      if (p.vertices.length < 3) return;
      const d = p.vertices.map(([u, v], j) => `${j ? 'L' : 'M'}${sx(u).toFixed(2)},${sy(v).toFixed(2)}`).join('') + 'Z';
      regions.append(s('path', { class: 'region', d, fill: regionColour(p.code_hex), 'data-i': i }));
    });
    for (const [u0, v0, u1, v1] of r.exact!.decision_boundary) {
      boundary.append(s('line', { class: 'boundary', x1: sx(u0), y1: sy(v0), x2: sx(u1), y2: sy(v1), 'vector-effect': 'non-scaling-stroke' }));
    }
  } else {
    for (const id of ids) gridCounts.set(id, (gridCounts.get(id) ?? 0) + 1);
    // Row runs of one region become one rectangle. Point (i, j) is (xs[j], ys[i]); its cell is centred there.
    for (let i = 0; i < R; i++) {
      let j = 0;
      while (j < R) {
        const id = ids[i * R + j]!;
        let e = j + 1;
        while (e < R && ids[i * R + e] === id) e++;
        regions.append(
          s('rect', { class: 'region', x: (j - 0.5) * cell, y: S - (i + 0.5) * cell, width: (e - j) * cell, height: cell, fill: regionColour(`grid-${id}`), 'data-r': id, 'shape-rendering': 'crispEdges' }),
        );
        j = e;
      }
    }
    // Decision boundary of the grid: between neighbouring points of different predicted class.
    const pr = r.grid.pred_row_major;
    let d = '';
    for (let i = 0; i < R; i++) {
      for (let j = 0; j < R; j++) {
        const p = pr[i * R + j];
        if (j + 1 < R && pr[i * R + j + 1] !== p) d += `M${((j + 0.5) * cell).toFixed(2)},${(S - (i + 0.5) * cell).toFixed(2)}v${cell.toFixed(2)}`;
        if (i + 1 < R && pr[(i + 1) * R + j] !== p) d += `M${((j - 0.5) * cell).toFixed(2)},${(S - (i + 0.5) * cell).toFixed(2)}h${cell.toFixed(2)}`;
      }
    }
    if (d) boundary.append(s('path', { class: 'boundary', d, 'vector-effect': 'non-scaling-stroke' }));
  }

  // ---- the side panel ----
  const hoverBox = h('dl', { id: 'hover' });
  const pointBox = h('div', { id: 'point' });
  const side = h('div', { class: 'side' }, h('h2', {}, 'Region'), h('div', { class: 'info', 'aria-live': 'polite' }, hoverBox), h('h2', {}, 'Clicked point'), pointBox);
  const setHover = (hit: RegionHit | undefined, u: number, v: number) => {
    if (!hit) {
      hoverBox.replaceChildren(h('dt', {}, 'at'), h('dd', {}, `(${fmt(u)}, ${fmt(v)})`), h('dt', {}, ''), h('dd', {}, 'outside the regions'));
      return;
    }
    const rows: [string, string][] = [
      ['region', `#${hit.index}`],
      ['at', `(${fmt(u)}, ${fmt(v)})`],
    ];
    if (hit.code !== undefined) {
      rows.push(['active bits', `${popcountHex(hit.code)} of ${hit.code.length * 4}`], ['code', `${hit.code.slice(0, 16)}${hit.code.length > 16 ? '…' : ''}`]);
    }
    // Area in plane units squared, and as the share of the window it covers.
    const share = (100 * hit.area) / ((hi - lo) * (hi - lo));
    rows.push([hit.approx ? 'area (grid)' : 'area', `${fmt(hit.area, 4)} plane units² (${fmt(share, 3)} % of the window)`], ['class', String(hit.pred)]);
    hoverBox.replaceChildren(...rows.flatMap(([k, val]) => [h('dt', {}, TERM_OF[k] ? term(TERM_OF[k]!, k) : k), h('dd', { 'data-field': k }, val)]));
  };
  const drawPoint = (p: PointInfo | undefined) => {
    marker.replaceChildren();
    if (!p) {
      pointBox.replaceChildren(h('p', { class: 'hint' }, `Click the map to see the model at that point${sampleShape.length >= 2 ? ' and its input' : ''}.`));
      return;
    }
    marker.append(s('circle', { class: 'point-marker', cx: sx(p.u), cy: sy(p.v), r: 5 / vb.k, 'vector-effect': 'non-scaling-stroke' }));
    const parts: Node[] = [h('p', {}, `(u, v) = (${fmt(p.u, 4)}, ${fmt(p.v, 4)})`)];
    if (p.pending) parts.push(h('p', { class: 'hint' }, 'Asking the model…'));
    else if (p.error) parts.push(h('p', { class: 'error', role: 'alert' }, p.error));
    else if (p.pred !== undefined) {
      const top = (p.scores ?? []).map((v, i) => [i, v] as const).sort((a, b) => b[1] - a[1]).slice(0, 3);
      parts.push(
        h('p', {}, 'predicted class ', h('strong', { id: 'point-pred' }, String(p.pred))),
        h('p', { class: 'hint' }, 'largest ', term('logits'), ` (class: logit): ${top.map(([i, v]) => `${i}: ${fmt(v)}`).join(', ')}`),
      );
      if (p.image) parts.push(h('img', { class: 'input-image', src: p.image, alt: `the input at (${fmt(p.u)}, ${fmt(p.v)})` }), h('p', { class: 'hint' }, p.imageNote ?? ''));
      // The polytope of the clicked point: the host maps (u, v) into the input space and opens the polytope view.
      const inspect = h('vscode-button', { id: 'inspect-point' }, 'Inspect the polytope here');
      inspect.addEventListener('click', () => ctx.post({ type: 'inspect', target: 'point', u: p.u, v: p.v }));
      parts.push(inspect);
    }
    pointBox.replaceChildren(...parts);
  };

  // ---- hit testing, zoom, pan ----
  const applyView = () => {
    view.setAttribute('transform', `translate(${vb.tx.toFixed(3)} ${vb.ty.toFixed(3)}) scale(${vb.k.toFixed(5)})`);
    const circle = marker.querySelector('circle');
    if (circle) circle.setAttribute('r', String(5 / vb.k));
    redrawFrame();
  };
  const saveView = () => {
    ctx.ui.view = { ...vb };
    ctx.saveUi();
  };
  const toMap = (ev: { clientX: number; clientY: number }) => {
    const rect = svg.getBoundingClientRect();
    return { x: ((ev.clientX - rect.left) / rect.width) * S, y: ((ev.clientY - rect.top) / rect.height) * S };
  };
  const toData = (x: number, y: number) => {
    const bx = (x - vb.tx) / vb.k;
    const by = (y - vb.ty) / vb.k;
    return { u: lo + (bx / S) * span, v: lo + ((S - by) / S) * span };
  };
  const hitAt = (u: number, v: number, target: EventTarget | null): RegionHit | undefined => {
    if (mode === 'exact') {
      let i = target instanceof Element && target.classList.contains('region') ? Number(target.getAttribute('data-i')) : -1;
      if (i < 0) i = exact!.findIndex((p) => inPolygon(u, v, p.vertices));
      const p = exact![i];
      return p ? { index: i, code: p.code_hex, area: p.area, pred: p.pred, approx: false } : undefined;
    }
    const j = Math.round(((u - lo) / span) * (R - 1));
    const i = Math.round(((v - lo) / span) * (R - 1));
    if (i < 0 || j < 0 || i >= R || j >= R) return undefined;
    const id = ids[i * R + j]!;
    const step = span / (R - 1);
    return { index: id, area: (gridCounts.get(id) ?? 0) * step * step, pred: r.grid.pred_row_major[i * R + j]!, approx: true };
  };
  let hovered: Element | undefined;
  const hover = (x: number, y: number, target: EventTarget | null) => {
    const { u, v } = toData(x, y);
    const hit = hitAt(u, v, target);
    hovered?.classList.remove('hover');
    hovered = undefined;
    if (hit && mode === 'exact') {
      hovered = regions.querySelector(`[data-i="${hit.index}"]`) ?? undefined;
      hovered?.classList.add('hover');
    }
    setHover(hit, u, v);
  };
  const ask = (u: number, v: number) => {
    const p: PointInfo = { u, v, pending: true };
    ctx.ui.point = p;
    ctx.saveUi();
    drawPoint(p);
    ctx.post({ type: 'point', u, v });
  };
  const zoomAt = (x: number, y: number, factor: number) => {
    const k = Math.min(200, Math.max(1, vb.k * factor));
    const f = k / vb.k;
    vb.tx = x - (x - vb.tx) * f;
    vb.ty = y - (y - vb.ty) * f;
    vb.k = k;
    clampView();
    applyView();
    saveView();
  };
  const clampView = () => {
    const min = S - S * vb.k;
    vb.tx = Math.min(0, Math.max(min, vb.tx));
    vb.ty = Math.min(0, Math.max(min, vb.ty));
  };
  let drag: { x: number; y: number; tx: number; ty: number; moved: boolean; id: number } | undefined;
  svg.addEventListener('pointerdown', (ev) => {
    const m = toMap(ev);
    drag = { x: m.x, y: m.y, tx: vb.tx, ty: vb.ty, moved: false, id: ev.pointerId };
  });
  svg.addEventListener('pointermove', (ev) => {
    const m = toMap(ev);
    if (drag) {
      const dx = m.x - drag.x;
      const dy = m.y - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) > 3) {
        drag.moved = true;
        svg.setPointerCapture(drag.id);
        svg.classList.add('dragging');
      }
      if (drag.moved) {
        vb.tx = drag.tx + dx;
        vb.ty = drag.ty + dy;
        clampView();
        applyView();
        return;
      }
    }
    hover(m.x, m.y, ev.target);
  });
  svg.addEventListener('pointerup', (ev) => {
    const d = drag;
    drag = undefined;
    svg.classList.remove('dragging');
    if (!d) return;
    if (d.moved) {
      saveView();
      return;
    }
    const m = toMap(ev);
    const { u, v } = toData(m.x, m.y);
    ask(u, v);
  });
  svg.addEventListener('pointerleave', () => {
    hovered?.classList.remove('hover');
    hovered = undefined;
  });
  svg.addEventListener(
    'wheel',
    (ev) => {
      ev.preventDefault();
      const m = toMap(ev);
      zoomAt(m.x, m.y, Math.exp(-ev.deltaY * 0.0015));
    },
    { passive: false },
  );
  svg.addEventListener('keydown', (ev) => {
    const pan = (S / 10) ;
    switch (ev.key) {
      case 'ArrowLeft': vb.tx += pan; break;
      case 'ArrowRight': vb.tx -= pan; break;
      case 'ArrowUp': vb.ty += pan; break;
      case 'ArrowDown': vb.ty -= pan; break;
      case '+': case '=': zoomAt(S / 2, S / 2, 1.25); ev.preventDefault(); return;
      case '-': case '_': zoomAt(S / 2, S / 2, 0.8); ev.preventDefault(); return;
      case '0': reset(); ev.preventDefault(); return;
      case 'Enter': case ' ': {
        const { u, v } = toData(S / 2, S / 2);
        hover(S / 2, S / 2, null);
        ask(u, v);
        ev.preventDefault();
        return;
      }
      default: return;
    }
    ev.preventDefault();
    clampView();
    applyView();
    saveView();
    hover(S / 2, S / 2, null);
  });
  const reset = () => {
    vb.k = 1;
    vb.tx = 0;
    vb.ty = 0;
    applyView();
    saveView();
  };


  // ---- axes, plane samples, legend ----
  const planeSamples = r.plane.indices.length === 3 ? r.plane.indices.map((index, k) => ({ index, name: 'abc'[k]!, u: k === 1 ? 1 : 0, v: k === 2 ? 1 : 0 })) : [];
  const predAt = (u: number, v: number): number | undefined => hitAt(u, v, null)?.pred;
  const sampleLabel = (p: (typeof planeSamples)[number]) => `${p.name}: sample ${p.index}${predAt(p.u, p.v) === undefined ? '' : `, predicted ${predAt(p.u, p.v)}`}`;
  const titles = planeSamples.length
    ? { u: `u: from sample ${planeSamples[0]!.index} (u = 0) to sample ${planeSamples[1]!.index} (u = 1)`, v: `v: to sample ${planeSamples[2]!.index} (v = 1)` }
    : elementCount(sampleShape) === 2
      ? { u: 'input[0] (first input value)', v: 'input[1] (second input value)' }
      : { u: 'u (plane coordinate)', v: 'v (plane coordinate)' };
  const box = h('div', { class: 'map-box' });
  let boxWidth = Math.max(MIN_CHART_WIDTH, Math.min(760, (document.getElementById('app')?.clientWidth ?? 700) - 16));
  const drawFrame = () => {
    const font = chartFontPx();
    const xLines = wrapText(titles.u, boxWidth - font, font);
    const m = { left: Math.round(font * 4.8), right: Math.round(font * 1.6), top: Math.round(font * 1.2), bottom: Math.round(font * (2.3 + 1.3 * xLines.length)) };
    const side = Math.max(160, Math.min(boxWidth - m.left - m.right, 640));
    const W = side + m.left + m.right;
    const H = side + m.top + m.bottom;
    // The visible window: the map's corners through the zoom.
    const c0 = toData(0, S);
    const c1 = toData(S, 0);
    const ticks = (lo: number, hi: number) => ticksBetween(lo, hi, niceStep(hi - lo, Math.max(2, Math.floor(side / (textWidth(fmt(hi), font) + font * 2)))));
    const shown = planeSamples.filter((p) => p.u >= c0.u && p.u <= c1.u && p.v >= c0.v && p.v <= c1.v);
    const plot = plotSvg({
      width: W,
      height: H,
      marginLeft: m.left,
      marginRight: m.right,
      marginTop: m.top,
      marginBottom: m.bottom,
      x: { type: 'linear', domain: [c0.u, c1.u], axis: null },
      y: { type: 'linear', domain: [c0.v, c1.v], axis: null },
      marks: [
        Plot.axisX(ticks(c0.u, c1.u), { tickFormat: (x: number) => fmt(x), label: null, className: 'x-axis' }),
        Plot.axisY(ticks(c0.v, c1.v), { tickFormat: (x: number) => fmt(x), label: titles.v, labelAnchor: 'center', labelArrow: 'none', className: 'y-axis' }),
        Plot.dot(shown, { x: 'u', y: 'v', r: Math.max(4, font * 0.4), className: 'plane-sample' }),
        // Labels beside their sample, on the side towards the map's middle (so they stay inside the figure), a's
        // below its point and the others above (a and b share a row at v = 0).
        ...shown.map((p) => {
          const left = p.u <= (c0.u + c1.u) / 2;
          return Plot.text([p], { x: 'u', y: 'v', text: sampleLabel, dy: p.name === 'a' ? font * 1.1 : -font * 0.9, dx: left ? font * 0.3 : -font * 0.3, textAnchor: left ? 'start' : 'end', className: 'plane-sample-label' });
        }),
      ],
    });
    appendXTitle(plot, wrapText(titles.u, W - font, font), W, H, font, m);
    figure.setAttribute('width', String(W));
    figure.setAttribute('height', String(H));
    figure.setAttribute('viewBox', `0 0 ${W} ${H}`);
    svg.setAttribute('x', String(m.left));
    svg.setAttribute('y', String(m.top));
    svg.setAttribute('width', String(side));
    svg.setAttribute('height', String(side));
    const over = Array.from(plot.querySelectorAll(':scope > g.plane-sample, :scope > g.plane-sample-label, :scope > text.x-title'));
    // Plot's defaults for its marks (text-anchor middle, fill currentColor) are attributes of its root: kept on the layers.
    for (const layer of [axesLayer, overlay]) for (const a of ['fill', 'text-anchor']) layer.setAttribute(a, plot.getAttribute(a) ?? '');
    axesLayer.replaceChildren(...Array.from(plot.children).filter((c) => !over.includes(c)));
    overlay.replaceChildren(...over);
  };
  let framePending = false;
  const redrawFrame = () => {
    if (framePending) return;
    framePending = true;
    requestAnimationFrame(() => {
      framePending = false;
      drawFrame();
    });
  };
  box.append(figure);
  watchWidth(box, boxWidth, (w) => {
    boxWidth = w;
    drawFrame();
  });
  const legendEntries: LegendEntry[] = [
    { text: 'decision boundary (the predicted class changes)', shape: 'line', cls: 'boundary' },
    { text: `linear region (one colour per ${mode === 'exact' ? 'exact region' : 'sampled code'}, from its code; neighbours may look alike)`, shape: 'rect', cls: 'region-key', more: ['region-key', 'region-key'], fills: [0, 1, 2].map((i) => regionColour(`key-${i}`)) },
    ...(planeSamples.length ? [{ text: 'a, b, c: the samples spanning the plane (a at u = v = 0, b at u = 1, c at v = 1), with their predicted class', shape: 'dot' as const, cls: 'plane-sample' }] : []),
    { text: 'clicked point', shape: 'ring', cls: 'point-marker' },
  ];
  const keys = keyBox('What the map shows', legendEntries, 'map-key');

  // ---- toolbar and summary ----
  const resetBtn = h('vscode-button', { id: 'reset', secondary: true }, 'Reset view');
  resetBtn.addEventListener('click', reset);
  const tools = h('div', { class: 'toolbar' }, resetBtn);
  if (exact) {
    const t = h('button', { type: 'button', class: 'toggle', id: 'toggle-mode', 'aria-pressed': String(mode === 'exact') }, 'exact regions');
    t.addEventListener('click', () => {
      ctx.setUi({ mode: mode === 'exact' ? 'grid' : 'exact' });
    });
    tools.append(t);
  }
  const e = r.exact;
  const meta = h(
    'p',
    { class: 'meta' },
    'window ',
    term('plane-coordinates', `[${lo}, ${hi}]²`),
    ` · ${r.plane.note}${r.plane.indices.length ? ` (samples ${r.plane.indices.join(', ')})` : ''} · grid ${R}×${R}: `,
    ...counted(r.grid.distinct_codes, 'regions-hit'),
    ...(e
      ? [` · exact: ${e.regions} `, term('region', e.regions === 1 ? 'region' : 'regions'), `, ${plural(e.decision_boundary.length, 'segment')} of `, term('decision-boundary'), ', smallest ', term('region-area'), ` ${fmt(e.min_region_area)} plane units² (${e.precision})`]
      : []),
    mode === 'grid' ? ' · showing the sampled grid' : ' · showing the exact regions',
  );
  applyView();
  const saved = ctx.ui.point as PointInfo | undefined;
  drawPoint(saved && typeof saved.u === 'number' ? { ...saved, pending: false } : undefined);
  setHover(undefined, (lo + hi) / 2, (lo + hi) / 2);
  hoverBox.replaceChildren(h('dt', {}, ''), h('dd', {}, 'Hover a region.'));
  drawFrame();
  live = { showPoint: drawPoint };
  const root = h('div', { class: 'region-view' }, meta, tools, keys, h('div', { class: 'region-layout' }, box, side));
  const exportFigure = (): Figure => ({ chart: figure, legend: legendEntries, notes: [meta.textContent ?? ''] });
  return {
    root,
    chart: () => figure,
    figure: exportFigure,
    items: () => (mode === 'exact' ? regions.querySelectorAll('path.region').length : new Set(Array.from(regions.querySelectorAll('rect.region')).map((x) => x.getAttribute('data-r'))).size),
    marks: () => (mode === 'exact' ? boundary.querySelectorAll('.boundary').length : r.grid.pred_row_major.length && boundary.querySelector('path') ? countMoves(boundary.querySelector('path')!.getAttribute('d') ?? '') : 0),
  };
}

function countMoves(d: string): number {
  let n = 0;
  for (const ch of d) if (ch === 'M') n++;
  return n;
}

function isViewBox(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return [o.k, o.tx, o.ty].every((v) => typeof v === 'number' && Number.isFinite(v)) && (o.k as number) >= 1;
}

function inPolygon(u: number, v: number, pts: [number, number][]): boolean {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i]!;
    const [xj, yj] = pts[j]!;
    if (yi > v !== yj > v && u < ((xj - xi) * (v - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

startPage({
  render: (data: AnalysisData, ctx) => {
    live = undefined;
    if (data.kind !== 'slice') return { root: h('p', { class: 'error' }, `This view shows slices, not ${data.kind}.`), items: () => 0, marks: () => 0 };
    return renderSlice(data.result, data.sampleShape, ctx);
  },
  onMessage: (m: AnalysisToWebview, ctx) => {
    if (m.type !== 'point' && m.type !== 'pointError') return false;
    const p: PointInfo = m.type === 'point' ? { u: m.u, v: m.v, pred: m.pred, scores: m.scores, image: m.image, imageNote: m.imageNote } : { u: m.u, v: m.v, error: m.message };
    ctx.ui.point = p;
    ctx.saveUi();
    // In place: a re-render would reset the hover box while the pointer is still on the map.
    if (live) live.showPoint(p);
    else ctx.rerender();
    return true;
  },
});
