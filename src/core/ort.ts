/** onnxruntime-node sessions with the engine's options, and its errors turned into one clear sentence. */
import * as ort from 'onnxruntime-node';
import { UserError } from './errors';
import type { ModelProto } from './onnx/model';
import { withLoadableModel } from './onnx/weights';

export { ort };

export interface SessionOptions {
  /** Intra-op threads of this session; 0 lets onnxruntime decide. */
  threads?: number;
  /**
   * false: tensors come from onnxruntime's arena as they are needed, instead of one block planned for the whole
   * run. The code model keeps every layer's pre-activation alive until its bits are packed, and that planned block
   * was the largest part of a codes worker's memory (256 inputs, worker peak RSS: densenet121 440 -> 337 MB,
   * mobilenet_v2 259 -> 221 MB, resnet50 423 -> 379 MB; speed the same within the noise of a loaded machine).
   */
  memPattern?: boolean;
  /**
   * A session run once or twice (the shape probe): no graph optimisation, which pays off only over many runs
   * (resnet50: 0.24 s to create the session optimised, 8 ms without).
   */
  once?: boolean;
}

/** A session of `proto`; weights left in the model file (onnx/weights.ts) are read by onnxruntime from there. */
export async function createSession(proto: ModelProto, modelName: string, opts: SessionOptions = {}): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: opts.threads ?? 0,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    enableMemPattern: opts.memPattern ?? true,
    ...(opts.once ? { graphOptimizationLevel: 'disabled' } : {}),
    // No pre-packed copies of the weights: packing the fully connected layers took most of a large model's session
    // creation (alexnet 0.8 s, vgg11_bn 1.5 s, against 16 and 26 ms without) and held a second copy of them
    // (codes of 256 inputs, peak RSS of vgg11_bn 1,015 -> 790 MB). Runs are about as fast without (alexnet, 16
    // samples a run: 4.5 against 4.2 ms a sample; codes of 256 inputs 44.1 -> 48.1/s with the creation saved;
    // mnist-8 and the MLP fixtures unchanged).
    extra: { session: { disable_prepacking: '1' } },
  };
  try {
    return await withLoadableModel(proto, (model) => (typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options)));
  } catch (e) {
    throw new UserError(`${modelName}: onnxruntime cannot load this model: ${ortMessage(e)}`);
  }
}

export async function runSession(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  fetches: string[],
  modelName: string,
): Promise<Record<string, ort.Tensor>> {
  try {
    return await session.run(feeds, fetches);
  } catch (e) {
    throw new UserError(`${modelName}: onnxruntime failed to run the model on this input: ${ortMessage(e)}`);
  }
}

/** The useful line of an onnxruntime error, without its C++ source location. */
function ortMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const line = text.split('\n').find((l) => l.trim()) ?? text;
  return line
    .replace(/\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/g, '')
    .replace(/^Exception during initialization:\s*/, '')
    // shape inference ends some messages with ' in .' (an empty context)
    .replace(/ in \.$/, '')
    // the C++ source location and the function, e.g. 'file.h:46 void onnxruntime::f(const std::string&, int) '
    .replace(/\S+\.(cc|h):\d+ (?:(?:[\w:<>*&]+ )*\w*::[\w:~]+\([^()]*\)(?: const)? |\S+ )/g, '')
    .trim()
    .replace(/\.?$/, '.');
}
