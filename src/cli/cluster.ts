/**
 * polytope-lens cluster MODEL (--inputs X.npy | --probes ...) [--labels y.npy] [--layer KEY] [--min-cluster-size M]
 *   [--min-samples S] [--k K] [--top M] [--exemplars E] [--methods a,b] [--seed S] [--limit N] --json
 *
 * Runs in a pool worker (EngineApi.cluster). Codes use the --ops / --layers selection (default: all units); the
 * activation methods use --layer (default: the last selected layer).
 */
import { UserError } from '../core/errors';
import { basename } from 'node:path';
import { readLabels, readLabelsFor, readNpyHeader, sampleCount } from '../core/inputs';
import { CLUSTER_METHODS } from '../core/analyses/cluster';
import { loadSamples, sampleShapeOf } from '../worker/jobs';
import { EnginePool } from '../worker/pool';
import type { ClusterMethodKey, ClusterResult } from '../shared/results';
import type { CliArgs } from './args';
import { inputSource } from './codes';
import { Progress, table } from './format';
import { intFlag } from './path';
import { modelRef } from './summary';
import { plural } from '../shared/glossary';

export const CLUSTER_FLAGS = {
  labels: { type: 'string' },
  layer: { type: 'string' },
  'min-cluster-size': { type: 'string' },
  'min-samples': { type: 'string' },
  k: { type: 'string' },
  top: { type: 'string' },
  exemplars: { type: 'string' },
  methods: { type: 'string' },
} as const;

export function parseMethods(v: string | boolean | undefined): ClusterMethodKey[] | undefined {
  if (v === undefined) return undefined;
  const xs = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : [];
  const bad = xs.filter((x) => !CLUSTER_METHODS.includes(x as ClusterMethodKey));
  if (!xs.length || bad.length) throw new UserError(`--methods takes a comma-separated list of ${CLUSTER_METHODS.join(', ')}${bad.length ? `, not '${bad.join(',')}'` : ''}`);
  return xs as ClusterMethodKey[];
}

export async function runCluster(a: CliArgs): Promise<void> {
  const x = a.flags as Partial<Record<keyof typeof CLUSTER_FLAGS, string | boolean>>;
  const opt = (v: string | boolean | undefined, flag: string, min: number) => (v === undefined ? undefined : intFlag(v, flag, undefined, min));
  const pool = new EnginePool({ workers: 1 });
  try {
    const summary = await pool.summary(modelRef(a));
    const sampleShape = a.inputShape ?? sampleShapeOf(summary);
    const samples = loadSamples(inputSource(a), sampleShape, a.limit);
    let labels: Int32Array | undefined;
    let labelsNote: string | undefined;
    if (typeof x.labels === 'string') {
      // From a .npy, exactly one label per sample of the file (a labels file of other data is refused).
      const file = a.inputs?.toLowerCase().endsWith('.npy') ? a.inputs : undefined;
      ({ labels, note: labelsNote } = file
        ? readLabelsFor(x.labels, sampleCount(readNpyHeader(file).shape, sampleShape, basename(file)), samples.n, basename(file))
        : readLabels(x.labels, samples.n));
    }
    const req = {
      data: samples.data,
      n: samples.n,
      labels,
      inputsNote: samples.note,
      labelsNote,
      layer: typeof x.layer === 'string' ? x.layer : undefined,
      minClusterSize: opt(x['min-cluster-size'], '--min-cluster-size', 2),
      minSamples: opt(x['min-samples'], '--min-samples', 1),
      k: opt(x.k, '--k', 1),
      topM: opt(x.top, '--top', 1),
      exemplars: opt(x.exemplars, '--exemplars', 0),
      seed: a.seed,
      methods: parseMethods(x.methods),
    };
    // Steps (codes, each method, activations) on stderr: a 10,000-input clustering takes several seconds.
    const progress = new Progress('cluster steps', !a.quiet && process.stderr.isTTY === true);
    const r: ClusterResult = await pool.submit((api, progressTask) => api.cluster(modelRef(a), { ops: a.ops, layers: a.layers }, { ...req, progressTask }), undefined, {
      onProgress: (d, t) => progress.update(d, t),
    });
    progress.end();
    process.stdout.write(a.json ? JSON.stringify(r) + '\n' : formatCluster(r));
  } finally {
    await pool.dispose();
  }
}

export function formatCluster(r: ClusterResult): string {
  const f = (v: number | null) => (v === null ? '-' : v.toFixed(3));
  let out = `${r.model}: ${r.inputs_note}${r.labels_note ? `; ${r.labels_note}` : '; no labels'}\n`;
  out += `codes: ${plural(r.code_bits, 'bit')} of ${r.code_layers.map((l) => l.key).join(', ')} (${r.varying_bits} vary); `;
  out += `activations: ${r.activation_layer ? `${r.activation_layer.key} (${r.activation_layer.size} values)` : 'not used'}\n`;
  out += `min_cluster_size ${r.params.min_cluster_size}, min_samples ${r.params.min_samples}, k ${r.params.k}, top-m ${r.params.top_m}, seed ${r.params.seed}\n\n`;
  out += table(
    ['method', 'clusters', 'weighted purity', 'NMI', 'noise', 'seconds'],
    r.comparison.map((c) => [c.method, c.n_clusters, f(c.weighted_purity), f(c.nmi), f(c.noise_share), c.seconds.toFixed(2)]),
  );
  for (const c of r.comparison) {
    const note = r.methods[c.method]?.note;
    if (note && c.n_clusters === 0) out += `\n${c.method}: ${note}\n`;
  }
  out += `\n${r.conventions}\n`;
  return out;
}
