/**
 * Module paths from the names the PyTorch exporter gives ONNX nodes (the parsing itself lives in
 * src/core/identity.ts, which the engine shares).
 *
 * The TorchScript exporter (torch >= 1.13) names a node `/<scope>/<scope>/.../<Op>[_k]`: one scope per module
 * on the call stack, each written as its *unqualified* name, i.e. its qualified name from the last non-numeric
 * atom on (`enc.mix.0` → `mix.0`, `blocks.0.fc` → `fc`, `blocks.0` → `blocks.0`). Containers that are not
 * called (ModuleList, ModuleDict) add no scope. So `/block/block.0/Gemm` is module `block.0`,
 * `/blocks.0/fc/Gemm` is `blocks.0.fc`, `/enc/mix/mix.0/Gemm` is `enc.mix.0`, `/Relu_1` is the root module.
 */

export { paramPath, scopePath, tfScopePath } from '../core/identity';

/** Matcher for a module path that may hold `*` atoms (unknown indices): the path itself or anything below. */
export function pathMatcher(pattern: string): (path: string) => boolean {
  if (!pattern.includes('*')) return (p) => p === pattern || p.startsWith(`${pattern}.`) || pattern === '';
  const re = new RegExp(`^${pattern.split('.').map((a) => (a === '*' ? '[^.]+' : a.replace(/[\\^$.|?+()[\]{}]/g, '\\$&'))).join('\\.')}(\\.|$)`);
  return (p) => re.test(p);
}

export function joinPath(prefix: string, rel: string): string {
  return prefix ? `${prefix}.${rel}` : rel;
}
