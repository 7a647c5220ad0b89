/** Locations tests read from, relative to the repository root (tests run from there: `npm test`). */
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../../..');
export const FIXTURES = join(ROOT, 'test/fixtures');

export function fixture(name: string): string {
  return join(FIXTURES, name);
}
