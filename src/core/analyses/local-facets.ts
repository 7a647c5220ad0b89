/**
 * Facet certificates from small local LPs (issue #17). Rows of convolutional models have small supports (a
 * first-layer unit sees 25 pixels of mnist-8), so whether a row's hyperplane touches the region can often be shown
 * by moving only the inputs in its support, the others held at the Chebyshev centre c:
 *
 *   min g_i(y)  over y with y_k = c_k outside S_i, y_k in the box on S_i, g_j(y) >= 0 for every other row j.
 *
 * (needs --box: the inputs of S_i range over it). This LP has |S_i| variables, and only the rows that share inputs with S_i (and that the box allows to be
 * violated there) enter it, lazily: the most violated ones are added until none is. Its feasible set is a slice of
 * the region (c is in it), so a minimum below zero is a point y where row i alone is violated: the segment from c
 * to y leaves the region through row i, which is then a facet (certified again by a ray from c, as for the other
 * ray hits). A minimum >= 0 proves nothing (the slice is smaller than the region); then a second LP over S_i
 * relaxes instead: every row sharing inputs with S_i, its other inputs at their most favourable box value, contains
 * the region's projection on S_i, so a minimum >= 0 there proves row i redundant. Rows neither LP decides go on
 * to Clarkson's LPs over all inputs. Both answers are proofs, so the facet set equals the LP-per-row method's.
 */
import type { Highs } from '../lp';

export interface SparseRows {
  /** CSR of the normalised normals: row j's inputs cols[start[j]..start[j+1]) with values vals. */
  start: Int32Array;
  cols: Int32Array;
  vals: Float64Array;
  /** For each input, the rows whose support contains it. */
  colStart: Int32Array;
  colRows: Int32Array;
  /** Scratch for localTest, reset after each call: an input's LP column (-1: none), rows already gathered. */
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
  for (let j = 0; j < m; j++) for (let q = start[j]!; q < start[j + 1]!; q++) colRows[fill[cols[q]!]!++] = j;
  return { start, cols, vals, colStart, colRows, posOf: new Int32Array(d).fill(-1), mark: new Uint8Array(m) };
}

export interface LocalTest {
  /** The point y (full length) where row i is violated and every other row of the slice holds, or undefined. */
  y?: Float64Array;
  /** True when the relaxed local LP proves row i redundant. */
  redundant?: boolean;
  lps: number;
}

interface SliceRow {
  idx: number[];
  val: number[];
  off: number;
}

/**
 * min of row i over the inputs V (LP columns `pos`), subject to the given rows, lazily: the LP starts with none and
 * gains the most violated ones until none is. Returns the minimiser over V and row i's value there, or undefined
 * when HiGHS does not end optimal or the rows do not settle.
 */
function sliceLp(highs: Highs, own: SliceRow, nv: number, rows: SliceRow[], lo: number, hi: number, tol: number, stopAt: number): { yS: Float64Array; gi: number; lps: number } | undefined {
  const INF = highs.infinity;
  const lp = highs.createModel();
  let lps = 0;
  try {
    lp.options.set({ output_flag: false, presolve: 'off' });
    lp.addVars(new Float64Array(nv).fill(lo), new Float64Array(nv).fill(hi));
    const cost = new Float64Array(nv);
    own.idx.forEach((col, n) => (cost[col] = own.val[n]!));
    lp.changeColsCost({ kind: 'range', from: 0, to: nv - 1 }, cost);
    const addRows = (rs: SliceRow[]) => {
      const starts = [0];
      const idx: number[] = [];
      const val: number[] = [];
      for (const r of rs) {
        for (let n = 0; n < r.idx.length; n++) idx.push(r.idx[n]!), val.push(r.val[n]!);
        starts.push(idx.length);
      }
      lp.addRows({ lower: Float64Array.from(rs, (r) => -r.off), upper: new Float64Array(rs.length).fill(INF), matrix: { format: 'csr', numRows: rs.length, numCols: nv, starts: Int32Array.from(starts), indices: Int32Array.from(idx), values: Float64Array.from(val) } });
    };
    const inLp = new Uint8Array(rows.length);
    for (let round = 0; round < 100; round++) {
      const res = lp.run();
      lps++;
      if (res.modelStatus !== 7) return undefined;
      const yS = lp.getSolution().colValue;
      let gi = own.off;
      own.idx.forEach((col, n) => (gi += own.val[n]! * yS[col]!));
      // Fewer rows give a lower minimum: at or above stopAt it stays there as rows join, so stop.
      if (gi >= stopAt) return { yS: Float64Array.from(yS), gi, lps };
      const viol: { r: number; v: number }[] = [];
      rows.forEach((r, q) => {
        if (inLp[q]) return;
        let v = r.off;
        for (let n = 0; n < r.idx.length; n++) v += r.val[n]! * yS[r.idx[n]!]!;
        if (v < -tol * 1e-3) viol.push({ r: q, v });
      });
      if (!viol.length) return { yS: Float64Array.from(yS), gi, lps };
      viol.sort((p, q) => p.v - q.v);
      const add = viol.slice(0, 64).map((v) => v.r);
      for (const q of add) inLp[q] = 1;
      addRows(add.map((q) => rows[q]!));
    }
    return undefined;
  } finally {
    lp.dispose();
  }
}

/**
 * The local LPs of row i (see the file comment). gc: every row's value at the centre c; alive: rows that can be
 * violated inside the box at all; lo/hi: the box (the test needs one: the caller skips it without). First the slice through c (inputs
 * outside S_i held at c): a minimum below zero shows a facet. Then the relaxation: every row that shares inputs
 * with S_i, its other inputs free in the box (a row can only get easier to satisfy), so the region's projection
 * on S_i lies inside; a minimum >= 0 there proves row i redundant. `maxRows` caps the rows (beyond: undecided).
 */
export function localTest(highs: Highs, sp: SparseRows, gc: Float64Array, c: Float64Array, alive: Uint8Array, i: number, lo: number, hi: number, tol: number, maxRows = 20000): LocalTest {
  const s0 = sp.start[i]!;
  const s1 = sp.start[i + 1]!;
  const nv = s1 - s0;
  if (nv === 0) return { lps: 0 };
  const pos = sp.posOf;
  for (let q = s0; q < s1; q++) pos[sp.cols[q]!] = q - s0;
  try {
    return localTestOn(highs, sp, gc, c, alive, i, lo, hi, tol, maxRows);
  } finally {
    for (let q = s0; q < s1; q++) pos[sp.cols[q]!] = -1;
  }
}

function localTestOn(highs: Highs, sp: SparseRows, gc: Float64Array, c: Float64Array, alive: Uint8Array, i: number, lo: number, hi: number, tol: number, maxRows: number): LocalTest {
  const s0 = sp.start[i]!;
  const s1 = sp.start[i + 1]!;
  const nv = s1 - s0;
  const pos = sp.posOf;
  /** Row j over S_i's LP columns: its value at y_S = 0 with the other inputs at c (slice) or at their most
   *  favourable box value (relaxed), and the least value the box allows on S_i. */
  const rowOn = (j: number, relaxed: boolean): { r: SliceRow; least: number } => {
    const idx: number[] = [];
    const val: number[] = [];
    let off = gc[j]!;
    let least = 0;
    for (let q = sp.start[j]!; q < sp.start[j + 1]!; q++) {
      const k = sp.cols[q]!;
      const v = sp.vals[q]!;
      off -= v * c[k]!;
      const col = pos[k]!;
      if (col < 0) {
        if (relaxed) off += v > 0 ? v * hi : v * lo;
        else off += v * c[k]!;
        continue;
      }
      idx.push(col);
      val.push(v);
      least += v > 0 ? v * lo : v * hi;
    }
    return { r: { idx, val, off }, least: off + least };
  };
  const neighbours: number[] = [];
  const seen = sp.mark;
  seen[i] = 1;
  for (let q = s0; q < s1; q++) {
    const k = sp.cols[q]!;
    for (let p = sp.colStart[k]!; p < sp.colStart[k + 1]!; p++) {
      const j = sp.colRows[p]!;
      if (!seen[j] && alive[j]) (seen[j] = 1), neighbours.push(j);
    }
  }
  seen[i] = 0;
  for (const j of neighbours) seen[j] = 0;
  const own = rowOn(i, false).r;
  let lps = 0;
  // Rows the box cannot violate on the slice (or the relaxation) are left out: they hold there anyway.
  const sliceRows: SliceRow[] = [];
  for (const j of neighbours) {
    const { r, least } = rowOn(j, false);
    if (least <= tol) sliceRows.push(r);
  }
  if (sliceRows.length <= maxRows) {
    const inner = sliceLp(highs, own, nv, sliceRows, lo, hi, tol, -tol);
    lps += inner?.lps ?? 0;
    if (inner && inner.gi < -tol) {
      const y = Float64Array.from(c);
      for (let q = s0; q < s1; q++) y[sp.cols[q]!] = inner.yS[q - s0]!;
      return { y, lps };
    }
  }
  const relaxedRows: SliceRow[] = [];
  const ownVal = new Float64Array(nv);
  own.idx.forEach((col, n) => (ownVal[col] = own.val[n]!));
  for (const j of neighbours) {
    // A row equal to row i up to rounding (a MaxPool row and the ReLU row of its winner) would prove it
    // redundant, and row i would prove that row redundant in turn: the facet between them would be lost. Such
    // rows stay out (leaving rows out only weakens the relaxation, so its proofs stay proofs).
    if (Math.abs(gc[j]! - gc[i]!) <= 1e-3 * (1 + Math.abs(gc[i]!))) {
      let dot = 0;
      for (let q = sp.start[j]!; q < sp.start[j + 1]!; q++) {
        const col = pos[sp.cols[q]!]!;
        if (col >= 0) dot += sp.vals[q]! * ownVal[col]!;
      }
      if (dot >= 1 - 1e-4) continue;
    }
    const { r, least } = rowOn(j, true);
    if (Number.isFinite(r.off) && least <= tol) relaxedRows.push(r);
  }
  if (relaxedRows.length > maxRows) return { lps };
  const outer = sliceLp(highs, own, nv, relaxedRows, lo, hi, tol, -tol);
  lps += outer?.lps ?? 0;
  if (outer && outer.gi >= -tol) return { redundant: true, lps };
  return { lps };
}
