/**
 * Module paths from the names the PyTorch exporter gives ONNX nodes.
 *
 * The TorchScript exporter (torch >= 1.13) names a node `/<scope>/<scope>/.../<Op>[_k]`: one scope per module
 * on the call stack, each written as its *unqualified* name, i.e. its qualified name from the last non-numeric
 * atom on (`enc.mix.0` → `mix.0`, `blocks.0.fc` → `fc`, `blocks.0` → `blocks.0`). Containers that are not
 * called (ModuleList, ModuleDict) add no scope. So `/block/block.0/Gemm` is module `block.0`,
 * `/blocks.0/fc/Gemm` is `blocks.0.fc`, `/enc/mix/mix.0/Gemm` is `enc.mix.0`, `/Relu_1` is the root module.
 */

/** Qualified name from its last non-numeric atom on. */
function unqualified(path: string): string {
  const atoms = path.split('.');
  for (let i = atoms.length - 1; i >= 0; i--) if (!/^\d+$/.test(atoms[i]!)) return atoms.slice(i).join('.');
  return path;
}

/**
 * The module path a node name places the node in ('' = the root module), or null when the name carries no
 * scopes (older exporters: `Gemm_0`; unnamed nodes).
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

/** Module path of a parameter tensor (`fc1.weight` → `fc1`, `block.0.bias` → `block.0`), or null. */
export function paramPath(tensor: string): string | null {
  const m = /^(.+)\.(weight|bias|running_mean|running_var)$/.exec(tensor);
  return m && !m[1]!.includes('/') && !m[1]!.includes('::') ? m[1]! : null;
}

/** Matcher for a module path that may hold `*` atoms (unknown indices): the path itself or anything below. */
export function pathMatcher(pattern: string): (path: string) => boolean {
  if (!pattern.includes('*')) return (p) => p === pattern || p.startsWith(`${pattern}.`) || pattern === '';
  const re = new RegExp(`^${pattern.split('.').map((a) => (a === '*' ? '[^.]+' : a.replace(/[\\^$.|?+()[\]{}]/g, '\\$&'))).join('\\.')}(\\.|$)`);
  return (p) => re.test(p);
}

export function joinPath(prefix: string, rel: string): string {
  return prefix ? `${prefix}.${rel}` : rel;
}
