/**
 * Garbage collections on demand, for processes that stream large typed arrays. A codes job passes megabytes of
 * packed codes per sample through short-lived ArrayBuffers; their JS wrappers are tiny, so V8 collects them late
 * and the dead buffers pile up outside its heap. Measured on mobilenet_v2 (1.5 MB codes per sample, 256 inputs),
 * peak RSS of the CLI and its worker: 229 + 309 MB with no collection, 202 + 259 MB collecting every 16 MB of such
 * buffers (23 collections of about 17 ms each on a loaded machine: 3 % of the run), 159 + 237 MB after every task
 * (256 collections, 23 % of the run). GC_BUDGET_BYTES is the middle way.
 *
 * `gc` exists where the process was started with --expose-gc (the engine's workers) or enabled it (the CLI,
 * exposeGc); elsewhere (the VS Code extension host, shared with other extensions) nothing is collected.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const GC_BUDGET_BYTES = 16 * 2 ** 20;

/** A full collection, where the process allows it. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Makes `gc` available in this process (the CLI's: a pause there holds up no one else). */
export function exposeGc(): void {
  if ((globalThis as { gc?: unknown }).gc) return;
  setFlagsFromString('--expose-gc');
  (globalThis as { gc?: unknown }).gc = runInNewContext('gc');
}

/** Counts bytes of buffers that became garbage and collects once a budget of them is reached. */
export class GarbageBudget {
  private bytes = 0;
  constructor(private readonly budget = GC_BUDGET_BYTES) {}

  add(bytes: number): void {
    this.bytes += bytes;
    if (this.bytes < this.budget) return;
    this.bytes = 0;
    collectGarbage();
  }
}
