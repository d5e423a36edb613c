import { Command } from 'commander';
import { clientFor, integerArgument } from '../context.js';
import { print } from '../output.js';
import { finishedExitCode, renderJob } from './job-view.js';

/** `jobs job get|cancel|wait <id>`. */
export function jobCommand(): Command {
  const job = new Command('job').description('inspect, wait for or cancel a job');
  job
    .command('get')
    .description('show a job: state, attempts, result or failure')
    .argument('<id>', 'job id as enqueue printed it')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const { client, json } = clientFor(command);
      const found = await client.getJob(id);
      print(json, found, () => renderJob(found));
    });
  job
    .command('cancel')
    .description('remove a waiting/delayed job, or abort a running one')
    .argument('<id>', 'job id')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const { client, json } = clientFor(command);
      const result = await client.cancelJob(id);
      print(json, result, () => (result.status === 'removed' ? `removed ${result.id}` : `aborting ${result.id} (it was running)`));
    });
  job
    .command('wait')
    .description('wait until a job finishes and show it; exit 1 if it did not complete')
    .argument('<id>', 'job id')
    .option('--timeout <ms>', 'give up after this long', integerArgument, 60_000)
    .action(async (id: string, flags: { timeout: number }, command: Command) => {
      const { client, json } = clientFor(command);
      const finished = await client.waitForJob(id, { timeoutMs: flags.timeout });
      print(json, finished, () => renderJob(finished));
      process.exitCode = finishedExitCode(finished);
    });
  return job;
}
