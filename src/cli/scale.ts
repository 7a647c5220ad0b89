/**
 * polytope-lens scale MODEL (--inputs X.npy | --probes ...) --layer KEY --alphas 0.5,1,2 [--limit N] --json
 *
 * Flags beyond the shared ones are read here leniently (like ./path); args.ts must still accept them.
 */
import { UserError } from '../core/errors';
import { loadSamples, sampleShapeOf } from '../worker/jobs';
import { EnginePool } from '../worker/pool';
import type { ScaleResult } from '../shared/results';
import type { CliArgs } from './args';
import { inputSource } from './codes';
import { pct, table } from './format';
import { modelRef } from './summary';
import { plural } from '../shared/glossary';

export const SCALE_FLAGS = {
  layer: { type: 'string' },
  alphas: { type: 'string' },
} as const;

export function parseAlphas(v: string | boolean | undefined): number[] {
  if (v === undefined) return [0, 0.5, 1, 2, 4];
  const parts = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : [];
  const xs = parts.map(Number);
  if (!xs.length || xs.some((x) => !Number.isFinite(x))) throw new UserError(`--alphas needs comma-separated numbers, for example 0.5,1,2, not '${String(v)}'`);
  return xs;
}

export async function runScale(a: CliArgs): Promise<void> {
  const x = a.flags as Partial<Record<keyof typeof SCALE_FLAGS, string | boolean>>;
  const pool = new EnginePool({ workers: 1 });
  try {
    const summary = await pool.summary(modelRef(a));
    const layer = typeof x.layer === 'string' ? x.layer : undefined;
    if (!layer) throw new UserError(`'scale' needs --layer KEY; the layers are ${summary.layers.map((l) => l.key).join(', ')}`);
    const samples = loadSamples(inputSource(a), a.inputShape ?? sampleShapeOf(summary), a.limit);
    const alphas = parseAlphas(x.alphas);
    const r = await pool.submit((api) => api.scale(modelRef(a), { layer, alphas, data: samples.data, n: samples.n }));
    const result: ScaleResult = { ...r, inputs_note: samples.note };
    process.stdout.write(a.json ? JSON.stringify(result) + '\n' : formatScale(result));
  } finally {
    await pool.dispose();
  }
}

export function formatScale(r: ScaleResult): string {
  let out = `${r.model}: activation of ${r.layer} (${r.scaled_tensor}) scaled by alpha; ${plural(r.n, 'input')} (${r.inputs_note})\n`;
  out += `later layers: ${r.later_layers.map((l) => `${l.key} (${l.units} bits)`).join(', ') || 'none'}\n\n`;
  out += table(
    ['alpha', 'changed predictions', 'changed codes', 'bits flipped / sample', ...r.later_layers.map((l) => l.key)],
    r.alphas.map((x) => [x.alpha, pct(x.changed_predictions), pct(x.changed_codes), Number(x.flipped_bits_total.toFixed(3)), ...r.later_layers.map((l) => Number(x.flipped_bits_per_layer[l.key]!.toFixed(3)))]),
  );
  return out;
}
