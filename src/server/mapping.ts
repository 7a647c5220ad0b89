/**
 * Python definitions → ONNX nodes.
 *
 * Strategies, in order of trust:
 *  - scope: the exporter's scope names (scope.ts): every node whose module path is the definition's path or below
 *    it. Handles attributes, Sequential/ModuleList/ModuleDict children (also `*` indices from comprehensions and
 *    appends in loops) and nested modules of this file (each instance gets its own path).
 *  - params: a node reading `<path>.weight` / `.bias` belongs to module `<path>` (any exporter version, modules
 *    with parameters only).
 *  - order: what is left (functional activations, and every parameter-free module when the graph has no scope
 *    names) is matched in forward()'s execution order against nodes of the expected op, in topological order;
 *    with scopes, functional uses are matched among the nodes directly in their module's scope.
 */
import type { LayerInfo } from '../shared/results';
import type { ModelStructure, OnnxNodeRef } from '../shared/lsp-protocol';
import { defOps, type ClassDef, type ForwardStep, type FunctionalUse, type ModuleDef, type PyFile } from './parse';
import { ORDER_OPS } from './ops';
import { joinPath, paramPath, pathMatcher, scopePath } from './scope';

/** Evidence of a mapping: node metadata (module path, stack-trace line), scope names, parameter names, order. */
export type Via = 'metadata' | 'scope' | 'params' | 'order';

export interface Instance {
  /** Module path in the model ('' = root). */
  path: string;
  nodes: OnnxNodeRef[];
  via: Via | null;
}

export interface Mapped {
  instances: Instance[];
  /** Nodes of all instances, in topological order. */
  nodes: OnnxNodeRef[];
  /** Unit layers among the nodes. */
  layers: LayerInfo[];
  /** Unit layers fed directly by the nodes (a Linear's activation), when the nodes have none themselves. */
  feeds: LayerInfo[];
}

export interface Mapping {
  root: ClassDef | null;
  /** Whether the graph carries scope names (or module metadata). */
  scoped: boolean;
  /**
   * By zero-based row of this file: the nodes whose recorded stack trace passes through it (torch.export-based
   * exporter), one instance per instance of the class the line is in.
   */
  lines: Map<number, Mapped>;
  defs: Map<ModuleDef, Mapped>;
  uses: Map<FunctionalUse, Mapped>;
  classes: Map<ClassDef, Mapped>;
}

interface DefInstance {
  def: ModuleDef;
  path: string;
  nodes: OnnxNodeRef[];
  via: Via | null;
}
interface UseInstance {
  use: FunctionalUse;
  scope: string;
  nodes: OnnxNodeRef[];
  via?: Via;
}

/** Candidate roots: the exported class, else module classes no other class of the file instantiates. */
function rootCandidates(py: PyFile): ClassDef[] {
  const byName = new Map(py.classes.map((c) => [c.name, c]));
  for (const e of py.exports) {
    const c = e.model?.cls ? byName.get(e.model.cls) : undefined;
    if (c?.isModule) return [c];
  }
  const used = new Set(py.classes.flatMap((c) => c.defs.filter((d) => d.kind === 'custom').map((d) => d.ctor)));
  const roots = py.classes.filter((c) => c.isModule && !used.has(c.name));
  return roots.length ? roots : py.classes.filter((c) => c.isModule);
}

class Mapper {
  readonly byName: Map<string, ClassDef>;
  readonly defInstances: DefInstance[] = [];
  readonly useInstances: UseInstance[] = [];
  readonly classInstances: { cls: ClassDef; path: string }[] = [];
  private readonly nodePath = new Map<OnnxNodeRef, string | null>();
  readonly scoped: boolean;
  /** 'metadata' when the module paths come from node metadata, 'scope' when from node names. */
  readonly scopeVia: Via;

  constructor(
    py: PyFile,
    private readonly model: ModelStructure,
    readonly root: ClassDef,
    /** Nodes by the zero-based row of this file their stack trace passes through. */
    private readonly lines: Map<number, OnnxNodeRef[]>,
  ) {
    this.byName = new Map(py.classes.map((c) => [c.name, c]));
    // A client that sends no `module` field: read the TorchScript scope from the name, as before.
    for (const n of model.nodes) this.nodePath.set(n, n.module !== undefined ? n.module : scopePath(n.name));
    this.scoped = model.nodes.some((n) => this.nodePath.get(n) !== null && (n.moduleFrom === 'metadata' || n.moduleFrom === 'scope' || n.name.includes('/')));
    this.scopeVia = model.nodes.some((n) => n.moduleFrom === 'metadata') ? 'metadata' : 'scope';
    this.expand(root, '', 0);
  }

  /** Every instance of every definition below the root class. */
  private expand(cls: ClassDef, prefix: string, depth: number): void {
    if (depth > 16) return;
    this.classInstances.push({ cls, path: prefix });
    for (const def of cls.defs) {
      const path = joinPath(prefix, def.rel);
      this.defInstances.push({ def, path, nodes: [], via: null });
      const child = def.kind === 'custom' ? this.byName.get(def.ctor) : undefined;
      if (child) this.expand(child, path, depth + 1);
    }
  }

  run(): number {
    if (this.scoped) this.byScope();
    this.byParams();
    this.byOrder();
    return this.defInstances.reduce((a, d) => a + (d.def.kind === 'layer' ? d.nodes.length : 0), 0) + this.useInstances.reduce((a, u) => a + u.nodes.length, 0);
  }

  private byScope(): void {
    const paths = new Map<string, OnnxNodeRef[]>();
    for (const n of this.model.nodes) {
      const p = this.nodePath.get(n);
      if (p === null || p === undefined) continue;
      const list = paths.get(p);
      if (list) list.push(n);
      else paths.set(p, [n]);
    }
    // Nodes at or below each path prefix, for patterns without `*`.
    const under = new Map<string, OnnxNodeRef[]>();
    for (const [p, nodes] of paths) {
      const atoms = p ? p.split('.') : [];
      for (let k = 0; k <= atoms.length; k++) {
        const prefix = atoms.slice(0, k).join('.');
        const list = under.get(prefix);
        if (list) list.push(...nodes);
        else under.set(prefix, [...nodes]);
      }
    }
    /** Node paths at or below a path pattern, grouped by the concrete path the pattern stands for. */
    const concrete = (pattern: string): Map<string, OnnxNodeRef[]> => {
      if (!pattern.includes('*')) {
        const nodes = under.get(pattern);
        return nodes ? new Map([[pattern, [...nodes]]]) : new Map();
      }
      const match = pathMatcher(pattern);
      const atoms = pattern ? pattern.split('.').length : 0;
      const out = new Map<string, OnnxNodeRef[]>();
      for (const [p, nodes] of paths) {
        if (!match(p)) continue;
        const key = pattern.includes('*') ? p.split('.').slice(0, atoms).join('.') : pattern;
        const list = out.get(key);
        if (list) list.push(...nodes);
        else out.set(key, [...nodes]);
      }
      return out;
    };
    const defs = this.defInstances.splice(0);
    for (const inst of defs) {
      const found = concrete(inst.path);
      if (found.size === 0) this.defInstances.push(inst);
      for (const [path, nodes] of found) this.defInstances.push({ def: inst.def, path, nodes: nodes.sort(this.byTopo), via: this.scopeVia });
    }
    const classes = this.classInstances.splice(0);
    for (const ci of classes) {
      const found = ci.path.includes('*') ? [...concrete(ci.path).keys()] : [ci.path];
      for (const path of found.length ? found : [ci.path]) this.classInstances.push({ cls: ci.cls, path });
    }
    // Functional uses: among the nodes directly in their module's scope, in forward order.
    for (const { cls, path } of this.classInstances) this.assignFunctional(cls, path, this.functionalSteps(cls), paths.get(path) ?? []);
  }

  private readonly topo = new Map<OnnxNodeRef, number>();
  private readonly byTopo = (a: OnnxNodeRef, b: OnnxNodeRef): number => this.topoIndex(a) - this.topoIndex(b);
  private topoIndex(n: OnnxNodeRef): number {
    if (this.topo.size === 0) this.model.nodes.forEach((m, i) => this.topo.set(m, i));
    return this.topo.get(n) ?? 0;
  }

  private functionalSteps(cls: ClassDef): Extract<ForwardStep, { kind: 'functional' }>[] {
    return (cls.forward ?? []).filter((s): s is Extract<ForwardStep, { kind: 'functional' }> => s.kind === 'functional');
  }

  /**
   * Functional uses of one class instance ↔ candidate nodes, by op family and order. A use inside a loop may run
   * several times: when there are more nodes than uses, the loop's uses share the extra nodes round-robin.
   */
  private assignFunctional(cls: ClassDef, scope: string, steps: Extract<ForwardStep, { kind: 'functional' }>[], candidates: OnnxNodeRef[]): void {
    const uses = new Map<FunctionalUse, UseInstance>();
    for (const u of cls.functional) {
      const inst: UseInstance = { use: u, scope, nodes: [] };
      uses.set(u, inst);
      this.useInstances.push(inst);
    }
    // With recorded stack traces: the nodes of the use's own line and op family (several uses of one family on
    // one line share them in order); the others are matched by order below.
    if (this.lines.size) {
      const byLine = new Map<string, FunctionalUse[]>();
      for (const u of cls.functional) {
        const k = `${u.span.startRow}\u0000${u.ops[0]}`;
        const list = byLine.get(k);
        if (list) list.push(u);
        else byLine.set(k, [u]);
      }
      const taken = new Set<OnnxNodeRef>();
      for (const [, group] of byLine) {
        const ops = new Set(group[0]!.ops);
        const nodes = candidates.filter((n) => ops.has(n.op) && (this.lines.get(group[0]!.span.startRow) ?? []).includes(n));
        nodes.forEach((n, i) => {
          const inst = uses.get(group[i % group.length]!)!;
          inst.nodes.push(n);
          inst.via = 'metadata';
          taken.add(n);
        });
      }
      steps = steps.filter((s) => uses.get(s.use)!.nodes.length === 0);
      candidates = candidates.filter((n) => !taken.has(n));
    }
    const families = new Map<string, typeof steps>();
    for (const s of steps) {
      const f = s.use.ops[0]!;
      const list = families.get(f);
      if (list) list.push(s);
      else families.set(f, [s]);
    }
    for (const [, fam] of families) {
      const ops = new Set(fam[0]!.use.ops);
      const nodes = candidates.filter((n) => ops.has(n.op));
      const loopSteps = fam.filter((s) => s.inLoop).length;
      const extra = nodes.length - fam.length;
      const repeat = loopSteps > 0 && extra > 0 && extra % loopSteps === 0 ? 1 + extra / loopSteps : 1;
      let k = 0;
      for (let i = 0; i < fam.length && k < nodes.length; ) {
        if (!fam[i]!.inLoop || repeat === 1) {
          uses.get(fam[i]!.use)!.nodes.push(nodes[k++]!);
          i++;
          continue;
        }
        // a run of loop steps: iteration r assigns one node to each step of the run
        let j = i;
        while (j < fam.length && fam[j]!.inLoop) j++;
        for (let r = 0; r < repeat; r++) for (let s = i; s < j && k < nodes.length; s++) uses.get(fam[s]!.use)!.nodes.push(nodes[k++]!);
        i = j;
      }
    }
  }

  private byParams(): void {
    const byParam = new Map<string, OnnxNodeRef[]>();
    for (const n of this.model.nodes) {
      for (const i of n.inputs) {
        const p = paramPath(i);
        if (!p) continue;
        const list = byParam.get(p);
        if (list) list.push(n);
        else byParam.set(p, [n]);
      }
    }
    if (byParam.size === 0) return;
    for (const inst of this.defInstances) {
      if (inst.nodes.length || inst.def.kind !== 'layer' || defOps(inst.def)?.length === 0) continue;
      const found = new Set<OnnxNodeRef>(byParam.get(inst.path) ?? []);
      if (inst.path.includes('*')) {
        const match = pathMatcher(inst.path);
        for (const [p, nodes] of byParam) if (match(p)) nodes.forEach((n) => found.add(n));
      }
      if (found.size) (inst.nodes = [...found].sort(this.byTopo)), (inst.via = 'params');
    }
  }

  /** Execution order of leaves (layer definitions and functional uses) from the root's forward. */
  private sequence(cls: ClassDef, prefix: string, depth: number, out: ({ inst: DefInstance } | { use: FunctionalUse; scope: string })[]): void {
    if (depth > 16) return;
    const own = this.defInstances.filter((d) => d.def.cls === cls.name && d.path.startsWith(prefix));
    const find = (rel: string) => own.find((d) => d.path === joinPath(prefix, rel)) ?? own.find((d) => pathMatcher(d.path)(joinPath(prefix, rel)) && d.path.split('.').length === joinPath(prefix, rel).split('.').length);
    const emit = (inst: DefInstance | undefined): void => {
      if (!inst) return;
      if (inst.def.kind === 'layer') out.push({ inst });
      else if (inst.def.kind === 'container') for (const c of inst.def.children) emit(find(c));
      else {
        const child = this.byName.get(inst.def.ctor);
        if (child) this.sequence(child, inst.path, depth + 1, out);
      }
    };
    const steps = cls.forward ?? cls.defs.filter((d) => !d.rel.includes('.')).map((d): ForwardStep => ({ kind: 'module', rel: d.rel, iterate: false, inLoop: false }));
    for (const s of steps) {
      if (s.kind === 'functional') out.push({ use: s.use, scope: prefix });
      else emit(find(s.rel));
    }
  }

  private byOrder(): void {
    const pending = this.defInstances.some((d) => d.def.kind === 'layer' && d.nodes.length === 0 && (defOps(d.def)?.length ?? 0) > 0);
    if (this.scoped || !pending) return;
    const seq: ({ inst: DefInstance } | { use: FunctionalUse; scope: string })[] = [];
    this.sequence(this.root, '', 0, seq);
    const nodes = this.model.nodes.filter((n) => ORDER_OPS.has(n.op));
    const taken = new Set<OnnxNodeRef>(this.defInstances.flatMap((d) => d.nodes));
    const position = new Map(nodes.map((n, i) => [n, i]));
    const anchorAfter = (i: number): number => {
      for (let j = i + 1; j < seq.length; j++) {
        const s = seq[j]!;
        if ('inst' in s && s.inst.nodes.length) return position.get(s.inst.nodes[0]!) ?? nodes.length;
      }
      return nodes.length;
    };
    const useInst = new Map<string, UseInstance>();
    let at = 0;
    seq.forEach((s, i) => {
      if ('inst' in s && s.inst.nodes.length) {
        at = Math.max(at, (position.get(s.inst.nodes[s.inst.nodes.length - 1]!) ?? at - 1) + 1);
        return;
      }
      const ops = 'inst' in s ? defOps(s.inst.def) : s.use.ops;
      if (!ops?.length) return;
      const bound = anchorAfter(i);
      for (let k = at; k < bound; k++) {
        const n = nodes[k]!;
        if (taken.has(n) || !ops.includes(n.op)) continue;
        taken.add(n);
        at = k + 1;
        if ('inst' in s) (s.inst.nodes.push(n), (s.inst.via = 'order'));
        else {
          const key = `${s.scope}\u0000${s.use.span.startIndex}:${s.use.span.endIndex}`;
          let u = useInst.get(key);
          if (!u) useInst.set(key, (u = { use: s.use, scope: s.scope, nodes: [] }));
          u.nodes.push(n);
        }
        break;
      }
    });
    this.useInstances.push(...useInst.values());
  }

  /** Containers and custom modules: the union of what lies below them. */
  fillComposites(): void {
    for (const inst of this.defInstances) {
      if (inst.def.kind === 'layer' || inst.nodes.length) continue;
      const match = pathMatcher(inst.path);
      const below = new Set<OnnxNodeRef>();
      for (const d of this.defInstances) if (d !== inst && d.def.kind === 'layer' && match(d.path)) d.nodes.forEach((n) => below.add(n));
      for (const u of this.useInstances) if (match(u.scope) && u.scope !== '') u.nodes.forEach((n) => below.add(n));
      if (below.size) (inst.nodes = [...below].sort(this.byTopo)), (inst.via = this.scoped ? this.scopeVia : 'order');
    }
  }
}

/** Lookups over a model, built once per mapping. */
class ModelIndex {
  readonly order: Map<OnnxNodeRef, number>;
  readonly layerByKey: Map<string, LayerInfo>;
  readonly layersByPreact: Map<string, LayerInfo[]>;
  constructor(readonly model: ModelStructure) {
    this.order = new Map(model.nodes.map((n, i) => [n, i]));
    this.layerByKey = new Map(model.summary.layers.map((l) => [l.key, l]));
    this.layersByPreact = new Map();
    for (const l of model.summary.layers) {
      const list = this.layersByPreact.get(l.preact_tensor);
      if (list) list.push(l);
      else this.layersByPreact.set(l.preact_tensor, [l]);
    }
  }

  summarise(instances: Instance[]): Mapped {
    const set = new Set<OnnxNodeRef>();
    for (const i of instances) for (const n of i.nodes) set.add(n);
    const nodes = [...set].sort((a, b) => this.order.get(a)! - this.order.get(b)!);
    const byOffset = (a: LayerInfo, b: LayerInfo) => a.offset - b.offset;
    const layers = nodes.flatMap((n) => this.layerByKey.get(n.name) ?? []).sort(byOffset);
    const feeds = layers.length ? [] : [...new Set(nodes.flatMap((n) => n.outputs.flatMap((o) => this.layersByPreact.get(o) ?? [])))].sort(byOffset);
    return { instances, nodes, layers, feeds };
  }
}

/** Whether a file named in a stack trace is the document at `path` (the export may have run elsewhere). */
export function sameFile(recorded: string, path: string): boolean {
  const base = (p: string) => p.replace(/\\/g, '/').split('/').pop() ?? p;
  return base(recorded) === base(path);
}

/** Nodes by the zero-based row of the file at `path` that their recorded stack trace passes through. */
export function nodesByLine(model: ModelStructure, path: string | undefined): Map<number, OnnxNodeRef[]> {
  const out = new Map<number, OnnxNodeRef[]>();
  if (!path) return out;
  for (const n of model.nodes) {
    const rows = new Set((n.frames ?? []).filter((f) => sameFile(f.file, path)).map((f) => f.line - 1));
    for (const r of rows) {
      const list = out.get(r);
      if (list) list.push(n);
      else out.set(r, [n]);
    }
  }
  return out;
}

/**
 * Maps the definitions of a Python file onto a model. `path` is the file's own path: with it, recorded stack
 * traces (torch.export-based exporter) map forward lines and functional calls by line.
 */
export function mapDefinitions(py: PyFile, model: ModelStructure, path?: string): Mapping {
  let best: { mapper: Mapper; score: number } | null = null;
  const lines = nodesByLine(model, path);
  for (const root of rootCandidates(py)) {
    const mapper = new Mapper(py, model, root, lines);
    const score = mapper.run();
    if (!best || score > best.score) best = { mapper, score };
  }
  const out: Mapping = { root: best?.mapper.root ?? null, scoped: best?.mapper.scoped ?? false, lines: new Map(), defs: new Map(), uses: new Map(), classes: new Map() };
  if (!best) return out;
  const m = best.mapper;
  m.fillComposites();
  const index = new ModelIndex(model);
  for (const [row, nodes] of lines) {
    const cls = py.classes.find((c) => c.span.startRow <= row && row <= c.span.endRow);
    const paths = m.classInstances.filter((ci) => ci.cls === cls).map((ci) => ci.path).sort((a, b) => b.length - a.length);
    const groups = new Map<string, OnnxNodeRef[]>();
    for (const n of nodes) {
      const mod = n.module ?? '';
      const p = paths.find((q) => pathMatcher(q)(mod)) ?? '';
      const list = groups.get(p);
      if (list) list.push(n);
      else groups.set(p, [n]);
    }
    const instances = [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([path, ns]): Instance => ({ path, nodes: ns, via: 'metadata' }));
    out.lines.set(row, index.summarise(instances));
  }
  const group = <K, V>(items: V[], key: (v: V) => K): Map<K, V[]> => {
    const g = new Map<K, V[]>();
    for (const v of items) {
      const k = key(v);
      const list = g.get(k);
      if (list) list.push(v);
      else g.set(k, [v]);
    }
    return g;
  };
  for (const [def, insts] of group(m.defInstances, (d) => d.def)) {
    out.defs.set(def, index.summarise(insts.map(({ path, nodes, via }) => ({ path, nodes, via }))));
  }
  for (const [use, insts] of group(m.useInstances, (u) => u.use)) {
    const via: Via = m.scoped ? m.scopeVia : 'order';
    out.uses.set(use, index.summarise(insts.map(({ scope, nodes, via: own }) => ({ path: scope, nodes, via: nodes.length ? (own ?? via) : null }))));
  }
  for (const [cls, insts] of group(m.classInstances, (c) => c.cls)) {
    const instances = insts.map(({ path }): Instance => {
      if (path === '') return { path, nodes: model.nodes, via: null };
      const match = pathMatcher(path);
      const nodes = m.defInstances.filter((d) => d.def.kind === 'layer' && match(d.path)).flatMap((d) => d.nodes);
      nodes.push(...m.useInstances.filter((u) => u.scope !== '' && match(u.scope)).flatMap((u) => u.nodes));
      return { path, nodes, via: null };
    });
    out.classes.set(cls, index.summarise(instances));
  }
  return out;
}

/** What a mapping depends on in a file, without positions: equal signatures map the same way. */
export function signature(py: PyFile): string {
  return JSON.stringify([
    py.classes.map((c) => [
      c.name,
      c.isModule,
      c.defs.map((d) => [d.rel, d.ctor, d.kind, d.children, d.open]),
      c.functional.map((u) => [u.ops, u.inLoop]),
      c.forward?.map((st) => (st.kind === 'module' ? [st.rel, st.iterate, st.inLoop] : [c.functional.indexOf(st.use), st.inLoop])) ?? null,
    ]),
    py.exports.map((e) => e.model?.cls ?? null),
  ]);
}

/** The mapping of `from` carried over to `to`, a file with the same signature (definitions moved, not changed). */
export function rekey(m: Mapping, from: PyFile, to: PyFile): Mapping {
  // Rows of stack traces stay as they were: if lines moved, the model is stale and the hover says so.
  const out: Mapping = { root: null, scoped: m.scoped, lines: m.lines, defs: new Map(), uses: new Map(), classes: new Map() };
  from.classes.forEach((c, i) => {
    const d = to.classes[i]!;
    if (m.root === c) out.root = d;
    const cm = m.classes.get(c);
    if (cm) out.classes.set(d, cm);
    c.defs.forEach((x, j) => {
      const v = m.defs.get(x);
      if (v) out.defs.set(d.defs[j]!, v);
    });
    c.functional.forEach((x, j) => {
      const v = m.uses.get(x);
      if (v) out.uses.set(d.functional[j]!, v);
    });
  });
  return out;
}
