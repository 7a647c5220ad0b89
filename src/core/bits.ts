/**
 * Packed bit strings: MSB-first bytes (numpy packbits bitorder="big"), one row per sample. Codes live in typed
 * arrays only; no per-bit objects.
 */

/** Number of set bits of each byte value. */
export const POPCOUNT = (() => {
  const t = new Uint8Array(256);
  for (let i = 1; i < 256; i++) t[i] = (i & 1) + t[i >> 1]!;
  return t;
})();

export function bytesFor(bits: number): number {
  return Math.ceil(bits / 8);
}

/**
 * ORs `bits` bits of `src` (starting at bit 0 of src[srcStart]) into `dst` at bit offset `dstBit` of row start
 * `dstStart`. The destination must be zero there; the source's padding bits must be zero.
 */
export function orBits(dst: Uint8Array, dstStart: number, dstBit: number, src: Uint8Array, srcStart: number, bits: number): void {
  const nBytes = bytesFor(bits);
  const byte = dstStart + (dstBit >> 3);
  const shift = dstBit & 7;
  if (shift === 0) {
    for (let i = 0; i < nBytes; i++) dst[byte + i]! |= src[srcStart + i]!;
    return;
  }
  const back = 8 - shift;
  const end = dstStart + bytesFor(dstBit + bits); // exclusive bound of the destination's bytes
  for (let i = 0; i < nBytes; i++) {
    const b = src[srcStart + i]!;
    dst[byte + i]! |= b >> shift;
    if (byte + i + 1 < end) dst[byte + i + 1]! |= (b << back) & 0xff;
  }
}

export function getBit(row: Uint8Array, start: number, bit: number): number {
  return (row[start + (bit >> 3)]! >> (7 - (bit & 7))) & 1;
}

export function setBit(row: Uint8Array, start: number, bit: number): void {
  row[start + (bit >> 3)]! |= 0x80 >> (bit & 7);
}

/**
 * Sets bits of a row given in increasing order: the byte being filled stays in a field and is stored once the bits
 * move past it (flush() stores the last one). Setting each bit in memory (setBit) makes each store wait for the one
 * before to the same byte: the MaxPool bits of a 192x56x56 pool took 6.2 against 4.7 ns per output.
 */
export class OrderedBitWriter {
  private byte = 0;
  private acc = 0;
  constructor(
    private readonly row: Uint8Array,
    private readonly start: number,
  ) {}

  set(bit: number): void {
    if (bit >> 3 !== this.byte) {
      this.row[this.start + this.byte] = this.acc;
      this.byte = bit >> 3;
      this.acc = 0;
    }
    this.acc |= 0x80 >> (bit & 7);
  }

  flush(): void {
    if (this.acc) this.row[this.start + this.byte] = this.acc;
  }
}

/** Set bits among bits [from, from + count) of a row. */
export function popcountRange(row: Uint8Array, start: number, from: number, count: number): number {
  let c = 0;
  let bit = from;
  const end = from + count;
  while (bit < end && bit & 7) c += getBit(row, start, bit++);
  while (bit + 8 <= end) {
    c += POPCOUNT[row[start + (bit >> 3)]!]!;
    bit += 8;
  }
  while (bit < end) c += getBit(row, start, bit++);
  return c;
}

/** Hamming distance of two equally long packed rows. */
export function hamming(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, nBytes: number): number {
  let d = 0;
  for (let i = 0; i < nBytes; i++) d += POPCOUNT[a[aStart + i]! ^ b[bStart + i]!]!;
  return d;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function toHex(row: Uint8Array, start = 0, nBytes = row.length - start): string {
  let s = '';
  for (let i = 0; i < nBytes; i++) s += HEX[row[start + i]!];
  return s;
}

/**
 * A 53-bit hash of a byte range (two 32-bit multiply-xorshift lanes), used to count distinct codes without
 * keeping them. Two different codes collide with probability about 2^-53 per pair: for a million codes, about
 * 5e-5 that any pair collides.
 */
export function hashBytes(a: Uint8Array, start: number, nBytes: number, seed = 0): number {
  let h1 = 0x811c9dc5 ^ seed;
  let h2 = 0x6b43a9b5 ^ nBytes;
  for (let i = 0; i < nBytes; i++) {
    const b = a[start + i]!;
    h1 = Math.imul(h1 ^ b, 0x01000193);
    h2 = Math.imul(h2 ^ b, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return mix53(h1, h2);
}

/** Combines a running hash with the next one (for prefix codes: layers 1..L). */
export function combineHash(prefix: number, next: number): number {
  const lo = next % 0x100000000;
  const hi = Math.floor(next / 0x100000000);
  return mix53(Math.imul((prefix % 0x100000000) ^ lo, 0x85ebca6b), Math.imul(Math.floor(prefix / 0x100000000) ^ hi ^ 0x9e3779b9, 0xc2b2ae35));
}

function mix53(a: number, b: number): number {
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  b ^= b >>> 16;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 13;
  return (b & 0x1fffff) * 0x100000000 + (a >>> 0);
}

/** Set bits of a 32-bit word (SWAR). */
export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * hashBytes for rows padded to whole 32-bit words: a 53-bit hash of words [start, start + nWords) read four bytes
 * at a time (the engine's packed rows are 8-byte aligned, padding bits zero), with the set bits counted in the
 * same pass (hashWords.popcount). About four times faster than hashBytes on the same row; the two hashes differ,
 * so one set of codes must be hashed with one of them.
 */
export function hashWords(a: Int32Array, start: number, nWords: number, seed = 0): number {
  let h1 = 0x811c9dc5 ^ seed;
  let h2 = 0x6b43a9b5 ^ nWords;
  let ones = 0;
  for (let i = start; i < start + nWords; i++) {
    const w = a[i]!;
    ones += popcount32(w);
    h1 = Math.imul(h1 ^ w, 0x01000193);
    h2 = Math.imul(h2 ^ w, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  hashWords.popcount = ones;
  return mix53(h1, h2);
}
hashWords.popcount = 0;

/**
 * A set of 53-bit hashes (as made by hashBytes or hashWords) with open addressing on one Uint32Array of (low, high)
 * pairs: an order of magnitude faster than a JS Set<number> for the millions of adds that distinct-code counting
 * does, and a probe touches one cache line.
 */
export class HashSet53 {
  private slots: Uint32Array;
  private used = 0;
  private hasZero = false;

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.slots = new Uint32Array(2 * cap);
  }

  get size(): number {
    return this.used + (this.hasZero ? 1 : 0);
  }

  add(h: number): void {
    if (h === 0) {
      this.hasZero = true;
      return;
    }
    const lo = h >>> 0;
    const hi = Math.floor(h / 0x100000000) >>> 0;
    const slots = this.slots;
    const mask = (slots.length >>> 1) - 1;
    // A (0, 0) pair marks an empty slot; the key 0 is kept aside above.
    for (let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask; ; i = (i + 1) & mask) {
      const l = slots[2 * i]!;
      const u = slots[2 * i + 1]!;
      if (l === 0 && u === 0) {
        slots[2 * i] = lo;
        slots[2 * i + 1] = hi;
        if (++this.used * 4 > slots.length) this.grow();
        return;
      }
      if (l === lo && u === hi) return;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.used = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0 || old[i + 1] !== 0) this.add(old[i + 1]! * 0x100000000 + old[i]!);
  }
}

/**
 * Per-bit on-counts of packed rows, counted 32 bits at a time with no per-bit work. Rows are staged in blocks of 16
 * (or 8) and each block is reduced by a Harley-Seal carry-save adder tree into per-word "ones, twos, fours, eights"
 * accumulators; what overflows them (sixteens) ripples into eight bit planes of a vertical counter, flushed into
 * 32-bit counts every 255 blocks. About five word operations per row word, without data-dependent branches: on
 * mnist-8's 2,248-byte rows about ten times faster than rippling every row through the planes. Rows are read as
 * little-endian words, so byte 4w + b of a row is bits 8b .. 8b + 7 of word w.
 */
export class UnitCounter {
  private readonly words: number;
  /** Up to 16 rows, `words` apart (zero past each row's bytes). */
  private block: Int32Array;
  private blockBytes: Uint8Array;
  private staged = 0;
  private readonly ones: Int32Array;
  private readonly twos: Int32Array;
  private readonly fours: Int32Array;
  private readonly eights: Int32Array;
  /** Vertical 8-bit counters of sixteens, plane k at k * words. */
  private planes: Int32Array;
  private planeAdds = 0;
  /**
   * Sixteens flushed from the planes, per bit (MSB-first bit order); allocated at the first flush (after 255
   * blocks) and turned into the counts in place by result(). Memory per code byte: 28 bytes until then (20 with
   * 8-row blocks), 60 after, 36 at the end (it was 60 throughout and 92 at the end: for ResNet-50's 1.4 MB codes,
   * 132 MB of the host's 209 MB); 20 at the end before a flush, whose counts are 16-bit.
   */
  private sixteens: Uint16Array | Uint32Array | undefined;
  private finished = false;

  /**
   * blockRows: rows staged per block, 16, or 8 for rows of 1 MiB or more: the block is the largest array while
   * rows come in (DenseNet-121's 2.2 MB rows: 35 instead of 70 MB), and beside a forward pass of such a model the
   * host's counting time does not matter.
   */
  constructor(
    private readonly bytes: number,
    private readonly blockRows: 8 | 16 = bytes >= 2 ** 20 ? 8 : 16,
  ) {
    const w = (this.words = Math.ceil(bytes / 4));
    this.block = new Int32Array(blockRows * w);
    this.blockBytes = new Uint8Array(this.block.buffer);
    this.ones = new Int32Array(w);
    this.twos = new Int32Array(w);
    this.fours = new Int32Array(w);
    this.eights = new Int32Array(w);
    this.planes = new Int32Array(8 * w);
  }

  /** Adds `rows` rows stored back to back from `codes[0]`, `bytes` each. */
  addRows(codes: Uint8Array, rows: number): void {
    if (this.finished) throw new Error('UnitCounter: rows added after result()');
    const { bytes, words } = this;
    let r = 0;
    while (r < rows) {
      // Whole-word rows are copied several at a time; others one by one, each to its word-aligned slot.
      const k = bytes === 4 * words ? Math.min(this.blockRows - this.staged, rows - r) : 1;
      this.blockBytes.set(codes.subarray(r * bytes, (r + k) * bytes), this.staged * 4 * words);
      r += k;
      this.staged += k;
      if (this.staged === this.blockRows) this.addBlock();
    }
  }

  private addBlock(): void {
    const { block: d, ones, twos, fours, eights, words: w, blockRows } = this;
    for (let j = 0; j < w; j++) {
      let o = ones[j]!;
      let t = twos[j]!;
      let f = fours[j]!;
      let e = eights[j]!;
      let eightsA = 0;
      let carry = 0;
      // CSA(high, low) of (x, y, z): low = x ^ y ^ z, high = majority(x, y, z). Each 8 rows of the block yield
      // one "eights" word; a 16-row block adds its second one to the first's, and what carries out is sixteens.
      for (let r = 0; r < blockRows; r += 8) {
        let a: number, b: number, u: number, twosA: number, twosB: number, foursA: number, foursB: number;
        a = d[r * w + j]!, b = d[(r + 1) * w + j]!, u = o ^ a, twosA = (o & a) | (u & b), o = u ^ b;
        a = d[(r + 2) * w + j]!, b = d[(r + 3) * w + j]!, u = o ^ a, twosB = (o & a) | (u & b), o = u ^ b;
        u = t ^ twosA, foursA = (t & twosA) | (u & twosB), t = u ^ twosB;
        a = d[(r + 4) * w + j]!, b = d[(r + 5) * w + j]!, u = o ^ a, twosA = (o & a) | (u & b), o = u ^ b;
        a = d[(r + 6) * w + j]!, b = d[(r + 7) * w + j]!, u = o ^ a, twosB = (o & a) | (u & b), o = u ^ b;
        u = t ^ twosA, foursB = (t & twosA) | (u & twosB), t = u ^ twosB;
        u = f ^ foursA;
        const eights = (f & foursA) | (u & foursB);
        f = u ^ foursB;
        if (blockRows === 8) {
          carry = e & eights;
          e ^= eights;
        } else if (r === 0) {
          eightsA = eights;
        } else {
          u = e ^ eightsA;
          carry = (e & eightsA) | (u & eights);
          e = u ^ eights;
        }
      }
      ones[j] = o;
      twos[j] = t;
      fours[j] = f;
      eights[j] = e;
      for (let k = j; carry !== 0; k += w) {
        const c = this.planes[k]! & carry;
        this.planes[k]! ^= carry;
        carry = c;
      }
    }
    this.staged = 0;
    if (++this.planeAdds === 255) this.flushPlanes();
  }

  private flushPlanes(): void {
    const { planes } = this;
    // Plane k holds bit k of every lane's count of sixteens; lanes hold small counts, so set bits are few.
    for (let i = 0; i < planes.length; i++) {
      let p = planes[i]!;
      if (p === 0) continue;
      const sixteens = (this.sixteens ??= new Uint32Array(8 * this.bytes));
      const k = Math.floor(i / this.words);
      const j = i - k * this.words;
      while (p !== 0) {
        const b = 31 - Math.clz32(p & -p);
        p &= p - 1;
        sixteens[laneBit(j, b)]! += 1 << k;
      }
    }
    planes.fill(0);
    this.planeAdds = 0;
  }

  /**
   * On-count of every bit, MSB-first bit order (bit i of the row is counts[i]). Called once, after the last row.
   * Before the first flush of the planes (fewer than 255 blocks of rows) every count fits 16 bits, and the counts
   * are a Uint16Array: half the memory at the host's peak (DenseNet-121's 17.5M bits: 35 MB instead of 70).
   */
  result(): Uint16Array | Uint32Array {
    if (this.finished) throw new Error('UnitCounter: result() called twice');
    this.finished = true;
    if (this.staged > 0) {
      // Zero rows complete the block without changing any count.
      this.block.fill(0, this.staged * this.words);
      this.addBlock();
    }
    // The block is done with, and the planes once flushed: each goes before the next large array is made.
    this.block = new Int32Array(0);
    this.blockBytes = new Uint8Array(0);
    // No flush yet: fewer than 255 blocks of rows, so every count fits 16 bits.
    this.sixteens ??= new Uint16Array(8 * this.bytes);
    this.flushPlanes();
    this.planes = new Int32Array(0);
    const { ones, twos, fours, eights } = this;
    // In place: each bit's sixteens are read once, then overwritten by its count.
    const counts = this.sixteens;
    this.sixteens = undefined;
    for (let j = 0; j < this.words; j++) {
      const o = ones[j]!;
      const t = twos[j]!;
      const f = fours[j]!;
      const e = eights[j]!;
      for (let b = 0; b < 32; b++) {
        const bit = laneBit(j, b);
        if (bit >= counts.length) continue;
        counts[bit] = 16 * counts[bit]! + ((o >>> b) & 1) + 2 * ((t >>> b) & 1) + 4 * ((f >>> b) & 1) + 8 * ((e >>> b) & 1);
      }
    }
    return counts;
  }
}

/** The row bit (MSB-first) held by bit b (from the LSB) of little-endian word j. */
function laneBit(j: number, b: number): number {
  return 8 * (4 * j + (b >> 3)) + 7 - (b & 7);
}
