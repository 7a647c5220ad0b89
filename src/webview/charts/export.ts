/**
 * Export of a chart: the SVG with its computed colours and fonts written into attributes (the --vscode-*
 * variables do not exist outside VS Code) on the theme's background, and a PNG drawn from that SVG on a canvas.
 */

const PROPS = ['fill', 'stroke', 'stroke-width', 'stroke-dasharray', 'stroke-opacity', 'fill-opacity', 'opacity', 'font-family', 'font-size', 'font-weight', 'text-anchor', 'dominant-baseline', 'display', 'visibility'];

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
      if (v) el.setAttribute(p, v);
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
