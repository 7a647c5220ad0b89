/**
 * Files of packed codes, written chunk by chunk as a job runs, so memory stays bounded however many inputs are
 * probed. Three formats (`--out-format`):
 *
 * raw      N rows of `row_bytes` = ceil(units / 8) bytes, the packed full codes (MSB first), no header.
 *
 * plcodes  A small little-endian header, then the raw rows:
 *            offset  0  8 bytes  magic "PLCODES1"
 *            offset  8  uint32   format version (1)
 *            offset 12  uint64   n, the number of rows
 *            offset 20  uint32   units, bits per code
 *            offset 24  uint32   row_bytes = ceil(units / 8)
 *            offset 28  uint32   J, the byte length of the layer table
 *            offset 32  J bytes  the layer table, UTF-8 JSON: {"model", "layers": [{"key", "op", "units", "offset"}]}
 *            offset 32 + J       n rows of row_bytes bytes
 *          numpy: `np.fromfile(f, np.uint8, offset=32 + J).reshape(n, row_bytes)`, then `np.unpackbits(.., axis=1)`.
 *
 * arrow    An Apache Arrow IPC file (the random-access "Feather v2" format), one record batch per chunk, with the
 *          columns `code` FixedSizeBinary(row_bytes), `pred` Int32 (argmax of the first output) and `index` UInt32
 *          (input row), and the layer table as the schema's metadata "polytope_lens.layers" (same JSON as above).
 *          pyarrow (`pyarrow.ipc.open_file`) and polars read it; DuckDB only through its arrow extension (a
 *          download), so for DuckDB and Spark write parquet.
 *
 * parquet  An Apache Parquet file written by hyparquet-writer, one row group per about 32 MB of rows (flushed to
 *          disk as it fills, so memory stays bounded), the code column uncompressed and the others snappy, with
 *          the columns
 *            index  INT64   global input index (with --shard, the row's index in the whole run)
 *            pred   INT32   argmax of the first output
 *            code   BINARY  the packed full code, ceil(units / 8) bytes, MSB first
 *            active_<layer key>  INT32, one per layer: the layer's active units (set bits) for this input
 *          (a layer key with characters other than letters, digits and _ has them replaced by _; the layer table
 *          names each layer's column), and the key-value metadata
 *            polytope_lens.layers       the layer table JSON, as above, with "column" per layer
 *            polytope_lens.units        bits per code
 *            polytope_lens.bit_order    "MSB first within each byte; layer offsets in bits"
 *            polytope_lens.model_sha256 sha256 of the model file (hex)
 *            polytope_lens.version      the tool's version
 *            polytope_lens.recipe       JSON: the inputs (file or probe kind, n, seed, range), --limit, --shard
 *          DuckDB, Spark, pandas / pyarrow and polars read it as it is; shards of one run are read together with a
 *          glob (`'codes-*.parquet'`). docs/scale-out.md has the SQL.
 *
 * A job that fails or is cancelled removes its plcodes, arrow or parquet file: a file that exists is complete.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { Field, FixedSizeBinary, Int32, makeData, RecordBatch, RecordBatchFileWriter, Schema, Struct, Uint32 } from 'apache-arrow';
import { UserError } from './errors';
import type { CodeBatch } from '../shared/worker-protocol';

export const OUT_FORMATS = ['raw', 'plcodes', 'arrow', 'parquet'] as const;
export type OutFormat = (typeof OUT_FORMATS)[number];

export const PLCODES_MAGIC = 'PLCODES1';
export const PLCODES_VERSION = 1;
const HEADER_FIXED = 32;

export interface LayerEntry {
  key: string;
  op: string;
  units: number;
  offset: number;
}

export interface CodesFileMeta {
  model: string;
  layers: LayerEntry[];
  /** Bits per code (the layers' units added up). */
  units: number;
  /** Parquet: rows per row group (default: about PARQUET_ROW_GROUP_BYTES of rows). */
  rowGroupRows?: number;
  /** Global index of the first row (a shard's start; 0 by default): the index column counts from it. */
  firstIndex?: number;
  /** For parquet's key-value metadata: sha256 of the model file, the tool's version, how the inputs were made. */
  modelSha256?: string;
  toolVersion?: string;
  recipe?: object;
}

/** How each format is described in a CodesResult's `out.format`. */
export const FORMAT_NOTES: Record<OutFormat, string> = {
  raw: 'raw packed rows, MSB first, no header',
  plcodes: 'PLCODES1: header with the layer table, then packed rows (MSB first)',
  arrow: 'Apache Arrow IPC file: code FixedSizeBinary, pred Int32, index UInt32',
  parquet: 'Apache Parquet file: index INT64, pred INT32, code BINARY, active_<layer> INT32 per layer',
};

export function parseOutFormat(s: string | undefined): OutFormat {
  if (s === undefined) return 'raw';
  if ((OUT_FORMATS as readonly string[]).includes(s)) return s as OutFormat;
  throw new UserError(`--out-format must be one of ${OUT_FORMATS.join(', ')}, not '${s}'.`);
}

export interface CodesWriter {
  /** Appends a chunk of codes (rows in input order). */
  write(b: CodeBatch): void;
  /** Finishes the file; returns the number of rows written. */
  close(): Promise<number>;
  /** Stops after a failure or a cancel: the file is removed (raw files keep the rows written so far). */
  abort(): Promise<void>;
}

function layerTable(meta: CodesFileMeta): string {
  return JSON.stringify({ model: meta.model, layers: meta.layers.map(({ key, op, units, offset }) => ({ key, op, units, offset })) });
}

function openFile(path: string): number {
  try {
    return openSync(path, 'w');
  } catch (e) {
    throw new UserError(`cannot write the codes to ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
}

export function openCodesWriter(path: string, format: OutFormat, meta: CodesFileMeta): CodesWriter {
  const rowBytes = Math.ceil(meta.units / 8);
  if (format === 'arrow') return arrowWriter(path, meta, rowBytes);
  if (format === 'parquet') return parquetWriter(path, meta, rowBytes);
  const fd = openFile(path);
  let rows = 0;
  let header: Buffer | undefined;
  if (format === 'plcodes') {
    const json = Buffer.from(layerTable(meta), 'utf8');
    header = Buffer.alloc(HEADER_FIXED + json.length);
    header.write(PLCODES_MAGIC, 0, 'latin1');
    header.writeUInt32LE(PLCODES_VERSION, 8);
    header.writeBigUInt64LE(0n, 12); // n: set by close()
    header.writeUInt32LE(meta.units, 20);
    header.writeUInt32LE(rowBytes, 24);
    header.writeUInt32LE(json.length, 28);
    json.copy(header, HEADER_FIXED);
    writeSync(fd, header);
  }
  let open = true;
  return {
    write(b) {
      writeSync(fd, b.codes);
      rows += b.n;
    },
    async close() {
      if (header) {
        const n = Buffer.alloc(8);
        n.writeBigUInt64LE(BigInt(rows));
        writeSync(fd, n, 0, 8, 12);
      }
      closeSync(fd);
      open = false;
      return rows;
    },
    async abort() {
      if (open) closeSync(fd);
      open = false;
      if (format !== 'raw') rmSync(path, { force: true });
    },
  };
}

function arrowWriter(path: string, meta: CodesFileMeta, rowBytes: number): CodesWriter {
  const fd = openFile(path);
  const schema = new Schema(
    [new Field('code', new FixedSizeBinary(rowBytes), false), new Field('pred', new Int32(), false), new Field('index', new Uint32(), false)],
    new Map([
      ['polytope_lens.layers', layerTable(meta)],
      ['polytope_lens.units', String(meta.units)],
      ['polytope_lens.bit_order', 'MSB first within each byte; layer offsets in bits'],
    ]),
  );
  const writer = new RecordBatchFileWriter();
  const first = meta.firstIndex ?? 0;
  // The writer's output is drained to the file as it is produced: nothing accumulates across chunks.
  const drained = (async () => {
    for await (const chunk of writer) writeSync(fd, chunk);
  })();
  drained.catch(() => undefined);
  let rows = 0;
  let open = true;
  const finish = async () => {
    open = false;
    try {
      await drained;
    } finally {
      closeSync(fd);
    }
  };
  return {
    write(b) {
      const index = new Uint32Array(b.n);
      for (let i = 0; i < b.n; i++) index[i] = first + rows + i;
      const children = [
        makeData({ type: new FixedSizeBinary(rowBytes), length: b.n, nullCount: 0, data: b.codes }),
        makeData({ type: new Int32(), length: b.n, nullCount: 0, data: b.preds }),
        makeData({ type: new Uint32(), length: b.n, nullCount: 0, data: index }),
      ];
      writer.write(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: b.n, nullCount: 0, children })));
      rows += b.n;
    },
    async close() {
      // A job with no rows still writes a valid file with the schema.
      if (rows === 0) writer.reset(undefined, schema);
      writer.close();
      await finish();
      return rows;
    },
    async abort() {
      if (!open) return;
      writer.abort();
      await finish().catch(() => undefined);
      rmSync(path, { force: true });
    },
  };
}

/** Parquet column names of the layers' active counts: `active_<key>`, made SQL-friendly and unique. */
export function activeColumns(layers: { key: string }[]): string[] {
  const seen = new Set<string>(['index', 'pred', 'code']);
  return layers.map((l, i) => {
    let name = `active_${l.key.replace(/[^A-Za-z0-9_]/g, '_')}`;
    if (seen.has(name)) name += `_${i}`;
    seen.add(name);
    return name;
  });
}

/** Bytes of rows per parquet row group: big enough for fast scans, small enough to keep memory bounded. */
export const PARQUET_ROW_GROUP_BYTES = 32 * 2 ** 20;
/** The file is written through a buffer of about this size. */
const PARQUET_FLUSH_BYTES = 4 * 2 ** 20;

/** hyparquet-writer's ByteWriter, draining to a file descriptor whenever its buffer passes PARQUET_FLUSH_BYTES. */
class FdByteWriter extends ByteWriter {
  constructor(private readonly fd: number) {
    super(1 << 20);
  }
  override ensure(size: number): void {
    if (this.index > PARQUET_FLUSH_BYTES) this.flush();
    super.ensure(size);
  }
  flush(): void {
    if (this.index > 0) writeSync(this.fd, new Uint8Array(this.buffer, 0, this.index));
    this.index = 0;
  }
  override finish(): void {
    this.flush();
  }
}

function parquetWriter(path: string, meta: CodesFileMeta, rowBytes: number): CodesWriter {
  const L = meta.layers.length;
  const columns = activeColumns(meta.layers);
  const table = JSON.stringify({
    model: meta.model,
    layers: meta.layers.map(({ key, op, units, offset }, i) => ({ key, op, units, offset, column: columns[i] })),
  });
  const kv: [string, string | undefined][] = [
    ['polytope_lens.layers', table],
    ['polytope_lens.units', String(meta.units)],
    ['polytope_lens.bit_order', 'MSB first within each byte; layer offsets in bits'],
    ['polytope_lens.model_sha256', meta.modelSha256],
    ['polytope_lens.version', meta.toolVersion],
    ['polytope_lens.recipe', meta.recipe ? JSON.stringify(meta.recipe) : undefined],
  ];
  const fd = openFile(path);
  const out = new FdByteWriter(fd);
  const writer = new ParquetWriter({
    writer: out,
    schema: [
      { name: 'schema', num_children: 3 + L },
      { name: 'index', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'pred', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'code', type: 'BYTE_ARRAY', repetition_type: 'REQUIRED' },
      ...columns.map((name) => ({ name, type: 'INT32' as const, repetition_type: 'REQUIRED' as const })),
    ],
    codec: 'SNAPPY',
    kvMetadata: kv.filter((e): e is [string, string] => e[1] !== undefined).map(([key, value]) => ({ key, value })),
    createdBy: `polytope-lens version ${meta.toolVersion ?? 'unknown'} (hyparquet-writer)`,
  });
  const groupRows = meta.rowGroupRows ?? Math.max(1, Math.floor(PARQUET_ROW_GROUP_BYTES / (rowBytes + 12 + 4 * L)));
  const first = meta.firstIndex ?? 0;
  // Chunks wait here until a row group is full; a row group is cut at exactly groupRows rows.
  let pending: CodeBatch[] = [];
  let pendingFrom = 0; // rows of pending[0] already written
  let pendingRows = 0;
  let rows = 0; // rows handed to the parquet writer
  let open = true;
  const emit = (n: number) => {
    const index = new BigInt64Array(n);
    const pred = new Int32Array(n);
    const code: Uint8Array[] = new Array(n);
    const active = Array.from({ length: L }, () => new Int32Array(n));
    for (let r = 0; r < n; ) {
      const b = pending[0]!;
      const m = Math.min(b.n - pendingFrom, n - r);
      pred.set(b.preds.subarray(pendingFrom, pendingFrom + m), r);
      for (let i = pendingFrom, e = pendingFrom + m; i < e; i++, r++) {
        index[r] = BigInt(first + rows + r);
        code[r] = b.codes.subarray(i * rowBytes, (i + 1) * rowBytes);
        for (let l = 0; l < L; l++) active[l]![r] = b.active[i * L + l]!;
      }
      pendingFrom += m;
      if (pendingFrom === b.n) {
        pending.shift();
        pendingFrom = 0;
      }
    }
    void writer.write({
      rowGroupSize: n,
      columnData: [
        { name: 'index', data: index },
        { name: 'pred', data: pred },
        // Codes are long, mostly distinct values: no dictionary, no min/max statistics, and no compression: the
        // JavaScript snappy took the writer from 73,000 to 6,000-12,000 mnist-8 rows/s on the host (as slow as the
        // whole job) for files only 19% smaller (bench/parquet-writers-results.json).
        { name: 'code', data: code, encoding: 'PLAIN', statistics: false, codec: 'UNCOMPRESSED' },
        ...columns.map((name, l) => ({ name, data: active[l]! })),
      ],
    });
    rows += n;
    pendingRows -= n;
  };
  return {
    write(b) {
      if (b.n === 0) return;
      pending.push(b);
      pendingRows += b.n;
      while (pendingRows >= groupRows) emit(groupRows);
    },
    async close() {
      if (pendingRows > 0) emit(pendingRows);
      await writer.finish();
      closeSync(fd);
      open = false;
      return rows;
    },
    async abort() {
      if (!open) return;
      open = false;
      pending = [];
      closeSync(fd);
      rmSync(path, { force: true });
    },
  };
}

export interface PlcodesFile {
  version: number;
  n: number;
  units: number;
  rowBytes: number;
  table: { model: string; layers: LayerEntry[] };
  /** n x rowBytes bytes. */
  rows: Uint8Array;
}

/** Reads a whole PLCODES1 file (for tests and small files; large files are better read with an offset). */
export function readPlcodes(path: string): PlcodesFile {
  const b = readFileSync(path);
  if (b.length < HEADER_FIXED || b.toString('latin1', 0, 8) !== PLCODES_MAGIC) throw new UserError(`${path} is not a PLCODES1 file.`);
  const version = b.readUInt32LE(8);
  const n = Number(b.readBigUInt64LE(12));
  const units = b.readUInt32LE(20);
  const rowBytes = b.readUInt32LE(24);
  const j = b.readUInt32LE(28);
  const table = JSON.parse(b.toString('utf8', HEADER_FIXED, HEADER_FIXED + j)) as PlcodesFile['table'];
  const start = HEADER_FIXED + j;
  if (b.length !== start + n * rowBytes) throw new UserError(`${path}: ${b.length - start} bytes of rows, but the header says ${n} rows of ${rowBytes} bytes.`);
  return { version, n, units, rowBytes, table, rows: new Uint8Array(b.buffer, b.byteOffset + start, n * rowBytes) };
}
