/**
 * *Inspect Polytope at Input* (palette; code may pass `{ inputs, index, box }`): the polytope around one input
 * (src/core/analyses/polytope) in the engine pool, under a cancellable progress notification. The result opens beside
 * the code as a Markdown document: facets grouped by layer, a histogram of the distances to them, the nearest
 * boundary and the neighbours with their predicted classes. (A webview of its own, reachable from the path view
 * and the region map, is not written yet.)
 */
import * as vscode from 'vscode';
import { isUserError, messageOf } from '../core/errors';
import { readNpyHeader } from '../core/inputs';
import type { PolytopeResult } from '../shared/results';
import { pickModel, pickNpy } from './pickers';
import type { Services } from './services';

export function registerPolytopeCommand(context: vscode.ExtensionContext, services: Services): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('polytopeLens.inspectPolytope', async (uri?: unknown, opts?: unknown) => {
      const o = (typeof opts === 'object' && opts !== null ? opts : {}) as { inputs?: unknown; index?: unknown; box?: unknown };
      if (!vscode.workspace.isTrusted) {
        void vscode.window.showWarningMessage('Polytope Lens runs models only in a trusted workspace.');
        return undefined;
      }
      const model = uri instanceof vscode.Uri ? uri : await pickModel(services);
      if (!model) return undefined;
      try {
        const inputs = typeof o.inputs === 'string' ? o.inputs : await pickNpy(model, 'Inspect the polytope of an input of which data file?');
        if (!inputs) return undefined;
        const n = readNpyHeader(inputs).shape[0] ?? 0;
        let index = typeof o.index === 'number' ? o.index : undefined;
        if (index === undefined) {
          const v = await vscode.window.showInputBox({
            title: 'Polytope Lens',
            prompt: `Sample index (0–${n - 1})`,
            value: '0',
            validateInput: (s) => (Number.isSafeInteger(Number(s)) && Number(s) >= 0 && Number(s) < n ? undefined : `An integer from 0 to ${n - 1}.`),
          });
          if (v === undefined) return undefined;
          index = Number(v);
        }
        let box = Array.isArray(o.box) && o.box.length === 2 ? (o.box as [number, number]) : undefined;
        if (!box && o.box === undefined) {
          const v = await vscode.window.showInputBox({ title: 'Polytope Lens', prompt: 'Clip the region to a box LO,HI (empty: no box)', value: '' });
          if (v === undefined) return undefined;
          const xs = v.split(',').map((s) => Number(s.trim()));
          if (v.trim() && xs.length === 2 && xs.every(Number.isFinite) && xs[0]! < xs[1]!) box = [xs[0]!, xs[1]!];
        }
        const name = model.path.split('/').pop() ?? 'model';
        const result = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Polytope of input ${index} (${name})`, cancellable: true },
          async (progress, token) => {
            const abort = new AbortController();
            const sub = token.onCancellationRequested(() => abort.abort());
            try {
              return await services.withPool((pool) =>
                pool.submit((api, progressTask) => api.polytope(services.modelRef(model), { inputs, index: index!, box, progressTask }), abort.signal, {
                  onProgress: (done, total) => progress.report({ message: `${done} / ${total}` }),
                }),
                model,
              );
            } finally {
              sub.dispose();
            }
          },
        );
        const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: polytopeMarkdown(result) });
        await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
        services.lastRun = { command: 'inspectPolytope', status: 'done', ms: Math.round(result.timing.total_s * 1000) };
        return result;
      } catch (e) {
        const cancelled = e instanceof Error && e.name === 'CancelledError';
        services.lastRun = { command: 'inspectPolytope', status: cancelled ? 'cancelled' : 'failed', ms: 0, message: messageOf(e) };
        if (cancelled) void vscode.window.showInformationMessage('Polytope Lens: polytope inspection cancelled.');
        else if (isUserError(e)) void vscode.window.showErrorMessage(messageOf(e));
        else {
          services.log.error(`inspectPolytope: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
          void vscode.window.showErrorMessage(`Polytope Lens: polytope inspection failed (${messageOf(e)}).`);
        }
        return undefined;
      }
    }),
  );
}

/** The result as Markdown: summary, facets per layer, distance histogram (text bars), neighbours. */
export function polytopeMarkdown(r: PolytopeResult): string {
  const f = (v: number | null) => (v === null ? '–' : v.toPrecision(4));
  const lines = [
    `# Polytope of input ${r.index} — ${r.model}`,
    '',
    `Class ${r.pred}, ${r.dim} dimensions${r.box ? `, clipped to [${r.box[0]}, ${r.box[1]}]` : ''}, ${r.precision}${r.precision === 'float32' ? ' (approximate)' : ''}; affine residual ${r.residual.toExponential(2)}.`,
    '',
    `- constraints: ${r.constraints} (${r.constant_constraints} constant, ${r.duplicate_constraints} duplicates)`,
    `- facets: ${r.facets.length}${r.facets_complete ? '' : ' (list may be incomplete)'}; ${r.bounded ? 'bounded' : 'not bounded'} by them`,
    `- inradius: ${f(r.inradius)}; nearest boundary: ${f(r.nearest.distance)} (${r.nearest.layer} unit ${r.nearest.unit})`,
    ...(r.note ? [`- note: ${r.note}`] : []),
    '',
    '## Facets by layer',
    '',
    '| layer | facets |',
    '|---|---|',
    ...r.layers.map((l) => `| ${l.key} | ${r.facets_per_layer[l.key] ?? 0} |`),
    '',
    '## Distance from the input to each facet',
    '',
    '```',
    ...histogram(r.facets.map((x) => x.distance)),
    '```',
    '',
    '## Neighbours (nearest 50)',
    '',
    '| layer | unit | distance | class across | confirmed |',
    '|---|---|---|---|---|',
  ];
  const dist = new Map(r.facets.map((x) => [`${x.layer}#${x.unit}`, x.distance]));
  for (const n of r.neighbours.slice(0, 50)) lines.push(`| ${n.layer} | ${n.unit} | ${f(dist.get(`${n.layer}#${n.unit}`) ?? null)} | ${n.pred}${n.pred !== r.pred ? ' (changes)' : ''} | ${n.confirmed ? 'yes' : 'no'} |`);
  return lines.join('\n') + '\n';
}

function histogram(v: number[], bins = 20): string[] {
  if (!v.length) return ['(no facets)'];
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const w = (hi - lo) / bins || 1;
  const counts = new Array<number>(bins).fill(0);
  for (const x of v) counts[Math.min(bins - 1, Math.floor((x - lo) / w))]!++;
  const max = Math.max(...counts);
  return counts.map((c, i) => `${(lo + i * w).toPrecision(3).padStart(10)} ${'#'.repeat(Math.round((40 * c) / max)).padEnd(40)} ${c}`);
}
