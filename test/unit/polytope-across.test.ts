/**
 * computePolytopeWithAcross (src/core/analyses/polytope-across): the points just across the facets, which the
 * polytope view inspects when a neighbour is clicked, lie in the neighbours' regions. Checked on real fixtures by
 * computing the polytope at each point again: its code is the neighbour's code, and the facet crossed is that
 * polytope's nearest boundary (the point sits just behind it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lens } from '../../src/core/lens';
import { readNpy, toModelInput } from '../../src/core/inputs';
import { computePolytope } from '../../src/core/analyses/polytope';
import { computePolytopeWithAcross } from '../../src/core/analyses/polytope-across';
import { fixture } from '../support/paths';

async function input(lens: Lens, name: string, index: number): Promise<Float32Array> {
  const { data } = toModelInput(readNpy(fixture(`${name}.inputs.npy`)), lens.sampleShape, name);
  return data.slice(index * lens.sampleSize, (index + 1) * lens.sampleSize);
}

for (const [name, index, box] of [['resmlp', 0, undefined], ['mlp', 3, [-4, 4]]] as const) {
  test(`${name}[${index}]: each point across a facet is in its neighbour's region, just behind that facet`, async () => {
    const lens = await Lens.open(fixture(`${name}.onnx`));
    const x = await input(lens, name, index);
    const { result, across } = await computePolytopeWithAcross(lens, x, index, { box: box as [number, number] | undefined });
    const d = result.dim;
    assert.ok(result.neighbours.length > 5, `${result.neighbours.length} neighbours`);
    assert.equal(across.length, result.neighbours.length * d);
    // The same polytope as computePolytope gives (the hook changes nothing).
    const plain = await computePolytope(lens, x, index, { box: box as [number, number] | undefined });
    assert.deepEqual(result.facets, plain.facets);
    assert.deepEqual(result.neighbours, plain.neighbours);
    for (let i = 0; i < result.neighbours.length; i++) {
      const nb = result.neighbours[i]!;
      const p = across.subarray(i * d, (i + 1) * d);
      const gap = Math.hypot(...Array.from(p, (v, k) => v - x[k]!));
      assert.ok(gap > 0, 'a point of its own, not x');
      const there = await computePolytope(lens, p, -1, { box: box as [number, number] | undefined, facets: 'rays', neighbours: false });
      assert.equal(there.code_hex, nb.code_hex, `neighbour ${i} (${nb.layer}#${nb.unit}): the point's code is the neighbour's`);
      assert.equal(`${there.nearest.layer}#${there.nearest.unit}`, `${nb.layer}#${nb.unit}`, `neighbour ${i}: the facet crossed is the nearest boundary`);
      assert.ok(there.nearest.distance < 1e-5, `neighbour ${i}: just across (${there.nearest.distance})`);
    }
  });
}
