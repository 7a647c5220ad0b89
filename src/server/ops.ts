/**
 * Which ONNX ops the PyTorch exporter emits for a torch.nn module or a functional call. Used by the fallback by
 * order (no scope names in the graph) and to tell functional uses apart inside one scope.
 */

/** torch.nn constructors → ONNX ops of their main node (the first op listed is the usual one). */
const MODULE_OPS: Record<string, string[]> = {
  Linear: ['Gemm', 'MatMul'],
  Bilinear: ['MatMul'],
  Conv1d: ['Conv'],
  Conv2d: ['Conv'],
  Conv3d: ['Conv'],
  ConvTranspose1d: ['ConvTranspose'],
  ConvTranspose2d: ['ConvTranspose'],
  ConvTranspose3d: ['ConvTranspose'],
  ReLU: ['Relu'],
  LeakyReLU: ['LeakyRelu'],
  PReLU: ['PRelu'],
  ReLU6: ['Clip'],
  Hardtanh: ['Clip'],
  ELU: ['Elu'],
  SELU: ['Selu'],
  CELU: ['Celu'],
  GELU: ['Gelu', 'Erf'],
  SiLU: ['Sigmoid'],
  Sigmoid: ['Sigmoid'],
  Tanh: ['Tanh'],
  Softplus: ['Softplus'],
  Hardswish: ['HardSwish'],
  Hardsigmoid: ['HardSigmoid'],
  Softmax: ['Softmax'],
  LogSoftmax: ['LogSoftmax'],
  MaxPool1d: ['MaxPool'],
  MaxPool2d: ['MaxPool'],
  MaxPool3d: ['MaxPool'],
  AvgPool1d: ['AveragePool'],
  AvgPool2d: ['AveragePool'],
  AvgPool3d: ['AveragePool'],
  AdaptiveAvgPool1d: ['GlobalAveragePool', 'AveragePool', 'ReduceMean'],
  AdaptiveAvgPool2d: ['GlobalAveragePool', 'AveragePool', 'ReduceMean'],
  AdaptiveMaxPool2d: ['GlobalMaxPool', 'MaxPool'],
  BatchNorm1d: ['BatchNormalization'],
  BatchNorm2d: ['BatchNormalization'],
  BatchNorm3d: ['BatchNormalization'],
  LayerNorm: ['LayerNormalization', 'ReduceMean'],
  GroupNorm: ['InstanceNormalization', 'GroupNormalization'],
  InstanceNorm2d: ['InstanceNormalization'],
  Flatten: ['Flatten', 'Reshape'],
  Embedding: ['Gather'],
  Upsample: ['Resize'],
};

/** Containers: their nodes are their children's. */
export const CONTAINERS = new Set(['Sequential', 'ModuleList', 'ModuleDict']);

/** Modules that export to nothing in eval mode (or to a no-op). */
const NO_OPS = new Set(['Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout', 'Identity']);

/** Functional calls (F.x, torch.x, tensor.x()) → ONNX ops. */
const FUNCTION_OPS: Record<string, string[]> = {
  relu: ['Relu'],
  relu_: ['Relu'],
  relu6: ['Clip'],
  leaky_relu: ['LeakyRelu'],
  prelu: ['PRelu'],
  hardtanh: ['Clip'],
  clamp: ['Clip'],
  clip: ['Clip'],
  abs: ['Abs'],
  elu: ['Elu'],
  selu: ['Selu'],
  gelu: ['Gelu', 'Erf'],
  silu: ['Sigmoid'],
  sigmoid: ['Sigmoid'],
  tanh: ['Tanh'],
  softplus: ['Softplus'],
  hardswish: ['HardSwish'],
  hardsigmoid: ['HardSigmoid'],
  softmax: ['Softmax'],
  log_softmax: ['LogSoftmax'],
  max_pool1d: ['MaxPool'],
  max_pool2d: ['MaxPool'],
  max_pool3d: ['MaxPool'],
  avg_pool1d: ['AveragePool'],
  avg_pool2d: ['AveragePool'],
  avg_pool3d: ['AveragePool'],
  linear: ['Gemm', 'MatMul'],
  conv1d: ['Conv'],
  conv2d: ['Conv'],
  conv3d: ['Conv'],
};

/** Functions also recognised as tensor methods (`x.relu()`); a short list, since a method name says less. */
const METHOD_FUNCTIONS = new Set(['relu', 'relu_', 'clamp', 'clip', 'sigmoid', 'tanh', 'abs']);

/** Functions recognised on the `torch` module itself (`torch.relu`); the rest only on `F`. */
const TORCH_FUNCTIONS = new Set(['relu', 'relu_', 'clamp', 'clip', 'abs', 'sigmoid', 'tanh', 'softmax', 'log_softmax', 'max_pool1d', 'max_pool2d', 'max_pool3d', 'avg_pool1d', 'conv1d', 'conv2d', 'conv3d', 'prelu', 'selu']);

export function moduleOps(ctor: string): string[] | undefined {
  if (NO_OPS.has(ctor)) return [];
  return MODULE_OPS[ctor];
}

/** ONNX ops of a functional call on `where` ('F' = torch.nn.functional, 'torch', 'method'), or undefined. */
export function functionOps(name: string, where: 'F' | 'torch' | 'method'): string[] | undefined {
  if (where === 'torch' && !TORCH_FUNCTIONS.has(name)) return undefined;
  if (where === 'method' && !METHOD_FUNCTIONS.has(name)) return undefined;
  return FUNCTION_OPS[name];
}

/** Ops that anchor the fallback by order: the ones a module or a functional call can be recognised by. */
export const ORDER_OPS = new Set([...Object.values(MODULE_OPS).flat(), ...Object.values(FUNCTION_OPS).flat()]);
