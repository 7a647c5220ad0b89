#!/usr/bin/env node
/**
 * polytope-lens: the engine's command line. JSON with --json (the contract in the README), readable tables
 * otherwise; progress on stderr; exit 0 on success, 1 with one sentence on stderr for every bad input.
 */
import { join } from 'node:path';
import { isUserError, messageOf, UserError } from '../core/errors';
import { parseCli, USAGE, type CliArgs } from './args';
import { runCodes } from './codes';
import { runDemo } from './demo';
import { runSummary } from './summary';
import { runPath } from './path';
import { runLocal } from './local';
import { runDensityStudy } from './density-study';
import { runSlice } from './slice';
import { runScale } from './scale';
import { runCluster } from './cluster';
import { runPolytope } from './polytope';
import { exposeGc } from '../core/collect';

/**
 * `polytope-lens lsp --stdio`: the language server (out/server/main.js) in this process, for editors other than
 * VS Code (docs/editors.md). It serves until the client shuts it down.
 */
async function runLsp(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the server is its own bundle, loaded on demand
  require(join(__dirname, '../server/main.js'));
  await new Promise<never>(() => undefined);
}

const COMMANDS: Record<string, (a: CliArgs) => Promise<void>> = {
  summary: runSummary,
  codes: runCodes,
  demo: runDemo,
  path: runPath,
  local: runLocal,
  'density-study': runDensityStudy,
  slice: runSlice,
  scale: runScale,
  cluster: runCluster,
  polytope: runPolytope,
  lsp: runLsp,
};

/** Commands whose result is one row per input, so that N shards of a run add up to the run (--shard K/N). */
const SHARDED = new Set(['codes', 'local']);

async function main(argv: string[]): Promise<number> {
  const args = parseCli(argv);
  if (args.help || !args.command) {
    process.stdout.write(USAGE);
    return args.command || args.help ? 0 : 1;
  }
  const run = COMMANDS[args.command];
  if (!run) {
    process.stderr.write(`polytope-lens: unknown command '${args.command}'; commands: ${Object.keys(COMMANDS).join(', ')}.\n`);
    return 1;
  }
  if (args.shard && !SHARDED.has(args.command)) {
    throw new UserError(`--shard splits the inputs of ${[...SHARDED].join(', ')}; '${args.command}' does not map over inputs one by one`);
  }
  // The CLI's process is its own: collections on demand bound the buffers a codes job leaves behind.
  exposeGc();
  await run(args);
  return 0;
}

/** Exits once stdout has drained: a large JSON result piped to another program must not be cut off. */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

main(process.argv.slice(2)).then(
  (code) => exitAfterFlush(code),
  (e: unknown) => {
    if (isUserError(e)) {
      process.stderr.write(`polytope-lens: ${messageOf(e).replace(/\.?$/, '.')}\n`);
    } else {
      process.stderr.write(`polytope-lens: internal error (please report it): ${e instanceof Error ? e.stack : String(e)}\n`);
    }
    exitAfterFlush(1);
  },
);
