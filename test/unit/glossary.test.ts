/**
 * The glossary (src/shared/glossary.ts, docs/glossary.md): every term a view, the hover or the CodeLens names through
 * the helpers exists; every term has its section in docs/glossary.md under the heading whose slug is its anchor,
 * with the same sentence and unit; the open-glossary message takes only known terms; plurals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/paths';
import { GLOSSARY, GLOSSARY_DOC, GLOSSARY_IDS, isGlossaryTermId, plural, termName, termTooltip, type GlossaryTerm } from '../../src/shared/glossary';
import { parseGlossaryMessage } from '../../src/shared/webview-protocol';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** GitHub's (and VS Code's Markdown preview's) heading slug: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The sections of docs/glossary.md by the slug of their `## ` heading. */
function sections(): Map<string, string> {
  const md = readFileSync(join(ROOT, GLOSSARY_DOC), 'utf8');
  const out = new Map<string, string>();
  for (const part of md.split(/^## /m).slice(1)) {
    const [heading, ...body] = part.split('\n');
    assert.ok(!out.has(slug(heading!)), `one heading per slug: ${heading}`);
    out.set(slug(heading!), body.join('\n'));
  }
  return out;
}

test('every term used through the helpers (term, counted, termLink, termName, table columns) is in glossary.ts', () => {
  const used = new Map<string, string[]>();
  const note = (id: string, file: string) => used.set(id, [...(used.get(id) ?? []), file.slice(ROOT.length + 1)]);
  for (const file of [...filesUnder(join(ROOT, 'src/webview')), ...filesUnder(join(ROOT, 'src/server')), ...filesUnder(join(ROOT, 'src/extension'))]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\b(?:term|termLink|termName|termTooltip)\(\s*'([^']+)'/g)) note(m[1]!, file);
    for (const m of text.matchAll(/\bcounted\([^,()]+(?:\([^()]*\))?[^,()]*,\s*'([^']+)'/g)) note(m[1]!, file);
    // Term columns of headerCells: ['id'] or ['id', 'text'], on the lines that build columns.
    for (const line of text.split('\n').filter((l) => /headerCells\(|Column\[\]|columns: \[|table\('/.test(l))) {
      // (not a spread of plain strings: `...(x ? ['score'] : [])`)
      for (const m of line.matchAll(/(?<!\? )\[\s*'([a-z][a-z-]*)'\s*(?:,\s*'[^']*'\s*)?\]/g)) note(m[1]!, file);
    }
    // Lookup tables of terms (the region map's hover labels).
    for (const m of text.matchAll(/Record<string, GlossaryTermId> = \{([^}]*)\}/g)) for (const v of m[1]!.matchAll(/:\s*'([^']+)'/g)) note(v[1]!, file);
  }
  assert.ok(used.size >= 25, `the views, hover and CodeLens use the glossary (found ${used.size} terms)`);
  const unknown = [...used].filter(([id]) => !isGlossaryTermId(id));
  assert.deepEqual(unknown, [], 'terms used but not defined');
  for (const id of ['regions-hit', 'prefix-regions-hit', 'offset', 'exact-crossings', 'units-cut', 'effect-size', 'p-value', 'nmi', 'weighted-purity', 'logits', 'previous-export']) {
    assert.ok(used.has(id), `${id} is shown with its tooltip somewhere`);
  }
});

test('every glossary term has its section in docs/glossary.md at its anchor, with the same sentence and unit', () => {
  const docs = sections();
  const anchors = new Set<string>();
  for (const id of GLOSSARY_IDS) {
    const t: GlossaryTerm = GLOSSARY[id];
    assert.ok(!anchors.has(t.anchor), `${id}: anchors are unique`);
    anchors.add(t.anchor);
    const body = docs.get(t.anchor);
    assert.ok(body !== undefined, `${id}: docs/glossary.md has a heading whose slug is ${t.anchor}`);
    assert.ok(body.includes(t.meaning), `${id}: the section says the tooltip's sentence`);
    if (t.unit) assert.ok(body.includes(`**Unit:** ${t.unit}`), `${id}: the section gives the unit`);
    assert.match(body, /\*\*In the paper:\*\* \S/, `${id}: the section ties the term to the paper`);
    // One sentence: a tooltip, not a paragraph.
    assert.equal(t.meaning.split(/[.!?](?:\s|$)/).filter((x) => x.trim()).length, 1, `${id}: one sentence`);
    assert.equal(termTooltip(id), t.unit ? `${t.meaning} Unit: ${t.unit}.` : t.meaning);
  }
  assert.equal(docs.size, GLOSSARY_IDS.length, 'no section without a term in glossary.ts');
  // The page's own index links resolve.
  const md = readFileSync(join(ROOT, GLOSSARY_DOC), 'utf8');
  for (const m of md.matchAll(/\]\(#([^)]+)\)/g)) assert.ok(docs.has(m[1]!), `#${m[1]} resolves`);
});

test('the open-glossary message takes a known term only', () => {
  assert.deepEqual(parseGlossaryMessage({ type: 'openGlossary', term: 'regions-hit' }), { type: 'openGlossary', term: 'regions-hit' });
  for (const bad of [
    { type: 'openGlossary', term: 'no-such-term' },
    { type: 'openGlossary', term: '../../etc/passwd' },
    { type: 'openGlossary', term: 'toString' },
    { type: 'openGlossary', term: '__proto__' },
    { type: 'openGlossary' },
    { type: 'openGlossary', term: 3 },
    { type: 'run', term: 'regions-hit' },
    'openGlossary',
    null,
    [],
  ]) {
    assert.equal(parseGlossaryMessage(bad), undefined, JSON.stringify(bad));
  }
});

test('plurals: one path, two paths; a counted term in the singular after 1', () => {
  assert.equal(plural(1, 'path'), '1 path');
  assert.equal(plural(0, 'path'), '0 paths');
  assert.equal(plural(2, 'path'), '2 paths');
  assert.equal(plural(1, 'alpha', 'alphas'), '1 alpha');
  assert.equal(termName('regions-hit', 1), 'region hit');
  assert.equal(termName('regions-hit', 356), 'regions hit');
  assert.equal(termName('units-cut', 1), 'unit cut');
  assert.equal(termName('units-cut', 0.5), 'units cut');
  assert.equal(termName('logits', 1), 'logits', 'a term without a singular keeps its name');
});
