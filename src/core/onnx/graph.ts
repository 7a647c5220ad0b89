/** Read-only views of an ONNX graph: node order, producers, consumers, constants and attributes. */
import { AttributeType, floatValues, num, type GraphProto, type NodeProto, type TensorProto } from './model';

export interface GraphIndex {
  /** Nodes in topological order (stable: ties keep the file's node order). */
  order: NodeProto[];
  /** Index of each node in the file's node list (for keys of unnamed nodes). */
  fileIndex: Map<NodeProto, number>;
  producer: Map<string, NodeProto>;
  consumers: Map<string, NodeProto[]>;
  /** Initializers and outputs of Constant nodes, by tensor name. */
  constants: Map<string, TensorProto>;
  /** Tensors computed from constants only (for example a Reshape of a weight): fixed at run time. */
  constantDerived: Set<string>;
}

export function indexGraph(graph: GraphProto): GraphIndex {
  const nodes = graph.node ?? [];
  const fileIndex = new Map<NodeProto, number>();
  nodes.forEach((n, i) => fileIndex.set(n, i));
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  const constants = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) constants.set(t.name ?? '', t);
  for (const n of nodes) {
    for (const o of n.output ?? []) if (o) producer.set(o, n);
    for (const i of n.input ?? []) {
      if (!i) continue;
      const list = consumers.get(i);
      if (list) list.push(n);
      else consumers.set(i, [n]);
    }
    if (n.opType === 'Constant' && (!n.domain || n.domain === 'ai.onnx')) {
      const value = (n.attribute ?? []).find((a) => a.name === 'value')?.t;
      if (value && n.output?.[0]) constants.set(n.output[0], value);
    }
  }
  const order = topologicalOrder(nodes, producer);
  const constantDerived = new Set(constants.keys());
  for (const n of order) {
    const inputs = (n.input ?? []).filter(Boolean);
    if (inputs.length > 0 && inputs.every((i) => constantDerived.has(i))) for (const o of n.output ?? []) constantDerived.add(o);
  }
  return { order, fileIndex, producer, consumers, constants, constantDerived };
}

/** Kahn's algorithm, taking ready nodes in file order so an already sorted graph keeps its order. */
function topologicalOrder(nodes: NodeProto[], producer: Map<string, NodeProto>): NodeProto[] {
  const pending = new Map<NodeProto, number>();
  const dependents = new Map<NodeProto, NodeProto[]>();
  for (const n of nodes) {
    const deps = new Set<NodeProto>();
    for (const i of n.input ?? []) {
      const p = i ? producer.get(i) : undefined;
      if (p && p !== n) deps.add(p);
    }
    pending.set(n, deps.size);
    for (const d of deps) {
      const list = dependents.get(d);
      if (list) list.push(n);
      else dependents.set(d, [n]);
    }
  }
  const position = new Map(nodes.map((n, i) => [n, i]));
  // A binary heap would be asymptotically better; graphs are small and usually already sorted, so the ready
  // list is short.
  const ready = nodes.filter((n) => pending.get(n) === 0);
  const out: NodeProto[] = [];
  while (ready.length > 0) {
    let best = 0;
    for (let i = 1; i < ready.length; i++) if (position.get(ready[i]!)! < position.get(ready[best]!)!) best = i;
    const n = ready.splice(best, 1)[0]!;
    out.push(n);
    for (const d of dependents.get(n) ?? []) {
      const left = pending.get(d)! - 1;
      pending.set(d, left);
      if (left === 0) ready.push(d);
    }
  }
  // A cycle leaves nodes behind; keep them in file order so nothing is silently dropped.
  if (out.length < nodes.length) for (const n of nodes) if (!out.includes(n)) out.push(n);
  return out;
}

export function nodeKey(n: NodeProto, fileIndex: Map<NodeProto, number>): string {
  return n.name ? n.name : `${n.opType}${fileIndex.get(n) ?? 0}`;
}

export function attr(n: NodeProto, name: string) {
  return (n.attribute ?? []).find((a) => a.name === name);
}

export function attrInts(n: NodeProto, name: string): number[] | undefined {
  const a = attr(n, name);
  return a ? (a.ints ?? []).map(num) : undefined;
}

export function attrInt(n: NodeProto, name: string, dflt: number): number {
  const a = attr(n, name);
  return a ? num(a.i) : dflt;
}

export function attrFloat(n: NodeProto, name: string, dflt: number): number {
  const a = attr(n, name);
  return a && a.type === AttributeType.FLOAT ? (a.f ?? dflt) : dflt;
}

export function attrString(n: NodeProto, name: string, dflt: string): string {
  const a = attr(n, name);
  return a?.s ? Buffer.from(a.s).toString('utf8') : dflt;
}

/** The float values of a constant tensor, or undefined when the tensor is computed at run time. */
export function constFloats(g: GraphIndex, tensor: string | undefined | null): Float32Array | undefined {
  if (!tensor) return undefined;
  const t = g.constants.get(tensor);
  return t ? floatValues(t) : undefined;
}

export function isDefaultDomain(n: NodeProto): boolean {
  return !n.domain || n.domain === 'ai.onnx';
}
