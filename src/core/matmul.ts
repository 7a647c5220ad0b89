/**
 * Dense float64 matrix products through onnxruntime: a one-node MatMul model (onnxruntime has a double MatMul
 * kernel), so the polytope's ray shooting (rows x directions, up to ~10^10 multiply-adds on mnist-8) runs in
 * onnxruntime's blocked, multi-threaded GEMM instead of a JavaScript loop (about 50 times slower).
 *
 *   const mm = await MatMul64.create(threads);
 *   const C = await mm.run(A, m, k, B, n);   // A: m x k, B: k x n, row-major; C: m x n
 */
import { DataType, onnx } from './onnx/model';
import { createSession, ort, runSession } from './ort';

export class MatMul64 {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(threads?: number): Promise<MatMul64> {
    const vi = (name: string, dims: string[]) =>
      onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: DataType.DOUBLE, shape: { dim: dims.map((d) => ({ dimParam: d })) } } } });
    const graph = onnx.GraphProto.create({
      name: 'matmul64',
      node: [onnx.NodeProto.create({ opType: 'MatMul', input: ['A', 'B'], output: ['C'], name: 'mm' })],
      input: [vi('A', ['m', 'k']), vi('B', ['k', 'n'])],
      output: [vi('C', ['m', 'n'])],
    });
    const proto = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], producerName: 'polytope-lens', graph });
    return new MatMul64(await createSession(proto, 'matmul64', { threads }));
  }

  async run(A: Float64Array, m: number, k: number, B: Float64Array, n: number): Promise<Float64Array> {
    const feeds = { A: new ort.Tensor('float64', A.subarray(0, m * k), [m, k]), B: new ort.Tensor('float64', B.subarray(0, k * n), [k, n]) };
    const out = await runSession(this.session, feeds, ['C'], 'matmul64');
    return out.C!.data as Float64Array;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
