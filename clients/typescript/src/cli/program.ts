import { Command, Option } from 'commander';
import { cronCommand } from './commands/cron.js';
import { enqueueCommand } from './commands/enqueue.js';
import { jobCommand } from './commands/job.js';
import { webhookCommand } from './commands/webhook.js';

/** The `jobs` command line. `--url` and `--token` fall back to JOBS_URL and JOBS_TOKEN. */
export function createProgram(): Command {
  const program = new Command('jobs')
    .description('Talk to a Jobs API: enqueue and inspect jobs, manage cron jobs and webhooks.')
    .addOption(new Option('--url <url>', 'API base URL').env('JOBS_URL'))
    .addOption(new Option('--token <token>', 'bearer token (scope jobs:enqueue or jobs:admin)').env('JOBS_TOKEN'))
    .option('--json', 'print one JSON document (the problem document on failure)')
    .addHelpText(
      'after',
      `
Exit codes: 0 ok; 1 the API answered with a problem (or, with --wait, the job did not complete);
2 usage error (unknown command, bad argument, no URL).

Examples:
  export JOBS_URL=http://localhost:8000 JOBS_TOKEN=$(npm run -s token)
  jobs enqueue echo '{"message":"hi"}' --wait
  jobs job get 42 --json
  jobs cron add --name nightly --pattern '0 3 * * *' --handler echo --payload '{"message":"3am"}'`,
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const command of [enqueueCommand(), jobCommand(), cronCommand(), webhookCommand()]) {
    // Usage errors of subcommands end up in the same exitOverride as the program's.
    program.addCommand(command.exitOverride().showHelpAfterError('(run with --help for usage)'));
    for (const sub of command.commands) sub.exitOverride().showHelpAfterError('(run with --help for usage)');
  }
  return program;
}
