/**
 * Hamming distances between packed spline codes (MSB-first rows of codeBytes bytes, as CodeExtractor.run gives
 * them) and a dense distance matrix for the clusterings.
 *
 *   hammingMatrix(codes, n, codeBytes, { dropConstant? }) -> DenseDistances  (n x n, row-major, exact integers)
 *   hammingPairs(codes, n, codeBytes, pairs[]) -> number[]                  (a few pairs, JS table popcount)
 *   varyingBits(codes, n, codeBytes) -> { codes, codeBytes, bits }          (constant bits removed: distances unchanged)
 *   euclideanMatrix(x, n, d) -> DenseDistances                              (float32)
 *   coreDistances(D, k) -> Float64Array                                     (distance to the k-th nearest, self = 1st)
 *
 * The kernel: rows are copied into WebAssembly memory, zero-padded to a multiple of 32 bytes, and each pair's
 * distance is sum(popcnt(a[w] ^ b[w])) over 64-bit words (i64.popcnt, four words per loop turn). Pairs are
 * computed in column blocks that fit the L2 cache. Never per-bit arrays. When WebAssembly is unavailable, the
 * same loop runs in JS over 32-bit words (SWAR popcount), about 10x slower.
 *
 * Big matrices (pairs x row bytes at least hammingOptions.parallelMinBytes) are filled by several threads: the matrix lives in a
 * SharedArrayBuffer, worker threads (an inline script instantiating the same kernel) and the calling thread take
 * column blocks from a shared counter, largest first, and the caller blocks in Atomics.wait until every block is
 * done, so hammingMatrix stays synchronous. A worker that fails sets a flag and the caller recomputes alone. The
 * Euclidean matrix is filled the same way (row blocks, a JS loop).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { POPCOUNT } from '../bits';

/** A dense symmetric distance matrix, row-major n x n (zero diagonal). */
export interface DenseDistances {
  n: number;
  d: Uint16Array | Uint32Array | Float32Array;
}

export function at(D: DenseDistances, i: number, j: number): number {
  return D.d[i * D.n + j]!;
}

/** Largest n the dense matrix accepts (n^2 entries of 2 or 4 bytes). */
export const MAX_DENSE = 20000;

// ---- WebAssembly kernel ------------------------------------------------------------------------------------

const uleb = (v: number): number[] => {
  const o: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    o.push(b);
  } while (v);
  return o;
};
const section = (id: number, b: number[]): number[] => [id, ...uleb(b.length), ...b];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/**
 * row(base, stride, bytes, i, j0, j1, out): for j in [j0, j1) stores the Hamming distance of rows i and j as an
 * i32 at out + 4 (j - j0). Rows start at base + r * stride; `bytes` (a multiple of 32) are compared.
 */
function kernelBytes(): Uint8Array<ArrayBuffer> {
  const G = (i: number) => [0x20, i];
  const S = (i: number) => [0x21, i];
  // params: 0 base, 1 stride, 2 bytes, 3 i, 4 j0, 5 j1, 6 out; locals: 7 j, 8 pa, 9 pb, 10 k (i32), 11 acc (i64)
  const load = (p: number, off: number) => [...G(p), ...G(10), 0x6a, 0x29, 3, ...uleb(off)]; // i64.load
  const term = (off: number) => [...load(8, off), ...load(9, off), 0x85 /* i64.xor */, 0x7b /* i64.popcnt */];
  const body = [
    ...G(0), ...G(3), ...G(1), 0x6c, 0x6a, ...S(8), // pa = base + i * stride
    ...G(4), ...S(7), // j = j0
    0x02, 0x40, 0x03, 0x40,
    ...G(7), ...G(5), 0x4f, 0x0d, 1, // if j >= j1 break
    ...G(0), ...G(7), ...G(1), 0x6c, 0x6a, ...S(9), // pb = base + j * stride
    0x42, 0, ...S(11), 0x41, 0, ...S(10),
    0x02, 0x40, 0x03, 0x40,
    ...G(10), ...G(2), 0x4f, 0x0d, 1, // if k >= bytes break
    ...G(11), ...term(0), 0x7c, ...term(8), 0x7c, ...term(16), 0x7c, ...term(24), 0x7c, ...S(11),
    ...G(10), 0x41, 32, 0x6a, ...S(10),
    0x0c, 0,
    0x0b, 0x0b,
    ...G(6), ...G(7), ...G(4), 0x6b, 0x41, 2, 0x74, 0x6a, ...G(11), 0xa7, 0x36, 2, 0, // out[j - j0] = acc
    ...G(7), 0x41, 1, 0x6a, ...S(7),
    0x0c, 0,
    0x0b, 0x0b, 0x0b,
  ];
  const func = [2, 4, 0x7f, 1, 0x7e, ...body];
  // row4: the same for four rows j at a time ((j1 - j0) a multiple of 4): each word of row i is loaded once for
  // the four, 1.25 loads per compared word instead of 2.
  // locals: 7 j, 8 pa, 9..12 pb0..pb3, 13 k (i32); 14..17 acc0..acc3, 18 a (i64)
  const K = 13;
  const at = (p: number, off: number) => [...G(p), ...G(K), 0x6a, 0x29, 3, ...uleb(off)];
  const word = (off: number) => [
    ...at(8, off), ...S(18),
    ...[0, 1, 2, 3].flatMap((r) => [...G(14 + r), ...G(18), ...at(9 + r, off), 0x85, 0x7b, 0x7c, ...S(14 + r)]),
  ];
  const body4 = [
    ...G(0), ...G(3), ...G(1), 0x6c, 0x6a, ...S(8), // pa = base + i * stride
    ...G(4), ...S(7), // j = j0
    0x02, 0x40, 0x03, 0x40,
    ...G(7), ...G(5), 0x4f, 0x0d, 1, // if j >= j1 break
    ...G(0), ...G(7), ...G(1), 0x6c, 0x6a, ...S(9), // pb0 = base + j * stride
    ...[10, 11, 12].flatMap((l) => [...G(l - 1), ...G(1), 0x6a, ...S(l)]), // pb(r) = pb(r - 1) + stride
    ...[14, 15, 16, 17].flatMap((l) => [0x42, 0, ...S(l)]),
    0x41, 0, ...S(K),
    0x02, 0x40, 0x03, 0x40,
    ...G(K), ...G(2), 0x4f, 0x0d, 1, // if k >= bytes break
    ...word(0), ...word(8), ...word(16), ...word(24),
    ...G(K), 0x41, 32, 0x6a, ...S(K),
    0x0c, 0,
    0x0b, 0x0b,
    // out[j - j0 + r] = acc(r)
    ...[0, 1, 2, 3].flatMap((r) => [...G(6), ...G(7), ...G(4), 0x6b, 0x41, 2, 0x74, 0x6a, ...G(14 + r), 0xa7, 0x36, 2, 4 * r]),
    ...G(7), 0x41, 4, 0x6a, ...S(7),
    0x0c, 0,
    0x0b, 0x0b, 0x0b,
  ];
  const func4 = [2, 7, 0x7f, 5, 0x7e, ...body4];
  const i32 = [0x7f];
  return Uint8Array.from([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec([[0x60, ...vec([i32, i32, i32, i32, i32, i32, i32]), 0]])),
    ...section(3, vec([[0], [0]])),
    ...section(5, vec([[0, 1]])),
    ...section(7, vec([[...name('row'), 0, 0], [...name('row4'), 0, 1], [...name('mem'), 2, 0]])),
    ...section(10, vec([[...uleb(func.length), ...func], [...uleb(func4.length), ...func4]])),
  ]);
}

interface Kernel {
  row: (base: number, stride: number, bytes: number, i: number, j0: number, j1: number, out: number) => void;
  /** As row, for (j1 - j0) a multiple of 4. */
  row4: Kernel['row'];
  mem: WebAssembly.Memory;
}

let kernel: Kernel | null | undefined;
/** A fresh kernel instance (its own memory); null when WebAssembly is unavailable. */
function makeKernel(): Kernel | null {
  if (kernel === null) return null;
  try {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(kernelBytes()));
    kernel = inst.exports as unknown as Kernel;
    return kernel;
  } catch {
    kernel = null;
    return null;
  }
}

/**
 * useWasm: false forces the JS fallback (tests compare the two). threads: threads filling a big matrix, the
 * calling one included (0: the machine's available parallelism, at most 8; 1: no worker threads).
 * parallelMinBytes: bytes compared (pairs x padded row bytes) from which threads are used; below about a second
 * of work, starting them (tens of ms each, more on a busy machine) costs more than it saves.
 */
export const hammingOptions = { useWasm: true, threads: 0, parallelMinBytes: 4e9 };

/** How the last wasm fill ran: threads used, and column blocks done by the calling thread out of all blocks. */
export const lastFill = { threads: 1, callerBlocks: 0, blocks: 0 };

// ---- Hamming -----------------------------------------------------------------------------------------------

/**
 * Removes bits that are the same in every row (dead and always-on units, padding): Hamming distances are
 * unchanged and the kernel has less to read. Works on whole bytes first; repacks only when some bits vary.
 */
export function varyingBits(codes: Uint8Array, n: number, codeBytes: number): { codes: Uint8Array; codeBytes: number; bits: number } {
  const diff = new Uint8Array(codeBytes);
  for (let i = 1; i < n; i++) {
    const o = i * codeBytes;
    for (let b = 0; b < codeBytes; b++) diff[b]! |= codes[o + b]! ^ codes[b]!;
  }
  const keep: number[] = [];
  for (let b = 0; b < codeBytes; b++) {
    const m = diff[b]!;
    if (m) for (let k = 0; k < 8; k++) if (m & (0x80 >> k)) keep.push(b * 8 + k);
  }
  const outBytes = Math.max(1, Math.ceil(keep.length / 8));
  const out = new Uint8Array(n * outBytes);
  for (let i = 0; i < n; i++) {
    const src = i * codeBytes;
    const dst = i * outBytes;
    for (let t = 0; t < keep.length; t++) {
      const bit = keep[t]!;
      if (codes[src + (bit >> 3)]! & (0x80 >> (bit & 7))) out[dst + (t >> 3)]! |= 0x80 >> (t & 7);
    }
  }
  return { codes: out, codeBytes: outBytes, bits: keep.length };
}

export interface HammingOptions {
  /** Drop bits constant over the rows first (default true; distances are identical either way). */
  dropConstant?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/** All pairwise Hamming distances of n packed rows, as a dense n x n matrix (Uint16 when bits < 65536). */
export function hammingMatrix(codes: Uint8Array, n: number, codeBytes: number, opts: HammingOptions = {}): DenseDistances {
  if (n > MAX_DENSE) throw new RangeError(`hammingMatrix: ${n} rows; the dense matrix takes at most ${MAX_DENSE}`);
  if (codes.length < n * codeBytes) throw new RangeError(`hammingMatrix: expected ${n * codeBytes} bytes, got ${codes.length}`);
  if (opts.dropConstant !== false && n > 1) ({ codes, codeBytes } = varyingBits(codes, n, codeBytes));
  const k = hammingOptions.useWasm ? makeKernel() : null;
  // A shared buffer only when threads will fill it (the rest of the engine reads it like any typed array).
  const work = ((n * (n - 1)) / 2) * Math.ceil(codeBytes / 32) * 32;
  const shared = k && work >= hammingOptions.parallelMinBytes && threadCount() > 1 && typeof SharedArrayBuffer === 'function';
  const bytes = codeBytes * 8 < 65536 ? 2 : 4;
  const buffer = shared ? new SharedArrayBuffer(n * n * bytes) : new ArrayBuffer(n * n * bytes);
  const d = bytes === 2 ? new Uint16Array(buffer) : new Uint32Array(buffer);
  if (k) wasmFill(k, codes, n, codeBytes, d, opts.onProgress);
  else jsFill(codes, n, codeBytes, d, opts.onProgress);
  return { n, d };
}

function wasmFill(k: Kernel, codes: Uint8Array, n: number, codeBytes: number, d: Uint16Array | Uint32Array, onProgress?: (done: number, total: number) => void): void {
  const stride = Math.ceil(codeBytes / 32) * 32;
  // Column blocks of about 256 KB of rows stay in the L2 cache while every row i streams past them.
  const block = Math.max(8, Math.min(n, Math.floor(262144 / stride)));
  const need = n * stride + 4 * block;
  const have = k.mem.buffer.byteLength;
  if (need > have) k.mem.grow(Math.ceil((need - have) / 65536));
  const mem = new Uint8Array(k.mem.buffer);
  mem.fill(0, 0, n * stride);
  for (let i = 0; i < n; i++) mem.set(codes.subarray(i * codeBytes, (i + 1) * codeBytes), i * stride);
  const blocks = Math.ceil(n / block);
  const threads = d.buffer instanceof SharedArrayBuffer ? Math.min(threadCount(), blocks) : 1;
  if (threads > 1 && parallelFill(k, mem.subarray(0, n * stride), n, stride, block, d, threads, onProgress)) return mirrorUpper(d, n);
  Object.assign(lastFill, { threads: 1, callerBlocks: blocks, blocks });
  const next = { value: 0 };
  fillBlocks(k.row, k.row4, new Int32Array(k.mem.buffer, n * stride, block), n * stride, n, stride, block, d, () => (next.value < blocks ? blocks - 1 - next.value++ : -1), onProgress);
  mirrorUpper(d, n);
}

function threadCount(): number {
  const t = hammingOptions.threads || Math.min(8, availableParallelism());
  return Math.max(1, Math.floor(t));
}

/**
 * The upper triangle, column block by column block: take() gives the next block index (-1 when none is left).
 * Shared verbatim with the worker threads (fillBlocks.toString() is their loop), so it uses nothing from outside.
 */
function fillBlocks(
  row: Kernel['row'],
  row4: Kernel['row'],
  out: Int32Array,
  outPtr: number,
  n: number,
  stride: number,
  block: number,
  d: Uint16Array | Uint32Array,
  take: () => number,
  onProgress?: (done: number, total: number) => void,
): void {
  const total = (n * (n - 1)) / 2;
  let done = 0;
  for (let b = take(); b >= 0; b = take()) {
    const j0 = b * block;
    const j1 = Math.min(n, j0 + block);
    for (let i = 0; i < j1 - 1; i++) {
      const from = Math.max(j0, i + 1);
      if (from >= j1) continue;
      const mid = from + ((j1 - from) & ~3);
      if (mid > from) row4(0, stride, stride, i, from, mid, outPtr);
      if (j1 > mid) row(0, stride, stride, i, mid, j1, outPtr + 4 * (mid - from));
      d.set(out.subarray(0, j1 - from), i * n + from);
      done += j1 - from;
    }
    if (onProgress) onProgress(done, total);
  }
}

/** What a Hamming worker runs: the same kernel (its own instance and copy of the rows) and the same loop. */
const HAMMING_BODY = `(w, take) => {
  const { row, row4, mem } = new WebAssembly.Instance(new WebAssembly.Module(w.kernel)).exports;
  const need = w.n * w.stride + 4 * w.block;
  if (need > mem.buffer.byteLength) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
  new Uint8Array(mem.buffer).set(new Uint8Array(w.rows), 0);
  const d = w.d32 ? new Uint32Array(w.d) : new Uint16Array(w.d);
  (${fillBlocks.toString()})(row, row4, new Int32Array(mem.buffer, w.n * w.stride, w.block), w.n * w.stride, w.n, w.stride, w.block, d, take);
}`;

function parallelFill(k: Kernel, rows: Uint8Array, n: number, stride: number, block: number, d: Uint16Array | Uint32Array, threads: number, onProgress?: (done: number, total: number) => void): boolean {
  const shared = new SharedArrayBuffer(rows.length);
  new Uint8Array(shared).set(rows);
  const data = { kernel: kernelBytes(), rows: shared, d: d.buffer, d32: d instanceof Uint32Array, n, stride, block };
  const out = new Int32Array(k.mem.buffer, n * stride, block);
  return parallelBlocks(HAMMING_BODY, data, Math.ceil(n / block), threads, (take) => fillBlocks(k.row, k.row4, out, n * stride, n, stride, block, d, take, onProgress));
}

/**
 * Runs `blocks` blocks of work on `threads` threads: threads - 1 workers run `body` (the source of a function
 * (workerData, take) => void using nothing from outside) and the caller runs `caller`; both take block indices
 * from a shared counter, from blocks - 1 down (-1 when none is left). Blocks the caller (synchronously) until all
 * are done. Returns false when a worker failed: its blocks may be missing, and the caller must redo the work.
 */
function parallelBlocks(body: string, data: Record<string, unknown>, blocks: number, threads: number, caller: (take: () => number) => void): boolean {
  // ctrl[0]: next block to take; ctrl[1]: blocks finished; ctrl[2]: a worker failed.
  const ctrl = new SharedArrayBuffer(12);
  const c = new Int32Array(ctrl);
  const script = `
const { workerData } = require('node:worker_threads');
const c = new Int32Array(workerData.ctrl);
const blocks = workerData.blocks;
let pending = false;
const finished = () => { if (pending) { Atomics.add(c, 1, 1); Atomics.notify(c, 1); pending = false; } };
const take = () => { finished(); const b = Atomics.add(c, 0, 1); if (b < blocks) { pending = true; return blocks - 1 - b; } return -1; };
try {
  (${body})(workerData, take);
  finished();
} catch (e) {
  Atomics.store(c, 2, 1);
  Atomics.add(c, 1, blocks);
  Atomics.notify(c, 1);
}`;
  const workers: Worker[] = [];
  try {
    for (let w = 1; w < threads; w++) {
      const worker = new Worker(script, { eval: true, workerData: { ...data, ctrl, blocks } });
      worker.unref();
      worker.on('error', () => undefined); // reported through ctrl[2]
      workers.push(worker);
    }
  } catch {
    // No worker threads here: the caller takes every block.
  }
  let mine = 0;
  caller(() => {
    if (mine++) Atomics.add(c, 1, 1);
    const b = Atomics.add(c, 0, 1);
    return b < blocks ? blocks - 1 - b : -1;
  });
  for (let done = Atomics.load(c, 1); done < blocks; done = Atomics.load(c, 1)) Atomics.wait(c, 1, done, 1000);
  for (const w of workers) void w.terminate();
  Object.assign(lastFill, { threads, callerBlocks: mine - 1, blocks });
  return Atomics.load(c, 2) === 0;
}

/** Copies the upper triangle onto the lower one in 64 x 64 tiles (a strided column write per pair would miss the cache). */
function mirrorUpper(d: Uint16Array | Uint32Array | Float32Array, n: number): void {
  const T = 64;
  for (let i0 = 0; i0 < n; i0 += T) {
    const i1 = Math.min(n, i0 + T);
    for (let j0 = i0; j0 < n; j0 += T) {
      const j1 = Math.min(n, j0 + T);
      for (let i = i0; i < i1; i++) {
        const ri = i * n;
        for (let j = Math.max(j0, i + 1); j < j1; j++) d[j * n + i] = d[ri + j]!;
      }
    }
  }
}

function jsFill(codes: Uint8Array, n: number, codeBytes: number, d: Uint16Array | Uint32Array, onProgress?: (done: number, total: number) => void): void {
  const words = Math.ceil(codeBytes / 4);
  const w = new Int32Array(n * words);
  const bytes = new Uint8Array(w.buffer);
  for (let i = 0; i < n; i++) bytes.set(codes.subarray(i * codeBytes, (i + 1) * codeBytes), i * words * 4);
  const total = (n * (n - 1)) / 2;
  let done = 0;
  for (let i = 0; i < n; i++) {
    const oi = i * words;
    for (let j = i + 1; j < n; j++) {
      const oj = j * words;
      let s = 0;
      for (let t = 0; t < words; t++) {
        let x = w[oi + t]! ^ w[oj + t]!;
        x = x - ((x >>> 1) & 0x55555555);
        x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
        x = (x + (x >>> 4)) & 0x0f0f0f0f;
        s += Math.imul(x, 0x01010101) >>> 24;
      }
      d[i * n + j] = s;
      d[j * n + i] = s;
    }
    done += n - 1 - i;
    if ((i & 63) === 63) onProgress?.(done, total);
  }
  onProgress?.(total, total);
}

/** Hamming distances of a few pairs (byte table; for checks and small jobs). */
export function hammingPairs(codes: Uint8Array, codeBytes: number, pairs: [number, number][]): number[] {
  return pairs.map(([i, j]) => {
    let s = 0;
    for (let b = 0; b < codeBytes; b++) s += POPCOUNT[codes[i * codeBytes + b]! ^ codes[j * codeBytes + b]!]!;
    return s;
  });
}

// ---- Euclidean ---------------------------------------------------------------------------------------------

/**
 * Pairwise Euclidean distances of n rows of d values (float64 sums over the dimensions in order, stored as
 * float32). Big matrices are filled by worker threads as the Hamming ones (same values: each pair's sum is the same
 * loop wherever it runs).
 */
export function euclideanMatrix(x: ArrayLike<number>, n: number, dim: number): DenseDistances {
  if (n > MAX_DENSE) throw new RangeError(`euclideanMatrix: ${n} rows; the dense matrix takes at most ${MAX_DENSE}`);
  const work = ((n * (n - 1)) / 2) * dim * 8;
  const threads = work >= hammingOptions.parallelMinBytes && typeof SharedArrayBuffer === 'function' ? threadCount() : 1;
  const shared = threads > 1;
  const xs = new Float64Array(shared ? new SharedArrayBuffer(n * dim * 8) : new ArrayBuffer(n * dim * 8));
  xs.set(x as ArrayLike<number>);
  const d = new Float32Array(shared ? new SharedArrayBuffer(n * n * 4) : new ArrayBuffer(n * n * 4));
  // Row blocks of decreasing work (row i has n - 1 - i pairs), many per thread so they balance.
  const rowsPer = Math.max(1, Math.ceil(n / (64 * threads)));
  const blocks = Math.ceil(n / rowsPer);
  const run = (take: () => number) => euclidBlocks(xs, n, dim, rowsPer, d, take);
  const body = `(w, take) => (${euclidBlocks.toString()})(new Float64Array(w.xs), w.n, w.dim, w.rowsPer, new Float32Array(w.d), take)`;
  if (!shared || !parallelBlocks(body, { xs: xs.buffer, d: d.buffer, n, dim, rowsPer }, blocks, threads, run)) {
    let next = 0;
    run(() => (next < blocks ? blocks - 1 - next++ : -1));
    Object.assign(lastFill, { threads: 1, callerBlocks: blocks, blocks });
  }
  mirrorUpper(d, n);
  return { n, d };
}

/** Upper triangle of the Euclidean matrix, by row blocks (take() from blocks - 1 down: the longest rows first). Self-contained (run by workers too). */
function euclidBlocks(xs: Float64Array, n: number, dim: number, rowsPer: number, d: Float32Array, take: () => number): void {
  const blocks = Math.ceil(n / rowsPer);
  for (let b = take(); b >= 0; b = take()) {
    const i0 = (blocks - 1 - b) * rowsPer;
    const i1 = Math.min(n, i0 + rowsPer);
    for (let i = i0; i < i1; i++) {
      const oi = i * dim;
      for (let j = i + 1; j < n; j++) {
        const oj = j * dim;
        let s = 0;
        for (let t = 0; t < dim; t++) {
          const v = xs[oi + t]! - xs[oj + t]!;
          s += v * v;
        }
        d[i * n + j] = Math.sqrt(s);
      }
    }
  }
}

// ---- neighbours --------------------------------------------------------------------------------------------

/**
 * Core distances for HDBSCAN: for each point the distance to its k-th nearest point, counting the point itself
 * as the first (scikit-learn's min_samples convention), so k = 1 gives 0.
 */
export function coreDistances(D: DenseDistances, k: number): Float64Array {
  const { n, d } = D;
  const kk = Math.max(1, Math.min(k, n));
  const core = new Float64Array(n);
  if (d instanceof Uint16Array) {
    for (let i = 0; i < n; i++) core[i] = kthUint16(d, i * n, n, kk - 1);
    return core;
  }
  // A scratch row of the matrix's own type: copying is a memcpy.
  const row = new (d.constructor as { new (n: number): Uint32Array | Float32Array })(n);
  for (let i = 0; i < n; i++) {
    row.set(d.subarray(i * n, (i + 1) * n));
    core[i] = select(row, kk - 1);
  }
  return core;
}

const HIGH = new Int32Array(256);
const LOW = new Int32Array(256);
/** The k-th smallest (0-based) of d[o .. o + n), 16-bit values: a histogram of high bytes, then of low bytes. */
function kthUint16(d: Uint16Array, o: number, n: number, k: number): number {
  HIGH.fill(0);
  for (let j = o; j < o + n; j++) HIGH[d[j]! >> 8]!++;
  let hi = 0;
  let below = 0;
  while (below + HIGH[hi]! <= k) below += HIGH[hi++]!;
  LOW.fill(0);
  for (let j = o; j < o + n; j++) {
    const v = d[j]!;
    if (v >> 8 === hi) LOW[v & 255]!++;
  }
  let lo = 0;
  while (below + LOW[lo]! <= k) below += LOW[lo++]!;
  return (hi << 8) | lo;
}

/** The k nearest neighbours of each point (self excluded), nearest first; ties by index. */
export function kNearest(D: DenseDistances, k: number): Int32Array {
  const { n, d } = D;
  const kk = Math.min(k, n - 1);
  const out = new Int32Array(n * kk);
  const idx = new Int32Array(n - 1);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < n; j++) if (j !== i) idx[m++] = j;
    const r = i * n;
    const sorted = Array.from(idx).sort((a, b) => d[r + a]! - d[r + b]! || a - b);
    for (let t = 0; t < kk; t++) out[i * kk + t] = sorted[t]!;
  }
  return out;
}

/** The k-th smallest value (0-based) of a, reordering a (quickselect, median of three). */
export function select(a: Float64Array | Float32Array | Uint32Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    const x = a[lo]!, y = a[mid]!, z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}
