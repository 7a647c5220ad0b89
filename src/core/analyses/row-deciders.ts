/**
 * Row LPs (local-facets.ts) on helper threads beside the caller (issue #17): each helper holds a copy of the
 * rows and its own HiGHS runtime and decides one row at a time; the caller keeps the facet list and the order,
 * decides rows itself while the helpers work, and applies their answers as they come. Rows are independent proofs,
 * so the facet set is the same as one thread's; a row a helper is deciding may meanwhile be shown a facet on the
 * way by another row's LP, which costs that LP and nothing else.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RowDecision, SparseRows } from './local-facets';

/** What a helper needs once: the rows (CSR and by column) and the LP's data (see decideRow). */
export interface DeciderInit {
  rows: Pick<SparseRows, 'start' | 'cols' | 'vals' | 'colStart' | 'colRows' | 'colVals'>;
  gc: Float64Array;
  c: Float64Array;
  alive: Uint8Array;
  rep: Int32Array;
  lo: number;
  hi: number;
  tol: number;
  /** The bound on one HiGHS run (ROW_LP_SECONDS unless the caller set one). */
  seconds: number;
}

/** Caller to helper (the init comes as workerData): decide row i, by a growing LP or, given `over`, by one LP over those rows. */
export interface DeciderTask {
  i: number;
  maxFree: number;
  over?: Int32Array;
}

/** Helper to caller: the decision of row i and the facets its LPs crossed on the way (row, witness). */
export interface DeciderAnswer {
  i: number;
  decision: RowDecision;
  onWay: { j: number; w: Float64Array }[];
  /** Set when the helper failed: the row stays undecided and goes on to the caller's Clarkson LPs. */
  error?: string;
}

/** The helper's script beside the calling bundle (out/worker/row-decider.js), or undefined when not built. */
export function deciderScript(): string | undefined {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  for (const dir of [here, join(here, '..'), join(here, '..', '..')]) {
    const p = join(dir, 'worker', 'row-decider.js');
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** One helper thread; `decide` resolves with its answer. Tasks queue in the thread and are answered in order. */
export class RowDecider {
  private readonly worker: Worker;
  private readonly waiting: ((a: DeciderAnswer) => void)[] = [];
  private failed: string | undefined;

  constructor(script: string, init: DeciderInit) {
    this.worker = new Worker(script, { workerData: init });
    this.worker.on('message', (a: DeciderAnswer) => this.waiting.shift()?.(a));
    this.worker.on('error', (e) => this.fail(e.message));
    this.worker.on('exit', (code) => this.fail(`the helper thread exited (${code})`));
  }

  /** Tasks sent and not yet answered. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Why the thread stopped (its answers then carry `error`), or undefined while it runs. */
  get error(): string | undefined {
    return this.failed;
  }

  decide(task: DeciderTask): Promise<DeciderAnswer> {
    if (this.failed) return Promise.resolve({ i: task.i, decision: { lps: 0 }, onWay: [], error: this.failed });
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.worker.postMessage(task);
    });
  }

  terminate(): Promise<number> {
    this.failed ??= 'terminated';
    return this.worker.terminate();
  }

  private fail(message: string): void {
    this.failed ??= message;
    for (const w of this.waiting.splice(0)) w({ i: -1, decision: { lps: 0 }, onWay: [], error: this.failed });
  }
}
