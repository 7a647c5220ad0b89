/**
 * `npm run bench`: runs every benchmark in bench/ (each bundled to out/bench/NAME.js) one after another, each in
 * its own process. Each writes its numbers into bench/results.json (or a results file of its own) and prints them.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv.slice(2);
const benches = readdirSync(__dirname)
  .filter((f) => f.endsWith('.js') && f !== 'main.js')
  .map((f) => f.replace(/\.js$/, ''))
  .filter((b) => only.length === 0 || only.includes(b))
  .sort();
for (const b of benches) {
  process.stdout.write(`\n== bench ${b} ==\n`);
  execFileSync(process.execPath, [join(__dirname, `${b}.js`)], { stdio: 'inherit' });
}
