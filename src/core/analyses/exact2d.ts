/**
 * Exact linear regions of a 2D slice, Regioncam's algorithm run black-box through the ONNX model.
 *
 * A planar subdivision of the window is kept: convex faces (counter-clockwise vertex lists) and, at each vertex,
 * the values of the current layer's pre-activations. Layer by layer, unit by unit: inside a face all earlier
 * units are fixed, so the current layer's pre-activations are affine there; a face whose vertices have values of
 * both signs is cut along the chord through the linearly interpolated zeros of its sign-changing edges (new
 * vertices are shared with the face across the edge, and carry the interpolated values of every unit of the
 * layer). After a layer, one batched forward pass gives the next layer's pre-activations at every vertex: new
 * vertices lie on boundaries, where those are continuous. The final faces are the linear regions; each carries
 * its code (the side of every cut), bit-for-bit in the layout of DESIGN.md §3.
 *
 * Units: Relu / LeakyRelu / PRelu / Abs cut at pre-activation 0; Clip / HardSigmoid / HardSwish at their two
 * thresholds; MaxPool by the running argmax of each window (element j against the window's current maximum,
 * first index on ties), after which (once per layer) faces with the same code are merged (the set of inputs with one full code is
 * convex, so the merged face is the convex hull of its pieces). Models with smooth or uncounted non-linear ops
 * are refused: their pre-activations are not affine inside a face.
 *
 * The decision boundary: inside a final region the logits are affine, so where the top class changes is a line
 * segment found the same way (for classes p, q: the chord l_p = l_q, clipped to where l_p >= every other logit).
 */
import { gigabytes, UserError } from '../errors';
import { MAX_HELD_BYTES } from './exact1d';
import { setBit, toHex, bytesFor } from '../bits';
import type { Lens, LensLayer } from '../lens';
import { PreactRunner, type Precision } from './preacts';
import { Plane, polygonArea, type PlaneSpec } from './planar';
import type { ExactPolygon, ExactRegions } from '../../shared/results';
import { elementCount } from '../../shared/shape';

export interface Exact2dOptions {
  window?: [number, number];
  plane?: PlaneSpec;
  threads?: number;
  /** Default float64 (falls back to float32 when onnxruntime cannot run the double copy of the model). */
  precision?: Precision;
  /** Include the polygons (vertex lists) in the result (default true). */
  polygons?: boolean;
  /** Stop with an error beyond this many faces (default 2,000,000). */
  maxFaces?: number;
  /** A runner to reuse (for benchmarks); created and disposed here otherwise. */
  runner?: PreactRunner;
  /** Pre-activations cut so far, of all layers' (a MaxPool layer's at once), at most about every 1%: a deep model's
   * partition takes minutes. */
  onProgress?: (done: number, total: number) => void;
}

/** Relative tolerance under which a value counts as zero (a vertex on the cut line), by precision. */
const REL_TOL = { float64: 1e-12, float32: 1e-6 } as const;

class Subdivision {
  nv = 0;
  xy: Float64Array;
  /** Values of the current layer at each vertex, nv x width. */
  vals: Float64Array;
  width = 0;
  faces: Int32Array[] = [];
  /** Cuts refused because the values around a face were not affine. */
  degenerate = 0;
  codes: Uint8Array[] = [];
  /** Per face, per MaxPool window: index of the window's running maximum (only while a MaxPool is cut). */
  best: Int32Array[] = [];
  /** New vertices of the current cut by edge, per function (j). */
  private edgeMaps = new Map<number, Map<number, number>>();
  private signs = new Int8Array(64);
  private posBuf: number[] = [];
  private negBuf: number[] = [];

  constructor(capacity: number) {
    this.xy = new Float64Array(2 * capacity);
    this.vals = new Float64Array(0);
  }

  addVertex(x: number, y: number): number {
    const id = this.nv++;
    if (2 * this.nv > this.xy.length) {
      const g = new Float64Array(this.xy.length * 2);
      g.set(this.xy);
      this.xy = g;
    }
    this.xy[2 * id] = x;
    this.xy[2 * id + 1] = y;
    if (this.width && this.nv * this.width > this.vals.length) {
      const g = new Float64Array(Math.max(this.vals.length * 2, this.nv * this.width));
      g.set(this.vals);
      this.vals = g;
    }
    return id;
  }

  setValues(values: Float64Array, width: number): void {
    this.width = width;
    this.vals = new Float64Array(Math.max(values.length, 2 * this.nv * width));
    this.vals.set(values.subarray(0, this.nv * width));
  }

  newCut(): void {
    this.edgeMaps.clear();
  }

  /**
   * The cut value at vertex v: vals[v, i] - vals[v, j] (j >= 0) or vals[v, i] - thr.
   */
  private value(v: number, i: number, j: number, thr: number): number {
    const W = this.width;
    return this.vals[v * W + i]! - (j >= 0 ? this.vals[v * W + j]! : thr);
  }

  /**
   * Cuts face f by the function s = vals[., i] - (vals[., j] | thr). Returns [pos, neg] vertex lists when both
   * sides are non-empty, +1 when the face lies on the positive side (s > 0 inside), -1 otherwise (s <= 0).
   */
  cut(f: Int32Array, i: number, j: number, thr: number, tol: number): [Int32Array, Int32Array] | 1 | -1 {
    const n = f.length;
    if (this.signs.length < n) this.signs = new Int8Array(2 * n);
    const signs = this.signs;
    let pos = false;
    let neg = false;
    for (let k = 0; k < n; k++) {
      const s = this.value(f[k]!, i, j, thr);
      const sg = s > tol ? 1 : s < -tol ? -1 : 0;
      signs[k] = sg;
      if (sg > 0) pos = true;
      else if (sg < 0) neg = true;
    }
    if (!(pos && neg)) return pos ? 1 : -1;
    // An affine function changes sign at most twice around a convex polygon; more means the values are not
    // affine here (rounding of nearly equal values in float32): the face is not cut, and the event is counted.
    let changes = 0;
    let prev = 0;
    for (let k = 0; k < n; k++) if (signs[k] !== 0) prev = signs[k]!;
    for (let k = 0; k < n; k++) {
      const sg = signs[k]!;
      if (sg !== 0) {
        if (sg !== prev) changes++;
        prev = sg;
      }
    }
    if (changes > 2) {
      this.degenerate++;
      let sum = 0;
      for (let k = 0; k < n; k++) sum += this.value(f[k]!, i, j, thr);
      return sum > 0 ? 1 : -1;
    }
    const P = this.posBuf;
    const N = this.negBuf;
    P.length = 0;
    N.length = 0;
    for (let k = 0; k < n; k++) {
      const a = f[k]!;
      const sa = signs[k]!;
      if (sa >= 0) P.push(a);
      if (sa <= 0) N.push(a);
      const k2 = k + 1 === n ? 0 : k + 1;
      const sb = signs[k2]!;
      if (sa * sb < 0) {
        const m = this.edgeVertex(a, f[k2]!, i, j, thr);
        P.push(m);
        N.push(m);
      }
    }
    return [Int32Array.from(P), Int32Array.from(N)];
  }

  private edgeVertex(a: number, b: number, i: number, j: number, thr: number): number {
    // The cut function can differ per face (MaxPool: against each face's running maximum j): key by j too.
    const key = a < b ? a * 67108864 + b : b * 67108864 + a;
    let map = this.edgeMaps.get(j);
    if (!map) this.edgeMaps.set(j, (map = new Map()));
    const hit = map.get(key);
    if (hit !== undefined) return hit;
    const sa = this.value(a, i, j, thr);
    const sb = this.value(b, i, j, thr);
    const t = sa / (sa - sb);
    const xy = this.xy;
    const m = this.addVertex(xy[2 * a]! + t * (xy[2 * b]! - xy[2 * a]!), xy[2 * a + 1]! + t * (xy[2 * b + 1]! - xy[2 * a + 1]!));
    const W = this.width;
    const V = this.vals;
    for (let k = 0; k < W; k++) V[m * W + k] = V[a * W + k]! + t * (V[b * W + k]! - V[a * W + k]!);
    // On the cut line exactly.
    V[m * W + i] = j >= 0 ? V[m * W + j]! : thr;
    map.set(key, m);
    return m;
  }

  /**
   * Cuts every face by one function; on the positive side `onPos` updates the face's state (its code bit).
   * `fn(face)` gives (i, j, thr) per face, or undefined to leave the face alone.
   */
  cutAll(fn: (f: number) => { i: number; j: number; thr: number } | undefined, tol: number, onPos: (f: number) => void): void {
    this.newCut();
    const nf = this.faces.length;
    for (let f = 0; f < nf; f++) {
      const c = fn(f);
      if (!c) continue;
      const r = this.cut(this.faces[f]!, c.i, c.j, c.thr, tol);
      if (r === 1) onPos(f);
      else if (r !== -1) {
        // Negative side keeps the index; the positive side is a new face with a copy of the state.
        const g = this.faces.length;
        this.faces[f] = r[1];
        this.faces.push(r[0]);
        this.codes.push(this.codes[f]!.slice());
        if (this.best.length) this.best.push(this.best[f]!.slice());
        onPos(g);
      }
    }
  }
}

/** Largest |value| of the current layer (the scale of the zero tolerance). */
function scaleOf(vals: Float64Array, n: number, extra = 0): number {
  let m = extra;
  for (let k = 0; k < n; k++) {
    const a = Math.abs(vals[k]!);
    if (a > m) m = a;
  }
  return m || 1;
}

export function checkExactSupport(lens: Lens): void {
  if (lens.unsupported.length) {
    const list = lens.unsupported.map((u) => `${u.node} (${u.op})`).join(', ');
    throw new UserError(`Exact regions need a piecewise-linear model whose non-linear ops are all counted units; ${lens.model.name} also has ${list}.`);
  }
  const smooth = lens.layers.filter((l) => !l.plan.exact);
  if (smooth.length) {
    throw new UserError(`Exact regions need piecewise-linear units; ${smooth.map((l) => `${l.plan.key} (${l.plan.op})`).join(', ')} ${smooth.length === 1 ? 'is' : 'are'} smooth.`);
  }
  if (lens.layers.length === 0) throw new UserError(`${lens.model.name} has no piecewise-linear units: the whole window is one region.`);
}

export async function exactRegions2d(lens: Lens, opts: Exact2dOptions = {}): Promise<ExactRegions> {
  const t0 = performance.now();
  checkExactSupport(lens);
  const [lo, hi] = opts.window ?? [-1, 1];
  if (!(hi > lo)) throw new UserError(`The window needs LO < HI, not ${lo},${hi}.`);
  const plane = Plane.of(lens, opts.plane);
  const layers = lens.layers;
  const maxFaces = opts.maxFaces ?? 2_000_000;
  const runner = opts.runner ?? (await PreactRunner.create(lens, layers, { precision: opts.precision ?? 'float64', threads: opts.threads }));
  const size = lens.sampleSize;
  let offsets = 0;
  const layerOffsets = layers.map((l) => ((offsets += l.units), offsets - l.units));
  const codeBytes = bytesFor(offsets);
  const totalPre = runner.sizes.reduce((a, b) => a + b, 0);
  const sub = new Subdivision(1024);
  for (const [x, y] of [[lo, lo], [hi, lo], [hi, hi], [lo, hi]] as const) sub.addVertex(x, y);
  sub.faces.push(Int32Array.of(0, 1, 2, 3));
  sub.codes.push(new Uint8Array(codeBytes));
  const afterLayer: Record<string, number> = {};
  let cut = 0;
  let reported = 0;
  const step = Math.max(1, Math.ceil(totalPre / 100));
  const cutDone = (n: number) => {
    cut += n;
    if (opts.onProgress && (cut - reported >= step || cut === totalPre)) opts.onProgress((reported = cut), totalPre);
  };
  let forwardMs = 0;
  let passes = 0;

  const evaluate = async () => {
    const t = performance.now();
    const inputs = plane.inputs(sub.xy, sub.nv, runner.precision === 'float64' ? new Float64Array(sub.nv * size) : new Float32Array(sub.nv * size));
    const r = await runner.run(inputs, sub.nv);
    forwardMs += performance.now() - t;
    passes++;
    return r;
  };

  try {
    for (let l = 0; l < layers.length; l++) {
      const layer = layers[l]!;
      const width = runner.sizes[l]!;
      const batch = await evaluate();
      sub.setValues(batch.preacts[l]!, width);
      const off = layerOffsets[l]!;
      const rule = layer.plan.rule;
      const bounds = runner.bounds[l];
      const scale = scaleOf(sub.vals, sub.nv * width, bounds ? Math.max(...maxAbs(bounds.lo, bounds.hi)) : 0);
      const tol = REL_TOL[runner.precision] * scale;
      const guard = () => {
        if (sub.faces.length > maxFaces) throw new UserError(`More than ${maxFaces} regions in this window; choose a smaller window.`);
        // Every face holds a full code and every vertex this layer's values, and the next pass all layers' values
        // at every vertex: on an ImageNet CNN (a 514 KB code per face for resnet18) they outgrow memory within its
        // first layer's units, long before the face cap.
        const held = sub.faces.length * codeBytes + sub.nv * (width + totalPre) * 8;
        if (held > MAX_HELD_BYTES) {
          throw new UserError(`--exact has ${sub.faces.length.toLocaleString('en-US')} regions and ${sub.nv.toLocaleString('en-US')} vertices by layer '${layer.plan.key}' of ${lens.model.name}: their codes and pre-activations would need ${gigabytes(held)} (at most ${MAX_HELD_BYTES / 1e9} GB); choose a smaller window, or slice without --exact for the sampled map`);
        }
      };
      if (rule.kind === 'positive') {
        for (let u = 0; u < width; u++) {
          sub.cutAll(() => ({ i: u, j: -1, thr: 0 }), tol, (f) => setBit(sub.codes[f]!, 0, off + u));
          guard();
          cutDone(1);
        }
      } else if (rule.kind === 'between') {
        const { lo: blo, hi: bhi } = bounds!;
        for (let u = 0; u < width; u++) {
          sub.cutAll(() => ({ i: u, j: -1, thr: blo[u]! }), tol, (f) => setBit(sub.codes[f]!, 0, off + 2 * u));
          sub.cutAll(() => ({ i: u, j: -1, thr: bhi[u]! }), tol, (f) => setBit(sub.codes[f]!, 0, off + 2 * u + 1));
          guard();
          cutDone(1);
        }
      } else {
        cutMaxPool(sub, layer, off, tol, guard);
        cutDone(width);
      }
      afterLayer[layer.plan.key] = sub.faces.length;
    }
    // Logits at every final vertex: the regions' predictions and the decision boundary.
    const last = await evaluate();
    const K = runner.outputSize;
    const logits = last.outputs;
    const wantPolygons = opts.polygons ?? true;
    const nf = sub.faces.length;
    const areas = new Array<number>(nf);
    const polygons: ExactPolygon[] = [];
    const boundary: [number, number, number, number][] = [];
    const logitScale = scaleOf(logits, sub.nv * K);
    let totalArea = 0;
    let minArea = Infinity;
    let maxVerts = 0;
    let sumVerts = 0;
    const mean = new Float64Array(K);
    for (let f = 0; f < nf; f++) {
      const face = sub.faces[f]!;
      const area = polygonArea(face, sub.xy);
      areas[f] = area;
      totalArea += area;
      if (area < minArea) minArea = area;
      maxVerts = Math.max(maxVerts, face.length);
      sumVerts += face.length;
      mean.fill(0);
      for (const v of face) for (let k = 0; k < K; k++) mean[k]! += logits[v * K + k]!;
      const pred = argmax(mean);
      boundarySegments(face, sub.xy, logits, K, REL_TOL[runner.precision] * logitScale, boundary);
      if (wantPolygons) {
        polygons.push({
          vertices: Array.from(face, (v) => [sub.xy[2 * v]!, sub.xy[2 * v + 1]!] as [number, number]),
          code_hex: toHex(sub.codes[f]!),
          pred,
          area,
        });
      }
    }
    const windowArea = (hi - lo) * (hi - lo);
    return {
      regions: nf,
      window: [lo, hi],
      window_area: windowArea,
      total_area: totalArea,
      min_region_area: nf ? minArea : 0,
      mean_region_area: nf ? totalArea / nf : 0,
      vertices: sub.nv,
      mean_vertices_per_region: nf ? sumVerts / nf : 0,
      max_vertices_per_region: maxVerts,
      regions_after_layer: afterLayer,
      areas,
      ...(wantPolygons ? { polygons } : {}),
      decision_boundary: boundary,
      precision: runner.precision,
      zero_tolerance: REL_TOL[runner.precision],
      degenerate_cuts: sub.degenerate,
      ...(runner.note ? { precision_note: runner.note } : {}),
      forward_passes: passes,
      forward_ms: round(forwardMs),
      ms: round(performance.now() - t0),
    };
  } finally {
    if (!opts.runner) await runner.dispose();
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function maxAbs(...arrays: Float64Array[]): number[] {
  return arrays.map((a) => {
    let m = 0;
    for (const x of a) if (Math.abs(x) < 1e30 && Math.abs(x) > m) m = Math.abs(x);
    return m;
  });
}

function argmax(a: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[b]!) b = i;
  return b;
}

/**
 * MaxPool: per output element (C order) and window element j (row-major), the face is cut by
 * z[j] - z[best] where best is the window's running maximum in that face (first index on ties: j takes over
 * only where it is strictly larger). Padding elements never win. Afterwards every face's argmax bits are set and
 * faces with equal codes are merged.
 */
function cutMaxPool(sub: Subdivision, layer: LensLayer, off: number, tol: number, guard: () => void): void {
  const rule = layer.plan.rule;
  if (rule.kind !== 'argmax' || !layer.pool) throw new Error('cutMaxPool on a layer that is not a MaxPool');
  const { kernel, strides, dilations } = rule.pool;
  const { inSpatial, outSpatial, channels, beginPads } = layer.pool;
  const d = kernel.length;
  const window = elementCount(kernel);
  const outPlane = elementCount(outSpatial);
  const inPlane = elementCount(inSpatial);
  const nOut = channels * outPlane;
  // Flat input index of each (output element, window element), or -1 for padding.
  const index = new Int32Array(nOut * window);
  const opos = new Array<number>(d);
  const wpos = new Array<number>(d);
  for (let e = 0; e < nOut; e++) {
    const c = Math.floor(e / outPlane);
    let o = e % outPlane;
    for (let k = d - 1; k >= 0; k--) (opos[k] = o % outSpatial[k]!), (o = Math.floor(o / outSpatial[k]!));
    for (let w = 0; w < window; w++) {
      let r = w;
      for (let k = d - 1; k >= 0; k--) (wpos[k] = r % kernel[k]!), (r = Math.floor(r / kernel[k]!));
      let flat = 0;
      let inside = true;
      for (let k = 0; k < d; k++) {
        const p = opos[k]! * strides[k]! - beginPads[k]! + wpos[k]! * dilations[k]!;
        if (p < 0 || p >= inSpatial[k]!) inside = false;
        flat = flat * inSpatial[k]! + p;
      }
      index[e * window + w] = inside ? c * inPlane + flat : -1;
    }
  }
  for (let e = 0; e < nOut; e++) {
    // Running maximum per face: the first window element inside the input.
    let first = 0;
    while (first < window && index[e * window + first]! < 0) first++;
    sub.best = sub.faces.map(() => Int32Array.of(first));
    for (let w = first + 1; w < window; w++) {
      const iw = index[e * window + w]!;
      if (iw < 0) continue;
      sub.cutAll(
        (f) => ({ i: iw, j: index[e * window + sub.best[f]![0]!]!, thr: 0 }),
        tol,
        (f) => (sub.best[f]![0] = w),
      );
      guard();
    }
    for (let f = 0; f < sub.faces.length; f++) setBit(sub.codes[f]!, 0, off + e * window + sub.best[f]![0]!);
    sub.best = [];
  }
  mergeEqualCodes(sub);
}

/** Merges faces with equal codes into their convex hull (the set of one full code is convex). */
function mergeEqualCodes(sub: Subdivision): void {
  const groups = new Map<string, number[]>();
  sub.faces.forEach((_, f) => {
    const code = sub.codes[f]!;
    const key = String.fromCharCode(...code);
    const g = groups.get(key);
    if (g) g.push(f);
    else groups.set(key, [f]);
  });
  if (groups.size === sub.faces.length) return;
  const faces: Int32Array[] = [];
  const codes: Uint8Array[] = [];
  for (const g of groups.values()) {
    codes.push(sub.codes[g[0]!]!);
    if (g.length === 1) faces.push(sub.faces[g[0]!]!);
    else faces.push(convexHull([...new Set(g.flatMap((f) => Array.from(sub.faces[f]!)))], sub.xy));
  }
  sub.faces = faces;
  sub.codes = codes;
}

/** Counter-clockwise convex hull of vertex ids (monotone chain), collinear points dropped. */
function convexHull(ids: number[], xy: Float64Array): Int32Array {
  const pts = ids.slice().sort((a, b) => xy[2 * a]! - xy[2 * b]! || xy[2 * a + 1]! - xy[2 * b + 1]!);
  const cross = (o: number, a: number, b: number) =>
    (xy[2 * a]! - xy[2 * o]!) * (xy[2 * b + 1]! - xy[2 * o + 1]!) - (xy[2 * a + 1]! - xy[2 * o + 1]!) * (xy[2 * b]! - xy[2 * o]!);
  const lower: number[] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: number[] = [];
  for (let k = pts.length - 1; k >= 0; k--) {
    const p = pts[k]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  return Int32Array.from([...lower.slice(0, -1), ...upper.slice(0, -1)]);
}

/**
 * Segments of the decision boundary inside one region (logits affine there): for each pair of classes p < q,
 * the chord where l_p = l_q, clipped to where both are at least every other logit.
 */
function boundarySegments(face: Int32Array, xy: Float64Array, logits: Float64Array, K: number, tol: number, out: [number, number, number, number][]): void {
  const n = face.length;
  // Quick exit: one class on top at every vertex (the top class's set is convex, so it holds the whole face).
  let top = -1;
  let same = true;
  for (const v of face) {
    let b = 0;
    for (let k = 1; k < K; k++) if (logits[v * K + k]! > logits[v * K + b]!) b = k;
    // A vertex where the top is tied counts as not settled.
    let tie = false;
    for (let k = 0; k < K; k++) if (k !== b && logits[v * K + b]! - logits[v * K + k]! <= tol) tie = true;
    if (tie || (top >= 0 && b !== top)) {
      same = false;
      break;
    }
    top = b;
  }
  if (same) return;
  const P = new Float64Array(K);
  const Q = new Float64Array(K);
  for (let p = 0; p < K; p++) {
    for (let q = p + 1; q < K; q++) {
      // Points where l_p - l_q changes sign along the edges.
      const ends: { x: number; y: number; l: Float64Array }[] = [];
      for (let k = 0; k < n && ends.length < 2; k++) {
        const a = face[k]!;
        const b = face[(k + 1) % n]!;
        const sa = logits[a * K + p]! - logits[a * K + q]!;
        const sb = logits[b * K + p]! - logits[b * K + q]!;
        const za = Math.abs(sa) <= tol;
        if (za) ends.push({ x: xy[2 * a]!, y: xy[2 * a + 1]!, l: logits.slice(a * K, a * K + K) });
        else if (Math.abs(sb) > tol && sa * sb < 0) {
          const t = sa / (sa - sb);
          const l = new Float64Array(K);
          for (let c = 0; c < K; c++) l[c] = logits[a * K + c]! + t * (logits[b * K + c]! - logits[a * K + c]!);
          ends.push({ x: xy[2 * a]! + t * (xy[2 * b]! - xy[2 * a]!), y: xy[2 * a + 1]! + t * (xy[2 * b + 1]! - xy[2 * a + 1]!), l });
        }
      }
      if (ends.length < 2) continue;
      const [e0, e1] = ends as [(typeof ends)[0], (typeof ends)[0]];
      // Clip t in [0, 1] to l_p(t) >= l_r(t) for every other r.
      let t0 = 0;
      let t1 = 1;
      P.set(e0.l);
      Q.set(e1.l);
      for (let r = 0; r < K && t0 < t1; r++) {
        if (r === p || r === q) continue;
        const g0 = P[p]! - P[r]!;
        const g1 = Q[p]! - Q[r]!;
        if (g0 < -tol && g1 < -tol) t1 = -1;
        else if (g0 < -tol) t0 = Math.max(t0, g0 / (g0 - g1));
        else if (g1 < -tol) t1 = Math.min(t1, g0 / (g0 - g1));
      }
      if (t1 - t0 <= 1e-12) continue;
      const x0 = e0.x + t0 * (e1.x - e0.x);
      const y0 = e0.y + t0 * (e1.y - e0.y);
      const x1 = e0.x + t1 * (e1.x - e0.x);
      const y1 = e0.y + t1 * (e1.y - e0.y);
      if (x0 !== x1 || y0 !== y1) out.push([x0, y0, x1, y1]);
    }
  }
}
