/**
 * HDBSCAN (Campello, Moulavi & Sander 2013; McInnes & Healy's `hdbscan` / scikit-learn's HDBSCAN) on a dense
 * distance matrix:
 *
 *   1. core distance of each point: distance to its min_samples-th nearest point, the point itself counted first;
 *   2. mutual reachability d_mr(a, b) = max(core(a), core(b), d(a, b));
 *   3. minimum spanning tree of d_mr (Prim on the dense matrix, O(n^2));
 *   4. single-linkage tree from the MST edges in ascending order (union-find);
 *   5. condensed tree with min_cluster_size: a split whose both sides have >= min_cluster_size points makes two
 *      new clusters; smaller sides "fall out" of their cluster at lambda = 1 / distance;
 *   6. excess-of-mass selection: stability(C) = sum over its points of (lambda_leave - lambda_birth(C)); bottom
 *      up, a cluster is kept when its stability is at least the sum of its selected descendants'. The root is not
 *      selectable (allow_single_cluster = false, as both libraries' default).
 *
 * Labels are 0..k-1 in order of each cluster's smallest point index; noise is -1. Distance 0 (identical codes)
 * gives lambda = 1 / 1e-12 rather than infinity, so a group of identical points is a maximally stable cluster.
 *
 *   hdbscan(D, { minClusterSize, minSamples? }) -> { labels, nClusters, stability[], probabilities }
 */
import { coreDistances, type DenseDistances } from './hamming';

export interface HdbscanOptions {
  minClusterSize: number;
  /** Default: minClusterSize (as both libraries). */
  minSamples?: number;
}

export interface HdbscanResult {
  labels: Int32Array;
  nClusters: number;
  /** Stability of each selected cluster, by label. */
  stability: number[];
  /** Membership strength in [0, 1] (lambda of the point / max lambda in its cluster); 0 for noise. */
  probabilities: Float64Array;
}

const EPS = 1e-12;

/** Prim's MST of the mutual reachability graph: edges (a[i], b[i], w[i]) for i < n - 1. */
export function mutualReachabilityMst(D: DenseDistances, core: Float64Array): { a: Int32Array; b: Int32Array; w: Float64Array } {
  const { n, d } = D;
  const a = new Int32Array(Math.max(0, n - 1));
  const b = new Int32Array(Math.max(0, n - 1));
  const w = new Float64Array(Math.max(0, n - 1));
  if (n < 2) return { a, b, w };
  const best = new Float64Array(n).fill(Infinity);
  const from = new Int32Array(n).fill(-1);
  // The points not yet in the tree, ascending (removal keeps the order, so ties go to the lowest index as in a
  // scan of all n): each step reads only them, n^2 / 2 reads in all instead of n^2.
  const rest = new Int32Array(n - 1);
  for (let j = 1; j < n; j++) rest[j - 1] = j;
  let left = n - 1;
  let cur = 0;
  for (let e = 0; e < n - 1; e++) {
    const row = cur * n;
    const cc = core[cur]!;
    let next = -1;
    let nextAt = -1;
    let nextW = Infinity;
    for (let r = 0; r < left; r++) {
      const j = rest[r]!;
      let m = d[row + j]!;
      if (cc > m) m = cc;
      const cj = core[j]!;
      if (cj > m) m = cj;
      if (m < best[j]!) {
        best[j] = m;
        from[j] = cur;
      }
      if (best[j]! < nextW) {
        nextW = best[j]!;
        next = j;
        nextAt = r;
      }
    }
    a[e] = from[next]!;
    b[e] = next;
    w[e] = nextW;
    rest.copyWithin(nextAt, nextAt + 1, left);
    left--;
    cur = next;
  }
  return { a, b, w };
}

interface CondensedEdge {
  parent: number;
  child: number; // < n: a point; >= n: a cluster id
  lambda: number;
  size: number;
}

export function hdbscan(D: DenseDistances, opts: HdbscanOptions): HdbscanResult {
  const n = D.n;
  const mcs = Math.max(2, Math.floor(opts.minClusterSize));
  const minSamples = Math.max(1, Math.floor(opts.minSamples ?? mcs));
  if (n < 2) return { labels: new Int32Array(n).fill(-1), nClusters: 0, stability: [], probabilities: new Float64Array(n) };
  const core = coreDistances(D, minSamples);
  const mst = mutualReachabilityMst(D, core);

  // Single-linkage tree: node n + e merges two components at distance w; ties broken by edge order (stable).
  const order = Array.from({ length: n - 1 }, (_, i) => i).sort((x, y) => mst.w[x]! - mst.w[y]! || x - y);
  const parentUf = new Int32Array(2 * n - 1).fill(-1);
  const find = (x: number): number => {
    while (parentUf[x]! >= 0 && parentUf[x] !== x) {
      const p = parentUf[x]!;
      if (parentUf[p]! >= 0 && parentUf[p] !== p) parentUf[x] = parentUf[p]!;
      x = p;
    }
    return x;
  };
  const left = new Int32Array(n - 1);
  const right = new Int32Array(n - 1);
  const dist = new Float64Array(n - 1);
  const size = new Int32Array(2 * n - 1);
  for (let i = 0; i < n; i++) size[i] = 1;
  order.forEach((e, t) => {
    const ra = find(mst.a[e]!);
    const rb = find(mst.b[e]!);
    const node = n + t;
    left[t] = ra;
    right[t] = rb;
    dist[t] = mst.w[e]!;
    size[node] = size[ra]! + size[rb]!;
    parentUf[ra] = node;
    parentUf[rb] = node;
    parentUf[node] = node;
  });
  const root = 2 * n - 2;

  // Condensed tree (iterative, top-down from the root).
  const edges: CondensedEdge[] = [];
  let nextCluster = n; // cluster ids n, n + 1, ...; the root is n
  const rootCluster = nextCluster++;
  const stack: [number, number][] = [[root, rootCluster]];
  const leaves = (node: number, out: number[]): void => {
    const st = [node];
    while (st.length) {
      const x = st.pop()!;
      if (x < n) out.push(x);
      else st.push(left[x - n]!, right[x - n]!);
    }
  };
  while (stack.length) {
    const [node, cluster] = stack.pop()!;
    if (node < n) continue;
    const t = node - n;
    const lambda = 1 / Math.max(dist[t]!, EPS);
    const l = left[t]!;
    const r = right[t]!;
    const ls = size[l]!;
    const rs = size[r]!;
    if (ls >= mcs && rs >= mcs) {
      for (const [c, s] of [[l, ls], [r, rs]] as const) {
        const id = nextCluster++;
        edges.push({ parent: cluster, child: id, lambda, size: s });
        stack.push([c, id]);
      }
    } else {
      for (const [c, s] of [[l, ls], [r, rs]] as const) {
        if (s >= mcs) stack.push([c, cluster]); // the cluster continues in the big side
        else {
          const pts: number[] = [];
          leaves(c, pts);
          for (const p of pts) edges.push({ parent: cluster, child: p, lambda, size: 1 });
        }
      }
    }
  }

  // Stability and birth lambdas.
  const nc = nextCluster - n;
  const birth = new Float64Array(nc);
  const stab = new Float64Array(nc);
  const children: number[][] = Array.from({ length: nc }, () => []);
  for (const e of edges) if (e.child >= n) (birth[e.child - n] = e.lambda), children[e.parent - n]!.push(e.child - n);
  for (const e of edges) stab[e.parent - n]! += (e.lambda - birth[e.parent - n]!) * e.size;

  // Excess of mass, bottom up (children have larger ids than parents).
  const selected = new Uint8Array(nc);
  const subtree = new Float64Array(nc);
  for (let c = nc - 1; c >= 0; c--) {
    const kids = children[c]!;
    const sumKids = kids.reduce((s, k) => s + subtree[k]!, 0);
    if (c === 0) break; // the root is not selectable
    if (kids.length === 0 || stab[c]! >= sumKids) {
      selected[c] = 1;
      subtree[c] = stab[c]!;
      const st = [...kids];
      while (st.length) {
        const k = st.pop()!;
        selected[k] = 0;
        st.push(...children[k]!);
      }
    } else subtree[c] = sumKids;
  }

  // Labels: each point's selected ancestor (the cluster it fell out of, or one above it).
  const parentCluster = new Int32Array(nc).fill(-1);
  for (const e of edges) if (e.child >= n) parentCluster[e.child - n] = e.parent - n;
  const owner = new Int32Array(nc).fill(-1);
  for (let c = 0; c < nc; c++) {
    let x = c;
    while (x >= 0 && !selected[x]) x = parentCluster[x]!;
    owner[c] = x;
  }
  const raw = new Int32Array(n).fill(-1);
  const pointLambda = new Float64Array(n);
  for (const e of edges) {
    if (e.child < n) {
      raw[e.child] = owner[e.parent - n]!;
      pointLambda[e.child] = e.lambda;
    }
  }
  // Relabel 0..k-1 by smallest member index; membership strength from lambdas.
  const map = new Map<number, number>();
  const labels = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const c = raw[i]!;
    if (c < 0) continue;
    if (!map.has(c)) map.set(c, map.size);
    labels[i] = map.get(c)!;
  }
  const stability: number[] = new Array<number>(map.size);
  for (const [c, l] of map) stability[l] = stab[c]!;
  const maxLambda = new Float64Array(map.size);
  for (let i = 0; i < n; i++) if (labels[i]! >= 0) maxLambda[labels[i]!] = Math.max(maxLambda[labels[i]!]!, pointLambda[i]!);
  const probabilities = new Float64Array(n);
  for (let i = 0; i < n; i++) if (labels[i]! >= 0) probabilities[i] = maxLambda[labels[i]!]! > 0 ? Math.min(1, pointLambda[i]! / maxLambda[labels[i]!]!) : 1;
  return { labels, nClusters: map.size, stability, probabilities };
}
