/**
 * Language server, in process: tree-sitter extraction of PyTorch definitions, scope names of the real exporter,
 * and the mapping of every definition of the fixtures (exported by torch 1.13's torch.onnx.export) to ONNX nodes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createParser, PyDocument } from '../../src/server/syntax';
import { extract, type PyFile } from '../../src/server/parse';
import { parseFile } from '../support/python';
import { mapDefinitions } from '../../src/server/mapping';
import { modelCandidates, openStructure } from '../../src/server/models';
import { scopePath } from '../../src/server/scope';
import type { ModelStructure } from '../../src/shared/lsp-protocol';
import { FIXTURES, ROOT } from '../support/paths';

const PY = join(FIXTURES, 'python');
const DIGITS = join(ROOT, 'examples/digits');


/** `Class.rel` → node names for definitions, `Class:F.relu@line` → node names for functional uses. */
function table(py: PyFile, model: ModelStructure): Record<string, string[]> {
  const m = mapDefinitions(py, model);
  const out: Record<string, string[]> = {};
  for (const [def, mapped] of m.defs) out[`${def.cls}.${def.rel}`] = mapped.nodes.map((n) => n.name);
  for (const [use, mapped] of m.uses) out[`${use.cls}:${use.written}@${use.span.startRow + 1}`] = mapped.nodes.map((n) => n.name);
  return out;
}

test('scope names of the TorchScript exporter become module paths', () => {
  assert.equal(scopePath('/fc1/Gemm'), 'fc1');
  assert.equal(scopePath('/block/block.0/Gemm'), 'block.0');
  assert.equal(scopePath('/blocks.0/fc/Gemm'), 'blocks.0.fc');
  assert.equal(scopePath('/enc/mix/mix.0/Gemm'), 'enc.mix.0');
  assert.equal(scopePath('/features/conv/Conv'), 'features.conv');
  assert.equal(scopePath('/seq/seq.0/seq.0.1/Relu'), 'seq.0.1');
  assert.equal(scopePath('/enc/layers.0/Gemm'), 'enc.layers.0');
  assert.equal(scopePath('/Relu_1'), '');
  assert.equal(scopePath('Gemm_0'), null);
});

test('digits/train.py: classes, layers with Sequential indices, the export call and its path', async () => {
  const path = join(DIGITS, 'train.py');
  const py = await parseFile(path);
  const net = py.classes.find((c) => c.name === 'DigitsNet')!;
  assert.ok(net.isModule);
  assert.deepEqual(
    net.defs.map((d) => `${d.rel}:${d.ctor}:${d.kind}`),
    ['fc1:Linear:layer', 'act1:ReLU:layer', 'block:Sequential:container', 'block.0:Linear:layer', 'block.1:ReLU:layer', 'block.2:Linear:layer', 'block.3:ReLU:layer', 'head:Linear:layer'],
  );
  assert.deepEqual(net.defs.find((d) => d.rel === 'block')!.children, ['block.0', 'block.1', 'block.2', 'block.3']);
  assert.deepEqual(
    net.forward!.map((s) => (s.kind === 'module' ? s.rel : s.use.written)),
    ['fc1', 'act1', 'block', 'head'],
  );
  assert.equal(py.exports.length, 1);
  assert.deepEqual(py.exports[0]!.model, { text: 'model', cls: 'DigitsNet' });
  assert.deepEqual(py.exports[0]!.path, { literal: 'digits.onnx', joined: false });
  assert.deepEqual(modelCandidates(path, py), [join(DIGITS, 'digits.onnx'), join(DIGITS, 'train.onnx')]);
});

test('nested.py: ModuleList by comprehension and by appends in a loop, nested classes, forward order', async () => {
  const py = await parseFile(join(PY, 'nested.py'));
  const net = py.classes.find((c) => c.name === 'NestedNet')!;
  assert.deepEqual(
    net.defs.map((d) => `${d.rel}:${d.ctor}`),
    ['stem:Sequential', 'stem.0:Linear', 'stem.1:ReLU', 'blocks:ModuleList', 'blocks.*:Block', 'extra:ModuleList', 'extra.*:Linear', 'enc:Encoder', 'head:Linear'],
  );
  assert.deepEqual(
    net.forward!.map((s) => (s.kind === 'module' ? `${s.rel}${s.iterate ? '[]' : ''}` : `${s.use.written}${s.inLoop ? ' (loop)' : ''}`)),
    ['stem', 'blocks[]', 'extra[]', 'F.relu (loop)', 'enc', 'head'],
  );
  const enc = py.classes.find((c) => c.name === 'Encoder')!;
  // Arguments run first: F.relu(self.proj(x)) inside torch.relu(self.mix(...))
  assert.deepEqual(
    enc.forward!.map((s) => (s.kind === 'module' ? s.rel : s.use.written)),
    ['proj', 'F.relu', 'mix', 'torch.relu'],
  );
  // os.path.join(HERE, "nested.onnx") is taken relative to the Python file
  assert.deepEqual(py.exports[0]!.path, { literal: 'nested.onnx', joined: true });
  assert.equal(py.exports[0]!.model?.cls, 'NestedNet');
});

test('import aliases: from torch.nn import Linear, import torch.nn as tnn, from torch.nn import functional as fn', async () => {
  const src = [
    'import torch',
    'import torch.nn as tnn',
    'from torch.nn import Linear, ReLU as R',
    'from torch.nn import functional as fn',
    'class Base(tnn.Module):',
    '    pass',
    'class Net(Base):',
    '    def __init__(self):',
    '        super().__init__()',
    '        self.a = Linear(2, 3).to("cpu")',
    '        self.b = R()',
    '        self.c = tnn.Sequential(*[tnn.Linear(3, 3)])',
    '        self.d = tnn.ModuleDict({"x": tnn.Tanh(), "y": tnn.Sigmoid()})',
    '        self.add_module("e", tnn.ReLU())',
    '        self.not_a_module = make_thing()',
    '    def forward(self, x):',
    '        x = fn.relu(self.a(x)).clamp(min=0)',
    '        return self._tail(self.d["x"](x))',
    '    def _tail(self, x):',
    '        return torch.sigmoid(self.e(x))',
    'm = Net().eval()',
    'out = "nets/net.onnx"',
    'torch.onnx.export(m, torch.zeros(1, 2), out)',
  ].join('\n');
  const py = await parseFile('/tmp/x.py', src);
  const net = py.classes.find((c) => c.name === 'Net')!;
  assert.ok(net.isModule, 'a subclass of a module class of the file is a module');
  assert.deepEqual(net.defs.map((d) => `${d.rel}:${d.ctor}`), ['a:Linear', 'b:ReLU', 'c:Sequential', 'd:ModuleDict', 'd.x:Tanh', 'd.y:Sigmoid', 'e:ReLU']);
  assert.ok(net.defs.find((d) => d.rel === 'c')!.open, '*splat children are unknown');
  assert.deepEqual(
    net.forward!.map((s) => (s.kind === 'module' ? s.rel : s.use.written)),
    ['a', 'fn.relu', '.clamp()', 'd.x', 'e', 'torch.sigmoid'],
  );
  assert.deepEqual(py.exports[0]!.path, { literal: 'nets/net.onnx', joined: false });
  assert.equal(py.exports[0]!.model?.cls, 'Net');
});

test('mapping by scope names: nested.py (ModuleList, nested modules, functional uses in a loop)', async () => {
  const py = await parseFile(join(PY, 'nested.py'));
  const t = table(py, await openStructure(join(PY, 'nested.onnx')));
  assert.deepEqual(t['Block.fc'], ['/blocks.0/fc/Gemm', '/blocks.1/fc/Gemm']);
  assert.deepEqual(t['Block.act'], ['/blocks.0/act/Relu', '/blocks.1/act/Relu']);
  assert.deepEqual(t['NestedNet.stem'], ['/stem/stem.0/Gemm', '/stem/stem.1/Relu']);
  assert.deepEqual(t['NestedNet.stem.0'], ['/stem/stem.0/Gemm']);
  assert.deepEqual(t['NestedNet.stem.1'], ['/stem/stem.1/Relu']);
  assert.deepEqual(t['NestedNet.blocks.*'], ['/blocks.0/fc/Gemm', '/blocks.0/act/Relu', '/blocks.0/Add', '/blocks.1/fc/Gemm', '/blocks.1/act/Relu', '/blocks.1/Add']);
  assert.deepEqual(t['NestedNet.extra'], ['/extra.0/Gemm', '/extra.1/Gemm']);
  assert.deepEqual(t['NestedNet.extra.*'], ['/extra.0/Gemm', '/extra.1/Gemm']);
  assert.deepEqual(t['NestedNet.head'], ['/head/Gemm']);
  assert.deepEqual(t['Encoder.proj'], ['/enc/proj/Gemm']);
  assert.deepEqual(t['Encoder.mix.0'], ['/enc/mix/mix.0/Gemm']);
  assert.deepEqual(t['Encoder.mix.1'], ['/enc/mix/mix.1/LeakyRelu']);
  assert.deepEqual(t['NestedNet.enc'], ['/enc/proj/Gemm', '/enc/Relu', '/enc/mix/mix.0/Gemm', '/enc/mix/mix.1/LeakyRelu', '/enc/Relu_1']);
  // functional: F.relu in Encoder.forward is the first Relu directly in /enc, torch.relu the second;
  // F.relu in NestedNet's loop over self.extra runs twice: /Relu and /Relu_1
  assert.deepEqual(t['Encoder:F.relu@36'], ['/enc/Relu']);
  assert.deepEqual(t['Encoder:torch.relu@36'], ['/enc/Relu_1']);
  assert.deepEqual(t['NestedNet:F.relu@55'], ['/Relu', '/Relu_1']);
});

test('mapping by scope names: convnet.py (named Sequential from an OrderedDict, functional pool and relu)', async () => {
  const py = await parseFile(join(PY, 'convnet.py'));
  const t = table(py, await openStructure(join(PY, 'convnet.onnx')));
  assert.deepEqual(t['ConvNet.features.conv'], ['/features/conv/Conv']);
  assert.deepEqual(t['ConvNet.features.relu'], ['/features/relu/Relu']);
  assert.deepEqual(t['ConvNet.features.pool'], ['/features/pool/MaxPool']);
  assert.deepEqual(t['ConvNet.conv2'], ['/conv2/Conv']);
  assert.deepEqual(t['ConvNet.flatten'], ['/flatten/Flatten']);
  assert.deepEqual(t['ConvNet.fc'], ['/fc/Gemm']);
  assert.deepEqual(t['ConvNet:F.relu@28'], ['/Relu']);
  assert.deepEqual(t['ConvNet:F.max_pool2d@28'], ['/MaxPool']);
});

test('no scope names (older exporters): parameter names, then order', async () => {
  const py = await parseFile(join(PY, 'noscope.py'));
  const model = await openStructure(join(PY, 'noscope.onnx'));
  const expected = {
    'PlainNet.fc1': ['Gemm_0'],
    'PlainNet:F.relu@21': ['Relu_1'],
    'PlainNet.body.0': ['Gemm_2'],
    'PlainNet.body.1': ['Relu_3'],
    'PlainNet.body.2': ['Gemm_4'],
    'PlainNet.body': ['Gemm_2', 'Relu_3', 'Gemm_4'],
    'PlainNet:torch.relu@22': ['Relu_5'],
    'PlainNet.out': ['Gemm_6'],
  };
  assert.deepEqual(table(py, model), expected);
  const m = mapDefinitions(py, model);
  assert.deepEqual([...m.defs].filter(([d]) => d.kind === 'layer').map(([d, x]) => `${d.rel}:${x.instances[0]!.via}`), ['fc1:params', 'body.0:params', 'body.1:order', 'body.2:params', 'out:params']);
  // Without parameter names either (weights renamed by constant folding): order alone gives the same answer.
  const anonymous: ModelStructure = { ...model, nodes: model.nodes.map((n, i) => ({ ...n, inputs: n.inputs.map((x, j) => (j === 0 ? x : `onnx::${n.op}_${i}_${j}`)) })) };
  assert.deepEqual(table(py, anonymous), expected);
});

test('incremental re-parse after edits equals a fresh parse', async () => {
  const parser = await createParser();
  const text = readFileSync(join(PY, 'nested.py'), 'utf8');
  const doc = PyDocument.open(parser, 'file:///n.py', 1, text);
  const line = text.split('\n').findIndex((l) => l.includes('self.head = '));
  doc.update([{ range: { start: { line, character: 0 }, end: { line, character: 0 } }, text: '        self.extra_head = nn.Linear(4, 4)  # ü\n' }], 2);
  doc.update([{ range: { start: { line: 2, character: 0 }, end: { line: 4, character: 0 } }, text: '' }], 3);
  const fresh = PyDocument.open(parser, 'file:///m.py', 1, doc.doc.getText());
  assert.equal(doc.tree.rootNode.toString(), fresh.tree.rootNode.toString());
  const py = extract(doc.tree);
  const net = py.classes.find((c) => c.name === 'NestedNet')!;
  assert.ok(net.defs.some((d) => d.rel === 'extra_head' && d.span.startRow === line - 2));
  doc.dispose();
  fresh.dispose();
});
