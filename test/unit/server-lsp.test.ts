/**
 * Language server over a real connection: `node out/server/main.js --stdio` spawned as a child process, spoken to
 * with vscode-jsonrpc. Hover and CodeLens on the bundled example (examples/digits) and on the fixtures, live
 * numbers after the analysis notification (codes computed by the real CLI), staleness, edits, and "client" mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LspClient, positionOf } from '../support/lsp';
import { FIXTURES, ROOT } from '../support/paths';
import { pathToFileURL } from 'node:url';
import { openStructure } from '../../src/server/models';
import { GLOSSARY, termTooltip, type GlossaryTermId } from '../../src/shared/glossary';
import type { AnalysisParams, DocumentModel, ModelStructureParams, OpenLayerArgs } from '../../src/shared/lsp-protocol';
import type { CodesResult } from '../../src/shared/results';

const DIGITS = join(ROOT, 'examples/digits');
const TRAIN = join(DIGITS, 'train.py');
const PY = join(FIXTURES, 'python');

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Hover at the first occurrence of `needle` (one column in). */
async function hoverAt(client: LspClient, uri: string, text: string, needle: string, n = 0): Promise<string> {
  const p = positionOf(text, needle, 1, n);
  const h = await client.hover(uri, p.line, p.character);
  assert.ok(h, `a hover at ${JSON.stringify(needle)}`);
  return h;
}

function openArgsOf(hover: string): OpenLayerArgs {
  const m = /\(command:polytopeLens\.openLayer\?([^)]+)\)/.exec(hover);
  assert.ok(m, 'an open-layer command link');
  return (JSON.parse(decodeURIComponent(m[1]!)) as OpenLayerArgs[])[0]!;
}

/** The glossary links of a hover: [text, href, title] per link whose title is a term's tooltip. */
function termLinks(hover: string): { text: string; href: string; title: string }[] {
  return [...hover.matchAll(/\[([^\]]+)\]\(([^ )]+) "((?:[^"\\]|\\.)*)"\)/g)].map((m) => ({ text: m[1]!, href: m[2]!, title: m[3]!.replace(/\\(.)/g, '$1') }));
}

/** Asserts that the hover links term `id` as `text` with its tooltip, to `href(anchor)`. */
function assertTermLink(hover: string, id: GlossaryTermId, text: string, href: (id: GlossaryTermId) => string): void {
  const link = termLinks(hover).find((l) => l.text === text);
  assert.ok(link, `a link "${text}" in ${hover}`);
  assert.equal(link.title, termTooltip(id), `${id}: the glossary's sentence as the tooltip`);
  assert.equal(link.href, href(id));
}

async function lensTitles(client: LspClient, uri: string): Promise<Map<number, string>> {
  return new Map((await client.codeLens(uri)).map((l) => [l.range.start.line, l.command!.title]));
}

/** Codes of the digits model on its test split, from the real CLI, as the extension would send them. */
function digitsAnalysis(modelPath: string): AnalysisParams {
  const codes = JSON.parse(
    execFileSync(process.execPath, [join(ROOT, 'out/cli/main.js'), 'codes', modelPath, '--inputs', join(DIGITS, 'digits-x.npy'), '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 }),
  ) as CodesResult;
  const summary = JSON.parse(execFileSync(process.execPath, [join(ROOT, 'out/cli/main.js'), 'summary', modelPath, '--json'], { encoding: 'utf8' }));
  return {
    modelPath,
    summary,
    codes: { n: codes.n, distinct_codes: codes.distinct_codes, distinct_per_layer: codes.distinct_per_layer, stats: codes.stats, inputs_note: codes.inputs_note },
    pathStats: { paths: 20, mean_crossings: 41.5, per_layer_mean: { '/act1/Relu': 17.25, '/block/block.1/Relu': 12, '/block/block.3/Relu': 12.25 } },
  };
}

test('digits example, standalone: hover names the ONNX nodes, units and shapes; CodeLens; then live numbers', async () => {
  const { client, init } = await LspClient.start();
  try {
    assert.deepEqual(init.capabilities.executeCommandProvider?.commands, ['polytopeLens.openLayer']);
    const text = readFileSync(TRAIN, 'utf8');
    const uri = await client.open(TRAIN);

    const fc1 = await hoverAt(client, uri, text, 'self.fc1 =');
    assert.match(fc1, /`\/fc1\/Gemm` \(Gemm\)/);
    assert.match(fc1, /Feeds:[\s\S]*\| `\/act1\/Relu` \| Relu \| 48 \| \[48\] \|/);
    assert.match(fc1, /matched by scope names/);
    assert.deepEqual(openArgsOf(fc1), { modelPath: join(DIGITS, 'digits.onnx'), layer: '/act1/Relu', nodes: ['/fc1/Gemm'], source: { uri, line: positionOf(text, 'self.fc1 =').line } });

    const act1 = await hoverAt(client, uri, text, 'self.act1');
    assert.match(act1, /`\/act1\/Relu` \(Relu\)/);
    assert.match(act1, /Units:/);
    assert.doesNotMatch(act1, /dead/, 'no live numbers before an analysis');

    // Sequential children by index: the first nn.ReLU() in the block is block.1, the second block.3
    assert.match(await hoverAt(client, uri, text, 'nn.Linear(48, 32)'), /self\.block\[0\][\s\S]*`\/block\/block\.0\/Gemm`/);
    assert.match(await hoverAt(client, uri, text, 'nn.ReLU(),', 0), /`\/block\/block\.1\/Relu` \(Relu\)/);
    assert.match(await hoverAt(client, uri, text, 'nn.ReLU(),', 1), /`\/block\/block\.3\/Relu` \(Relu\)/);
    assert.match(await hoverAt(client, uri, text, 'self.head'), /`\/head\/Gemm` \(Gemm\)[\s\S]*No units/);
    assert.match(await hoverAt(client, uri, text, 'class DigitsNet'), /7 nodes, 3 layers with units, \*\*112 units\*\*/);
    assert.match(await hoverAt(client, uri, text, 'torch.onnx.export('), /Writes `digits\.onnx`/);
    assert.equal(await client.hover(uri, 0, 0), null, 'nothing to say on the shebang');

    const line = (needle: string) => positionOf(text, needle).line;
    let lenses = await lensTitles(client, uri);
    assert.equal(lenses.get(line('class DigitsNet')), '112 units · open');
    assert.equal(lenses.get(line('self.fc1 =')), 'feeds 48 units · open');
    assert.equal(lenses.get(line('self.act1')), '48 units · open');
    assert.equal(lenses.get(line('self.block =')), '64 units · open');
    assert.equal(lenses.get(line('nn.Linear(48, 32)')), 'feeds 32 units · open');
    assert.equal(lenses.get(line('self.head')), 'Gemm · open');

    // The analysis arrives: the server asks the client to refresh its CodeLenses, hovers show live numbers.
    const analysis = digitsAnalysis(join(DIGITS, 'digits.onnx'));
    const stats = new Map(analysis.codes!.stats.map((s) => [s.key, s]));
    const s1 = stats.get('/act1/Relu')!;
    await client.conn.sendNotification('polytopeLens/analysis', analysis);
    await until(() => (client.seen.get('workspace/codeLens/refresh') ?? 0) >= 1, 'workspace/codeLens/refresh');
    const live = await hoverAt(client, uri, text, 'self.act1');
    const pct = (x: number) => `${((100 * x) / 48).toFixed(1)} %`;
    assert.ok(live.includes(`| \`/act1/Relu\` | Relu | 48 | [48] | ${pct(s1.dead_units)} | ${pct(s1.always_on_units)} | ${s1.distinct_codes} | 17.25 |`), live);
    assert.match(live, /360 samples/);
    lenses = await lensTitles(client, uri);
    assert.equal(lenses.get(line('self.act1')), `48 units · ${s1.distinct_codes} regions hit · open`);
    assert.equal(lenses.get(line('self.fc1 =')), `feeds 48 units · ${s1.distinct_codes} regions hit · open`);
    assert.equal(lenses.get(line('class DigitsNet')), `112 units · ${analysis.codes!.distinct_codes} regions hit · open`);
    // One name (regions hit) with its glossary link: standalone, the link is the glossary file next to the server.
    const cls = await hoverAt(client, uri, text, 'class DigitsNet');
    assert.match(cls, new RegExp(`Live: \\*\\*${analysis.codes!.distinct_codes}\\*\\* \\[regions hit\\]\\(\\S+ "[^"]*"\\) by 360 inputs`));
    assert.doesNotMatch(cls, /distinct codes|top scores|\b1 paths\b/, 'one name per concept');
    const glossaryFile = (id: GlossaryTermId) => `${pathToFileURL(join(ROOT, 'docs/glossary.md')).href}#${GLOSSARY[id].anchor}`;
    assertTermLink(cls, 'regions-hit', 'regions hit', glossaryFile);
    assertTermLink(cls, 'dead-unit', 'dead', glossaryFile);
    assertTermLink(cls, 'crossings-per-path', 'crossings per path', glossaryFile);
    assertTermLink(live, 'regions-hit', 'regions hit', glossaryFile);
    assert.match(live, /_Latest analysis:_ 360 samples .*, \d+ \[regions hit\]\(\S+ "[^"]*"\) overall; 41\.50 \[crossings per path\]\(\S+ "[^"]*"\) \(mean of 20 paths\)\./);
    // The CodeLens cannot link: its tooltip carries the sentences.
    const lens = (await client.codeLens(uri)).find((l) => l.range.start.line === line('self.act1'))!;
    assert.equal(lens.command!.tooltip, `unit: ${termTooltip('unit')}\nregions hit: ${termTooltip('regions-hit')}\nClick to open the model view at this layer.`);

    // Cleared: back to structure only.
    await client.conn.sendNotification('polytopeLens/clearAnalysis', { modelPath: join(DIGITS, 'digits.onnx') });
    await until(() => (client.seen.get('workspace/codeLens/refresh') ?? 0) >= 2, 'a second refresh');
    assert.equal((await lensTitles(client, uri)).get(line('self.act1')), '48 units · open');

    // The side panel's question: which model, and which nodes for each definition.
    const dm = await client.conn.sendRequest<DocumentModel>('polytopeLens/documentModel', { uri });
    assert.equal(dm.modelPath, join(DIGITS, 'digits.onnx'));
    assert.equal(dm.rootClass, 'DigitsNet');
    assert.deepEqual(dm.layers.find((l) => l.path === 'fc1'), { path: 'fc1', ctor: 'nn.Linear', line: line('self.fc1 ='), nodes: ['/fc1/Gemm'], layerKeys: ['/act1/Relu'], via: 'scope' });

    // Other editors send the command back to the server, which answers with a message.
    await client.conn.sendRequest('workspace/executeCommand', { command: 'polytopeLens.openLayer', arguments: [openArgsOf(act1)] });
    await until(() => client.messages.some((m) => m.includes('/act1/Relu (Relu, 48 units')), `a message (got ${JSON.stringify(client.messages)}; ${client.errors})`);
  } finally {
    await client.stop();
  }
});

test('stale numbers: the Python file is newer than the exported model, or has unsaved edits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plens-lsp-'));
  const { client } = await LspClient.start();
  try {
    const py = join(dir, 'train.py');
    const model = join(dir, 'digits.onnx');
    copyFileSync(TRAIN, py);
    copyFileSync(join(DIGITS, 'digits.onnx'), model);
    const t = Date.now() / 1000;
    utimesSync(model, t - 100, t - 100);
    utimesSync(py, t, t);
    const text = readFileSync(py, 'utf8');
    const uri = await client.open(py);
    assert.match(await hoverAt(client, uri, text, 'self.fc1 ='), /changed after `digits\.onnx` was exported: the numbers may be stale/);
    // Re-exported: the model is newer again (the server sees the new mtime and reloads)
    utimesSync(model, t + 10, t + 10);
    assert.doesNotMatch(await hoverAt(client, uri, text, 'self.fc1 ='), /stale/);
    // An unsaved edit in the editor (the file on disk is unchanged) is a change no export has seen.
    await client.change(uri, 2, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '# edited, not saved\n' }]);
    const edited = '# edited, not saved\n' + text;
    assert.match(await hoverAt(client, uri, edited, 'self.fc1 ='), /may be stale/);
    // Undone: the text equals the saved file again.
    await client.change(uri, 3, [{ range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } }, text: '' }]);
    assert.doesNotMatch(await hoverAt(client, uri, text, 'self.fc1 ='), /stale/);
  } finally {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stale numbers compare content: a fresh copy whose Python file is microseconds newer is not stale; saving a changed text is, saving the same text is not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plens-lsp-'));
  const { client } = await LspClient.start();
  try {
    const py = join(dir, 'train.py');
    const model = join(dir, 'digits.onnx');
    copyFileSync(join(DIGITS, 'digits.onnx'), model);
    copyFileSync(TRAIN, py);
    const t = Date.now() / 1000;
    utimesSync(model, t, t);
    utimesSync(py, t + 0.000075, t + 0.000075); // 75 us later, as a copy of the example may be
    const text = readFileSync(py, 'utf8');
    const uri = await client.open(py);
    assert.doesNotMatch(await hoverAt(client, uri, text, 'self.fc1 ='), /stale/);
    // Saved again with the same text, later: nothing changed.
    utimesSync(py, t + 50, t + 50);
    assert.doesNotMatch(await hoverAt(client, uri, text, 'self.fc1 ='), /stale/);
    // Saved with a changed text: the export has not seen it.
    const changed = text + '\n# a change after the export\n';
    writeFileSync(py, changed);
    utimesSync(py, t + 60, t + 60);
    await client.change(uri, 2, [{ range: { start: { line: text.split('\n').length - 1, character: 0 }, end: { line: text.split('\n').length - 1, character: 0 } }, text: '\n# a change after the export\n' }]);
    assert.match(await hoverAt(client, uri, changed, 'self.fc1 ='), /may be stale/);
  } finally {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fixtures over LSP: ModuleList appends, functional F.relu in a loop, named Sequential, fallback by order', async () => {
  const { client } = await LspClient.start();
  try {
    const nestedPath = join(PY, 'nested.py');
    const nested = readFileSync(nestedPath, 'utf8');
    const n = await client.open(nestedPath);
    assert.match(await hoverAt(client, n, nested, 'self.extra.append'), /2 instances \(`extra\.0`, `extra\.1`\) → `\/extra\.0\/Gemm` \(Gemm\), `\/extra\.1\/Gemm` \(Gemm\)/);
    const relu = await hoverAt(client, n, nested, 'F.relu(lin');
    assert.match(relu, /`\/Relu` \(Relu\), `\/Relu_1` \(Relu\)/);
    assert.match(await hoverAt(client, n, nested, 'self.fc ='), /2 instances \(`blocks\.0\.fc`, `blocks\.1\.fc`\)/);
    assert.match(await hoverAt(client, n, nested, 'torch.relu'), /`enc` → `\/enc\/Relu_1` \(Relu\)/);
    assert.match(await hoverAt(client, n, nested, 'nn.LeakyReLU'), /self\.mix\[1\] = nn\.LeakyReLU\(0\.1\)[\s\S]*`\/enc\/mix\/mix\.1\/LeakyRelu`/);
    assert.match(await hoverAt(client, n, nested, 'class Block'), /Instances in `nested\.onnx`: `blocks\.0`, `blocks\.1`/);

    const convPath = join(PY, 'convnet.py');
    const conv = readFileSync(convPath, 'utf8');
    const c = await client.open(convPath);
    assert.match(await hoverAt(client, c, conv, '("relu"'), /self\.features\.relu = nn\.ReLU\(\)[\s\S]*\| `\/features\/relu\/Relu` \| Relu \| 256 \| \[4, 8, 8\] \|/);
    assert.match(await hoverAt(client, c, conv, '("pool"'), /\| `\/features\/pool\/MaxPool` \| MaxPool \| 256 \| \[4, 8, 8\] \|/);
    assert.match(await hoverAt(client, c, conv, 'F.max_pool2d(F', 0), /`\/MaxPool` \(MaxPool\)/);

    const plainPath = join(PY, 'noscope.py');
    const plain = readFileSync(plainPath, 'utf8');
    const p = await client.open(plainPath);
    const r = await hoverAt(client, p, plain, 'nn.ReLU()');
    assert.match(r, /`Relu_3` \(Relu\)/);
    assert.match(r, /matched by order/);
    assert.match(await hoverAt(client, p, plain, 'self.fc1'), /`Gemm_0` \(Gemm\)[\s\S]*matched by parameter names/);
  } finally {
    await client.stop();
  }
});

test('edits: incremental changes move the definitions with the text', async () => {
  const { client } = await LspClient.start();
  try {
    const text = readFileSync(TRAIN, 'utf8');
    const uri = await client.open(TRAIN);
    const at = positionOf(text, 'class DigitsNet');
    await client.change(uri, 2, [{ range: { start: { line: at.line, character: 0 }, end: { line: at.line, character: 0 } }, text: '# a comment\n# another\n' }]);
    const p = positionOf(text, 'self.fc1 =', 1);
    assert.match((await client.hover(uri, p.line + 2, p.character))!, /`\/fc1\/Gemm`/);
    // Rename the attribute: the module path changes and no node matches any more
    await client.change(uri, 3, [{ range: { start: { line: p.line + 2, character: p.character + 4 }, end: { line: p.line + 2, character: p.character + 7 } }, text: 'dense1' }]);
    assert.match((await client.hover(uri, p.line + 2, p.character))!, /No node of `digits\.onnx` matches module `dense1`/);
    const lenses = await lensTitles(client, uri);
    assert.equal(lenses.get(positionOf(text, 'self.act1').line + 2), '48 units · open');
  } finally {
    await client.stop();
  }
});

test('"client" mode: the server asks the client for model structure and reads no model itself', async () => {
  const asked: ModelStructureParams[] = [];
  const { client, init } = await LspClient.start({
    initializationOptions: { polytopeLens: { modelSource: 'client' } },
    handlers: { 'polytopeLens/modelStructure': (p) => (asked.push(p as ModelStructureParams), openStructure((p as ModelStructureParams).candidates[0]!)) },
  });
  try {
    assert.equal(init.capabilities.executeCommandProvider, undefined, 'the extension owns the command');
    const text = readFileSync(TRAIN, 'utf8');
    const uri = await client.open(TRAIN);
    assert.match(await hoverAt(client, uri, text, 'self.fc1 ='), /`\/fc1\/Gemm`/);
    assert.deepEqual(asked, [{ documentUri: uri, candidates: [join(DIGITS, 'digits.onnx'), join(DIGITS, 'train.onnx')] }]);
    await hoverAt(client, uri, text, 'self.act1');
    assert.equal(asked.length, 1, 'the structure is cached');
    await client.conn.sendNotification('polytopeLens/modelChanged', { modelPath: join(DIGITS, 'digits.onnx') });
    await hoverAt(client, uri, text, 'self.act1');
    assert.equal(asked.length, 2, 'asked again after the model changed');
  } finally {
    await client.stop();
  }

  // A client that knows no structure: only what the analysis carries (its summary) maps.
  const second = await LspClient.start({ initializationOptions: { polytopeLens: { modelSource: 'client' } }, handlers: { 'polytopeLens/modelStructure': () => null } });
  try {
    const c2 = second.client;
    const text = readFileSync(TRAIN, 'utf8');
    const uri = await c2.open(TRAIN);
    assert.match(await hoverAt(c2, uri, text, 'self.act1'), /No exported model found/);
    await c2.conn.sendNotification('polytopeLens/analysis', digitsAnalysis(join(DIGITS, 'digits.onnx')));
    await until(() => (c2.seen.get('workspace/codeLens/refresh') ?? 0) >= 1, 'refresh');
    const live = await hoverAt(c2, uri, text, 'self.act1');
    assert.match(live, /\| `\/act1\/Relu` \| Relu \| 48 \| \[48\] \| [\d.]+ % \|/);
    // Under VS Code a term links to the extension's command, which opens the glossary at the term.
    const command = (id: GlossaryTermId) => `command:polytopeLens.openGlossary?${encodeURIComponent(JSON.stringify([{ term: id }]))}`;
    assertTermLink(live, 'regions-hit', 'regions hit', command);
    assertTermLink(live, 'always-on-unit', 'always on', command);
  } finally {
    await second.client.stop();
  }
});

test('the CLI serves the same language server: polytope-lens lsp --stdio', async () => {
  const { client, init } = await LspClient.start({ args: [join(ROOT, 'out/cli/main.js'), 'lsp', '--stdio'] });
  try {
    assert.ok(init.capabilities.hoverProvider);
    const text = readFileSync(TRAIN, 'utf8');
    const uri = await client.open(TRAIN);
    assert.match(await hoverAt(client, uri, text, 'self.fc1 ='), /`\/fc1\/Gemm` \(Gemm\)/);
  } finally {
    await client.stop();
  }
});
