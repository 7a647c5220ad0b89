import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashSet53, hashBytes, orBits, popcountRange, toHex } from '../../src/core/bits';
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
