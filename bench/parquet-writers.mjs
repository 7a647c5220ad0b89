// Which Parquet writer for `codes --out-format parquet` (issue 16): the candidates write the same rows (real mnist-8
// codes, 2248 bytes each, cycled from a raw codes file, with index, pred and 5 INT32 columns) in row groups of
// 16,384 rows, snappy-compressed (and hyparquet-writer once more with the code column uncompressed), each writer in a process of its own; seconds, rows/s, peak RSS, file size, and
// DuckDB reads every file back (rows, distinct codes).
//
// The candidates are not dependencies of the project: install them in a scratch folder and run from there.
//   polytope-lens codes test/fixtures/mnist-8.onnx --probes uniform --lo 0 --hi 255 --n 20000 --out /tmp/w/codes.raw
//   cd /tmp/w && npm init -y && npm install --ignore-scripts hyparquet-writer@0.17.0 parquet-wasm@0.8.0 \
//     @duckdb/node-api@1.5.6-r.1 apache-arrow@21.2.0
//   node /path/to/repo/bench/parquet-writers.mjs [ROWS=200000] > /path/to/repo/bench/parquet-writers-results.json
// (@dsnp/parquetjs 1.9.3 was not measured: it requires node >= 24.18, and the extension host runs node 20.)
import { spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Writable } from 'node:stream';

const require = createRequire(join(process.cwd(), 'x.js')); // the candidates come from the scratch folder
const RG = 16384;
const RB = 2248;
const L = 5;

if (process.argv[2] === '--one') await one(process.argv[3], Number(process.argv[4]));
else {
  const rows = Number(process.argv[2] ?? 200_000);
  const runs = [];
  for (const w of ['hyparquet-writer', 'hyparquet-writer/code-uncompressed', 'duckdb', 'parquet-wasm']) {
    const r = spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--one', w, String(rows)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`${w} failed`);
    runs.push(JSON.parse(r.stdout));
  }
  const { DuckDBInstance } = require('@duckdb/node-api');
  const c = await (await DuckDBInstance.create(':memory:')).connect();
  for (const run of runs) {
    const [[n, d]] = (await c.runAndReadAll(`SELECT count(*)::INT, count(DISTINCT code)::INT FROM '${run.file}'`)).getRows();
    run.duckdb_reads = { rows: n, distinct_codes: d };
    rmSync(run.file, { force: true });
    delete run.file;
  }
  const out = { date: new Date().toISOString(), machine: `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}`, rows, row_group_rows: RG, runs };
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}

function* chunks(raw, rows, size) {
  const n0 = raw.length / RB;
  for (let s = 0; s < rows; s += size) {
    const n = Math.min(size, rows - s);
    const codes = new Uint8Array(n * RB);
    for (let i = 0; i < n; i++) {
      const j = (s + i) % n0;
      codes.set(raw.subarray(j * RB, (j + 1) * RB), i * RB);
    }
    const preds = new Int32Array(n);
    const active = new Int32Array(n * L);
    for (let i = 0; i < n; i++) {
      preds[i] = codes[i * RB + 7] % 10;
      for (let l = 0; l < L; l++) active[i * L + l] = codes[i * RB + l * 100];
    }
    yield { start: s, n, codes, preds, active };
  }
}

async function one(which, rows) {
  const raw = readFileSync(process.env.CODES_RAW ?? 'codes.raw');
  const out = join(process.cwd(), `out-${which.replace('/', '-')}.parquet`);
  rmSync(out, { force: true });
  const t0 = performance.now();
  if (which.startsWith('hyparquet-writer')) {
    // As src/core/codes-file.ts does it: chunks gathered into a row group, written through a 1 MB file buffer;
    // /code-uncompressed: the code column without snappy (hyparquet-writer's snappy is JavaScript), as shipped.
    const codec = which.endsWith('/code-uncompressed') ? { codec: 'UNCOMPRESSED' } : {};
    const { ParquetWriter, fileWriter } = await import(require.resolve('hyparquet-writer'));
    const schema = [
      { name: 'root', num_children: 3 + L },
      { name: 'index', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'pred', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'code', type: 'BYTE_ARRAY', repetition_type: 'REQUIRED' },
      ...Array.from({ length: L }, (_, l) => ({ name: `active_${l}`, type: 'INT32', repetition_type: 'REQUIRED' })),
    ];
    const w = new ParquetWriter({ writer: fileWriter(out), schema });
    let buf = [];
    let count = 0;
    const flush = () => {
      const index = new BigInt64Array(count);
      const pred = new Int32Array(count);
      const code = new Array(count);
      const act = Array.from({ length: L }, () => new Int32Array(count));
      let r = 0;
      for (const b of buf) {
        for (let i = 0; i < b.n; i++, r++) {
          index[r] = BigInt(b.start + i);
          pred[r] = b.preds[i];
          code[r] = b.codes.subarray(i * RB, (i + 1) * RB);
          for (let l = 0; l < L; l++) act[l][r] = b.active[i * L + l];
        }
      }
      w.write({ rowGroupSize: count, columnData: [{ name: 'index', data: index }, { name: 'pred', data: pred }, { name: 'code', data: code, encoding: 'PLAIN', statistics: false, ...codec }, ...act.map((d, l) => ({ name: `active_${l}`, data: d }))] });
      buf = [];
      count = 0;
    };
    for (const b of chunks(raw, rows, 400)) {
      buf.push(b);
      count += b.n;
      if (count >= RG) flush();
    }
    if (count) flush();
    w.finish();
  } else if (which === 'duckdb') {
    // DuckDB writes Parquet only from a table: rows appended to an on-disk database (256 MB memory limit), then COPY.
    const { DuckDBInstance } = require('@duckdb/node-api');
    const dbFile = join(process.cwd(), 'tmp.duckdb');
    rmSync(dbFile, { force: true });
    const inst = await DuckDBInstance.create(dbFile, { memory_limit: '256MB', threads: '1' });
    const c = await inst.connect();
    await c.run(`CREATE TABLE t (index BIGINT, pred INTEGER, code BLOB, ${Array.from({ length: L }, (_, l) => `active_${l} INTEGER`).join(', ')})`);
    const a = await c.createAppender('t');
    for (const b of chunks(raw, rows, 400)) {
      for (let i = 0; i < b.n; i++) {
        a.appendBigInt(BigInt(b.start + i));
        a.appendInteger(b.preds[i]);
        a.appendBlob(b.codes.subarray(i * RB, (i + 1) * RB));
        for (let l = 0; l < L; l++) a.appendInteger(b.active[i * L + l]);
        a.endRow();
      }
    }
    a.closeSync();
    await c.run(`COPY t TO '${out}' (FORMAT parquet, ROW_GROUP_SIZE ${RG})`);
    c.closeSync();
    rmSync(dbFile, { force: true });
    rmSync(`${dbFile}.wal`, { force: true });
  } else if (which === 'parquet-wasm') {
    // Arrow record batches (apache-arrow, as the arrow format is written) into parquet-wasm's streaming writer.
    const pw = require('parquet-wasm');
    const arrow = require('apache-arrow');
    const it = chunks(raw, rows, RG);
    const stream = new ReadableStream({
      pull(ctrl) {
        const { value: b, done } = it.next();
        if (done) return ctrl.close();
        const t = arrow.tableFromArrays({
          index: BigInt64Array.from({ length: b.n }, (_, i) => BigInt(b.start + i)),
          pred: b.preds,
          ...Object.fromEntries(Array.from({ length: L }, (_, l) => [`active_${l}`, Int32Array.from({ length: b.n }, (_, i) => b.active[i * L + l])])),
        });
        const code = arrow.makeVector(arrow.makeData({ type: new arrow.FixedSizeBinary(RB), length: b.n, nullCount: 0, data: b.codes }));
        const wt = pw.Table.fromIPCStream(arrow.tableToIPC(t.assign(new arrow.Table({ code })), 'stream'));
        for (const rb of wt.recordBatches()) ctrl.enqueue(rb);
      },
    });
    const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).setMaxRowGroupSize(RG).build();
    await (await pw.transformParquetStream(stream, props)).pipeTo(Writable.toWeb(createWriteStream(out)));
  }
  const s = (performance.now() - t0) / 1000;
  const version = JSON.parse(readFileSync(join(process.cwd(), 'node_modules', which === 'duckdb' ? '@duckdb/node-api' : which.split('/')[0], 'package.json'), 'utf8')).version;
  process.stdout.write(
    JSON.stringify({ writer: which, version, rows, seconds: Math.round(s * 100) / 100, rows_per_s: Math.round(rows / s), peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), file_mb: Math.round(statSync(out).size / 2 ** 18) / 4, file: out }) + '\n',
  );
}
