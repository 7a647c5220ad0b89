/**
 * The host <-> worker channel: what a worker of the engine pool exposes through comlink. Inputs and results are
 * typed arrays, transferred (not copied) across the thread boundary.
 */
import type { ModelSummary } from './results';

/** How to open a model; part of the key under which a worker caches it. */
export interface ModelRef {
  path: string;
  maxBytes?: number;
  inputShape?: number[];
}

export interface LayerSelection {
  ops?: string[];
  layers?: string[];
}

export interface CodeBatch {
  n: number;
  /** n rows of ceil(units / 8) bytes: the packed full codes, MSB first. */
  codes: Uint8Array;
  /** Argmax of the model's first output per sample. */
  preds: Int32Array;
  /** Set bits per sample and layer, n x L row-major. */
  active: Uint32Array;
  /** 53-bit hash of each layer's code (n x L), and of each prefix code (layers 0..l). */
  layerHash: Float64Array;
  prefixHash: Float64Array;
}

export interface EngineApi {
  summary(model: ModelRef, selection: LayerSelection): Promise<ModelSummary>;
  codes(model: ModelRef, selection: LayerSelection, data: Float32Array, n: number): Promise<CodeBatch>;
  /** A plain forward pass of the unmodified model (the benchmark's baseline); returns the first output. */
  forward(model: ModelRef, data: Float32Array, n: number): Promise<Float32Array>;
}

/** workerData of every pool worker. */
export interface WorkerConfig {
  /** Intra-op threads of each onnxruntime session in the worker. */
  threads: number;
}
