/**
 * Code extraction: runs the code model on batches of inputs and returns full packed codes (layers concatenated in
 * layer order), predictions, and per-layer summaries for the statistics. Used unchanged by the worker, the CLI
 * and the tests.
 */
import { UserError } from './errors';
import { bytesFor, combineHash, hashWords, orBits } from './bits';
import { bitsWindowTable, maxPoolBits, oneHotBits, poolIndexBits, type WindowTable } from './maxpool';
import { codeModel, packedRowBytes, type LayerOutput } from './instrument';
import type { Lens, LensLayer } from './lens';
import type { CodeBatch } from '../shared/worker-protocol';

export type { CodeBatch };
import { createSession, ort, runSession } from './ort';


export class CodeExtractor {
  readonly codeBytes: number;
  readonly offsets: number[];
  readonly totalUnits: number;
  /** Per MaxPool layer, its window table (built once). */
  private readonly windows: (WindowTable | undefined)[];

  private constructor(
    readonly lens: Lens,
    readonly layers: LensLayer[],
    private readonly session: ort.InferenceSession,
    private readonly outputs: LayerOutput[],
  ) {
    let o = 0;
    this.offsets = layers.map((l) => ((o += l.units), o - l.units));
    this.totalUnits = o;
    this.codeBytes = bytesFor(o);
    this.windows = layers.map(bitsWindowTable);
  }

  static async create(lens: Lens, layers: LensLayer[], threads?: number): Promise<CodeExtractor> {
    if (layers.length === 0) throw new UserError(`${lens.model.name} has no piecewise-linear units to compute codes for.`);
    const built = codeModel(lens.model.proto, lens.model.opset, layers);
    const session = await createSession(built.proto, lens.model.name, { threads, memPattern: false });
    return new CodeExtractor(lens, layers, session, built.outputs);
  }

  /** Codes of n samples stored contiguously in `data` (n x sampleSize float32). */
  async run(data: Float32Array, n: number): Promise<CodeBatch> {
    const lens = this.lens;
    const size = lens.sampleSize;
    if (data.length !== n * size) throw new Error(`run: expected ${n * size} values, got ${data.length}`);
    const L = this.layers.length;
    const out: CodeBatch = {
      n,
      codes: new Uint8Array(n * this.codeBytes),
      preds: new Int32Array(n),
      active: new Uint32Array(n * L),
      layerHash: new Float64Array(n * L),
      prefixHash: new Float64Array(n * L),
    };
    for (const c of lens.chunks(data, n)) await this.runChunk(c.data, c.rows, c.m, c.start, out);
    return out;
  }

  private async runChunk(data: Float32Array, rows: number, m: number, start: number, out: CodeBatch): Promise<void> {
    const model = this.lens.model;
    const input = model.inputs[0]!;
    const firstOutput = model.outputs[0]!.name;
    const feeds = { [input.name]: new ort.Tensor('float32', data, [rows, ...this.lens.sampleShape]) };
    const fetches = [firstOutput, ...this.outputs.map((o) => o.name)];
    const result = await runSession(this.session, feeds, fetches, model.name);

    const logits = result[firstOutput]!.data as Float32Array;
    const per = logits.length / rows;
    for (let i = 0; i < m; i++) out.preds[start + i] = argmax(logits, i * per, per);

    const L = this.layers.length;
    const cb = this.codeBytes;
    for (let l = 0; l < L; l++) {
      const layer = this.layers[l]!;
      const { rows: packed, stride } = layerBits(this.outputs[l]!, result, rows, layer, this.windows[l]);
      const rowBytes = bytesFor(layer.units);
      const offset = this.offsets[l]!;
      // Rows are whole 64-bit words (padding bits zero): hashed and counted four bytes at a time.
      const words = new Int32Array(packed.buffer, packed.byteOffset, (rows * stride) >> 2);
      for (let i = 0; i < m; i++) {
        const s = start + i;
        const src = i * stride;
        // A byte-aligned layer is a plain copy (a native one when long enough to pay for the subarray).
        if (offset % 8 === 0 && rowBytes >= 64) out.codes.set(packed.subarray(src, src + rowBytes), s * cb + offset / 8);
        else orBits(out.codes, s * cb, offset, packed, src, layer.units);
        const h = hashWords(words, src >> 2, stride >> 2, l);
        out.active[s * L + l] = hashWords.popcount;
        out.layerHash[s * L + l] = h;
        out.prefixHash[s * L + l] = l === 0 ? h : combineHash(out.prefixHash[s * L + l - 1]!, h);
      }
    }
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

function argmax(a: Float32Array, start: number, len: number): number {
  let best = 0;
  for (let i = 1; i < len; i++) if (a[start + i]! > a[start + best]!) best = i;
  return best;
}

/**
 * One layer's packed bits for `rows` samples from a code model's outputs: rows of packedRowBytes(units) bytes
 * (whole 64-bit words, padding bits zero), taken as they leave onnxruntime or built here for MaxPool layers.
 */
export function layerBits(o: LayerOutput, result: Record<string, ort.Tensor>, rows: number, layer: LensLayer, windows?: WindowTable): { rows: Uint8Array; stride: number } {
  const stride = packedRowBytes(layer.units);
  const data = result[o.name]!.data;
  switch (o.kind) {
    case 'packed': {
      const bytes = data as Uint8Array;
      // Word reads need a 4-byte aligned start; onnxruntime's buffers are, but copying is cheap insurance.
      return { rows: bytes.byteOffset % 4 === 0 ? bytes : bytes.slice(), stride };
    }
    case 'argmax':
      return { rows: oneHotBits(data as Uint8Array | Int32Array, rows, o.window, stride), stride };
    case 'window':
      return { rows: maxPoolBits(data as Float32Array, rows, layer, windows, stride), stride };
    case 'indices':
      return { rows: poolIndexBits(data as Int32Array, rows, layer, stride), stride };
  }
}
