/** A Python file parsed as the language server parses it (tree-sitter, then the server's extraction). */
import { readFileSync } from 'node:fs';
import { extract, type PyFile } from '../../src/server/parse';
import { createParser, PyDocument } from '../../src/server/syntax';

export async function parseFile(path: string, text = readFileSync(path, 'utf8')): Promise<PyFile> {
  const doc = PyDocument.open(await createParser(), 'file:///x.py', 1, text);
  try {
    return extract(doc.tree);
  } finally {
    doc.dispose();
  }
}
