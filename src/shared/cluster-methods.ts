/**
 * The clustering methods as people read them, and the one a cluster result is shown by first: shared by the cluster
 * view (its opening method) and the host (the kept result's line in the model view and side panel).
 */
import type { ClusterMethodKey, ClusterResult } from './results';

/** How each method is named on the page and in the kept results. */
export const METHOD_NAMES: Record<ClusterMethodKey, string> = {
  hdbscan_codes: 'HDBSCAN on codes (Hamming)',
  kmedoids_codes: 'k-medoids on codes (Hamming)',
  hdbscan_activations: 'HDBSCAN on activations (Euclidean)',
  kmedoids_activations: 'k-medoids on activations (Euclidean)',
  pca: 'PCA directions (baseline)',
  nmf: 'NMF directions (baseline)',
};

/**
 * The method that puts most inputs in a cluster of their own label: weighted purity with noise counted as impure
 * (purity x (1 - noise share)), because HDBSCAN's purity leaves its noise out (on the digits HDBSCAN on activations
 * has purity 0.98 with 29 % noise; k-medoids on activations 0.92 with none). Undefined without labels.
 */
export function bestClusterMethod(r: Pick<ClusterResult, 'comparison' | 'methods'>): ClusterMethodKey | undefined {
  let best: { method: ClusterMethodKey; score: number } | undefined;
  for (const row of r.comparison) {
    if (row.weighted_purity === null || !r.methods[row.method]) continue;
    const score = row.weighted_purity * (1 - row.noise_share);
    if (!best || score > best.score) best = { method: row.method, score };
  }
  return best?.method;
}
