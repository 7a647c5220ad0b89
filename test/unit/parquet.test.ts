/**
 * Parquet codes files (`codes --out-format parquet`, src/core/codes-file.ts) and shards (`--shard K/N`), read back
 * with embedded DuckDB (@duckdb/node-api, a devDependency whose native binary ships in an npm package: nothing is
 * downloaded at run time): the rows equal the JSON samples, the metadata says what made them, and N shards of a
 * run hold exactly its rows, so the merging SQL of docs/scale-out.md gives the run's own numbers.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { makeProbes, ProbeStream } from '../../src/core/inputs';
import { parseShard, shardRange } from '../../src/core/shard';
import type { CodesResult } from '../../src/shared/results';
import { runCodes, type CodesRequest } from '../../src/worker/jobs';
import { EnginePool } from '../../src/worker/pool';
import { fixture, ROOT } from '../support/paths';

const CLI = join(ROOT, 'out/cli/main.js');
let dir = '';
let pool: EnginePool;
let db: DuckDBInstance;
let sql: DuckDBConnection;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pl-parquet-'));
  pool = new EnginePool({ workers: 2 });
  db = await DuckDBInstance.create(':memory:', { threads: '1' });
  sql = await db.connect();
});
after(async () => {
  sql.closeSync();
  db.closeSync();
  await pool.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Rows of a query, with BIGINTs as numbers and BLOBs as hex. */
async function rows(q: string): Promise<unknown[][]> {
  const r = await sql.runAndReadAll(q);
  return r.getRows().map((row) =>
    row.map((v) => {
      if (typeof v === 'bigint') return Number(v);
      if (v !== null && typeof v === 'object' && 'bytes' in v) return Buffer.from((v as { bytes: Uint8Array }).bytes).toString('hex');
      return v;
    }),
  );
}
const one = async (q: string): Promise<unknown> => (await rows(q))[0]![0];

function cli(...args: string[]): CodesResult {
  const r = spawnSync(process.execPath, [CLI, ...args, '--json', '--quiet'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `polytope-lens ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr, '');
  return JSON.parse(r.stdout) as CodesResult;
}

const cnn = (n: number): CodesRequest => ({ model: { path: fixture('cnn.onnx') }, selection: {}, inputs: { kind: 'probes', probes: 'uniform', n, seed: 9 }, chunk: 13 });

test('a parquet file holds the rows of the JSON samples: index, pred, code and the active units per layer', async () => {
  const n = 100;
  const ref = await runCodes(pool, cnn(n));
  const out = join(dir, 'cnn.parquet');
  const r = await runCodes(pool, { ...cnn(n), out, outFormat: 'parquet', parquetRowGroupRows: 30 });
  assert.deepEqual(r.out, { path: out, format: 'Apache Parquet file: index INT64, pred INT32, code BINARY, active_<layer> INT32 per layer', rows: n, row_bytes: ref.code_bytes });
  assert.equal(readFileSync(out).subarray(0, 4).toString('latin1'), 'PAR1');
  const cols = ref.layers.map((l) => `active_${l.key.replace(/[^A-Za-z0-9_]/g, '_')}`);
  assert.deepEqual(
    (await rows(`DESCRIBE SELECT * FROM '${out}'`)).map((c) => [c[0], c[1]]),
    [['index', 'BIGINT'], ['pred', 'INTEGER'], ['code', 'BLOB'], ...cols.map((c) => [c, 'INTEGER'])],
  );
  assert.equal(await one(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata('${out}')`), 4, 'row groups of 30 rows: 30, 30, 30, 10');
  const got = await rows(`SELECT index, pred, code, ${cols.join(', ')} FROM '${out}' ORDER BY index`);
  assert.deepEqual(
    got,
    ref.samples!.map((s) => [s.index, s.pred, s.code_hex, ...s.active_per_layer]),
  );

  const kv = Object.fromEntries((await rows(`SELECT decode(key), decode(value) FROM parquet_kv_metadata('${out}')`)) as [string, string][]);
  assert.deepEqual(JSON.parse(kv['polytope_lens.layers']!), {
    model: 'cnn.onnx',
    layers: ref.layers.map(({ key, op, units, offset }, i) => ({ key, op, units, offset, column: cols[i] })),
  });
  assert.equal(kv['polytope_lens.units'], String(ref.layers.reduce((a, l) => a + l.units, 0)));
  assert.equal(kv['polytope_lens.model_sha256'], createHash('sha256').update(readFileSync(fixture('cnn.onnx'))).digest('hex'));
  assert.equal(kv['polytope_lens.version'], (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  assert.deepEqual(JSON.parse(kv['polytope_lens.recipe']!), { inputs: { probes: 'uniform', n, seed: 9, lo: 0, hi: 1 }, note: ref.inputs_note });
  assert.match(kv['polytope_lens.bit_order']!, /^MSB first/);

  // No rows: still a file with the schema.
  const empty = join(dir, 'empty.parquet');
  await runCodes(pool, { ...cnn(n), limit: 0, out: empty, outFormat: 'parquet' });
  assert.deepEqual(await rows(`SELECT count(*), count(DISTINCT code) FROM '${empty}'`), [[0, 0]]);
});

test('--shard K/N: 1-based contiguous ranges that cover every row once', () => {
  assert.deepEqual(parseShard('3/4'), { k: 3, n: 4 });
  for (const total of [0, 1, 7, 10, 20_000]) {
    for (const n of [1, 2, 3, 7]) {
      let next = 0;
      for (let k = 1; k <= n; k++) {
        const { start, end } = shardRange(total, { k, n });
        assert.equal(start, next, `${total} rows, shard ${k}/${n}`);
        assert.ok(end - start <= Math.ceil(total / n) && end - start >= Math.floor(total / n));
        next = end;
      }
      assert.equal(next, total);
    }
  }
});

test('generated probe i depends only on the seed and i, whichever chunk or shard draws it', () => {
  for (const kind of [{ type: 'gaussian' } as const, { type: 'uniform', lo: -1, hi: 3 } as const, { type: 'around', base: new Float32Array([0, 1, 2, 5, 5, 5]), radius: 0.5 } as const]) {
    const all = makeProbes(kind, 50, [3], 7);
    const s = new ProbeStream(kind, [3], 7);
    assert.deepEqual(s.at(20, 13), all.subarray(60, 99), kind.type);
    assert.deepEqual(s.at(0, 5), all.subarray(0, 15), kind.type);
    const t = new ProbeStream(kind, [3], 7);
    const parts = [t.next(17), t.next(1), t.next(32)];
    assert.deepEqual(Float32Array.from(parts.flatMap((p) => Array.from(p))), all, kind.type);
    assert.notDeepEqual(makeProbes(kind, 50, [3], 8), all);
  }
});

test('a float32 .npy read by the workers: a shard has the rows of the whole run at the same indices', async () => {
  const x = fixture('mnist8.inputs.npy');
  const model = { path: fixture('mnist-8.onnx') };
  const whole = await runCodes(pool, { model, selection: {}, inputs: { kind: 'file', path: x }, chunk: 3 });
  const n = whole.n;
  const got: unknown[] = [];
  for (let k = 1; k <= 3; k++) {
    const s = await runCodes(pool, { model, selection: {}, inputs: { kind: 'file', path: x }, chunk: 3, shard: { k, n: 3 } });
    assert.equal(s.shard!.total, n);
    got.push(...s.samples!);
  }
  assert.deepEqual(got, whole.samples);
});

test('2 shards of 10,000 mnist-8 probes and one run of 20,000, merged in DuckDB, agree with each other and with the CLI', async () => {
  const model = 'test/fixtures/mnist-8.onnx';
  // Inputs near 0 and one layer, so that many probes share a code and the shards share codes with each other.
  const common = [model, '--probes', 'uniform', '--lo', '0', '--hi', '0.01', '--n', '20000', '--seed', '3', '--layers', 'ReLU32', '--out-format', 'parquet'];
  const whole = cli('codes', ...common, '--out', join(dir, 'whole.parquet'));
  const shards = [1, 2].map((k) => cli('codes', ...common, '--shard', `${k}/2`, '--out', join(dir, `shard-${k}-of-2.parquet`)));
  assert.deepEqual(shards.map((s) => [s.n, s.shard!.first, s.out!.rows]), [[10_000, 0, 10_000], [10_000, 10_000, 10_000]]);
  const W = `'${join(dir, 'whole.parquet')}'`;
  const S = `'${join(dir, 'shard-*-of-2.parquet')}'`;
  const S1 = `'${join(dir, 'shard-1-of-2.parquet')}'`;
  const S2 = `'${join(dir, 'shard-2-of-2.parquet')}'`;

  // Distinct codes: the shards together, the whole run, and the CLI's own count.
  const distinct = (f: string) => one(`SELECT count(DISTINCT code) FROM ${f}`);
  const [dW, dS, d1, d2] = [await distinct(W), await distinct(S), await distinct(S1), await distinct(S2)];
  assert.equal(dW, whole.distinct_codes);
  assert.equal(dS, whole.distinct_codes);
  assert.equal(d1, shards[0]!.distinct_codes);
  assert.equal(d2, shards[1]!.distinct_codes);
  assert.ok(whole.distinct_codes < 20_000, `probes share codes (${whole.distinct_codes} distinct)`);
  assert.ok((d1 as number) + (d2 as number) > (dS as number), 'the two shards share codes, counted once when merged');

  // The same rows, index for index.
  assert.equal(await one(`SELECT count(*) FROM ${S}`), 20_000);
  assert.equal(await one(`SELECT count(*) FROM (SELECT index, pred, code, active_ReLU32 FROM ${S} EXCEPT SELECT index, pred, code, active_ReLU32 FROM ${W})`), 0);
  assert.equal(await one(`SELECT count(DISTINCT index) FROM ${S}`), 20_000);

  // docs/scale-out.md's queries on the shards give the run's own numbers.
  const units = whole.layers[0]!.units;
  assert.deepEqual(await rows(`SELECT ${units} - bit_count(bit_or(code::BIT)) AS dead_units, bit_count(bit_and(code::BIT)) AS always_on FROM ${S}`), [
    [whole.stats[0]!.dead_units, whole.stats[0]!.always_on_units],
  ]);
  const fraction = (await one(`SELECT sum(active_ReLU32) / (count(*) * ${units}) FROM ${S}`)) as number;
  assert.ok(Math.abs(fraction - whole.stats[0]!.active_fraction) < 1e-12, `${fraction} vs ${whole.stats[0]!.active_fraction}`);
  // docs/scale-out.md's per-layer query, the layer table read from the shards' metadata.
  const perLayer = `WITH meta AS (
  SELECT unnest(from_json(decode(value), '{"layers":[{"key":"VARCHAR","units":"INTEGER","offset":"INTEGER"}]}').layers,
                recursive := true)
  FROM parquet_kv_metadata(${S1}) WHERE decode(key) = 'polytope_lens.layers'),
seen AS (
  SELECT bit_or(code::BIT)::VARCHAR AS on_any, bit_and(code::BIT)::VARCHAR AS on_all FROM ${S})
SELECT key, units,
       units - length(replace(substr(on_any, "offset" + 1, units), '0', '')) AS dead_units,
       length(replace(substr(on_all, "offset" + 1, units), '0', '')) AS always_on_units
FROM meta, seen ORDER BY "offset"`;
  assert.deepEqual(await rows(perLayer), whole.stats.map((st, i) => [st.key, whole.layers[i]!.units, st.dead_units, st.always_on_units]));
  assert.deepEqual(await rows(`SELECT count(*), count(DISTINCT index), min(index), max(index) FROM ${S}`), [[20_000, 20_000, 0, 19_999]]);
  assert.deepEqual(
    await rows(`SELECT DISTINCT decode(value)::VARCHAR FROM parquet_kv_metadata(${S}) WHERE decode(key) IN ('polytope_lens.model_sha256', 'polytope_lens.version') ORDER BY 1`),
    [[createHash('sha256').update(readFileSync(fixture('mnist-8.onnx'))).digest('hex')], [(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version]].sort(),
  );
  const perClass = `SELECT pred, count(*) AS inputs, count(DISTINCT code) AS distinct_codes FROM %F GROUP BY pred ORDER BY pred`;
  assert.deepEqual(await rows(perClass.replace('%F', S)), await rows(perClass.replace('%F', W)));
  const shared = `SELECT count(*) FROM (SELECT code FROM %F GROUP BY code HAVING count(DISTINCT pred) > 1)`;
  assert.equal(await one(shared.replace('%F', S)), await one(shared.replace('%F', W)));
});
