/**
 * How many worker processes, with how many onnxruntime threads each, run a job on a model. Each worker process
 * holds its own copy of the weights (and onnxruntime's pre-packed copy of them), so a large model in N workers
 * costs N times its weights; one worker with intra-op threads holds them once, and a large CNN's convolutions
 * parallelise well inside onnxruntime. Small models gain more from processes: their per-call work is too small
 * for intra-op threads, and the host's share of the pipeline runs beside the workers.
 */
import { statSync } from 'node:fs';
import { cpus } from 'node:os';

/**
 * Model files from this size on run in one worker with intra-op threads. Measured on 2 cores, 128 inputs, two
 * one-thread workers against one two-thread worker: resnet18 4.30 against 4.31 s (peak RSS 715 against 481 MB),
 * squeezenet1_1 2.89 against 3.40 s (584 against 367 MB), alexnet 5.07 against 4.35 s (1,863 against 1,045 MB),
 * densenet121 8.89 against 10.69 s (1,279 against 835 MB). The torchvision CNNs are 5 MB and more; mnist-8
 * (26 KB) and ultraface (1.2 MB) keep their processes.
 */
export const LARGE_MODEL_BYTES = 4 * 2 ** 20;

export interface PoolLayout {
  workers: number;
  threadsPerWorker: number;
}

/** The layout for a model file of `modelBytes`; explicit --workers / --threads (or settings) win. */
export function poolLayout(modelBytes: number, given: { workers?: number; threads?: number } = {}, cores = cpus().length): PoolLayout {
  const parallel = Math.max(1, Math.min(4, cores));
  const large = modelBytes >= LARGE_MODEL_BYTES;
  return {
    workers: given.workers || (large ? 1 : parallel),
    threadsPerWorker: given.threads || (large ? parallel : 1),
  };
}

/** The layout for the model file at `path` (none: a small model's); a missing file counts as small, the engine says what is wrong with it. */
export function modelPoolLayout(path: string | undefined, given: { workers?: number; threads?: number } = {}): PoolLayout {
  let bytes = 0;
  try {
    bytes = path ? statSync(path).size : 0;
  } catch {
    // not there: the engine reports it
  }
  return poolLayout(bytes, given);
}
