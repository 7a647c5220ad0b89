/**
 * Code extraction: runs the code model on batches of inputs and returns full packed codes (layers concatenated in
 * layer order), predictions, and per-layer summaries for the statistics. Used unchanged by the worker, the CLI
 * and the tests.
 */
import { UserError } from './errors';
import { bytesFor, combineHash, hashBytes, orBits } from './bits';
import { maxPoolBits, oneHotBits, windowTable, type WindowTable } from './maxpool';
import { codeModel, type LayerOutput } from './instrument';
import type { Lens, LensLayer } from './lens';
import { encodeModel } from './onnx/model';
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
    this.windows = layers.map((l) => (l.plan.rule.kind === 'argmax' && l.pool?.inSpatial.length !== 2 ? windowTable(l) : undefined));
  }

  static async create(lens: Lens, layers: LensLayer[], threads?: number): Promise<CodeExtractor> {
    if (layers.length === 0) throw new UserError(`${lens.model.name} has no piecewise-linear units to compute codes for.`);
    const built = codeModel(lens.model.proto, lens.model.opset, layers);
    const session = await createSession(encodeModel(built.proto), lens.model.name, { threads });
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
      const o = this.outputs[l]!;
      const rowBytes = bytesFor(layer.units);
      // Packed rows from the graph are padded to whole 64-bit groups; MaxPool rows are built here, unpadded.
      const stride = o.kind === 'packed' ? o.rowBytes : rowBytes;
      const data = result[o.name]!.data;
      const packed =
        o.kind === 'packed'
          ? (data as Uint8Array)
          : o.kind === 'argmax'
            ? oneHotBits(data as Uint8Array | Int32Array, rows, o.window, rowBytes)
            : maxPoolBits(data as Float32Array, rows, layer, this.windows[l]);
      for (let i = 0; i < m; i++) {
        const s = start + i;
        const src = i * stride;
        orBits(out.codes, s * cb, this.offsets[l]!, packed, src, layer.units);
        const h = hashBytes(packed, src, rowBytes, l);
        out.active[s * L + l] = hashBytes.popcount;
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
