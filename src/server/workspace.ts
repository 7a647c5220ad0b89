/**
 * Open Python documents and what the server knows about each: the parsed definitions (per version), the model
 * it belongs to, the mapping onto that model, and the latest analysis.
 */
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';
import type { DocumentModel, MappedLayer, ModelStructure } from '../shared/lsp-protocol';
import { mapDefinitions, rekey, signature, type Mapping } from './mapping';
import { ModelCache, modelCandidates, type StructureLoader } from './models';
import { extract, type PyFile } from './parse';
import { PyDocument, type Parser } from './syntax';
import { targets, type DocView } from './targets';

export function uriToPath(uri: string): string | null {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : null;
  } catch {
    return null;
  }
}

export class Workspace {
  private readonly docs = new Map<string, PyDocument>();
  private readonly parsed = new Map<string, { version: number; py: PyFile }>();
  /** The last mapping of each document, reused while the definitions keep their structure (edits elsewhere). */
  private readonly mappings = new Map<string, { py: PyFile; signature: string; structure: ModelStructure; mapping: Mapping }>();

  constructor(
    private readonly parser: Parser,
    readonly cache: ModelCache,
    private readonly loader: StructureLoader,
  ) {}

  open(uri: string, version: number, text: string): PyDocument {
    this.close(uri);
    const d = PyDocument.open(this.parser, uri, version, text);
    this.docs.set(uri, d);
    return d;
  }

  change(uri: string, changes: TextDocumentContentChangeEvent[], version: number): PyDocument | undefined {
    const d = this.docs.get(uri);
    d?.update(changes, version);
    return d;
  }

  close(uri: string): void {
    this.docs.get(uri)?.dispose();
    this.docs.delete(uri);
    this.parsed.delete(uri);
    this.mappings.delete(uri);
  }

  has(uri: string): boolean {
    return this.docs.has(uri);
  }

  uris(): string[] {
    return [...this.docs.keys()];
  }

  /** The definitions of the current version (extracted once per version). */
  pyFile(uri: string): PyFile | null {
    const d = this.docs.get(uri);
    if (!d) return null;
    const hit = this.parsed.get(uri);
    if (hit && hit.version === d.version) return hit.py;
    const py = extract(d.tree, d.doc.getText());
    this.parsed.set(uri, { version: d.version, py });
    return py;
  }

  async view(uri: string): Promise<DocView | null> {
    const py = this.pyFile(uri);
    const path = uriToPath(uri);
    if (!py) return null;
    const candidates = path ? modelCandidates(path, py) : [];
    let structure = candidates.length ? await this.loader(candidates, uri) : null;
    if (!structure) {
      // Without a model file, an analysis the client sent for one of the candidates still tells the structure.
      const a = candidates.map((c) => this.cache.analysis(c)).find(Boolean);
      if (a) structure = ModelCache.fromAnalysis(a);
    }
    let mapping: Mapping | null = null;
    if (structure) {
      const hit = this.mappings.get(uri);
      if (hit && hit.structure === structure && hit.py === py) mapping = hit.mapping;
      else {
        const sig = signature(py);
        mapping = hit && hit.structure === structure && hit.signature === sig ? rekey(hit.mapping, hit.py, py) : mapDefinitions(py, structure);
        this.mappings.set(uri, { py, signature: sig, structure, mapping });
      }
    }
    const analysis = structure ? this.cache.analysis(structure.modelPath) : undefined;
    let stale = false;
    const modelTime = structure?.mtimeMs || analysis?.modelMtimeMs;
    if (path && modelTime) {
      try {
        stale = statSync(path).mtimeMs > modelTime;
      } catch {
        stale = false;
      }
    }
    return { uri, py, candidates, structure, mapping, analysis, stale };
  }

  async documentModel(uri: string): Promise<DocumentModel | null> {
    const view = await this.view(uri);
    if (!view) return null;
    const layers: MappedLayer[] = [];
    const m = view.mapping;
    if (m) {
      for (const t of targets(view.py)) {
        const mapped = t.kind === 'def' ? m.defs.get(t.def) : t.kind === 'use' ? m.uses.get(t.use) : undefined;
        if (!mapped || (t.kind !== 'def' && t.kind !== 'use')) continue;
        for (const inst of mapped.instances) {
          if (!inst.nodes.length) continue;
          const names = new Set(inst.nodes.map((n) => n.name));
          const outs = new Set(inst.nodes.flatMap((n) => n.outputs));
          const own = view.structure!.summary.layers.filter((l) => names.has(l.key));
          const keys = (own.length ? own : view.structure!.summary.layers.filter((l) => outs.has(l.preact_tensor))).map((l) => l.key);
          layers.push({
            path: t.kind === 'def' ? inst.path : `${inst.path ? `${inst.path}.` : ''}${t.use.written}#${t.span.startRow + 1}`,
            ctor: t.kind === 'def' ? t.def.written : t.use.written,
            line: t.span.startRow,
            nodes: inst.nodes.map((n) => n.name),
            layerKeys: keys,
            via: inst.via ?? 'order',
          });
        }
      }
    }
    return { uri, modelPath: view.structure?.modelPath ?? null, candidates: view.candidates, rootClass: m?.root?.name ?? null, layers };
  }
}
