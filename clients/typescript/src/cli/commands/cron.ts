import { Command } from 'commander';
import type { CreateCronJobRequest } from '../../index.js';
import { clientFor, integerArgument, jsonObjectArgument } from '../context.js';
import { fields, nextPage, print, table } from '../output.js';

interface AddFlags {
  name: string;
  pattern: string;
  handler: string;
  payload?: Record<string, unknown>;
  jobId?: string;
  disabled?: boolean;
  maxAttempts?: number;
  backoff?: number;
}

/** `jobs cron ls|add|rm|trigger`. */
export function cronCommand(): Command {
  const cron = new Command('cron').description('cron jobs (UTC schedules that enqueue a handler)');
  cron
    .command('ls')
    .description('list cron jobs')
    .option('--limit <n>', 'page size', integerArgument)
    .option('--cursor <cursor>', 'the page after this cursor (printed as "more:")')
    .action(async (flags: { limit?: number; cursor?: string }, command: Command) => {
      const { client, json } = clientFor(command);
      const page = await client.cron.list({ ...(flags.limit !== undefined ? { limit: flags.limit } : {}), ...(flags.cursor ? { cursor: flags.cursor } : {}) });
      print(json, page, () =>
        table(
          ['ID', 'NAME', 'PATTERN', 'HANDLER', 'ENABLED', 'NEXT RUN'],
          page.items.map((c) => [c.id, c.name, c.pattern, c.handler, c.enabled ? 'yes' : 'no', c.nextRunAt]),
        ) + nextPage(page.nextCursor),
      );
    });
  cron
    .command('add')
    .description('create a cron job')
    .requiredOption('--name <name>', 'a name for people')
    .requiredOption('--pattern <cron>', 'cron pattern, UTC, e.g. "*/5 * * * *"')
    .requiredOption('--handler <handler>', 'handler to enqueue at each tick')
    .option('--payload <json>', 'payload as a JSON object', jsonObjectArgument)
    .option('--job-id <id>', 'stable scheduler id (default: generated)')
    .option('--max-attempts <n>', 'tries per tick', integerArgument)
    .option('--backoff <ms>', 'base of the exponential backoff', integerArgument)
    .option('--disabled', 'create it disabled')
    .action(async (flags: AddFlags, command: Command) => {
      const { client, json } = clientFor(command);
      const body: CreateCronJobRequest = {
        name: flags.name,
        pattern: flags.pattern,
        handler: flags.handler,
        ...(flags.payload ? { payload: flags.payload } : {}),
        ...(flags.jobId ? { jobId: flags.jobId } : {}),
        ...(flags.maxAttempts !== undefined ? { maxAttempts: flags.maxAttempts } : {}),
        ...(flags.backoff !== undefined ? { backoffMs: flags.backoff } : {}),
        ...(flags.disabled ? { enabled: false } : {}),
      } as CreateCronJobRequest;
      const created = await client.cron.create(body);
      print(json, created, () => `created ${created.id}\n${fields({ name: created.name, pattern: created.pattern, handler: created.handler, enabled: created.enabled, nextRunAt: created.nextRunAt })}`);
    });
  cron
    .command('rm')
    .description('delete a cron job (its schedule stops)')
    .argument('<id>', 'cron job id')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const { client, json } = clientFor(command);
      await client.cron.remove(id);
      print(json, { id, deleted: true }, () => `deleted ${id}`);
    });
  cron
    .command('trigger')
    .description("run a cron job's handler once now")
    .argument('<id>', 'cron job id')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const { client, json } = clientFor(command);
      const job = await client.cron.trigger(id);
      print(json, job, () => `enqueued ${job.id} (${job.handler}, ${job.type})`);
    });
  return cron;
}
