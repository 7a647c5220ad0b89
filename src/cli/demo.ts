/**
 * The README's first command: the bundled example (examples/digits) through the engine, with a printed summary
 * and a report written to disk.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCodes } from '../worker/jobs';
import { EnginePool } from '../worker/pool';
import type { CliArgs } from './args';
import { formatCodes } from './codes';
import { formatSummary } from './summary';

export const EXAMPLE_DIR = resolve(__dirname, '../../examples/digits');

export async function runDemo(a: CliArgs): Promise<void> {
  const model = { path: join(EXAMPLE_DIR, 'digits.onnx') };
  const outDir = resolve(a.outDir ?? 'out/demo');
  const pool = new EnginePool({ workers: a.workers });
  try {
    const summary = await pool.summary(model);
    const codes = await runCodes(pool, { model, selection: {}, inputs: { kind: 'file', path: join(EXAMPLE_DIR, 'digits-x.npy') } });
    const text = `# Polytope Lens demo: examples/digits\n\n## Model\n\n${formatSummary(summary)}\n## Codes of the test set\n\n${formatCodes(codes)}`;
    process.stdout.write(text);
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'report.md'), '```\n' + text + '```\n');
    const { samples: _samples, ...codesWithoutSamples } = codes;
    writeFileSync(join(outDir, 'report.json'), JSON.stringify({ summary, codes: codesWithoutSamples }, null, 2));
    process.stdout.write(`\nreport written to ${join(outDir, 'report.md')} and report.json\n`);
  } finally {
    await pool.dispose();
  }
}
