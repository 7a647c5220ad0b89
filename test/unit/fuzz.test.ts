/**
 * Fuzzing in CI: 300 deterministic mutants (seed 20250101) of the fixture models, each run through the engine in
 * a pool worker inside a child process (tools/fuzz-run.ts). No mutant may take the host process down or end in an
 * unclear error. The full run is `npm run fuzz -- --n 10000 --seed 1` (bench/fuzz-results.json).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import { UserError } from '../../src/core/errors';
import { mutant } from '../../tools/fuzz-mutate';
import { formatReport, fuzz, loadSeeds, unclearReason } from '../../tools/fuzz-run';
import { ROOT } from '../support/paths';

test('the mutator is deterministic and mutates', () => {
  const seeds = loadSeeds(ROOT);
  assert.ok(seeds.length >= 10, 'seed models');
  let changed = 0;
  let proto = 0;
  for (let id = 0; id < 200; id++) {
    const a = mutant(seeds, 5, id);
    const b = mutant(seeds, 5, id);
    assert.deepEqual([a.seed, a.ops, Buffer.from(a.bytes)], [b.seed, b.ops, Buffer.from(b.bytes)]);
    const base = seeds.find((s) => s.name === a.seed)!;
    if (!Buffer.from(a.bytes).equals(Buffer.from(base.bytes))) changed++;
    if (a.ops.some((o) => /dim|type|attr|opset|ir_version|input|output|initializer|node|op /.test(o))) proto++;
  }
  assert.ok(changed >= 190, `only ${changed} of 200 mutants differ from their seed`);
  assert.ok(proto >= 80, `only ${proto} of 200 mutants have protobuf-field mutations`);
  // A protobuf-level mutant still decodes.
  const m = Array.from({ length: 50 }, (_, id) => mutant(seeds, 5, id)).find((x) => x.ops.some((o) => o.startsWith('dim of')))!;
  assert.ok(onnx.ModelProto.decode(m.bytes).graph);
});

test('unclear messages are recognised', () => {
  assert.equal(unclearReason(new UserError('m.onnx: dimension 2^40 of input \'x\' is too large.'), 'm.onnx'), undefined);
  assert.match(unclearReason(new RangeError('Invalid typed array length: 4'), 'm.onnx')!, /not a UserError/);
  assert.match(unclearReason(new UserError('m.onnx: Cannot read properties of undefined'), 'm.onnx')!, /generic/);
  assert.match(unclearReason(new UserError('m.onnx: std::bad_alloc'), 'm.onnx')!, /generic/);
  assert.match(unclearReason(new UserError('the model is broken.'), 'm.onnx')!, /does not name the model/);
  // Control characters read from a file are escaped by UserError itself, so a message stays one line.
  assert.equal(new UserError("input 'a\nb'").message, "input 'a\\x0ab'");
});

test('300 seeded mutants: no host death, no unclear error', { timeout: 240_000 }, async () => {
  const r = await fuzz({ root: ROOT, script: join(ROOT, 'out/tools/fuzz.js'), n: 300, seed: 20250101, jobs: 2, batch: 75, timeoutMs: 60_000 });
  const report = formatReport(r);
  assert.equal(r.cases.length, 300, report);
  assert.equal(r.counts['host died'], 0, report);
  assert.equal(r.counts['unclear error'], 0, report);
  assert.equal(r.counts.timeout, 0, report);
  assert.ok(r.counts.result > 0 && r.counts['clear error'] > 0, report);
});
