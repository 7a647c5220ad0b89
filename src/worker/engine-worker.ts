/**
 * One engine worker seen from the host: src/worker/main.ts started as a child process (the default) or as a
 * worker thread, with its comlink API, a way to stop it, and why it stopped in words.
 *
 * A process isolates the host from the engine: a native abort or an out-of-memory crash inside onnxruntime ends
 * only the worker process, and the worker can be killed at any moment (hard cancel). A worker thread shares the
 * host's process: a native abort in it ends the host too, and terminating it while it is inside onnxruntime can
 * abort the host, so threads are only stopped between tasks.
 */
import { fork } from 'node:child_process';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import { isProgressMessage, type EngineApi, type ProgressMessage, type WorkerConfig } from '../shared/worker-protocol';
import { ipcEndpoint } from './ipc-endpoint';
import type { TestFault, TestFaultMessage } from './test-faults';

export type WorkerKind = 'process' | 'thread';

export const WORKER_KINDS: readonly WorkerKind[] = ['process', 'thread'];

export interface EngineWorker {
  readonly kind: WorkerKind;
  readonly api: Comlink.Remote<EngineApi>;
  /** The worker's OS process id (process workers only). */
  readonly pid: number | undefined;
  /** Resolves once, when the worker has stopped, with the reason in words (completing "the worker stopped: ..."). */
  readonly exited: Promise<string>;
  /** Stops the worker now and resolves when it has stopped. Safe for processes at any time; see the file comment for threads. */
  kill(): Promise<void>;
  /** Sends a test-only fault (src/worker/test-faults.ts); ignored unless the worker's environment enables them. */
  sendTestFault(fault: TestFault): void;
  /** Calls `listener` with every progress message the worker posts (ProgressMessage). */
  onProgress(listener: (p: ProgressMessage['polytopeLensProgress']) => void): void;
}

/** Passes a channel's progress messages to `listener`; comlink ignores them (they carry no request id). */
function progressListener(listener: (p: ProgressMessage['polytopeLensProgress']) => void): (data: unknown) => void {
  return (data) => {
    if (isProgressMessage(data)) listener(data.polytopeLensProgress);
  };
}

export interface StartOptions {
  kind: WorkerKind;
  script: string;
  config: WorkerConfig;
  /** V8 heap limits. A process worker honours maxOldGenerationSizeMb only (as --max-old-space-size). */
  resourceLimits?: ResourceLimits;
}

const OUT_OF_MEMORY = 'it ran out of memory: the model or the request is too large for the worker';

export function startEngineWorker(opts: StartOptions): EngineWorker {
  return opts.kind === 'process' ? startProcess(opts) : startThread(opts);
}

function startThread(opts: StartOptions): EngineWorker {
  const worker = new Worker(opts.script, { workerData: opts.config, ...(opts.resourceLimits ? { resourceLimits: opts.resourceLimits } : {}) });
  const exited = new Promise<string>((resolve) => {
    worker.once('error', (e: Error & { code?: string }) => resolve(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? OUT_OF_MEMORY : `it failed: ${e.message}`));
    worker.once('exit', (code) => resolve(`it exited with code ${code}`));
  });
  return {
    kind: 'thread',
    api: Comlink.wrap<EngineApi>(nodeEndpoint(worker)),
    pid: undefined,
    exited,
    async kill() {
      await worker.terminate();
    },
    sendTestFault(fault) {
      worker.postMessage({ polytopeLensTestFault: fault } satisfies TestFaultMessage);
    },
    onProgress(listener) {
      worker.on('message', progressListener(listener));
    },
  };
}

/**
 * glibc's malloc in the worker process (other C libraries ignore it; the user's own setting wins). Its default
 * raises the mmap threshold after large blocks are freed (the shape probe's and the sessions' arenas) and then keeps
 * later large blocks in a heap it rarely gives back. A threshold fixed at 128 KiB returned them (codes of 256 inputs,
 * peak RSS of CLI + worker: densenet121 550 -> 512 MB), but then every buffer of a task (onnxruntime's outputs,
 * packed bits, inputs) is a fresh mapping, and on a virtual machine whose first touch of a page costs about 10 µs
 * (2.7 ms per MB against 0.05 ms to rewrite it) those faults were a third of the time. Fixed at 32 MiB (glibc's
 * largest), task buffers come back from the heap: 256 inputs on 2 cores, 128 KiB -> 32 MiB, squeezenet1_1 28.2 ->
 * 41.9/s, googlenet 10.4 -> 14.6/s, densenet121 10.0 -> 13.1/s, peak RSS +10 to +30 MB (densenet121 426 -> 440 MB).
 */
const MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: String(32 * 2 ** 20) };

/** The last bytes of a worker process's stderr are kept to tell an out-of-memory crash from other aborts. */
const STDERR_TAIL = 4096;

function startProcess(opts: StartOptions): EngineWorker {
  const heapMb = opts.resourceLimits?.maxOldGenerationSizeMb;
  const child = fork(opts.script, [JSON.stringify(opts.config)], {
    serialization: 'advanced',
    // Not the host's flags (an inspector port, --test, ...): the worker is a plain Node process. --expose-gc lets
    // readModel free a large model file's bytes before onnxruntime loads its weights (onnx/weights.ts), and codes
    // tasks collect their dead buffers (core/collect.ts).
    execArgv: ['--expose-gc', ...(heapMb ? [`--max-old-space-size=${heapMb}`] : [])],
    // Inside VS Code the host is Electron: run its binary as plain Node. glibc's malloc: MALLOC_ENV above.
    env: { ...MALLOC_ENV, ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stderrTail = '';
  // The worker's output (onnxruntime warnings, Node's fatal errors) goes to the host's stderr, as a thread's would.
  child.stdout!.on('data', (d: Buffer) => process.stderr.write(d));
  child.stderr!.on('data', (d: Buffer) => {
    process.stderr.write(d);
    stderrTail = (stderrTail + d.toString('utf8')).slice(-STDERR_TAIL);
  });
  // 'close' comes after the output streams ended, so the stderr tail is complete. A process that could not be
  // started emits only 'error' (unhandled, that event would throw in the host).
  const exited = new Promise<string>((resolve) => {
    child.once('close', (code, signal) => resolve(processExitReason(code, signal, stderrTail)));
    child.on('error', (e) => {
      if (child.pid === undefined) resolve(`it could not be started: ${e.message}`);
    });
  });
  return {
    kind: 'process',
    api: Comlink.wrap<EngineApi>(ipcEndpoint(child)),
    pid: child.pid,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    sendTestFault(fault) {
      child.send({ polytopeLensTestFault: fault } satisfies TestFaultMessage, () => undefined);
    },
    onProgress(listener) {
      child.on('message', progressListener(listener));
    },
  };
}

export function processExitReason(code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  if (/heap out of memory|Reached heap limit|std::bad_alloc/.test(stderr)) return OUT_OF_MEMORY;
  switch (signal) {
    case null:
      return `it exited with code ${code}`;
    case 'SIGKILL':
      return 'it was killed (SIGKILL)';
    case 'SIGABRT':
      return 'it crashed with a native abort (SIGABRT)';
    case 'SIGSEGV':
    case 'SIGBUS':
    case 'SIGILL':
    case 'SIGFPE':
      return `it crashed (${signal})`;
    default:
      return `it was stopped by ${signal}`;
  }
}
