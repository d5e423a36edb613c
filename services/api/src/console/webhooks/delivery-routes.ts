import { parseJobRef } from '@jobs/shared';
import { ApiProblem } from '../../problem.js';
import { findEventRow } from '../../webhooks/webhook-event-repository.js';
import { replayEvent } from '../../webhooks/webhook-replay.js';
import { subscriptionNotFound } from '../../webhooks/webhook-subscription-commands.js';
import { findSubscriptionRow } from '../../webhooks/webhook-subscription-repository.js';
import { bullBoardJobUrl } from '../bull-board-links.js';
import { commandContext, type ConsoleApp, type ConsoleDeps } from '../console-env.js';
import { redirectWithFlash, takeFlash } from '../flash.js';
import { readForm, safeBack } from '../forms.js';
import { renderPage } from '../layout.js';
import { deliveryLog } from './delivery-log.js';
import { parseLogQuery } from './delivery-log-filter.js';
import { attemptDetail, deliveryLogBody } from './delivery-log-page.js';
import { deliveriesPath } from './webhook-format.js';

/** Events per page of the log (each with all its matching attempts). */
const EVENTS_PER_PAGE = 20;

/**
 * A subscription's delivery log, an attempt's details, and the replay of one event (through the
 * API's `replayEvent`: a new `sendWebhook` job with the same event id).
 */
export function registerDeliveryRoutes(app: ConsoleApp, deps: ConsoleDeps): void {
  const load = async (id: string) => {
    const row = await findSubscriptionRow(deps.db, id);
    if (!row) throw subscriptionNotFound(id);
    return row;
  };
  /** The attempt, only under its own subscription's path. */
  const loadAttempt = async (subscriptionId: string, attemptId: string) => {
    const attempt = await findEventRow(deps.db, attemptId);
    if (!attempt || attempt.subscription_id !== subscriptionId) throw new ApiProblem(404, { detail: `no delivery attempt ${attemptId} of this subscription` });
    return attempt;
  };

  app.get('/webhooks/:id/deliveries', async (c) => {
    const row = await load(c.req.param('id'));
    const query = parseLogQuery(c.req.query());
    const valid = Object.keys(query.errors).length === 0;
    const page = valid ? await deliveryLog(deps.db, row.id, query.filter, { limit: EVENTS_PER_PAGE, ...(query.after ? { after: query.after } : {}) }) : undefined;
    return c.html(renderPage({ title: 'Delivery log', current: 'webhooks', body: deliveryLogBody({ row, query, page }), flash: takeFlash(c) }), valid ? 200 : 400);
  });

  app.get('/webhooks/:id/deliveries/:attemptId', async (c) => {
    const row = await load(c.req.param('id'));
    const attempt = await loadAttempt(row.id, c.req.param('attemptId'));
    // The job id recorded is the caller's reference (`<queue>~<id>` off the default queue); BullBoard wants the queue and BullMQ's id.
    const job = attempt.job_id === null ? undefined : parseJobRef(attempt.job_id, deps.jobs.queue.name);
    const jobHref = job ? bullBoardJobUrl(job.queue, job.id) : undefined;
    return c.html(renderPage({ title: 'Delivery attempt', current: 'webhooks', body: attemptDetail(row, attempt, jobHref), flash: takeFlash(c) }));
  });

  app.post('/webhooks/:id/deliveries/:attemptId/replay', async (c) => {
    const row = await load(c.req.param('id'));
    const attempt = await loadAttempt(row.id, c.req.param('attemptId'));
    const back = safeBack((await readForm(c)).back, deliveriesPath(row.id));
    try {
      const { jobId } = await replayEvent(commandContext(c, deps), attempt.id);
      return redirectWithFlash(c, back, { kind: 'success', text: `Event ${attempt.webhook_id} queued for delivery again (job ${jobId}).` });
    } catch (err) {
      if (err instanceof ApiProblem && err.status === 409) return redirectWithFlash(c, back, { kind: 'error', text: 'The subscription is disabled: enable it first, then replay.' });
      throw err;
    }
  });
}
