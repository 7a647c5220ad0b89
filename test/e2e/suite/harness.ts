/** A tiny test runner for the extension host (mocha is not a dependency): named async tests, run in order. */
import { writeFileSync } from 'node:fs';

type Fn = () => Promise<void> | void;
const tests: { name: string; fn: Fn; timeout: number }[] = [];

export function test(name: string, fn: Fn, timeout = 60_000): void {
  tests.push({ name, fn, timeout });
}

export interface Outcome {
  passes: number;
  failures: number;
  results: { name: string; ok: boolean; ms: number; error?: string }[];
}

/** Names of the tests that POLYTOPE_E2E_GREP (a regular expression) selects. */
export function selectedTests(): string[] {
  const grep = process.env.POLYTOPE_E2E_GREP ? new RegExp(process.env.POLYTOPE_E2E_GREP) : undefined;
  return tests.filter((t) => !grep || grep.test(t.name)).map((t) => t.name);
}

/** Runs the selected tests that `only` accepts (all by default). */
export async function runAll(log: (line: string) => void, only: (name: string) => boolean = () => true): Promise<Outcome> {
  const out: Outcome = { passes: 0, failures: 0, results: [] };
  // POLYTOPE_E2E_GREP (a regular expression) runs only the tests whose name matches.
  const grep = process.env.POLYTOPE_E2E_GREP ? new RegExp(process.env.POLYTOPE_E2E_GREP) : undefined;
  for (const t of tests) {
    if (grep && !grep.test(t.name)) continue;
    if (!only(t.name)) continue;
    const t0 = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(t.fn),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${t.timeout} ms`)), t.timeout))),
      ]);
      out.passes++;
      out.results.push({ name: t.name, ok: true, ms: Date.now() - t0 });
      log(`  ✓ ${t.name} (${Date.now() - t0} ms)`);
    } catch (e) {
      out.failures++;
      const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      out.results.push({ name: t.name, ok: false, ms: Date.now() - t0, error });
      log(`  ✗ ${t.name}\n    ${error.replace(/\n/g, '\n    ')}`);
    } finally {
      clearTimeout(timer);
    }
  }
  return out;
}

export function writeResult(path: string | undefined, outcome: Outcome): void {
  if (path) writeFileSync(path, JSON.stringify(outcome, null, 2));
}

/** Polls until `check` returns a value (not undefined), or fails with the last reason. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
