/** The extension's settings as data: one place that reads them, with the defaults documented in package.json. */
import * as vscode from 'vscode';

export interface LensConfig {
  /** Worker threads of the engine pool (0: automatic, CPU cores up to 4). */
  workers: number;
  /** Samples per worker task (0: automatic, a few MB of data per task). */
  batchSize: number;
  /** Random probes generated when no data file is chosen. */
  defaultProbes: number;
  /** Larger model files are refused. */
  maxModelSizeMB: number;
  /** Side panel: re-run the last Probe Codes when the model file is re-exported. */
  autoRefresh: boolean;
  /** Find every facet: seconds after which the LPs stop and the facets found so far are shown, marked partial (0: no limit). */
  facetTimeLimit: number;
}

export const SECTION = 'polytopeLens';

const DEFAULTS: LensConfig = { workers: 0, batchSize: 0, defaultProbes: 1000, maxModelSizeMB: 200, autoRefresh: true, facetTimeLimit: 300 };

function intIn(v: unknown, lo: number, hi: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.round(v))) : fallback;
}

export function readConfig(): LensConfig {
  const c = vscode.workspace.getConfiguration(SECTION);
  return {
    workers: intIn(c.get('workers'), 0, 64, DEFAULTS.workers),
    batchSize: intIn(c.get('batchSize'), 0, 65536, DEFAULTS.batchSize),
    defaultProbes: intIn(c.get('defaultProbes'), 1, 1_000_000, DEFAULTS.defaultProbes),
    maxModelSizeMB: intIn(c.get('maxModelSizeMB'), 1, 1_000_000, DEFAULTS.maxModelSizeMB),
    autoRefresh: typeof c.get('autoRefresh') === 'boolean' ? c.get<boolean>('autoRefresh')! : DEFAULTS.autoRefresh,
    facetTimeLimit: intIn(c.get('facetTimeLimit'), 0, 86_400, DEFAULTS.facetTimeLimit),
  };
}
