/**
 * The polytope around one point (Inspect Polytope at Input): a header (code, class, dimension, precision said
 * plainly when it is float32 and so approximate, residual, inradius, boundedness), a notice when the facet list is
 * partial (rays only, or a time limit) with a button for the full list, the nearest boundary, a histogram of the
 * distances from the point to the facets stacked by layer, the facets grouped by layer (module name first), and
 * the neighbours across the facets with their code and class, each with a button that asks the host to inspect
 * it (the page sends the neighbour's index only: the host keeps the point just across the facet).
 */
import type { LayerInfo, PolytopeNeighbour, PolytopeResult } from '../shared/results';
import type { AnalysisData, PolytopeOrigin } from '../shared/webview-protocol';
import { niceMax } from './charts/bars';
import { fmt, popcountHex, startPage, type PageContext, type Rendered } from './charts/page';
import { layerName, layerText } from './layerName';
import { distanceHistogram } from './polytopeHistogram';
import { responsive } from './charts/size';
import { h, s } from './vscodeApi';

/** Neighbours listed before "Show all" (mnist-8 has hundreds). */
const FIRST_NEIGHBOURS = 50;
const BINS = 20;

/** A long hex code, shortened to its ends (the whole code is in the element's title). */
export function shortHex(hex: string, keep = 8): string {
  return hex.length <= 2 * keep + 1 ? hex : `${hex.slice(0, keep)}…${hex.slice(-keep)}`;
}

const dist = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : fmt(v, 4));

function median(xs: number[]): number | undefined {
  if (!xs.length) return undefined;
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1]! + v[m]!) / 2;
}

function precisionText(r: PolytopeResult): (Node | string)[] {
  if (r.precision === 'float64') return ['float64 (exact up to rounding)'];
  return [h('strong', { class: 'approximate' }, 'approximate: float32'), ' (onnxruntime has no float64 kernels for this model, so the affine forms, facets and distances are float32 estimates)'];
}

function boundedText(r: PolytopeResult): string {
  if (r.bounded) return r.box ? 'yes, within the box' : 'yes';
  // A subset of the facets that bounds the region proves it bounded; a partial list that does not proves nothing.
  return r.facets_complete ? (r.box ? 'no, not within the box' : 'no') : 'not shown by the facets found (partial list)';
}

function partialText(r: PolytopeResult): string {
  if (r.method.unresolved > 0) return `Partial facet list: ${r.method.stopped === 'request' ? 'Cancel' : 'the time limit'} stopped the redundancy LPs with ${r.method.unresolved} constraints untested, so facets may be missing.`;
  if (r.method.lps === 0) return `Partial facet list: these ${r.facets.length} facets were found by ${r.method.rays} rays from the Chebyshev centre (and the nearest boundary); facets no ray hit are missing. Counts, the histogram and the neighbours cover only these.`;
  return `Partial facet list: some redundancy LPs did not end optimal, so facets may be missing.`;
}

function renderPolytope(r: PolytopeResult, origin: PolytopeOrigin, ctx: PageContext): Rendered {
  const layers = new Map<string, LayerInfo>(r.layers.map((l) => [l.key, l]));
  const slotOf = new Map(r.layers.map((l, i) => [l.key, i]));
  const named = (key: string) => layers.get(key) ?? { key };
  const neighbourOf = new Map(r.neighbours.map((n, i) => [`${n.layer}#${n.unit}`, { n, i }]));
  const swatch = (key: string) => s('svg', { width: 10, height: 10, 'aria-hidden': 'true' }, s('rect', { class: `swatch s${slotOf.get(key)! % 8}`, width: 10, height: 10 }));
  const inspect = (i: number) => ctx.post({ type: 'inspect', target: 'neighbour', neighbour: i });
  const inspectButton = (i: number, n: PolytopeNeighbour) => {
    const b = h('button', { type: 'button', class: 'inspect', 'data-neighbour': i, title: `Inspect the polytope across ${layerText(named(n.layer))} unit ${n.unit}` }, 'Inspect');
    b.addEventListener('click', () => inspect(i));
    return b;
  };

  // ---- header ----
  const bits = r.layers.reduce((a, l) => a + l.units, 0);
  const rows: [string, (Node | string)[]][] = [
    ['code', [h('code', { id: 'code', title: r.code_hex }, shortHex(r.code_hex)), ` (${bits} bits, ${popcountHex(r.code_hex)} on)`]],
    ['class', [h('strong', { id: 'pred' }, String(r.pred))]],
    ['dimension', [String(r.dim)]],
    ['precision', precisionText(r)],
    ['affine residual', [r.residual.toExponential(2), ' (relative error of the affine forms at a random point of the region)']],
    ['inradius', [h('strong', { id: 'inradius' }, r.inradius === null ? 'none: no inscribed ball (unbounded without a box)' : fmt(r.inradius, 4)), r.inradius === null ? '' : ' (radius of the largest ball inside the region)']],
    ['bounded', [h('span', { id: 'bounded' }, boundedText(r))]],
    ['constraints', [`${r.constraints} (${r.constant_constraints} constant inside the region, ${r.duplicate_constraints} duplicates)`]],
    ['box', [r.box ? `[${r.box[0]}, ${r.box[1]}] (the region is clipped to it; its faces are not facets)` : 'none']],
  ];
  const header = h('dl', { class: 'facts', id: 'facts' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-field': k }, ...v)]));

  const parts: (Node | undefined)[] = [h('p', { class: 'meta', id: 'origin' }, `Around ${origin.text}.`), header];
  if (!r.facets_complete) {
    const all = h('vscode-button', { id: 'all-facets', secondary: true }, 'Find every facet');
    all.addEventListener('click', () => ctx.post({ type: 'inspect', target: 'allFacets' }));
    parts.push(h('div', { class: 'notice partial', id: 'partial', role: 'status' }, h('span', {}, partialText(r), ' '), all));
  }
  // The engine's notes name the CLI's flag (here the box is the command's question); the rays-only and stopped-LP
  // notes are the partial notice above.
  const note = (r.note ?? '')
    .split('; ')
    .filter((n) => !/^(facets found by rays only|time limit reached|stopped on request)/.test(n))
    .map((n) => n.replace(/give --box LO,HI/g, 'give a box'))
    .join('; ');
  if (note) parts.push(h('p', { class: 'hint', id: 'note' }, `Note: ${note}.`));

  // ---- nearest boundary ----
  const near = r.nearest;
  const nearNb = neighbourOf.get(`${near.layer}#${near.unit}`);
  // A neighbour's point lies just across the facet it was reached by, so that facet is usually its nearest boundary:
  // said, so a distance near zero does not read as a point on the edge of its region.
  const crossed = origin.from === 'neighbour' && origin.layer === near.layer && origin.unit === near.unit;
  parts.push(
    h('h2', {}, 'Nearest boundary'),
    near.unit < 0
      ? h('p', { id: 'nearest' }, 'None: no constraint bounds the region.')
      : h(
          'p',
          { id: 'nearest' },
          ...layerName(named(near.layer)),
          ` unit ${near.unit}, at distance `,
          h('strong', {}, dist(near.distance)),
          ' from the point',
          crossed ? ': the facet crossed to get here' : '',
          near.also?.length ? ` (the same hyperplane as ${near.also.map((u) => `${u.layer} unit ${u.unit}`).join(', ')})` : '',
          nearNb ? `; across it the class is ${nearNb.n.pred}${nearNb.n.pred !== r.pred ? ' (it changes)' : ''} ` : '',
          nearNb ? inspectButton(nearNb.i, nearNb.n) : '',
        ),
  );

  // ---- histogram of the distances, stacked by layer ----
  const ds = r.facets.map((f) => f.distance).filter(Number.isFinite);
  const top = niceMax(Math.max(0, ...ds));
  const w = top / BINS;
  const binOf = (d: number) => Math.min(BINS - 1, Math.max(0, Math.floor(d / w)));
  const counts = new Map<string, number[]>();
  for (const f of r.facets) {
    if (!Number.isFinite(f.distance)) continue;
    const c = counts.get(f.layer) ?? counts.set(f.layer, new Array<number>(BINS).fill(0)).get(f.layer)!;
    c[binOf(f.distance)]!++;
  }
  const binText = (i: number) => {
    const per = r.layers.filter((l) => counts.get(l.key)?.[i]).map((l) => `${layerText(l)} ${counts.get(l.key)![i]}`);
    const total = [...counts.values()].reduce((a, c) => a + c[i]!, 0);
    return `distance ${fmt(i * w, 3)}–${fmt((i + 1) * w, 3)}: ${total} facet${total === 1 ? '' : 's'}${per.length ? ` (${per.join(', ')})` : ''}`;
  };
  const binInfo = h('div', { class: 'info', id: 'bin-info', 'aria-live': 'polite' }, 'Hover the histogram, or focus it and use the arrow keys.');
  // Drawn at its container's width and redrawn when that changes (charts/size.ts), so its text keeps the
  // editor's size in a narrow column.
  const chart = r.facets.length
    ? responsive((width) => ({
        svg: distanceHistogram({
          bins: BINS,
          top,
          series: r.layers.filter((l) => counts.has(l.key)).map((l) => ({ key: l.key, slot: slotOf.get(l.key)!, counts: counts.get(l.key)! })),
          width: Math.min(1100, width),
          xTitle: 'distance from the point to the facet’s hyperplane (input units)',
          ariaLabel: `Facets by distance from the point, ${BINS} bins up to ${fmt(top)}: ${Array.from({ length: BINS }, (_, i) => i).filter((i) => [...counts.values()].some((c) => c[i])).map(binText).join('; ')}`,
          describe: binText,
          cursor: typeof ctx.ui.bin === 'number' ? (ctx.ui.bin as number) : undefined,
          onCursor: (i) => {
            ctx.ui.bin = i;
            ctx.saveUi();
            binInfo.textContent = binText(i);
          },
        }),
      }))
    : undefined;
  if (typeof ctx.ui.bin === 'number') binInfo.textContent = binText(ctx.ui.bin as number);
  const key = h('div', { class: 'legend', 'aria-hidden': 'true' }, ...r.layers.filter((l) => counts.has(l.key)).map((l) => h('span', { class: 'key' }, swatch(l.key), ` ${layerText(l)}`)));
  parts.push(h('h2', {}, 'Distance from the point to each facet'), chart ? chart.box : h('p', { class: 'hint' }, 'No facets.'), chart ? key : undefined, chart ? binInfo : undefined);

  // ---- facets grouped by layer ----
  const open = new Set(Array.isArray(ctx.ui.open) ? (ctx.ui.open as string[]) : []);
  const groups = r.layers.map((l) => ({ l, facets: r.facets.filter((f) => f.layer === l.key) }));
  const summary = h(
    'table',
    { class: 'grid', id: 'facet-layers' },
    h('caption', {}, `${r.facets.length} facets${r.facets_complete ? '' : ' found so far'}, by layer (distances from the point)`),
    h('thead', {}, h('tr', {}, ...['layer', 'op', 'units', 'facets', 'nearest', 'median', 'farthest'].map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      {},
      ...groups.map(({ l, facets }) => {
        const d = facets.map((f) => f.distance);
        return h(
          'tr',
          { 'data-key': l.key },
          h('th', { scope: 'row' }, swatch(l.key), ' ', ...layerName(l)),
          h('td', {}, l.op),
          h('td', { class: 'num' }, String(l.units)),
          h('td', { class: 'num facets' }, String(r.facets_per_layer[l.key] ?? facets.length)),
          h('td', { class: 'num' }, d.length ? dist(Math.min(...d)) : '–'),
          h('td', { class: 'num' }, dist(median(d))),
          h('td', { class: 'num' }, d.length ? dist(Math.max(...d)) : '–'),
        );
      }),
    ),
  );
  const details = groups
    .filter((g) => g.facets.length)
    .map(({ l, facets }) => {
      const el = h(
        'details',
        { class: 'facet-group', 'data-layer': l.key, open: open.has(l.key) },
        h('summary', {}, swatch(l.key), ' ', ...layerName(l), ` — ${facets.length} facet${facets.length === 1 ? '' : 's'}`),
        h(
          'table',
          { class: 'grid' },
          h('thead', {}, h('tr', {}, ...['unit', 'distance', 'class across', ''].map((c) => h('th', { scope: 'col' }, c)))),
          h(
            'tbody',
            {},
            ...facets.map((f) => {
              const nb = neighbourOf.get(`${f.layer}#${f.unit}`);
              return h(
                'tr',
                { class: 'facet-row', 'data-unit': f.unit },
                h('td', { class: 'num' }, String(f.unit), f.also?.length ? h('span', { class: 'hint' }, ` = ${f.also.map((u) => `${u.layer} ${u.unit}`).join(', ')}`) : ''),
                h('td', { class: 'num' }, dist(f.distance)),
                h('td', { class: 'num' }, nb ? `${nb.n.pred}${nb.n.pred !== r.pred ? ' (changes)' : ''}` : '–'),
                h('td', {}, nb ? inspectButton(nb.i, nb.n) : ''),
              );
            }),
          ),
        ),
      );
      el.addEventListener('toggle', () => {
        if (el.open) open.add(l.key);
        else open.delete(l.key);
        ctx.ui.open = [...open];
        ctx.saveUi();
      });
      return el;
    });
  parts.push(h('h2', {}, 'Facets by layer'), summary, ...details);

  // ---- neighbours ----
  const facetDist = new Map(r.facets.map((f) => [`${f.layer}#${f.unit}`, f.distance]));
  const showAll = ctx.ui.allNeighbours === true;
  const shown = showAll ? r.neighbours : r.neighbours.slice(0, FIRST_NEIGHBOURS);
  const changes = r.neighbours.filter((n) => n.pred !== r.pred).length;
  parts.push(
    h('h2', {}, 'Neighbours across the facets'),
    r.neighbours.length
      ? h('p', { class: 'meta', id: 'neighbour-summary' }, `${r.neighbours.length} neighbours, nearest first; across ${changes} of them the predicted class changes. Each was confirmed by a forward pass at a point just across its facet (only the facet's own bits flip).`)
      : h('p', { class: 'hint' }, 'No neighbours computed.'),
  );
  if (r.neighbours.length) {
    parts.push(
      h(
        'table',
        { class: 'grid', id: 'neighbours' },
        // The Inspect button first: in a narrow column the table scrolls, and the button stays in view.
        h('thead', {}, h('tr', {}, ...['', 'class across', 'distance', 'layer', 'unit', 'code across', 'bits flipped', 'confirmed'].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          ...shown.map((n, i) =>
            h(
              'tr',
              { class: `neighbour-row${n.pred !== r.pred ? ' changes' : ''}`, 'data-neighbour': i },
              h('td', {}, inspectButton(i, n)),
              h('td', { class: 'num pred' }, String(n.pred), n.pred !== r.pred ? ' (changes)' : ''),
              h('td', { class: 'num' }, dist(facetDist.get(`${n.layer}#${n.unit}`))),
              h('th', { scope: 'row' }, ...layerName(named(n.layer))),
              h('td', { class: 'num' }, String(n.unit)),
              h('td', {}, h('code', { class: 'code-across', title: n.code_hex }, shortHex(n.code_hex))),
              h('td', { class: 'num' }, String(n.flipped_bits)),
              h('td', {}, n.confirmed ? 'yes' : 'no'),
            ),
          ),
        ),
      ),
    );
    if (r.neighbours.length > FIRST_NEIGHBOURS) {
      const more = h('button', { type: 'button', class: 'toggle', id: 'all-neighbours', 'aria-pressed': String(showAll) }, showAll ? `Show the first ${FIRST_NEIGHBOURS}` : `Show all ${r.neighbours.length}`);
      more.addEventListener('click', () => {
        ctx.setUi({ allNeighbours: !showAll });
      });
      parts.push(more);
    }
  }
  const t = r.timing;
  parts.push(
    h(
      'p',
      { class: 'hint', id: 'method' },
      `${r.method.rays} rays found ${r.method.ray_facets} facets; ${r.method.lps} LPs (${r.method.lp_solver}); ${fmt(t.total_s, 3)} s (affine forms ${fmt(t.affine_s, 2)}, Chebyshev centre ${fmt(t.chebyshev_s, 2)}, facets ${fmt(t.facets_s, 2)}, neighbours ${fmt(t.neighbours_s, 2)}).`,
    ),
  );

  const root = h('div', { class: 'polytope-view' }, ...parts.filter((p): p is Node => p !== undefined));
  return {
    root,
    chart: chart ? () => chart.current().svg : undefined,
    items: () => root.querySelectorAll('tr.facet-row').length,
    marks: () => root.querySelectorAll('tr.neighbour-row').length,
  };
}

startPage({
  render: (data: AnalysisData, ctx) => {
    if (data.kind !== 'polytope') return { root: h('p', { class: 'error' }, `This view shows polytopes, not ${data.kind}.`), items: () => 0, marks: () => 0 };
    return renderPolytope(data.result, data.origin, ctx);
  },
});
