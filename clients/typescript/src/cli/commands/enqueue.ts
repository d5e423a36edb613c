import { Command } from 'commander';
import type { EnqueueCallOptions, HandlerName, Job, PayloadOf } from '../../index.js';
import { clientFor, integerArgument, jsonArgument } from '../context.js';
import { print } from '../output.js';
import { finishedExitCode, renderJob } from './job-view.js';

interface EnqueueFlags {
  delay?: number;
  priority?: number;
  attempts?: number;
  backoff?: number;
  dedupeKey?: string;
  idempotencyKey?: string;
  wait?: boolean;
  timeout: number;
}

/** `jobs enqueue <handler> '<json>' [--delay --priority --attempts --backoff --dedupe-key --wait]`. */
export function enqueueCommand(): Command {
  return new Command('enqueue')
    .description('enqueue a job; prints its id (with --wait: waits and prints the finished job)')
    .argument('<handler>', 'handler name (jobs handlers are listed by GET /api/admin/handler)')
    .argument('<payload>', 'payload as JSON, e.g. \'{"message":"hi"}\'', jsonArgument)
    .option('--delay <ms>', 'milliseconds before the job may run', integerArgument)
    .option('--priority <n>', 'lower runs sooner (1 = highest)', integerArgument)
    .option('--attempts <n>', 'tries in all, first run included', integerArgument)
    .option('--backoff <ms>', 'base of the exponential backoff between tries', integerArgument)
    .option('--dedupe-key <key>', 'an equal unfinished job is not added twice')
    .option('--idempotency-key <key>', 'sent as Idempotency-Key (default: a random one per call)')
    .option('--wait', 'wait until the job finishes; exit 1 if it did not complete')
    .option('--timeout <ms>', 'with --wait: give up after this long', integerArgument, 60_000)
    .action(async (handler: string, payload: unknown, flags: EnqueueFlags, command: Command) => {
      const { client, json } = clientFor(command);
      const options: EnqueueCallOptions = {
        ...(flags.delay !== undefined ? { delay: flags.delay } : {}),
        ...(flags.priority !== undefined ? { priority: flags.priority } : {}),
        ...(flags.attempts !== undefined ? { attempts: flags.attempts } : {}),
        ...(flags.backoff !== undefined ? { backoffMs: flags.backoff } : {}),
        ...(flags.dedupeKey !== undefined ? { dedupeKey: flags.dedupeKey } : {}),
        ...(flags.idempotencyKey !== undefined ? { idempotencyKey: flags.idempotencyKey } : {}),
      };
      // The handler is only known at run time; the API validates the pair and answers 400 naming the field.
      const job = await client.enqueue(handler as HandlerName, payload as PayloadOf<HandlerName>, options);
      if (!flags.wait) {
        print(json, job, () => `enqueued ${job.id} (${job.handler}, ${job.type})${job.idempotentReplay ? ' [idempotent replay]' : ''}`);
        return;
      }
      const finished: Job = await client.waitForJob(job.id, { timeoutMs: flags.timeout });
      print(json, finished, () => renderJob(finished));
      process.exitCode = finishedExitCode(finished);
    });
}
