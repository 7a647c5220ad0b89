/**
 * The polytope of one point together with the points just across its facets, for a view that lets the user step
 * into a neighbour: computePolytope (polytope.ts) evaluates one such point per facet to confirm the neighbour, and
 * hands each to the onAcross hook; here they are kept, in the order of the result's `neighbours`, packed as
 * neighbours x d float64 values (the points lie within about 1e-7 of the box's scale of the facet, below float32
 * resolution, so they stay float64).
 */
import type { Lens } from '../lens';
import type { PolytopeResult } from '../../shared/results';
import { computePolytope, type PolytopeOptions } from './polytope';

export interface PolytopeWithAcross {
  result: PolytopeResult;
  /** Row i: the point just across the facet of result.neighbours[i] (inside that neighbour's region when confirmed). */
  across: Float64Array;
}

export async function computePolytopeWithAcross(lens: Lens, x: Float32Array | Float64Array, index: number, opts: Omit<PolytopeOptions, 'onAcross'> = {}): Promise<PolytopeWithAcross> {
  const points = new Map<string, Float64Array>();
  const keyOf = (layer: string, unit: number) => `${layer}#${unit}`;
  const result = await computePolytope(lens, x, index, { ...opts, onAcross: (f, p) => points.set(keyOf(f.layer, f.unit), Float64Array.from(p)) });
  const d = result.dim;
  const across = new Float64Array(result.neighbours.length * d);
  result.neighbours.forEach((n, i) => {
    const p = points.get(keyOf(n.layer, n.unit));
    if (p) across.set(p, i * d);
  });
  return { result, across };
}
