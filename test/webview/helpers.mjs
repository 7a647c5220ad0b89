// Helpers shared by the webview test files (registered into test/webview/run.mjs's runner).
import assert from 'node:assert/strict';

// The pages' number format (src/webview/charts/page.ts fmt).
export const fmt = (x, d = 3) => (Number.isInteger(x) ? String(x) : Math.abs(x) >= 1000 || Math.abs(x) < 1e-3 ? x.toPrecision(d) : Number(x.toPrecision(d)).toString());

/** A computed colour as 'rgb(r, g, b)': series colours are made with relative colour syntax (media/analysis.css),
 * which computes to 'color(srgb r g b)' with channels in 0..1. */
export const rgb = (v) => v.replace(/^color\(srgb ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)\)$/, (_, ...c) => `rgb(${c.slice(0, 3).map((x) => Math.round(Number(x) * 255)).join(', ')})`);

/** Clicks Export SVG, PNG and JSON and returns what the page posted, checked for its format. */
export async function exportAll(page) {
  const exports = () => page.evaluate(() => window.__posted.filter((m) => m.type === 'export'));
  const before = (await exports()).length;
  for (const f of ['svg', 'png', 'json']) await page.click(`vscode-button#export-${f}`);
  await page.waitForFunction((n) => window.__posted.filter((m) => m.type === 'export').length >= n + 3, before);
  const by = Object.fromEntries((await exports()).slice(before).map((m) => [m.format, m.content]));
  assert.match(by.svg, /^<svg[\s>]/);
  assert.ok(by.svg.trimEnd().endsWith('</svg>'));
  assert.doesNotMatch(by.svg, /var\(--vscode/, 'colours are resolved in the exported SVG');
  assert.match(by.png, /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
  assert.ok(by.png.length > 2000, 'the PNG has content');
  return { svg: by.svg, png: by.png, json: JSON.parse(by.json) };
}

/** The bounding box of the first element matching a selector, in page pixels. */
export const box = (page, sel) => page.$eval(sel, (e) => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
