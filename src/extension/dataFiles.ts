/** Which .npy beside a data file can hold its labels, and which one its name suggests (no vscode: unit-tested). */
import { basename } from 'node:path';
import type { NpyHeader } from '../core/inputs';

/** The labels file names a data file's name suggests: digits-x.npy -> digits-y.npy, X_test.npy -> y_test.npy, a.inputs.npy -> a.labels.npy. */
export function labelsNameFor(data: string): string[] {
  const name = basename(data);
  const out = [
    name.replace(/([-_.])x(?=[-_.])/i, (_m, sep: string) => `${sep}y`),
    name.replace(/^x(?=[-_.])/i, 'y'),
    name.replace(/\.inputs\.npy$/i, '.labels.npy'),
  ];
  return [...new Set(out.filter((c) => c !== name))];
}

/** An integer (or bool) vector, [m] or [m, 1], with at least n entries: class ids for n inputs. */
export function canLabel(h: Pick<NpyHeader, 'dtype' | 'shape'>, n: number): boolean {
  const vector = h.shape.length === 1 || (h.shape.length === 2 && h.shape[1] === 1);
  return /^(u?int\d+|bool)$/.test(h.dtype) && vector && (h.shape[0] ?? 0) >= n;
}
