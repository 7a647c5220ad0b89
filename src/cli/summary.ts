import { EnginePool } from '../worker/pool';
import { modelArg, type CliArgs } from './args';
import { shape, table } from './format';
import { hasOrigins, layerOrigin, type ModelSummary } from '../shared/results';

export async function runSummary(a: CliArgs): Promise<void> {
  const pool = new EnginePool({ workers: 1 });
  try {
    const s = await pool.summary(modelRef(a), { ops: a.ops, layers: a.layers });
    process.stdout.write(a.json ? JSON.stringify(s, null, 2) + '\n' : formatSummary(s));
  } finally {
    await pool.dispose();
  }
}

export function modelRef(a: CliArgs) {
  return { path: modelArg(a), maxBytes: a.maxModelMb === undefined ? undefined : a.maxModelMb * 2 ** 20, inputShape: a.inputShape };
}

export function formatSummary(s: ModelSummary): string {
  let out = `${s.model}  (opset ${s.opset}${s.producer ? `, ${s.producer}` : ''})\n`;
  out += `inputs:  ${s.inputs.map((i) => `${i.name} ${i.dtype} ${shape(i.shape)}`).join(', ')}\n`;
  out += `outputs: ${s.outputs.map((o) => `${o.name} ${o.dtype} ${shape(o.shape)}`).join(', ')}\n\n`;
  // The module (and source line) first when the file tells them, then the ONNX node name.
  const origin = hasOrigins(s.layers);
  out += table(
    [...(origin ? ['module'] : []), 'layer', 'op', 'pre-activation', 'shape', 'units', 'offset', 'exact'],
    s.layers.map((l) => [...(origin ? [layerOrigin(l) || '-'] : []), l.key, l.op, l.preact_tensor, shape(l.shape), l.units, l.offset, l.exact ? 'yes' : 'sign code']),
  );
  out += `\ntotal units (bits): ${s.total_units}\n`;
  if (s.unsupported.length) {
    out += `\nwhat the lens cannot see through:\n`;
    out += table(['node', 'op', 'why'], s.unsupported.map((u) => [u.node, u.op, u.reason]));
  }
  return out;
}
