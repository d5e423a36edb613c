import { parseJobRef } from '@jobs/shared';
import type { CronJob } from '@jobs/shared/db';
import { createCronJob, deleteCronJob, triggerCronJob, updateCronJob } from '../../cron/cron-job-commands.js';
import { findCronJobRow, listCronJobRows } from '../../cron/cron-job-repository.js';
import { decodeCursor, encodeCursor } from '../../cron/pagination.js';
import { ApiProblem } from '../../problem.js';
import { bullBoardJobUrl } from '../bull-board-links.js';
import { commandContext, type ConsoleApp, type ConsoleContext, type ConsoleDeps } from '../console-env.js';
import { redirectWithFlash, takeFlash } from '../flash.js';
import { problemErrors, readForm, safeBack } from '../forms.js';
import { renderPage } from '../layout.js';
import { cronDeleteBody, cronDetailBody } from './cron-detail-page.js';
import { cronForm, cronFormErrors, formValuesFrom, formValuesOf, NEW_CRON_FORM, toCreateInput, toUpdateInput, type CronFormValues } from './cron-form.js';
import { cronListBody } from './cron-list-page.js';
import { CRON_PATH, cronRowPath } from './cron-views.js';
import { lastScheduledRuns, type LastRun } from './last-run.js';

const PAGE_SIZE = 20;

/**
 * The cron job pages under `/console/cron` (SPEC §17). Every change goes through the API's
 * commands (`cron/cron-job-commands.ts`): the same validation, the same outbox event, the same
 * scheduler notification as `/api/admin/cronJob`.
 */
export function registerCronPages(app: ConsoleApp, deps: ConsoleDeps): void {
  app.get('/cron', async (c) => {
    const cursor = c.req.query('cursor');
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    if (cursor !== undefined && !after) throw new ApiProblem(400, { detail: 'That page link is not valid any more; start from the first page.' });
    const { rows, next } = await listCronJobRows(deps.db, { limit: PAGE_SIZE, ...(after ? { after } : {}) });
    const now = new Date();
    const runs = await runsOrUnknown(c, deps, rows, now);
    const self = cursor === undefined ? CRON_PATH : `${CRON_PATH}?cursor=${encodeURIComponent(cursor)}`;
    const body = cronListBody({ rows, runs, nextCursor: next ? encodeCursor(next) : undefined, isFirstPage: cursor === undefined, self, now });
    return c.html(renderPage({ title: 'Cron jobs', current: 'cron', body, flash: takeFlash(c) }));
  });

  app.get('/cron/new', (c) => c.html(formPage(deps, 'New cron job', CRON_PATH, 'Create cron job', NEW_CRON_FORM, CRON_PATH)));

  app.post('/cron', async (c) => {
    const values = formValuesFrom(await readForm(c));
    const render = (status: 400 | 409 | 422, errors: ReturnType<typeof cronFormErrors>) =>
      c.html(formPage(deps, 'New cron job', CRON_PATH, 'Create cron job', values, CRON_PATH, errors), status);
    const checked = toCreateInput(values);
    if (!checked.ok) return render(400, cronFormErrors(checked.errors));
    try {
      const row = await createCronJob(commandContext(c, deps), checked.input);
      return redirectWithFlash(c, cronRowPath(row.id), { kind: 'success', text: `Cron job "${row.name}" created.` });
    } catch (err) {
      const errors = formProblem(err);
      return render(errors.status, errors);
    }
  });

  app.get('/cron/:id', async (c) => {
    const row = await requireRow(deps, c.req.param('id'));
    const now = new Date();
    const runs = await runsOrUnknown(c, deps, [row], now);
    const body = cronDetailBody(row, runs?.get(row.id), runs !== undefined, now);
    return c.html(renderPage({ title: `Cron job: ${row.name}`, current: 'cron', body, flash: takeFlash(c) }));
  });

  app.get('/cron/:id/edit', async (c) => {
    const row = await requireRow(deps, c.req.param('id'));
    return c.html(formPage(deps, `Edit cron job: ${row.name}`, cronRowPath(row.id), 'Save changes', formValuesOf(row), cronRowPath(row.id)));
  });

  app.post('/cron/:id', async (c) => {
    const row = await requireRow(deps, c.req.param('id'));
    const values = formValuesFrom(await readForm(c));
    const render = (status: 400 | 409 | 422, errors: ReturnType<typeof cronFormErrors>) =>
      c.html(formPage(deps, `Edit cron job: ${row.name}`, cronRowPath(row.id), 'Save changes', values, cronRowPath(row.id), errors), status);
    const checked = toUpdateInput(values);
    if (!checked.ok) return render(400, cronFormErrors(checked.errors));
    try {
      const updated = await updateCronJob(commandContext(c, deps), row.id, checked.input);
      return redirectWithFlash(c, cronRowPath(updated.id), { kind: 'success', text: `Cron job "${updated.name}" saved.` });
    } catch (err) {
      const errors = formProblem(err);
      return render(errors.status, errors);
    }
  });

  for (const enabled of [true, false]) {
    app.post(`/cron/:id/${enabled ? 'enable' : 'disable'}`, async (c) => {
      const back = safeBack((await readForm(c))['back'], CRON_PATH);
      try {
        const row = await updateCronJob(commandContext(c, deps), c.req.param('id'), { enabled });
        return redirectWithFlash(c, back, { kind: 'success', text: `Cron job "${row.name}" ${enabled ? 'enabled' : 'disabled'}.` });
      } catch (err) {
        // Enabling a row that no longer validates (edited in SQL, handler removed) says why.
        if (err instanceof ApiProblem && err.status < 500 && err.status !== 404) return redirectWithFlash(c, back, { kind: 'error', text: `Not ${enabled ? 'enabled' : 'disabled'}: ${err.message}` });
        throw err;
      }
    });
  }

  app.post('/cron/:id/trigger', async (c) => {
    const back = safeBack((await readForm(c))['back'], CRON_PATH);
    try {
      const { jobId, row } = await triggerCronJob(commandContext(c, deps), c.req.param('id'));
      const at = parseJobRef(jobId, deps.jobs.queue.name);
      const link = at ? { href: bullBoardJobUrl(at.queue, at.id), text: 'View it in BullBoard' } : undefined;
      return redirectWithFlash(c, back, { kind: 'success', text: `Cron job "${row.name}" triggered: job ${jobId} enqueued.`, link });
    } catch (err) {
      if (err instanceof ApiProblem && err.status === 409) return redirectWithFlash(c, back, { kind: 'error', text: `Not triggered: ${err.message}` });
      throw err;
    }
  });

  app.get('/cron/:id/delete', async (c) => {
    const row = await requireRow(deps, c.req.param('id'));
    return c.html(renderPage({ title: `Delete cron job: ${row.name}`, current: 'cron', body: cronDeleteBody(row) }));
  });

  app.post('/cron/:id/delete', async (c) => {
    const row = await requireRow(deps, c.req.param('id'));
    await deleteCronJob(commandContext(c, deps), row.id);
    return redirectWithFlash(c, CRON_PATH, { kind: 'success', text: `Cron job "${row.name}" deleted.` });
  });
}

async function requireRow(deps: ConsoleDeps, id: string): Promise<CronJob> {
  const row = await findCronJobRow(deps.db, id);
  if (!row) throw new ApiProblem(404, { detail: `There is no cron job ${id}. It may have been deleted.` });
  return row;
}

/** Last runs from Redis; undefined when Redis cannot say (the page still shows the rows). */
async function runsOrUnknown(c: ConsoleContext, deps: ConsoleDeps, rows: CronJob[], now: Date): Promise<Map<string, LastRun> | undefined> {
  if (deps.redis.status !== 'ready') return undefined;
  try {
    return await lastScheduledRuns(deps, rows, now);
  } catch (err) {
    c.env.log.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'console: last cron runs unavailable');
    return undefined;
  }
}

/**
 * A command's refusal as form errors: 400 (bad pattern, handler, payload) and 409 (job id taken)
 * beside their fields; anything else is not about the form and goes to the error page.
 */
function formProblem(err: unknown): ReturnType<typeof cronFormErrors> & { status: 400 | 409 } {
  if (!(err instanceof ApiProblem) || (err.status !== 400 && err.status !== 409)) throw err;
  const placed = cronFormErrors(problemErrors(err));
  const others = Object.keys(placed.fields).length || placed.others.length ? placed.others : [err.message];
  return { fields: placed.fields, others, status: err.status };
}

/** The create or edit form as a page; `errors` when it comes back refused. */
function formPage(deps: ConsoleDeps, title: string, action: string, submitLabel: string, values: CronFormValues, cancelHref: string, errors?: ReturnType<typeof cronFormErrors>) {
  const mode = action === CRON_PATH ? 'create' : 'edit';
  return renderPage({
    title,
    current: 'cron',
    body: cronForm({ action, submitLabel, values, handlers: deps.handlers, errors: errors?.fields, others: errors?.others, cancelHref, mode }),
  });
}
