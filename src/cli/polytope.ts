/**
 * polytope-lens polytope MODEL --inputs X.npy --index I [--box LO,HI] [--facets full|rays] [--rays N] [--time-limit S] [--json]
 * polytope-lens polytope MODEL --compare GROUP,... [--inputs X.npy] [--labels y.npy] [--n N] [--box LO,HI] [--json]
 *
 * Compare groups: NAME=FILE.npy (its first --n inputs), uniform or gaussian (--n seeded probes; uniform in --box,
 * else [--lo, --hi)), correct and misclassified (the first --n inputs of --inputs that the model gets right or
 * wrong against --labels).
 */
import { UserError } from '../core/errors';
import { loadInputs, makeProbes, readLabels } from '../core/inputs';
import type { PolytopeCompareResult, PolytopeDistribution, PolytopeResult } from '../shared/results';
import type { CompareGroupInput } from '../core/analyses/polytope';
import { EnginePool } from '../worker/pool';
import type { CliArgs } from './args';
import { Progress, table } from './format';
import { extraFlags, intFlag, precisionFlag } from './path';
import { modelRef } from './summary';
import { elementCount } from '../shared/shape';

export const POLYTOPE_FLAGS = {
  index: { type: 'string' },
  box: { type: 'string' },
  facets: { type: 'string' },
  rays: { type: 'string' },
  compare: { type: 'string' },
  'time-limit': { type: 'string' },
  'lp-threads': { type: 'string' },
  'no-neighbours': { type: 'boolean' },
} as const;

function polytopeFlags(a: CliArgs) {
  return a.flags as Partial<Record<keyof typeof POLYTOPE_FLAGS, string | boolean>>;
}

export function parseBox(v: string | boolean | undefined): [number, number] | undefined {
  if (v === undefined) return undefined;
  const parts = typeof v === 'string' ? v.split(',').map((s) => Number(s.trim())) : [];
  if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[0]! < parts[1]!)) throw new UserError(`--box needs two numbers LO,HI with LO < HI, not '${String(v)}'`);
  return [parts[0]!, parts[1]!];
}

export async function runPolytope(a: CliArgs): Promise<void> {
  const f = polytopeFlags(a);
  const x = extraFlags(a);
  const box = parseBox(f.box);
  if (f.facets !== undefined && f.facets !== 'full' && f.facets !== 'rays') throw new UserError(`--facets must be full or rays, not '${String(f.facets)}'`);
  const params = {
    box,
    precision: precisionFlag(x.precision),
    facets: f.facets as 'full' | 'rays' | undefined,
    rays: f.rays === undefined ? undefined : intFlag(f.rays, '--rays', undefined, 0),
    maxSeconds: f['time-limit'] === undefined ? undefined : intFlag(f['time-limit'], '--time-limit', undefined, 1),
    lpThreads: f['lp-threads'] === undefined ? undefined : intFlag(f['lp-threads'], '--lp-threads', undefined, 1),
    seed: a.seed,
  };
  const pool = new EnginePool({ workers: 1 });
  const progress = new Progress('polytope', !a.quiet && process.stderr.isTTY === true);
  try {
    if (f.compare !== undefined) {
      if (typeof f.compare !== 'string' || !f.compare.trim()) throw new UserError('--compare needs groups, e.g. train=train.npy,test=test.npy,uniform');
      const summary = await pool.summary(modelRef(a), {});
      const shape = summary.inputs[0]!.shape.slice(1).map((s, i) => (typeof s === 'number' ? s : a.inputShape?.[i] ?? 0));
      const groups = compareGroups(a, f.compare, shape, box, typeof x.labels === 'string' ? x.labels : undefined);
      const r = await pool.submit((api, progressTask) => api.polytopeCompare(modelRef(a), { ...params, groups, progressTask }), undefined, { onProgress: (d, t) => progress.update(d, t) });
      progress.end();
      process.stdout.write(a.json ? JSON.stringify(r) + '\n' : formatCompare(r));
      return;
    }
    if (!a.inputs) throw new UserError(`'polytope' needs inputs: --inputs FILE.npy (or a folder of images) and --index I`);
    const index = intFlag(f.index, '--index', undefined, 0);
    // Ctrl-C during a full facet list stops its LPs and prints the facets found so far; a second Ctrl-C quits.
    let stop: (() => Promise<boolean>) | undefined;
    let stopping = false;
    const quit = (): never => {
      for (const pid of pool.pids) process.kill(pid, 'SIGKILL');
      process.exit(130);
    };
    const onInterrupt = () => {
      if (stopping || !stop) return quit();
      stopping = true;
      progress.end();
      process.stderr.write('polytope: stopping the facet LPs; the facets found so far follow (Ctrl-C again to quit)\n');
      void stop().catch(() => undefined);
    };
    if (params.facets !== 'rays') process.on('SIGINT', onInterrupt);
    let r: PolytopeResult;
    try {
      r = await pool.submit(
        (api, progressTask) => ((stop = () => api.stopPolytope(progressTask)), api.polytope(modelRef(a), { ...params, inputs: a.inputs, index, neighbours: f['no-neighbours'] !== true, progressTask })),
        undefined,
        { onProgress: (d, t) => progress.update(d, t) },
      );
    } catch (e) {
      // A Ctrl-C that came before the worker took the run ended the worker with it.
      if (stopping) {
        process.stderr.write('polytope: interrupted\n');
        process.exit(130);
      }
      throw e;
    } finally {
      process.off('SIGINT', onInterrupt);
    }
    // A second Ctrl-C that comes after the stopped run has returned still quits (instead of the default handler
    // killing the process by the signal).
    if (stopping) process.on('SIGINT', quit);
    progress.end();
    process.stdout.write(a.json ? JSON.stringify(r) + '\n' : formatPolytope(r));
  } finally {
    await pool.dispose();
  }
}

/** The groups of --compare, loaded here (a group is at most --n inputs). */
function compareGroups(a: CliArgs, spec: string, shape: number[], box: [number, number] | undefined, labelsPath: string | undefined): CompareGroupInput[] {
  const n = a.flags.n !== undefined ? a.n : 20;
  const size = elementCount(shape);
  const out: CompareGroupInput[] = [];
  let source: { n: number; data: Float32Array } | undefined;
  const fromInputs = () => {
    if (!a.inputs) throw new UserError(`--compare correct/misclassified needs --inputs X.npy and --labels y.npy`);
    source ??= loadInputs(a.inputs, shape);
    return source;
  };
  for (const raw of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = raw.indexOf('=');
    if (eq > 0) {
      const name = raw.slice(0, eq);
      const file = raw.slice(eq + 1);
      const s = loadInputs(file, shape);
      const m = Math.min(n, s.n);
      out.push({ name, data: s.data.slice(0, m * size), indices: Array.from({ length: m }, (_, i) => i) });
    } else if (raw === 'uniform' || raw === 'gaussian') {
      const kind = raw === 'uniform' ? { type: 'uniform' as const, lo: box?.[0] ?? a.lo, hi: box?.[1] ?? a.hi } : { type: 'gaussian' as const };
      out.push({ name: raw, data: makeProbes(kind, n, shape, a.seed), indices: Array.from({ length: n }, (_, i) => i) });
    } else if (raw === 'correct' || raw === 'misclassified') {
      const s = fromInputs();
      if (!labelsPath) throw new UserError(`--compare ${raw} needs --labels y.npy (the true class of each input)`);
      const { labels } = readLabels(labelsPath, s.n);
      // The worker keeps the first n inputs whose prediction agrees (correct) or not (misclassified) with the label.
      out.push({ name: raw, data: s.data, indices: Array.from({ length: s.n }, (_, i) => i), labels: Int32Array.from(labels), filter: raw, limit: n });
    } else throw new UserError(`--compare group '${raw}' is not NAME=FILE.npy, uniform, gaussian, correct or misclassified`);
  }
  return out;
}

const fmt = (v: number | null) => (v === null ? '-' : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4));

export function formatPolytope(r: PolytopeResult): string {
  let out = `${r.model}: polytope of input ${r.index} (class ${r.pred}) in ${r.dim} dimensions${r.box ? `, clipped to [${r.box[0]}, ${r.box[1]}]` : ''} (${r.precision}; affine residual ${r.residual.toExponential(2)})\n`;
  out += `${r.constraints} constraints (${r.constant_constraints} constant inside the region, ${r.duplicate_constraints} duplicates); ${r.facets.length} facets${r.facets_complete ? '' : ' (list may be incomplete)'}; ${r.bounded ? 'bounded' : 'not bounded'} by its facets${r.box ? ' within the box' : ''}\n`;
  out += `inradius ${fmt(r.inradius)}; nearest boundary ${fmt(r.nearest.distance)} (${r.nearest.layer} unit ${r.nearest.unit})\n`;
  if (r.note) out += `note: ${r.note}\n`;
  out += `\n` + table(['layer', 'facets'], r.layers.map((l) => [l.key, r.facets_per_layer[l.key] ?? 0]));
  const shown = r.facets.slice(0, 20);
  if (shown.length) {
    const nb = new Map(r.neighbours.map((n) => [`${n.layer}#${n.unit}`, n]));
    out += `\nnearest facets:\n` + table(['layer', 'unit', 'distance', 'class across', 'confirmed'], shown.map((f) => {
      const n = nb.get(`${f.layer}#${f.unit}`);
      return [f.layer, f.unit, fmt(f.distance), n ? n.pred : '-', n ? (n.confirmed ? 'yes' : 'no') : '-'];
    }));
    if (r.facets.length > shown.length) out += `(${r.facets.length - shown.length} more with --json)\n`;
  }
  const t = r.timing;
  const local = r.method.local_tested ? `, growing LPs on ${r.method.local_tested} rows (${r.method.local_threads ?? 1} threads) found ${r.method.local_facets} and proved ${r.method.local_redundant} redundant` : '';
  out += `\n${r.method.rays} rays found ${r.method.ray_facets} facets${local}, ${r.method.lps} Clarkson LPs (${r.method.lp_solver}); ${t.total_s.toFixed(2)} s (affine ${t.affine_s.toFixed(2)}, Chebyshev ${t.chebyshev_s.toFixed(2)}, facets ${t.facets_s.toFixed(2)}, neighbours ${t.neighbours_s.toFixed(2)})\n`;
  return out;
}

export function formatCompare(r: PolytopeCompareResult): string {
  const d = (x: PolytopeDistribution, int = false) => {
    const f = (v: number | null) => (int && v !== null ? String(Math.round(v)) : fmt(v));
    return `${f(x.median)} [${f(x.q25)}, ${f(x.q75)}]`;
  };
  let out = `${r.model}: polytopes compared${r.box ? ` in [${r.box[0]}, ${r.box[1]}]` : ''} (${r.precision}; ${r.seconds.toFixed(1)} s)\n`;
  if (r.note) out += `note: ${r.note}\n`;
  out += `median [quartiles]\n\n`;
  out += table(['group', 'n', 'inradius', 'facets', 'nearest boundary'], r.groups.map((g) => [g.name, g.n, d(g.inradius), d(g.facets, true), d(g.nearest)]));
  return out;
}
