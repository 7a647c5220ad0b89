/**
 * The engine pool: workers running src/worker/main.ts (child processes by default, or worker threads; see
 * engine-worker.ts), driven through comlink. Started lazily, one task per worker at a time, results delivered in
 * input order. A worker that dies fails only its own task, and the next task starts a new one. Cancel rejects the
 * job at once and starts no further chunk; a process worker running a cancelled task is killed (its CPU is free at
 * once), a thread finishes its current chunk.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { ResourceLimits } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { UserError } from '../core/errors';
import type { ModelSummary } from '../shared/results';
import type { CodeBatch, EngineApi, LayerSelection, ModelRef, NpyRows, TaskInput, WorkerConfig, SampleNearTies } from '../shared/worker-protocol';
import { startEngineWorker, type EngineWorker, type WorkerKind } from './engine-worker';
import type { TestFault } from './test-faults';

export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor() {
    super('The analysis was cancelled.');
  }
}

export interface PoolOptions {
  /** Number of workers (default: CPU cores, at most 4). */
  workers?: number;
  /** onnxruntime intra-op threads per worker (default 1: parallelism comes from the workers). */
  threadsPerWorker?: number;
  /**
   * 'process' (default): each worker is a child process; a crash in the engine cannot take the host down, and
   * cancel kills the worker. 'thread': worker_threads, which share the host's process (a native abort in the
   * engine ends the host) and cannot be stopped inside onnxruntime.
   */
  kind?: WorkerKind;
  /** The built worker script (default: out/worker/main.js next to the calling bundle). */
  workerScript?: string;
  /**
   * V8 heap limits of each worker (threads: all of them; processes: maxOldGenerationSizeMb). A worker that exceeds
   * them is stopped and fails only its own task; onnxruntime's native memory is not counted.
   */
  resourceLimits?: ResourceLimits;
}

interface Slot {
  worker: EngineWorker;
  api: Comlink.Remote<EngineApi>;
  /**
   * Fail the tasks sent to the worker when it exits. Callbacks, not a long-lived promise that every task races
   * against: each Promise.race on a promise that never settles adds a reaction to it that keeps that task's result
   * reachable, so a million-probe job retained every code batch (about 2.3 KB per sample).
   */
  fails: Set<(e: Error) => void>;
  /** Tasks sent and not yet answered: one, or two of the same job (see acquire). */
  running: number;
  /** The job (EnginePool.ordered) of the running tasks, if they belong to one. */
  job: object | undefined;
  /** Progress callbacks of the running tasks, by progress task number. */
  progress: Map<number, (done: number, total: number, stage?: string) => void>;
}

/** A request to one worker; `progressTask` is the number to put in a request that reports progress. */
export type Task<T> = (api: Comlink.Remote<EngineApi>, progressTask: number) => Promise<T>;

export interface SubmitOptions {
  /** Steps the task reports (ProgressMessage), for a request that carries its progressTask. */
  onProgress?: (done: number, total: number, stage?: string) => void;
  /** The ordered job the task belongs to (see acquire). */
  job?: object;
}

/**
 * The inputs of a job: all in memory, drawn chunk by chunk (generated probes, so that a million probes never sit in
 * memory at once; take() is called with increasing starts), or rows of a float32 .npy file that the workers read
 * (from row `first` on, for a shard).
 */
export type Samples = Float32Array | { take(start: number, m: number): Float32Array } | { rows: NpyRows; first?: number };

export interface RunOptions {
  signal?: AbortSignal;
  /** Called after each chunk with the samples done so far. */
  onProgress?: (done: number, total: number) => void;
}

export class EnginePool {
  readonly size: number;
  readonly kind: WorkerKind;
  private readonly threads: number;
  private readonly script: string;
  private readonly resourceLimits: ResourceLimits | undefined;
  private readonly slots: Slot[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private started = 0;
  private disposed = false;

  constructor(opts: PoolOptions = {}) {
    this.size = Math.max(1, opts.workers ?? Math.min(4, cpus().length));
    this.kind = opts.kind ?? 'process';
    this.threads = Math.max(1, opts.threadsPerWorker ?? 1);
    this.script = opts.workerScript ?? defaultWorkerScript();
    this.resourceLimits = opts.resourceLimits;
  }

  /** Live worker count (for tests and status). */
  get live(): number {
    return this.slots.length;
  }

  /** Workers running a task now. */
  get busy(): number {
    return this.slots.filter((s) => s.running > 0).length;
  }

  /** OS process ids of the live workers, in start order (process workers; for tests and the memory benchmark). */
  get pids(): number[] {
    return this.slots.flatMap((s) => (s.worker.pid === undefined ? [] : [s.worker.pid]));
  }

  summary(model: ModelRef, selection: LayerSelection = {}, signal?: AbortSignal): Promise<ModelSummary> {
    return this.submit((api) => api.summary(model, selection), signal);
  }

  /**
   * Codes of n samples, computed in chunks spread over the workers and yielded in order. Chunks are sized (see
   * jobs.chunkSize) so a round trip (about 1 ms through a process's IPC channel) is small against the work and
   * the data in flight stays small.
   */
  async *codes(model: ModelRef, selection: LayerSelection, data: Samples, n: number, sampleSize: number, chunk: number, opts: RunOptions = {}): AsyncGenerator<CodeBatch> {
    yield* this.chunked(data, n, sampleSize, chunk, opts, (api, part, m) => api.codes(model, selection, part, m));
  }

  /** Near-ties of n samples (EngineApi.nearTies), in chunks over the workers, in order. */
  async *nearTies(model: ModelRef, selection: LayerSelection, data: Samples, n: number, sampleSize: number, chunk: number, tol: number, opts: RunOptions = {}): AsyncGenerator<SampleNearTies[]> {
    yield* this.chunked(data, n, sampleSize, chunk, opts, (api, part, m) => api.nearTies(model, selection, part, m, tol));
  }

  async *forward(model: ModelRef, data: Samples, n: number, sampleSize: number, chunk: number, opts: RunOptions = {}): AsyncGenerator<Float32Array> {
    yield* this.chunked(data, n, sampleSize, chunk, opts, (api, part, m) => api.forward(model, part, m));
  }

  private async *chunked<T>(
    data: Samples,
    n: number,
    sampleSize: number,
    chunk: number,
    opts: RunOptions,
    call: (api: Comlink.Remote<EngineApi>, part: TaskInput, m: number) => Promise<T>,
  ): AsyncGenerator<T> {
    let done = 0;
    const task = (i: number): Task<T> => {
      const s = i * chunk;
      const m = Math.min(chunk, n - s);
      if ('rows' in data) return (api) => call(api, { ...data.rows, start: s + (data.first ?? 0) }, m);
      // A copy (or a freshly drawn chunk), because the chunk's buffer is transferred to the worker.
      const part = data instanceof Float32Array ? data.slice(s * sampleSize, (s + m) * sampleSize) : data.take(s, m);
      return (api) => call(api, Comlink.transfer(part, [part.buffer]), m);
    };
    for await (const result of this.ordered(Math.ceil(n / chunk), task, opts.signal)) {
      done += Math.min(chunk, n - done);
      opts.onProgress?.(done, n);
      yield result;
    }
  }

  /**
   * Runs tasks 0..count-1 over the workers and yields their results in order. At most 2 tasks per worker are in
   * flight, so memory stays bounded on long jobs; `task(i)` is called only when task i is launched. On early exit
   * (error, cancel, consumer stops) the tasks in flight still run and their results are dropped.
   */
  async *ordered<T>(count: number, task: (i: number) => Task<T>, signal?: AbortSignal): AsyncGenerator<T> {
    const pending: Promise<T>[] = [];
    const job = {};
    let next = 0;
    const launch = () => {
      const p = this.submit(task(next++), signal, { job });
      // Awaited in order below; until then a rejection (cancel) must not count as unhandled.
      p.catch(() => undefined);
      pending.push(p);
    };
    while (next < count && pending.length < 2 * this.size) launch();
    while (pending.length) {
      const result = await pending.shift()!;
      // A result that was already in when the job was cancelled is dropped too: nothing is reported after a cancel.
      if (signal?.aborted) throw new CancelledError();
      if (next < count) launch();
      yield result;
    }
  }

  /**
   * Runs one task on a free worker, starting one if needed; a task of `opts.job` may also go to a worker that runs one
   * task of the same job, so that the worker starts it as soon as it answers the first instead of waiting a round
   * trip through the host (about 3 ms per task, a third of the time on small tasks). Cancel rejects the caller at
   * once. A process worker still running the task is killed (whatever else it runs is of the same job), and the next
   * task starts a new one. A thread finishes its tasks (jobs are chunked so that takes well under a second) and
   * their results are dropped: terminating a thread inside an onnxruntime call can abort the whole process.
   * Steps that the task's request reports (it carries the `progressTask` number given to the task) go to
   * `opts.onProgress`.
   */
  async submit<T>(task: Task<T>, signal?: AbortSignal, opts: SubmitOptions = {}): Promise<T> {
    if (this.disposed) throw new Error('The engine pool was disposed.');
    if (signal?.aborted) throw new CancelledError();
    const slot = await this.acquire(signal, opts.job);
    let failThis: (e: Error) => void = () => undefined;
    if (signal?.aborted) {
      this.release(slot, failThis);
      throw new CancelledError();
    }
    const progressTask = ++this.started;
    if (opts.onProgress) slot.progress.set(progressTask, opts.onProgress);
    const settled = new Promise<T>((resolve, reject) => {
      slot.fails.add((failThis = reject));
      task(slot.api, progressTask).then(resolve, reject);
    });
    const done = () => {
      slot.progress.delete(progressTask);
      this.release(slot, failThis);
    };
    settled.then(done, done);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        reject(new CancelledError());
        // Still running this task (not released, not dead): a process can be stopped at any point.
        if (slot.worker.kind === 'process' && slot.fails.has(failThis) && this.slots.includes(slot)) void this.kill(slot);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([settled, aborted]);
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Tasks started so far (for tests: no task starts after a cancel). */
  get tasksStarted(): number {
    return this.started;
  }

  /** Resolves when no worker is running a task. */
  async idle(): Promise<void> {
    while (this.busy > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private release(slot: Slot, fail: (e: Error) => void): void {
    slot.fails.delete(fail);
    // A slot whose worker stopped was reset by remove().
    slot.running = Math.max(0, slot.running - 1);
    if (slot.running === 0) slot.job = undefined;
    this.waiting.shift()?.();
    if (this.busy === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async acquire(signal?: AbortSignal, job?: object): Promise<Slot> {
    const take = (slot: Slot) => {
      slot.running++;
      slot.job = job;
      return slot;
    };
    for (;;) {
      // A waiter woken by a cancelled job's cleanup must not start a worker for a cancelled job.
      if (signal?.aborted) throw new CancelledError();
      // Waiters are woken by dispose(), and by workers that stop while it runs: none may start a worker.
      if (this.disposed) throw new Error('The engine pool was disposed.');
      const free = this.slots.find((s) => s.running === 0);
      if (free) return take(free);
      if (this.slots.length < this.size) return take(this.spawn());
      const sameJob = job && this.slots.find((s) => s.running === 1 && s.job === job);
      if (sameJob) return take(sameJob);
      await new Promise<void>((resolve, reject) => {
        // A cancelled waiter leaves the queue: a stale entry would swallow the wake-up of a live one (a hang).
        const onAbort = () => {
          const i = this.waiting.indexOf(wake);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new CancelledError());
        };
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        this.waiting.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  private spawn(): Slot {
    const config: WorkerConfig = { threads: this.threads };
    const worker = startEngineWorker({ kind: this.kind, script: this.script, config, ...(this.resourceLimits ? { resourceLimits: this.resourceLimits } : {}) });
    const slot: Slot = { worker, api: worker.api, fails: new Set(), running: 0, job: undefined, progress: new Map() };
    // Progress that arrives after its task settled (a cancelled task) finds no callback.
    worker.onProgress((p) => slot.progress.get(p.task)?.(p.done, p.total, p.stage));
    void worker.exited.then((why) => {
      this.remove(slot);
      for (const fail of slot.fails) fail(new WorkerDiedError(why));
    });
    this.slots.push(slot);
    return slot;
  }

  private remove(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    slot.running = 0;
    // A waiting task can now start a replacement worker.
    this.waiting.shift()?.();
    if (this.busy === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Stops a worker now (see EngineWorker.kill) and resolves when it has stopped. */
  private async kill(slot: Slot): Promise<void> {
    this.remove(slot);
    await slot.worker.kill();
  }

  /** Stops the i-th live worker (in start order) now (for tests: a worker that dies). */
  async terminateWorker(i: number): Promise<void> {
    const slot = this.slots[i];
    if (slot) await this.kill(slot);
  }

  /** Stops every worker now (for tests: workers that die). */
  async terminateAll(): Promise<void> {
    await Promise.all([...this.slots].map((s) => this.kill(s)));
  }

  /** Sends a test-only fault to the i-th live worker (src/worker/test-faults.ts; acts only when tests enable it). */
  injectTestFault(i: number, fault: TestFault): void {
    this.slots[i]?.worker.sendTestFault(fault);
  }

  /**
   * Stops the workers. Processes are killed at once: nothing they run can harm the host. Threads are given up to
   * `graceMs` to finish their running tasks first, since terminating a thread inside onnxruntime can abort the host.
   */
  async dispose(graceMs = 3000): Promise<void> {
    this.disposed = true;
    for (const w of this.waiting.splice(0)) w();
    if (this.kind === 'thread') await Promise.race([this.idle(), new Promise((r) => setTimeout(r, graceMs).unref())]);
    await this.terminateAll();
  }
}

export class WorkerDiedError extends UserError {
  constructor(why: string) {
    super(`The analysis worker stopped unexpectedly (${why}); the request failed, and the next one starts a new worker.`);
  }
}

function defaultWorkerScript(): string {
  // Bundles live in out/<part>/ (out/test/unit/ for tests); the worker bundle is out/worker/main.js.
  for (const rel of ['../worker/main.js', '../../worker/main.js']) {
    const p = join(__dirname, rel);
    if (existsSync(p)) return p;
  }
  throw new Error(`The engine's worker bundle (out/worker/main.js) was not found from ${__dirname}; run the build.`);
}
