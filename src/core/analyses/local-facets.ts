/**
 * Each row decided by one LP that starts small and grows (issue #17). Rows of convolutional models have small
 * supports (a first-layer unit of mnist-8 sees 25 pixels), and whether a row's hyperplane touches the region can
 * usually be shown by moving a few inputs, the others held at the Chebyshev centre c:
 *
 *   min g_i(y)  over y in the box, y_k = c_k for the fixed inputs k, g_j(y) >= 0 for every other row j.
 *
 * (needs --box: the free inputs range over it). Columns: the free inputs only (the fixed ones are constants), at
 * first the 25 with the largest weights in row i. Rows: added lazily, the 64 most violated at the LP's minimiser
 * each round.
 * Any minimiser that violates no other row and has g_i < 0 is a point where row i alone is violated: a facet. At a
 * minimiser that violates no row and has g_i >= 0, a fixed input with a non-zero reduced cost could lower g_i: those
 * (at least 25, or the quarter with the largest reduced costs) are freed and the LP runs on, warm. When no fixed
 * input has a reduced cost left, the minimum is the whole LP's (LP duality), which proves row i redundant.
 * Both answers are proofs, so the facet set equals the LP-per-row method's; the LPs stay small when the proof
 * needs few inputs, the common case (mnist-8: median 86 inputs free at the end for a facet).
 *
 * Every minimiser y also shows a facet on the way: the segment from c to y leaves the region through the first row
 * it crosses, certified when the next crossing (twins aside) is strictly farther. Rows that are one hyperplane up
 * to rounding (twins: a MaxPool row and the ReLU row of its winner, in float32) are decided together and stay out
 * of each other's LP: with one in, each would prove the other redundant and the facet between them would be lost.
 */
import type { Highs } from '../lp';

export interface SparseRows {
  /** CSR of the normalised normals: row j's inputs cols[start[j]..start[j+1]) with values vals. */
  start: Int32Array;
  cols: Int32Array;
  vals: Float64Array;
  /** For each input, the rows whose support contains it (colRows) and their coefficients of it (colVals). */
  colStart: Int32Array;
  colRows: Int32Array;
  colVals: Float64Array;
  /** Scratch, zero between calls: a position per input (-1: none) and a flag per row. */
  posOf: Int32Array;
  mark: Uint8Array;
}

/** The sparsity pattern of the rows (exact zeros of the normals are outside the support). */
export function sparseRows(N: Float64Array, m: number, d: number): SparseRows {
  const start = new Int32Array(m + 1);
  let nnz = 0;
  for (let j = 0; j < m; j++) {
    for (let k = 0; k < d; k++) if (N[j * d + k] !== 0) nnz++;
    start[j + 1] = nnz;
  }
  const cols = new Int32Array(nnz);
  const vals = new Float64Array(nnz);
  const colCount = new Int32Array(d + 1);
  let p = 0;
  for (let j = 0; j < m; j++) {
    for (let k = 0; k < d; k++) {
      const v = N[j * d + k]!;
      if (v !== 0) (cols[p] = k), (vals[p] = v), p++, colCount[k + 1]!++;
    }
  }
  const colStart = new Int32Array(d + 1);
  for (let k = 0; k < d; k++) colStart[k + 1] = colStart[k]! + colCount[k + 1]!;
  const fill = colStart.slice(0, d);
  const colRows = new Int32Array(nnz);
  const colVals = new Float64Array(nnz);
  for (let j = 0; j < m; j++) {
    for (let q = start[j]!; q < start[j + 1]!; q++) {
      const at = fill[cols[q]!]!++;
      colRows[at] = j;
      colVals[at] = vals[q]!;
    }
  }
  return { start, cols, vals, colStart, colRows, colVals, posOf: new Int32Array(d).fill(-1), mark: new Uint8Array(m) };
}

/**
 * Twin groups: for each row, the first row of its group (itself when it has no twin). Twins have the same value at
 * c (within 1e-3 relative) and normals with a dot product >= 1 - 1e-4.
 */
export function twinGroups(sp: SparseRows, gc: Float64Array, rows: number[]): Int32Array {
  const rep = Int32Array.from({ length: gc.length }, (_, j) => j);
  const order = [...rows].sort((p, q) => gc[p]! - gc[q]!);
  const pos = sp.posOf;
  for (let a = 0; a < order.length; a++) {
    const i = order[a]!;
    if (rep[i] !== i) continue;
    for (let q = sp.start[i]!; q < sp.start[i + 1]!; q++) pos[sp.cols[q]!] = q;
    for (let b = a + 1; b < order.length && gc[order[b]!]! - gc[i]! <= 1e-3 * (1 + Math.abs(gc[i]!)); b++) {
      const j = order[b]!;
      if (rep[j] !== j) continue;
      let dot = 0;
      for (let q = sp.start[j]!; q < sp.start[j + 1]!; q++) {
        const at = pos[sp.cols[q]!]!;
        if (at >= 0) dot += sp.vals[q]! * sp.vals[at]!;
      }
      if (dot >= 1 - 1e-4) rep[j] = i;
    }
    for (let q = sp.start[i]!; q < sp.start[i + 1]!; q++) pos[sp.cols[q]!] = -1;
  }
  return rep;
}

/** Rows js as HiGHS rows g_j(y) = gc_j + n_j·(y - c) >= 0, that is n_j·y >= n_j·c - gc_j, over every input. */
function lpRows(sp: SparseRows, gc: Float64Array, c: Float64Array, js: ArrayLike<number>, INF: number) {
  const n = js.length;
  const starts = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) starts[r + 1] = starts[r]! + sp.start[js[r]! + 1]! - sp.start[js[r]!]!;
  const indices = new Int32Array(starts[n]!);
  const values = new Float64Array(indices.length);
  const lower = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const j = js[r]!;
    indices.set(sp.cols.subarray(sp.start[j]!, sp.start[j + 1]!), starts[r]!);
    values.set(sp.vals.subarray(sp.start[j]!, sp.start[j + 1]!), starts[r]!);
    let nc = 0;
    for (let q = sp.start[j]!; q < sp.start[j + 1]!; q++) nc += sp.vals[q]! * c[sp.cols[q]!]!;
    lower[r] = nc - gc[j]!;
  }
  return { lower, upper: new Float64Array(n).fill(INF), matrix: { format: 'csr' as const, numRows: n, numCols: c.length, starts, indices, values } };
}

export interface RowDecision {
  /** A point (full length) where row i alone is violated: row i is a facet. */
  y?: Float64Array;
  /** The whole LP's minimum of row i is >= -tol: row i is redundant. */
  redundant?: boolean;
  /** Stopped because the proof would need more than `maxFree` free inputs (undecided). */
  deferred?: boolean;
  lps: number;
}

/**
 * A bound on one HiGHS run of a row's LP, in seconds: a run that stalls ends undecided (the row goes on to the next
 * method, or is reported untested) instead of holding its thread. The longest runs measured on mnist-8 are growing
 * LPs that free every input, 40-100 s; with the second pass they are no longer run there.
 */
export const ROW_LP_SECONDS = 120;

/** Inputs free at the start, and the least number freed per round. */
const FIRST_FREE = 25;
/** Rows joining the LP per round (measured on mnist-8: 16, 32 and 256 were slower). */
const ROWS_PER_ROUND = 64;
/** LPs (rounds) after which a row is left undecided. */
const MAX_ROUNDS = 400;

/**
 * Row i decided by the growing LP (see the file comment). gc: every row's value at the centre c; alive: rows the
 * box lets be violated at all; rep: twinGroups; onFacet: a facet crossed on the way, with its witness. Undecided
 * (neither y nor redundant) when HiGHS does not end optimal (each run stops after `seconds`), after MAX_ROUNDS
 * LPs, or (deferred) when the LP would free more than `maxFree` inputs.
 */
export function decideRow(highs: Highs, sp: SparseRows, gc: Float64Array, c: Float64Array, alive: Uint8Array, rep: Int32Array, i: number, lo: number, hi: number, tol: number, onFacet: (j: number, w: Float64Array) => void, maxFree = Infinity, seconds = ROW_LP_SECONDS): RowDecision {
  const d = c.length;
  const INF = highs.infinity;
  const s0 = sp.start[i]!;
  const s1 = sp.start[i + 1]!;
  if (s1 === s0) return { lps: 0 };
  const own = new Float64Array(d);
  for (let q = s0; q < s1; q++) own[sp.cols[q]!] = sp.vals[q]!;
  // The LP's columns are the free inputs only, as offsets z_k = y_k - c_k (the fixed ones are 0 and stay out of
  // it): g_j(y) = gc_j + n_j·z >= 0 keeps its bound when more inputs are freed, and HiGHS works on 25-200 columns
  // instead of every input (the same decisions; the digits MLP's LPs take 26% less time; 195 mnist-8 rows spread
  // over the first pass: 8% fewer simplex iterations, about 18% less time in a noisy mean of 5 alternating runs, but
  // the 300 s mnist-8 bench tests as many rows as before).
  const colOf = new Int32Array(d).fill(-1);
  const freeList: number[] = [];
  /** The LP's rows in order, and each one's place. */
  const lpRowList: number[] = [];
  const rowOf = new Map<number, number>();
  const lp = highs.createModel();
  const free = (ks: number[]) => {
    const starts = new Int32Array(ks.length + 1);
    const indices: number[] = [];
    const values: number[] = [];
    ks.forEach((k, n) => {
      colOf[k] = freeList.length + n;
      for (let p = sp.colStart[k]!; p < sp.colStart[k + 1]!; p++) {
        const r = rowOf.get(sp.colRows[p]!);
        if (r !== undefined) indices.push(r), values.push(sp.colVals[p]!);
      }
      starts[n + 1] = indices.length;
    });
    freeList.push(...ks);
    lp.addCols({
      cost: Float64Array.from(ks, (k) => own[k]!),
      lower: Float64Array.from(ks, (k) => lo - c[k]!),
      upper: Float64Array.from(ks, (k) => hi - c[k]!),
      matrix: { format: 'csc', numRows: lpRowList.length, numCols: ks.length, starts, indices: Int32Array.from(indices), values: Float64Array.from(values) },
    });
  };
  const addRows = (js: number[]) => {
    const starts = new Int32Array(js.length + 1);
    const indices: number[] = [];
    const values: number[] = [];
    js.forEach((j, n) => {
      rowOf.set(j, lpRowList.length + n);
      for (let q = sp.start[j]!; q < sp.start[j + 1]!; q++) {
        const col = colOf[sp.cols[q]!]!;
        if (col >= 0) indices.push(col), values.push(sp.vals[q]!);
      }
      starts[n + 1] = indices.length;
    });
    lpRowList.push(...js);
    lp.addRows({ lower: Float64Array.from(js, (j) => -gc[j]!), upper: new Float64Array(js.length).fill(INF), matrix: { format: 'csr', numRows: js.length, numCols: freeList.length, starts, indices: Int32Array.from(indices), values: Float64Array.from(values) } });
  };
  const gv = new Float64Array(gc.length);
  const touched: number[] = [];
  const mark = sp.mark;
  /** Where the segment from c to the minimiser crosses row j (0..1), or Infinity. */
  const crossing = (j: number) => (gv[j]! < 0 && alive[j] ? gc[j]! / (gc[j]! - gv[j]!) : Infinity);
  /** The point c + t z as a full input. */
  const point = (z: Float64Array, t: number) => {
    const w = Float64Array.from(c);
    freeList.forEach((k, col) => (w[k] = c[k]! + t * z[col]!));
    return w;
  };
  let lps = 0;
  try {
    lp.options.set({ output_flag: false, presolve: 'off', time_limit: seconds });
    free(Array.from(sp.cols.subarray(s0, s1)).sort((a, b) => Math.abs(own[b]!) - Math.abs(own[a]!)).slice(0, FIRST_FREE));
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const res = lp.run();
      lps++;
      if (res.modelStatus !== 7) return { lps };
      const sol = lp.getSolution();
      const z = sol.colValue;
      // The rows' values at the minimiser: only rows touching a free input moved from their value at c.
      for (const j of touched) mark[j] = 0;
      touched.length = 0;
      freeList.forEach((k, col) => {
        const dk = z[col]!;
        for (let p = sp.colStart[k]!; p < sp.colStart[k + 1]!; p++) {
          const j = sp.colRows[p]!;
          if (!mark[j]) (mark[j] = 1), (gv[j] = gc[j]!), touched.push(j);
          gv[j]! += sp.colVals[p]! * dk;
        }
      });
      let t1 = Infinity;
      let j1 = -1;
      for (const j of touched) {
        const t = crossing(j);
        if (t < t1) (t1 = t), (j1 = j);
      }
      if (j1 >= 0) {
        let t2 = Infinity;
        for (const j of touched) if (rep[j] !== rep[j1]) t2 = Math.min(t2, crossing(j));
        if (t2 > t1 * (1 + 1e-9) + tol * 1e-3) onFacet(j1, point(z, t1));
      }
      const viol: { j: number; v: number }[] = [];
      for (const j of touched) if (!rowOf.has(j) && rep[j] !== rep[i] && alive[j] && gv[j]! < -tol * 1e-3) viol.push({ j, v: gv[j]! });
      if (viol.length) {
        addRows(viol.sort((p, q) => p.v - q.v).slice(0, ROWS_PER_ROUND).map((v) => v.j));
        continue;
      }
      if (gv[i]! < -tol) return { y: point(z, 1), lps };
      // The reduced cost of each fixed input, n_ik - sum over the LP's rows of dual_r n_rk (HiGHS: c - A^T y).
      const rc = Float64Array.from(own);
      const dual = sol.rowDual;
      lpRowList.forEach((j, r) => {
        const y = dual[r]!;
        if (y !== 0) for (let q = sp.start[j]!; q < sp.start[j + 1]!; q++) rc[sp.cols[q]!]! -= y * sp.vals[q]!;
      });
      const grow: number[] = [];
      for (let k = 0; k < d; k++) if (colOf[k]! < 0 && Math.abs(rc[k]!) > 1e-9) grow.push(k);
      if (!grow.length) return { redundant: true, lps };
      grow.sort((a, b) => Math.abs(rc[b]!) - Math.abs(rc[a]!));
      const more = grow.slice(0, Math.max(FIRST_FREE, Math.ceil(grow.length / 4)));
      if (freeList.length + more.length > maxFree) return { deferred: true, lps };
      free(more);
    }
    return { lps };
  } finally {
    for (const j of touched) mark[j] = 0;
    lp.dispose();
  }
}

/** The subset LP of decideRowOverRows: the given rows facing row i at first, the most violated added per round, and
 *  the rounds before it gives up for the LP over all given rows (measured on mnist-8's 4,147 second-pass rows, a
 *  sample of 52: 18 decided in 0.23 s on average; more rounds decide few more, slowly, 12 s a row when unbounded). */
const SUBSET_FIRST = 128;
const SUBSET_PER_ROUND = 256;
const SUBSET_ROUNDS = 3;

/**
 * Row i decided by one LP over the given rows (the facets found so far) with every input free in the box, for the
 * rows whose growing LP would free more than maxFree inputs. The given rows' polytope contains the region, so a
 * minimum of g_i >= -tol over it proves row i redundant; otherwise the minimiser y is returned, and the caller's ray
 * from the centre to y shows a facet: row i, or one the list lacked (then row i is tried again with it).
 *
 * First a small simplex LP over a subset (the rows facing -n_i, then the ones its minimiser violates, for up to
 * SUBSET_ROUNDS rounds): any subset's polytope contains the given rows' one too, so a minimum >= -tol over it is
 * already a proof, and a minimiser that violates none of the given rows is their LP's minimiser. Otherwise the LP
 * over all given rows: interior point with crossover (on mnist-8's second pass, 7,083 facets and 784 inputs, about
 * 3.8 s a row, against 40-100 s for a growing LP with every input free; with the subset LP first, 3.1 s).
 */
export function decideRowOverRows(highs: Highs, sp: SparseRows, gc: Float64Array, c: Float64Array, rows: ArrayLike<number>, i: number, lo: number, hi: number, tol: number, seconds = ROW_LP_SECONDS): RowDecision {
  const d = c.length;
  const own = new Float64Array(d);
  for (let q = sp.start[i]!; q < sp.start[i + 1]!; q++) own[sp.cols[q]!] = sp.vals[q]!;
  /** g_j at y, from its value at the centre. */
  const gAt = (j: number, y: ArrayLike<number>) => {
    let v = gc[j]!;
    for (let q = sp.start[j]!; q < sp.start[j + 1]!; q++) v += sp.vals[q]! * (y[sp.cols[q]!]! - c[sp.cols[q]!]!);
    return v;
  };
  let lps = 0;
  const subset = highs.createModel();
  try {
    subset.options.set({ output_flag: false, presolve: 'off', time_limit: seconds });
    subset.addVars(new Float64Array(d).fill(lo), new Float64Array(d).fill(hi));
    subset.changeColsCost({ kind: 'range', from: 0, to: d - 1 }, own);
    const facing = Array.from(rows, (j) => {
      let dot = 0;
      for (let q = sp.start[j]!; q < sp.start[j + 1]!; q++) dot += sp.vals[q]! * own[sp.cols[q]!]!;
      return { j, dot };
    })
      .sort((p, q) => p.dot - q.dot)
      .slice(0, SUBSET_FIRST)
      .map((f) => f.j);
    const inLp = new Set(facing);
    if (facing.length) subset.addRows(lpRows(sp, gc, c, facing, highs.infinity));
    for (let round = 0; round < SUBSET_ROUNDS; round++) {
      const res = subset.run();
      lps++;
      if (res.modelStatus !== 7) break;
      const y = subset.getSolution().colValue;
      if (gAt(i, y) >= -tol) return { redundant: true, lps };
      const viol: { j: number; v: number }[] = [];
      for (let r = 0; r < rows.length; r++) {
        const j = rows[r]!;
        if (inLp.has(j)) continue;
        const v = gAt(j, y);
        // Strict (as decideRow's): the caller's ray from the centre to y must not meet a given row before row i.
        if (v < -tol * 1e-3) viol.push({ j, v });
      }
      if (!viol.length) return { y: Float64Array.from(y), lps };
      const more = viol.sort((p, q) => p.v - q.v).slice(0, SUBSET_PER_ROUND).map((v) => v.j);
      for (const j of more) inLp.add(j);
      subset.addRows(lpRows(sp, gc, c, more, highs.infinity));
    }
  } finally {
    subset.dispose();
  }
  const lp = highs.createModel();
  try {
    lp.options.set({ output_flag: false, solver: 'ipm', run_crossover: 'on', time_limit: seconds });
    lp.addVars(new Float64Array(d).fill(lo), new Float64Array(d).fill(hi));
    lp.changeColsCost({ kind: 'range', from: 0, to: d - 1 }, own);
    if (rows.length) lp.addRows(lpRows(sp, gc, c, rows, highs.infinity));
    lps++;
    if (lp.run().modelStatus !== 7) return { lps };
    const y = Float64Array.from(lp.getSolution().colValue);
    return gAt(i, y) >= -tol ? { redundant: true, lps } : { y, lps };
  } finally {
    lp.dispose();
  }
}
