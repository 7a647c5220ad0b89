/**
 * The polytope around one input, in full dimension (issue #17): its H-representation, facets, Chebyshev centre
 * and inradius, nearest boundaries and neighbours.
 *
 *   computePolytope(lens, x, index, { box?, precision?, facets?, rays?, seed?, threads? }) -> PolytopeResult
 *
 * 1. Affine pre-activations, black-box. Inside x's region every unit's pre-activation is one affine function
 *    a·y + b. The set of inputs with x's code is convex (layer by layer it is an intersection of halfspaces of
 *    the affine functions of that code), so a point x ± h e_k with the same code as x lies in the region and the
 *    difference quotient is exact up to rounding. Steps start at an eighth of the box (or of max|x|) and shrink
 *    by 8 for the directions whose both points leave the region; where both stay, the central difference is
 *    used. d + 1 (at most 2d + 1 per round) batched evaluations of PreactRunner (float64 where onnxruntime has
 *    double kernels, else float32, reported).
 * 2. Constraints, one per bit: s (z - θ) >= 0 with s the bit's sign (Relu-like: θ = 0; Clip-like: its bounds);
 *    MaxPool: z_winner - z_other >= 0 for each other entry of the window. Rows are normalised (the value at y is
 *    then the signed distance to the hyperplane); rows with a zero normal are constant inside the region; rows
 *    equal to an earlier one (MaxPool winner over a switched-off ReLU is that ReLU's own row) are one hyperplane.
 * 3. Chebyshev centre: max r s.t. n_j·c + b_j >= r for every row (and r from each face of --box), by constraint
 *    generation with HiGHS: start from the rows nearest to x, add the violated ones until none is.
 * 4. Facets (non-redundant rows in region ∩ box). Rows that no point of the box can violate are dropped first.
 *    Rays from the Chebyshev centre (random directions and the normals of the rows that touch the inscribed ball)
 *    hit a facet first: a hit is certified when the next row along the ray is strictly farther. With a box, each
 *    other row then gets an LP that starts over a few of its own inputs and grows until it shows the row a facet
 *    or proves it redundant (local-facets.ts). The rest go through Clarkson's method: minimise n_i·y over the facets found so far (with row i relaxed by 1); if the
 *    minimum does not violate row i, i is redundant; otherwise the ray from the centre to the minimiser hits a
 *    new facet (maybe i), which joins the LP. Each LP is small (the facets found, not all rows) and warm-started.
 * 5. Neighbours: a point on each facet (where its ray hit it) is moved just across; its code must differ from
 *    x's only in the bits of that hyperplane (confirmed), and its prediction is the neighbour's class.
 */
import { availableParallelism } from 'node:os';
import { gigabytes, UserError } from '../errors';
import { bytesFor, setBit, toHex } from '../bits';
import { Rng } from '../inputs/random';
import type { Lens } from '../lens';
import { layerInfos } from '../lens';
import { windowTable } from '../maxpool';
import { loadHighs } from '../lp';
import { decideRow, decideRowOverRows, ROW_LP_SECONDS, sparseRows, twinGroups, type RowDecision } from './local-facets';
import { deciderScript, RowDecider, type DeciderAnswer } from './row-deciders';
import { PlainForward } from '../forward';
import { MatMul64 } from '../matmul';
import type { PolytopeCompareGroup, PolytopeCompareResult, PolytopeDistribution, PolytopeFacet, PolytopeNeighbour, PolytopeResult, PolytopeUnit } from '../../shared/results';
import { nonAffineFrom, pointState } from './exact1d';
import { PreactRunner, type Precision } from './preacts';
import { elementCount } from '../../shared/shape';

export interface PolytopeOptions {
  box?: [number, number];
  precision?: Precision;
  threads?: number;
  /** 'full' (default): every facet (rays, then LPs for the rest); 'rays': only the facets rays find. */
  facets?: 'full' | 'rays';
  /** Random rays from the Chebyshev centre (default 2 d, at least 64, at most 1024). */
  rays?: number;
  /** Stop the facet LPs after this many seconds (the list is then marked incomplete). */
  maxSeconds?: number;
  /** The bound on one HiGHS run of a row's LP (default ROW_LP_SECONDS): a run over it leaves its row undecided. */
  rowLpSeconds?: number;
  /** Polled between rows: true stops the facet LPs as the time limit does (Cancel in the editor keeps the facets
   *  found so far). The loops give the event loop a turn about every 100 ms so that a stop message gets in. */
  stop?: () => boolean;
  /** Origins near found facets for further rays (64 each; default min(16, facets found from the centre)). */
  origins?: number;
  /** With a box, a growing LP per row, from its own inputs, before Clarkson's (local-facets.ts; default true;
   *  false: rays then Clarkson only, the plain method). */
  local?: boolean;
  /** Threads deciding rows by growing LPs, the caller's included (default: CPU cores, at most 4, from 500 rows on). */
  lpThreads?: number;
  /** Inputs a growing LP may free before its row waits for the LP over the facets (default max(64, d / 4)). */
  localMaxFree?: number;
  /** Neighbours across each facet (default true). */
  neighbours?: boolean;
  /** Called with each point just across a facet that the neighbour check evaluated (the last call per facet is the
   *  point its neighbour entry describes); polytope-across.ts keeps them so a view can inspect a neighbour. */
  onAcross?: (facet: PolytopeUnit, point: Float64Array) => void;
  seed?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

/** The affine forms (every pre-activation's gradient, float64) above this many bytes are refused before any work:
 *  a 1 GB Jacobian is already minutes of d + 1 forward passes, and the next sizes are ImageNet CNNs at tens of GB. */
export const MAX_AFFINE_BYTES = 1e9;

/**
 * The model can be inspected: piecewise linear up to its last layer, and its affine forms (pre-activation values x
 * input dimension, float64) fit in MAX_AFFINE_BYTES. One sentence says which node is not, or how large they would be.
 */
export function checkInspectable(lens: Lens): void {
  const name = lens.model.name;
  if (lens.layers.length === 0) throw new UserError(`${name} has no piecewise-linear units: its input space is a single region, so there is no polytope to inspect`);
  const smooth = lens.layers.find((l) => !l.plan.exact);
  if (smooth) throw new UserError(`${name} has a ${smooth.plan.op} layer ('${smooth.plan.key}'), a smooth nonlinearity: its regions are not polytopes, so 'polytope' works only on piecewise-linear models (Relu, LeakyRelu, PRelu, Clip, Abs, MaxPool)`);
  const bad = nonAffineFrom(lens);
  const first = bad.findIndex((b) => b);
  if (first >= 0) {
    const u = lens.unsupported[0];
    throw new UserError(`${name} has a ${u?.op ?? 'non-linear'} node${u ? ` ('${u.node}')` : ''} before layer '${lens.layers[first]!.plan.key}': the pre-activations are not affine inside a region, so 'polytope' works only on piecewise-linear models`);
  }
  const values = lens.layers.reduce((a, l) => a + elementCount(l.shape), 0);
  const bytes = values * lens.sampleSize * 8;
  if (bytes > MAX_AFFINE_BYTES) {
    throw new UserError(`${name} is too large for 'polytope': its ${values.toLocaleString('en-US')} pre-activations over ${lens.sampleSize.toLocaleString('en-US')} input dimensions would need ${gigabytes(bytes)} of affine forms (at most ${MAX_AFFINE_BYTES / 1e9} GB); inspect it along a line with 'path' or on a plane with 'slice' instead`);
  }
}

interface Rows {
  /** m x d normalised normals. */
  N: Float64Array;
  /** g_j(y) = N_j·y + b_j (signed distance, >= 0 inside). */
  b: Float64Array;
  /** Distance from x. */
  dist: Float64Array;
  layer: Int32Array;
  unit: Int32Array;
  /** Global bits (code offsets) of the row: one or two. */
  bitA: Int32Array;
  bitB: Int32Array;
  /** Duplicate rows of this one (indices into dupLayer/dupUnit lists). */
  dups: Map<number, PolytopeUnit[]>;
  dupBits: Map<number, number[]>;
  /** How to read the row from a point's pre-activations: layer value index i (minus j's for MaxPool, minus
   *  theta otherwise), times sign and the normalisation. */
  pi: Int32Array;
  pj: Int32Array;
  theta: Float64Array;
  scale: Float64Array;
  m: number;
  total: number;
  constant: number;
  duplicate: number;
}

export async function computePolytope(lens: Lens, x0: Float32Array | Float64Array, index: number, opts: PolytopeOptions = {}): Promise<PolytopeResult> {
  const t0 = performance.now();
  checkInspectable(lens);
  const d = lens.sampleSize;
  const x = Float64Array.from(x0);
  const box = opts.box;
  if (box) {
    if (!(box[0] < box[1])) throw new UserError(`--box needs LO < HI, not ${box[0]},${box[1]}`);
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = 0; k < d; k++) (lo = Math.min(lo, x[k]!)), (hi = Math.max(hi, x[k]!));
    if (lo < box[0] || hi > box[1]) throw new UserError(`Input ${index} lies outside --box ${box[0]},${box[1]} (its values range from ${lo} to ${hi}); give a box that contains it`);
  }
  let S = 1;
  for (let k = 0; k < d; k++) S = Math.max(S, Math.abs(x[k]!));
  if (box) S = box[1] - box[0];
  const runner = await PreactRunner.create(lens, lens.layers, { precision: opts.precision ?? 'float64', threads: opts.threads });
  const precision = runner.precision;
  const notes: string[] = [];
  if (runner.note) notes.push(`${runner.note}: the polytope is approximate (float32 pre-activations)`);
  const rng = new Rng(opts.seed ?? 0);
  const layers = lens.layers;
  const L = layers.length;
  const windows = layers.map((l) => (l.plan.rule.kind === 'argmax' ? windowTable(l) : undefined));
  const infos = layerInfos(layers);
  const totalBits = lens.totalUnits;
  const codeBytes = bytesFor(totalBits);
  const stateOf = (z: Float64Array | Float32Array, l: number) => pointState(z, layers[l]!.plan.rule.kind, runner.bounds[l], windows[l]);
  /** The packed full code of a point from its layers' pre-activations. */
  const codeOf = (zs: (Float64Array | Float32Array)[]): Uint8Array => {
    const row = new Uint8Array(codeBytes);
    for (let l = 0; l < L; l++) {
      const st = stateOf(zs[l]!, l);
      const off = infos[l]!.offset;
      if (st instanceof Int16Array) {
        const W = windows[l]!.window;
        for (let e = 0; e < st.length; e++) if (st[e]! >= 0) setBit(row, 0, off + e * W + st[e]!);
      } else {
        const bits = layers[l]!.units;
        for (let b = 0; b < bits; b++) if ((st[b >> 5]! >>> (31 - (b & 31))) & 1) setBit(row, 0, off + b);
      }
    }
    return row;
  };
  const sameCode = (a: Uint8Array, b: Uint8Array) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  };
  const argmax = (y: Float64Array, o: number, n: number) => {
    let best = 0;
    for (let i = 1; i < n; i++) if (y[o + i]! > y[o + best]!) best = i;
    return best;
  };

  const disposers: (() => Promise<void>)[] = [];
  try {
    // ---- 1. affine pre-activations --------------------------------------------------------------------------
    const base = await runner.run(x, 1);
    const z0 = base.preacts;
    const code0 = codeOf(z0);
    const pred0 = argmax(base.outputs, 0, runner.outputSize);
    const sizes = runner.sizes;
    const J = sizes.map((s) => new Float64Array(s * d));
    const totalPre = sizes.reduce((a, b) => a + b, 0);
    const h = new Float64Array(d).fill(S / 8);
    let pending = Array.from({ length: d }, (_, k) => k);
    const f32 = precision === 'float32';
    const B = Math.max(1, Math.floor(2e6 / Math.max(1, totalPre + runner.outputSize)));
    for (let round = 0; pending.length; round++) {
      const next: number[] = [];
      for (let s = 0; s < pending.length; s += B) {
        const ks = pending.slice(s, s + B);
        const pts = new Float64Array(2 * ks.length * d);
        ks.forEach((k, i) => {
          for (let sgn = 0; sgn < 2; sgn++) {
            const o = (2 * i + sgn) * d;
            pts.set(x, o);
            pts[o + k] = x[k]! + (sgn === 0 ? h[k]! : -h[k]!);
          }
        });
        const r = await runner.run(pts, 2 * ks.length);
        ks.forEach((k, i) => {
          const views = [0, 1].map((sgn) => r.preacts.map((p, l) => p.subarray((2 * i + sgn) * sizes[l]!, (2 * i + sgn + 1) * sizes[l]!)));
          const ok = views.map((v) => sameCode(codeOf(v), code0));
          const step = (sgn: number) => {
            const v = x[k]! + (sgn === 0 ? h[k]! : -h[k]!);
            return (f32 ? Math.fround(v) : v) - x[k]!;
          };
          // A step lost to rounding (the point is x itself) says nothing.
          if (step(0) === 0) ok[0] = false;
          if (step(1) === 0) ok[1] = false;
          if (ok[0] && ok[1]) {
            const hp = step(0);
            const hm = step(1);
            for (let l = 0; l < L; l++) {
              const a = views[0]![l]!;
              const c = views[1]![l]!;
              const Jl = J[l]!;
              for (let u = 0; u < sizes[l]!; u++) Jl[u * d + k] = (a[u]! - c[u]!) / (hp - hm);
            }
          } else if (ok[0] || ok[1]) {
            const sgn = ok[0] ? 0 : 1;
            const hs = step(sgn);
            for (let l = 0; l < L; l++) {
              const a = views[sgn]![l]!;
              const z = z0[l]!;
              const Jl = J[l]!;
              for (let u = 0; u < sizes[l]!; u++) Jl[u * d + k] = (a[u]! - z[u]!) / hs;
            }
          } else {
            h[k] = h[k]! / 8;
            if (h[k]! < 1e-12 * S) throw new UserError(`Input ${index} lies on a boundary of its region (a unit's pre-activation is 0 there within rounding), so its polytope is not full-dimensional around it; try a nearby input`);
            next.push(k);
          }
        });
        opts.onProgress?.('affine', d - pending.length + s + ks.length, d);
      }
      pending = next;
    }
    const tAffine = performance.now();

    // ---- 2. constraints ---------------------------------------------------------------------------------------
    const rows = buildRows(lens, runner, J, z0, x, infos, windows);
    J.length = 0;
    const { N, b, dist, m } = rows;
    const tRows = performance.now();
    let minDist = Infinity;
    let nearestRow = -1;
    for (let j = 0; j < m; j++) if (dist[j]! < minDist) (minDist = dist[j]!), (nearestRow = j);
    if (nearestRow >= 0 && minDist <= 0) notes.push(`input ${index} lies on the hyperplane of ${infos[rows.layer[nearestRow]!]!.key} unit ${rows.unit[nearestRow]} (distance ${minDist})`);
    const mm = await MatMul64.create(opts.threads);
    disposers.push(() => mm.dispose());
    /** g_j(y) for every row: one matrix-vector product. */
    const gAll = async (y: Float64Array) => {
      const v = await mm.run(N, m, d, y, 1);
      const out = new Float64Array(m);
      for (let j = 0; j < m; j++) out[j] = v[j]! + b[j]!;
      return out;
    };
    const g = (j: number, y: Float64Array) => {
      let s = b[j]!;
      const o = j * d;
      for (let k = 0; k < d; k++) s += N[o + k]! * y[k]!;
      return s;
    };

    // ---- 3. Chebyshev centre ----------------------------------------------------------------------------------
    const highs = await loadHighs();
    const INF = highs.infinity;
    const lo = box ? box[0] : -INF;
    const hi = box ? box[1] : INF;
    const rCap = 1e3 * S;
    const tol = (f32 ? 1e-6 : 1e-9) * S;
    let center = Float64Array.from(x);
    let radius = 0;
    let unbounded = false;
    let chebActive: number[] = [];
    {
      const lp = highs.createModel();
      try {
        lp.options.set({ output_flag: false, presolve: 'off' });
        const colLo = new Float64Array(d + 1).fill(lo);
        const colHi = new Float64Array(d + 1).fill(hi);
        colLo[d] = 0;
        colHi[d] = rCap;
        lp.addVars(colLo, colHi);
        const cost = new Float64Array(d + 1);
        cost[d] = -1;
        lp.changeColsCost({ kind: 'range', from: 0, to: d }, cost);
        if (box) {
          // x_k - r >= lo, x_k + r <= hi
          const starts: number[] = [];
          const idx: number[] = [];
          const val: number[] = [];
          const rl: number[] = [];
          const ru: number[] = [];
          for (let k = 0; k < d; k++) {
            for (const sgn of [-1, 1]) {
              starts.push(idx.length);
              idx.push(k, d);
              val.push(1, sgn);
              rl.push(sgn < 0 ? box[0] : -INF);
              ru.push(sgn < 0 ? INF : box[1]);
            }
          }
          starts.push(idx.length);
          lp.addRows({ lower: Float64Array.from(rl), upper: Float64Array.from(ru), matrix: { format: 'csr', numRows: 2 * d, numCols: d + 1, starts: Int32Array.from(starts), indices: Int32Array.from(idx), values: Float64Array.from(val) } });
        }
        const inLp = new Uint8Array(m);
        const lpRows: number[] = [];
        const add = (js: number[]) => {
          if (!js.length) return;
          const starts = new Int32Array(js.length + 1);
          const idx = new Int32Array(js.length * (d + 1));
          const val = new Float64Array(js.length * (d + 1));
          const rl = new Float64Array(js.length);
          const ru = new Float64Array(js.length).fill(INF);
          js.forEach((j, i) => {
            starts[i] = i * (d + 1);
            for (let k = 0; k < d; k++) (idx[i * (d + 1) + k] = k), (val[i * (d + 1) + k] = N[j * d + k]!);
            idx[i * (d + 1) + d] = d;
            val[i * (d + 1) + d] = -1;
            rl[i] = -b[j]!;
            inLp[j] = 1;
            lpRows.push(j);
          });
          starts[js.length] = js.length * (d + 1);
          lp.addRows({ lower: rl, upper: ru, matrix: { format: 'csr', numRows: js.length, numCols: d + 1, starts, indices: idx, values: val } });
        };
        const order = Array.from({ length: m }, (_, j) => j).sort((p, q) => dist[p]! - dist[q]!);
        add(order.slice(0, Math.min(m, d + 50)));
        for (let round = 0; round < 200; round++) {
          const res = lp.run();
          if (res.modelStatus !== 7) throw new Error(`HiGHS: Chebyshev LP ended with model status ${res.modelStatus}`);
          const sol = lp.getSolution().colValue;
          center = Float64Array.from(sol.subarray(0, d));
          radius = sol[d]!;
          const viol: { j: number; s: number }[] = [];
          const gv = await gAll(center);
          for (let j = 0; j < m; j++) {
            if (inLp[j]) continue;
            const s = gv[j]! - radius;
            if (s < -tol) viol.push({ j, s });
          }
          if (!viol.length) {
            const duals = lp.getSolution().rowDual;
            const off = box ? 2 * d : 0;
            chebActive = lpRows.filter((j, i) => Math.abs(duals[off + i]!) > 1e-12 || Math.abs(g(j, center) - radius) < tol);
            break;
          }
          viol.sort((p, q) => p.s - q.s);
          add(viol.slice(0, d + 50).map((v) => v.j));
        }
        unbounded = radius >= rCap * (1 - 1e-9);
      } finally {
        lp.dispose();
      }
    }
    const tCheb = performance.now();
    if (!unbounded && radius <= tol) notes.push(`the region of this code has no interior (inradius ${radius}): tied MaxPool entries or units at exactly their threshold pin it to a lower-dimensional set, so facets and neighbours describe that set's surroundings only`);
    if (unbounded) notes.push(`the region contains balls of any radius${box ? '' : ' (give --box LO,HI to clip it)'}: inradius and Chebyshev centre are reported as null`);

    // ---- 4. facets --------------------------------------------------------------------------------------------
    // Rows no point of the box can violate are redundant in region ∩ box.
    const alive = new Uint8Array(m);
    let boxPruned = 0;
    for (let j = 0; j < m; j++) {
      if (box) {
        let mn = b[j]!;
        for (let k = 0; k < d; k++) {
          const n = N[j * d + k]!;
          mn += n > 0 ? n * box[0] : n * box[1];
        }
        if (mn > tol) {
          boxPruned++;
          continue;
        }
      }
      alive[j] = 1;
    }
    const aliveIdx = Array.from({ length: m }, (_, j) => j).filter((j) => alive[j]);
    const isFacet = new Uint8Array(m);
    const witness = new Map<number, Float64Array>();
    const facetList: number[] = [];
    const addFacet = (j: number, w: Float64Array) => {
      if (isFacet[j]) return false;
      isFacet[j] = 1;
      witness.set(j, w);
      facetList.push(j);
      return true;
    };
    const gc = await gAll(center);
    /** Box exit along a ray from o: the largest t with o + t u inside the box. */
    const boxExit = (o: Float64Array, u: Float64Array) => {
      if (!box) return Infinity;
      let t = Infinity;
      for (let k = 0; k < d; k++) {
        const uk = u[k]!;
        if (uk > 0) t = Math.min(t, (box[1] - o[k]!) / uk);
        else if (uk < 0) t = Math.min(t, (box[0] - o[k]!) / uk);
      }
      return t;
    };
    /**
     * First rows hit by rays from the centre (among the rows where `cand` is set), certified when the next hit is
     * strictly farther. N times the directions is one onnxruntime MatMul over all rows.
     */
    const shoot = async (dirs: Float64Array[], cand: (j: number) => boolean, tMax?: number[], origin: { o: Float64Array; go: Float64Array } = { o: center, go: gc }): Promise<{ j: number; t: number; certified: boolean }[]> => {
      const R = dirs.length;
      const U = new Float64Array(d * R);
      dirs.forEach((u, r) => {
        for (let k = 0; k < d; k++) U[k * R + r] = u[k]!;
      });
      const C = await mm.run(N, m, d, U, R);
      const best = new Float64Array(R).fill(Infinity);
      const second = new Float64Array(R).fill(Infinity);
      const who = new Int32Array(R).fill(-1);
      for (let j = 0; j < m; j++) {
        if (!cand(j)) continue;
        const gj = Math.max(origin.go[j]!, 0);
        for (let r = 0; r < R; r++) {
          const dot = C[j * R + r]!;
          if (dot >= 0) continue;
          const t = gj / -dot;
          if (t < best[r]!) (second[r] = best[r]!), (best[r] = t), (who[r] = j);
          else if (t < second[r]!) second[r] = t;
        }
      }
      return dirs.map((u, r) => {
        const t = best[r]!;
        const limit = Math.min(boxExit(origin.o, u), tMax?.[r] ?? Infinity);
        if (who[r]! < 0 || t > limit) return { j: -1, t, certified: false };
        return { j: who[r]!, t, certified: second[r]! > t * (1 + 1e-9) + tol * 1e-3 };
      });
    };
    const along = (u: Float64Array, t: number, o: Float64Array = center) => {
      const w = new Float64Array(d);
      for (let k = 0; k < d; k++) w[k] = o[k]! + t * u[k]!;
      return w;
    };
    const randomDir = () => {
      const u = new Float64Array(d);
      let s = 0;
      for (let k = 0; k < d; k++) (u[k] = rng.normal()), (s += u[k]! * u[k]!);
      s = Math.sqrt(s);
      for (let k = 0; k < d; k++) u[k]! /= s;
      return u;
    };
    // Rays: normals of the rows touching the inscribed ball, then random directions.
    const nRays = opts.rays ?? Math.max(64, Math.min(1024, 2 * d));
    const dirs: Float64Array[] = [];
    for (const j of chebActive) dirs.push(Float64Array.from(N.subarray(j * d, (j + 1) * d), (v) => -v));
    if (nearestRow >= 0) dirs.push(Float64Array.from(N.subarray(nearestRow * d, (nearestRow + 1) * d), (v) => -v));
    for (let r = 0; r < nRays; r++) dirs.push(randomDir());
    let rayFacets = 0;
    for (let s = 0; s < dirs.length; s += 256) {
      const chunk = dirs.slice(s, s + 256);
      const hits = await shoot(chunk, (j) => alive[j] === 1);
      hits.forEach((hit, i) => {
        if (hit.j >= 0 && hit.certified && addFacet(hit.j, along(chunk[i]!, hit.t))) rayFacets++;
      });
      opts.onProgress?.('rays', Math.min(dirs.length, s + 256), dirs.length);
    }
    // Rays from points near the facets found (halfway between a witness and the centre) reach the small facets
    // around them that rays from the centre rarely hit: up to `origins` (default 16) rounds of 64 random rays each.
    const nOrigins = opts.origins ?? Math.min(16, facetList.length);
    let raysTotal = dirs.length;
    for (let q = 0; q < nOrigins && q < facetList.length; q++) {
      const w = witness.get(facetList[q]!)!;
      const o = new Float64Array(d);
      for (let k = 0; k < d; k++) o[k] = 0.5 * (w[k]! + center[k]!);
      const go = await gAll(o);
      const us = Array.from({ length: 64 }, randomDir);
      const hits = await shoot(us, (j) => alive[j] === 1, undefined, { o, go });
      hits.forEach((hit, i) => {
        if (hit.j >= 0 && hit.certified && addFacet(hit.j, along(us[i]!, hit.t, o))) rayFacets++;
      });
      raysTotal += 64;
    }
    // The nearest row from x is a facet (the ball around x of that radius lies in the region); witness: its foot.
    if (nearestRow >= 0 && !isFacet[nearestRow]) {
      const w = new Float64Array(d);
      for (let k = 0; k < d; k++) w[k] = x[k]! - dist[nearestRow]! * N[nearestRow * d + k]!;
      addFacet(nearestRow, w);
    }
    const tRays = performance.now();
    let lps = 0;
    let lpTrouble = 0;
    let unresolved = 0;
    let localLps = 0;
    let localFacets = 0;
    let localTested = 0;
    let localRedundantCount = 0;
    let localThreads = 1;
    let localWhole = 0;
    let helperRows = 0;
    const localRedundant = new Uint8Array(m);
    const twinOfFacet = new Uint8Array(m);
    let tLocal = tRays;
    const complete = (opts.facets ?? 'full') === 'full';
    const lpSeconds = opts.rowLpSeconds ?? ROW_LP_SECONDS;
    const deadline = opts.maxSeconds === undefined ? Infinity : t0 + opts.maxSeconds * 1000;
    let stopped: 'time limit' | 'request' | undefined;
    const stopNow = () => (stopped ??= performance.now() > deadline ? 'time limit' : opts.stop?.() ? 'request' : undefined) !== undefined;
    let turnAt = performance.now();
    const giveTurn = async () => {
      if (!opts.stop || performance.now() - turnAt < 100) return;
      await new Promise(setImmediate);
      turnAt = performance.now();
    };
    if (complete && box && (opts.local ?? true)) {
      // Growing LPs, row by row (nearest first): each decides its row exactly and shows facets on the way; only
      // the rows left undecided go on to Clarkson's LPs over all inputs.
      const sp = sparseRows(N, m, d);
      const rep = twinGroups(sp, gc, aliveIdx);
      const twins = new Map<number, number[]>();
      for (const j of aliveIdx) if (rep[j] !== j) twins.set(rep[j]!, [...(twins.get(rep[j]!) ?? [rep[j]!]), j]);
      const group = (j: number) => twins.get(rep[j]!) ?? [j];
      // Twins are one hyperplane: one row of the group is the facet, the others join its `also` (and their bits
      // its neighbour check) and are not tested again.
      const onFacet = (j: number, w: Float64Array) => {
        const members = group(j);
        if (members.some((q) => twinOfFacet[q])) return;
        let first = members.find((q) => isFacet[q]);
        if (first === undefined) addFacet((first = j), w), localFacets++;
        for (const q of members) {
          if (q === first || isFacet[q]) continue;
          twinOfFacet[q] = 1;
          rows.dups.set(first, [...(rows.dups.get(first) ?? []), { layer: infos[rows.layer[q]!]!.key, unit: rows.unit[q]! }]);
          rows.dupBits.set(first, [...(rows.dupBits.get(first) ?? []), rows.bitA[q]!, ...(rows.bitB[q]! >= 0 ? [rows.bitB[q]!] : [])]);
        }
      };
      // Rows whose proof needs more than a quarter of the inputs free wait for a second pass, one LP over the facets
      // found by then with every input free (mnist-8: 4,147 rows after 7,083 facets, mostly redundant rows that
      // only the whole region implies; about 3 s each there, against 40-100 s for a growing LP freeing every input).
      const cands = aliveIdx.filter((j) => !isFacet[j]).sort((p, q) => gc[p]! - gc[q]!);
      const deferred: number[] = [];
      const passes = [{ rows: cands, maxFree: opts.localMaxFree ?? Math.max(64, d / 4), overFacets: false }, { rows: deferred, maxFree: Infinity, overFacets: true }];
      const apply = async (i: number, t: RowDecision, overFacets: boolean) => {
        localLps += t.lps;
        if (overFacets) localWhole++;
        if (t.deferred) deferred.push(i);
        if (t.redundant && !localRedundant[i]) for (const q of group(i)) (localRedundant[q] = 1), localRedundantCount++;
        else if (t.y && !isFacet[i]) {
          // Its own witness: the segment from c to y crosses row i first (certified by a ray over all rows).
          const u = new Float64Array(d);
          for (let k = 0; k < d; k++) u[k] = t.y[k]! - center[k]!;
          const [hit] = await shoot([u], (j) => alive[j] === 1, [1 + 1e-9]);
          const before = facetList.length;
          if (hit && hit.j >= 0 && hit.certified) onFacet(hit.j, along(u, hit.t));
          // A facet the list lacked, not row i: row i goes back in the queue, and its next LP has that facet (each
          // try adds a facet, so this ends).
          if (overFacets && facetList.length > before && !isFacet[i] && !twinOfFacet[i]) deferred.push(i);
        }
      };
      // Helper threads take rows while this one decides others; their answers are applied here, in arrival order.
      // Two tasks queue in each, so a helper has the next row while this thread is inside a long LP. A helper takes
      // about 0.1 s to start (a thread and its HiGHS), so by default only from 500 rows on (the digits MLP has 112).
      const lpThreads = opts.lpThreads ?? (cands.length >= 500 ? Math.min(4, availableParallelism()) : 1);
      const script = lpThreads > 1 ? deciderScript() : undefined;
      const helpers = script ? Array.from({ length: lpThreads - 1 }, () => new RowDecider(script, { rows: sp, gc, c: center, alive, rep, lo, hi, tol, seconds: lpSeconds })) : [];
      localThreads = 1 + helpers.length;
      const answers: DeciderAnswer[] = [];
      const inFlight = new Set<Promise<void>>();
      const drain = async (overFacets: boolean) => {
        for (let a = answers.shift(); a; a = answers.shift()) {
          if (a.error) continue; // the row stays undecided: Clarkson's LPs below take it
          helperRows++;
          for (const f of a.onWay) onFacet(f.j, f.w);
          await apply(a.i, a.decision, overFacets);
        }
      };
      const untilDeadline = () => new Promise<void>((res) => setTimeout(res, Math.max(0, Math.min(deadline - performance.now(), opts.stop ? 100 : 2 ** 31 - 1))).unref());
      // The LP stage is announced before its first row, so a view shows it (and Cancel keeps what it finds) at once.
      opts.onProgress?.('local facets', 0, cands.length);
      try {
        for (const pass of passes) {
          // The queue may grow while it is read (a second-pass row comes back after showing another facet).
          for (let q = 0; !stopNow(); q++) {
            if (q === pass.rows.length) {
              // The helpers' rows of this pass are in before the next pass reads `deferred` (until the deadline).
              while (inFlight.size && !stopNow()) await Promise.race([...inFlight, untilDeadline()]);
              await drain(pass.overFacets);
              if (q === pass.rows.length) break;
            }
            const i = pass.rows[q]!;
            if (helpers.length) await new Promise(setImmediate); // lets the helpers' answers in
            else await giveTurn();
            await drain(pass.overFacets);
            if (isFacet[i] || localRedundant[i] || twinOfFacet[i]) continue;
            if (pass.overFacets) opts.onProgress?.('local facets', q, pass.rows.length);
            else if (++localTested % 50 === 0) opts.onProgress?.('local facets', localTested, cands.length);
            const idle = helpers.find((h) => !h.error && h.pending < 2);
            if (idle) {
              const p: Promise<void> = idle.decide({ i, maxFree: pass.maxFree, over: pass.overFacets ? Int32Array.from(facetList) : undefined }).then((a) => void (answers.push(a), inFlight.delete(p)));
              inFlight.add(p);
              continue;
            }
            const t = pass.overFacets ? decideRowOverRows(highs, sp, gc, center, facetList, i, lo, hi, tol, lpSeconds) : decideRow(highs, sp, gc, center, alive, rep, i, lo, hi, tol, onFacet, pass.maxFree, lpSeconds);
            await apply(i, t, pass.overFacets);
          }
          await drain(pass.overFacets);
        }
      } finally {
        await Promise.all(helpers.map((h) => h.terminate()));
      }
      tLocal = performance.now();
    }
    if (complete) {
      const idxAll = new Int32Array(d);
      for (let k = 0; k < d; k++) idxAll[k] = k;
      const rowsOf = (js: number[], lower: (j: number) => number) => {
        const starts = new Int32Array(js.length + 1);
        const idx = new Int32Array(js.length * d);
        const val = new Float64Array(js.length * d);
        js.forEach((j, r) => {
          starts[r + 1] = (r + 1) * d;
          idx.set(idxAll, r * d);
          val.set(N.subarray(j * d, (j + 1) * d), r * d);
        });
        return { lower: Float64Array.from(js, lower), upper: new Float64Array(js.length).fill(INF), matrix: { format: 'csr' as const, numRows: js.length, numCols: d, starts, indices: idx, values: val } };
      };
      const todo = aliveIdx.filter((j) => !isFacet[j] && !localRedundant[j] && !twinOfFacet[j]).sort((p, q) => gc[p]! - gc[q]!);
      let done = 0;
      for (const i of todo) {
        await giveTurn();
        if (stopNow()) {
          unresolved = todo.length - done;
          break;
        }
        done++;
        if (done % 50 === 0) opts.onProgress?.('facets', done, todo.length);
        if (isFacet[i]) continue;
        // Clarkson's test of row i, with the facets found so far generated lazily: the LP starts from the facets
        // that face the direction -n_i and gains the ones its minimiser violates. Any subset of the region's rows
        // gives a larger polytope, so "row i not violated" over a subset already proves i redundant.
        const lp = highs.createModel();
        try {
          lp.options.set({ output_flag: false, presolve: 'off', time_limit: lpSeconds });
          lp.addVars(new Float64Array(d).fill(lo), new Float64Array(d).fill(hi));
          lp.changeColsCost({ kind: 'range', from: 0, to: d - 1 }, N.subarray(i * d, (i + 1) * d));
          lp.addRows(rowsOf([i], (j) => -b[j]! - 1));
          const inLp = new Set<number>();
          const facing = facetList
            .map((j) => {
              let dot = 0;
              for (let k = 0; k < d; k++) dot += N[j * d + k]! * N[i * d + k]!;
              return { j, dot };
            })
            .sort((p, q) => p.dot - q.dot)
            .slice(0, 64)
            .map((f) => f.j);
          const addLp = (js: number[]) => {
            const fresh = js.filter((j) => !inLp.has(j));
            if (!fresh.length) return;
            for (const j of fresh) inLp.add(j);
            lp.addRows(rowsOf(fresh, (j) => -b[j]!));
          };
          addLp(facing);
          for (let guard = 0; guard < 2000 && !isFacet[i]; guard++) {
            const res = lp.run();
            lps++;
            if (res.modelStatus !== 7) {
              lpTrouble++;
              break;
            }
            const y = lp.getSolution().colValue;
            if (g(i, y) >= -tol) break; // redundant
            // Facets found so far that the minimiser violates join the LP.
            const viol: { j: number; v: number }[] = [];
            for (const j of facetList) {
              if (inLp.has(j)) continue;
              const v = g(j, y);
              if (v < -tol) viol.push({ j, v });
            }
            if (viol.length) {
              viol.sort((p, q) => p.v - q.v);
              addLp(viol.slice(0, 128).map((v) => v.j));
              continue;
            }
            // y satisfies every facet found: the ray from the centre to y meets a new one first (maybe i).
            const u = new Float64Array(d);
            for (let k = 0; k < d; k++) u[k] = y[k]! - center[k]!;
            const [hit] = await shoot([u], (j) => alive[j] === 1 && !isFacet[j], [1 + 1e-9]);
            if (!hit || hit.j < 0) {
              lpTrouble++;
              break;
            }
            addFacet(hit.j, along(u, hit.t));
            addLp([hit.j]);
          }
        } finally {
          lp.dispose();
        }
      }
      if (unresolved) notes.push(`${stopped === 'request' ? 'stopped on request' : 'time limit reached'}: ${unresolved} of the rows no ray hit were not tested for redundancy, so the facet list may be incomplete`);
      if (lpTrouble) notes.push(`${lpTrouble} redundancy LP${lpTrouble === 1 ? '' : 's'} did not end optimal (numerical trouble, or a run over ${lpSeconds} s); those rows were counted as redundant`);
    } else notes.push('facets found by rays only (no LPs): the list may miss facets');
    const tFacets = performance.now();

    // ---- bounded: y >= 1 with N_F^T y = 0 (Stiemke) and at least d + 1 facets --------------------------------
    let bounded = false;
    if (!unbounded && facetList.length >= d + 1) {
      const F = facetList.length;
      const lp = highs.createModel();
      try {
        lp.options.set({ output_flag: false, presolve: 'off' });
        lp.addVars(new Float64Array(F).fill(1), new Float64Array(F).fill(INF));
        const starts = new Int32Array(d + 1);
        const idx = new Int32Array(d * F);
        const val = new Float64Array(d * F);
        for (let k = 0; k < d; k++) {
          starts[k] = k * F;
          facetList.forEach((j, f) => ((idx[k * F + f] = f), (val[k * F + f] = N[j * d + k]!)));
        }
        starts[d] = d * F;
        lp.addRows({ lower: new Float64Array(d), upper: new Float64Array(d), matrix: { format: 'csr', numRows: d, numCols: F, starts, indices: idx, values: val } });
        bounded = lp.run().modelStatus === 7;
      } finally {
        lp.dispose();
      }
    }

    // ---- 5. neighbours and the residual check ----------------------------------------------------------------
    const neighbours: PolytopeNeighbour[] = [];
    const facetBits = (j: number) => new Set([rows.bitA[j]!, ...(rows.bitB[j]! >= 0 ? [rows.bitB[j]!] : []), ...(rows.dupBits.get(j) ?? [])]);
    const unitOf = (j: number): PolytopeUnit => ({ layer: infos[rows.layer[j]!]!.key, unit: rows.unit[j]! });
    const sortedFacets = [...facetList].sort((p, q) => dist[p]! - dist[q]!);
    if (opts.neighbours ?? true) {
      let eps = (f32 ? 1e-4 : 1e-7) * S;
      let left = sortedFacets;
      const found = new Map<number, PolytopeNeighbour>();
      for (let attempt = 0; attempt < 4 && left.length; attempt++, eps /= 16) {
        const retry: number[] = [];
        for (let s = 0; s < left.length; s += 128) {
          const js = left.slice(s, s + 128);
          const pts = new Float64Array(js.length * d);
          js.forEach((j, i) => {
            const w = witness.get(j)!;
            for (let k = 0; k < d; k++) pts[i * d + k] = w[k]! - eps * N[j * d + k]!;
          });
          const r = await runner.run(pts, js.length);
          js.forEach((j, i) => {
            const code = codeOf(r.preacts.map((p, l) => p.subarray(i * sizes[l]!, (i + 1) * sizes[l]!)));
            const own = facetBits(j);
            let flipped = 0;
            let foreign = 0;
            for (let bit = 0; bit < totalBits; bit++) {
              const differs = ((code[bit >> 3]! ^ code0[bit >> 3]!) >> (7 - (bit & 7))) & 1;
              if (differs) (flipped++, own.has(bit) || foreign++);
            }
            const nb = { ...unitOf(j), code_hex: toHex(code), pred: argmax(r.outputs, i * runner.outputSize, runner.outputSize), flipped_bits: flipped, confirmed: flipped > 0 && foreign === 0 };
            found.set(j, nb);
            opts.onAcross?.(unitOf(j), pts.subarray(i * d, (i + 1) * d));
            if (!nb.confirmed) retry.push(j);
          });
          opts.onProgress?.('neighbours', s + js.length, left.length);
        }
        left = retry;
      }
      for (const j of sortedFacets) neighbours.push(found.get(j)!);
    }
    // Residual at a random point inside the region (half the inradius from the centre, or near x).
    let residual = 0;
    {
      const u = new Float64Array(d);
      let s = 0;
      for (let k = 0; k < d; k++) (u[k] = rng.normal()), (s += u[k]! * u[k]!);
      const rr = (unbounded ? Math.min(minDist, S) : radius) * 0.5;
      const p = new Float64Array(d);
      const from = unbounded ? x : center;
      for (let k = 0; k < d; k++) p[k] = from[k]! + (rr * u[k]!) / Math.sqrt(s);
      const r = await runner.run(p, 1);
      // Each row's value at p from its affine form against the same row read from the forward pass.
      residual = rowResidual(rows, r.preacts, p);
      if (!sameCode(codeOf(r.preacts), code0)) notes.push('the random check point left the region: the affine forms are not trustworthy');
    }

    const facets: PolytopeFacet[] = sortedFacets.map((j) => {
      const f: PolytopeFacet = { ...unitOf(j), distance: dist[j]! };
      const also = rows.dups.get(j);
      if (also?.length) f.also = also;
      return f;
    });
    const perLayer: Record<string, number> = Object.fromEntries(infos.map((i) => [i.key, 0]));
    for (const f of facets) perLayer[f.layer]!++;
    const nearest: PolytopeFacet = nearestRow >= 0 ? { ...unitOf(nearestRow), distance: dist[nearestRow]! } : { layer: '', unit: -1, distance: Infinity };
    if (nearestRow >= 0 && rows.dups.get(nearestRow)?.length) nearest.also = rows.dups.get(nearestRow);
    const tEnd = performance.now();
    const result: PolytopeResult = {
      model: lens.model.name,
      index,
      pred: pred0,
      code_hex: toHex(code0),
      dim: d,
      precision,
      residual,
      constraints: rows.total,
      constant_constraints: rows.constant,
      duplicate_constraints: rows.duplicate,
      box: box ?? null,
      facets,
      facets_complete: complete && lpTrouble === 0 && unresolved === 0,
      inradius: unbounded ? null : radius,
      chebyshev_center: unbounded ? null : Array.from(center),
      nearest,
      bounded,
      neighbours,
      layers: infos,
      facets_per_layer: perLayer,
      method: { rays: raysTotal, ray_facets: rayFacets, lps, unresolved, box_pruned: boxPruned, local_tested: localTested, local_lps: localLps, local_facets: localFacets, local_redundant: localRedundantCount, local_threads: localThreads, local_helper_rows: helperRows, local_over_facets: localWhole, ...(unresolved && stopped ? { stopped } : {}), clarkson_facets: facetList.length - rayFacets - localFacets, lp_solver: `HiGHS ${highs.version.string} (WebAssembly, npm highs)` },
      timing: {
        affine_s: (tAffine - t0) / 1000,
        constraints_s: (tRows - tAffine) / 1000,
        chebyshev_s: (tCheb - tRows) / 1000,
        facets_s: (tFacets - tCheb) / 1000,
        rays_s: (tRays - tCheb) / 1000,
        local_s: (tLocal - tRays) / 1000,
        clarkson_s: (tFacets - tLocal) / 1000,
        neighbours_s: (tEnd - tFacets) / 1000,
        total_s: (tEnd - t0) / 1000,
      },
    };
    if (notes.length) result.note = notes.join('; ');
    return result;
  } finally {
    await runner.dispose();
  }
}

interface RowSpec {
  layer: number;
  unit: number;
  /** Value index (winner for MaxPool), the other entry (MaxPool) or -1, threshold, sign. */
  i: number;
  j: number;
  theta: number;
  sign: number;
  bitA: number;
  bitB: number;
}

/** Every bit's constraint at x's code, in layer order. */
function rowSpecs(lens: Lens, runner: PreactRunner, z0: Float64Array[], infos: { offset: number }[], windows: ({ table: Int32Array; window: number } | undefined)[]): RowSpec[] {
  const specs: RowSpec[] = [];
  lens.layers.forEach((layer, l) => {
    const rule = layer.plan.rule;
    const z = z0[l]!;
    const off = infos[l]!.offset;
    if (rule.kind === 'positive') {
      for (let u = 0; u < z.length; u++) specs.push({ layer: l, unit: u, i: u, j: -1, theta: 0, sign: z[u]! > 0 ? 1 : -1, bitA: off + u, bitB: -1 });
    } else if (rule.kind === 'between') {
      const { lo, hi } = runner.bounds[l]!;
      for (let u = 0; u < z.length; u++) {
        specs.push({ layer: l, unit: 2 * u, i: u, j: -1, theta: lo[u]!, sign: z[u]! > lo[u]! ? 1 : -1, bitA: off + 2 * u, bitB: -1 });
        specs.push({ layer: l, unit: 2 * u + 1, i: u, j: -1, theta: hi[u]!, sign: z[u]! > hi[u]! ? 1 : -1, bitA: off + 2 * u + 1, bitB: -1 });
      }
    } else {
      const { table, window: W } = windows[l]!;
      const E = table.length / W;
      for (let e = 0; e < E; e++) {
        let win = -1;
        let best = -Infinity;
        for (let w = 0; w < W; w++) {
          const idx = table[e * W + w]!;
          if (idx >= 0 && z[idx]! > best) (best = z[idx]!), (win = w);
        }
        if (win < 0) continue;
        for (let w = 0; w < W; w++) {
          const idx = table[e * W + w]!;
          if (w === win || idx < 0) continue;
          specs.push({ layer: l, unit: e * W + w, i: table[e * W + win]!, j: idx, theta: 0, sign: 1, bitA: off + e * W + win, bitB: off + e * W + w });
        }
      }
    }
  });
  return specs;
}

function buildRows(lens: Lens, runner: PreactRunner, J: Float64Array[], z0: Float64Array[], x: Float64Array, infos: { offset: number; key: string }[], windows: ({ table: Int32Array; window: number } | undefined)[]): Rows {
  const d = x.length;
  const specs = rowSpecs(lens, runner, z0, infos, windows);
  const total = specs.length;
  // Raw rows and their norms.
  const norms = new Float64Array(total);
  let maxNorm = 0;
  const rowInto = (s: RowSpec, out: Float64Array, o: number) => {
    const Jl = J[s.layer]!;
    if (s.j >= 0) for (let k = 0; k < d; k++) out[o + k] = Jl[s.i * d + k]! - Jl[s.j * d + k]!;
    else for (let k = 0; k < d; k++) out[o + k] = s.sign * Jl[s.i * d + k]!;
  };
  const tmp = new Float64Array(d);
  specs.forEach((s, r) => {
    rowInto(s, tmp, 0);
    let n = 0;
    for (let k = 0; k < d; k++) n += tmp[k]! * tmp[k]!;
    norms[r] = Math.sqrt(n);
    if (norms[r]! > maxNorm) maxNorm = norms[r]!;
  });
  const zeroTol = 1e-9 * maxNorm;
  let constant = 0;
  let duplicate = 0;
  const keep: number[] = [];
  for (let r = 0; r < total; r++) {
    if (norms[r]! <= zeroTol) constant++;
    else keep.push(r);
  }
  const N = new Float64Array(keep.length * d);
  const bArr = new Float64Array(keep.length);
  const dist = new Float64Array(keep.length);
  const layer = new Int32Array(keep.length);
  const unit = new Int32Array(keep.length);
  const bitA = new Int32Array(keep.length);
  const bitB = new Int32Array(keep.length);
  const pi = new Int32Array(keep.length);
  const pj = new Int32Array(keep.length);
  const theta = new Float64Array(keep.length);
  const scale = new Float64Array(keep.length);
  const dups = new Map<number, PolytopeUnit[]>();
  const dupBits = new Map<number, number[]>();
  const seen = new Map<string, number[]>();
  let m = 0;
  for (const r of keep) {
    const s = specs[r]!;
    const o = m * d;
    rowInto(s, N, o);
    const inv = 1 / norms[r]!;
    for (let k = 0; k < d; k++) N[o + k]! *= inv;
    const z = z0[s.layer]!;
    const val = s.j >= 0 ? z[s.i]! - z[s.j]! : s.sign * (z[s.i]! - s.theta);
    const dd = val * inv;
    let dot = 0;
    for (let k = 0; k < d; k++) dot += N[o + k]! * x[k]!;
    // Exact duplicates: same normal and offset, bit for bit.
    const key = hashRow(N, o, d, dd);
    const same = seen.get(key)?.find((q) => dist[q] === dd && N.subarray(q * d, q * d + d).every((v, k) => v === N[o + k]));
    if (same !== undefined) {
      duplicate++;
      const list = dups.get(same) ?? [];
      list.push({ layer: infos[s.layer]!.key, unit: s.unit });
      dups.set(same, list);
      const bl = dupBits.get(same) ?? [];
      bl.push(s.bitA, ...(s.bitB >= 0 ? [s.bitB] : []));
      dupBits.set(same, bl);
      continue;
    }
    (seen.get(key) ?? seen.set(key, []).get(key)!).push(m);
    dist[m] = dd;
    bArr[m] = dd - dot;
    layer[m] = s.layer;
    unit[m] = s.unit;
    bitA[m] = s.bitA;
    bitB[m] = s.bitB;
    pi[m] = s.i;
    pj[m] = s.j;
    theta[m] = s.theta;
    scale[m] = (s.j >= 0 ? 1 : s.sign) * inv;
    m++;
  }
  return { N: N.subarray(0, m * d), b: bArr.subarray(0, m), dist: dist.subarray(0, m), layer, unit, bitA, bitB, pi, pj, theta, scale, dups, dupBits, m, total, constant, duplicate };
}

function hashRow(N: Float64Array, o: number, d: number, v: number): string {
  const view = new Uint32Array(N.buffer, N.byteOffset + o * 8, d * 2);
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < view.length; i++) {
    h1 = Math.imul(h1 ^ view[i]!, 0x01000193);
    h2 = Math.imul(h2 ^ view[i]!, 0x5bd1e995) ^ (h2 >>> 15);
  }
  return `${h1 >>> 0}:${h2 >>> 0}:${v}`;
}

/**
 * Relative error of the affine forms at p: every row's value from the forward pass at p against N_j·p + b_j, the
 * largest difference over the largest |value|.
 */
function rowResidual(rows: Rows, zp: Float64Array[], p: Float64Array): number {
  const d = p.length;
  let maxErr = 0;
  let maxVal = 0;
  for (let j = 0; j < rows.m; j++) {
    let pred = rows.b[j]!;
    for (let k = 0; k < d; k++) pred += rows.N[j * d + k]! * p[k]!;
    const z = zp[rows.layer[j]!]!;
    const raw = rows.pj[j]! >= 0 ? z[rows.pi[j]!]! - z[rows.pj[j]!]! : z[rows.pi[j]!]! - rows.theta[j]!;
    const actual = raw * rows.scale[j]!;
    maxErr = Math.max(maxErr, Math.abs(pred - actual));
    maxVal = Math.max(maxVal, Math.abs(actual));
  }
  return maxVal > 0 ? maxErr / maxVal : maxErr;
}

/** One group of `polytope --compare`: a name and its inputs (with their indices in the source). */
export interface CompareGroupInput {
  name: string;
  data: Float32Array;
  indices: number[];
  /** correct / misclassified: keep the first `limit` inputs whose prediction agrees (or not) with the label. */
  labels?: Int32Array;
  filter?: 'correct' | 'misclassified';
  limit?: number;
}

function distribution(v: number[]): PolytopeDistribution {
  const s = v.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))]! : null);
  return { n: s.length, mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : null, median: q(0.5), q25: q(0.25), q75: q(0.75), min: s.length ? s[0]! : null, max: s.length ? s[s.length - 1]! : null };
}

/** `polytope --compare`: per group, the distributions of inradius, facet count and distance to the nearest boundary. */
export async function comparePolytopes(lens: Lens, groups: CompareGroupInput[], opts: PolytopeOptions = {}): Promise<PolytopeCompareResult> {
  const t0 = performance.now();
  checkInspectable(lens);
  const d = lens.sampleSize;
  const out: PolytopeCompareGroup[] = [];
  let precision: Precision = 'float64';
  const notes = new Set<string>();
  // correct / misclassified: the inputs are chosen by one plain forward pass of all of them.
  const chosen = await Promise.all(
    groups.map(async (g) => {
      const all = g.indices.map((_, i) => i);
      if (!g.filter || !g.labels) return all;
      const fwd = await PlainForward.create(lens, opts.threads);
      try {
        const y = await fwd.run(g.data.subarray(0, g.indices.length * d), g.indices.length);
        const k = y.length / g.indices.length;
        return all.filter((i) => {
          let best = 0;
          for (let c = 1; c < k; c++) if (y[i * k + c]! > y[i * k + best]!) best = c;
          return (best === g.labels![i]) === (g.filter === 'correct');
        }).slice(0, g.limit ?? all.length);
      } finally {
        await fwd.dispose();
      }
    }),
  );
  const total = chosen.reduce((a, c) => a + c.length, 0);
  let done = 0;
  for (const [gi, g] of groups.entries()) {
    const per: PolytopeCompareGroup['per_input'] = [];
    for (const i of chosen[gi]!) {
      const r = await computePolytope(lens, g.data.subarray(i * d, (i + 1) * d), g.indices[i]!, { ...opts, neighbours: false, onProgress: undefined });
      precision = r.precision;
      if (r.note) for (const n of r.note.split('; ')) if (!n.startsWith('input ')) notes.add(n);
      per.push({ index: g.indices[i]!, pred: r.pred, inradius: r.inradius, facets: r.facets.length, nearest: r.nearest.distance, bounded: r.bounded });
      opts.onProgress?.('compare', ++done, total);
    }
    out.push({
      name: g.name,
      n: per.length,
      inradius: distribution(per.map((p) => p.inradius ?? Infinity)),
      facets: distribution(per.map((p) => p.facets)),
      nearest: distribution(per.map((p) => p.nearest)),
      per_input: per,
    });
  }
  const result: PolytopeCompareResult = { model: lens.model.name, box: opts.box ?? null, precision, groups: out, seconds: (performance.now() - t0) / 1000 };
  if (notes.size) result.note = [...notes].join('; ');
  return result;
}
