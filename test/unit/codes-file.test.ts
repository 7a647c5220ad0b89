/**
 * Codes files (src/core/codes-file.ts): PLCODES1 and Apache Arrow IPC written by runCodes chunk by chunk hold
 * exactly the rows that the JSON samples give (code_hex, pred, index); a cancelled job leaves no file.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tableFromIPC } from 'apache-arrow';
import { parseOutFormat, readPlcodes } from '../../src/core/codes-file';
import { isUserError } from '../../src/core/errors';
import { runCodes, type CodesRequest } from '../../src/worker/jobs';
import { CancelledError, EnginePool } from '../../src/worker/pool';
import { fixture } from '../support/paths';

let dir = '';
let pool: EnginePool;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pl-codes-file-'));
  pool = new EnginePool({ workers: 2 });
});
after(async () => {
  await pool.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const req = (n: number): CodesRequest => ({ model: { path: fixture('cnn.onnx') }, selection: {}, inputs: { kind: 'probes', probes: 'uniform', n, seed: 9 }, chunk: 13 });

test('PLCODES1 and Arrow IPC files hold the rows of the JSON samples, in order', async () => {
  const n = 100; // 8 chunks of 13 and one of 9: several record batches
  const ref = await runCodes(pool, req(n));
  const hex = ref.samples!.map((s) => s.code_hex);

  const raw = join(dir, 'c.raw');
  const r0 = await runCodes(pool, { ...req(n), out: raw });
  assert.equal(readFileSync(raw).toString('hex'), hex.join(''));
  assert.equal(r0.out!.format, 'raw packed rows, MSB first, no header');

  const pl = join(dir, 'c.plcodes');
  const r1 = await runCodes(pool, { ...req(n), out: pl, outFormat: 'plcodes' });
  assert.equal(r1.samples, undefined);
  const f = readPlcodes(pl);
  assert.deepEqual([f.version, f.n, f.units, f.rowBytes], [1, n, ref.layers.reduce((a, l) => a + l.units, 0), ref.code_bytes]);
  assert.deepEqual(f.table.layers, ref.layers.map(({ key, op, units, offset }) => ({ key, op, units, offset })));
  assert.equal(f.table.model, 'cnn.onnx');
  assert.equal(Buffer.from(f.rows).toString('hex'), hex.join(''));
  assert.equal(readFileSync(pl).subarray(0, 8).toString('latin1'), 'PLCODES1');

  const ar = join(dir, 'c.arrow');
  const r2 = await runCodes(pool, { ...req(n), out: ar, outFormat: 'arrow' });
  assert.match(r2.out!.format, /Apache Arrow IPC/);
  const bytes = readFileSync(ar);
  assert.equal(bytes.subarray(0, 6).toString('latin1'), 'ARROW1', 'the IPC file magic');
  const t = tableFromIPC(bytes);
  assert.equal(t.numRows, n);
  assert.ok(t.batches.length >= 8, `one record batch per chunk (${t.batches.length})`);
  assert.deepEqual(t.schema.fields.map((x) => [x.name, String(x.type)]), [['code', `FixedSizeBinary[${ref.code_bytes}]`], ['pred', 'Int32'], ['index', 'Uint32']]);
  const codes = t.getChild('code')!;
  const preds = t.getChild('pred')!;
  const index = t.getChild('index')!;
  for (let i = 0; i < n; i++) {
    assert.equal(Buffer.from(codes.get(i) as Uint8Array).toString('hex'), hex[i], `row ${i}`);
    assert.equal(preds.get(i), ref.samples![i]!.pred);
    assert.equal(index.get(i), i);
  }
  const meta = JSON.parse(t.schema.metadata.get('polytope_lens.layers')!) as { layers: { key: string }[] };
  assert.deepEqual(meta.layers.map((l) => l.key), ref.layers.map((l) => l.key));
});

test('a layer selection is written with its own offsets', async () => {
  const ar = join(dir, 'sel.arrow');
  const r = await runCodes(pool, { ...req(20), selection: { ops: ['MaxPool'] }, out: ar, outFormat: 'arrow' });
  const t = tableFromIPC(readFileSync(ar));
  const meta = JSON.parse(t.schema.metadata.get('polytope_lens.layers')!) as { layers: { op: string; offset: number }[] };
  assert.ok(meta.layers.every((l) => l.op === 'MaxPool'));
  assert.equal(meta.layers[0]!.offset, 0);
  assert.equal((t.getChild('code')!.get(0) as Uint8Array).length, r.code_bytes);
});

test('a cancelled or failed job leaves no plcodes, arrow or parquet file', async () => {
  const path = fixture('mnist-8.onnx');
  for (const outFormat of ['plcodes', 'arrow', 'parquet'] as const) {
    const out = join(dir, `cancelled.${outFormat}`);
    const ac = new AbortController();
    let chunks = 0;
    const job = runCodes(
      pool,
      { model: { path }, selection: {}, inputs: { kind: 'probes', probes: 'uniform', n: 20_000, seed: 1, lo: 0, hi: 255 }, chunk: 64, out, outFormat },
      { signal: ac.signal, onProgress: () => void (++chunks === 3 && ac.abort()) },
    );
    await assert.rejects(job, CancelledError);
    assert.equal(existsSync(out), false, `${outFormat}: the partial file was removed`);
  }
  await pool.idle();
});

test('unknown formats and unwritable paths are clear errors', async () => {
  assert.throws(() => parseOutFormat('csv'), (e: unknown) => isUserError(e) && /--out-format must be one of raw, plcodes, arrow, parquet, not 'csv'/.test((e as Error).message));
  assert.equal(parseOutFormat(undefined), 'raw');
  await assert.rejects(
    runCodes(pool, { ...req(5), out: join(dir, 'no/such/folder/c.arrow'), outFormat: 'arrow' }),
    (e: unknown) => isUserError(e) && /cannot write the codes to .*c\.arrow: ENOENT/.test((e as Error).message),
  );
});
