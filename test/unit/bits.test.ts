import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getBit, HashSet53, hashBytes, hashWords, orBits, popcountRange, toHex, UnitCounter } from '../../src/core/bits';
import { Rng } from '../../src/core/inputs';

test('orBits places bit strings at any offset, MSB first', () => {
  const dst = new Uint8Array(4);
  orBits(dst, 0, 0, Uint8Array.of(0b10100000), 0, 3); // bits 101
  orBits(dst, 0, 3, Uint8Array.of(0b11110000, 0), 0, 4); // bits 1111 at 3..6
  orBits(dst, 0, 7, Uint8Array.of(0xff, 0x80), 0, 9); // nine 1s at 7..15
  assert.equal(toHex(dst), 'bfff0000');
  assert.equal(popcountRange(dst, 0, 0, 16), 15);
  assert.equal(popcountRange(dst, 0, 1, 2), 1);
});

test('HashSet53 counts the same distinct values as a Set, through growth', () => {
  const rng = new Rng(3);
  const set = new HashSet53(4);
  const ref = new Set<number>();
  const bytes = new Uint8Array(8);
  for (let i = 0; i < 20000; i++) {
    for (let j = 0; j < 8; j++) bytes[j] = rng.int(3); // many repeats
    const h = i % 1000 === 0 ? 0 : hashBytes(bytes, 0, 8);
    set.add(h);
    ref.add(h);
  }
  assert.equal(set.size, ref.size);
  assert.ok(ref.size > 1000 && ref.size < 20000);
});

test('UnitCounter counts every bit like a per-bit loop, for word-aligned and unaligned rows, in blocks of 16 and of 8 rows, before and past the flush after 255 blocks (16- then 32-bit counts); result() is final', () => {
  const rng = new Rng(5);
  for (const [bytes, rows, blockRows] of [[8, 700, 16], [13, 700, 16], [8, 4500, 16], [13, 4500, 16], [8, 700, 8], [13, 2500, 8]] as const) {
    // One byte of lead-in makes the second pass's rows start off a 4-byte boundary.
    for (const lead of [0, 1]) {
      const all = new Uint8Array(lead + rows * bytes);
      for (let i = 0; i < all.length; i++) all[i] = rng.int(256) & rng.int(256); // about a quarter of bits on
      const codes = all.subarray(lead);
      const counter = new UnitCounter(bytes, blockRows);
      counter.addRows(codes.subarray(0, 300 * bytes), 300);
      counter.addRows(codes.subarray(300 * bytes), rows - 300);
      const got = counter.result();
      // Before the first flush (255 blocks) the counts are 16-bit, after it 32-bit.
      assert.equal(got.constructor, rows < 255 * blockRows ? Uint16Array : Uint32Array);
      for (let b = 0; b < 8 * bytes; b++) {
        let c = 0;
        for (let r = 0; r < rows; r++) c += getBit(codes, r * bytes, b);
        assert.equal(got[b], c, `bytes ${bytes} rows ${rows} block ${blockRows} lead ${lead} bit ${b}`);
      }
      assert.throws(() => counter.addRows(codes.subarray(0, bytes), 1), /after result/);
      assert.throws(() => counter.result(), /called twice/);
    }
  }
});

test('hashWords counts set bits and tells rows apart that differ in one bit', () => {
  const rng = new Rng(9);
  const words = new Int32Array(16);
  for (let i = 0; i < 16; i++) words[i] = rng.int(0x10000) * 0x10000 + rng.int(0x10000);
  const bytes = new Uint8Array(words.buffer);
  const h = hashWords(words, 0, 16);
  let ones = 0;
  for (let i = 0; i < 64; i++) ones += popcountRange(bytes, 0, 8 * i, 8);
  assert.equal(hashWords.popcount, ones);
  const seen = new Set([h]);
  for (let bit = 0; bit < 512; bit++) {
    words[bit >> 5]! ^= 1 << (bit & 31);
    seen.add(hashWords(words, 0, 16));
    words[bit >> 5]! ^= 1 << (bit & 31);
  }
  assert.equal(seen.size, 513);
  assert.equal(hashWords(words, 0, 16), h);
});
