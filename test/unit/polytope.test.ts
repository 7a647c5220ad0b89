/**
 * `polytope` (issue #17) against an independent float64 computation: test/fixtures/polytope_reference.py loads the
 * fixtures' weights into PyTorch, takes the exact Jacobian of every pre-activation by autograd in float64, and finds
 * facets (one LP per row) and the Chebyshev centre with scipy's HiGHS (test/fixtures/polytope.expected.json).
 *
 * Tolerances: float64 models (MLPs): the same facet set, inradius and distances to 1e-7 relative (the engine's
 * affine forms are difference quotients in float64, ~1e-14 relative; the LPs solve to HiGHS's 1e-7 feasibility).
 * The CNN runs in float32 (onnxruntime has no double Conv): inradius and nearest distance to 1e-3 relative,
 * and every facet its rays find is a reference facet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Lens } from '../../src/core/lens';
import { isUserError } from '../../src/core/errors';
import { readNpy, toModelInput } from '../../src/core/inputs';
import { CodeExtractor } from '../../src/core/extract';
import { toHex } from '../../src/core/bits';
import { comparePolytopes, computePolytope } from '../../src/core/analyses/polytope';
import { deciderScript, RowDecider } from '../../src/core/analyses/row-deciders';
import { join } from 'node:path';
import { fixture, ROOT } from '../support/paths';

interface RefCase {
  model: string;
  index: number;
  box: [number, number] | null;
  dim: number;
  pred: number;
  constraints: number;
  facets: { layer: string; unit: number; distance: number }[];
  inradius: number | null;
  nearest: { layer: string; unit: number; distance: number };
}
const REF = JSON.parse(readFileSync(fixture('polytope.expected.json'), 'utf8')) as { cases: RefCase[] };

async function input(lens: Lens, name: string, index: number): Promise<Float32Array> {
  const { data } = toModelInput(readNpy(fixture(`${name}.inputs.npy`)), lens.sampleShape, name);
  return data.slice(index * lens.sampleSize, (index + 1) * lens.sampleSize);
}

const close = (a: number, b: number, rel: number, what: string) => assert.ok(Math.abs(a - b) <= rel * Math.max(Math.abs(b), 1e-12), `${what}: ${a} vs reference ${b}`);

for (const ref of REF.cases.filter((c) => c.model !== 'cnn')) {
  test(`polytope ${ref.model}[${ref.index}]${ref.box ? ` in [${ref.box}]` : ''}: facets, inradius and nearest boundary equal the float64 reference`, async () => {
    const lens = await Lens.open(fixture(`${ref.model}.onnx`));
    const x = await input(lens, ref.model, ref.index);
    const r = await computePolytope(lens, x, ref.index, { box: ref.box ?? undefined });
    assert.equal(r.precision, 'float64');
    assert.equal(r.dim, ref.dim);
    assert.equal(r.pred, ref.pred);
    assert.equal(r.constraints, ref.constraints);
    assert.ok(r.residual < 1e-9, `affine residual ${r.residual}`);
    assert.equal(r.facets_complete, true);
    const key = (f: { layer: string; unit: number }) => `${f.layer}#${f.unit}`;
    assert.deepEqual(r.facets.map(key).sort(), ref.facets.map(key).sort());
    const refDist = new Map(ref.facets.map((f) => [key(f), f.distance]));
    for (const f of r.facets) close(f.distance, refDist.get(key(f))!, 1e-7, `distance to ${key(f)}`);
    assert.equal(key(r.nearest), key(ref.nearest));
    close(r.nearest.distance, ref.nearest.distance, 1e-7, 'nearest distance');
    if (ref.inradius === null) {
      assert.equal(r.inradius, null);
      assert.match(r.note ?? '', /balls of any radius/);
    } else {
      close(r.inradius!, ref.inradius, 1e-7, 'inradius');
      // The centre is inside the box and at least the inradius away from every facet's hyperplane.
      const c = r.chebyshev_center!;
      assert.ok(c.every((v) => v >= ref.box![0] - 1e-9 && v <= ref.box![1] + 1e-9));
    }
    // Facets are sorted by distance; the nearest boundary is the first facet.
    assert.equal(key(r.facets[0]!), key(r.nearest));
    for (let i = 1; i < r.facets.length; i++) assert.ok(r.facets[i]!.distance >= r.facets[i - 1]!.distance);
  });
}

test('polytope neighbours: the point across each facet differs from the input in that facet\'s bit only, and its code and class are what the code extractor says there', async () => {
  const lens = await Lens.open(fixture('mlp.onnx'));
  const x = await input(lens, 'mlp', 3);
  const r = await computePolytope(lens, x, 3, { box: [-4, 4] });
  assert.equal(r.neighbours.length, r.facets.length);
  const ex = await CodeExtractor.create(lens, lens.layers);
  const base = await ex.run(x, 1);
  await ex.dispose();
  assert.equal(r.code_hex, toHex(base.codes, 0, ex.codeBytes));
  for (const n of r.neighbours) {
    assert.equal(n.confirmed, true, `${n.layer}#${n.unit}`);
    assert.equal(n.flipped_bits, 1);
    // The flipped bit is the facet's unit.
    const offset = r.layers.find((l) => l.key === n.layer)!.offset + n.unit;
    const a = Buffer.from(r.code_hex, 'hex');
    const b = Buffer.from(n.code_hex, 'hex');
    assert.notEqual((a[offset >> 3]! >> (7 - (offset & 7))) & 1, (b[offset >> 3]! >> (7 - (offset & 7))) & 1);
  }
  // Some neighbour of a region near a decision boundary may change class; every class is a valid output index.
  assert.ok(r.neighbours.every((n) => n.pred >= 0 && n.pred < 4));
});

test('polytope of the CNN (Conv, BatchNorm, MaxPool, float32): inradius and nearest boundary match the float64 reference, ray facets are reference facets', async () => {
  const ref = REF.cases.find((c) => c.model === 'cnn')!;
  const lens = await Lens.open(fixture('cnn.onnx'));
  const x = await input(lens, 'cnn', ref.index);
  const r = await computePolytope(lens, x, ref.index, { box: ref.box!, facets: 'rays' });
  assert.equal(r.precision, 'float32');
  assert.match(r.note ?? '', /float32 used: the polytope is approximate/);
  assert.equal(r.constraints, ref.constraints);
  assert.equal(r.facets_complete, false);
  close(r.inradius!, ref.inradius!, 1e-3, 'inradius');
  assert.equal(`${r.nearest.layer}#${r.nearest.unit}`, `${ref.nearest.layer}#${ref.nearest.unit}`);
  close(r.nearest.distance, ref.nearest.distance, 1e-3, 'nearest distance');
  const refSet = new Set(ref.facets.map((f) => `${f.layer}#${f.unit}`));
  const missing = r.facets.filter((f) => !refSet.has(`${f.layer}#${f.unit}`) && !(f.also ?? []).some((a) => refSet.has(`${a.layer}#${a.unit}`)));
  assert.deepEqual(missing, []);
  assert.ok(r.facets.length > 50, `${r.facets.length} facets found by rays`);
  assert.ok(r.neighbours.filter((n) => n.confirmed).length >= 0.95 * r.neighbours.length);
});

test('polytope facets with the growing LPs (local-facets.ts), on one thread and with two helper threads, equal the plain method (rays, then Clarkson for every other row) on the MLP fixtures and the digits MLP', async () => {
  const cases: { model: string; inputs: string; index: number; box: [number, number] }[] = [
    ...REF.cases.filter((c) => c.model !== 'cnn' && c.box).map((c) => ({ model: fixture(`${c.model}.onnx`), inputs: fixture(`${c.model}.inputs.npy`), index: c.index, box: c.box! })),
    { model: join(ROOT, 'examples/digits/digits.onnx'), inputs: join(ROOT, 'examples/digits/digits-x.npy'), index: 0, box: [0, 1] },
  ];
  for (const c of cases) {
    const lens = await Lens.open(c.model);
    const { data } = toModelInput(readNpy(c.inputs), lens.sampleShape, c.inputs);
    const x = data.slice(c.index * lens.sampleSize, (c.index + 1) * lens.sampleSize);
    const local = await computePolytope(lens, x, c.index, { box: c.box, neighbours: false, lpThreads: 3 });
    const single = await computePolytope(lens, x, c.index, { box: c.box, neighbours: false, lpThreads: 1 });
    const plain = await computePolytope(lens, x, c.index, { box: c.box, neighbours: false, local: false });
    const key = (f: { layer: string; unit: number }) => `${f.layer}#${f.unit}`;
    assert.equal(local.facets_complete, true);
    assert.equal(plain.facets_complete, true);
    assert.deepEqual(local.facets.map(key).sort(), plain.facets.map(key).sort(), c.model);
    assert.deepEqual(single.facets.map(key).sort(), plain.facets.map(key).sort(), c.model);
    // The helpers (out/worker/row-decider.js) decided rows; one thread means none.
    assert.equal(local.method.local_threads, 3);
    assert.ok(local.method.local_helper_rows! > 0, JSON.stringify(local.method));
    assert.equal(single.method.local_threads, 1);
    assert.equal(single.method.local_helper_rows, 0);
    // The local stage ran and decided rows.
    assert.ok(local.method.local_tested! > 0 && local.method.local_facets! + local.method.local_redundant! > 0, `${c.model}: ${JSON.stringify(local.method)}`);
    assert.equal(plain.method.local_tested, 0);
  }
});

test('polytope facets with the second pass (one LP over the facets found, every input free) for the rows a growing LP would free too many inputs for: the same set as the plain method, on one thread and with helpers (digits MLP)', async () => {
  const lens = await Lens.open(join(ROOT, 'examples/digits/digits.onnx'));
  const { data } = toModelInput(readNpy(join(ROOT, 'examples/digits/digits-x.npy')), lens.sampleShape, 'digits');
  const x = data.slice(0, lens.sampleSize);
  const key = (f: { layer: string; unit: number }) => `${f.layer}#${f.unit}`;
  const plain = await computePolytope(lens, x, 0, { box: [0, 1], neighbours: false, local: false });
  // localMaxFree 0: every row that its first growing LP (25 inputs free) does not decide goes to the second pass.
  for (const lpThreads of [1, 3]) {
    const r = await computePolytope(lens, x, 0, { box: [0, 1], neighbours: false, lpThreads, localMaxFree: 0 });
    assert.equal(r.facets_complete, true);
    assert.ok(r.method.local_over_facets! >= 20, `the second pass decided rows (${JSON.stringify(r.method)})`);
    assert.deepEqual(r.facets.map(key).sort(), plain.facets.map(key).sort(), `${lpThreads} thread(s)`);
  }
});

test('polytope of the CNN, full facet list with the growing LPs: the same facet set as the float64 LP-per-row reference, so neither the box filter nor the local redundancy proofs dropped a facet', async () => {
  const ref = REF.cases.find((c) => c.model === 'cnn')!;
  const lens = await Lens.open(fixture('cnn.onnx'));
  const x = await input(lens, 'cnn', ref.index);
  const r = await computePolytope(lens, x, ref.index, { box: ref.box!, neighbours: false });
  assert.equal(r.facets_complete, true, r.note);
  // Rows equal up to float32 rounding are one hyperplane: a facet matches the reference through any of its units.
  const refSet = new Set(ref.facets.map((f) => `${f.layer}#${f.unit}`));
  const matched = new Set<string>();
  for (const f of r.facets) {
    const hit = [f, ...(f.also ?? [])].map((u) => `${u.layer}#${u.unit}`).find((k) => refSet.has(k));
    assert.ok(hit, `facet ${f.layer}#${f.unit} is not a reference facet`);
    matched.add(hit);
  }
  assert.equal(r.facets.length, ref.facets.length);
  assert.equal(matched.size, ref.facets.length);
  // Each stage contributed: rays, the growing LPs with facets and redundancy proofs, and the LPs over the facets
  // found for the rows whose growing LP would free more than a quarter of the inputs.
  assert.ok(r.method.ray_facets > 0 && r.method.local_facets! > 0 && r.method.local_redundant! > 0 && r.method.local_over_facets! > 0, JSON.stringify(r.method));
});

test('polytope: a row LP that HiGHS stops at its time limit leaves its row undecided; the list says it is incomplete, on one thread and with a helper', async () => {
  const ref = REF.cases.find((c) => c.model === 'cnn')!;
  const lens = await Lens.open(fixture('cnn.onnx'));
  const x = await input(lens, 'cnn', ref.index);
  for (const lpThreads of [1, 2]) {
    // A zero limit stops every run that needs a simplex iteration (a run whose first basis is optimal still ends).
    const r = await computePolytope(lens, x, ref.index, { box: ref.box!, neighbours: false, lpThreads, rowLpSeconds: 0 });
    assert.equal(r.facets_complete, false, JSON.stringify(r.method));
    assert.ok(r.facets.length < ref.facets.length, `${r.facets.length} facets of ${ref.facets.length}`);
    assert.match(r.note ?? '', /did not end optimal \(numerical trouble, or a run over 0 s\)/);
    // What the rays found stands: every facet is a reference facet.
    const refSet = new Set(ref.facets.map((f) => `${f.layer}#${f.unit}`));
    assert.ok(r.facets.length >= r.method.ray_facets && r.facets.every((f) => [f, ...(f.also ?? [])].some((u) => refSet.has(`${u.layer}#${u.unit}`))));
  }
});

test('polytope: a model with a smooth layer, and a box that excludes the input, are refused with one sentence', async () => {
  const gelu = await Lens.open(fixture('gelu_tf.onnx'));
  await assert.rejects(computePolytope(gelu, new Float32Array(gelu.sampleSize), 0), (e: unknown) => isUserError(e) && /Gelu layer .* smooth nonlinearity: its regions are not polytopes/.test((e as Error).message));
  const lens = await Lens.open(fixture('mlp.onnx'));
  const x = await input(lens, 'mlp', 3);
  await assert.rejects(computePolytope(lens, x, 3, { box: [0, 1] }), (e: unknown) => isUserError(e) && /Input 3 lies outside --box 0,1/.test((e as Error).message));
});

test('polytope --compare: distributions per group, one entry per input', async () => {
  const lens = await Lens.open(fixture('mlp.onnx'));
  const s = lens.sampleSize;
  const { data } = toModelInput(readNpy(fixture('mlp.inputs.npy')), lens.sampleShape, 'mlp');
  const r = await comparePolytopes(lens, [
    { name: 'data', data: data.slice(0, 3 * s), indices: [0, 1, 2] },
    { name: 'far', data: data.slice(0, 3 * s).map((v) => 3 * v), indices: [0, 1, 2] },
  ], { box: [-12, 12], rays: 16 });
  assert.deepEqual(r.groups.map((g) => [g.name, g.n, g.per_input.length]), [['data', 3, 3], ['far', 3, 3]]);
  for (const g of r.groups) {
    assert.equal(g.facets.n, 3);
    assert.ok(g.inradius.min! <= g.inradius.median! && g.inradius.median! <= g.inradius.max!);
    assert.ok(g.per_input.every((p) => p.facets > 0 && p.nearest > 0));
  }
});

test('polytope helper threads: the built script is found beside the bundles, and a helper that dies answers every row it holds and every later one with its error, so those rows go on undecided instead of hanging', async () => {
  assert.match(deciderScript() ?? '', /[\\/]out[\\/]worker[\\/]row-decider\.js$/);
  const dir = mkdtempSync(join(tmpdir(), 'polytope-lens-decider-'));
  const script = join(dir, 'dies.js');
  // Dies after its first task arrives, as a thread that runs out of memory inside HiGHS would.
  writeFileSync(script, "require('node:worker_threads').parentPort.on('message', () => { throw new Error('boom in the helper'); });");
  const rows = { start: new Int32Array(1), cols: new Int32Array(0), vals: new Float64Array(0), colStart: new Int32Array(1), colRows: new Int32Array(0), colVals: new Float64Array(0) };
  const helper = new RowDecider(script, { rows, gc: new Float64Array(0), c: new Float64Array(0), alive: new Uint8Array(0), rep: new Int32Array(0), lo: 0, hi: 1, tol: 1e-9, seconds: 1 });
  try {
    const [a, b] = await Promise.all([helper.decide({ i: 3, maxFree: 8 }), helper.decide({ i: 4, maxFree: 8 })]);
    assert.match(a.error ?? '', /boom in the helper/);
    assert.match(b.error ?? '', /boom in the helper/);
    assert.equal(helper.pending, 0);
    const later = await helper.decide({ i: 5, maxFree: 8 });
    assert.equal(later.i, 5);
    assert.match(later.error ?? '', /boom in the helper/);
    assert.equal(later.decision.redundant, undefined);
    assert.equal(later.decision.y, undefined);
  } finally {
    await helper.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
});
