import { Command } from 'commander';
import { clientFor, integerArgument } from '../context.js';
import { nextPage, print, table } from '../output.js';

/** `jobs webhook ls|log|replay`. */
export function webhookCommand(): Command {
  const webhook = new Command('webhook').description('webhook subscriptions and their delivery log');
  webhook
    .command('ls')
    .description('list webhook subscriptions')
    .option('--limit <n>', 'page size', integerArgument)
    .option('--cursor <cursor>', 'the page after this cursor')
    .action(async (flags: { limit?: number; cursor?: string }, command: Command) => {
      const { client, json } = clientFor(command);
      const page = await client.webhooks.list({ ...(flags.limit !== undefined ? { limit: flags.limit } : {}), ...(flags.cursor ? { cursor: flags.cursor } : {}) });
      print(json, page, () =>
        table(
          ['ID', 'URL', 'EVENTS', 'ENABLED', 'FAILURES'],
          page.items.map((s) => [s.id, s.url, s.events.join(','), s.enabled ? 'yes' : `no${s.disabledReason ? ` (${s.disabledReason})` : ''}`, s.consecutiveFailures]),
        ) + nextPage(page.nextCursor),
      );
    });
  webhook
    .command('log')
    .description("a subscription's delivery attempts, newest first")
    .argument('<subscription-id>', 'subscription id')
    .option('--limit <n>', 'page size', integerArgument)
    .option('--cursor <cursor>', 'the page after this cursor')
    .option('--failed', 'only failed attempts')
    .action(async (id: string, flags: { limit?: number; cursor?: string; failed?: boolean }, command: Command) => {
      const { client, json } = clientFor(command);
      const page = await client.webhooks.attempts(id, {
        ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
        ...(flags.cursor ? { cursor: flags.cursor } : {}),
        ...(flags.failed ? { success: 'false' } : {}),
      } as Parameters<typeof client.webhooks.attempts>[1]);
      print(json, page, () =>
        table(
          ['EVENT ID', 'WHEN', 'EVENT', 'ATTEMPT', 'OUTCOME', 'STATUS', 'MS'],
          page.items.map((e) => [e.id, e.createdAt, `${e.resource}.${e.action}`, e.attempt, e.success ? 'ok' : (e.error ?? 'failed'), e.responseStatus, e.durationMs]),
        ) + nextPage(page.nextCursor),
      );
    });
  webhook
    .command('replay')
    .description('deliver a recorded event again')
    .argument('<event-id>', 'event id (from webhook log)')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const { client, json } = clientFor(command);
      const replayed = await client.webhooks.replay(id);
      print(json, replayed, () => `replaying ${id} as job ${replayed.jobId}`);
    });
  return webhook;
}
