/**
 * The product's words: one name per concept, used by every view, the hover, the CodeLens, the CLI and the README.
 * Each term has a one-sentence meaning (the tooltip), its unit when it is a number, and the anchor of its section in
 * docs/glossary.md (GitHub's and VS Code's heading slug), where it is tied to the paper. Plain data: the webviews,
 * the language server and the extension host all read it.
 */

export interface GlossaryTerm {
  /** The one name the product uses for the concept (lower case unless a proper name or an abbreviation). */
  name: string;
  /** One sentence: what it means. */
  meaning: string;
  /** The unit of its numbers, when it is a number. */
  unit?: string;
  /** The name after a count of exactly 1, for counted terms whose name is plural ("1 region hit"). */
  one?: string;
  /** Other names the same concept has in JSON fields or earlier texts, which docs/glossary.md lists. */
  aka?: string[];
  /** The heading slug of its section in docs/glossary.md. */
  anchor: string;
}

export const GLOSSARY = {
  'spline-code': {
    name: 'spline code',
    meaning: 'The on/off state of every unit of the network at one input, layer after layer: which side of each unit’s boundary the input lies on.',
    unit: 'bits (one per unit)',
    aka: ['code', 'code_hex'],
    anchor: 'spline-code',
  },
  unit: {
    name: 'unit',
    meaning: 'One bit of the spline code: a ReLU output element is one unit (on when its pre-activation is > 0); a Clip or HardSigmoid element gives two, a MaxPool element one per window entry.',
    unit: 'bits',
    aka: ['bit', 'units'],
    anchor: 'unit',
  },
  region: {
    name: 'region',
    meaning: 'The set of inputs that share one spline code: a convex polytope of input space on which the network is a single affine map.',
    aka: ['polytope', 'linear region'],
    anchor: 'region',
  },
  'regions-hit': {
    name: 'regions hit',
    one: 'region hit',
    meaning: 'How many different regions the inputs fall in: the number of distinct spline codes among them (per layer: of that layer’s bits only).',
    unit: 'regions (each a distinct spline code)',
    aka: ['distinct codes', 'distinct_codes', 'codes'],
    anchor: 'regions-hit',
  },
  'prefix-regions-hit': {
    name: 'prefix regions hit',
    one: 'prefix region hit',
    meaning: 'Regions hit by the code of this layer and every layer before it (the prefix code): the regions the network has cut the inputs into up to this layer.',
    unit: 'regions (each a distinct prefix code)',
    aka: ['prefix codes', 'distinct_prefix_codes'],
    anchor: 'prefix-regions-hit',
  },
  offset: {
    name: 'offset',
    meaning: 'Where a layer’s bits start in the full spline code: the number of bits of all the layers before it.',
    unit: 'bits',
    anchor: 'offset',
  },
  'sign-code': {
    name: 'sign code',
    meaning: 'For a smooth activation (GELU, SiLU, Tanh) the bit is the sign of its pre-activation: there is no true boundary, so such a layer is not exact and its regions are approximate.',
    aka: ['exact: false'],
    anchor: 'sign-code',
  },
  'active-fraction': {
    name: 'active fraction',
    meaning: 'The share of the inputs for which a unit is on, averaged over a layer’s units.',
    unit: '% of the inputs',
    aka: ['active'],
    anchor: 'active-fraction',
  },
  'dead-unit': {
    name: 'dead unit',
    meaning: 'A unit that is off for every input probed: its boundary does not cut the data.',
    unit: 'units (or % of the layer’s units)',
    aka: ['dead_units'],
    anchor: 'dead-unit',
  },
  'always-on-unit': {
    name: 'always-on unit',
    meaning: 'A unit that is on for every input probed: on the data it acts as a linear unit.',
    unit: 'units (or % of the layer’s units)',
    aka: ['always_on_units'],
    anchor: 'always-on-unit',
  },
  'bits-flipped': {
    name: 'bits flipped',
    one: 'bit flipped',
    meaning: 'The Hamming distance between the spline codes of two inputs: how many units changed state between them (between consecutive steps of a path, or after scaling).',
    unit: 'bits',
    aka: ['Hamming', 'flips sampled', 'per_step'],
    anchor: 'bits-flipped',
  },
  'boundary-density': {
    name: 'boundary density',
    meaning: 'Bits flipped per unit of distance travelled along a path: how many unit boundaries the path crosses per unit length of input space (Euclidean).',
    unit: 'bits flipped per unit of input distance (L2)',
    aka: ['density', 'density_input'],
    anchor: 'boundary-density',
  },
  'exact-crossings': {
    name: 'exact crossings',
    one: 'exact crossing',
    meaning: 'The unit boundaries a straight path crosses, each located exactly (between crossings every pre-activation is affine along the path), not sampled at steps; never fewer than the sampled bits flipped.',
    unit: 'crossings (bit flips)',
    aka: ['exact', 'flips exact', 'total_flips'],
    anchor: 'exact-crossings',
  },
  'crossings-per-path': {
    name: 'crossings per path',
    one: 'crossing per path',
    meaning: 'The mean number of unit boundaries crossed along the paths of Boundary Density runs: their exact crossings when a path ran exact, else the bits flipped between its steps.',
    unit: 'crossings per path',
    aka: ['mean_crossings'],
    anchor: 'crossings-per-path',
  },
  'linear-pieces': {
    name: 'linear pieces',
    one: 'linear piece',
    meaning: 'The number of pieces into which the exact crossings cut a path: on each piece the network is one affine map.',
    unit: 'pieces',
    anchor: 'linear-pieces',
  },
  'class-change': {
    name: 'class change',
    meaning: 'A step of a path where the predicted class (the argmax of the logits) differs between its two ends.',
    unit: 'step index',
    anchor: 'class-change',
  },
  'near-and-elsewhere': {
    name: 'near and elsewhere',
    meaning: 'The density study’s two parts of each path: near = within ± window steps of the aligned step (the class change, or the middle for same-class pairs), elsewhere = the rest.',
    unit: 'mean boundary density (bits flipped per unit of input distance)',
    anchor: 'near-and-elsewhere',
  },
  'effect-size': {
    name: 'effect size',
    meaning: 'The mean over pairs of (density near − density elsewhere) divided by its standard deviation: how large the rise near the class change is, in standard deviations.',
    unit: 'standard deviations (no unit)',
    anchor: 'effect-size',
  },
  'p-value': {
    name: 'p-value',
    meaning: 'The share of sign-flip permutations whose mean difference (near − elsewhere) is at least the observed one: the chance of a rise this large if there were no rise at all (one-sided).',
    unit: 'probability, 0 to 1',
    aka: ['p (one-sided)', 'p_value'],
    anchor: 'p-value',
  },
  'local-complexity': {
    name: 'local complexity',
    meaning: 'How many unit boundaries pass close to an input: the units cut within a radius around it, counted at the ends of random directions.',
    unit: 'units cut',
    anchor: 'local-complexity',
  },
  'units-cut': {
    name: 'units cut',
    one: 'unit cut',
    meaning: 'Units whose state differs among the 2P points x ± r·v (P random orthonormal directions v, radius r): their boundary passes within about r of x.',
    unit: 'units',
    aka: ['per_layer', 'mean_total'],
    anchor: 'units-cut',
  },
  radius: {
    name: 'radius',
    meaning: 'The distance r from the input to each point x ± r·v at which local complexity looks, in the units of the input values (pixel values 0..16 for the digits example).',
    unit: 'input units (Euclidean distance)',
    anchor: 'radius',
  },
  directions: {
    name: 'directions',
    one: 'direction',
    meaning: 'The number P of random orthonormal directions v drawn around each input for local complexity; it looks at 2P points.',
    unit: 'directions (count)',
    anchor: 'directions',
  },
  'plane-coordinates': {
    name: 'plane coordinates',
    meaning: 'The (u, v) position on a 2-D slice: x = a + u (b − a) + v (c − a) for a plane through three samples a, b, c, or the two input values themselves for a 2-input model.',
    unit: 'plane units (fractions of b − a and c − a, or input units)',
    aka: ['(u, v)', 'window'],
    anchor: 'plane-coordinates',
  },
  'region-area': {
    name: 'region area',
    meaning: 'The area of a region’s polygon on the 2-D slice, in plane units squared; the share of the window it covers is the area divided by the window’s area.',
    unit: 'plane units² (and % of the window)',
    aka: ['area', 'min_region_area'],
    anchor: 'region-area',
  },
  'decision-boundary': {
    name: 'decision boundary',
    meaning: 'Where the predicted class (the argmax of the logits) changes on the slice.',
    unit: 'segments',
    anchor: 'decision-boundary',
  },
  alpha: {
    name: 'alpha',
    meaning: 'The factor α by which Scale Activations multiplies one layer’s activation before the rest of the network runs.',
    unit: 'factor (no unit)',
    anchor: 'alpha',
  },
  'weighted-purity': {
    name: 'weighted purity',
    meaning: 'The share of the clustered inputs (noise left out) whose label is the majority label of their cluster.',
    unit: 'share, 0 to 1',
    aka: ['purity'],
    anchor: 'weighted-purity',
  },
  nmi: {
    name: 'NMI',
    meaning: 'Normalised mutual information between the clusters and the labels: 1 when the clusters are the classes, 0 when they tell nothing about them.',
    unit: '0 to 1',
    anchor: 'nmi',
  },
  'noise-share': {
    name: 'noise share',
    meaning: 'The share of the inputs that HDBSCAN puts in no cluster.',
    unit: '% of the inputs',
    aka: ['noise'],
    anchor: 'noise-share',
  },
  facet: {
    name: 'facet',
    meaning: 'A face of a region’s polytope: a piece of one unit’s boundary that actually bounds the region; crossing it flips exactly that unit’s bit.',
    unit: 'facets (count); distance in input units',
    anchor: 'facet',
  },
  inradius: {
    name: 'inradius',
    meaning: 'The radius of the largest ball that fits inside a region’s polytope: how far the region extends in its narrowest direction.',
    unit: 'input units (Euclidean distance)',
    anchor: 'inradius',
  },
  'chebyshev-centre': {
    name: 'Chebyshev centre',
    meaning: 'The centre of the largest ball inside the polytope (the ball whose radius is the inradius).',
    unit: 'a point of input space',
    aka: ['chebyshev_center'],
    anchor: 'chebyshev-centre',
  },
  'near-tie': {
    name: 'near-tie',
    meaning: 'A bit whose pre-activation is so close to zero (within the tolerance) that float rounding in another runtime could flip it.',
    unit: 'bits',
    aka: ['near_ties', 'exact ties'],
    anchor: 'near-tie',
  },
  logits: {
    name: 'logits',
    meaning: 'The values of the model’s first output before any softmax; the predicted class is the index of the largest.',
    unit: 'the model’s output scale',
    aka: ['top scores', 'scores'],
    anchor: 'logits',
  },
  'previous-export': {
    name: 'previous export',
    meaning: 'Results kept from an earlier content of the model file (a different sha256): they describe the model as it was before it was re-exported.',
    anchor: 'previous-export',
  },
} as const satisfies Record<string, GlossaryTerm>;

export type GlossaryTermId = keyof typeof GLOSSARY;

export const GLOSSARY_IDS = Object.keys(GLOSSARY) as GlossaryTermId[];

export function isGlossaryTermId(x: unknown): x is GlossaryTermId {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(GLOSSARY, x);
}

export function glossaryTerm(id: GlossaryTermId): GlossaryTerm {
  return GLOSSARY[id];
}

/** The tooltip of a term: its sentence, with its unit when it has one. */
export function termTooltip(id: GlossaryTermId): string {
  const t: GlossaryTerm = GLOSSARY[id];
  return t.unit ? `${t.meaning} Unit: ${t.unit}.` : t.meaning;
}

/** A term's name after the count n: its `one` form when n is exactly 1. */
export function termName(id: GlossaryTermId, n: number): string {
  const t: GlossaryTerm = GLOSSARY[id];
  return n === 1 && t.one ? t.one : t.name;
}

/** The glossary page's path inside the extension (and the repository). */
export const GLOSSARY_DOC = 'docs/glossary.md';

/** The command that opens the glossary at a term (hover links, webview info links through the host). */
export const OPEN_GLOSSARY_COMMAND = 'polytopeLens.openGlossary';

/** "1 path", "2 paths": a count with its noun in the right number (plural given when it is not noun + s). */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : nouns}`;
}
