/**
 * Tree-sitter for Python: loads web-tree-sitter and the tree-sitter-python grammar (.wasm files copied next to
 * the bundle by esbuild.mjs, or found in node_modules), and keeps one incrementally re-parsed tree per document.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as WTS from 'web-tree-sitter';
import { TextDocument, type TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';

// The CommonJS build of web-tree-sitter: its ESM build needs import.meta.url, which a CommonJS bundle lacks.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const wts: typeof WTS = require('web-tree-sitter');

export type SyntaxNode = WTS.Node;
export type Tree = WTS.Tree;
export type Parser = WTS.Parser;

/** A file next to this bundle, or in node_modules/PKG of this folder or any folder above it. */
export function locate(file: string, pkg: string, dirs: string[] = []): string {
  const tried: string[] = [];
  for (const d of [...dirs, __dirname]) {
    const p = join(d, file);
    tried.push(p);
    if (existsSync(p)) return p;
  }
  for (let d = __dirname; ; d = dirname(d)) {
    const p = join(d, 'node_modules', pkg, file);
    tried.push(p);
    if (existsSync(p)) return p;
    if (dirname(d) === d) break;
  }
  throw new Error(`${file} not found; looked in:\n  ${tried.join('\n  ')}`);
}

let python: Promise<WTS.Language> | undefined;

/** Loads the runtime and the grammar once per process. */
export function loadPython(wasmDirs: string[] = []): Promise<WTS.Language> {
  python ??= (async () => {
    const runtime = locate('web-tree-sitter.wasm', 'web-tree-sitter', wasmDirs);
    await wts.Parser.init({ locateFile: () => runtime });
    return wts.Language.load(locate('tree-sitter-python.wasm', 'tree-sitter-python', wasmDirs));
  })();
  return python;
}

export async function createParser(wasmDirs: string[] = []): Promise<WTS.Parser> {
  const language = await loadPython(wasmDirs);
  return new wts.Parser().setLanguage(language);
}

/** A Python document: its text and a syntax tree kept up to date by incremental edits. */
export class PyDocument {
  /** Milliseconds the last (re)parse took. */
  lastParseMs = 0;
  private constructor(
    private readonly parser: WTS.Parser,
    public doc: TextDocument,
    public tree: WTS.Tree,
  ) {}

  static open(parser: WTS.Parser, uri: string, version: number, text: string): PyDocument {
    const t0 = performance.now();
    const tree = parser.parse(text);
    if (!tree) throw new Error(`could not parse ${uri}`);
    const d = new PyDocument(parser, TextDocument.create(uri, 'python', version, text), tree);
    d.lastParseMs = performance.now() - t0;
    return d;
  }

  get uri(): string {
    return this.doc.uri;
  }

  get version(): number {
    return this.doc.version;
  }

  /** Applies LSP content changes (incremental or full) and re-parses, reusing the old tree. */
  update(changes: TextDocumentContentChangeEvent[], version: number): void {
    const t0 = performance.now();
    let reuse = true;
    for (const change of changes) {
      if (!('range' in change)) {
        reuse = false;
        this.doc = TextDocument.update(this.doc, [change], version);
        continue;
      }
      const startIndex = this.doc.offsetAt(change.range.start);
      const oldEndIndex = this.doc.offsetAt(change.range.end);
      const startPosition = { row: change.range.start.line, column: change.range.start.character };
      const oldEndPosition = this.doc.positionAt(oldEndIndex);
      this.doc = TextDocument.update(this.doc, [change], version);
      const newEndIndex = startIndex + change.text.length;
      const newEnd = this.doc.positionAt(newEndIndex);
      if (reuse) {
        this.tree.edit(
          new wts.Edit({
            startIndex,
            oldEndIndex,
            newEndIndex,
            startPosition,
            oldEndPosition: { row: oldEndPosition.line, column: oldEndPosition.character },
            newEndPosition: { row: newEnd.line, column: newEnd.character },
          }),
        );
      }
    }
    const next = this.parser.parse(this.doc.getText(), reuse ? this.tree : null);
    if (!next) throw new Error(`could not parse ${this.uri}`);
    this.tree.delete();
    this.tree = next;
    this.lastParseMs = performance.now() - t0;
  }

  dispose(): void {
    this.tree.delete();
  }
}
