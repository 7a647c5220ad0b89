/**
 * Every message a webview can send enters the host only through the parse... validators of
 * src/shared/webview-protocol.ts. For each channel: one valid sample of every message type (a Record over the
 * union's `type`, so adding a message type without a sample fails the type check), then malformed messages
 * (wrong types, unknown types, extra fields, file paths, prototype keys, huge or non-finite numbers), which must be
 * refused or stripped to the typed fields. Restored view states keep only the fields the host re-validates.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAX_EXPORT_CHARS,
  parseAnalysisMessage,
  parseAnalysisState,
  parseModelViewMessage,
  parseModelViewState,
  parseSidePanelMessage,
  rerunProblem,
  type AnalysisToHost,
  type ModelViewToHost,
  type SidePanelToHost,
} from '../../src/shared/webview-protocol';

const MODEL_VIEW: Record<ModelViewToHost['type'], ModelViewToHost> = {
  ready: { type: 'ready' },
  run: { type: 'run', action: 'probeCodes' },
  highlighted: { type: 'highlighted', layer: '/act1/Relu' },
  rendered: { type: 'rendered', view: 'summary', layers: 4, statsRows: 0 },
};
const ANALYSIS: Record<AnalysisToHost['type'], AnalysisToHost> = {
  ready: { type: 'ready' },
  rendered: { type: 'rendered', view: 'result', kind: 'path', items: 10, marks: 3 },
  export: { type: 'export', format: 'svg', content: '<svg xmlns="http://www.w3.org/2000/svg"></svg>' },
  point: { type: 'point', u: 0.25, v: -1.5 },
  inspect: { type: 'inspect', target: 'neighbour', neighbour: 3 },
  rerun: { type: 'rerun', kind: 'local', params: { radius: 0.15, directions: 20, n: 360 } },
  cancel: { type: 'cancel' },
};
const SIDE_PANEL: Record<SidePanelToHost['type'], SidePanelToHost> = {
  ready: { type: 'ready' },
  run: { type: 'run', action: 'refresh' },
  rendered: { type: 'rendered', view: 'model', layers: 2, deltaRows: 0, checkpoints: 1 },
};

/** Values that are never a message. */
const NOT_OBJECTS: unknown[] = [undefined, null, 0, 1, 'ready', true, [], [{ type: 'ready' }], () => undefined];
/** Wrong values for each field of the messages, by field name. */
const PATHS = ['../../etc/passwd', '/etc/passwd', 'file:///etc/passwd', 'C:\\Windows\\system32'];
const COMMON: unknown[] = [undefined, {}, [], true, { toString: () => 'probeCodes' }];
const COUNT: unknown[] = [...COMMON, null, -1, 1.5, NaN, Infinity, 1e12, '3'];
const ENUM: unknown[] = [...COMMON, null, '', 'x', 3, ...PATHS];
const BAD_VALUES: Record<string, unknown[]> = {
  layers: COUNT,
  statsRows: COUNT,
  items: COUNT,
  marks: COUNT,
  deltaRows: COUNT,
  checkpoints: COUNT,
  action: ENUM,
  view: ENUM,
  format: ENUM,
  kind: ENUM,
  layer: [...COMMON, 3, 'x'.repeat(5000)],
  u: [...COMMON, null, NaN, Infinity, -Infinity, 1e13, '1'],
  v: [...COMMON, null, NaN, Infinity, -Infinity, 1e13, '1'],
  content: [...COMMON, null, '', 3, ...PATHS, '<script>alert(1)</script>'],
  target: ENUM,
  neighbour: COUNT,
  // A form's values: a record of the kind's own fields only, each of its type ({} is a Run with the same values).
  params: [
    undefined, [], true, null, 3, 'radius', ...PATHS,
    { radius: '0.1' }, { radius: NaN }, { radius: Infinity }, { radius: 1e13 }, { radius: null },
    { n: 1.5 }, { n: '10' }, { directions: 2 ** 60 }, { steps: 100 }, { exact: true }, { inputs: '/etc/passwd' }, { labels: 'y.npy' },
    { radius: 0.1, model: '../../secret.onnx' }, { window: [0, 1] }, { alphas: [1, 2] }, { toString: 1 },
  ],
};

const channels = [
  { name: 'model view', parse: parseModelViewMessage, samples: MODEL_VIEW },
  { name: 'analysis view', parse: parseAnalysisMessage, samples: ANALYSIS },
  { name: 'side panel', parse: parseSidePanelMessage, samples: SIDE_PANEL },
] as const;

for (const ch of channels) {
  describe(`${ch.name} messages`, () => {
    const parse = ch.parse as (x: unknown) => unknown;
    const samples = Object.values(ch.samples) as Record<string, unknown>[];

    test('a valid message of every type is accepted as is', () => {
      for (const m of samples) assert.deepEqual(parse(m), m, JSON.stringify(m));
    });

    test('non-objects, unknown types and type confusion are refused', () => {
      for (const x of NOT_OBJECTS) assert.equal(parse(x), undefined, String(x));
      for (const type of ['', 'Ready', 'READY', 'run ', 'eval', 'openFile', 'constructor', '__proto__', 'toString', 1, null, ['ready']]) {
        assert.equal(parse({ type }), undefined, `type ${JSON.stringify(type)}`);
      }
    });

    test('every field of every type with a wrong value is refused', () => {
      for (const m of samples) {
        for (const field of Object.keys(m).filter((k) => k !== 'type')) {
          assert.ok(BAD_VALUES[field], `no bad values listed for field '${field}'`);
          for (const bad of BAD_VALUES[field]!) {
            const msg = { ...m, [field]: bad };
            const r = parse(msg) as Record<string, unknown> | undefined;
            // Optional fields (the analysis 'rendered' kind) may be dropped instead of refusing the message.
            if (r !== undefined) {
              assert.ok(field === 'kind' && r[field] === undefined, `${ch.name}: ${JSON.stringify(m.type)} accepted ${field} = ${JSON.stringify(bad)?.slice(0, 40)}`);
            }
          }
          const { [field]: _dropped, ...without } = m;
          const r = parse(without) as Record<string, unknown> | undefined;
          if (r !== undefined) assert.ok(field === 'kind', `${ch.name}: ${JSON.stringify(m.type)} accepted without '${field}'`);
        }
      }
    });

    test('extra fields (paths, commands, prototype keys) never pass through', () => {
      for (const m of samples) {
        const extra = { ...m, path: '/etc/passwd', uri: 'file:///home/u/.ssh/id_rsa', model: '../../secret.onnx', command: 'workbench.action.terminal.new', args: ['rm', '-rf', '/'] };
        const r = parse(extra) as Record<string, unknown> | undefined;
        assert.ok(r, `${JSON.stringify(m.type)} with extra fields`);
        assert.deepEqual(Object.keys(r).sort(), Object.keys(m).filter((k) => (m as Record<string, unknown>)[k] !== undefined).sort());
        const polluted = parse(JSON.parse(`{"__proto__": {"isAdmin": true}, ${JSON.stringify(m).slice(1)}`)) as Record<string, unknown> | undefined;
        assert.ok(polluted);
        assert.equal((polluted as { isAdmin?: boolean }).isAdmin, undefined);
        assert.equal(({} as { isAdmin?: boolean }).isAdmin, undefined, 'Object.prototype untouched');
      }
    });
  });
}

describe('closed lists', () => {
  test('run actions outside the closed lists are refused', () => {
    for (const action of ['openModel', 'exec', 'probeCodes; rm', 'PROBECODES', '']) assert.equal(parseModelViewMessage({ type: 'run', action }), undefined, action);
    for (const action of ['pathDensity', 'exec', 'regionMap', '']) assert.equal(parseSidePanelMessage({ type: 'run', action }), undefined, action);
  });

  test('exports must be what their format says, and bounded', () => {
    const ok = (format: string, content: unknown) => parseAnalysisMessage({ type: 'export', format, content }) !== undefined;
    assert.ok(ok('png', 'data:image/png;base64,iVBORw0KGgo='));
    assert.ok(ok('json', '{"a": 1}'));
    assert.ok(!ok('png', 'data:text/html;base64,PHNjcmlwdD4='));
    assert.ok(!ok('png', 'data:image/png;base64,iVBOR w0KGgo='));
    assert.ok(!ok('svg', '<html><script>alert(1)</script></html>'));
    assert.ok(!ok('svg', '<svg></svg><script>alert(1)</script>'));
    assert.ok(!ok('json', '{not json'));
    assert.ok(!ok('html', '<p>hi</p>'));
    assert.ok(!ok('svg', '<svg>' + 'x'.repeat(MAX_EXPORT_CHARS) + '</svg>'));
    assert.ok(!ok('json', ''));
    assert.ok(!ok('json', 42));
  });

  test('region-map clicks must be finite, bounded coordinates', () => {
    for (const [u, v] of [[NaN, 0], [0, Infinity], [1e13, 0], ['1', 0], [null, 0]]) assert.equal(parseAnalysisMessage({ type: 'point', u, v }), undefined, `${u}, ${v}`);
  });

  test('inspect clicks: a closed list of targets, each with its own checked fields', () => {
    const ok = (m: Record<string, unknown>) => parseAnalysisMessage({ type: 'inspect', ...m });
    assert.deepEqual(ok({ target: 'step', step: 12 }), { type: 'inspect', target: 'step', step: 12 });
    assert.deepEqual(ok({ target: 'point', u: 0.5, v: -2 }), { type: 'inspect', target: 'point', u: 0.5, v: -2 });
    assert.deepEqual(ok({ target: 'allFacets', neighbour: 3, path: '/etc/passwd' }), { type: 'inspect', target: 'allFacets' });
    for (const step of COUNT) assert.equal(ok({ target: 'step', step }), undefined, `step ${String(step)}`);
    for (const [u, v] of [[NaN, 0], [0, Infinity], [1e13, 0], ['1', 0], [null, 0]]) assert.equal(ok({ target: 'point', u, v }), undefined, `${u}, ${v}`);
    // A neighbour click carries an index into the view's own result, never a point: the host computes the point.
    assert.deepEqual(ok({ target: 'neighbour', neighbour: 2, x: [1, 2, 3] }), { type: 'inspect', target: 'neighbour', neighbour: 2 });
  });

  test('a highlighted layer key is a bounded string or null', () => {
    assert.deepEqual(parseModelViewMessage({ type: 'highlighted', layer: null }), { type: 'highlighted', layer: null });
    assert.equal(parseModelViewMessage({ type: 'highlighted', layer: 'x'.repeat(4096) }), undefined);
    assert.equal(parseModelViewMessage({ type: 'highlighted', layer: 3 }), undefined);
  });
});

describe('restored view states', () => {
  test('a model view state gives only a bounded model URI string', () => {
    assert.deepEqual(parseModelViewState({ model: 'file:///w/m.onnx', fileName: 'm.onnx', summary: { layers: [] }, path: '/etc/passwd' }), { model: 'file:///w/m.onnx' });
    for (const x of [null, [], 'file:///w/m.onnx', { model: 3 }, { model: 'x'.repeat(4096) }, {}]) assert.equal(parseModelViewState(x), undefined, JSON.stringify(x)?.slice(0, 40));
  });

  test('an analysis state keeps the kind, the model URI and only the parameters a click needs', () => {
    const s = parseAnalysisState({
      kind: 'slice',
      model: 'file:///w/m.onnx',
      params: { inputs: '/w/x.npy', plane: [0, 1, 2], window: [-3, 3], layer: 'x', steps: 5, resolution: 2.5, exact: 'yes', command: 'rm' },
      data: { big: true },
    });
    // Kept: what a click needs, the layer, and the form's fields of a slice that have their type (steps is not one).
    assert.deepEqual(s, { kind: 'slice', model: 'file:///w/m.onnx', params: { inputs: '/w/x.npy', plane: [0, 1, 2], window: [-3, 3], layer: 'x' } });
    const local = parseAnalysisState({ kind: 'local', model: 'm', params: { inputs: '/w/x.npy', radius: 0.15, directions: 20, n: 360, available: 360, labels: 3, pairs: 4 } });
    assert.deepEqual(local, { kind: 'local', model: 'm', params: { inputs: '/w/x.npy', radius: 0.15, directions: 20, n: 360, available: 360 } });
    const poly = parseAnalysisState({ kind: 'polytope', model: 'm', params: { inputs: '/w/x.npy', index: 3, box: [0, 16], facets: 'rays', from: -1, to: 1.5 } });
    assert.deepEqual(poly, { kind: 'polytope', model: 'm', params: { inputs: '/w/x.npy', index: 3, box: [0, 16], facets: 'rays' } });
    const odd = parseAnalysisState({ kind: 'slice', model: 'm', params: { inputs: 7, plane: [0, 1.5, 2], window: [NaN, 3] } });
    assert.deepEqual(odd, { kind: 'slice', model: 'm', params: {} });
    for (const x of [{ kind: 'shell', model: 'm' }, { kind: 'path' }, { kind: 'path', model: 'x'.repeat(4096) }, null, 'path']) assert.equal(parseAnalysisState(x), undefined, JSON.stringify(x)?.slice(0, 40));
  });
});

describe('the form of an analysis view (rerun)', () => {
  test("a Run carries only its kind's fields, each of its type", () => {
    const ok = (kind: string, params: unknown) => parseAnalysisMessage({ type: 'rerun', kind, params });
    assert.deepEqual(ok('path', { from: 0, to: 7, steps: 50, exact: true }), { type: 'rerun', kind: 'path', params: { from: 0, to: 7, steps: 50, exact: true } });
    assert.deepEqual(ok('slice', { window: [-1, 2], resolution: 80, exact: false }), { type: 'rerun', kind: 'slice', params: { window: [-1, 2], resolution: 80, exact: false } });
    assert.deepEqual(ok('scale', { alphas: [0, 0.5, 1] }), { type: 'rerun', kind: 'scale', params: { alphas: [0, 0.5, 1] } });
    assert.deepEqual(ok('cluster', { n: 100, k: 10, minClusterSize: 5 }), { type: 'rerun', kind: 'cluster', params: { n: 100, k: 10, minClusterSize: 5 } });
    assert.deepEqual(ok('study', { pairs: 20, steps: 100, studyWindow: 5, permutations: 500 }), { type: 'rerun', kind: 'study', params: { pairs: 20, steps: 100, studyWindow: 5, permutations: 500 } });
    for (const [kind, params] of [
      ['path', { radius: 1 }],
      ['path', { exact: 1 }],
      ['path', { steps: 10.5 }],
      ['slice', { window: [0] }],
      ['slice', { window: [0, 1, 2] }],
      ['slice', { window: [0, NaN] }],
      ['scale', { alphas: Array.from({ length: 65 }, () => 1) }],
      ['scale', { alphas: [1, '2'] }],
      ['scale', { layer: '/act1/Relu' }],
      ['cluster', { methods: ['hdbscan_codes'] }],
      ['shell', { n: 1 }],
    ] as const) {
      assert.equal(ok(kind, params), undefined, `${kind} ${JSON.stringify(params)}`);
    }
  });

  test('values out of range get one sentence naming the value and the range', () => {
    assert.equal(rerunProblem('local', { radius: 0.1, directions: 20, n: 360 }, 360), undefined);
    assert.equal(rerunProblem('local', { radius: -1 }), 'The radius must be a positive number, not -1.');
    assert.equal(rerunProblem('local', { radius: 0 }), 'The radius must be a positive number, not 0.');
    assert.equal(rerunProblem('local', { directions: 0 }), 'Directions must be between 1 and 10000, not 0.');
    assert.equal(rerunProblem('local', { n: 500 }, 360), 'The number of inputs must be at most 360 (the samples in the data file), not 500.');
    assert.equal(rerunProblem('path', { from: 360 }, 360), 'The first endpoint must be a sample index from 0 to 359, not 360.');
    assert.equal(rerunProblem('path', { steps: 0 }), 'Steps must be between 1 and 100000, not 0.');
    assert.equal(rerunProblem('slice', { window: [1, 1] }), 'The window needs LO < HI, not 1, 1.');
    assert.equal(rerunProblem('slice', { resolution: 1 }), 'The resolution must be between 2 and 2000, not 1.');
    assert.equal(rerunProblem('cluster', { n: 50, k: 60 }), 'k must be at most the number of inputs (50), not 60.');
    assert.equal(rerunProblem('cluster', { minClusterSize: 1 }), 'The minimum cluster size must be between 2 and 1000000, not 1.');
    assert.equal(rerunProblem('study', { steps: 10, studyWindow: 5 }), 'The window (5 steps either side) must be less than half the steps (10).');
    assert.equal(rerunProblem('scale', { alphas: [] }), 'Give at least one scale factor (alpha), for example 0.5, 1, 2.');
  });
});
