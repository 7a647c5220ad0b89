/**
 * Reading and writing NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), and turning an array into model
 * input or labels.
 *
 * Supported dtypes: little-endian float32 `<f4`, float64 `<f8`, int32 `<i4`, int64 `<i8`, and the byte types
 * uint8 `|u1`, int8 `|i1`, bool `|b1`. Arrays must be C-ordered. Everything else is refused with a
 * {@link UserError} that names the file and says how to re-save it.
 *
 * `parseNpy` returns a view into the given bytes when the data offset is aligned for the dtype (numpy pads
 * headers to 64 bytes, so files written by numpy normally are), and a copy otherwise.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { UserError } from '../errors';
import type { NpyRows } from '../../shared/worker-protocol';

export type { NpyRows };

export type NpyDtype = 'float32' | 'float64' | 'uint8' | 'int8' | 'int32' | 'int64' | 'bool';
export type NdData = Float32Array | Float64Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;

/** A dense C-ordered array. `bool` arrays hold 0/1 in a Uint8Array. */
export interface NdArray {
  dtype: NpyDtype;
  shape: number[];
  data: NdData;
}

/** What the header of a .npy file says. `dataOffset` is where the array bytes start. */
export interface NpyHeader {
  version: string;
  dtype: NpyDtype;
  shape: number[];
  dataOffset: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface DtypeInfo {
  dtype: NpyDtype;
  descr: string;
  size: number;
  make(buf: ArrayBuffer, offset: number, length: number): NdData;
}

const DTYPES: Record<NpyDtype, DtypeInfo> = {
  float32: { dtype: 'float32', descr: '<f4', size: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  float64: { dtype: 'float64', descr: '<f8', size: 8, make: (b, o, n) => new Float64Array(b, o, n) },
  uint8: { dtype: 'uint8', descr: '|u1', size: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  int8: { dtype: 'int8', descr: '|i1', size: 1, make: (b, o, n) => new Int8Array(b, o, n) },
  int32: { dtype: 'int32', descr: '<i4', size: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  int64: { dtype: 'int64', descr: '<i8', size: 8, make: (b, o, n) => new BigInt64Array(b, o, n) },
  bool: { dtype: 'bool', descr: '|b1', size: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
};

/** Readable names for dtypes we refuse, keyed by numpy's kind+size without the byte-order character. */
const OTHER_DTYPES: Record<string, string> = {
  f2: 'float16',
  f16: 'float128',
  u2: 'uint16',
  u4: 'uint32',
  u8: 'uint64',
  i2: 'int16',
  c8: 'complex64',
  c16: 'complex128',
};

const SUPPORTED_LIST = 'float32, float64, uint8, int8, int32, int64 or bool';

/** True when the bytes start with the .npy magic string. */
export function isNpy(bytes: Uint8Array): boolean {
  if (bytes.length < MAGIC.length) return false;
  return MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * Parses the header of a .npy file. `bytes` needs to hold at least the header (not the data); `name` is used in
 * error messages. Throws UserError for anything that is not a readable, supported .npy header.
 */
export function parseNpyHeader(bytes: Uint8Array, name: string): NpyHeader {
  if (!isNpy(bytes)) {
    throw new UserError(`${name}: not a .npy file (it does not start with the NumPy magic string); save the array with np.save`);
  }
  if (bytes.length < 10) throw new UserError(`${name}: the .npy header is truncated`);
  const major = bytes[6]!;
  const minor = bytes[7]!;
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = bytes[8]! | (bytes[9]! << 8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new UserError(`${name}: the .npy header is truncated`);
    headerLen = (bytes[8]! | (bytes[9]! << 8) | (bytes[10]! << 16)) + bytes[11]! * 0x1000000;
    start = 12;
  } else {
    throw new UserError(
      `${name}: .npy format version ${major}.${minor} is not supported (only 1.0, 2.0 and 3.0); save it again with np.save`,
    );
  }
  const end = start + headerLen;
  if (bytes.length < end) {
    throw new UserError(`${name}: the .npy header is truncated (it announces ${headerLen} bytes but the file is shorter)`);
  }
  const headerBytes = bytes.subarray(start, end);
  const text = major === 3 ? new TextDecoder('utf-8').decode(headerBytes) : latin1(headerBytes);

  let dict: PyValue;
  try {
    dict = new PyLiteral(text).parseTop();
  } catch (e) {
    throw new UserError(`${name}: the .npy header cannot be parsed (${(e as Error).message}); save the array again with np.save`);
  }
  if (!isDict(dict)) throw new UserError(`${name}: the .npy header is not a dictionary; save the array again with np.save`);
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (descr === undefined || fortran === undefined || shape === undefined) {
    throw new UserError(
      `${name}: the .npy header lacks one of 'descr', 'fortran_order' and 'shape'; save the array again with np.save`,
    );
  }
  const dtype = dtypeOf(descr, name);
  if (fortran !== false) {
    if (fortran === true) {
      throw new UserError(`${name}: Fortran-ordered arrays are not supported; save it with np.ascontiguousarray`);
    }
    throw new UserError(`${name}: the .npy header's 'fortran_order' is not True or False; save the array again with np.save`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new UserError(`${name}: the .npy header's 'shape' is not a tuple of non-negative integers`);
  }
  return { version: `${major}.${minor}`, dtype, shape: shape as number[], dataOffset: end };
}

function dtypeOf(descr: PyValue, name: string): NpyDtype {
  if (typeof descr !== 'string') {
    throw new UserError(
      `${name}: structured (record) arrays are not supported; save a plain numeric array, e.g. np.stack([x[f] for f in x.dtype.names], axis=-1)`,
    );
  }
  const m = /^([<>|=]?)([a-zA-Z])(\d*)(.*)$/.exec(descr);
  const order = m?.[1] ?? '';
  const kind = m?.[2] ?? '';
  const size = m?.[3] ?? '';
  if (kind === 'O') {
    throw new UserError(
      `${name}: object arrays ('${descr}') are not supported; save a numeric array, e.g. np.asarray(x, dtype=np.float32)`,
    );
  }
  const key = kind + size;
  const known: Record<string, NpyDtype> = { f4: 'float32', f8: 'float64', u1: 'uint8', i1: 'int8', i4: 'int32', i8: 'int64', b1: 'bool' };
  const dtype = m && m[4] === '' ? known[key] : undefined;
  if (dtype !== undefined) {
    const multiByte = DTYPES[dtype].size > 1;
    if (multiByte && order === '>') {
      throw new UserError(`${name}: big-endian data ('${descr}') is not supported; save it with x.astype('<${key}')`);
    }
    if (multiByte && order === '|') {
      throw new UserError(`${name}: dtype '${descr}' has no byte order; save the array again with np.save`);
    }
    return dtype;
  }
  const readable = OTHER_DTYPES[key] ?? kindName(kind);
  throw new UserError(
    `${name}: dtype '${descr}'${readable ? ` (${readable})` : ''} is not supported; use ${SUPPORTED_LIST}, e.g. x.astype(np.float32)`,
  );
}

function kindName(kind: string): string {
  switch (kind) {
    case 'U':
      return 'unicode strings';
    case 'S':
    case 'a':
      return 'byte strings';
    case 'M':
      return 'datetime';
    case 'm':
      return 'timedelta';
    case 'V':
      return 'raw bytes';
    case 'c':
      return 'complex';
    default:
      return '';
  }
}

/** Parses a whole .npy file held in memory. `name` is used in error messages. */
export function parseNpy(bytes: Uint8Array, name: string): NdArray {
  const header = parseNpyHeader(bytes, name);
  const info = DTYPES[header.dtype];
  const count = product(header.shape);
  const need = count * info.size;
  const have = bytes.length - header.dataOffset;
  if (have < need) {
    throw new UserError(
      `${name}: the data is truncated: shape ${fmtShape(header.shape)} of ${header.dtype} needs ${need} bytes but the file has ${have}`,
    );
  }
  const offset = bytes.byteOffset + header.dataOffset;
  let data: NdData;
  if (offset % info.size === 0) {
    data = info.make(bytes.buffer as ArrayBuffer, offset, count);
  } else {
    const copy = new ArrayBuffer(need);
    new Uint8Array(copy).set(bytes.subarray(header.dataOffset, header.dataOffset + need));
    data = info.make(copy, 0, count);
  }
  return { dtype: header.dtype, shape: header.shape.slice(), data };
}

/** Reads a .npy file. Errors name the file by its base name. */
export function readNpy(path: string): NdArray {
  const name = basename(path);
  return parseNpy(readFileOrThrow(path, name), name);
}

/** Reads only the header of a .npy file (cheap for large files). */
export function readNpyHeader(path: string): NpyHeader {
  const name = basename(path);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw fileError(e, name);
  }
  try {
    const head = new Uint8Array(12);
    const got = readSync(fd, head, 0, 12, 0);
    if (!isNpy(head.subarray(0, got))) return parseNpyHeader(head.subarray(0, got), name); // throws
    const major = head[6];
    const len = major === 1 ? head[8]! | (head[9]! << 8) : (head[8]! | (head[9]! << 8) | (head[10]! << 16)) + head[11]! * 0x1000000;
    const total = (major === 1 ? 10 : 12) + Math.min(len, 1 << 24);
    const buf = new Uint8Array(total);
    const n = readSync(fd, buf, 0, total, 0);
    return parseNpyHeader(buf.subarray(0, n), name);
  } finally {
    closeSync(fd);
  }
}

/**
 * Rows [start, start + m) of `size` values each of a float32 .npy file, read in place by an engine worker. The
 * values are not checked: npyRowsSource checked the whole file before the job.
 */
export function readNpyRows(file: NpyRows, start: number, m: number, size: number): Float32Array {
  const name = basename(file.path);
  const data = new Float32Array(m * size);
  const bytes = new Uint8Array(data.buffer);
  let fd: number;
  try {
    fd = openSync(file.path, 'r');
  } catch (e) {
    throw fileError(e, name);
  }
  try {
    let got = 0;
    while (got < bytes.length) {
      const k = readSync(fd, bytes, got, bytes.length - got, file.dataOffset + 4 * start * size + got);
      if (k === 0) throw new UserError(`${name}: the file ended early (was it changed while it was being read?)`);
      got += k;
    }
  } finally {
    closeSync(fd);
  }
  return data;
}

/** Reads a file, turning "missing" and "is a folder" into UserErrors. */
export function readFileOrThrow(path: string, name: string): Uint8Array {
  try {
    const buf = readFileSync(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw fileError(e, name);
  }
}

function fileError(e: unknown, name: string): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new UserError(`${name}: file not found`);
  if (code === 'EISDIR') return new UserError(`${name}: is a folder, not a file`);
  if (code === 'EACCES' || code === 'EPERM') return new UserError(`${name}: permission denied`);
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Encodes an array as a .npy file, byte for byte what `np.save` writes (version 1.0, or 2.0 when the header is
 * too long for 1.0).
 */
export function encodeNpy(arr: NdArray): Uint8Array {
  const info = DTYPES[arr.dtype];
  const count = product(arr.shape);
  if (arr.data.length !== count) {
    throw new Error(`encodeNpy: shape ${fmtShape(arr.shape)} needs ${count} values but the data has ${arr.data.length}`);
  }
  const shapeRepr =
    arr.shape.length === 0 ? '()' : arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  let header = `{'descr': '${info.descr}', 'fortran_order': False, 'shape': ${shapeRepr}, }`;
  // numpy leaves room to grow the first axis in place (GROWTH_AXIS_MAX_DIGITS = 21).
  if (arr.shape.length > 0) header += ' '.repeat(Math.max(0, 21 - String(arr.shape[0]).length));
  let prefixLen = 10;
  let hlen = header.length + 1;
  let pad = 64 - ((prefixLen + hlen) % 64);
  let version = 1;
  if (hlen + pad > 0xffff) {
    prefixLen = 12;
    pad = 64 - ((prefixLen + hlen) % 64);
    version = 2;
  }
  hlen += pad;
  const total = prefixLen + hlen + count * info.size;
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  if (version === 1) {
    out[8] = hlen & 0xff;
    out[9] = hlen >>> 8;
  } else {
    new DataView(out.buffer).setUint32(8, hlen, true);
  }
  let p = prefixLen;
  for (let i = 0; i < header.length; i++) out[p++] = header.charCodeAt(i);
  for (let i = 0; i < pad; i++) out[p++] = 0x20;
  out[p++] = 0x0a;
  out.set(new Uint8Array(arr.data.buffer, arr.data.byteOffset, count * info.size), p);
  return out;
}

export interface ModelInputOptions {
  /** Accept NaN and ±Infinity in the data (default false: they are reported with their index). */
  allowNonFinite?: boolean;
  /** The model input's name, used in shape errors. */
  inputName?: string;
}

/**
 * Interprets `arr` as N samples of `sampleShape` (the model input shape without the batch axis; every entry a
 * positive integer) and converts it to float32. Accepted shapes:
 *  - `[N, ...rest]` where rest holds prod(sampleShape) values: `[N, ...sampleShape]`, `[N, prod]`, or any other
 *    layout with the same per-sample size (e.g. `[N, 28, 28]` for a `[1, 28, 28]` input), reshaped in C order;
 *  - exactly `sampleShape` (a single sample, n = 1).
 * A float32 array is returned without copying (the result shares memory with `arr`).
 * Throws UserError for other shapes, for non-finite values (unless allowed) and for float64 values that overflow
 * float32.
 */
export function toModelInput(
  arr: NdArray,
  sampleShape: number[],
  name: string,
  opts: ModelInputOptions = {},
): { n: number; data: Float32Array } {
  const n = sampleCount(arr.shape, sampleShape, name, opts);
  const data = toFloat32(arr);
  if (!opts.allowNonFinite && (arr.dtype === 'float32' || arr.dtype === 'float64')) checkFinite(data, arr.data as ArrayLike<number>, name, arr.shape, 0);
  return { n, data };
}

/** How many samples of `sampleShape` an array of `shape` holds, by toModelInput's rules; UserError if none fit. */
/** Refuses a sample index that is not one of the `n` samples, naming the option it came from (`--from`, `--index`). */
export function checkSampleIndex(flag: string, i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) {
    throw new UserError(`${flag} ${i} is out of range: the inputs have ${n} sample${n === 1 ? '' : 's'} (valid indices 0..${n - 1})`);
  }
}

export function sampleCount(shape: readonly number[], sampleShape: number[], name: string, opts: ModelInputOptions = {}): number {
  checkSampleShape(sampleShape);
  const size = product(sampleShape);
  if (shape.length >= 1 && product(shape.slice(1)) === size) return shape[0]!;
  if (sameShape(shape, sampleShape) || (shape.length === 0 && size === 1)) return 1;
  const input = opts.inputName !== undefined ? `the model input '${opts.inputName}'` : 'the model input';
  throw new UserError(`${name} has shape ${fmtShape(shape)} but ${input} needs ${fmtShape(['N', ...sampleShape])} (${size} values per sample)`);
}

/**
 * Throws a UserError naming the first NaN or ±Infinity of `data` by its index in the file's array (`data` starts
 * at flat index `flatOffset`; `orig` holds the values as read, to tell float64 overflow from non-finite values).
 */
export function checkFinite(data: Float32Array, orig: ArrayLike<number>, name: string, shape: readonly number[], flatOffset: number): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v === 0) continue;
    const o = orig[i]!;
    const where = `at index ${fmtIndex(flatOffset + i, shape)}`;
    if (Number.isFinite(o)) throw new UserError(`${name}: the value ${o} ${where} is too large for float32`);
    throw new UserError(`${name}: the value ${o} ${where} is not a finite number; clean or drop it before probing`);
  }
}

/** Converts any supported array to float32 (a view when it already is float32). */
export function toFloat32(arr: NdArray): Float32Array {
  const d = arr.data;
  if (d instanceof Float32Array) return d;
  const out = new Float32Array(d.length);
  if (d instanceof BigInt64Array) {
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]!);
  } else {
    out.set(d);
  }
  return out;
}

/**
 * Reads class labels: a 1-D array (or an [N, 1] column) of an integer or bool dtype whose values fit in int32.
 * Throws UserError otherwise.
 */
/** Class ids of the first n inputs from a labels .npy (integers, at least n of them), and a note that says so. */
export function readLabels(path: string, n: number): { labels: Int32Array; note: string } {
  const name = basename(path);
  const y = toLabels(readNpy(path), name);
  if (y.length < n) throw new UserError(`${name} has ${y.length} labels for ${n} inputs`);
  const labels = y.slice(0, n);
  return { labels, note: `${labels.length} labels from ${name} (${new Set(labels).size} classes)` };
}

/**
 * Labels of a data file: exactly one per sample of the file (`total`; a longer or shorter labels file belongs to
 * other data), of which the first n are used (a --limit). UserError otherwise, before any work.
 */
export function readLabelsFor(path: string, total: number, n: number, dataName: string): { labels: Int32Array; note: string } {
  const name = basename(path);
  const y = toLabels(readNpy(path), name);
  if (y.length !== total) throw new UserError(`${name} has ${y.length} labels but ${dataName} has ${total} inputs: a labels file needs exactly one label per input`);
  const labels = y.slice(0, n);
  return { labels, note: `${labels.length} labels from ${name} (${new Set(labels).size} classes)` };
}

export function toLabels(arr: NdArray, name: string): Int32Array {
  const column = arr.shape.length === 2 && arr.shape[1] === 1;
  if (arr.shape.length !== 1 && !column) {
    throw new UserError(`${name}: labels must be a 1-D array of class ids but it has shape ${fmtShape(arr.shape)}`);
  }
  if (arr.dtype === 'float32' || arr.dtype === 'float64') {
    throw new UserError(`${name}: labels must be integers but the array is ${arr.dtype}; save it with y.astype(np.int64)`);
  }
  const d = arr.data;
  if (d instanceof Int32Array) return d;
  const out = new Int32Array(d.length);
  if (d instanceof BigInt64Array) {
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      if (v > 2147483647n || v < -2147483648n) {
        throw new UserError(`${name}: the label ${v} at index ${fmtIndex(i, arr.shape)} is out of range for a class id`);
      }
      out[i] = Number(v);
    }
  } else {
    out.set(d as Uint8Array | Int8Array);
  }
  return out;
}

// ---- small helpers, exported for the other input readers ----

export function product(shape: readonly number[]): number {
  let p = 1;
  for (const d of shape) p *= d;
  return p;
}

/** `[3, 4]`, as numbers are written in messages. */
export function fmtShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}

function fmtIndex(flat: number, shape: readonly number[]): string {
  if (shape.length <= 1) return `[${flat}]`;
  const idx: number[] = new Array<number>(shape.length);
  let r = flat;
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k]!;
    idx[k] = r % d;
    r = Math.floor(r / d);
  }
  return `${fmtShape(idx)} (flat index ${flat})`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A model's per-sample shape must be concrete; anything else is a bug in the caller. */
export function checkSampleShape(sampleShape: readonly number[]): void {
  if (!sampleShape.every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw new Error(`sample shape ${fmtShape(sampleShape)} must hold positive integers (resolve dynamic axes first)`);
  }
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

// ---- a parser for the Python literal in the header (dict, tuple, list, str, int, True/False/None) ----

type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue>;

function isDict(v: PyValue): v is Map<string, PyValue> {
  return v instanceof Map;
}

class PyLiteral {
  private i = 0;
  constructor(private readonly s: string) {}

  parseTop(): PyValue {
    const v = this.value();
    this.ws();
    if (this.i < this.s.length) throw new Error(`unexpected '${this.s[this.i]}' at position ${this.i}`);
    return v;
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  private value(): PyValue {
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) throw new Error('unexpected end');
    if (c === '{') return this.dict();
    if (c === '(') return this.seq(')');
    if (c === '[') return this.seq(']');
    if (c === "'" || c === '"') return this.str();
    const m = /^(-?\d+)[lL]?|^(True|False|None)\b/.exec(this.s.slice(this.i));
    if (!m) throw new Error(`unexpected '${c}' at position ${this.i}`);
    this.i += m[0].length;
    if (m[1] !== undefined) return Number(m[1]);
    return m[2] === 'True' ? true : m[2] === 'False' ? false : null;
  }

  private dict(): Map<string, PyValue> {
    const out = new Map<string, PyValue>();
    this.i++; // {
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return out;
      }
      const k = this.value();
      if (typeof k !== 'string') throw new Error('a dictionary key is not a string');
      this.ws();
      if (this.s[this.i] !== ':') throw new Error(`expected ':' at position ${this.i}`);
      this.i++;
      out.set(k, this.value());
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') throw new Error(`expected ',' or '}' at position ${this.i}`);
    }
  }

  private seq(close: string): PyValue[] {
    const out: PyValue[] = [];
    this.i++;
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) {
        this.i++;
        return out;
      }
      out.push(this.value());
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) throw new Error(`expected ',' or '${close}' at position ${this.i}`);
    }
  }

  private str(): string {
    const q = this.s[this.i++]!;
    let out = '';
    while (this.i < this.s.length && this.s[this.i] !== q) {
      if (this.s[this.i] === '\\') this.i++;
      out += this.s[this.i++] ?? '';
    }
    if (this.i >= this.s.length) throw new Error('unterminated string');
    this.i++;
    return out;
  }
}
