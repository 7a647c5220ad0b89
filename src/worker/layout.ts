/**
 * How many worker processes, with how many onnxruntime threads each, run a job on a model. Each worker process
 * holds its own copy of the weights (and onnxruntime's pre-packed copy of them), so a large model in N workers
 * costs N times its weights; one worker with intra-op threads holds them once, and a large CNN's convolutions
 * parallelise well inside onnxruntime. Small models gain more from processes: their per-call work is too small
 * for intra-op threads, and the host's share of the pipeline runs beside the workers.
 */
import { cpus } from 'node:os';

/** Model files from this size on run in one worker with intra-op threads (bench/torchvision-results.json). */
export const LARGE_MODEL_BYTES = 64 * 2 ** 20;

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
