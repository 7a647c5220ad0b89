/**
 * One entry point for "the inputs the user gave": a .npy file (recognised by its magic bytes, whatever its
 * extension), a folder of PNG/JPEG images, or a single PNG/JPEG file. Generated probes live in ./probes.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { UserError } from '../errors';
import { ImageLoadOptions, listImages, loadImageFiles, loadImageFolder, sniffImage } from './images';
import { checkFinite, fmtShape, isNpy, ModelInputOptions, product, readNpy, readNpyHeader, sampleCount, toModelInput, type NpyRows } from './npy';

export * from './npy';
export * from './images';
export * from './random';
export * from './probes';

export type SourceKind = 'npy' | 'images' | 'image';

export interface LoadOptions extends ImageLoadOptions, ModelInputOptions {}

export interface LoadedInputs {
  kind: SourceKind;
  n: number;
  /** n * prod(sampleShape) float32 values. */
  data: Float32Array;
  /** One sentence saying what was read and what was done to it. */
  note: string;
  /** For images: the files, in sample order. */
  files?: string[];
}

/**
 * Loads model inputs from `source` as n samples of `sampleShape` (the model input shape without the batch axis).
 * Throws UserError for missing, unreadable or unsuitable sources.
 */
export function loadInputs(source: string, sampleShape: number[], opts: LoadOptions = {}): LoadedInputs {
  const kind = sniffSource(source);
  if (kind === 'images') {
    const b = loadImageFolder(source, sampleShape, opts);
    return { kind, n: b.n, data: b.data, note: b.note, files: b.files };
  }
  if (kind === 'image') {
    const b = loadImageFiles([source], sampleShape, opts);
    return { kind, n: b.n, data: b.data, note: b.note, files: b.files };
  }
  const name = basename(source);
  const arr = readNpy(source);
  const { n, data } = toModelInput(arr, sampleShape, name, opts);
  return { kind, n, data, note: npyNote(name, arr.dtype, arr.shape, n, sampleShape) };
}

function npyNote(name: string, dtype: string, shape: number[], n: number, sampleShape: number[]): string {
  const details = [`${dtype} ${fmtShape(shape)}`];
  const asRead = [n, ...sampleShape];
  if (fmtShape(asRead) !== fmtShape(shape)) details.push(`read as ${fmtShape(asRead)}`);
  if (dtype !== 'float32') details.push('converted to float32');
  return `${n} sample${n === 1 ? '' : 's'} from ${name} (${details.join(', ')})`;
}

/**
 * A float32 .npy file as rows that engine workers read for themselves (readNpyRows), so a large input never passes
 * through the host. Undefined when `source` is anything else (images, other dtypes, a truncated file): those are
 * loaded whole by loadInputs, which also words their errors. Shape errors and non-finite values are reported here,
 * as loadInputs would, before any work starts; the values are streamed through a 4 MB buffer, not kept, and the
 * scan yields to the event loop between blocks (in VS Code it runs on the extension host).
 */
export async function npyRowsSource(source: string, sampleShape: number[]): Promise<{ rows: NpyRows; n: number; note: string } | undefined> {
  if (sniffSource(source) !== 'npy') return undefined;
  const header = readNpyHeader(source);
  if (header.dtype !== 'float32') return undefined;
  const values = product(header.shape);
  if (statSync(source).size < header.dataOffset + 4 * values) return undefined;
  const name = basename(source);
  const n = sampleCount(header.shape, sampleShape, name);
  const block = new Float32Array(Math.min(values, 1 << 20));
  const file = await open(source, 'r');
  try {
    for (let start = 0; start < values; start += block.length) {
      const part = block.subarray(0, Math.min(block.length, values - start));
      const { bytesRead } = await file.read(new Uint8Array(part.buffer, 0, part.byteLength), 0, part.byteLength, header.dataOffset + 4 * start);
      if (bytesRead < part.byteLength) throw new UserError(`${name}: the file ended early (was it changed while it was being read?)`);
      checkFinite(part, part, name, header.shape, start);
    }
  } finally {
    await file.close();
  }
  // Absolute: a worker reads the file later, whatever its working directory is by then.
  return { rows: { path: resolve(source), dataOffset: header.dataOffset, shape: header.shape }, n, note: npyNote(name, header.dtype, header.shape, n, sampleShape) };
}

/** A short description of a source without reading its data (a .npy header, a folder listing). */
export function describeSource(source: string): { kind: SourceKind; description: string } {
  const kind = sniffSource(source);
  const name = basename(source);
  if (kind === 'images') {
    const files = listImages(source);
    return { kind, description: `${name}: folder of ${files.length} PNG/JPEG image${files.length === 1 ? '' : 's'}` };
  }
  if (kind === 'image') return { kind, description: `${name}: one ${sniffImage(head(source, 16))} image` };
  const h = readNpyHeader(source);
  return { kind, description: `${name}: ${h.dtype} ${fmtShape(h.shape)} (.npy ${h.version})` };
}

/** Decides what `source` is, by stat and magic bytes. Throws UserError for anything we cannot read. */
export function sniffSource(source: string): SourceKind {
  const name = basename(source) || source;
  let st;
  try {
    st = statSync(source);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UserError(`${name}: no such file or folder`);
    if (code === 'EACCES' || code === 'EPERM') throw new UserError(`${name}: permission denied`);
    throw e;
  }
  if (st.isDirectory()) return 'images';
  if (!st.isFile()) throw new UserError(`${name}: not a regular file or folder`);
  if (st.size === 0) throw new UserError(`${name}: the file is empty`);
  const b = head(source, 512);
  if (isNpy(b)) return 'npy';
  const img = sniffImage(b);
  if (img === 'PNG' || img === 'JPEG') return 'image';
  if (img !== 'unknown') throw new UserError(`${name}: ${img} images are not supported; convert it to PNG`);
  throw new UserError(`${name}: ${whatIsIt(b, name)}`);
}

function head(path: string, len: number): Uint8Array {
  const buf = new Uint8Array(len);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new UserError(`${basename(path)}: permission denied`);
    throw e;
  }
  try {
    return buf.subarray(0, readSync(fd, buf, 0, len, 0));
  } finally {
    closeSync(fd);
  }
}

/** The rest of the sentence for a file that is neither .npy nor an image, with a hint how to convert it. */
function whatIsIt(b: Uint8Array, name: string): string {
  const ext = extname(name).toLowerCase();
  const stem = name.slice(0, name.length - ext.length) || 'x';
  const zip = b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
  if (zip && ext === '.npz') {
    return `.npz archives are not read directly; save one array from it with np.save('${stem}.npy', np.load('${name}')['KEY'])`;
  }
  if ((zip || b[0] === 0x80) && (ext === '.pt' || ext === '.pth')) {
    return `PyTorch files are not read; save the tensor with np.save('${stem}.npy', t.numpy())`;
  }
  if (ext === '.npy') return 'not a .npy file although it is named like one (it does not start with the NumPy magic string); save the array with np.save';
  if (zip) return 'not a .npy file (it is a zip archive); save the array with np.save';
  if (b[0] === 0x80) return 'not a .npy file (it is a Python pickle); save the array with np.save';
  const text = b.every((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 128);
  if (text) {
    return `not a .npy file (it is text); convert it with np.save('${stem}.npy', np.loadtxt('${name}', delimiter=','))`;
  }
  return 'not a .npy file, a PNG/JPEG image or a folder of images';
}
