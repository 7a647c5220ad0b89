/** Locations tests read from, relative to the repository root (tests run from there: `npm test`). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../../..');
export const FIXTURES = join(ROOT, 'test/fixtures');
/** ../shared beside the checkout (read-only material: the two pretrained models). */
export const SHARED = resolve(ROOT, '../shared');
export const SHARED_MODELS = join(SHARED, 'models');

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

export function sharedModel(name: string): string {
  const p = join(SHARED_MODELS, name);
  if (!existsSync(p)) throw new Error(`${p} is missing: the tests need ../shared/models beside the checkout`);
  return p;
}
