/**
 * Observable Plot, set up for a webview: every chart of the pages goes through plotSvg.
 *  - Plot puts a <style> element into each SVG; the webview's CSP (style-src with a nonce) would refuse it and log an
 *    error, so it is removed before the SVG enters the document (media/analysis.css gives the same rules).
 *  - Colours are not Plot options but CSS classes on the marks' groups (className: 'bar s0', ...), so the theme's
 *    --vscode-* variables apply and a theme switch needs no new colours; axes and text are currentColor.
 *  - Fixed pixel sizes (the SVG scales with CSS): the hover code maps mouse positions through `svg.scale('x')`.
 */
import * as Plot from '@observablehq/plot';

export { Plot };

/** An SVG chart made by Plot, with its scales. */
export type PlotSvg = SVGSVGElement & { scale(name: 'x' | 'y'): { apply(v: number): number; invert?(p: number): number; domain: number[] } };

export function plotSvg(options: Plot.PlotOptions & { class?: string }): PlotSvg {
  const { class: cls, ...rest } = options;
  const node = Plot.plot({ figure: false, ...rest, style: undefined }) as unknown as PlotSvg;
  if (!(node instanceof SVGSVGElement)) throw new Error('Plot made a figure, not an SVG (a legend or title was asked for).');
  for (const st of Array.from(node.querySelectorAll(':scope > style'))) st.remove();
  // The theme's font comes from the page's CSS (inherited), not Plot's system-ui attributes.
  node.removeAttribute('font-family');
  node.removeAttribute('font-size');
  node.setAttribute('class', `plot chart${cls ? ` ${cls}` : ''}`);
  return node;
}
