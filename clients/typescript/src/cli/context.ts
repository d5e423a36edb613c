import { InvalidArgumentError, type Command } from 'commander';
import { createJobsClient, type JobsClient } from '../index.js';

/** The options every command takes (before or after its name). */
export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

/** A usage error found after parsing (e.g. no API URL): exit code 2, like commander's own. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The client for a command, from `--url`/`JOBS_URL` and `--token`/`JOBS_TOKEN`. */
export function clientFor(command: Command): { client: JobsClient; json: boolean } {
  const opts = command.optsWithGlobals<GlobalOptions>();
  if (!opts.url) throw new UsageError('no API URL: set JOBS_URL or pass --url <url>');
  return { client: createJobsClient({ baseUrl: opts.url, ...(opts.token ? { token: opts.token } : {}) }), json: Boolean(opts.json) };
}

/** Argument parser for a JSON value (a payload, a body). */
export function jsonArgument(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`not valid JSON (${(err as Error).message})`);
  }
}

/** Argument parser for a JSON object. */
export function jsonObjectArgument(value: string): Record<string, unknown> {
  const parsed = jsonArgument(value);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError('must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** Argument parser for a whole number ≥ 0. */
export function integerArgument(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}
