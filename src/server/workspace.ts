/**
 * Open Python documents and what the server knows about each: the parsed definitions (per version), the model
 * it belongs to, the mapping onto that model, and the latest analysis.
 */
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';
import type { DocumentModel, MappedLayer, ModelStructure } from '../shared/lsp-protocol';
import { mapDefinitions, rekey, sameFile, signature, type Mapping } from './mapping';
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

/** The source lines (zero-based row → trimmed text) of the file at `path` that the export's stack traces recorded. */
export function recordedLines(structure: ModelStructure, path: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const n of structure.nodes) for (const f of n.frames ?? []) if (f.text && sameFile(f.file, path)) out.set(f.line - 1, f.text.trim());
  return out;
}

/** How much later than its model a Python file must have been saved, at first sight, to count as edited since. */
const STALE_AFTER_MS = 2000;

export class Workspace {
  private readonly docs = new Map<string, PyDocument>();
  private readonly parsed = new Map<string, { version: number; py: PyFile }>();
  /** The last mapping of each document, reused while the definitions keep their structure (edits elsewhere). */
  private readonly mappings = new Map<string, { py: PyFile; signature: string; structure: ModelStructure; mapping: Mapping }>();
  /** The saved text of each open document's file, read again only when its mtime changes. */
  private readonly saved = new Map<string, { mtimeMs: number; text: string }>();
  /**
   * The text a Python file had when first seen with an export of the model (key: file, model path and model
   * mtime): later saves that change the text make the numbers stale; saves that leave it as it was do not.
   */
  private readonly baselines = new Map<string, string>();

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
    const path = uriToPath(uri);
    if (path) this.saved.delete(path);
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
        mapping = hit && hit.structure === structure && hit.signature === sig ? rekey(hit.mapping, hit.py, py) : mapDefinitions(py, structure, path ?? undefined);
        this.mappings.set(uri, { py, signature: sig, structure, mapping });
      }
    }
    const analysis = structure ? this.cache.analysis(structure.modelPath) : undefined;
    const modelTime = structure?.mtimeMs || analysis?.modelMtimeMs;
    const text = this.docs.get(uri)!.doc.getText();
    // The export recorded source lines of this file (stack traces): compare them with the text, whatever the times.
    const recorded = structure && path ? recordedLines(structure, path) : new Map<number, string>();
    if (recorded.size) {
      const rows = text.split(/\r?\n/);
      const changed = [...recorded].filter(([row, line]) => (rows[row] ?? '').trim() !== line).map(([row]) => row);
      return { uri, py, candidates, structure, mapping, analysis, stale: changed.length > 0, staleFrom: 'lines', ...(changed.length ? { staleRow: Math.min(...changed) } : {}) };
    }
    const stale = !!(path && modelTime && structure && this.changedSince(path, text, structure.modelPath, modelTime));
    return { uri, py, candidates, structure, mapping, analysis, stale, staleFrom: 'time' };
  }

  /**
   * Whether the document changed after the model was exported, by content: the editor holds unsaved edits (the
   * text differs from the file), or the saved text differs from the text the file had when this export of the
   * model was first seen. Times decide only that first sight: a file saved more than STALE_AFTER_MS after the
   * model was written is taken as edited since (a fresh copy of an example, whose files are written microseconds
   * apart in any order, is not).
   */
  private changedSince(path: string, text: string, modelPath: string, modelMtimeMs: number): boolean {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(path).mtimeMs;
    } catch {
      return false;
    }
    let saved = this.saved.get(path);
    if (!saved || saved.mtimeMs !== mtimeMs) {
      try {
        saved = { mtimeMs, text: readFileSync(path, 'utf8') };
      } catch {
        return false;
      }
      this.saved.set(path, saved);
    }
    if (saved.text !== text) return true;
    const key = `${path}\0${modelPath}\0${modelMtimeMs}`;
    let baseline = this.baselines.get(key);
    if (baseline === undefined) {
      if (mtimeMs > modelMtimeMs + STALE_AFTER_MS) return true;
      baseline = saved.text;
      this.baselines.set(key, baseline);
    }
    return saved.text !== baseline;
  }

  async documentModel(uri: string): Promise<DocumentModel | null> {
    const view = await this.view(uri);
    if (!view) return null;
    const layers: MappedLayer[] = [];
    const m = view.mapping;
    if (m) {
      for (const t of targets(view.py)) {
        const mapped = t.kind === 'def' ? m.defs.get(t.def) : t.kind === 'use' ? m.uses.get(t.use) : undefined;
        // Forward lines mapped by stack traces are hover and CodeLens targets, not layers of this list.
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
