/**
 * Which .npy files fit a model and its data (no vscode: unit-tested): whether an array can be the model's inputs,
 * which .npy beside a data file can hold its labels, and which one its name suggests. Each problem is one sentence
 * for the user, said before any work starts.
 */
import { basename } from 'node:path';
import { sampleCount, type NpyHeader } from '../core/inputs';
import { elementCount } from '../shared/shape';

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

type Header = Pick<NpyHeader, 'dtype' | 'shape'>;
const shapeText = (shape: readonly (number | string)[]) => `[${shape.join(', ')}]`;

/** An integer (or bool) vector, [n] or [n, 1]: exactly one class id per input. */
export function canLabel(h: Header, n: number): boolean {
  return labelsProblem(h, 'labels', n, 'data') === undefined;
}

/** Why a labels file cannot label a data file of n inputs (one sentence), or undefined when it can. */
export function labelsProblem(h: Header, name: string, n: number, dataName: string): string | undefined {
  const vector = h.shape.length === 1 || (h.shape.length === 2 && h.shape[1] === 1);
  if (!vector) return `${name} cannot be the labels of ${dataName}: labels are a 1-D array of class ids, one per input, but it has shape ${shapeText(h.shape)}.`;
  if (!/^(u?int\d+|bool)$/.test(h.dtype)) return `${name} cannot be the labels of ${dataName}: labels must be integers (class ids), but it holds ${h.dtype} values; save it with y.astype(np.int64).`;
  const m = h.shape[0] ?? 0;
  if (m !== n) return `${name} has ${m} labels but ${dataName} has ${n} inputs: a labels file needs exactly one label per input.`;
  return undefined;
}

/** Why an array cannot be the model's inputs (one sentence), or undefined when it fits. */
export function inputsProblem(h: Header, name: string, sampleShape: number[], inputName?: string): string | undefined {
  if (h.dtype === 'bool') return `${name} holds bool values; the model input needs numbers.`;
  try {
    sampleCount(h.shape, sampleShape, name, { inputName });
    return undefined;
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    return m.endsWith('.') ? m : `${m}.`;
  }
}

/** How a .npy reads in a picker: its dtype and shape, and whether it fits the model's input. */
export function describeForModel(h: Header, sampleShape: number[] | undefined): { detail: string; fits: boolean | undefined } {
  const head = `${h.dtype} ${shapeText(h.shape)}`;
  if (!sampleShape) return { detail: head, fits: undefined };
  const size = elementCount(sampleShape);
  const fits = inputsProblem(h, 'x', sampleShape) === undefined;
  const n = fits ? sampleCount(h.shape, sampleShape, 'x') : 0;
  return {
    detail: fits ? `${head} · fits the model input: ${n} samples of ${shapeText(sampleShape)}` : `${head} · does not fit the model input ${shapeText(['N', ...sampleShape])} (${size} values per sample)`,
    fits,
  };
}
