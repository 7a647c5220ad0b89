/** Cancel a pool job at its second progress report, as a user pressing Cancel mid-run. */
import assert from 'node:assert/strict';
import type { EnginePool, RunOptions } from '../../src/worker/pool';
import { CancelledError } from '../../src/worker/pool';

/**
 * Starts `job` with a signal that aborts at the second onProgress call, checks that the job rejects with
 * CancelledError and that no task starts after the cancel once the pool is idle, and returns how many progress
 * reports arrived.
 */
export async function cancelAtSecondProgress(pool: EnginePool, job: (opts: RunOptions) => Promise<unknown>): Promise<number> {
  const ac = new AbortController();
  let progressed = 0;
  let startedAtCancel = 0;
  const running = job({
    signal: ac.signal,
    onProgress: () => {
      if (++progressed !== 2) return;
      startedAtCancel = pool.tasksStarted;
      ac.abort();
    },
  });
  await assert.rejects(running, CancelledError);
  await pool.idle();
  assert.equal(pool.tasksStarted, startedAtCancel, 'no chunk started after the cancel');
  return progressed;
}
