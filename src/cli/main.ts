#!/usr/bin/env node
/**
 * polytope-lens: the engine's command line. JSON with --json (the contract in the README), readable tables
 * otherwise; progress on stderr; exit 0 on success, 1 with one sentence on stderr for every bad input.
 */
import { isUserError, messageOf } from '../core/errors';
import { parseCli, USAGE, type CliArgs } from './args';
import { runCodes } from './codes';
import { runDemo } from './demo';
import { runSummary } from './summary';

const COMMANDS: Record<string, (a: CliArgs) => Promise<void>> = {
  summary: runSummary,
  codes: runCodes,
  demo: runDemo,
};

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
  await run(args);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (isUserError(e)) {
      process.stderr.write(`polytope-lens: ${messageOf(e).replace(/\.?$/, '.')}\n`);
    } else {
      process.stderr.write(`polytope-lens: internal error (please report it): ${e instanceof Error ? e.stack : String(e)}\n`);
    }
    process.exit(1);
  },
);
