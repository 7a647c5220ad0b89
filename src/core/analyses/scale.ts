/**
 * Scaling activations (PAPER.md): multiply one layer's activation (its op's output) by alpha before all of its
 * consumers, run the rest of the model, and count what changes against alpha = 1: predictions, and the bits of
 * every later layer. A bias-free ReLU network without normalisation is positively homogeneous, so for alpha > 0
 * no later bit and no prediction changes (PAPER.md invariant 5).
 *
 * The graph edit is lossless: a Mul node with a new scalar graph input `__pl_alpha` is inserted between the op's
 * output and its consumers (graph outputs keep the unscaled tensor); one session serves every alpha. Later layers'
 * bits are computed in the graph and packed as in the code model (../instrument).
 */
import { UserError } from '../errors';
import { bytesFor, POPCOUNT } from '../bits';
import { codeModel, type LayerOutput } from '../instrument';
import { bitsWindowTable } from '../maxpool';
import { layerBits } from '../extract';
import { layerInfos, type Lens, type LensLayer } from '../lens';
import { DataType, onnx, type ModelProto } from '../onnx/model';
import { createSession, ort, runSession } from '../ort';
import type { ScaleAlphaResult, ScaleResult } from '../../shared/results';

export const ALPHA_INPUT = '__pl_alpha';
const SCALED = '__pl_scaled';

export interface ScaleOptions {
  /** Key of the layer whose activation is scaled. */
  layer: string;
  alphas: number[];
  threads?: number;
}

/**
 * The model with the layer's output multiplied by the scalar input ALPHA_INPUT before its consumers, plus packed
 * bits of `later` (built on the original node objects first, so the code model sees the layers' own nodes).
 */
export function scaledModel(lens: Lens, layer: LensLayer, later: LensLayer[]): { proto: ModelProto; outputs: LayerOutput[]; tensor: string } {
  const tensor = layer.plan.output;
  const built = codeModel(lens.model.proto, lens.model.opset, later);
  const g = built.proto.graph!;
  const added = new Set((g.node ?? []).slice((lens.model.proto.graph?.node ?? []).length));
  const mul = onnx.NodeProto.create({ opType: 'Mul', name: SCALED, input: [tensor, ALPHA_INPUT], output: [SCALED] });
  const nodes: onnx.INodeProto[] = [];
  for (const n of g.node ?? []) {
    // The code model's own nodes read what they read; original consumers of the tensor read the scaled copy.
    const rewired = !added.has(n) && (n.input ?? []).includes(tensor) ? onnx.NodeProto.create({ ...n, input: (n.input ?? []).map((i) => (i === tensor ? SCALED : i)) }) : n;
    nodes.push(rewired);
    if ((n.output ?? []).includes(tensor)) nodes.push(mul);
  }
  if (!nodes.includes(mul)) nodes.unshift(mul); // the tensor is a graph input (cannot happen for a layer output)
  const alpha = onnx.ValueInfoProto.create({ name: ALPHA_INPUT, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [] } } } });
  const graph = onnx.GraphProto.create({ ...g, node: nodes, input: [...(g.input ?? []), alpha] });
  return { proto: onnx.ModelProto.create({ ...built.proto, graph }), outputs: built.outputs, tensor };
}

export interface ScaledCodes {
  layer: LensLayer;
  later: LensLayer[];
  tensor: string;
  /** Per alpha (in the order given): predictions, and per later layer n packed rows of bytesFor(units). */
  preds: Int32Array[];
  bits: Uint8Array[][];
}

/** Predictions and later layers' bits of n samples with the layer's activation scaled by each alpha. */
export async function scaledCodes(lens: Lens, data: Float32Array, n: number, layerKey: string, alphas: number[], threads?: number): Promise<ScaledCodes> {
  const index = lens.layers.findIndex((l) => l.plan.key === layerKey);
  if (index < 0) throw new UserError(`No layer named '${layerKey}'; the layers are ${lens.layers.map((l) => `'${l.plan.key}'`).join(', ')}.`);
  const layer = lens.layers[index]!;
  const later = lens.layers.slice(index + 1);
  const { proto, outputs, tensor } = scaledModel(lens, layer, later);
  const session = await createSession(proto, lens.model.name, { threads });
  const rowBytes = later.map((l) => bytesFor(l.units));
  const windows = later.map(bitsWindowTable);
  const preds = alphas.map(() => new Int32Array(n));
  const bits = alphas.map(() => later.map((_, l) => new Uint8Array(n * rowBytes[l]!)));
  const model = lens.model;
  const firstOutput = model.outputs[0]!.name;
  try {
    for (const c of lens.chunks(data, n)) {
      for (let k = 0; k < alphas.length; k++) {
        const feeds = {
          [model.inputs[0]!.name]: new ort.Tensor('float32', c.data, [c.rows, ...lens.sampleShape]),
          [ALPHA_INPUT]: new ort.Tensor('float32', Float32Array.of(alphas[k]!), []),
        };
        const result = await runSession(session, feeds, [firstOutput, ...outputs.map((o) => o.name)], model.name);
        const y = result[firstOutput]!.data as Float32Array;
        const per = y.length / c.rows;
        for (let i = 0; i < c.m; i++) {
          let b = 0;
          for (let j = 1; j < per; j++) if (y[i * per + j]! > y[i * per + b]!) b = j;
          preds[k]![c.start + i] = b;
        }
        later.forEach((l, li) => {
          const rb = rowBytes[li]!;
          const { rows: packed, stride } = layerBits(outputs[li]!, result, c.rows, l, windows[li]);
          for (let i = 0; i < c.m; i++) bits[k]![li]!.set(packed.subarray(i * stride, i * stride + rb), (c.start + i) * rb);
        });
      }
    }
  } finally {
    await session.release();
  }
  return { layer, later, tensor, preds, bits };
}

export async function scaleActivations(lens: Lens, data: Float32Array, n: number, opts: ScaleOptions): Promise<Omit<ScaleResult, 'inputs_note'>> {
  if (!opts.alphas.length) throw new UserError('--alphas needs at least one value, for example 0.5,1,2.');
  if (opts.alphas.some((a) => !Number.isFinite(a))) throw new UserError(`--alphas must be finite numbers, not ${opts.alphas.join(',')}.`);
  const alphas = [1, ...opts.alphas.filter((a) => a !== 1)];
  const { layer, later, tensor, preds, bits } = await scaledCodes(lens, data, n, opts.layer, alphas, opts.threads);
  const rowBytes = later.map((l) => bytesFor(l.units));
  const model = lens.model;
  const results: ScaleAlphaResult[] = opts.alphas.map((alpha) => {
    const k = alphas.indexOf(alpha);
    let changed = 0;
    for (let i = 0; i < n; i++) if (preds[k]![i] !== preds[0]![i]) changed++;
    const perLayer: Record<string, number> = {};
    const codeChanged = new Uint8Array(n);
    let total = 0;
    later.forEach((l, li) => {
      const rb = rowBytes[li]!;
      const a = bits[k]![li]!;
      const b = bits[0]![li]!;
      let flips = 0;
      for (let i = 0; i < n; i++) {
        let d = 0;
        for (let j = 0; j < rb; j++) d += POPCOUNT[a[i * rb + j]! ^ b[i * rb + j]!]!;
        if (d) codeChanged[i] = 1;
        flips += d;
      }
      perLayer[l.plan.key] = n ? flips / n : 0;
      total += flips;
    });
    return {
      alpha,
      changed_predictions: n ? changed / n : 0,
      flipped_bits_per_layer: perLayer,
      flipped_bits_total: n ? total / n : 0,
      changed_codes: n ? codeChanged.reduce((s, x) => s + x, 0) / n : 0,
    };
  });
  return {
    model: model.name,
    layer: layer.plan.key,
    scaled_tensor: tensor,
    later_layers: layerInfos(later).map(({ key, units, module, module_from, source }) => ({ key, units, module, module_from, source })),
    n,
    alphas: results,
  };
}
