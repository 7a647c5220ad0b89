#!/usr/bin/env node
// Packages the extension as a VSIX for one platform, with that platform's onnxruntime binaries only:
//   node tools/package.mjs [--target linux-x64] [--out FILE]        (npm run package -- --target darwin-arm64)
// The VSIX's file list is .vscodeignore's, with its one onnxruntime binary line pointed at the target's folder
// (onnxruntime-node ships every platform's binaries in bin/napi-v6/<platform>/<arch>/, ~290 MB in all). vsce runs
// vscode:prepublish (the production build) itself. The finished VSIX is read back and refused unless it holds the
// bundles, the grammar, the example and the target's native binding, and nothing of other platforms, sources or
// source maps.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ortBin = 'node_modules/onnxruntime-node/bin/napi-v6';
const DEFAULT_BIN_LINE = `!${ortBin}/linux/x64/*`;

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

/** VS Code targets that onnxruntime-node has binaries for: its bin/napi-v6/<platform>/<arch> folders. */
function ortTargets() {
  const dir = join(root, ortBin);
  if (!existsSync(dir)) fail(`${ortBin} is missing; run npm ci first.`);
  return readdirSync(dir).flatMap((p) => readdirSync(join(dir, p)).map((a) => `${p}-${a}`));
}

/** Entry names of a zip file, read from its central directory (a VSIX is a zip). */
function zipEntries(file) {
  const buf = readFileSync(file);
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) fail(`${file} is not a zip file.`);
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) fail(`${file} has a broken central directory.`);
    const nameLen = buf.readUInt16LE(at + 28);
    names.push(buf.toString('utf8', at + 46, at + 46 + nameLen));
    at += 46 + nameLen + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32);
  }
  return names;
}

/** What the packed extension needs at run time, and what must never be in it. */
function checkContents(names, target) {
  const [platform, arch] = target.split('-');
  const need = [
    'extension/package.json',
    'extension/out/extension/main.js',
    'extension/out/worker/main.js',
    'extension/out/worker/row-decider.js',
    'extension/out/server/main.js',
    'extension/out/server/web-tree-sitter.wasm',
    'extension/out/server/tree-sitter-python.wasm',
    'extension/out/cli/main.js',
    'extension/out/highs.wasm',
    'extension/out/webview/modelView.js',
    'extension/media/modelView.css',
    'extension/docs/glossary.md',
    'extension/examples/digits/digits.onnx',
    'extension/node_modules/onnxruntime-node/dist/index.js',
    'extension/node_modules/onnxruntime-common/dist/cjs/index.js',
    `extension/${ortBin}/${platform}/${arch}/onnxruntime_binding.node`,
  ];
  const missing = need.filter((n) => !names.includes(n));
  if (missing.length) fail(`the VSIX lacks ${missing.join(', ')}.`);
  const stray = names.filter(
    (n) => n.endsWith('.map') || /^extension\/(src|test|bench|tools|test-output)\//.test(n) || (/^extension\/docs\//.test(n) && n !== 'extension/docs/glossary.md') || (n.startsWith(`extension/${ortBin}/`) && !n.startsWith(`extension/${ortBin}/${platform}/${arch}/`)),
  );
  if (stray.length) fail(`the VSIX holds files it must not: ${stray.slice(0, 5).join(', ')}${stray.length > 5 ? ', ...' : ''}.`);
}

const targets = ortTargets();
const target = arg('--target', 'linux-x64');
if (!targets.includes(target)) fail(`onnxruntime-node has no binaries for ${target}; the targets it supports are ${targets.join(', ')}.`);
const [platform, arch] = target.split('-');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = resolve(arg('--out', join(root, `${pkg.name}-${target}-${pkg.version}.vsix`)));

mkdirSync(dirname(out), { recursive: true });

const ignore = readFileSync(join(root, '.vscodeignore'), 'utf8');
if (!ignore.split('\n').includes(DEFAULT_BIN_LINE)) fail(`.vscodeignore has no line ${DEFAULT_BIN_LINE} to point at the target's binaries.`);
const tmp = mkdtempSync(join(tmpdir(), 'polytope-package-'));
const ignoreFile = join(tmp, 'vscodeignore');
writeFileSync(ignoreFile, ignore.replace(DEFAULT_BIN_LINE, `!${ortBin}/${platform}/${arch}/*`));

const vsce = join(root, 'node_modules/@vscode/vsce/vsce');
// --allow-missing-repository and --no-rewrite-relative-links: the package names no repository (vsce would ask, or
// refuse the README's relative link to docs/).
const r = spawnSync(
  process.execPath,
  [vsce, 'package', '--target', target, '--ignoreFile', ignoreFile, '--out', out, '--allow-missing-repository', '--no-rewrite-relative-links'],
  { cwd: root, stdio: 'inherit' },
);
rmSync(tmp, { recursive: true, force: true });
if (r.status !== 0) fail(`vsce package --target ${target} failed (exit ${r.status}).`);

const names = zipEntries(out).filter((n) => !n.endsWith('/'));
checkContents(names, target);
console.log(`package: ${relative(process.cwd(), out)}: ${target}, ${names.length} files, ${(statSync(out).size / 1048576).toFixed(1)} MB`);
