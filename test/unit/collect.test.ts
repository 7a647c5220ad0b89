import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exposeGc, GarbageBudget } from '../../src/core/collect';

/** The most ArrayBuffer bytes alive at once while `count` buffers of 1 MiB are made and dropped, one by one. */
function peakArrayBuffers(count: number, budget: GarbageBudget | undefined): number {
  let peak = 0;
  for (let i = 0; i < count; i++) {
    const b = new Uint8Array(2 ** 20).fill(i & 255);
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    budget?.add(b.byteLength);
  }
  return peak;
}

test('GarbageBudget: dead buffers are collected once the budget is reached, in a process that exposes gc', () => {
  exposeGc();
  (globalThis as { gc?: () => void }).gc!();
  const base = process.memoryUsage().arrayBuffers;
  const MB = 2 ** 20;
  const without = peakArrayBuffers(256, undefined) - base;
  (globalThis as { gc?: () => void }).gc!();
  const withBudget = peakArrayBuffers(256, new GarbageBudget(8 * MB)) - base;
  // V8 alone let 37 MiB of dead buffers pile up here; with the budget, at most the budget plus the buffers freed
  // by the previous collection, which V8 releases lazily (16 MiB here).
  assert.ok(withBudget <= 18 * MB, `with an 8 MiB budget ${withBudget / MB} MiB of buffers were alive at once`);
  assert.ok(without >= withBudget + 8 * MB, `without a budget only ${without / MB} MiB were alive at once (with: ${withBudget / MB})`);
});
