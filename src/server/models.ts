/**
 * Which model a Python file belongs to, and a cache of model structures and of the latest analyses.
 *
 * The model of a Python file: the path literal of its torch.onnx.export call, resolved against the Python file's
 * folder, then a same-named .onnx next to it. Structures come from a loader: in "server" mode the engine opens
 * the file (Lens), in "client" mode the client is asked. Analyses arrive from the client and are kept per model.
 */
import { statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import type { AnalysisParams, ModelStructure, OnnxNodeRef } from '../shared/lsp-protocol';
import type { PyFile } from './parse';

/** Absolute candidate model paths for a Python file, best first. */
export function modelCandidates(pyPath: string, py: PyFile): string[] {
  const dir = dirname(pyPath);
  const out: string[] = [];
  for (const e of py.exports) {
    if (!e.path) continue;
    let lit = e.path.literal;
    if (lit.startsWith('~/')) lit = join(homedir(), lit.slice(2));
    // A joined path (os.path.join(HERE, "m.onnx")) is taken relative to the Python file's folder.
    out.push(isAbsolute(lit) && !e.path.joined ? lit : resolve(dir, e.path.joined ? basename(lit) : lit));
    if (e.path.joined && !isAbsolute(lit)) out.push(resolve(dir, lit));
  }
  out.push(join(dir, `${basename(pyPath, extname(pyPath))}.onnx`));
  return [...new Set(out)];
}

export function mtimeOf(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/** Opens a model with the engine: summary (units, shapes) and every node. Loaded lazily (onnxruntime). */
export async function openStructure(modelPath: string): Promise<ModelStructure> {
  const mtimeMs = mtimeOf(modelPath) ?? 0;
  const { Lens } = await import('../core/lens');
  const { nodeRefs } = await import('../core/identity');
  try {
    const lens = await Lens.open(modelPath);
    const nodes: OnnxNodeRef[] = nodeRefs(lens.graph, lens.model.metadata);
    return { modelPath, mtimeMs, summary: lens.summary(), nodes };
  } catch (e) {
    // The lens refuses some models (several inputs, dynamic shapes): node names still map the Python code.
    const { readModel } = await import('../core/onnx/model');
    const { indexGraph } = await import('../core/onnx/graph');
    const m = readModel(modelPath);
    const g = indexGraph(m.proto.graph!);
    const nodes = nodeRefs(g, m.metadata);
    const note = e instanceof Error ? e.message : String(e);
    return {
      modelPath,
      mtimeMs,
      summary: { model: m.name, producer: m.producer, opset: m.opset, inputs: m.inputs, outputs: m.outputs, layers: [], total_units: 0, unsupported: [] },
      nodes,
      note,
    };
  }
}

/** Finds a model's structure given the candidates; null when none exists. */
export type StructureLoader = (candidates: string[], documentUri: string) => Promise<ModelStructure | null>;

/** Server mode: the first candidate that exists, opened with the engine. */
export function engineLoader(cache: ModelCache): StructureLoader {
  return async (candidates) => {
    for (const c of candidates) {
      const mtime = mtimeOf(c);
      if (mtime === null) continue;
      return cache.load(c, mtime, () => openStructure(c));
    }
    return null;
  };
}

export class ModelCache {
  private readonly structures = new Map<string, { mtimeMs: number; value: Promise<ModelStructure> }>();
  private readonly analyses = new Map<string, AnalysisParams>();

  /** A cached structure, (re)loaded when the file's mtime changed. */
  load(path: string, mtimeMs: number, open: () => Promise<ModelStructure>): Promise<ModelStructure> {
    const key = resolve(path);
    const hit = this.structures.get(key);
    if (hit && hit.mtimeMs === mtimeMs) return hit.value;
    const value = open();
    this.structures.set(key, { mtimeMs, value });
    value.catch(() => this.structures.delete(key));
    return value;
  }

  /** Remembers a structure the client gave. */
  put(s: ModelStructure): void {
    this.structures.set(resolve(s.modelPath), { mtimeMs: s.mtimeMs, value: Promise.resolve(s) });
  }

  cached(path: string): Promise<ModelStructure> | undefined {
    return this.structures.get(resolve(path))?.value;
  }

  invalidate(path: string): void {
    this.structures.delete(resolve(path));
  }

  setAnalysis(a: AnalysisParams): void {
    this.analyses.set(resolve(a.modelPath), a);
  }

  clearAnalysis(path: string): void {
    this.analyses.delete(resolve(path));
  }

  analysis(path: string): AnalysisParams | undefined {
    return this.analyses.get(resolve(path));
  }

  /** A structure made from an analysis alone (its summary, and its nodes when it sent them). */
  static fromAnalysis(a: AnalysisParams): ModelStructure {
    const nodes =
      a.nodes ??
      a.summary.layers.map((l): OnnxNodeRef => ({
        name: l.key,
        op: l.op,
        inputs: [l.preact_tensor],
        outputs: [],
        // the layer's module when the engine read one from metadata or names (a params module is the mapper's own)
        ...(l.module !== undefined && l.module_from !== 'params' ? { module: l.module, moduleFrom: l.module_from } : {}),
      }));
    return { modelPath: a.modelPath, mtimeMs: a.modelMtimeMs ?? 0, summary: a.summary, nodes };
  }
}
