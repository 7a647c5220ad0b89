/**
 * Which PyTorch module (or Keras layer) an ONNX node comes from, and where in the source, from whatever the
 * producer left in the file. In order of trust:
 *
 *  - metadata: PyTorch's torch.export-based exporter (the default of torch.onnx.export since 2.9) writes node
 *    metadata_props (torch/onnx/_internal/exporter/_core.py, `_set_node_metadata`): `pkg.torch.onnx.name_scopes`
 *    (a Python list repr, `['', 'layer1', 'layer1.0', 'layer1.0.relu', 'relu_3']`: the nn_module_stack's module
 *    paths, then the FX node's name), `namespace` (`: Net/fc1: torch.nn.modules.linear.Linear/linear: aten...`)
 *    and `pkg.torch.onnx.stack_trace` (Python traceback text: `File "train.py", line 31, in forward` + the line);
 *  - scope: the TorchScript exporter's node names (`/layer1/layer1.0/relu/Relu`, see scopePath), or tf2onnx/Keras
 *    names (`sequential/dense/Relu`: model name, layer path, op);
 *  - params: a node reading `<path>.weight` / `.bias` belongs to module `<path>`.
 */
import type { NodeProto } from './onnx/model';
import type { GraphMetadata, Props } from './onnx/metadata';
import { nodeKey, type GraphIndex } from './onnx/graph';
import type { OnnxNodeRef } from '../shared/lsp-protocol';

export type ModuleEvidence = 'metadata' | 'scope' | 'params';

export interface Frame {
  file: string;
  /** One-based line. */
  line: number;
  /** The function (`forward`). */
  name: string;
  /** The source line as recorded at export, trimmed ('' when not recorded). */
  text: string;
}

export interface NodeIdentity {
  /** Module path as named_modules() spells it ('' = the root module), or null when nothing tells. */
  module: string | null;
  module_from?: ModuleEvidence;
  /** The innermost frame of user code (not a library's) in the stack trace. */
  source?: { file: string; line: number };
  /** Every frame of the stack trace, outermost first. */
  frames: Frame[];
}

/** Qualified name from its last non-numeric atom on. */
function unqualified(path: string): string {
  const atoms = path.split('.');
  for (let i = atoms.length - 1; i >= 0; i--) if (!/^\d+$/.test(atoms[i]!)) return atoms.slice(i).join('.');
  return path;
}

/**
 * The module path a TorchScript exporter node name places the node in ('' = the root module), or null when the
 * name carries no scopes (older exporters: `Gemm_0`; unnamed nodes).
 *
 * The TorchScript exporter (torch >= 1.13) names a node `/<scope>/<scope>/.../<Op>[_k]`: one scope per module
 * on the call stack, each written as its *unqualified* name, i.e. its qualified name from the last non-numeric
 * atom on (`enc.mix.0` → `mix.0`, `blocks.0.fc` → `fc`, `blocks.0` → `blocks.0`). Containers that are not
 * called (ModuleList, ModuleDict) add no scope. So `/block/block.0/Gemm` is module `block.0`,
 * `/blocks.0/fc/Gemm` is `blocks.0.fc`, `/enc/mix/mix.0/Gemm` is `enc.mix.0`, `/Relu_1` is the root module.
 */
export function scopePath(nodeName: string): string | null {
  if (!nodeName.startsWith('/')) return null;
  const comps = nodeName.split('/').slice(1, -1);
  let path = '';
  for (const comp of comps) {
    if (!comp) continue;
    if (!path) {
      path = comp;
      continue;
    }
    const u = unqualified(path);
    if (comp.startsWith(`${u}.`) && /^\d+(\.\d+)*$/.test(comp.slice(u.length + 1))) path = path.slice(0, path.length - u.length) + comp;
    else path = `${path}.${comp}`;
  }
  return path;
}

/**
 * The layer path of a tf2onnx/Keras node name (`sequential/dense/MatMul` → `dense`,
 * `StatefulPartitionedCall/model/block/conv/Conv2D` → `block.conv`, `model/Relu` → ''): the first name is the
 * model's, the last the op's. Null for names without '/' or starting with '/'.
 */
export function tfScopePath(nodeName: string): string | null {
  if (!nodeName.includes('/') || nodeName.startsWith('/')) return null;
  const segs = nodeName.split('/').filter(Boolean);
  while (segs.length > 2 && /^(StatefulPartitionedCall|PartitionedCall)(_\d+)?$/.test(segs[0]!)) segs.shift();
  if (segs.length < 2) return null;
  return segs.slice(1, -1).join('.');
}

/** Module path of a parameter tensor (`fc1.weight` → `fc1`, `block.0.bias` → `block.0`), or null. */
export function paramPath(tensor: string): string | null {
  const m = /^(.+)\.(weight|bias|running_mean|running_var)$/.exec(tensor);
  return m && !m[1]!.includes('/') && !m[1]!.includes('::') ? m[1]! : null;
}

/** The strings of a Python list repr (`['', 'fc1', "it's"]`), or null when it is not one. */
export function parsePyStringList(s: string): string[] | null {
  const t = s.trim();
  if (!t.startsWith('[') || !t.endsWith(']')) return null;
  const out: string[] = [];
  const re = /\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*(,|$)/y;
  const body = t.slice(1, -1);
  if (!body.trim()) return [];
  re.lastIndex = 0;
  while (re.lastIndex < body.length) {
    const m = re.exec(body);
    if (!m) return null;
    const raw = m[1] ?? m[2] ?? '';
    out.push(raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c)));
    if (!m[3]) break;
  }
  return out;
}

/**
 * Module path from the exporter's name_scopes: the module entries (all but the last, the FX node's name). They are
 * full paths (`layer1`, `layer1.0`, `layer1.0.relu`); a producer that writes each level's own name (`layer1`, `0`,
 * `relu`) is read too.
 */
export function moduleFromScopes(scopes: string[]): string {
  let path = '';
  for (const s of scopes.slice(0, -1)) {
    if (!s) continue;
    path = !path || s === path || s.startsWith(`${path}.`) ? s : `${path}.${s}`;
  }
  return path;
}

/** Module path from a `namespace` value (`: Net/fc1: torch.nn.modules.linear.Linear/linear: aten.linear.default`). */
export function moduleFromNamespace(ns: string): string | null {
  const parts = ns.split('/');
  if (parts.length < 2) return null;
  return moduleFromScopes(parts.map((p) => p.split(':')[0]!.trim()));
}

/** Frames of a Python traceback text (`  File "x.py", line 31, in forward\n    x = self.fc1(x)`). */
export function parseStackTrace(text: string): Frame[] {
  const frames: Frame[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*File "(.+)", line (\d+), in (.+?)\s*$/.exec(lines[i]!);
    if (!m) continue;
    const next = lines[i + 1];
    const text = next !== undefined && !/^\s*File "/.test(next) && !/^\s*[\^~]+\s*$/.test(next) ? next.trim() : '';
    frames.push({ file: m[1]!, line: Number(m[2]), name: m[3]!, text });
  }
  return frames;
}

/** A frame of a library (torch, an installed package) rather than of the user's code. */
export function isLibraryFrame(f: Frame): boolean {
  const p = f.file.replace(/\\/g, '/');
  return /\/(site|dist)-packages\//.test(p) || /(^|\/)torch\/(nn|_dynamo|export|fx|onnx|_ops|overrides)/.test(p) || p.startsWith('<');
}

/** Identity of a node: its metadata when the exporter wrote some, else its name, else its parameters. */
export function nodeIdentity(node: NodeProto, props: Props | undefined): NodeIdentity {
  const frames = props?.['pkg.torch.onnx.stack_trace'] ? parseStackTrace(props['pkg.torch.onnx.stack_trace']) : [];
  const user = [...frames].reverse().find((f) => !isLibraryFrame(f));
  const source = user ? { file: user.file, line: user.line } : undefined;
  const withSource = (id: Omit<NodeIdentity, 'frames' | 'source'>): NodeIdentity => ({ ...id, ...(source ? { source } : {}), frames });
  const scopes = props?.['pkg.torch.onnx.name_scopes'] ? parsePyStringList(props['pkg.torch.onnx.name_scopes']) : null;
  if (scopes && scopes.length) return withSource({ module: moduleFromScopes(scopes), module_from: 'metadata' });
  const fromNs = props?.namespace ? moduleFromNamespace(props.namespace) : null;
  if (fromNs !== null) return withSource({ module: fromNs, module_from: 'metadata' });
  const name = node.name ?? '';
  const scoped = scopePath(name) ?? tfScopePath(name);
  if (scoped !== null) return withSource({ module: scoped, module_from: 'scope' });
  for (const i of node.input ?? []) {
    const p = i ? paramPath(i) : null;
    if (p) return withSource({ module: p, module_from: 'params' });
  }
  return withSource({ module: null });
}

/** Every node of a graph in topological order, with its identity, as the language server maps it. */
export function nodeRefs(g: GraphIndex, meta: GraphMetadata | undefined): OnnxNodeRef[] {
  return g.order.map((n) => {
    const ref: OnnxNodeRef = {
      name: nodeKey(n, g.fileIndex),
      op: n.opType ?? '',
      inputs: (n.input ?? []).filter(Boolean),
      outputs: (n.output ?? []).filter(Boolean),
    };
    const id = nodeIdentity(n, meta?.nodes.get(n.output?.[0] ?? ''));
    // Parameter names are the mapper's own fallback; only names and metadata are passed on.
    if (id.module !== null && id.module_from !== 'params') (ref.module = id.module), (ref.moduleFrom = id.module_from);
    if (id.frames.length) ref.frames = id.frames.map(({ file, line, text }) => ({ file, line, text }));
    return ref;
  });
}
