// Input readers: .npy (against bytes numpy wrote), image folders (against PIL), the seeded PRNG, probes, and the
// source sniffing entry point. Fixtures: test/fixtures/inputs (regenerate with make_inputs.py).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  describeSource,
  encodeNpy,
  loadImageFiles,
  loadImageFolder,
  loadInputs,
  makeProbes,
  NdArray,
  parseNpy,
  readNpy,
  resizeBilinear,
  Rng,
  toLabels,
  toModelInput,
} from '../../src/core/inputs';

function repoRoot(): string {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('package.json not found above ' + __dirname);
    d = up;
  }
  return d;
}
const FIX = join(repoRoot(), 'test', 'fixtures', 'inputs');
const NPY = join(FIX, 'npy');
const IMG = join(FIX, 'images');

interface Expected {
  npy: Record<string, { dtype: string; shape: number[]; values: (number | string)[] }>;
  images: Record<string, { width: number; height: number; rgb01: number[][][]; lossy: boolean }>;
  resize: { h: number; w: number; oh: number; ow: number; src: number[]; out: number[] }[];
}
const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as Expected;

const tmp = mkdtempSync(join(tmpdir(), 'pl-inputs-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function userError(message: string | RegExp): { name: string; message: string | RegExp } {
  return { name: 'UserError', message };
}

function close(actual: ArrayLike<number>, wanted: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, wanted.length, `${what}: length`);
  for (let i = 0; i < wanted.length; i++) {
    if (!(Math.abs(actual[i]! - wanted[i]!) <= tol)) assert.fail(`${what}[${i}]: ${actual[i]} vs ${wanted[i]} (tol ${tol})`);
  }
}

const flat = (planes: number[][][]): number[] => planes.flat(2);

// ---------------------------------------------------------------------------------------------------------------
describe('npy: reading what numpy wrote', () => {
  for (const [file, want] of Object.entries(expected.npy)) {
    test(`${file} reads as ${want.dtype} ${JSON.stringify(want.shape)}`, () => {
      const arr = readNpy(join(NPY, file));
      assert.equal(arr.dtype, want.dtype);
      assert.deepEqual(arr.shape, want.shape);
      if (want.dtype === 'int64') {
        assert.ok(arr.data instanceof BigInt64Array);
        assert.deepEqual([...arr.data].map(String), want.values);
      } else {
        assert.deepEqual(Array.from(arr.data as ArrayLike<number>), want.values);
      }
    });
  }

  test('typed array classes follow the dtype', () => {
    const cls = (f: string) => readNpy(join(NPY, f)).data.constructor.name;
    assert.equal(cls('f32_c.npy'), 'Float32Array');
    assert.equal(cls('f64.npy'), 'Float64Array');
    assert.equal(cls('u8.npy'), 'Uint8Array');
    assert.equal(cls('i8.npy'), 'Int8Array');
    assert.equal(cls('i32.npy'), 'Int32Array');
    assert.equal(cls('labels_i64.npy'), 'BigInt64Array');
    assert.equal(cls('bool.npy'), 'Uint8Array');
  });

  test('zero-copy when aligned, a copy when the data offset is misaligned', () => {
    const bytes = new Uint8Array(readFileSync(join(NPY, 'f64.npy')));
    const arr = parseNpy(bytes, 'f64.npy');
    assert.equal(arr.data.buffer, bytes.buffer);
    assert.equal(arr.data.byteOffset, 128);

    const mis = new Uint8Array(readFileSync(join(NPY, 'misaligned.npy')));
    const arr2 = parseNpy(mis, 'misaligned.npy');
    assert.notEqual(arr2.data.buffer, mis.buffer);
    assert.deepEqual(Array.from(arr2.data as Float64Array), [1, -0.5, 1e-310]);

    // The same aligned file placed at an odd offset of a bigger buffer is copied too.
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const arr3 = parseNpy(shifted.subarray(1), 'f64.npy');
    assert.notEqual(arr3.data.buffer, shifted.buffer);
    assert.deepEqual(Array.from(arr3.data as Float64Array), expected.npy['f64.npy']!.values);
  });

  test('encodeNpy writes exactly the bytes np.save writes', () => {
    for (const f of ['f32_c.npy', 'f64.npy', 'u8.npy', 'i8.npy', 'i32.npy', 'labels_i64.npy', 'bool.npy', 'scalar.npy', 'empty.npy', 'samples_10x8.npy']) {
      const bytes = new Uint8Array(readFileSync(join(NPY, f)));
      assert.deepEqual(Buffer.from(encodeNpy(parseNpy(bytes, f))), Buffer.from(bytes), f);
    }
  });

  test('encodeNpy round-trips a long shape and a view into a bigger buffer', () => {
    const big = new Float32Array(10);
    for (let i = 0; i < 10; i++) big[i] = i / 7;
    const arr: NdArray = { dtype: 'float32', shape: [1, 2, 1, 1, 3], data: big.subarray(2, 8) };
    const enc = encodeNpy(arr);
    assert.equal((enc.length - 6 * 4) % 64, 0);
    const back = parseNpy(enc, 'x.npy');
    assert.deepEqual(back.shape, arr.shape);
    assert.deepEqual(Array.from(back.data as Float32Array), Array.from(big.subarray(2, 8)));
    assert.throws(() => encodeNpy({ dtype: 'uint8', shape: [3], data: new Uint8Array(2) }), /needs 3 values/);
  });
});

describe('npy: errors', () => {
  const cases: [string, string][] = [
    ['not_npy.npy', 'not_npy.npy: not a .npy file (it does not start with the NumPy magic string); save the array with np.save'],
    ['fortran.npy', 'fortran.npy: Fortran-ordered arrays are not supported; save it with np.ascontiguousarray'],
    ['object.npy', "object.npy: object arrays ('|O') are not supported; save a numeric array, e.g. np.asarray(x, dtype=np.float32)"],
    ['big_endian.npy', "big_endian.npy: big-endian data ('>f4') is not supported; save it with x.astype('<f4')"],
    ['float16.npy', "float16.npy: dtype '<f2' (float16) is not supported; use float32, float64, uint8, int8, int32, int64 or bool, e.g. x.astype(np.float32)"],
    ['structured.npy', 'structured.npy: structured (record) arrays are not supported; save a plain numeric array, e.g. np.stack([x[f] for f in x.dtype.names], axis=-1)'],
    ['truncated.npy', 'truncated.npy: the data is truncated: shape [3, 4] of float32 needs 48 bytes but the file has 43'],
    ['bad_header.npy', "bad_header.npy: the .npy header cannot be parsed (unexpected '<' at position 10); save the array again with np.save"],
    ['short_header.npy', 'short_header.npy: the .npy header is truncated (it announces 200 bytes but the file is shorter)'],
    ['bad_version.npy', 'bad_version.npy: .npy format version 7.0 is not supported (only 1.0, 2.0 and 3.0); save it again with np.save'],
  ];
  for (const [file, message] of cases) {
    test(file, () => assert.throws(() => readNpy(join(NPY, file)), userError(message)));
  }

  test('missing keys, bad shape, unicode dtype, missing file, a folder', () => {
    const make = (h: string) => {
      const hb = Buffer.from(h + '\n', 'latin1');
      return new Uint8Array(Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, hb.length & 255, hb.length >> 8]), hb]));
    };
    assert.throws(
      () => parseNpy(make("{'descr': '<f4', 'shape': (2,)}"), 'k.npy'),
      userError("k.npy: the .npy header lacks one of 'descr', 'fortran_order' and 'shape'; save the array again with np.save"),
    );
    assert.throws(
      () => parseNpy(make("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1)}"), 's.npy'),
      userError("s.npy: the .npy header's 'shape' is not a tuple of non-negative integers"),
    );
    assert.throws(
      () => parseNpy(make("{'descr': '<U5', 'fortran_order': False, 'shape': (2,)}"), 'u.npy'),
      userError("u.npy: dtype '<U5' (unicode strings) is not supported; use float32, float64, uint8, int8, int32, int64 or bool, e.g. x.astype(np.float32)"),
    );
    assert.throws(() => parseNpy(make('[1, 2]'), 'l.npy'), userError('l.npy: the .npy header is not a dictionary; save the array again with np.save'));
    assert.throws(() => readNpy(join(NPY, 'nope.npy')), userError('nope.npy: file not found'));
    assert.throws(() => readNpy(NPY), userError('npy: is a folder, not a file'));
  });
});

describe('npy: toModelInput and toLabels', () => {
  const x = () => readNpy(join(NPY, 'samples_10x8.npy'));
  const want = Float32Array.from(expected.npy['samples_10x8.npy']!.values as number[]);

  test('[N, prod], [N, ...sampleShape] and other layouts with the same per-sample size', () => {
    for (const shape of [[8], [2, 4], [2, 2, 2], [1, 8]]) {
      const r = toModelInput(x(), shape, 'x.npy');
      assert.equal(r.n, 10);
      assert.deepEqual(r.data, want);
    }
    const r = toModelInput(readNpy(join(NPY, 'samples_4x2x2x2.npy')), [8], 'x.npy');
    assert.equal(r.n, 4);
  });

  test('a single sample of exactly sampleShape, a scalar, an empty batch', () => {
    const a = readNpy(join(NPY, 'f32_c.npy'));
    const r = toModelInput(a, [3, 4], 'f.npy');
    assert.equal(r.n, 1);
    assert.equal(r.data, a.data); // float32 is not copied
    assert.equal(toModelInput(a, [4], 'f.npy').n, 3);
    assert.equal(toModelInput(readNpy(join(NPY, 'scalar.npy')), [1], 's.npy').n, 1);
    const e = toModelInput(readNpy(join(NPY, 'empty.npy')), [4], 'e.npy');
    assert.equal(e.n, 0);
    assert.equal(e.data.length, 0);
  });

  test('integer and bool arrays convert to float32', () => {
    const u8 = toModelInput(readNpy(join(NPY, 'u8.npy')), [3], 'u8.npy');
    assert.deepEqual(Array.from(u8.data), [0, 1, 127, 128, 254, 255]);
    const i64 = toModelInput(readNpy(join(NPY, 'labels_i64.npy')), [1], 'l.npy');
    assert.deepEqual(Array.from(i64.data), [0, 1, 2, 9, 3]);
    const b = toModelInput(readNpy(join(NPY, 'bool.npy')), [2], 'b.npy');
    assert.deepEqual(Array.from(b.data), [1, 0, 0, 1]);
  });

  test('shape mismatch names both shapes', () => {
    assert.throws(
      () => toModelInput(x(), [7], 'x.npy', { inputName: 'input' }),
      userError("x.npy has shape [10, 8] but the model input 'input' needs [N, 7] (7 values per sample)"),
    );
    assert.throws(
      () => toModelInput(x(), [1, 3, 3], 'x.npy'),
      userError('x.npy has shape [10, 8] but the model input needs [N, 1, 3, 3] (9 values per sample)'),
    );
  });

  test('NaN, Infinity and float32 overflow are reported with the first bad index', () => {
    assert.throws(
      () => toModelInput(readNpy(join(NPY, 'nan.npy')), [3], 'nan.npy'),
      userError('nan.npy: the value NaN at index [1, 1] (flat index 4) is not a finite number; clean or drop it before probing'),
    );
    assert.throws(
      () => toModelInput(readNpy(join(NPY, 'inf.npy')), [3], 'inf.npy'),
      userError('inf.npy: the value -Infinity at index [1, 2] (flat index 5) is not a finite number; clean or drop it before probing'),
    );
    assert.throws(
      () => toModelInput(readNpy(join(NPY, 'overflow.npy')), [2], 'o.npy'),
      userError('o.npy: the value 1e+300 at index [1, 0] (flat index 2) is too large for float32'),
    );
    const ok = toModelInput(readNpy(join(NPY, 'nan.npy')), [3], 'nan.npy', { allowNonFinite: true });
    assert.ok(Number.isNaN(ok.data[4]));
    assert.equal(ok.data[5], Infinity);
  });

  test('toLabels', () => {
    const l = toLabels(readNpy(join(NPY, 'labels_i64.npy')), 'y.npy');
    assert.ok(l instanceof Int32Array);
    assert.deepEqual(Array.from(l), [0, 1, 2, 9, 3]);
    assert.deepEqual(Array.from(toLabels(readNpy(join(NPY, 'labels_col.npy')), 'y.npy')), [3, 1, 4]);
    assert.deepEqual(Array.from(toLabels(readNpy(join(NPY, 'i8.npy')), 'y.npy')), [-128, -1, 0, 127]);
    assert.deepEqual(Array.from(toLabels(readNpy(join(NPY, 'i32.npy')), 'y.npy')), [-2147483648, 0, 7, 2147483647]);
    assert.throws(
      () => toLabels(readNpy(join(NPY, 'labels_f32.npy')), 'y.npy'),
      userError('y.npy: labels must be integers but the array is float32; save it with y.astype(np.int64)'),
    );
    assert.throws(
      () => toLabels(readNpy(join(NPY, 'labels_2d.npy')), 'y.npy'),
      userError('y.npy: labels must be a 1-D array of class ids but it has shape [2, 3]'),
    );
    assert.throws(
      () => toLabels(readNpy(join(NPY, 'labels_big.npy')), 'y.npy'),
      userError('y.npy: the label 1099511627776 at index [2] is out of range for a class id'),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('images', () => {
  const OK = join(IMG, 'ok');

  for (const [file, want] of Object.entries(expected.images)) {
    test(`${file} decodes like PIL (RGB and grey)`, () => {
      const tol = want.lossy ? 3 / 255 : 1e-6; // jpeg-js and libjpeg differ by a level or two
      const { width: w, height: h } = want;
      const rgb = loadImageFiles([join(OK, file)], [3, h, w]);
      assert.equal(rgb.n, 1);
      close(rgb.data, flat(want.rgb01), tol, file);
      const grey = loadImageFiles([join(OK, file)], [h, w], { scale: '0..255' });
      const [r, g, b] = want.rgb01.map((p) => p.flat());
      const luma = r!.map((v, i) => 255 * (0.299 * v + 0.587 * g![i]! + 0.114 * b![i]!));
      close(grey.data, luma, tol * 255, file + ' grey');
    });
  }

  test('a folder: sorted PNG/JPEG files only, no recursion, resized, with a note', () => {
    const r = loadImageFolder(OK, [1, 4, 4]);
    assert.deepEqual(
      r.files.map((f) => f.slice(OK.length + 1)),
      ['a_grey.png', 'b_rgb.PNG', 'c_rgba.png', 'd_palette.png', 'e_grey16.png', 'f_rgb.jpg', 'g_grey.JPEG', 'h_bw.png'],
    );
    assert.equal(r.n, 8);
    assert.equal(r.data.length, 8 * 16);
    assert.equal(
      r.note,
      '8 images (6 PNG, 2 JPEG), 7 of them resized from various sizes to 4x4 pixels (antialiased bilinear, as PIL), converted to grey (ITU-R 601 luma), transparency ignored, scaled to 0..1, channel-first [1, 4, 4]',
    );
    for (const v of r.data) assert.ok(v >= 0 && v <= 1);
    // Sample 2 (c_rgba.png) is 4x4 already: it is its luma, untouched.
    const c = expected.images['c_rgba.png']!.rgb01.map((p) => p.flat());
    close(r.data.subarray(32, 48), c[0]!.map((v, i) => 0.299 * v + 0.587 * c[1]![i]! + 0.114 * c[2]![i]!), 1e-6, 'c_rgba');
    // Sample 0 (a_grey.png, 5x4) is PIL's bilinear resize of its values.
    const a = expected.images['a_grey.png']!;
    close(r.data.subarray(0, 16), resizeBilinear(a.rgb01[0]!.flat(), 4, 5, 4, 4), 1e-7, 'a_grey');
  });

  test('grey shapes [1,H,W], [H,W] and flat [H*W] agree; 0..255 is 255 times 0..1', () => {
    const a = loadImageFolder(join(IMG, 'same_size'), [1, 3, 3]);
    const b = loadImageFolder(join(IMG, 'same_size'), [3, 3]);
    const c = loadImageFolder(join(IMG, 'same_size'), [9], { scale: '0..255' });
    assert.deepEqual(a.data, b.data);
    close(c.data, Array.from(a.data, (v) => v * 255), 1e-4, 'scaled');
    assert.equal(c.note, '3 images (PNG) resized from 4x4 to 3x3 pixels (antialiased bilinear, as PIL), grey, scaled to 0..255, channel-first [1, 3, 3]');
    const d = loadImageFolder(join(IMG, 'same_size'), [3, 4, 4]);
    assert.equal(d.note, '3 images (PNG) of 4x4 pixels (no resizing needed), RGB (grey repeated to 3 channels), scaled to 0..1, channel-first [3, 4, 4]');
    assert.deepEqual(Array.from(d.data.subarray(48, 52)), [60 / 255, 60 / 255, 60 / 255, 60 / 255].map(Math.fround));
  });

  test('content decides the format: a JPEG named .png is read', () => {
    const r = loadImageFolder(join(IMG, 'renamed'), [3, 8, 8]);
    close(r.data, flat(expected.images['f_rgb.jpg']!.rgb01), 3 / 255, 'renamed');
  });

  test('errors', () => {
    assert.throws(() => loadImageFolder(join(IMG, 'missing'), [1, 4, 4]), userError('missing: folder not found'));
    assert.throws(() => loadImageFolder(join(OK, 'a_grey.png'), [1, 4, 4]), userError('a_grey.png: is a file, not a folder'));
    assert.throws(
      () => loadImageFolder(join(IMG, 'no_images'), [1, 4, 4]),
      userError('no_images: no PNG or JPEG images in this folder (*.png, *.jpg, *.jpeg)'),
    );
    assert.throws(
      () => loadImageFolder(join(IMG, 'only_gif'), [1, 4, 4]),
      userError('only_gif: no PNG or JPEG images in this folder (found 2 .bmp, .gif files, which are not supported; convert them to PNG)'),
    );
    assert.throws(() => loadImageFolder(join(IMG, 'corrupt_png'), [1, 4, 4]), userError('corrupt_png/bad.png: corrupt or truncated PNG image (the file ends too early)'));
    assert.throws(() => loadImageFolder(join(IMG, 'corrupt_jpg'), [1, 4, 4]), userError(/^corrupt_jpg\/broken\.jpg: corrupt or truncated JPEG image \(decoder: .+\)$/));
    assert.throws(
      () => loadImageFolder(join(IMG, 'mislabelled'), [1, 4, 4]),
      userError('mislabelled/fake.png: not a PNG or JPEG image (its content is GIF); convert it to PNG'),
    );
    assert.throws(
      () => loadImageFolder(OK, [10]),
      userError('ok: the model input needs [N, 10], which is not an image shape ([C, H, W] with C = 1 or 3, [H, W], or a flat square [H*W]); give a .npy file instead'),
    );
    assert.throws(
      () => loadImageFolder(OK, [28, 28, 3]),
      userError('ok: the model input needs [N, 28, 28, 3], which is not an image shape ([C, H, W] with C = 1 or 3, [H, W], or a flat square [H*W]); channels-last inputs are not supported, so give a .npy file instead'),
    );
  });
});

describe('bilinear resize (PIL BILINEAR)', () => {
  test('known small cases', () => {
    // Enlarging 2 -> 4: pixel centres at 0.25, 0.75, 1.25, 1.75 of the source (edges clamp).
    close(resizeBilinear([0, 1], 1, 2, 1, 4), [0, 0.25, 0.75, 1], 1e-7, '1d up');
    close(
      resizeBilinear([0, 1, 2, 3], 2, 2, 4, 4),
      [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3],
      1e-6,
      '2d up',
    );
    // Shrinking 4 -> 2: the triangle widens to 2 pixels; output 0 weighs pixels 0, 1, 2 by .75, .75, .25 (weights renormalised at the edge).
    close(resizeBilinear([0, 1, 2, 3], 1, 4, 1, 2), [1.25 / 1.75, 4 / 1.75], 1e-6, '1d down');
    // Shrinking by an integer factor of 4 with a constant image stays constant; identity is exact.
    close(resizeBilinear(new Array(64).fill(0.3), 8, 8, 2, 2), [0.3, 0.3, 0.3, 0.3], 1e-7, 'constant');
    const src = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    close(resizeBilinear(src, 2, 3, 2, 3), src.map(Math.fround), 0, 'identity');
  });

  for (const c of expected.resize) {
    test(`${c.h}x${c.w} -> ${c.oh}x${c.ow} matches PIL`, () => {
      close(resizeBilinear(c.src, c.h, c.w, c.oh, c.ow), c.out, 2e-6, 'resize');
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
describe('random', () => {
  const take = (r: Rng, k: number) => Array.from({ length: k }, () => r.nextU32());

  test('xoshiro128** matches the reference implementation from state (1, 2, 3, 4)', () => {
    assert.deepEqual(take(Rng.fromState(1, 2, 3, 4), 6), [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  test('seeding through splitmix32 gives fixed streams (golden values)', () => {
    assert.deepEqual(take(new Rng(42), 4), [2837322924, 544945897, 479756282, 3500138142]);
    assert.deepEqual(take(new Rng(0), 4), [3809008728, 1133695204, 53579671, 2891528803]);
    assert.deepEqual(take(new Rng(-1), 4), [2466671647, 704075991, 1425070668, 2363080060]);
    assert.deepEqual(take(new Rng(2 ** 40 + 5), 4), [1121981940, 3042771919, 1158888507, 1595773982]);
    assert.throws(() => new Rng(1.5), RangeError);
  });

  test('same seed, same sequence of every kind; different seeds differ', () => {
    const run = (seed: number) => {
      const r = new Rng(seed);
      return [r.uniform(), r.normal(), r.int(10), r.uniform(-2, 3), r.normal(5, 2), ...r.permutation(8), r.normal()];
    };
    assert.deepEqual(run(7), run(7));
    assert.notDeepEqual(run(7), run(8));
    assert.equal(new Rng(123).normal().toString(), new Rng(123).normal().toString());
  });

  test('uniform, normal and int statistics', () => {
    const r = new Rng(2024);
    const N = 100_000;
    let su = 0;
    let mn = 1;
    let mx = 0;
    for (let i = 0; i < N; i++) {
      const u = r.uniform();
      su += u;
      mn = Math.min(mn, u);
      mx = Math.max(mx, u);
    }
    assert.ok(mn >= 0 && mx < 1);
    assert.ok(Math.abs(su / N - 0.5) < 0.005, `uniform mean ${su / N}`);

    let s = 0;
    let s2 = 0;
    let s4 = 0;
    for (let i = 0; i < N; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
      s4 += z ** 4;
    }
    const mean = s / N;
    const std = Math.sqrt(s2 / N - mean * mean);
    assert.ok(Math.abs(mean) < 0.015, `normal mean ${mean}`);
    assert.ok(Math.abs(std - 1) < 0.015, `normal std ${std}`);
    assert.ok(Math.abs(s4 / N - 3) < 0.1, `normal kurtosis ${s4 / N}`);

    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[r.int(7)]!++;
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 400, `int counts ${counts}`);
    assert.equal(r.int(1), 0);
    assert.ok(r.int(2 ** 32) < 2 ** 32);
    assert.throws(() => r.int(0), RangeError);
    assert.throws(() => r.int(2.5), RangeError);
  });

  test('shuffle and permutation', () => {
    const a = new Rng(5).shuffle(Array.from({ length: 50 }, (_, i) => i));
    const b = new Rng(5).shuffle(Array.from({ length: 50 }, (_, i) => i));
    assert.deepEqual(a, b);
    assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
    assert.notDeepEqual(a, Array.from({ length: 50 }, (_, i) => i));
    const p = new Rng(5).permutation(50);
    assert.deepEqual(Array.from(p), a); // the same draws as shuffling the identity
    const t = new Float32Array([1, 2, 3]);
    assert.equal(new Rng(1).shuffle(t), t);
  });
});

describe('probes', () => {
  test('gaussian: deterministic, shaped, with the asked mean and std', () => {
    const a = makeProbes({ type: 'gaussian', mean: 2, std: 3 }, 500, [2, 10], 11);
    assert.equal(a.length, 500 * 20);
    assert.deepEqual(a, makeProbes({ type: 'gaussian', mean: 2, std: 3 }, 500, [2, 10], 11));
    assert.notDeepEqual(a, makeProbes({ type: 'gaussian', mean: 2, std: 3 }, 500, [2, 10], 12));
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    assert.ok(Math.abs(mean - 2) < 0.1 && Math.abs(std - 3) < 0.1, `${mean} ${std}`);
    // Probe i is drawn from stream i of the seed (so shards draw their own rows); probe 0 from new Rng(seed).
    const d = makeProbes({ type: 'gaussian' }, 3, [4], 1);
    const streams = [new Rng(1), new Rng(1, 1), new Rng(1, 2)];
    assert.deepEqual(d, Float32Array.from({ length: 12 }, (_, k) => streams[Math.floor(k / 4)]!.normal()));
    const r = new Rng(1, 0);
    assert.deepEqual(Array.from({ length: 4 }, () => r.nextU32()), Array.from({ length: 4 }, ((q) => () => q.nextU32())(new Rng(1))));
    assert.notDeepEqual(new Rng(1, 1).nextU32(), new Rng(1, 2).nextU32());
    assert.throws(() => new Rng(1, 2 ** 30), RangeError);
    assert.throws(() => makeProbes({ type: 'gaussian' }, 2 ** 30 + 1, [1], 1), userError(/at most 2\^30/));
  });

  test('uniform stays in [lo, hi)', () => {
    const u = makeProbes({ type: 'uniform', lo: -1, hi: 2 }, 1000, [3], 3);
    assert.ok(u.every((v) => v >= -1 && v <= 2));
    assert.ok(Math.min(...u) < -0.99 && Math.max(...u) > 1.99);
  });

  test('around: inside the ball, cycling through the base samples', () => {
    const base = new Float32Array([0, 0, 0, 10, 10, 10]);
    const p = makeProbes({ type: 'around', base, radius: 0.5 }, 40, [3], 9);
    let far = 0;
    for (let i = 0; i < 40; i++) {
      const b = i % 2 === 0 ? 0 : 10;
      const d = Math.hypot(p[3 * i]! - b, p[3 * i + 1]! - b, p[3 * i + 2]! - b);
      assert.ok(d <= 0.5 + 1e-5, `probe ${i} at distance ${d}`);
      if (d > 0.25) far++;
    }
    assert.ok(far > 25, `only ${far} of 40 probes beyond half the radius`); // uniform in volume: 7/8 expected
    const q = makeProbes({ type: 'around', base, radius: 0.5, norm: 'linf' }, 40, [3], 9);
    for (let i = 0; i < 120; i++) assert.ok(Math.abs(q[i]! - (Math.floor(i / 3) % 2 === 0 ? 0 : 10)) <= 0.5 + 1e-5);
    assert.deepEqual(makeProbes({ type: 'around', base, radius: 0 }, 2, [3], 1), base);
  });

  test('errors', () => {
    assert.throws(() => makeProbes({ type: 'gaussian', std: -1 }, 2, [3], 1), userError('the gaussian probe std must be a non-negative number, got -1'));
    assert.throws(() => makeProbes({ type: 'uniform', lo: 2, hi: 1 }, 2, [3], 1), userError('the uniform probe range must be two finite numbers lo <= hi, got 2..1'));
    assert.throws(
      () => makeProbes({ type: 'around', base: new Float32Array(4), radius: 1 }, 2, [3], 1),
      userError("the base inputs for 'around' probes hold 4 values, which is not a whole number of samples of [3] (3 values each)"),
    );
    assert.throws(() => makeProbes({ type: 'around', base: new Float32Array(3), radius: -1 }, 2, [3], 1), userError('the probe radius must be a non-negative number, got -1'));
    assert.throws(() => makeProbes({ type: 'gaussian' }, -1, [3], 1), userError('the number of probes must be a non-negative integer, got -1'));
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('loadInputs and describeSource', () => {
  test('a .npy file, recognised by content whatever its name', () => {
    const r = loadInputs(join(NPY, 'samples_10x8.npy'), [2, 4]);
    assert.equal(r.kind, 'npy');
    assert.equal(r.n, 10);
    assert.equal(r.note, '10 samples from samples_10x8.npy (float64 [10, 8], read as [10, 2, 4], converted to float32)');
    const renamed = join(tmp, 'data.bin');
    copyFileSync(join(NPY, 'f32_c.npy'), renamed);
    const s = loadInputs(renamed, [4]);
    assert.equal(s.note, '3 samples from data.bin (float32 [3, 4])');
    assert.deepEqual(Array.from(s.data), expected.npy['f32_c.npy']!.values);
    assert.throws(() => loadInputs(join(NPY, 'nan.npy'), [3]), userError(/^nan\.npy: the value NaN at index \[1, 1\]/));
    assert.equal(loadInputs(join(NPY, 'nan.npy'), [3], { allowNonFinite: true }).n, 2);
  });

  test('a folder of images and a single image file', () => {
    const f = loadInputs(join(IMG, 'same_size'), [1, 4, 4], { scale: '0..255' });
    assert.equal(f.kind, 'images');
    assert.equal(f.n, 3);
    assert.equal(f.files?.length, 3);
    assert.equal(f.data[16], 60);
    const one = loadInputs(join(IMG, 'ok', 'f_rgb.jpg'), [3, 8, 8]);
    assert.equal(one.kind, 'image');
    assert.equal(one.note, '1 image (JPEG) of 8x8 pixels (no resizing needed), RGB, scaled to 0..1, channel-first [3, 8, 8]');
  });

  test('files that are neither', () => {
    const empty = join(tmp, 'empty.npy');
    writeFileSync(empty, '');
    const blob = join(tmp, 'blob.dat');
    writeFileSync(blob, Buffer.from([0, 1, 2, 3, 255, 0]));
    const cases: [string, string][] = [
      [join(NPY, 'data.npz'), "data.npz: .npz archives are not read directly; save one array from it with np.save('data.npy', np.load('data.npz')['KEY'])"],
      [join(NPY, 'data.csv'), "data.csv: not a .npy file (it is text); convert it with np.save('data.npy', np.loadtxt('data.csv', delimiter=','))"],
      [join(NPY, 'not_npy.npy'), 'not_npy.npy: not a .npy file although it is named like one (it does not start with the NumPy magic string); save the array with np.save'],
      [join(IMG, 'only_gif', 'x.gif'), 'x.gif: GIF images are not supported; convert it to PNG'],
      [join(NPY, 'missing.npy'), 'missing.npy: no such file or folder'],
      [empty, 'empty.npy: the file is empty'],
      [blob, 'blob.dat: not a .npy file, a PNG/JPEG image or a folder of images'],
    ];
    for (const [p, message] of cases) assert.throws(() => loadInputs(p, [3]), userError(message), p);
  });

  test('describeSource reads headers and listings only', () => {
    assert.deepEqual(describeSource(join(NPY, 'f32_v2.npy')), { kind: 'npy', description: 'f32_v2.npy: float32 [3, 4] (.npy 2.0)' });
    assert.deepEqual(describeSource(join(NPY, 'legacy.npy')), { kind: 'npy', description: 'legacy.npy: float32 [2, 2] (.npy 1.0)' });
    assert.deepEqual(describeSource(join(IMG, 'ok')), { kind: 'images', description: 'ok: folder of 8 PNG/JPEG images' });
    assert.deepEqual(describeSource(join(IMG, 'ok', 'b_rgb.PNG')), { kind: 'image', description: 'b_rgb.PNG: one PNG image' });
    assert.throws(() => describeSource(join(NPY, 'fortran.npy')), userError(/Fortran-ordered/));
    // Only the header is read, so a truncated body goes unnoticed here (loadInputs reports it).
    assert.equal(describeSource(join(NPY, 'truncated.npy')).description, 'truncated.npy: float32 [3, 4] (.npy 1.0)');
  });
});
