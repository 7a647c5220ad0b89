/**
 * Files from other exporters (issue #15): PyTorch's torch.export-based exporter (node metadata_props with module
 * scopes and stack traces; simulated by test/fixtures/python/make_dynamo_fixtures.py from the same models and
 * weights as the TorchScript fixtures), tf2onnx/Keras-style names, and files without names. The engine gives the
 * same layers, modules and codes for the TorchScript and the torch.export-style file; the language server maps
 * both to the same definitions with the same units, says which evidence it used, and maps forward lines by the
 * recorded stack traces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lens } from '../../src/core/lens';
import { CodeExtractor } from '../../src/core/extract';
import { toHex } from '../../src/core/bits';
import { readNpy, toModelInput } from '../../src/core/inputs';
import { readGraphMetadata } from '../../src/core/onnx/metadata';
import { moduleFromNamespace, moduleFromScopes, parsePyStringList, parseStackTrace, tfScopePath } from '../../src/core/identity';
import type { PyFile } from '../../src/server/parse';
import { parseFile } from '../support/python';
import { mapDefinitions } from '../../src/server/mapping';
import { openStructure } from '../../src/server/models';
import type { ModelStructure } from '../../src/shared/lsp-protocol';
import { LspClient, positionOf } from '../support/lsp';
import { FIXTURES } from '../support/paths';

const PY = join(FIXTURES, 'python');


/** Deterministic inputs in [-2, 2). */
function inputs(n: number, size: number): Float32Array {
  const x = new Float32Array(n * size);
  let s = 12345;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = (s / 2 ** 32) * 4 - 2;
  }
  return x;
}

async function codesOf(path: string, n: number): Promise<{ layers: ReturnType<Lens['summary']>['layers']; codes: string[]; preds: number[] }> {
  const lens = await Lens.open(path);
  const ex = await CodeExtractor.create(lens, lens.layers);
  const batch = await ex.run(inputs(n, lens.sampleSize), n);
  await ex.dispose();
  const codes = Array.from({ length: n }, (_, i) => toHex(batch.codes, i * ex.codeBytes, ex.codeBytes));
  return { layers: lens.summary().layers, codes, preds: Array.from(batch.preds) };
}

test('metadata_props are read from the wire: node scopes and stack traces, initializer original names', () => {
  const meta = readGraphMetadata(readFileSync(join(PY, 'nested_dynamo.onnx')));
  const relu = meta.nodes.get('relu_1')!;
  assert.equal(relu['pkg.torch.onnx.name_scopes'], "['', 'blocks.0', 'blocks.0.act', 'relu_1']");
  assert.match(relu.namespace!, /^: nested\.NestedNet\/blocks\.0: nested\.Block\/blocks\.0\.act: torch\.nn\.modules\.activation\.ReLU\/relu_1: aten\.relu\.default$/);
  assert.match(relu['pkg.torch.onnx.stack_trace']!, /File "test\/fixtures\/python\/nested\.py", line 23, in forward\n {4}return self\.act\(self\.fc\(x\)\) \+ x/);
  assert.equal(meta.initializers.get('stem.0.weight')!['pkg.torch.onnx.original_node_name'], 'p_stem_0_weight');
  // TorchScript files have none
  assert.equal(readGraphMetadata(readFileSync(join(PY, 'nested.onnx'))).nodes.size, 0);
});

test('identity parsing: name_scopes, namespace, stack traces, tf2onnx names', () => {
  assert.deepEqual(parsePyStringList("['', 'fc1', 'linear']"), ['', 'fc1', 'linear']);
  assert.deepEqual(parsePyStringList(`['', "it's", 'a\\\\b']`), ['', "it's", 'a\\b']);
  assert.equal(parsePyStringList('not a list'), null);
  assert.equal(moduleFromScopes(['', 'layer1', 'layer1.0', 'layer1.0.relu', 'relu_3']), 'layer1.0.relu');
  assert.equal(moduleFromScopes(['', 'layer1', '0', 'relu', 'relu_3']), 'layer1.0.relu');
  assert.equal(moduleFromScopes(['', 'relu']), '');
  assert.equal(moduleFromNamespace(': Net/fc1: torch.nn.modules.linear.Linear/linear: aten.linear.default'), 'fc1');
  const frames = parseStackTrace('  File "train.py", line 31, in forward\n    x = F.relu(self.fc1(x))\n        ^^^^^^\n  File "/usr/lib/python3/dist-packages/torch/nn/modules/linear.py", line 125, in forward\n    return F.linear(input, self.weight, self.bias)');
  assert.deepEqual(frames.map((f) => [f.file, f.line, f.name, f.text]), [
    ['train.py', 31, 'forward', 'x = F.relu(self.fc1(x))'],
    ['/usr/lib/python3/dist-packages/torch/nn/modules/linear.py', 125, 'forward', 'return F.linear(input, self.weight, self.bias)'],
  ]);
  assert.equal(tfScopePath('sequential/dense/Relu'), 'dense');
  assert.equal(tfScopePath('StatefulPartitionedCall/model/block/conv/Conv2D'), 'block.conv');
  assert.equal(tfScopePath('plain_net/Relu'), '');
  assert.equal(tfScopePath('/fc1/Gemm'), null);
  assert.equal(tfScopePath('Gemm_0'), null);
});

for (const name of ['nested', 'convnet']) {
  test(`${name}: the TorchScript export and the torch.export-style export give the same layers, modules and codes`, async () => {
    const ts = await codesOf(join(PY, `${name}.onnx`), 64);
    const dy = await codesOf(join(PY, `${name}_dynamo.onnx`), 64);
    const shape = (l: (typeof ts.layers)[number]) => ({ op: l.op, units: l.units, offset: l.offset, shape: l.shape, exact: l.exact, module: l.module });
    assert.deepEqual(dy.layers.map(shape), ts.layers.map(shape));
    assert.ok(ts.layers.every((l) => l.module_from === 'scope' && !l.source));
    assert.ok(dy.layers.every((l) => l.module_from === 'metadata' && l.source?.file === `test/fixtures/python/${name}.py`));
    assert.ok(dy.layers.every((l) => l.key.startsWith('node_')));
    assert.deepEqual(dy.codes, ts.codes);
    assert.deepEqual(dy.preds, ts.preds);
    assert.ok(new Set(ts.codes).size > 1, 'the inputs give more than one code');
  });
}

for (const name of ['mlp', 'cnn', 'resmlp']) {
  test(`${name}: the torch.export-style file gives PyTorch's module names and the PyTorch forward hooks' codes bit for bit`, async () => {
    const expected = JSON.parse(readFileSync(join(FIXTURES, `${name}.expected.json`), 'utf8')) as {
      layers: { op: string; module: string; units: number; offset: number }[];
      codes_hex: string[];
      preds: number[];
    };
    const lens = await Lens.open(join(PY, `${name}_dynamo.onnx`));
    const layers = lens.summary().layers;
    assert.deepEqual(
      layers.map((l) => ({ op: l.op, module: l.module, units: l.units, offset: l.offset })),
      expected.layers.map(({ op, module, units, offset }) => ({ op, module, units, offset })),
    );
    assert.ok(layers.every((l) => l.module_from === 'metadata' && l.source?.file === 'test/fixtures/make_fixtures.py'));
    const { n, data } = toModelInput(readNpy(join(FIXTURES, `${name}.inputs.npy`)), lens.sampleShape, name);
    const ex = await CodeExtractor.create(lens, lens.layers);
    const batch = await ex.run(data, n);
    await ex.dispose();
    assert.deepEqual(Array.from({ length: n }, (_, i) => toHex(batch.codes, i * ex.codeBytes, ex.codeBytes)), expected.codes_hex);
    assert.deepEqual(Array.from(batch.preds), expected.preds);
  });
}

test('resmlp: the residual addition `h + self.fc2(...)` has its source line; the layers point at ResBlock.forward', async () => {
  const s = await openStructure(join(PY, 'resmlp_dynamo.onnx'));
  const src = readFileSync(join(FIXTURES, 'make_fixtures.py'), 'utf8').split('\n');
  const add = s.nodes.find((n) => n.op === 'Add')!;
  assert.equal(add.module, 'blocks.0');
  const own = add.frames!.filter((f) => f.file === 'test/fixtures/make_fixtures.py');
  assert.equal(own.at(-1)!.text, 'return h + self.fc2(self.act(self.fc1(h)))');
  assert.equal(src[own.at(-1)!.line - 1]!.trim(), own.at(-1)!.text);
  assert.deepEqual(s.summary.layers.map((l) => `${l.module}@${src[l.source!.line - 1]!.trim()}`), [
    'stem_act@h = self.stem_act(self.stem(x))',
    'blocks.0.act@return h + self.fc2(self.act(self.fc1(h)))',
    'blocks.1.act@return h + self.fc2(self.act(self.fc1(h)))',
  ]);
});

test('nested: layer modules and source lines from the metadata', async () => {
  const lens = await Lens.open(join(PY, 'nested_dynamo.onnx'));
  assert.deepEqual(
    lens.summary().layers.map((l) => `${l.module}@${l.source!.line}`),
    ['stem.1@51', 'blocks.0.act@23', 'blocks.1.act@23', '@55', '@55', 'enc@36', 'enc.mix.1@36', 'enc@36'],
  );
});

/** Per definition and functional use: the units it maps to (op, units, shape of each layer), and the evidence. */
function unitsTable(py: PyFile, model: ModelStructure, path?: string): { units: Record<string, string[]>; via: Record<string, string[]> } {
  const m = mapDefinitions(py, model, path);
  const units: Record<string, string[]> = {};
  const via: Record<string, string[]> = {};
  const add = (k: string, mapped: NonNullable<ReturnType<typeof m.defs.get>>) => {
    units[k] = (mapped.layers.length ? mapped.layers : mapped.feeds).map((l) => `${l.module}:${l.op}:${l.units}:[${l.shape}]`);
    via[k] = [...new Set(mapped.instances.map((i) => i.via ?? '-'))];
  };
  for (const [def, mapped] of m.defs) add(`${def.cls}.${def.rel}`, mapped);
  for (const [use, mapped] of m.uses) add(`${use.cls}:${use.written}@${use.span.startRow + 1}`, mapped);
  return { units, via };
}

for (const name of ['nested', 'convnet']) {
  test(`${name}: every definition maps to the same units from the TorchScript and the torch.export-style file`, async () => {
    const pyPath = join(PY, `${name}.py`);
    const py = await parseFile(pyPath);
    const ts = unitsTable(py, await openStructure(join(PY, `${name}.onnx`)), pyPath);
    const dy = unitsTable(py, await openStructure(join(PY, `${name}_dynamo.onnx`)), pyPath);
    assert.deepEqual(dy.units, ts.units);
    assert.ok(Object.values(ts.units).filter((u) => u.length).length >= 5);
    assert.ok(Object.values(ts.via).every((v) => v.every((x) => x === 'scope' || x === '-')), JSON.stringify(ts.via));
    assert.ok(Object.values(dy.via).every((v) => v.every((x) => x === 'metadata' || x === '-')), JSON.stringify(dy.via));
  });
}

test('tf2onnx/Keras-style names map by scope; a file without names maps by order', async () => {
  const pyPath = join(PY, 'noscope.py');
  const py = await parseFile(pyPath);
  const keras = await openStructure(join(PY, 'keras_style.onnx'));
  assert.deepEqual(keras.summary.layers.map((l) => `${l.key}=${l.module}:${l.module_from}`), ['plain_net/Relu=:scope', 'plain_net/body/1/Relu=body.1:scope', 'plain_net/Relu_1=:scope']);
  const k = mapDefinitions(py, keras, pyPath);
  assert.deepEqual(
    [...k.defs].filter(([d]) => d.kind === 'layer').map(([d, x]) => `${d.rel}:${x.nodes.map((n) => n.name).join(',')}:${x.instances[0]!.via}`),
    ['fc1:plain_net/fc1/Gemm:scope', 'body.0:plain_net/body/0/Gemm:scope', 'body.1:plain_net/body/1/Relu:scope', 'body.2:plain_net/body/2/Gemm:scope', 'out:plain_net/out/Gemm:scope'],
  );
  assert.deepEqual([...k.uses].map(([u, x]) => `${u.written}:${x.nodes.map((n) => n.name).join(',')}`), ['F.relu:plain_net/Relu', 'torch.relu:plain_net/Relu_1']);

  const bare = await openStructure(join(PY, 'nonames.onnx'));
  assert.deepEqual(bare.summary.layers.map((l) => `${l.key}:${l.module ?? '-'}`), ['Relu1:-', 'Relu3:-', 'Relu5:-']);
  const b = mapDefinitions(py, bare, pyPath);
  assert.deepEqual(
    [...b.defs].filter(([d]) => d.kind === 'layer').map(([d, x]) => `${d.rel}:${x.nodes.map((n) => n.name).join(',')}:${x.instances[0]!.via}`),
    ['fc1:Gemm0:order', 'body.0:Gemm2:order', 'body.1:Relu3:order', 'body.2:Gemm4:order', 'out:Gemm6:order'],
  );
  assert.deepEqual([...b.uses].map(([u, x]) => `${u.written}:${x.nodes.map((n) => n.name).join(',')}`), ['F.relu:Relu1', 'torch.relu:Relu5']);
});

async function hoverAt(client: LspClient, uri: string, text: string, needle: string, n = 0): Promise<string> {
  const p = positionOf(text, needle, 1, n);
  const h = await client.hover(uri, p.line, p.character);
  assert.ok(h, `a hover at ${JSON.stringify(needle)}`);
  return h;
}

test('LSP on a torch.export-style model: evidence named, hover and CodeLens on forward lines, staleness from recorded lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-dynamo-'));
  const { client } = await LspClient.start();
  try {
    copyFileSync(join(PY, 'nested.py'), join(dir, 'nested.py'));
    copyFileSync(join(PY, 'nested_dynamo.onnx'), join(dir, 'nested.onnx'));
    const path = join(dir, 'nested.py');
    const text = readFileSync(path, 'utf8');
    const uri = await client.open(path);

    const fc = await hoverAt(client, uri, text, 'self.fc =');
    assert.match(fc, /2 instances \(`blocks\.0\.fc`, `blocks\.1\.fc`\) → `node_linear_1` \(Gemm\), `node_linear_2` \(Gemm\)/);
    assert.match(fc, /matched by module paths in the node metadata/);
    assert.match(fc, /\| module \| layer \| op \| units \| shape \|/);
    assert.match(fc, /\| `blocks\.0\.act` · nested\.py:23 \| `node_relu_1` \| Relu \| 16 \| \[16\] \|/);

    // a functional use, by its line in the stack traces
    const relu = await hoverAt(client, uri, text, 'F.relu(lin');
    assert.match(relu, /`\(root\)` → `node_relu_3` \(Relu\), `node_relu_4` \(Relu\)/);
    assert.match(relu, /matched by the stack traces in the node metadata/);

    // forward lines that are no definition: a residual addition, a loop calling blocks
    const residual = await hoverAt(client, uri, text, 'return self.act(self.fc(x)) + x');
    assert.match(residual, /\*\*`return self\.act\(self\.fc\(x\)\) \+ x`\*\*/);
    assert.match(residual, /2 instances \(`blocks\.0`, `blocks\.1`\) → `node_linear_1` \(Gemm\), `node_relu_1` \(Relu\), `node_add` \(Add\), `node_linear_2` \(Gemm\), `node_relu_2` \(Relu\), `node_add_1` \(Add\)/);
    assert.match(residual, /matched by the stack traces in the node metadata/);
    const loop = await hoverAt(client, uri, text, 'x = blk(x)');
    assert.match(loop, /`node_relu_1` \(Relu\)/);
    assert.match(loop, /\| `blocks\.1\.act` · nested\.py:23 \|/);
    // a line of forward the export never ran gives no hover
    assert.equal(await client.hover(uri, positionOf(text, 'def forward(self, x):', 1).line, 1), null);

    const lenses = new Map((await client.codeLens(uri)).map((l) => [l.range.start.line, l.command!.title]));
    assert.equal(lenses.get(positionOf(text, 'x = blk(x)', 1).line), '32 units · open');
    assert.equal(lenses.get(positionOf(text, 'return self.act(self.fc(x)) + x', 1).line), '32 units · open');
    assert.ok(!(await hoverAt(client, uri, text, 'self.fc =')).includes('⚠'));

    // staleness from the recorded source: an edited line of forward makes the numbers stale, an edit elsewhere not
    const edited = text.replace('return self.act(self.fc(x)) + x', 'return self.act(self.fc(x)) - x');
    await client.change(uri, 2, [{ text: edited }]);
    assert.match(await hoverAt(client, uri, edited, 'self.fc ='), /⚠ Line 23 of this file differs from the source that `nested\.onnx` recorded/);
    const comment = text.replace('HERE = os.path', '# a comment\nHERE = os.path');
    await client.change(uri, 3, [{ text: comment }]);
    assert.match(await hoverAt(client, uri, comment, 'self.fc ='), /⚠ Line 23 of this file differs/, 'lines moved: the recorded lines no longer match');
    await client.change(uri, 4, [{ text: text.replace('"""Language-server fixture', '"""Fixture') }]);
    assert.ok(!(await hoverAt(client, uri, text, 'self.fc =')).includes('⚠'), 'an edit that moves no recorded line is not stale');
  } finally {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LSP: the hover names the evidence for TorchScript scopes, parameter names and order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-evidence-'));
  const { client } = await LspClient.start();
  try {
    copyFileSync(join(PY, 'noscope.py'), join(dir, 'noscope.py'));
    copyFileSync(join(PY, 'keras_style.onnx'), join(dir, 'noscope.onnx'));
    const path = join(dir, 'noscope.py');
    const text = readFileSync(path, 'utf8');
    let uri = await client.open(path);
    assert.match(await hoverAt(client, uri, text, 'self.fc1'), /`plain_net\/fc1\/Gemm` \(Gemm\)[\s\S]*matched by scope names/);
    await client.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
    copyFileSync(join(PY, 'nonames.onnx'), join(dir, 'noscope.onnx'));
    uri = await client.open(path, text, 5);
    const fc1 = await hoverAt(client, uri, text, 'self.fc1');
    assert.match(fc1, /`Gemm0` \(Gemm\)[\s\S]*matched by order/);
    assert.match(await hoverAt(client, uri, text, 'F.relu'), /`Relu1` \(Relu\)[\s\S]*matched by order/);
  } finally {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
