import { html } from 'hono/html';
import { urlWithoutSecrets } from '@jobs/shared/webhooks';
import { decodeCursor } from '../../cron/pagination.js';
import { ApiProblem } from '../../problem.js';
import { replaySkipped } from '../../webhooks/webhook-replay.js';
import {
  createSubscription,
  deleteSubscription,
  readSubscriptionSecret,
  rotateSecret,
  subscriptionNotFound,
  updateSubscription,
} from '../../webhooks/webhook-subscription-commands.js';
import { findSubscriptionRow, listSubscriptionRows } from '../../webhooks/webhook-subscription-repository.js';
import { commandContext, type ConsoleApp, type ConsoleContext, type ConsoleDeps } from '../console-env.js';
import { redirectWithFlash, takeFlash } from '../flash.js';
import { problemErrors, readForm, safeBack } from '../forms.js';
import { renderPage, type Html } from '../layout.js';
import { deliveryStats } from './delivery-stats.js';
import { confirmation, secretShown, subscriptionDetail } from './subscription-detail-page.js';
import { formValuesFrom, formValuesOf, parseCreateForm, parseUpdateForm, subscriptionForm, subscriptionFormErrors, type SubscriptionFormValues } from './subscription-form.js';
import { subscriptionList } from './subscription-list-page.js';
import { subscriptionPath, WEBHOOKS_PATH } from './webhook-format.js';

const PAGE_SIZE = 20;
const NEW_VALUES: SubscriptionFormValues = { url: '', events: '*', description: '', enabled: true };

/**
 * The subscription pages: list, create, view, edit, enable/disable, replay what was skipped, the
 * signing secret (reveal, rotate) and delete, each through the API's own commands (same
 * validation, same outbox events, same log lines with the console's actor).
 */
export function registerSubscriptionRoutes(app: ConsoleApp, deps: ConsoleDeps): void {
  const load = async (id: string) => {
    const row = await findSubscriptionRow(deps.db, id);
    if (!row) throw subscriptionNotFound(id);
    return row;
  };
  const page = (c: ConsoleContext, title: string, body: Html, status: 200 | 400 | 404 = 200) =>
    c.html(renderPage({ title, current: 'webhooks', body, flash: takeFlash(c) }), status);

  app.get('/webhooks', async (c) => {
    const cursor = c.req.query('cursor');
    const after = cursor ? decodeCursor(cursor) : undefined;
    if (cursor && !after) return page(c, 'Webhook subscriptions', html`<p>That page link is not valid. <a href="${WEBHOOKS_PATH}">First page</a></p>`, 400);
    const { rows, next } = await listSubscriptionRows(deps.db, { limit: PAGE_SIZE, ...(after ? { after } : {}) });
    const stats = await deliveryStats(deps.db, rows.map((r) => r.id));
    return page(c, 'Webhook subscriptions', subscriptionList({ rows, stats, next, paged: after !== undefined }));
  });

  app.get('/webhooks/new', (c) =>
    page(c, 'New webhook subscription', subscriptionForm({ action: WEBHOOKS_PATH, submitLabel: 'Create subscription', values: NEW_VALUES, errors: {}, cancelHref: WEBHOOKS_PATH })),
  );

  app.post('/webhooks', async (c) => {
    const values = formValuesFrom(await readForm(c));
    const invalid = (errors: ReturnType<typeof subscriptionFormErrors>) =>
      page(c, 'New webhook subscription', subscriptionForm({ action: WEBHOOKS_PATH, submitLabel: 'Create subscription', values, ...errors, cancelHref: WEBHOOKS_PATH }), 400);
    const parsed = parseCreateForm(values);
    if (!parsed.ok) return invalid(parsed);
    try {
      const { row } = await createSubscription(commandContext(c, deps), parsed.input);
      return redirectWithFlash(c, subscriptionPath(row.id), { kind: 'success', text: `Subscription for ${urlWithoutSecrets(row.url)} created. Reveal its signing secret below to configure the receiver.` });
    } catch (err) {
      if (err instanceof ApiProblem && err.status === 400) return invalid(subscriptionFormErrors(problemErrors(err)));
      throw err;
    }
  });

  app.get('/webhooks/:id', async (c) => {
    const row = await load(c.req.param('id'));
    const stats = await deliveryStats(deps.db, [row.id]);
    return page(c, 'Webhook subscription', subscriptionDetail(row, stats.get(row.id)));
  });

  app.get('/webhooks/:id/edit', async (c) => {
    const row = await load(c.req.param('id'));
    const path = subscriptionPath(row.id);
    return page(c, 'Edit webhook subscription', subscriptionForm({ action: path, submitLabel: 'Save changes', values: formValuesOf(row), errors: {}, cancelHref: path }));
  });

  app.post('/webhooks/:id', async (c) => {
    const row = await load(c.req.param('id'));
    const path = subscriptionPath(row.id);
    const values = formValuesFrom(await readForm(c));
    const invalid = (errors: ReturnType<typeof subscriptionFormErrors>) =>
      page(c, 'Edit webhook subscription', subscriptionForm({ action: path, submitLabel: 'Save changes', values, ...errors, cancelHref: path }), 400);
    const parsed = parseUpdateForm(values);
    if (!parsed.ok) return invalid(parsed);
    try {
      await updateSubscription(commandContext(c, deps), row.id, parsed.input);
    } catch (err) {
      if (err instanceof ApiProblem && err.status === 400) return invalid(subscriptionFormErrors(problemErrors(err)));
      throw err;
    }
    return redirectWithFlash(c, path, { kind: 'success', text: 'Subscription saved.' });
  });

  for (const enabled of [true, false]) {
    app.post(`/webhooks/:id/${enabled ? 'enable' : 'disable'}`, async (c) => {
      const id = c.req.param('id');
      const back = safeBack((await readForm(c)).back, subscriptionPath(id));
      const row = await updateSubscription(commandContext(c, deps), id, { enabled });
      const text = enabled
        ? `Subscription for ${urlWithoutSecrets(row.url)} enabled. Events skipped while it was disabled can be replayed now.`
        : `Subscription for ${urlWithoutSecrets(row.url)} disabled: events are recorded as skipped until it is enabled again.`;
      return redirectWithFlash(c, back, { kind: 'success', text });
    });
  }

  app.post('/webhooks/:id/replay-skipped', async (c) => {
    const id = c.req.param('id');
    const back = safeBack((await readForm(c)).back, subscriptionPath(id));
    try {
      const { enqueued } = await replaySkipped(commandContext(c, deps), id);
      const text = enqueued === 0 ? 'No skipped events are waiting for a replay.' : `${enqueued} skipped ${enqueued === 1 ? 'event' : 'events'} queued for delivery.`;
      return redirectWithFlash(c, back, { kind: 'success', text });
    } catch (err) {
      if (err instanceof ApiProblem && err.status === 409) return redirectWithFlash(c, back, { kind: 'error', text: 'The subscription is disabled: enable it first, then replay the skipped events.' });
      throw err;
    }
  });

  app.post('/webhooks/:id/secret', async (c) => {
    const row = await load(c.req.param('id'));
    const secret = await readSubscriptionSecret(commandContext(c, deps), row.id);
    c.header('Cache-Control', 'no-store');
    return page(c, 'Signing secret', secretShown({ row, secret, note: 'The secret that signs this subscription’s deliveries:' }));
  });

  app.get('/webhooks/:id/rotate-secret', async (c) => {
    const row = await load(c.req.param('id'));
    const path = subscriptionPath(row.id);
    const text = html`Rotate the signing secret of ${urlWithoutSecrets(row.url)}? Deliveries are signed with the new and the current secret for 24 hours, then with the new one only: the receiver must switch within that time.`;
    return page(c, 'Rotate signing secret', confirmation({ text, action: `${path}/rotate-secret`, label: 'Rotate secret', back: path }));
  });

  app.post('/webhooks/:id/rotate-secret', async (c) => {
    const row = await load(c.req.param('id'));
    const { secret, previousSecretExpiresAt } = await rotateSecret(commandContext(c, deps), row.id);
    c.header('Cache-Control', 'no-store');
    const note = previousSecretExpiresAt
      ? html`Secret rotated. The previous secret also signs deliveries until ${previousSecretExpiresAt.toISOString()}. The new secret:`
      : 'Secret rotated. The new secret:';
    return page(c, 'Signing secret rotated', secretShown({ row, secret, note }));
  });

  app.get('/webhooks/:id/delete', async (c) => {
    const row = await load(c.req.param('id'));
    const path = subscriptionPath(row.id);
    const text = html`Delete the subscription for ${urlWithoutSecrets(row.url)} and its delivery log? Deliveries still queued for it are dropped.`;
    return page(c, 'Delete webhook subscription', confirmation({ text, action: `${path}/delete`, label: 'Delete subscription', back: path, danger: true }));
  });

  app.post('/webhooks/:id/delete', async (c) => {
    const row = await load(c.req.param('id'));
    await deleteSubscription(commandContext(c, deps), row.id);
    return redirectWithFlash(c, WEBHOOKS_PATH, { kind: 'success', text: `Subscription for ${urlWithoutSecrets(row.url)} deleted.` });
  });
}
