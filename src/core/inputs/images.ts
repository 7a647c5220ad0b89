/**
 * Reading a folder of PNG/JPEG images as model input.
 *
 * - Files: `*.png`, `*.jpg`, `*.jpeg` (any case) directly in the folder (no recursion), in code-unit order of
 *   their names (what Python's `sorted(os.listdir(dir))` gives, so labels saved in that order line up). Each file is
 *   decoded by its content, not its extension (a JPEG named `.png` is read as JPEG).
 * - Decoding: pngjs (all PNG colour types and bit depths; 16-bit samples keep their precision) and jpeg-js
 *   (baseline and progressive; truncated or damaged files are refused rather than grey-filled). Alpha is ignored,
 *   as PIL's `convert('L')` / `convert('RGB')` do.
 * - Colour: a grey model ([1, H, W], [H, W] or a flat [H*W] with H = W) gets ITU-R 601 luma
 *   0.299 R + 0.587 G + 0.114 B (computed in floating point, not rounded to 8 bits); an RGB model ([3, H, W]) gets
 *   the three channels, grey images repeated.
 * - Resizing: PIL's `Image.resize(..., BILINEAR)`, which is also what torchvision's `Resize` does to PIL images: a
 *   separable triangle filter on pixel centres (half-pixel aligned) whose support widens with the shrink factor, so
 *   enlarging is plain bilinear interpolation and shrinking averages over the whole footprint (antialiased, no
 *   aliasing at any factor). Edge pixels renormalise the weights over the pixels that exist.
 * - Values: scaled to 0..1 (default) or 0..255, stored channel-first (C, H, W), float32.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { UserError } from '../errors';
import { checkSampleShape, fmtShape, readFileOrThrow } from './npy';

export type ImageScale = '0..1' | '0..255';

export interface ImageLoadOptions {
  /** Range of the values given to the model: 0..1 (default) or 0..255. */
  scale?: ImageScale;
}

export interface ImageBatch {
  n: number;
  /** n * C * H * W values, channel-first. */
  data: Float32Array;
  /** The files read, in order (full paths). */
  files: string[];
  /** One sentence saying what was done, for the output and the UI. */
  note: string;
}

/** What the model wants per image. */
export interface ImageTarget {
  channels: 1 | 3;
  height: number;
  width: number;
}

/** A decoded image: one plane (grey) or three (R, G, B), each height * width values in 0..1, row-major. */
export interface DecodedImage {
  format: 'PNG' | 'JPEG';
  width: number;
  height: number;
  planes: Float64Array[];
  /** Some pixel is not fully opaque (the alpha is ignored). */
  transparent: boolean;
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;
const OTHER_IMAGE_EXT = /\.(gif|bmp|webp|tiff?|heic|avif|ppm|pgm)$/i;

/**
 * Interprets a per-sample model shape as an image: [C, H, W] with C = 1 or 3, [H, W] (grey), or a flat [H*W]
 * with H = W (grey). `what` names the source in the error message.
 */
export function imageTarget(sampleShape: number[], what: string): ImageTarget {
  checkSampleShape(sampleShape);
  const s = sampleShape;
  if (s.length === 3 && (s[0] === 1 || s[0] === 3)) return { channels: s[0], height: s[1]!, width: s[2]! };
  if (s.length === 2) return { channels: 1, height: s[0]!, width: s[1]! };
  if (s.length === 1) {
    const side = Math.round(Math.sqrt(s[0]!));
    if (side * side === s[0]) return { channels: 1, height: side, width: side };
  }
  const hint =
    s.length === 3 && (s[2] === 1 || s[2] === 3)
      ? 'channels-last inputs are not supported, so give a .npy file instead'
      : 'give a .npy file instead';
  throw new UserError(
    `${what}: the model input needs ${fmtShape(['N', ...s])}, which is not an image shape ([C, H, W] with C = 1 or 3, [H, W], or a flat square [H*W]); ${hint}`,
  );
}

/** The PNG/JPEG files directly in `dir`, sorted by name (full paths). Throws UserError if there are none. */
export function listImages(dir: string): string[] {
  const label = displayName(dir);
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${label}: folder not found`);
    if (code === 'ENOTDIR') throw new UserError(`${label}: is a file, not a folder`);
    if (code === 'EACCES' || code === 'EPERM') throw new UserError(`${label}: permission denied`);
    throw e;
  }
  const isFile = (name: string, d: { isFile(): boolean; isSymbolicLink(): boolean }): boolean => {
    if (d.isFile()) return true;
    if (!d.isSymbolicLink()) return false;
    try {
      return statSync(join(dir, name)).isFile();
    } catch {
      return false;
    }
  };
  const files = entries.filter((d) => isFile(d.name, d)).map((d) => d.name);
  const images = files.filter((f) => IMAGE_EXT.test(f)).sort();
  if (images.length === 0) {
    const others = files.filter((f) => OTHER_IMAGE_EXT.test(f));
    if (others.length > 0) {
      const exts = [...new Set(others.map((f) => f.slice(f.lastIndexOf('.')).toLowerCase()))].sort().join(', ');
      throw new UserError(
        `${label}: no PNG or JPEG images in this folder (found ${others.length} ${exts} file${others.length === 1 ? '' : 's'}, which are not supported; convert them to PNG)`,
      );
    }
    throw new UserError(`${label}: no PNG or JPEG images in this folder (*.png, *.jpg, *.jpeg)`);
  }
  return images.map((f) => join(dir, f));
}

/** Loads every PNG/JPEG image in `dir` (see the module comment for what is done to them). */
export function loadImageFolder(dir: string, sampleShape: number[], opts: ImageLoadOptions = {}): ImageBatch {
  const files = listImages(dir);
  return loadImageFiles(files, sampleShape, opts, displayName(dir));
}

/**
 * Loads the given image files as a batch. `label` names the source in messages about the whole batch (the
 * folder); each file is named as `<folder>/<file>`.
 */
export function loadImageFiles(
  files: string[],
  sampleShape: number[],
  opts: ImageLoadOptions = {},
  label = files.length === 1 ? basename(files[0]!) : 'images',
): ImageBatch {
  const target = imageTarget(sampleShape, label);
  const scale = opts.scale ?? '0..1';
  if (scale !== '0..1' && scale !== '0..255') throw new UserError(`image scale must be 0..1 or 0..255, got '${String(scale)}'`);
  const mul = scale === '0..255' ? 255 : 1;
  const { channels: C, height: H, width: W } = target;
  const plane = H * W;
  const data = new Float32Array(files.length * C * plane);
  const sizes = new Set<string>();
  const formats = new Map<string, number>();
  let resized = 0;
  let colourIn = 0;
  let greyIn = 0;
  let transparent = 0;

  files.forEach((file, i) => {
    const img = decodeImage(readFileOrThrow(file, fileLabel(file)), fileLabel(file));
    sizes.add(`${img.width}x${img.height}`);
    formats.set(img.format, (formats.get(img.format) ?? 0) + 1);
    if (img.width !== W || img.height !== H) resized++;
    if (img.planes.length === 1) greyIn++;
    else colourIn++;
    if (img.transparent) transparent++;
    for (let c = 0; c < C; c++) {
      let src: Float64Array;
      if (C === 1) src = img.planes.length === 1 ? img.planes[0]! : luma(img.planes);
      else src = img.planes[img.planes.length === 1 ? 0 : c]!;
      const out = data.subarray((i * C + c) * plane, (i * C + c + 1) * plane);
      resizeInto(src, img.height, img.width, H, W, out);
      if (mul !== 1) for (let k = 0; k < out.length; k++) out[k] = out[k]! * mul;
    }
  });

  const n = files.length;
  const fmt = [...formats.entries()].map(([f, k]) => (formats.size > 1 ? `${k} ${f}` : f)).join(', ');
  const dims = W === H ? `${W}x${H} pixels` : `${W}x${H} pixels (width x height)`;
  let sizePart: string;
  if (resized === 0) sizePart = ` of ${dims} (no resizing needed)`;
  else {
    const from = sizes.size === 1 ? [...sizes][0]! : 'various sizes';
    sizePart = `${resized < n ? `, ${resized} of them` : ''} resized from ${from} to ${dims} (antialiased bilinear, as PIL)`;
  }
  let colourPart: string;
  if (C === 1) colourPart = colourIn > 0 ? 'converted to grey (ITU-R 601 luma)' : 'grey';
  else colourPart = greyIn > 0 ? `RGB${colourIn > 0 ? ', grey ones repeated to 3 channels' : ' (grey repeated to 3 channels)'}` : 'RGB';
  const alphaPart = transparent > 0 ? ', transparency ignored' : '';
  const note = `${n} image${n === 1 ? '' : 's'} (${fmt})${sizePart}, ${colourPart}${alphaPart}, scaled to ${scale}, channel-first ${fmtShape([C, H, W])}`;
  return { n, data, files, note };
}

/** Decodes PNG or JPEG bytes (sniffed by content). `name` is used in error messages. */
export function decodeImage(bytes: Uint8Array, name: string): DecodedImage {
  const kind = sniffImage(bytes);
  if (kind === 'PNG') return decodePng(bytes, name);
  if (kind === 'JPEG') return decodeJpeg(bytes, name);
  if (bytes.length === 0) throw new UserError(`${name}: the file is empty`);
  const what = kind === 'unknown' ? 'its content is not a known image format' : `its content is ${kind}`;
  throw new UserError(`${name}: not a PNG or JPEG image (${what}); convert it to PNG`);
}

/** Recognises image formats by their first bytes. */
export function sniffImage(b: Uint8Array): 'PNG' | 'JPEG' | 'GIF' | 'BMP' | 'WebP' | 'TIFF' | 'unknown' {
  const at = (i: number, ...xs: number[]): boolean => xs.every((x, k) => b[i + k] === x);
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'PNG';
  if (at(0, 0xff, 0xd8, 0xff)) return 'JPEG';
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return 'GIF';
  if (at(0, 0x42, 0x4d)) return 'BMP';
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'WebP';
  if (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a)) return 'TIFF';
  return 'unknown';
}

function decodePng(bytes: Uint8Array, name: string): DecodedImage {
  let png;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true });
  } catch (e) {
    throw new UserError(`${name}: corrupt or truncated PNG image (${decoderMessage(e)})`);
  }
  const { width, height } = png;
  // With skipRescale, samples keep their bit depth (a Uint16Array for 16-bit); palette images come out as 8-bit.
  const max = png.palette ? 255 : 2 ** png.depth - 1;
  return fromRgba(png.data as unknown as ArrayLike<number>, width, height, max, 'PNG');
}

function decodeJpeg(bytes: Uint8Array, name: string): DecodedImage {
  let img;
  try {
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false });
  } catch (e) {
    throw new UserError(`${name}: corrupt or truncated JPEG image (${decoderMessage(e)})`);
  }
  if (!(img.width > 0 && img.height > 0) || img.data.length < img.width * img.height * 4) {
    throw new UserError(`${name}: corrupt or truncated JPEG image (no pixel data)`);
  }
  return fromRgba(img.data, img.width, img.height, 255, 'JPEG');
}

function fromRgba(px: ArrayLike<number>, width: number, height: number, max: number, format: 'PNG' | 'JPEG'): DecodedImage {
  const n = width * height;
  let grey = true;
  let transparent = false;
  for (let p = 0; p < n; p++) {
    const r = px[4 * p]!;
    if (px[4 * p + 1] !== r || px[4 * p + 2] !== r) grey = false;
    if (px[4 * p + 3] !== max) transparent = true;
  }
  const planes: Float64Array[] = [];
  for (let c = 0; c < (grey ? 1 : 3); c++) {
    const plane = new Float64Array(n);
    for (let p = 0; p < n; p++) plane[p] = px[4 * p + c]! / max;
    planes.push(plane);
  }
  return { format, width, height, planes, transparent };
}

/** ITU-R 601 luma of R, G, B planes. */
export function luma(planes: Float64Array[]): Float64Array {
  const [r, g, b] = planes as [Float64Array, Float64Array, Float64Array];
  const out = new Float64Array(r.length);
  for (let i = 0; i < out.length; i++) out[i] = 0.299 * r[i]! + 0.587 * g[i]! + 0.114 * b[i]!;
  return out;
}

/**
 * Resizes one plane (h x w, row-major) to oh x ow with PIL's BILINEAR filter (see the module comment). The
 * arithmetic is float64; the result is float32.
 */
export function resizeBilinear(src: ArrayLike<number>, h: number, w: number, oh: number, ow: number): Float32Array {
  const out = new Float32Array(oh * ow);
  resizeInto(src, h, w, oh, ow, out);
  return out;
}

function resizeInto(src: ArrayLike<number>, h: number, w: number, oh: number, ow: number, out: Float32Array): void {
  if (h === oh && w === ow) {
    for (let i = 0; i < out.length; i++) out[i] = src[i]!;
    return;
  }
  // Horizontal pass (h x w -> h x ow), then vertical (h x ow -> oh x ow), as PIL does.
  let rows: ArrayLike<number> = src;
  if (w !== ow) {
    const cx = coefficients(w, ow);
    const tmp = new Float64Array(h * ow);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < ow; x++) {
        const k0 = cx.start[x]!;
        let s = 0;
        for (let k = 0; k < cx.count[x]!; k++) s += src[y * w + k0 + k]! * cx.weights[x * cx.stride + k]!;
        tmp[y * ow + x] = s;
      }
    }
    rows = tmp;
  }
  if (h === oh) {
    for (let i = 0; i < out.length; i++) out[i] = rows[i]!;
    return;
  }
  const cy = coefficients(h, oh);
  for (let y = 0; y < oh; y++) {
    const k0 = cy.start[y]!;
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = 0; k < cy.count[y]!; k++) s += rows[(k0 + k) * ow + x]! * cy.weights[y * cy.stride + k]!;
      out[y * ow + x] = s;
    }
  }
}

/** PIL's precompute_coeffs for the bilinear (triangle) filter, support 1, widened by the shrink factor. */
function coefficients(inSize: number, outSize: number): { start: Int32Array; count: Int32Array; weights: Float64Array; stride: number } {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // bilinear support (1) times the filter scale
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * stride);
  const ss = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      const d = Math.abs((x + xmin - center + 0.5) * ss);
      const wgt = d < 1 ? 1 - d : 0;
      weights[xx * stride + x] = wgt;
      total += wgt;
    }
    if (total !== 0) for (let x = 0; x < xmax; x++) weights[xx * stride + x] /= total;
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { start, count, weights, stride };
}

function decoderMessage(e: unknown): string {
  const m = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.trim().replace(/\.$/, '');
  if (/finished stream|unexpected end/i.test(m)) return 'the file ends too early'; // pngjs on truncated data
  return m ? `decoder: ${m}` : 'the decoder gave no reason';
}

/** `folder/file.png`, for messages about one file. */
function fileLabel(file: string): string {
  const dir = basename(resolve(file, '..'));
  return dir ? `${dir}/${basename(file)}` : basename(file);
}

function displayName(dir: string): string {
  return basename(resolve(dir)) || dir;
}
