/**
 * Inside an engine worker: its configuration and its comlink endpoint to the host, whether it runs as a worker
 * thread (worker_threads: workerData, parentPort) or as a child process (child_process.fork: argv, the IPC channel).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Endpoint } from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import type { WorkerConfig } from '../shared/worker-protocol';
import { ipcEndpoint } from './ipc-endpoint';
import { withTestFaults } from './test-faults';

export function workerConfig(): WorkerConfig {
  if (parentPort) return workerData as WorkerConfig;
  return JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
}

export function hostEndpoint(): Endpoint {
  if (parentPort) return withTestFaults(nodeEndpoint(parentPort));
  if (!process.send) throw new Error('The engine worker must be started by the engine pool (as a worker thread or a forked process).');
  // The host is gone (closed, crashed or killed): a worker process has nothing left to do.
  process.on('disconnect', () => process.exit(0));
  return withTestFaults(ipcEndpoint(process));
}
