import { html } from 'hono/html';
import { queueNamed } from '../../queues/queue-lookup.js';
import { ADMIN_REDIS_TIMEOUT_MS, onRedis } from '../../queues/redis-guard.js';
import { LISTABLE_STATES, type ListableState } from '../../schemas/queue-schemas.js';
import { bullBoardQueueUrl } from '../bull-board-links.js';
import type { ConsoleApp, ConsoleDeps } from '../console-env.js';
import { redirectWithFlash, takeFlash } from '../flash.js';
import { postButton } from '../forms.js';
import { renderPage, type Html } from '../layout.js';

const QUEUES_PATH = '/console/queues';

/** States in words, in the order a job moves through them. */
const STATE_LABELS: Record<ListableState, string> = {
  waiting: 'Waiting',
  prioritized: 'Prioritized',
  delayed: 'Delayed',
  'waiting-children': 'Waiting for children',
  active: 'Active',
  completed: 'Completed',
  failed: 'Failed',
};
const STATE_ORDER: ListableState[] = ['waiting', 'prioritized', 'delayed', 'waiting-children', 'active', 'completed', 'failed'];

interface QueueSummary {
  name: string;
  isDefault: boolean;
  paused: boolean;
  counts: Record<string, number>;
  handlers: string[];
}

/**
 * The queue page under `/console/queues` (SPEC §17): every queue of the registry with its job
 * counts by state (each a link to that state in BullBoard), paused or running, and Pause/Resume.
 * Reads and writes as `/api/admin/queue` does (same Redis guard and timeout: Redis away is a
 * 503 page, not a hang).
 */
export function registerQueuePages(app: ConsoleApp, deps: ConsoleDeps): void {
  app.get('/queues', async (c) => {
    const defaultQueue = deps.jobs.queue.name;
    const queues: QueueSummary[] = await Promise.all(
      [...deps.jobs.queues].map(async ([name, queue]) => {
        const [counts, paused] = await onRedis(deps.redis, () => Promise.all([queue.getJobCounts(...LISTABLE_STATES), queue.isPaused()]), ADMIN_REDIS_TIMEOUT_MS);
        const handlers = Object.keys(deps.handlers).filter((handler) => deps.jobs.queueOf(handler) === name);
        return { name, isDefault: name === defaultQueue, paused, counts, handlers };
      }),
    );
    return c.html(renderPage({ title: 'Queues', current: 'queues', body: html`${queues.map(queueSection)}`, flash: takeFlash(c) }));
  });

  for (const action of ['pause', 'resume'] as const) {
    app.post(`/queues/:name/${action}`, async (c) => {
      const queue = queueNamed(deps.jobs, c.req.param('name'));
      await onRedis(deps.redis, () => (action === 'pause' ? queue.pause() : queue.resume()), ADMIN_REDIS_TIMEOUT_MS);
      c.env.log.info({ actor: c.env.actor, queue: queue.name }, action === 'pause' ? 'queue paused' : 'queue resumed');
      const text = action === 'pause' ? `Queue "${queue.name}" paused: no job starts until it is resumed; running jobs finish.` : `Queue "${queue.name}" resumed.`;
      return redirectWithFlash(c, QUEUES_PATH, { kind: 'success', text });
    });
  }
}

function queueSection(queue: QueueSummary): Html {
  const headingId = `queue-${queue.name}`;
  const path = `${QUEUES_PATH}/${encodeURIComponent(queue.name)}`;
  return html`<section aria-labelledby="${headingId}">
<h2 id="${headingId}">${queue.name}${queue.isDefault ? html` <span class="muted">(default queue)</span>` : ''}</h2>
<div class="actions">
${queue.paused ? html`<span class="badge bad">Paused</span>` : html`<span class="badge ok">Running</span>`}
${postButton({ action: `${path}/${queue.paused ? 'resume' : 'pause'}`, label: queue.paused ? 'Resume' : 'Pause', context: `queue ${queue.name}`, variant: 'secondary' })}
<a href="${bullBoardQueueUrl(queue.name)}">Open ${queue.name} in BullBoard</a>
</div>
<div class="table-wrap narrow"><table>
<caption class="visually-hidden">Jobs of queue ${queue.name} by state</caption>
<thead><tr><th scope="col">State</th><th scope="col" class="num">Jobs</th></tr></thead>
<tbody>
${STATE_ORDER.map(
  (state) => html`<tr><th scope="row"><a href="${bullBoardQueueUrl(queue.name, state)}">${STATE_LABELS[state]}<span class="visually-hidden"> jobs of ${queue.name} in BullBoard</span></a></th><td class="num">${queue.counts[state] ?? 0}</td></tr>`,
)}
</tbody>
</table></div>
<p class="muted">Handlers: ${queue.handlers.length ? queue.handlers.join(', ') : 'none'}</p>
</section>`;
}
