/**
 * The engine's results, exactly as the CLI prints them with --json (DESIGN.md §4, extended; the README documents
 * every field). Shared by the CLI, the worker, the extension host, the language server and the webviews.
 */

export interface TensorInfo {
  name: string;
  /** Dimensions; a symbolic dimension is its name. */
  shape: (number | string)[];
  dtype: string;
}

export interface LayerInfo {
  /** ONNX node name (unnamed nodes: op_type + index in the node list). */
  key: string;
  op: string;
  /** The op's input tensor. */
  preact_tensor: string;
  /** Bits this layer contributes to the code. */
  units: number;
  /** First bit of the layer in the (selected) code. */
  offset: number;
  /** False for sign codes of smooth activations. */
  exact: boolean;
  /** Pre-activation shape without the batch axis. */
  shape: number[];
}

export interface UnsupportedOp {
  node: string;
  op: string;
  reason: string;
}

export interface ModelSummary {
  model: string;
  producer: string;
  opset: number;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  layers: LayerInfo[];
  total_units: number;
  unsupported: UnsupportedOp[];
}

export interface LayerStats {
  key: string;
  /** Mean share of the layer's bits that are 1, over all samples. */
  active_fraction: number;
  /** Bits that are 0 on every sample. */
  dead_units: number;
  /** Bits that are 1 on every sample. */
  always_on_units: number;
  /** Distinct codes of this layer alone. */
  distinct_codes: number;
  /** Distinct prefix codes: this layer and all before it (in the selection). */
  distinct_prefix_codes: number;
}

export interface CodeSample {
  index: number;
  /** Argmax of the model's first output. */
  pred: number;
  active_per_layer: number[];
  code_hex: string;
}

export interface CodesResult {
  model: string;
  layers: LayerInfo[];
  n: number;
  /** Bytes of one packed code row (ceil(total units / 8)). */
  code_bytes: number;
  distinct_codes: number;
  distinct_per_layer: Record<string, number>;
  stats: LayerStats[];
  /** How the inputs were obtained (file, folder of images, or probes). */
  inputs_note: string;
  /** Left out when the codes were written to a file with --out. */
  samples?: CodeSample[];
  /** Where --out wrote the packed codes. */
  out?: { path: string; format: string; rows: number; row_bytes: number };
}
