/** Plain forward passes of the unmodified model: the baseline that code extraction is measured against. */
import type { Lens } from './lens';
import { createSession, ort, runSession } from './ort';

export class PlainForward {
  private constructor(
    private readonly lens: Lens,
    private readonly session: ort.InferenceSession,
  ) {}

  static async create(lens: Lens, threads?: number): Promise<PlainForward> {
    return new PlainForward(lens, await createSession(lens.model.proto, lens.model.name, { threads }));
  }

  /** The first output for n samples, n x (output size) float32. */
  async run(data: Float32Array, n: number): Promise<Float32Array> {
    const { model, sampleShape } = this.lens;
    const inName = model.inputs[0]!.name;
    const outName = model.outputs[0]!.name;
    let out: Float32Array | undefined;
    for (const c of this.lens.chunks(data, n)) {
      const feeds = { [inName]: new ort.Tensor('float32', c.data, [c.rows, ...sampleShape]) };
      const y = (await runSession(this.session, feeds, [outName], model.name))[outName]!.data as Float32Array;
      const per = y.length / c.rows;
      out ??= new Float32Array(n * per);
      out.set(y.subarray(0, c.m * per), c.start * per);
    }
    return out ?? new Float32Array(0);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
