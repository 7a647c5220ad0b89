/**
 * Layer statistics against PyTorch: per-unit active fractions, dead and always-on units computed by the
 * StatsAccumulator from the engine's packed codes equal those counted directly from the codes PyTorch forward hooks
 * produced (test/fixtures/*.expected.json). The stream is fed in uneven batches, repeated past 255 rows so the
 * bit-sliced counters flush.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Lens } from '../../src/core/lens';
import { CodeExtractor } from '../../src/core/extract';
import { StatsAccumulator } from '../../src/core/stats';
import { readNpy, toModelInput } from '../../src/core/inputs';
import { ACTIVE_HISTOGRAM_BINS } from '../../src/shared/results';
import { fixture } from '../support/paths';

const REPEATS = 5;

/** On-count of each unit over the PyTorch codes, bit by bit from the hex strings (MSB first). */
function torchCounts(codesHex: string[], units: number): number[] {
  const counts = new Array<number>(units).fill(0);
  for (const hex of codesHex) {
    for (let u = 0; u < units; u++) if ((parseInt(hex.slice(2 * (u >> 3), 2 * (u >> 3) + 2), 16) >> (7 - (u & 7))) & 1) counts[u]!++;
  }
  return counts;
}

for (const name of ['mlp', 'cnn', 'mixed']) {
  test(`${name}: active-fraction histograms, dead and always-on units equal counts over the PyTorch codes`, async () => {
    const expected = JSON.parse(readFileSync(fixture(`${name}.expected.json`), 'utf8')) as { total_units: number; codes_hex: string[] };
    const lens = await Lens.open(fixture(`${name}.onnx`));
    const { n, data } = toModelInput(readNpy(fixture(`${name}.inputs.npy`)), lens.sampleShape, name);
    const ex = await CodeExtractor.create(lens, lens.layers);
    const layers = lens.summary().layers;
    const acc = new StatsAccumulator(layers, ex.codeBytes);
    const size = lens.sampleShape.reduce((a, b) => a * b, 1);
    // Uneven batches: 7 samples, then the rest; the whole set REPEATS times (more than 255 rows in all).
    for (let r = 0; r < REPEATS; r++) {
      acc.add(await ex.run(data.subarray(0, 7 * size), 7));
      acc.add(await ex.run(data.subarray(7 * size), n - 7));
    }
    await ex.dispose();
    assert.ok(REPEATS * n > 255);

    const counts = torchCounts(expected.codes_hex, expected.total_units).map((c) => c * REPEATS);
    const total = REPEATS * n;
    const stats = acc.result();
    for (const [l, layer] of layers.entries()) {
      const mine = counts.slice(layer.offset, layer.offset + layer.units);
      const hist = new Array<number>(ACTIVE_HISTOGRAM_BINS).fill(0);
      for (const c of mine) hist[Math.min(ACTIVE_HISTOGRAM_BINS - 1, Math.floor((c / total) * ACTIVE_HISTOGRAM_BINS))]!++;
      const s = stats[l]!;
      assert.deepEqual(s.active_histogram, hist, `${layer.key}: histogram`);
      assert.equal(s.dead_units, mine.filter((c) => c === 0).length, `${layer.key}: dead`);
      assert.equal(s.always_on_units, mine.filter((c) => c === total).length, `${layer.key}: always on`);
      assert.ok(Math.abs(s.active_fraction - mine.reduce((a, b) => a + b, 0) / (total * layer.units)) < 1e-12, `${layer.key}: active fraction`);
      assert.equal(s.active_histogram.reduce((a, b) => a + b, 0), layer.units);
    }
  });
}
