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
  let ones = 0;
  for (let i = 0; i < nBytes; i++) {
    const b = a[start + i]!;
    ones += POPCOUNT[b]!;
    h1 = Math.imul(h1 ^ b, 0x01000193);
    h2 = Math.imul(h2 ^ b, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  hashBytes.popcount = ones;
  return mix53(h1, h2);
}
/** Set bits of the range the last hashBytes call read: counted in the same pass, since both are per-byte work. */
hashBytes.popcount = 0;

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

/**
 * A set of 53-bit hashes (as made by hashBytes) with open addressing on two Uint32Arrays: an order of magnitude
 * faster than a JS Set<number> for the millions of adds that distinct-code counting does.
 */
export class HashSet53 {
  private lo: Uint32Array;
  private hi: Uint32Array;
  private used = 0;
  private hasZero = false;

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.lo = new Uint32Array(cap);
    this.hi = new Uint32Array(cap);
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
    const mask = this.lo.length - 1;
    // Slot 0 in both arrays marks an empty slot; the key 0 is kept aside above.
    for (let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask; ; i = (i + 1) & mask) {
      const l = this.lo[i]!;
      const u = this.hi[i]!;
      if (l === 0 && u === 0) {
        this.lo[i] = lo;
        this.hi[i] = hi;
        if (++this.used * 2 > this.lo.length) this.grow();
        return;
      }
      if (l === lo && u === hi) return;
    }
  }

  private grow(): void {
    const { lo, hi } = this;
    this.lo = new Uint32Array(lo.length * 2);
    this.hi = new Uint32Array(lo.length * 2);
    this.used = 0;
    for (let i = 0; i < lo.length; i++) if (lo[i] !== 0 || hi[i] !== 0) this.add(hi[i]! * 0x100000000 + lo[i]!);
  }
}

/**
 * Per-bit on-counts of packed rows. Eight bit planes per byte hold a vertical 8-bit counter for each of its bits:
 * adding a row is a ripple carry over the planes (about two byte operations per code byte on average), and every
 * 255 rows the planes are flushed into 32-bit counts.
 */
export class UnitCounter {
  private readonly planes: Uint8Array;
  private readonly counts: Uint32Array;
  private pending = 0;

  constructor(private readonly bytes: number) {
    this.planes = new Uint8Array(8 * bytes);
    this.counts = new Uint32Array(8 * bytes);
  }

  add(codes: Uint8Array, start: number): void {
    const { planes, bytes } = this;
    for (let j = 0; j < bytes; j++) {
      let carry = codes[start + j]!;
      for (let k = j; carry !== 0; k += bytes) {
        const t = planes[k]! & carry;
        planes[k]! ^= carry;
        carry = t;
      }
    }
    if (++this.pending === 255) this.flush();
  }

  private flush(): void {
    const { planes, counts, bytes } = this;
    for (let k = 0; k < 8; k++) {
      for (let j = 0; j < bytes; j++) {
        const p = planes[k * bytes + j]!;
        if (p === 0) continue;
        for (let b = 0; b < 8; b++) if (p & (0x80 >> b)) counts[8 * j + b]! += 1 << k;
      }
    }
    planes.fill(0);
    this.pending = 0;
  }

  /** On-count of every bit, MSB-first bit order (bit i of the row is counts[i]). */
  result(): Uint32Array {
    this.flush();
    return this.counts;
  }
}
