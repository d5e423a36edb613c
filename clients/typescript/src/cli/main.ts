#!/usr/bin/env node
// The `jobs` CLI (bin of @jobs/client). Exit codes: 0 ok, 1 the API answered with a problem
// (or a --wait'ed job did not complete), 2 usage error.
import process from 'node:process';
import { CommanderError } from 'commander';
import { JobsApiError } from '../index.js';
import { UsageError } from './context.js';
import { printError } from './output.js';
import { createProgram } from './program.js';

const EXIT_API_ERROR = 1;
const EXIT_USAGE = 2;

const json = process.argv.includes('--json');
try {
  await createProgram().parseAsync(process.argv);
} catch (err) {
  process.exitCode = exitCodeOf(err);
}

function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version end here too; commander already printed what it had to say.
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : EXIT_USAGE;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`error: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof JobsApiError) {
    printError(json, err);
    return EXIT_API_ERROR;
  }
  // A bug, not an API answer: the stack helps more than a tidy line.
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT_API_ERROR;
}
