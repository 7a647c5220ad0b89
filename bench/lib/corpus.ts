/**
 * The torchvision corpus the real-architecture benchmarks read (issue 14): made on demand by
 * bench/torchvision_corpus.py with Debian's python3-torch and python3-torchvision, cached in
 * ~/.cache/polytope-lens/corpus (or $POLYTOPE_LENS_CORPUS), never committed.
 */
import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const CORPUS = process.env.POLYTOPE_LENS_CORPUS ?? join(homedir(), '.cache', 'polytope-lens', 'corpus');
export const ARCHS = ['resnet18', 'resnet50', 'vgg11_bn', 'alexnet', 'squeezenet1_1', 'shufflenet_v2_x0_5', 'mobilenet_v2', 'densenet121', 'googlenet'];

/** Exports the architectures not in the corpus yet (the script skips the ones it has). */
export function makeCorpus(archs: string[]): void {
  const made = spawnSync('/usr/bin/python3', ['bench/torchvision_corpus.py', '--out', CORPUS, '--archs', archs.join(',')], { cwd: resolve(__dirname, '../..'), encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`bench/torchvision_corpus.py failed (Debian's python3-torch and python3-torchvision are needed):\n${made.stderr}`);
}
