/**
 * Python syntax tree → PyTorch definitions: nn.Module subclasses, the layers assigned to their attributes
 * (with Sequential / ModuleList / ModuleDict children and their indices), the order in which forward() calls
 * them, activations used functionally in forward, and torch.onnx.export(...) calls with their output path.
 */
import { CONTAINERS, functionOps, moduleOps } from './ops';
import type { SyntaxNode, Tree } from './syntax';

/** A stretch of the document: UTF-16 indices and zero-based rows/columns, as tree-sitter gives them. */
export interface Span {
  startIndex: number;
  endIndex: number;
  startRow: number;
  startCol: number;
  endRow: number;
  endCol: number;
}

/** A module assigned to an attribute (`self.fc1 = nn.Linear(...)`) or a child of a container. */
export interface ModuleDef {
  /** Class whose attribute (or attribute's child) this is. */
  cls: string;
  /** Path relative to an instance of `cls`: `fc1`, `block.1`, `features.conv`; `*` where the index is unknown. */
  rel: string;
  /** Constructor name: `Linear`, `Sequential`, or a class of this file. */
  ctor: string;
  /** The constructor as written: `nn.Linear`. */
  written: string;
  /** Argument list as written, shortened: `(64, 48)`. */
  args: string;
  /** layer: a torch.nn module; container: Sequential/ModuleList/ModuleDict; custom: an nn.Module class of this file. */
  kind: 'layer' | 'container' | 'custom';
  /** Where a hover finds it: the whole assignment for attributes, the call for container children. */
  span: Span;
  /** Direct children of a container, in order (rel paths). */
  children: string[];
  /** A container whose children are not all known statically (`*layers`, appends in a loop, comprehensions). */
  open: boolean;
}

/** An activation (or other op) called functionally in forward: `F.relu(x)`, `torch.relu(x)`, `x.relu()`. */
export interface FunctionalUse {
  cls: string;
  /** As written: `F.relu`, `torch.relu`, `.relu()`. */
  written: string;
  name: string;
  ops: string[];
  span: Span;
  /** Inside a for/while loop of forward: may run several times. */
  inLoop: boolean;
}

export type ForwardStep =
  | { kind: 'module'; rel: string; iterate: boolean; inLoop: boolean }
  | { kind: 'functional'; use: FunctionalUse; inLoop: boolean };

export interface ClassDef {
  name: string;
  bases: string[];
  isModule: boolean;
  span: Span;
  nameSpan: Span;
  defs: ModuleDef[];
  functional: FunctionalUse[];
  /** Calls of forward() in execution order, or null when the class has no forward. */
  forward: ForwardStep[] | null;
}

export interface ExportCall {
  span: Span;
  /** The model argument as written and the class it was built from, when that can be told. */
  model: { text: string; cls: string | null } | null;
  /** The output path: a string literal, or the last literal of os.path.join(...) / Path(...) / "..." (joined). */
  path: { literal: string; joined: boolean } | null;
}

export interface PyFile {
  classes: ClassDef[];
  exports: ExportCall[];
  /** Milliseconds the extraction took. */
  ms: number;
}

export function spanOf(n: SyntaxNode): Span {
  const s = n.startPosition;
  const e = n.endPosition;
  return { startIndex: n.startIndex, endIndex: n.endIndex, startRow: s.row, startCol: s.column, endRow: e.row, endCol: e.column };
}

/** Local names for torch, torch.nn, torch.nn.functional and torch.onnx, from the file's imports. */
interface Aliases {
  torch: Set<string>;
  nn: Set<string>;
  F: Set<string>;
  onnx: Set<string>;
  /** `from torch.nn import Linear as L`: local name → nn name. */
  nnNames: Map<string, string>;
  /** `from torch.nn.functional import relu`: local name → function. */
  fNames: Map<string, string>;
  /** `from torch.onnx import export`. */
  exportNames: Set<string>;
}

/**
 * Nodes of the given types that start with a keyword, found by searching the text for the keyword at the start of
 * a line and asking the tree what is there: much cheaper than walking a large tree through web-tree-sitter.
 */
function byKeyword(root: SyntaxNode, text: string, re: RegExp, types: string[]): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (const m of text.matchAll(re)) {
    const at = m.index! + m[0].length - m[1]!.length;
    let n = root.descendantForIndex(at, at + m[1]!.length);
    while (n && !types.includes(n.type) && n.startIndex === at) n = n.parent;
    if (n && types.includes(n.type) && n.startIndex === at) out.push(n);
  }
  return out;
}

function collectAliases(root: SyntaxNode, text: string): Aliases {
  const a: Aliases = {
    torch: new Set(['torch']),
    nn: new Set(['nn', 'torch.nn']),
    F: new Set(['F', 'torch.nn.functional', 'nn.functional']),
    onnx: new Set(['torch.onnx']),
    nnNames: new Map(),
    fNames: new Map(),
    exportNames: new Set(),
  };
  for (const imp of byKeyword(root, text, /^[ \t]*(import|from)\b/gm, ['import_statement', 'import_from_statement'])) {
    const names = imp.childrenForFieldName('name').filter((n): n is SyntaxNode => n !== null);
    const local = (n: SyntaxNode): [string, string] =>
      n.type === 'aliased_import' ? [n.childForFieldName('name')?.text ?? '', n.childForFieldName('alias')?.text ?? ''] : [n.text, n.text];
    if (imp.type === 'import_statement') {
      for (const n of names) {
        const [full, alias] = local(n);
        if (full === 'torch') a.torch.add(alias);
        else if (full === 'torch.nn') a.nn.add(alias);
        else if (full === 'torch.nn.functional') a.F.add(alias);
        else if (full === 'torch.onnx') a.onnx.add(alias);
      }
      continue;
    }
    const from = imp.childForFieldName('module_name')?.text ?? '';
    for (const n of names) {
      const [name, alias] = local(n);
      if (from === 'torch' && name === 'nn') a.nn.add(alias);
      else if (from === 'torch' && name === 'onnx') a.onnx.add(alias);
      else if (from === 'torch.nn' && name === 'functional') a.F.add(alias);
      else if (from === 'torch.nn') a.nnNames.set(alias, name);
      else if (from === 'torch.nn.functional') a.fNames.set(alias, name);
      else if (from === 'torch.onnx' && name === 'export') a.exportNames.add(alias);
    }
  }
  for (const t of [...a.torch]) (a.nn.add(`${t}.nn`), a.F.add(`${t}.nn.functional`), a.onnx.add(`${t}.onnx`));
  for (const n of [...a.nn]) a.F.add(`${n}.functional`);
  return a;
}

type Callee =
  | { kind: 'nn'; ctor: string }
  | { kind: 'custom'; ctor: string }
  | { kind: 'functional'; name: string; ops: string[]; where: 'F' | 'torch' | 'method' }
  | { kind: 'self'; attr: string }
  | { kind: 'export' }
  | { kind: 'other' };

const DOTTED = new Set(['identifier', 'attribute']);

class Extractor {
  readonly classes = new Map<string, ClassDef>();
  private moduleClasses = new Set<string>();

  constructor(
    private readonly root: SyntaxNode,
    private readonly text: string,
    private readonly a: Aliases,
  ) {}

  callee(fn: SyntaxNode | null): Callee {
    if (!fn) return { kind: 'other' };
    if (fn.type === 'identifier') {
      const t = fn.text;
      const nn = this.a.nnNames.get(t);
      if (nn) return { kind: 'nn', ctor: nn };
      if (this.moduleClasses.has(t)) return { kind: 'custom', ctor: t };
      const f = this.a.fNames.get(t);
      const ops = f ? functionOps(f, 'F') : undefined;
      if (f && ops) return { kind: 'functional', name: f, ops, where: 'F' };
      if (this.a.exportNames.has(t)) return { kind: 'export' };
      return { kind: 'other' };
    }
    if (fn.type !== 'attribute') return { kind: 'other' };
    const obj = fn.childForFieldName('object');
    const attr = fn.childForFieldName('attribute')?.text ?? '';
    if (!obj) return { kind: 'other' };
    const objText = DOTTED.has(obj.type) ? obj.text : '';
    if (objText === 'self') return { kind: 'self', attr };
    if (this.a.nn.has(objText)) return /^[A-Z]/.test(attr) ? { kind: 'nn', ctor: attr } : { kind: 'other' };
    if (this.a.F.has(objText)) {
      const ops = functionOps(attr, 'F');
      return ops ? { kind: 'functional', name: attr, ops, where: 'F' } : { kind: 'other' };
    }
    if (this.a.torch.has(objText)) {
      const ops = functionOps(attr, 'torch');
      return ops ? { kind: 'functional', name: attr, ops, where: 'torch' } : { kind: 'other' };
    }
    if (this.a.onnx.has(objText)) return attr === 'export' ? { kind: 'export' } : { kind: 'other' };
    const ops = functionOps(attr, 'method');
    return ops ? { kind: 'functional', name: attr, ops, where: 'method' } : { kind: 'other' };
  }

  run(): PyFile {
    const t0 = performance.now();
    const nodes = byKeyword(this.root, this.text, /^[ \t]*(class)\b/gm, ['class_definition']);
    const raw = nodes.map((n) => {
      const sup = n.childForFieldName('superclasses');
      const bases = sup ? sup.namedChildren.filter((b) => DOTTED.has(b.type)).map((b) => b.text) : [];
      return { n, name: n.childForFieldName('name')?.text ?? '', bases };
    });
    // A class is a module when a base is nn.Module, another torch.nn class, ends in "Module" (LightningModule)
    // or is a module class of this file; repeat until nothing changes.
    for (let changed = true; changed; ) {
      changed = false;
      for (const c of raw) {
        if (this.moduleClasses.has(c.name)) continue;
        if (c.bases.some((b) => this.isModuleBase(b))) (this.moduleClasses.add(c.name), (changed = true));
      }
    }
    // What a class's definitions depend on besides its own text: the imports and the file's module classes.
    const context = JSON.stringify([[...this.a.torch], [...this.a.nn], [...this.a.F], [...this.a.nnNames], [...this.a.fNames], [...this.moduleClasses].sort()]);
    const classes: ClassDef[] = [];
    for (const c of raw) {
      const span = spanOf(c.n);
      const key = `${span.startCol}\u0000${context}\u0000${this.text.slice(span.startIndex, span.endIndex)}`;
      const hit = classCache.get(key);
      let cls: ClassDef;
      if (hit) {
        cls = rebase(hit, span.startIndex - hit.span.startIndex, span.startRow - hit.span.startRow);
        classCache.delete(key);
      } else {
        const nameNode = c.n.childForFieldName('name');
        cls = { name: c.name, bases: c.bases, isModule: this.moduleClasses.has(c.name), span, nameSpan: spanOf(nameNode ?? c.n), defs: [], functional: [], forward: null };
        if (cls.isModule) this.fillClass(cls, c.n);
      }
      classCache.set(key, cls);
      classes.push(cls);
      this.classes.set(cls.name, cls);
    }
    while (classCache.size > CLASS_CACHE) classCache.delete(classCache.keys().next().value!);
    const exports = this.exports();
    return { classes, exports, ms: performance.now() - t0 };
  }

  private isModuleBase(b: string): boolean {
    if (this.moduleClasses.has(b) || this.a.nnNames.has(b) || /Module$/.test(b)) return true;
    const dot = b.lastIndexOf('.');
    return dot > 0 && this.a.nn.has(b.slice(0, dot));
  }

  private methods(classNode: SyntaxNode): SyntaxNode[] {
    const body = classNode.childForFieldName('body');
    if (!body) return [];
    const out: SyntaxNode[] = [];
    for (const s of body.namedChildren) {
      if (s.type === 'function_definition') out.push(s);
      else if (s.type === 'decorated_definition') {
        const d = s.childForFieldName('definition');
        if (d?.type === 'function_definition') out.push(d);
      }
    }
    return out;
  }

  private fillClass(cls: ClassDef, classNode: SyntaxNode): void {
    const containers = new Map<string, ModuleDef>();
    const bodies = new Map<string, SyntaxNode>();
    for (const m of this.methods(classNode)) {
      const name = m.childForFieldName('name')?.text;
      const body = m.childForFieldName('body');
      if (!name || !body) continue;
      bodies.set(name, body);
      if (name === 'forward') continue;
      // Assignments and appends in source order.
      for (const n of body.descendantsOfType(['assignment', 'call'])) {
        if (n.type === 'assignment') this.assignment(cls, n, containers);
        else this.containerCall(cls, n, containers);
      }
    }
    const fwd = bodies.get('forward');
    if (fwd) cls.forward = this.forward(cls, fwd, bodies);
  }

  /** `self.X = <module expression>` */
  private assignment(cls: ClassDef, n: SyntaxNode, containers: Map<string, ModuleDef>): void {
    const left = n.childForFieldName('left');
    const right = n.childForFieldName('right');
    if (!left || !right || left.type !== 'attribute' || left.childForFieldName('object')?.text !== 'self') return;
    const attr = left.childForFieldName('attribute')?.text;
    if (!attr) return;
    const stmt = n.parent?.type === 'expression_statement' ? n.parent : n;
    const def = this.moduleExpr(cls, right, attr, spanOf(stmt));
    if (def?.kind === 'container') containers.set(attr, def);
  }

  /** `self.X.append(m)`, `self.X.extend([...])`, `self.X.add_module("name", m)`, `self.add_module("name", m)`. */
  private containerCall(cls: ClassDef, n: SyntaxNode, containers: Map<string, ModuleDef>): void {
    const fn = n.childForFieldName('function');
    if (fn?.type !== 'attribute') return;
    const method = fn.childForFieldName('attribute')?.text;
    if (method !== 'append' && method !== 'extend' && method !== 'add_module' && method !== 'insert') return;
    const obj = fn.childForFieldName('object');
    const args = n.childForFieldName('arguments')?.namedChildren ?? [];
    const stmt = n.parent?.type === 'expression_statement' ? n.parent : n;
    if (obj?.text === 'self' && method === 'add_module') {
      const name = stringLiteral(args[0]);
      if (name && args[1]) this.moduleExpr(cls, args[1], name, spanOf(stmt));
      return;
    }
    if (obj?.type !== 'attribute' || obj.childForFieldName('object')?.text !== 'self') return;
    const container = containers.get(obj.childForFieldName('attribute')?.text ?? '');
    if (!container) return;
    const loop = inLoop(n);
    const add = (expr: SyntaxNode, key: string | null, span: Span) => {
      const k = key ?? (loop || container.open ? '*' : String(container.children.length));
      if (k === '*') container.open = true;
      const rel = `${container.rel}.${k}`;
      if (!container.children.includes(rel)) container.children.push(rel);
      this.moduleExpr(cls, expr, rel, span);
    };
    if (method === 'append' && args[0]) add(args[0], null, spanOf(stmt));
    else if (method === 'insert') container.open = true;
    else if (method === 'add_module' && args[1]) add(args[1], stringLiteral(args[0]), spanOf(stmt));
    else if (method === 'extend' && args[0]?.type === 'list') for (const e of args[0].namedChildren) add(e, null, spanOf(e));
    else if (method === 'extend') container.open = true;
  }

  /** A module-building expression assigned to path `rel`; records it (and its children) and returns it. */
  private moduleExpr(cls: ClassDef, expr: SyntaxNode, rel: string, span: Span): ModuleDef | null {
    // Unwrap `.to(device)`, `.eval()` etc. on a constructor call.
    while (expr.type === 'call' && expr.childForFieldName('function')?.type === 'attribute') {
      const obj = expr.childForFieldName('function')!.childForFieldName('object');
      if (obj?.type !== 'call') break;
      const c = this.callee(expr.childForFieldName('function'));
      if (c.kind === 'nn' || c.kind === 'custom') break;
      expr = obj;
    }
    if (expr.type !== 'call') return null;
    const fn = expr.childForFieldName('function');
    const c = this.callee(fn);
    if (c.kind !== 'nn' && c.kind !== 'custom') return null;
    const argsNode = expr.childForFieldName('arguments');
    const def: ModuleDef = {
      cls: cls.name,
      rel,
      ctor: c.ctor,
      written: fn?.text ?? c.ctor,
      args: shorten(argsNode?.text ?? '()'),
      kind: c.kind === 'custom' ? 'custom' : CONTAINERS.has(c.ctor) ? 'container' : 'layer',
      span,
      children: [],
      open: false,
    };
    cls.defs.push(def);
    if (def.kind === 'container' && argsNode) this.children(cls, def, argsNode.namedChildren);
    return def;
  }

  private children(cls: ClassDef, def: ModuleDef, args: SyntaxNode[]): void {
    const add = (key: string, e: SyntaxNode, around: SyntaxNode = e) => {
      const rel = `${def.rel}.${key}`;
      def.children.push(rel);
      if (!this.moduleExpr(cls, e, rel, spanOf(around)) && key !== '*') def.open = true;
    };
    const positional = args.filter((x) => x.type !== 'keyword_argument' && x.type !== 'comment');
    const only = positional[0];
    if (def.ctor === 'Sequential' && positional.length === 1 && only?.type === 'call' && /OrderedDict$/.test(only.childForFieldName('function')?.text ?? '')) {
      // Sequential(OrderedDict([("name", module), ...]))
      const list = only.childForFieldName('arguments')?.namedChildren[0];
      if (list?.type === 'list' || list?.type === 'tuple') {
        for (const t of list.namedChildren) {
          const [k, v] = t.type === 'tuple' ? t.namedChildren : [];
          const key = stringLiteral(k);
          if (key && v) add(key, v, t);
          else def.open = true;
        }
      } else def.open = true;
      return;
    }
    if (def.ctor === 'Sequential') {
      positional.forEach((e, i) => (e.type === 'list_splat' ? (def.open = true) : add(String(i), e)));
      return;
    }
    // ModuleList([...]) / ModuleDict({...})
    if (!only) return;
    if (only.type === 'list' || only.type === 'tuple') only.namedChildren.forEach((e, i) => add(String(i), e));
    else if (only.type === 'dictionary') {
      for (const p of only.namedChildren) {
        const key = p.type === 'pair' ? stringLiteral(p.childForFieldName('key')) : null;
        const v = p.childForFieldName('value');
        if (key && v) add(key, v, p);
        else def.open = true;
      }
    } else if (only.type === 'list_comprehension' || only.type === 'generator_expression') {
      def.open = true;
      const body = only.childForFieldName('body');
      if (body) add('*', body);
    } else def.open = true;
  }

  /** forward(): module and functional calls in execution order (arguments before the call). */
  private forward(cls: ClassDef, body: SyntaxNode, methods: Map<string, SyntaxNode>): ForwardStep[] {
    const steps: ForwardStep[] = [];
    const loopVars = new Map<string, string>();
    const inlining: string[] = [];
    const visit = (n: SyntaxNode, loop: boolean): void => {
      switch (n.type) {
        case 'function_definition':
        case 'class_definition':
        case 'lambda':
          return;
        case 'for_statement': {
          const right = n.childForFieldName('right');
          if (right) visit(right, loop);
          const bound = loopBinding(n);
          if (bound) loopVars.set(bound.name, bound.attr);
          for (const c of n.namedChildren) if (c.type === 'block' || c.type === 'else_clause') visit(c, true);
          if (bound) loopVars.delete(bound.name);
          return;
        }
        case 'while_statement':
          for (const c of n.namedChildren) visit(c, true);
          return;
        case 'call': {
          const fn = n.childForFieldName('function');
          const args = n.childForFieldName('arguments');
          if (args) visit(args, loop);
          // The receiver of a method call runs first: self.fc(x).relu()
          if (fn?.type === 'attribute') {
            const obj = fn.childForFieldName('object');
            if (obj && obj.text !== 'self') visit(obj, loop);
          }
          const self = fn?.type === 'attribute' && fn.childForFieldName('object')?.text === 'self' ? fn.childForFieldName('attribute')?.text : undefined;
          const helper = self !== undefined ? methods.get(self) : undefined;
          if (helper && self && !inlining.includes(self) && inlining.length < 4) {
            // self.helper(x): a method of the class, run in place
            inlining.push(self);
            visit(helper, loop);
            inlining.pop();
            return;
          }
          this.forwardCall(cls, n, fn, loop, loopVars, steps);
          return;
        }
        default:
          for (const c of n.namedChildren) visit(c, loop);
      }
    };
    visit(body, false);
    return steps;
  }

  private forwardCall(cls: ClassDef, call: SyntaxNode, fn: SyntaxNode | null, loop: boolean, loopVars: Map<string, string>, steps: ForwardStep[]): void {
    if (!fn) return;
    if (fn.type === 'identifier' && loopVars.has(fn.text)) {
      steps.push({ kind: 'module', rel: loopVars.get(fn.text)!, iterate: true, inLoop: loop });
      return;
    }
    if (fn.type === 'subscript') {
      // self.blocks[0](x) or self.blocks[i](x)
      const v = fn.childForFieldName('value');
      const idx = fn.childForFieldName('subscript');
      if (v?.type === 'attribute' && v.childForFieldName('object')?.text === 'self') {
        const attr = v.childForFieldName('attribute')?.text ?? '';
        const lit = idx?.type === 'integer' ? idx.text : stringLiteral(idx);
        steps.push(lit ? { kind: 'module', rel: `${attr}.${lit}`, iterate: false, inLoop: loop } : { kind: 'module', rel: attr, iterate: true, inLoop: loop });
      }
      return;
    }
    const c = this.callee(fn);
    if (c.kind === 'self') {
      steps.push({ kind: 'module', rel: c.attr, iterate: false, inLoop: loop });
      return;
    }
    if (c.kind !== 'functional') return;
    const written = c.where === 'method' ? `.${c.name}()` : (fn.text ?? c.name);
    const use: FunctionalUse = { cls: cls.name, written, name: c.name, ops: c.ops, span: spanOf(call), inLoop: loop };
    const known = cls.functional.find((u) => u.span.startIndex === use.span.startIndex && u.span.endIndex === use.span.endIndex);
    if (known) {
      // a helper method called twice: the same source call, run again
      steps.push({ kind: 'functional', use: known, inLoop: loop });
      return;
    }
    cls.functional.push(use);
    steps.push({ kind: 'functional', use, inLoop: loop });
  }

  private exports(): ExportCall[] {
    const out: ExportCall[] = [];
    const names = [...new Set(['export', ...this.a.exportNames])].map((n) => n.replace(/[^\w]/g, ''));
    for (const m of this.text.matchAll(new RegExp(`\\b(?:${names.join('|')})\\s*\\(`, 'g'))) {
      // the callee's last name, then up to the call whose function it is
      let fn = this.root.descendantForIndex(m.index!, m.index! + 1);
      if (fn?.type !== 'identifier') continue;
      if (fn.parent?.type === 'attribute' && fn.parent.childForFieldName('attribute')?.startIndex === fn.startIndex) fn = fn.parent;
      const call = fn.parent;
      if (call?.type !== 'call' || call.childForFieldName('function')?.startIndex !== fn.startIndex) continue;
      if (this.callee(fn).kind !== 'export') continue;
      const args = call.childForFieldName('arguments')?.namedChildren ?? [];
      const positional = args.filter((x) => x.type !== 'keyword_argument' && x.type !== 'comment');
      const kw = (name: string) => args.find((x) => x.type === 'keyword_argument' && x.childForFieldName('name')?.text === name)?.childForFieldName('value') ?? undefined;
      const modelNode = positional[0] ?? kw('model');
      const pathNode = positional[2] ?? kw('f');
      out.push({
        span: spanOf(call),
        model: modelNode ? { text: modelNode.text, cls: this.modelClass(modelNode, call) } : null,
        path: pathNode ? this.pathOf(pathNode, call, 0) : null,
      });
    }
    return out;
  }

  /** The class a model expression was built from: `Net()`, `Net().eval()`, or a variable assigned one. */
  private modelClass(expr: SyntaxNode, at: SyntaxNode): string | null {
    for (let e: SyntaxNode | null = expr, depth = 0; e && depth < 8; depth++) {
      if (e.type === 'call') {
        const c = this.callee(e.childForFieldName('function'));
        if (c.kind === 'custom') return c.ctor;
        const fn = e.childForFieldName('function');
        e = fn?.type === 'attribute' ? fn.childForFieldName('object') : null;
      } else if (e.type === 'identifier') {
        e = this.lastAssignment(e.text, at);
      } else if (e.type === 'parenthesized_expression') e = e.namedChildren[0] ?? null;
      else return null;
    }
    return null;
  }

  /** The value last assigned to `name` (at the start of a line) before `at`. */
  private lastAssignment(name: string, at: SyntaxNode): SyntaxNode | null {
    if (!/^\w+$/.test(name)) return null;
    const re = new RegExp(`^[ \\t]*(${name})\\s*(?::[^=\\n]*)?=(?!=)`, 'gm');
    let found: SyntaxNode | null = null;
    for (const m of this.text.slice(0, at.startIndex).matchAll(re)) {
      const i = m.index! + m[0].indexOf(name);
      const id = this.root.descendantForIndex(i, i + name.length);
      const asg = id?.parent;
      if (asg?.type === 'assignment' && asg.childForFieldName('left')?.startIndex === id!.startIndex) found = asg.childForFieldName('right') ?? found;
    }
    return found;
  }

  private pathOf(n: SyntaxNode, at: SyntaxNode, depth: number): { literal: string; joined: boolean } | null {
    if (depth > 4) return null;
    const lit = stringLiteral(n);
    if (lit !== null) return { literal: lit, joined: false };
    if (n.type === 'identifier') {
      const v = this.lastAssignment(n.text, at);
      return v ? this.pathOf(v, at, depth + 1) : null;
    }
    if (n.type === 'call') {
      // os.path.join(HERE, "model.onnx"), Path("model.onnx"), str(p): the last literal argument
      const args = n.childForFieldName('arguments')?.namedChildren ?? [];
      for (let i = args.length - 1; i >= 0; i--) {
        const r = this.pathOf(args[i]!, at, depth + 1);
        if (r) return { literal: r.literal, joined: r.joined || (n.childForFieldName('function')?.text ?? '') !== 'str' };
      }
      return null;
    }
    if (n.type === 'binary_operator') {
      // Path(HERE) / "model.onnx"
      const r = n.childForFieldName('right');
      const lit2 = r ? stringLiteral(r) : null;
      return lit2 ? { literal: lit2, joined: true } : null;
    }
    return null;
  }
}

/** The value of a plain string literal (no interpolation), else null. */
export function stringLiteral(n: SyntaxNode | null | undefined): string | null {
  if (!n || n.type !== 'string') return null;
  let out = '';
  for (const c of n.namedChildren) {
    if (c.type === 'interpolation') return null;
    if (c.type === 'string_content') out += c.text;
    else if (c.type === 'escape_sequence') out += c.text.length === 2 ? c.text[1] : c.text;
  }
  return out;
}

function inLoop(n: SyntaxNode): boolean {
  for (let p = n.parent; p; p = p.parent) {
    if (p.type === 'for_statement' || p.type === 'while_statement' || p.type === 'list_comprehension') return true;
    if (p.type === 'function_definition') return false;
  }
  return false;
}

/** `for v in self.X:` or `for i, v in enumerate(self.X):` → v bound to attribute X. */
function loopBinding(n: SyntaxNode): { name: string; attr: string } | null {
  let left = n.childForFieldName('left');
  let right = n.childForFieldName('right');
  if (right?.type === 'call' && right.childForFieldName('function')?.text === 'enumerate') {
    right = right.childForFieldName('arguments')?.namedChildren[0] ?? null;
    if (left?.type === 'pattern_list' || left?.type === 'tuple_pattern') left = left.namedChildren[1] ?? null;
  }
  if (right?.type === 'call') {
    // self.X.values() / .children()
    const f = right.childForFieldName('function');
    if (f?.type === 'attribute' && ['values', 'children'].includes(f.childForFieldName('attribute')?.text ?? '')) right = f.childForFieldName('object');
  }
  if (left?.type !== 'identifier' || right?.type !== 'attribute' || right.childForFieldName('object')?.text !== 'self') return null;
  return { name: left.text, attr: right.childForFieldName('attribute')?.text ?? '' };
}

function shorten(s: string): string {
  const flat = s.slice(0, 200).replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/,? \)/g, ')');
  return flat.length > 60 ? `${flat.slice(0, 57)}…)` : flat;
}

/** Classes extracted before, by their text and context: an edit re-extracts only the classes it touched. */
const classCache = new Map<string, ClassDef>();
const CLASS_CACHE = 2000;

function shift(s: Span, dIndex: number, dRow: number): Span {
  return { ...s, startIndex: s.startIndex + dIndex, endIndex: s.endIndex + dIndex, startRow: s.startRow + dRow, endRow: s.endRow + dRow };
}

/** A cached class moved by dIndex characters and dRow lines (its text unchanged). */
function rebase(c: ClassDef, dIndex: number, dRow: number): ClassDef {
  if (dIndex === 0 && dRow === 0) return c;
  const uses = new Map(c.functional.map((u) => [u, { ...u, span: shift(u.span, dIndex, dRow) }]));
  return {
    ...c,
    span: shift(c.span, dIndex, dRow),
    nameSpan: shift(c.nameSpan, dIndex, dRow),
    defs: c.defs.map((d) => ({ ...d, span: shift(d.span, dIndex, dRow) })),
    functional: [...uses.values()],
    forward: c.forward?.map((st) => (st.kind === 'functional' ? { ...st, use: uses.get(st.use)! } : st)) ?? null,
  };
}

/** Extracts the PyTorch definitions of a parsed file (`text` is the tree's source). */
export function extract(tree: Tree, text: string = tree.rootNode.text): PyFile {
  const root = tree.rootNode;
  return new Extractor(root, text, collectAliases(root, text)).run();
}

/** Ops the exporter emits for a definition's constructor (undefined: unknown; []: nothing, e.g. Dropout). */
export function defOps(def: ModuleDef): string[] | undefined {
  return def.kind === 'layer' ? moduleOps(def.ctor) : undefined;
}
