/**
 * A helper thread of the polytope's row LPs (src/core/analyses/row-deciders.ts): the rows arrive once as
 * workerData, then one row index per message; each answer is that row's decision and the facets crossed on the way.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decideRow, decideRowOverRows } from '../core/analyses/local-facets';
import type { DeciderAnswer, DeciderInit, DeciderTask } from '../core/analyses/row-deciders';
import { loadHighs } from '../core/lp';

const init = workerData as DeciderInit;
const d = init.c.length;
const m = init.gc.length;
const sp = { ...init.rows, posOf: new Int32Array(d).fill(-1), mark: new Uint8Array(m) };
const highs = loadHighs();

parentPort!.on('message', (task: DeciderTask) => {
  void highs.then(
    (h) => {
      const onWay: DeciderAnswer['onWay'] = [];
      const decision = task.over
        ? decideRowOverRows(h, sp, init.gc, init.c, task.over, task.i, init.lo, init.hi, init.tol, init.seconds)
        : decideRow(h, sp, init.gc, init.c, init.alive, init.rep, task.i, init.lo, init.hi, init.tol, (j, w) => onWay.push({ j, w }), task.maxFree, init.seconds);
      parentPort!.postMessage({ i: task.i, decision, onWay } satisfies DeciderAnswer);
    },
    (e: unknown) => parentPort!.postMessage({ i: task.i, decision: { lps: 0 }, onWay: [], error: String(e) } satisfies DeciderAnswer),
  );
});
