import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobHandlers } from '../../../shared/src/index.js';
import { failing } from '../../../test/fixtures/test-handlers.js';
import { createJobsClient, type JobsClient } from '../src/index.js';
import { bundleCli } from './helpers/bundle.js';
import { startLiveApi, type LiveApi } from './helpers/live-api.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let cli: { dir: string; file: string };
let api: LiveApi;
let client: JobsClient;

/** `jobs …args` as a child process, with JOBS_URL/JOBS_TOKEN from `env` only. */
function jobs(args: string[], env: Record<string, string | undefined> = { JOBS_URL: api.url, JOBS_TOKEN: api.token }): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('JOBS_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [cli.file, ...args], { env: { ...base, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  [cli, api] = await Promise.all([bundleCli(), startLiveApi({ auth: true, worker: true, handlers: { ...jobHandlers, failing } })]);
  client = createJobsClient({ baseUrl: api.url, token: api.token! });
}, 120_000);
afterAll(async () => {
  await api?.close();
  if (cli) await rm(cli.dir, { recursive: true, force: true });
});

describe('jobs CLI: help and usage errors', { timeout: 120_000 }, () => {
  const commands = ['', 'enqueue', 'job', 'job get', 'job cancel', 'job wait', 'cron', 'cron ls', 'cron add', 'cron rm', 'cron trigger', 'webhook', 'webhook ls', 'webhook log', 'webhook replay'];

  it('--help on every command exits 0 with its usage', async () => {
    const runs = await Promise.all(commands.map((c) => jobs([...c.split(' ').filter(Boolean), '--help'], {})));
    runs.forEach((run, i) => {
      expect(run.code, `jobs ${commands[i]} --help`).toBe(0);
      expect(run.stdout).toContain(`Usage: jobs${commands[i] ? ` ${commands[i]}` : ''}`);
    });
    expect(runs[0]!.stdout).toMatch(/JOBS_URL[\s\S]*JOBS_TOKEN[\s\S]*Exit codes/);
  }, 180_000);

  it.each([
    [['bogus'], /unknown command 'bogus'/],
    [['job'], /Usage: jobs job/],
    [['enqueue', 'echo'], /missing required argument 'payload'/],
    [['enqueue', 'echo', '{nope'], /not valid JSON/],
    [['enqueue', 'echo', '{}', '--delay', 'soon'], /must be a whole number/],
    [['cron', 'add', '--name', 'x'], /required option '--pattern <cron>' not specified/],
  ])('jobs %j is a usage error: exit 2', async (args, message) => {
    const run = await jobs(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('no JOBS_URL is a usage error naming it', async () => {
    const run = await jobs(['job', 'get', '1'], {});
    expect(run).toMatchObject({ code: 2, stderr: expect.stringContaining('JOBS_URL') });
  });
});

describe('jobs CLI against the real API', { timeout: 120_000 }, () => {
  it('enqueue prints the id; --json prints the answer', async () => {
    const human = await jobs(['enqueue', 'echo', '{"message":"cli"}', '--delay', '600000', '--priority', '3']);
    expect(human.code).toBe(0);
    const id = /^enqueued (\S+) \(echo, adhoc\)$/m.exec(human.stdout)?.[1];
    expect(id).toBeDefined();
    const job = await api.t.deps.jobs.queue.getJob(id!);
    expect(job?.opts).toMatchObject({ delay: 600_000, priority: 3 });

    const json = await jobs(['enqueue', 'echo', '{"message":"cli json"}', '--delay', '600000', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: expect.any(String), handler: 'echo', type: 'adhoc' });
  });

  it('enqueue --wait prints the completed job; exit 0', async () => {
    const run = await jobs(['enqueue', 'echo', '{"message":"waited"}', '--wait', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ state: 'completed', result: { message: 'waited' } });
  });

  it('enqueue --wait on a job that fails prints the failure; exit 1', async () => {
    const run = await jobs(['enqueue', 'failing', JSON.stringify({ list: `${api.t.prefix}:failing` }), '--attempts', '1', '--wait']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/state:\s+failed/);
    expect(run.stdout).toMatch(/failedReason:\s+boom on attempt 1/);
  });

  it('an API problem: exit 1, the problem on stderr (human) or as JSON on stdout (--json)', async () => {
    const human = await jobs(['enqueue', 'echo', '{"message":1}']);
    expect(human.code).toBe(1);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/^error: 400 Bad Request: body\.payload\.message/);
    expect(human.stderr).toMatch(/field: body\.payload\.message\n\s+request id: \S+/);

    const json = await jobs(['--json', 'enqueue', 'echo', '{"message":1}']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { status: 400, title: 'Bad Request', field: 'body.payload.message', requestId: expect.any(String) } });
  });

  it('no token: 401, exit 1', async () => {
    const run = await jobs(['job', 'get', '1'], { JOBS_URL: api.url });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: 401 /);
  });

  it('job get | cancel | wait', async () => {
    const { id } = await client.enqueue('echo', { message: 'to cancel' }, { delay: 600_000 });
    const got = await jobs(['job', 'get', id]);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(new RegExp(`id:\\s+${id}\\n`));
    expect(got.stdout).toMatch(/state:\s+delayed/);
    expect(JSON.parse((await jobs(['job', 'get', id, '--json'])).stdout)).toMatchObject({ id, state: 'delayed', payload: { message: 'to cancel' } });

    const cancelled = await jobs(['job', 'cancel', id]);
    expect(cancelled).toMatchObject({ code: 0, stdout: `removed ${id}\n` });
    expect((await jobs(['job', 'get', id])).code).toBe(1);

    const done = await client.enqueue('echo', { message: 'wait for me' });
    const waited = await jobs(['job', 'wait', done.id, '--json']);
    expect(waited.code).toBe(0);
    expect(JSON.parse(waited.stdout)).toMatchObject({ id: done.id, state: 'completed' });
  });

  it('cron add | ls | trigger | rm', async () => {
    const added = await jobs(['cron', 'add', '--name', 'cli nightly', '--pattern', '0 3 * * *', '--handler', 'echo', '--payload', '{"message":"3am"}', '--json']);
    expect(added.code).toBe(0);
    const { id } = JSON.parse(added.stdout) as { id: string };
    expect(await client.cron.get(id)).toMatchObject({ name: 'cli nightly', payload: { message: '3am' } });

    const listed = await jobs(['cron', 'ls']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+NAME\s+PATTERN\s+HANDLER\s+ENABLED\s+NEXT RUN/);
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+cli nightly\\s+0 3 \\* \\* \\*\\s+echo\\s+yes`));
    expect(JSON.parse((await jobs(['cron', 'ls', '--json'])).stdout).items).toEqual([expect.objectContaining({ id })]);

    const triggered = await jobs(['cron', 'trigger', id]);
    expect(triggered.code).toBe(0);
    expect(triggered.stdout).toMatch(/^enqueued \S+ \(echo, cronTrigger\)/);

    expect(await jobs(['cron', 'rm', id])).toMatchObject({ code: 0, stdout: `deleted ${id}\n` });
    const again = await jobs(['cron', 'rm', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: 404 /);
  });

  it('webhook ls | log | replay', async () => {
    const sub = await client.webhooks.create({ url: 'https://example.com/cli-hook', events: ['*'] });
    const listed = await jobs(['webhook', 'ls']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${sub.id}\\s+https://example.com/cli-hook\\s+\\*\\s+yes\\s+0`));

    const [row] = await api.t.database.db
      .insertInto('webhook_event')
      .values({
        subscription_id: sub.id,
        webhook_id: 'evt_cli',
        job_id: 'job-1',
        attempt: 1,
        action: 'create',
        resource: 'cronJob',
        resource_id: 'r-1',
        request_body: { id: 'evt_cli', type: 'cronJob.create', resource: 'cronJob', action: 'create', resourceId: 'r-1', occurredAt: new Date().toISOString(), data: {} },
        response_status: 500,
        response_body: 'oops',
        error: 'http_5xx',
        duration_ms: 12,
        success: false,
      })
      .returning('id')
      .execute();
    const log = await jobs(['webhook', 'log', sub.id, '--failed']);
    expect(log.code).toBe(0);
    expect(log.stdout).toMatch(new RegExp(`${row!.id}\\s+\\S+\\s+cronJob\\.create\\s+1\\s+http_5xx\\s+500\\s+12`));
    expect(JSON.parse((await jobs(['webhook', 'log', sub.id, '--json'])).stdout).items).toEqual([expect.objectContaining({ id: row!.id })]);

    const replayed = await jobs(['webhook', 'replay', row!.id]);
    expect(replayed.code).toBe(0);
    const jobId = /^replaying \S+ as job (\S+)$/m.exec(replayed.stdout)?.[1];
    expect((await api.t.deps.jobs.queue.getJob(jobId!))?.name).toBe('sendWebhook');
  });
});
