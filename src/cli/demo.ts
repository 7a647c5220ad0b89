/**
 * The README's first command: the bundled example (examples/digits) through the engine: its summary, the codes of
 * its test set, and the boundary density (with exact crossings) along a path between two test digits of
 * different classes. Prints everything and writes a report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readNpy, toLabels } from '../core/inputs';
import { runCodes } from '../worker/jobs';
import { EnginePool } from '../worker/pool';
import type { CliArgs } from './args';
import { formatCodes } from './codes';
import { formatPath } from './path';
import { formatSummary } from './summary';

export const EXAMPLE_DIR = resolve(__dirname, '../../examples/digits');

export async function runDemo(a: CliArgs): Promise<void> {
  const model = { path: join(EXAMPLE_DIR, 'digits.onnx') };
  const inputs = join(EXAMPLE_DIR, 'digits-x.npy');
  const labels = toLabels(readNpy(join(EXAMPLE_DIR, 'digits-y.npy')), 'digits-y.npy');
  const to = labels.findIndex((y) => y !== labels[0]);
  const outDir = resolve(a.outDir ?? 'out/demo');
  const pool = new EnginePool({ workers: a.workers });
  try {
    const summary = await pool.summary(model);
    const codes = await runCodes(pool, { model, selection: {}, inputs: { kind: 'file', path: inputs }, samples: false });
    const path = await pool.submit((api) => api.path(model, {}, { inputs, from: 0, to, steps: 100, exact: true }));
    const text =
      `# Polytope Lens demo: examples/digits\n\n## Model\n\n${formatSummary(summary)}\n` +
      `## Codes of the ${codes.n} test digits\n\n${formatCodes(codes)}\n` +
      `## Boundary density from test digit 0 (a ${labels[0]}) to test digit ${to} (a ${labels[to]})\n\n${formatPath(path)}`;
    process.stdout.write(text);
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'report.md'), '```\n' + text + '```\n');
    writeFileSync(join(outDir, 'report.json'), JSON.stringify({ summary, codes, path }, null, 2));
    process.stdout.write(`\nreport written to ${join(outDir, 'report.md')} and report.json\n`);
  } finally {
    await pool.dispose();
  }
}
