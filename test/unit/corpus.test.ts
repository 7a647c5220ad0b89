/**
 * The bad-input corpus (Netron-style, data driven): one table of files and command lines run through the built
 * CLI, each with its expected outcome. A bad input must end with exit code 1 and exactly one line on stderr,
 * `polytope-lens: ...`, naming the problem (the `error` substring), with no stack trace; a good one must exit 0
 * with empty stderr and the facts of `ok` true of its --json output.
 *
 * Files: test/fixtures/corpus (regenerate with /usr/bin/python3 test/fixtures/corpus/make_corpus.py), the small
 * .npy files of test/fixtures/inputs/npy, test/fixtures/mlp.onnx (input [N, 10]) and test/fixtures/mnist-8.onnx.
 *
 * The second half checks invariant 1 of PAPER.md on mnist-8 through the engine: same full code for x and y
 * implies an affine model on the segment [x, y].
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { toHex } from '../../src/core/bits';
import { CodeExtractor } from '../../src/core/extract';
import { PlainForward } from '../../src/core/forward';
import { readNpy, Rng, toModelInput } from '../../src/core/inputs';
import { Lens } from '../../src/core/lens';
import type { CodesResult, ModelSummary } from '../../src/shared/results';
import { fixture, ROOT } from '../support/paths';

const CLI = join(ROOT, 'out/cli/main.js');
const M = 'test/fixtures/corpus/models';
const I = 'test/fixtures/corpus/inputs';
const NPY = 'test/fixtures/inputs/npy';
const IMG = 'test/fixtures/inputs/images';
const MLP = 'test/fixtures/mlp.onnx';
const MNIST = 'test/fixtures/mnist-8.onnx';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

interface Case {
  /** The file the case is about (relative to the repository root). */
  file: string;
  /** What it is. */
  what: string;
  /** Arguments after the CLI's path; run from the repository root. */
  args: string[];
  /** Failure expected: a substring of the one stderr line (after 'polytope-lens: '). */
  error?: string;
  /** Success expected: facts about the parsed --json output. */
  ok?: (out: Json) => void;
  /** Success expected, and the samples (code_hex, pred) must equal those of this other command line. */
  sameCodesAs?: string[];
}

const keys = (out: Json) => out.layers.map((l: Json) => l.key);
const codesOf = (out: CodesResult) => out.samples!.map((s) => [s.code_hex, s.pred]);

const CASES: Case[] = [
  // ---- model files that are not (usable) models ----
  { file: `${M}/empty.onnx`, what: 'empty file', args: ['summary', `${M}/empty.onnx`], error: 'empty.onnx is empty (0 bytes)' },
  {
    file: `${M}/truncated.onnx`,
    what: 'first half of test/fixtures/mlp.onnx',
    args: ['summary', `${M}/truncated.onnx`],
    error: 'truncated.onnx is truncated or corrupt',
  },
  {
    file: `${M}/random.onnx`,
    what: '4096 random bytes (seed 1234)',
    args: ['summary', `${M}/random.onnx`],
    error: 'random.onnx is not an ONNX model',
  },
  { file: `${M}/text.onnx`, what: 'a text file named .onnx', args: ['summary', `${M}/text.onnx`], error: 'text.onnx is a text file, not a binary ONNX model' },
  {
    file: `${M}/tensor.onnx`,
    what: 'a TensorProto serialized alone',
    args: ['summary', `${M}/tensor.onnx`],
    error: "tensor.onnx is a single ONNX tensor (a serialized TensorProto 'weights'), not a model",
  },
  {
    file: `${M}/graph.onnx`,
    what: 'a GraphProto serialized alone',
    args: ['codes', `${M}/graph.onnx`, '--probes', 'gaussian', '--n', '4'],
    error: 'graph.onnx is an ONNX GraphProto saved without its ModelProto',
  },
  {
    file: `${M}/opset30.onnx`,
    what: 'opset 30, newer than onnxruntime-node 1.30 supports',
    args: ['summary', `${M}/opset30.onnx`],
    error: 'opset30.onnx: onnxruntime cannot load this model: ONNX Runtime only *guarantees* support',
  },
  {
    file: `${M}/custom_domain.onnx`,
    what: "a custom op (com.example.Frobnicate) between two ReLUs",
    args: ['summary', `${M}/custom_domain.onnx`],
    error: 'custom_domain.onnx: onnxruntime cannot load this model: Fatal error: com.example:Frobnicate(-1) is not a registered function/op',
  },
  {
    file: `${M}/external_missing/mlp_ext.onnx`,
    what: 'external-data model without its data file',
    args: ['summary', `${M}/external_missing/mlp_ext.onnx`],
    error: "mlp_ext.onnx: the external data file 'mlp_ext.data' for initializer 'fc1.weight' is missing",
  },
  {
    file: `${M}/two_inputs.onnx`,
    what: 'two inputs (Add(a, b) -> Relu)',
    args: ['summary', `${M}/two_inputs.onnx`],
    error: 'two_inputs.onnx has 2 inputs (a, b); Polytope Lens analyses models with one input',
  },
  {
    file: `${M}/int64_input.onnx`,
    what: 'an int64 input (Cast -> Relu)',
    args: ['codes', `${M}/int64_input.onnx`, '--probes', 'gaussian', '--n', '4'],
    error: "int64_input.onnx: input 'ids' is int64; Polytope Lens needs a float32 input",
  },
  // Found by the fuzzer (tools/fuzz.ts): sizes that cannot be allocated, names with control characters.
  { file: `${M}/huge_dim.onnx`, what: 'input dimension 2^40', args: ['summary', `${M}/huge_dim.onnx`], error: "huge_dim.onnx: dimension 2^40 of input 'x' is too large" },
  {
    file: `${M}/huge_sample.onnx`,
    what: 'input [N, 65536, 65536]: 2^32 values per sample',
    args: ['codes', `${M}/huge_sample.onnx`, '--probes', 'gaussian', '--n', '2'],
    error: "huge_sample.onnx: input 'x' has 4.29e+9 values per sample [65536, 65536], above the limit of 2^28",
  },
  {
    file: `${M}/huge_batch.onnx`,
    what: 'batch fixed at 100000 with 4096 values per sample',
    args: ['summary', `${M}/huge_batch.onnx`],
    error: "huge_batch.onnx: input 'x' has its batch dimension fixed at 100000 in the file; Polytope Lens runs fixed batches of at most 1024",
  },
  {
    file: `${M}/odd_name.onnx`,
    what: 'an input name with a newline and a bell character: escaped, one line',
    args: ['summary', `${M}/odd_name.onnx`],
    error: "odd_name.onnx: input 'x\\x0ay\\x07' is int64",
  },
  { file: `${M}/nope.onnx`, what: 'a model path that does not exist', args: ['summary', `${M}/nope.onnx`], error: 'nope.onnx: no such file' },
  { file: `${M}/folder.onnx`, what: 'a folder passed as the model', args: ['summary', `${M}/folder.onnx`], error: 'folder.onnx is a folder, not an ONNX model file' },
  { file: '', what: 'no model at all', args: ['codes'], error: "'codes' needs a model file" },

  // ---- unusual models that work ----
  {
    file: `${M}/external/mlp_ext.onnx`,
    what: "mlp.onnx saved with external data (mlp_ext.data beside it)",
    args: ['codes', `${M}/external/mlp_ext.onnx`, '--inputs', 'test/fixtures/mlp.inputs.npy', '--json'],
    ok: (o) => assert.deepEqual([o.n, o.layers.length, o.code_bytes], [64, 2, 8]),
    sameCodesAs: ['codes', MLP, '--inputs', 'test/fixtures/mlp.inputs.npy', '--json'],
  },
  {
    file: `${M}/no_pwl.onnx`,
    what: 'no piecewise-linear unit (Gemm -> Sigmoid -> Gemm): summary works',
    args: ['summary', `${M}/no_pwl.onnx`, '--json'],
    ok: (o: ModelSummary) => {
      assert.deepEqual([o.layers.length, o.total_units], [0, 0]);
      assert.deepEqual(o.unsupported.map((u) => [u.node, u.op]), [['sig', 'Sigmoid']]);
    },
  },
  {
    file: `${M}/no_pwl.onnx`,
    what: 'no piecewise-linear unit: codes refuses',
    args: ['codes', `${M}/no_pwl.onnx`, '--inputs', `${I}/x_f64.npy`],
    error: 'no_pwl.onnx has no piecewise-linear units to compute codes for',
  },
  {
    file: `${M}/layernorm_softmax.onnx`,
    what: 'LayerNormalization and Softmax between ReLUs: listed as unsupported',
    args: ['summary', `${M}/layernorm_softmax.onnx`, '--json'],
    ok: (o: ModelSummary) => {
      assert.deepEqual(keys(o), ['relu0', 'relu1']);
      assert.deepEqual(o.unsupported.map((u) => [u.node, u.op]), [['ln', 'LayerNormalization'], ['softmax', 'Softmax']]);
    },
  },
  {
    file: `${M}/layernorm_softmax.onnx`,
    what: 'LayerNormalization and Softmax between ReLUs: codes still work',
    args: ['codes', `${M}/layernorm_softmax.onnx`, '--inputs', `${I}/x_f64.npy`, '--json'],
    ok: (o: CodesResult) => {
      assert.deepEqual([o.n, o.code_bytes, keys(o)], [6, 3, ['relu0', 'relu1']]);
      assert.equal(o.samples!.length, 6);
    },
  },
  {
    file: `${M}/unnamed.onnx`,
    what: 'nodes without names: keys are op_type + node index',
    args: ['summary', `${M}/unnamed.onnx`, '--json'],
    ok: (o: ModelSummary) => assert.deepEqual(o.layers.map((l) => [l.key, l.units, l.offset]), [['Relu1', 16, 0], ['Relu3', 8, 16]]),
  },
  {
    file: `${M}/unnamed.onnx`,
    what: 'unnamed nodes selected by their keys',
    args: ['codes', `${M}/unnamed.onnx`, '--inputs', `${I}/x_u8.npy`, '--layers', 'Relu3', '--json'],
    ok: (o: CodesResult) => assert.deepEqual([keys(o), o.layers[0]!.offset, o.n], [['Relu3'], 0, 4]),
  },
  {
    file: `${M}/opset7.onnx`,
    what: 'opset 7 / IR 3 model from onnx.helper (initializers listed as inputs)',
    args: ['codes', `${M}/opset7.onnx`, '--inputs', `${I}/x_f64.npy`, '--json'],
    ok: (o: CodesResult) => assert.deepEqual([o.n, o.layers.map((l) => l.units)], [6, [16, 8]]),
  },
  {
    file: `${M}/batch4.onnx`,
    what: 'batch fixed at 4, 10 inputs: chunks of 4, the last padded; equals the dynamic-batch model',
    args: ['codes', `${M}/batch4.onnx`, '--inputs', `${I}/x_10.npy`, '--json'],
    ok: (o: CodesResult) => assert.deepEqual([o.n, o.samples!.map((s) => s.index)], [10, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]),
    sameCodesAs: ['codes', `${M}/batch_dynamic.onnx`, '--inputs', `${I}/x_10.npy`, '--json'],
  },

  // ---- inputs for mlp.onnx ([N, 10]) ----
  {
    file: `${I}/x_5x7.npy`,
    what: 'wrong per-sample size [5, 7]',
    args: ['codes', MLP, '--inputs', `${I}/x_5x7.npy`],
    error: 'x_5x7.npy has shape [5, 7] but the model input needs [N, 10] (10 values per sample)',
  },
  {
    file: `${I}/x_f64.npy`,
    what: 'float64 [6, 10]: converted',
    args: ['codes', MLP, '--inputs', `${I}/x_f64.npy`, '--json'],
    ok: (o: CodesResult) => {
      assert.equal(o.n, 6);
      assert.match(o.inputs_note, /float64 \[6, 10\], converted to float32/);
    },
  },
  {
    file: `${I}/x_u8.npy`,
    what: 'uint8 [4, 10]: converted',
    args: ['codes', MLP, '--inputs', `${I}/x_u8.npy`, '--json'],
    ok: (o: CodesResult) => {
      assert.equal(o.n, 4);
      assert.match(o.inputs_note, /uint8 \[4, 10\], converted to float32/);
    },
  },
  {
    // toModelInput converts every integer dtype to float32 (exact for |v| < 2^24), so int64 works too.
    file: `${I}/x_i64.npy`,
    what: 'int64 [3, 10]: converted like the other integer dtypes',
    args: ['codes', MLP, '--inputs', `${I}/x_i64.npy`, '--json'],
    ok: (o: CodesResult) => {
      assert.equal(o.n, 3);
      assert.match(o.inputs_note, /int64 \[3, 10\], converted to float32/);
    },
  },
  {
    file: `${NPY}/fortran.npy`,
    what: 'Fortran-ordered array',
    args: ['codes', MLP, '--inputs', `${NPY}/fortran.npy`],
    error: 'fortran.npy: Fortran-ordered arrays are not supported',
  },
  { file: `${NPY}/object.npy`, what: 'object dtype', args: ['codes', MLP, '--inputs', `${NPY}/object.npy`], error: "object.npy: object arrays ('|O') are not supported" },
  {
    file: `${NPY}/truncated.npy`,
    what: 'data shorter than the header says',
    args: ['codes', MLP, '--inputs', `${NPY}/truncated.npy`],
    error: 'truncated.npy: the data is truncated: shape [3, 4] of float32 needs 48 bytes but the file has 43',
  },
  {
    file: `${I}/x_nan.npy`,
    what: 'a NaN at [1, 4]',
    args: ['codes', MLP, '--inputs', `${I}/x_nan.npy`],
    error: 'x_nan.npy: the value NaN at index [1, 4] (flat index 14) is not a finite number',
  },
  {
    file: `${I}/x_inf.npy`,
    what: 'a -Inf at [2, 7]',
    args: ['codes', MLP, '--inputs', `${I}/x_inf.npy`],
    error: 'x_inf.npy: the value -Infinity at index [2, 7] (flat index 27) is not a finite number',
  },
  {
    file: `${I}/x_nan.npy`,
    what: "a NaN through 'local' (the worker reads the file)",
    args: ['local', MLP, '--inputs', `${I}/x_nan.npy`],
    error: 'x_nan.npy: the value NaN at index [1, 4] (flat index 14) is not a finite number',
  },
  {
    file: `${I}/y_float.npy`,
    what: 'density-study labels saved as floats (refused as by cluster)',
    args: ['density-study', MLP, '--inputs', `${I}/x_f64.npy`, '--labels', `${I}/y_float.npy`],
    error: 'y_float.npy: labels must be integers but the array is float64; save it with y.astype(np.int64)',
  },
  {
    file: `${I}/y_short.npy`,
    what: 'density-study with fewer labels than inputs',
    args: ['density-study', MLP, '--inputs', `${I}/x_f64.npy`, '--labels', `${I}/y_short.npy`],
    error: 'y_short.npy has 3 labels but x_f64.npy has 6 inputs: a labels file needs exactly one label per input',
  },
  {
    file: MLP,
    what: 'uniform probes beyond float32 (they would be Infinity)',
    args: ['codes', MLP, '--probes', 'uniform', '--lo', '1e39', '--hi', '1e40', '--n', '3'],
    error: "the uniform probe range 1e+39..1e+40 is outside float32's finite range",
  },
  {
    file: `${I}/x_f64.npy`,
    what: 'path --to out of range',
    args: ['path', MLP, '--inputs', `${I}/x_f64.npy`, '--from', '0', '--to', '6'],
    error: '--to 6 is out of range: the inputs have 6 samples (valid indices 0..5)',
  },
  {
    file: `${I}/x_f64.npy`,
    what: 'path --from negative',
    args: ['path', MLP, '--inputs', `${I}/x_f64.npy`, '--from', '-1', '--to', '2'],
    error: "--from must be an integer of at least 0, not '-1'",
  },
  {
    file: `${I}/x_f64.npy`,
    what: 'polytope --index out of range',
    args: ['polytope', MLP, '--inputs', `${I}/x_f64.npy`, '--index', '6'],
    error: '--index 6 is out of range: the inputs have 6 samples (valid indices 0..5)',
  },
  {
    file: `${I}/x_f64.npy`,
    what: 'polytope without --index',
    args: ['polytope', MLP, '--inputs', `${I}/x_f64.npy`],
    error: '--index is required',
  },
  {
    file: `${I}/x_f64.npy`,
    what: 'polytope with a box that excludes the input',
    args: ['polytope', MLP, '--inputs', `${I}/x_f64.npy`, '--index', '0', '--box', '100,200'],
    error: 'Input 0 lies outside --box 100,200 (its values range from',
  },
  {
    file: `${I}/x_f64.npy`,
    what: 'polytope with a box that is not LO,HI',
    args: ['polytope', MLP, '--inputs', `${I}/x_f64.npy`, '--index', '0', '--box', '3,1'],
    error: "--box needs two numbers LO,HI with LO < HI, not '3,1'",
  },
  {
    file: `${M}/layernorm_softmax.onnx`,
    what: 'polytope of a model with LayerNorm and Softmax between its ReLUs',
    args: ['polytope', `${M}/layernorm_softmax.onnx`, '--inputs', `${I}/x_10.npy`, '--index', '0'],
    error: "layernorm_softmax.onnx has a LayerNormalization node ('ln') before layer 'relu1': the pre-activations are not affine inside a region",
  },
  {
    file: 'test/fixtures/gelu_tf.onnx',
    what: 'polytope of a model with GELU',
    args: ['polytope', 'test/fixtures/gelu_tf.onnx', '--inputs', 'test/fixtures/gelu_tf.inputs.npy', '--index', '0'],
    error: "gelu_tf.onnx has a Gelu layer ('/mlp/mlp.1/Erf'), a smooth nonlinearity: its regions are not polytopes",
  },
  {
    file: 'test/fixtures/torchvision/squeezenet1_1.onnx',
    what: 'polytope of a CNN whose affine forms would not fit in memory (SqueezeNet 1.1 at 64x64)',
    args: ['polytope', 'test/fixtures/torchvision/squeezenet1_1.onnx', '--compare', 'uniform', '--n', '1'],
    error: "squeezenet1_1.onnx is too large for 'polytope': its 275,",
  },
  {
    file: MLP,
    what: 'polytope --compare with an unknown group',
    args: ['polytope', MLP, '--compare', 'train,test'],
    error: "--compare group 'train' is not NAME=FILE.npy, uniform, gaussian, correct or misclassified",
  },
  {
    file: `${I}/x_f64.npy`,
    what: 'slice --plane index out of range',
    args: ['slice', MLP, '--inputs', `${I}/x_f64.npy`, '--plane', '0,1,9'],
    error: '--plane index 9 is out of range: 6 samples in',
  },
  {
    file: `${IMG}/corrupt_png`,
    what: 'an image folder with a truncated PNG',
    args: ['codes', MNIST, '--inputs', `${IMG}/corrupt_png`],
    error: 'corrupt_png/bad.png: corrupt or truncated PNG image (the file ends too early)',
  },
  {
    file: `${IMG}/corrupt_jpg`,
    what: 'an image folder with a corrupt JPEG',
    args: ['codes', MNIST, '--inputs', `${IMG}/corrupt_jpg`],
    error: 'corrupt_jpg/broken.jpg: corrupt or truncated JPEG image',
  },
  {
    file: `${IMG}/no_images`,
    what: 'a folder without images',
    args: ['codes', MNIST, '--inputs', `${IMG}/no_images`],
    error: 'no_images: no PNG or JPEG images in this folder',
  },
  {
    file: `${IMG}/ok`,
    what: 'images of different sizes and colour types: resized to 28x28 grey',
    args: ['codes', MNIST, '--inputs', `${IMG}/ok`, '--json'],
    ok: (o: CodesResult) => assert.ok(o.n >= 8 && o.samples!.length === o.n),
  },
  { file: `${I}/missing.npy`, what: 'a missing --inputs file', args: ['codes', MLP, '--inputs', `${I}/missing.npy`], error: 'missing.npy: no such file or folder' },
  { file: MLP, what: 'no inputs given', args: ['codes', MLP], error: "'codes' needs inputs: --inputs FILE.npy" },

  // ---- flags and commands ----
  { file: MLP, what: '--limit 0', args: ['codes', MLP, '--inputs', `${I}/x_f64.npy`, '--limit', '0'], error: "--limit must be an integer of at least 1, not '0'" },
  { file: MLP, what: '--limit abc', args: ['codes', MLP, '--inputs', `${I}/x_f64.npy`, '--limit', 'abc'], error: "--limit must be an integer of at least 1, not 'abc'" },
  {
    file: MLP,
    what: '--limit 2 keeps the first two inputs',
    args: ['codes', MLP, '--inputs', `${I}/x_f64.npy`, '--limit', '2', '--json'],
    ok: (o: CodesResult) => assert.deepEqual([o.n, o.samples!.length], [2, 2]),
  },
  // --near-ties (src/core/near-ties.ts)
  { file: MLP, what: '--near-tie-tol without --near-ties', args: ['codes', MLP, '--inputs', `${I}/x_f64.npy`, '--near-tie-tol', '1e-4'], error: '--near-tie-tol needs --near-ties.' },
  { file: MLP, what: '--near-tie-tol not a number', args: ['codes', MLP, '--inputs', `${I}/x_f64.npy`, '--near-ties', '--near-tie-tol', '-1'], error: "--near-tie-tol must be a number >= 0 (a share of each layer's largest |pre-activation|), got '-1'." },
  // --shard K/N: 1-based, 1 <= K <= N (src/core/shard.ts)
  { file: MLP, what: '--shard 3/2: K beyond N', args: ['codes', MLP, '--inputs', `${I}/x_f64.npy`, '--shard', '3/2'], error: '--shard 3/2 is not a shard: K and N whole numbers with 1 <= K <= N' },
  { file: MLP, what: '--shard 0/2: K is 1-based', args: ['codes', MLP, '--inputs', `${I}/x_f64.npy`, '--shard', '0/2'], error: '--shard 0/2 is not a shard' },
  { file: MLP, what: '--shard 1/0', args: ['codes', MLP, '--inputs', `${I}/x_f64.npy`, '--shard', '1/0'], error: '--shard 1/0 is not a shard' },
  { file: MLP, what: '--shard 2 (no N)', args: ['codes', MLP, '--inputs', `${I}/x_f64.npy`, '--shard', '2'], error: "--shard must be K/N, K and N whole numbers with 1 <= K <= N (K is 1-based: --shard 1/4 .. --shard 4/4), not '2'" },
  { file: MLP, what: '--shard -1/2', args: ['codes', MLP, '--inputs', `${I}/x_f64.npy`, '--shard', '-1/2'], error: "--shard must be K/N" },
  { file: MLP, what: '--shard 1.5/2', args: ['codes', MLP, '--inputs', `${I}/x_f64.npy`, '--shard', '1.5/2'], error: "--shard must be K/N" },
  { file: MLP, what: '--shard on a command that does not map over inputs', args: ['path', MLP, '--inputs', `${I}/x_f64.npy`, '--from', '0', '--to', '1', '--shard', '1/2'], error: "--shard splits the inputs of codes, local; 'path' does not map over inputs one by one" },
  {
    file: `${I}/x_f64.npy`,
    what: '--shard 2/4 of 6 rows: rows 1 and 2, with their global indices',
    args: ['codes', MLP, '--inputs', `${I}/x_f64.npy`, '--shard', '2/4', '--json'],
    ok: (o: CodesResult) => {
      assert.deepEqual([o.n, o.samples!.map((s) => s.index)], [2, [1, 2]]);
      assert.deepEqual(o.shard, { k: 2, n: 4, first: 1, total: 6 });
      assert.match(o.inputs_note, /; shard 2\/4: rows 1\.\.2 of 6$/);
    },
  },
  {
    file: MLP,
    what: 'local --shard 2/2 of 6 points: points 3..5',
    args: ['local', MLP, '--inputs', 'test/fixtures/mlp.inputs.npy', '--n', '6', '--shard', '2/2', '--json'],
    ok: (o: Json) => {
      assert.deepEqual(o.per_point.map((p: Json) => p.index), [3, 4, 5]);
      assert.deepEqual(o.shard, { k: 2, n: 2, first: 3, total: 6 });
    },
  },
  { file: MLP, what: 'more probes than one seed has streams', args: ['codes', MLP, '--probes', 'gaussian', '--n', '2000000000'], error: 'at most 2^30 (1073741824) probes per seed, not 2000000000' },
  { file: MLP, what: '--out-format parquet without --out', args: ['codes', MLP, '--inputs', `${I}/x_f64.npy`, '--out-format', 'parquet'], error: '--out-format needs --out FILE' },
  { file: MLP, what: 'unknown flag', args: ['codes', MLP, '--inputs', `${I}/x_f64.npy`, '--frobnicate'], error: "Unknown option '--frobnicate'; see polytope-lens --help" },
  { file: MLP, what: 'unknown command', args: ['frobnicate', MLP], error: "unknown command 'frobnicate'; commands: summary, codes" },
  {
    file: MNIST,
    what: '--ops Foo: no such op; the error lists the ops the model has',
    args: ['codes', MNIST, '--inputs', 'test/fixtures/mnist8.inputs.npy', '--ops', 'Foo'],
    error: 'The model has no layers of op Foo; it has Relu, MaxPool',
  },
  {
    file: MLP,
    what: '--layers nope',
    args: ['codes', MLP, '--inputs', `${I}/x_f64.npy`, '--layers', 'nope'],
    error: "No layer named 'nope'; run 'summary' to list the layer keys",
  },
  {
    file: MLP,
    what: 'both --ops and --layers',
    args: ['codes', MLP, '--inputs', `${I}/x_f64.npy`, '--ops', 'Relu', '--layers', '/act1/Relu'],
    error: 'Give either --ops or --layers, not both',
  },

  // ---- successes with facts ----
  {
    file: MNIST,
    what: 'mnist-8 summary',
    args: ['summary', MNIST, '--json'],
    ok: (o: ModelSummary) => {
      assert.deepEqual(keys(o), ['ReLU32', 'Pooling66', 'ReLU114', 'Pooling160']);
      assert.equal(o.total_units, 17984);
      assert.deepEqual(o.layers.map((l) => l.offset), [0, 6272, 12544, 15680]);
      assert.deepEqual(o.inputs, [{ name: 'Input3', shape: [1, 1, 28, 28], dtype: 'float32' }]);
    },
  },
  {
    file: MNIST,
    what: 'mnist-8 codes of Relu layers only: offsets restart at 0',
    args: ['codes', MNIST, '--inputs', 'test/fixtures/mnist8.inputs.npy', '--limit', '4', '--ops', 'Relu', '--json'],
    ok: (o: CodesResult) => {
      assert.deepEqual(o.layers.map((l) => [l.key, l.op, l.offset, l.units]), [['ReLU32', 'Relu', 0, 6272], ['ReLU114', 'Relu', 6272, 3136]]);
      assert.deepEqual(Object.keys(o.distinct_per_layer), ['ReLU32', 'ReLU114']);
      assert.equal(o.code_bytes, (6272 + 3136) / 8);
      for (const s of o.samples!) assert.equal(s.code_hex.length, 2 * o.code_bytes);
    },
  },
];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI as a child process (async, so the table's cases can overlap on a multi-core machine). */
function runCli(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function assertCleanError(r: Run, wanted: string, label: string): void {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(r.status, 1, `${label}: exit code (stderr: ${r.stderr})`);
  assert.equal(lines.length, 1, `${label}: one line on stderr, got:\n${r.stderr}`);
  const line = lines[0]!;
  assert.ok(line.startsWith('polytope-lens: '), `${label}: ${line}`);
  assert.ok(!/internal error|^\s+at /m.test(r.stderr), `${label}: stack trace or internal error: ${r.stderr}`);
  assert.ok(line.includes(wanted), `${label}: expected '${wanted}' in\n${line}`);
  assert.equal(r.stdout, '', `${label}: nothing on stdout`);
}

function assertOk(r: Run, label: string): Json {
  assert.equal(r.status, 0, `${label}: exit code (stderr: ${r.stderr})`);
  assert.equal(r.stderr, '', `${label}: stderr`);
  return JSON.parse(r.stdout);
}

test('the corpus table is well formed and its files exist', () => {
  for (const c of CASES) {
    assert.ok((c.error === undefined) !== (c.ok === undefined && c.sameCodesAs === undefined), `${c.what}: error xor success`);
    if (c.file && !/nope|missing/.test(c.file)) assert.ok(existsSync(join(ROOT, c.file)), c.file);
  }
  assert.ok(existsSync(fixture('mnist-8.onnx')), 'the pretrained mnist-8 lives in test/fixtures');
});

describe('bad-input corpus through the CLI', { concurrency: 3 }, () => {
  for (const c of CASES) {
    test(`${c.file || '(none)'}: ${c.what} -> ${c.error ? 'error' : 'ok'}`, async () => {
      const label = `polytope-lens ${c.args.join(' ')}`;
      const r = await runCli(c.args);
      if (c.error !== undefined) return assertCleanError(r, c.error, label);
      const out = assertOk(r, label);
      c.ok?.(out);
      if (c.sameCodesAs) {
        const other = assertOk(await runCli(c.sameCodesAs), c.sameCodesAs.join(' '));
        assert.deepEqual(codesOf(out), codesOf(other), `${label}: codes differ from ${c.sameCodesAs.join(' ')}`);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// PAPER.md invariant 1 on mnist-8: same full code for x and y => f((x+y)/2) = (f(x)+f(y))/2, same code on [x, y].

const REL_TOL = 1e-4;

/** Points x + t (y - x), computed in float64 and cast to float32, for each t. */
function segment(x: Float32Array, y: Float32Array, ts: number[]): Float32Array {
  const out = new Float32Array(ts.length * x.length);
  ts.forEach((t, k) => {
    for (let i = 0; i < x.length; i++) out[k * x.length + i] = x[i]! + t * (y[i]! - x[i]!);
  });
  return out;
}

/** max_i |f(mid)_i - (f(x)_i + f(y)_i)/2|, relative to the largest output magnitude (at least 1). */
function affineDeviation(fx: Float32Array, fy: Float32Array, fm: Float32Array): number {
  let dev = 0;
  let scale = 1;
  for (let i = 0; i < fx.length; i++) {
    const mean = (fx[i]! + fy[i]!) / 2;
    dev = Math.max(dev, Math.abs(fm[i]! - mean));
    scale = Math.max(scale, Math.abs(fx[i]!), Math.abs(fy[i]!));
  }
  return dev / scale;
}

describe('mnist-8: invariant 1 (one code on a segment means one affine map)', () => {
  test('pairs with identical full codes: affine midpoint and the same code at 9 interior points; far pairs are not affine', async () => {
    const lens = await Lens.open(fixture('mnist-8.onnx'));
    const ex = await CodeExtractor.create(lens, lens.layers);
    const fwd = await PlainForward.create(lens);
    try {
      const size = lens.sampleSize;
      const all = toModelInput(readNpy(fixture('mnist8.inputs.npy')), lens.sampleShape, 'mnist8.inputs.npy');
      const sample = (i: number) => all.data.slice(i * size, (i + 1) * size);
      const codes = async (pts: Float32Array, n: number) => {
        const b = await ex.run(pts, n);
        return Array.from({ length: n }, (_, i) => toHex(b.codes, i * ex.codeBytes, ex.codeBytes));
      };
      const rng = new Rng(11);
      const ts = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

      // x: a digit; y: x plus Gaussian noise (std 1e-3 or 1e-2 on the 0..255 scale) on the digit's pixels; pairs are
      // kept when the full codes agree. The background stays exactly 0: there, MaxPool windows hold equal values
      // (the conv's bias), and noise would move their argmax (a tie) even at 1e-6.
      let samePairs = 0;
      let worst = 0;
      for (let i = 0; i < 8; i++) {
        for (const eps of [1e-3, 1e-2]) {
          const x = sample(i);
          const y = x.map((v) => (v === 0 ? 0 : v + eps * rng.normal()));
          const [cx, cy] = await codes(new Float32Array([...x, ...y]), 2);
          if (cx !== cy) continue;
          samePairs++;
          const inner = await codes(segment(x, y, ts), ts.length);
          inner.forEach((c, k) => assert.equal(c, cx, `digit ${i}, eps ${eps}: the code changes at t = ${ts[k]}`));
          const [fx, fy, fm] = [await fwd.run(x, 1), await fwd.run(y, 1), await fwd.run(segment(x, y, [0.5]), 1)];
          const dev = affineDeviation(fx, fy, fm);
          worst = Math.max(worst, dev);
          assert.ok(dev <= REL_TOL, `digit ${i}, eps ${eps}: f(mid) deviates from the mean of the ends by ${dev} (relative)`);
        }
      }
      assert.ok(samePairs >= 8, `only ${samePairs} of 16 perturbed pairs kept the full code`);

      // Control: two different digits, far apart, have different codes, and f is not affine between them.
      let violated = 0;
      for (const [i, j] of [[0, 1], [2, 3], [4, 5], [6, 7]] as const) {
        const [x, y] = [sample(i), sample(j)];
        const [cx, cy] = await codes(new Float32Array([...x, ...y]), 2);
        assert.notEqual(cx, cy, `digits ${i} and ${j} share a code`);
        const dev = affineDeviation(await fwd.run(x, 1), await fwd.run(y, 1), await fwd.run(segment(x, y, [0.5]), 1));
        if (dev > 100 * REL_TOL) violated++;
      }
      assert.ok(violated >= 3, `only ${violated} of 4 far pairs deviate from affinity by more than ${100 * REL_TOL}`);
    } finally {
      await Promise.all([ex.dispose(), fwd.dispose()]);
    }
  });
});
