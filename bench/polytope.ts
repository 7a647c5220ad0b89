/**
 * Benchmark of `polytope` (issue #17), in process (model already opened; the session, the LP solver and the float64
 * MatMul are part of each call):
 *  - the digits MLP (examples/digits, 64 inputs, 112 units) at test digit 0 in [0, 1]: the whole analysis (every
 *    facet by rays + LPs, neighbours), median of 3 after a warm-up (target < 2 s);
 *  - mnist-8 (784 inputs, 17,984 bits) at a random probe of test/fixtures/mnist8.inputs.npy (row 30) in [0, 255]:
 *    constraints, inradius, nearest boundary and the facets rays find with their neighbours (`--facets rays`,
 *    target < 30 s), then the full facet list (rays, a growing LP per row from its own inputs, then Clarkson LPs for
 *    the rows it leaves undecided) under a 300 s limit (target < 5 min), with how many rows were left untested if
 *    the limit was reached.
 * Writes bench/polytope-results.json with the machine's load average (timings on a shared machine are noisy).
 *
 *   node esbuild.mjs && node out/bench/polytope.js [--skip-full]
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { Lens } from '../src/core/lens';
import { computePolytope } from '../src/core/analyses/polytope';
import { readNpy, toModelInput } from '../src/core/inputs';
import type { PolytopeResult } from '../src/shared/results';

const ROOT = resolve(__dirname, '../..');

async function load(model: string, inputs: string, index: number) {
  const lens = await Lens.open(join(ROOT, model));
  const { data } = toModelInput(readNpy(join(ROOT, inputs)), lens.sampleShape, inputs);
  return { lens, x: data.slice(index * lens.sampleSize, (index + 1) * lens.sampleSize) };
}

function summary(r: PolytopeResult) {
  return {
    precision: r.precision,
    residual: r.residual,
    constraints: r.constraints,
    constant_constraints: r.constant_constraints,
    duplicate_constraints: r.duplicate_constraints,
    facets: r.facets.length,
    facets_complete: r.facets_complete,
    facets_per_layer: r.facets_per_layer,
    inradius: r.inradius,
    nearest: r.nearest,
    bounded: r.bounded,
    neighbours_confirmed: r.neighbours.filter((n) => n.confirmed).length,
    neighbours_other_class: r.neighbours.filter((n) => n.pred !== r.pred).length,
    method: r.method,
    timing: r.timing,
    // Mean seconds per LP (each stage's time includes its ray checks and row bookkeeping).
    local_lp_mean_s: r.method.local_lps ? r.timing.local_s! / r.method.local_lps : null,
    clarkson_lp_mean_s: r.method.lps ? r.timing.clarkson_s! / r.method.lps : null,
    note: r.note,
  };
}

async function main() {
  const skipFull = process.argv.includes('--skip-full');
  const out: Record<string, unknown> = { machine: { cpus: cpus().length, loadavg_before: loadavg() }, date: new Date().toISOString() };

  const digits = await load('examples/digits/digits.onnx', 'examples/digits/digits-x.npy', 0);
  await computePolytope(digits.lens, digits.x, 0, { box: [0, 1] });
  const times: number[] = [];
  let last!: PolytopeResult;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    last = await computePolytope(digits.lens, digits.x, 0, { box: [0, 1] });
    times.push((performance.now() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  out.digits = { model: 'examples/digits/digits.onnx', index: 0, box: [0, 1], seconds_median: times[1], seconds_all: times, target_s: 2, ...summary(last) };
  process.stdout.write(`digits MLP: ${times[1]!.toFixed(2)} s (target < 2 s), ${last.facets.length} facets, inradius ${last.inradius}\n`);

  const mnist = await load('test/fixtures/mnist-8.onnx', 'test/fixtures/mnist8.inputs.npy', 30);
  let t = performance.now();
  const fast = await computePolytope(mnist.lens, mnist.x, 30, { box: [0, 255], facets: 'rays' });
  const fastS = (performance.now() - t) / 1000;
  out.mnist8_rays = { model: 'test/fixtures/mnist-8.onnx', index: 30, box: [0, 255], seconds: fastS, target_s: 30, ...summary(fast) };
  process.stdout.write(`mnist-8, constraints + inradius + nearest + ray facets + neighbours: ${fastS.toFixed(1)} s (target < 30 s), ${fast.facets.length} facets\n`);

  if (!skipFull) {
    t = performance.now();
    const full = await computePolytope(mnist.lens, mnist.x, 30, { box: [0, 255], maxSeconds: 300, neighbours: false });
    const fullS = (performance.now() - t) / 1000;
    out.mnist8_full = { model: 'test/fixtures/mnist-8.onnx', index: 30, box: [0, 255], seconds: fullS, target_s: 300, time_limit_s: 300, ...summary(full) };
    process.stdout.write(`mnist-8, full facet list: ${fullS.toFixed(1)} s (target < 300 s), ${full.facets.length} facets, complete: ${full.facets_complete}, LPs ${full.method.lps}, rows left untested ${full.method.unresolved}, local: ${full.method.local_tested} rows tested, ${full.method.local_facets} facets, ${full.method.local_redundant} redundant\n`);
  }
  out.machine = { ...(out.machine as object), loadavg_after: loadavg() };
  writeFileSync(join(ROOT, 'bench/polytope-results.json'), JSON.stringify(out, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
