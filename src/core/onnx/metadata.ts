/**
 * metadata_props of the graph's nodes and initializers, read from the file's bytes.
 *
 * onnx-proto's generated types predate these fields (onnx >= 1.16: NodeProto field 9 and TensorProto field 16,
 * repeated StringStringEntryProto {key = 1, value = 2}), so protobufjs skips them; this walks the wire format of
 * ModelProto.graph (7) → GraphProto.node (1) / initializer (5) and reads only what is needed. PyTorch's
 * torch.export-based exporter writes its module scopes and stack traces there.
 */

export type Props = Record<string, string>;

export interface GraphMetadata {
  /** By the node's first output (unique in a graph), the props of every top-level node that has some. */
  nodes: Map<string, Props>;
  /** By initializer name. */
  initializers: Map<string, Props>;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

class Wire {
  pos: number;
  constructor(
    readonly b: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const byte = this.b[this.pos++]!;
      result += (byte & 0x7f) * mul;
      if (byte < 0x80) return result;
      mul *= 128;
    }
    throw new Error('bad varint');
  }
  /** Calls f(field, start, end) for length-delimited fields, skips the rest. */
  each(f: (field: number, start: number, end: number) => void): void {
    while (this.pos < this.end) {
      const tag = this.varint();
      const field = Math.floor(tag / 8);
      const type = tag & 7;
      if (type === 0) this.varint();
      else if (type === 1) this.pos += 8;
      else if (type === 5) this.pos += 4;
      else if (type === 2) {
        const len = this.varint();
        const start = this.pos;
        this.pos += len;
        if (this.pos > this.end) throw new Error('truncated field');
        f(field, start, this.pos);
      } else throw new Error(`wire type ${type}`);
    }
  }
}

function entry(b: Uint8Array, start: number, end: number): [string, string] {
  let key = '';
  let value = '';
  new Wire(b, start, end).each((f, s, e) => {
    if (f === 1) key = utf8.decode(b.subarray(s, e));
    else if (f === 2) value = utf8.decode(b.subarray(s, e));
  });
  return [key, value];
}

/** Reads node and initializer metadata_props; an unreadable file gives empty maps (decoding reports errors). */
export function readGraphMetadata(bytes: Uint8Array): GraphMetadata {
  const out: GraphMetadata = { nodes: new Map(), initializers: new Map() };
  try {
    new Wire(bytes, 0, bytes.length).each((f, gs, ge) => {
      if (f !== 7) return;
      new Wire(bytes, gs, ge).each((gf, s, e) => {
        if (gf !== 1 && gf !== 5) return;
        const props: Props = {};
        let key = '';
        let any = false;
        new Wire(bytes, s, e).each((nf, a, z) => {
          if (gf === 1 && nf === 2 && !key) key = utf8.decode(bytes.subarray(a, z));
          else if (gf === 5 && nf === 8) key = utf8.decode(bytes.subarray(a, z));
          else if ((gf === 1 && nf === 9) || (gf === 5 && nf === 16)) {
            const [k, v] = entry(bytes, a, z);
            props[k] = v;
            any = true;
          }
        });
        if (any && key) (gf === 1 ? out.nodes : out.initializers).set(key, props);
      });
    });
  } catch {
    // a malformed file: the protobuf decoder gives the user the message
  }
  return out;
}
