/**
 * An ONNX file read without the bytes of its large weights: the protobuf wire format of ModelProto.graph (7) →
 * GraphProto.initializer (5) → TensorProto.raw_data (9) is walked with positioned reads, and the raw_data of every
 * top-level initializer of at least `minTensorBytes` is left out (its place in the file is noted instead).
 *
 * Why: reading a whole file touches as many fresh pages as it has bytes, and on a virtual machine where the first
 * touch of a page costs about 10 µs that was most of opening a large model (readFileSync of vgg11_bn's 531 MB:
 * 1.5 s, against 38 ms read in 1 MiB pieces into one buffer), only for the weights to be let go right after
 * (onnx/weights.ts leaves them in the file for onnxruntime to read).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Where a left-out raw_data is in the file. */
export interface LeftInFile {
  offset: number;
  length: number;
}

export interface Skeleton {
  /** The ModelProto without the left-out raw_data fields (a valid protobuf message). */
  bytes: Uint8Array;
  /** The size of the file. */
  fileBytes: number;
  /** Per top-level initializer, in file order: where its raw_data is when it was left out. */
  weights: (LeftInFile | undefined)[];
}

const WINDOW = 2 ** 20;

/** Positioned reads through one reused window. */
class FileWire {
  private readonly window = new Uint8Array(WINDOW);
  private start = 0;
  private end = 0;
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  byte(pos: number): number {
    if (pos < this.start || pos >= this.end) {
      this.start = pos;
      this.end = pos + readSync(this.fd, this.window, 0, Math.min(WINDOW, this.size - pos), pos);
      if (this.end <= pos) throw new Error('read past the end');
    }
    return this.window[pos - this.start]!;
  }

  /** A varint at pos: its value and the position after it. */
  varint(pos: number): [number, number] {
    let value = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte(pos++);
      value += (b & 0x7f) * mul;
      if (b < 0x80) return [value, pos];
      mul *= 128;
    }
    throw new Error('bad varint');
  }

  bytes(start: number, end: number): Uint8Array {
    if (start >= this.start && end <= this.end) return this.window.slice(start - this.start, end - this.start);
    const out = new Uint8Array(end - start);
    let done = 0;
    while (done < out.length) {
      const n = readSync(this.fd, out, done, out.length - done, start + done);
      if (n === 0) throw new Error('read past the end');
      done += n;
    }
    return out;
  }
}

interface Field {
  field: number;
  /** Where the field's tag starts, where a length-delimited field's data starts, and where the field ends. */
  tag: number;
  data: number;
  end: number;
  delimited: boolean;
}

/** The fields of the message in [start, end). */
function* fields(w: FileWire, start: number, end: number): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const [tag, afterTag] = w.varint(pos);
    const wire = tag % 8;
    let data = afterTag;
    let next: number;
    if (wire === 0) next = w.varint(afterTag)[1];
    else if (wire === 1) next = afterTag + 8;
    else if (wire === 5) next = afterTag + 4;
    else if (wire === 2) {
      const [length, after] = w.varint(afterTag);
      data = after;
      next = after + length;
    } else throw new Error(`wire type ${wire}`);
    if (next > end) throw new Error('a field runs past its message');
    yield { field: Math.floor(tag / 8), tag: pos, data, end: next, delimited: wire === 2 };
    pos = next;
  }
}

function varintBytes(v: number): number[] {
  const out: number[] = [];
  while (v >= 128) {
    out.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** A length-delimited field `field` holding `parts`. */
function delimited(field: number, parts: Uint8Array[]): Uint8Array[] {
  const length = parts.reduce((s, p) => s + p.length, 0);
  return [Uint8Array.from([...varintBytes(field * 8 + 2), ...varintBytes(length)]), ...parts];
}

/**
 * The skeleton of the ONNX file at `path`, or undefined when its bytes are not a well-formed ModelProto (the
 * caller then reads the whole file, and its decoder says what is wrong).
 */
export function readSkeleton(path: string, minTensorBytes: number): Skeleton | undefined {
  const fd = openSync(path, 'r');
  try {
    const w = new FileWire(fd, fstatSync(fd).size);
    const weights: (LeftInFile | undefined)[] = [];
    const tensor = (f: Field): Uint8Array[] => {
      const parts: Uint8Array[] = [];
      let left: LeftInFile | undefined;
      for (const t of fields(w, f.data, f.end)) {
        if (t.field === 9 && t.delimited && t.end - t.data >= minTensorBytes) left = { offset: t.data, length: t.end - t.data };
        else parts.push(w.bytes(t.tag, t.end));
      }
      weights.push(left);
      return delimited(5, parts);
    };
    const graph = (f: Field): Uint8Array[] => {
      const parts: Uint8Array[] = [];
      for (const g of fields(w, f.data, f.end)) parts.push(...(g.field === 5 && g.delimited ? tensor(g) : [w.bytes(g.tag, g.end)]));
      return delimited(7, parts);
    };
    const parts: Uint8Array[] = [];
    for (const m of fields(w, 0, w.size)) parts.push(...(m.field === 7 && m.delimited ? graph(m) : [w.bytes(m.tag, m.end)]));
    const bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) bytes.set(p, (at += p.length) - p.length);
    return { bytes, fileBytes: w.size, weights };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
