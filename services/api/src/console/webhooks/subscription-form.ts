import { html } from 'hono/html';
import type { WebhookSubscription } from '@jobs/shared/db';
import { CreateSubscriptionBody, UpdateSubscriptionBody } from '../../schemas/webhook-schemas.js';
import { fieldErrors, type FieldError } from '../../validation-hook.js';
import { checkboxField, errorSummary, placeErrors, textField, type FieldErrors } from '../forms.js';
import type { Html } from '../layout.js';
import type { CreateSubscriptionInput, UpdateSubscriptionInput } from '../../webhooks/webhook-subscription-commands.js';

/** The form's fields as typed (strings), to show again after an error. */
export interface SubscriptionFormValues {
  url: string;
  events: string;
  description: string;
  enabled: boolean;
}

const LABELS = { url: 'URL', events: 'Events', description: 'Description', enabled: 'Enabled' };

/** What an existing subscription puts in the edit form. */
export function formValuesOf(row: WebhookSubscription): SubscriptionFormValues {
  return { url: row.url, events: row.events.join(', '), description: row.description ?? '', enabled: row.enabled };
}

/** The values a posted form carries (an unchecked checkbox posts nothing). */
export function formValuesFrom(form: Record<string, string>): SubscriptionFormValues {
  return { url: (form.url ?? '').trim(), events: form.events ?? '', description: form.description ?? '', enabled: form.enabled === 'on' };
}

/**
 * The create or edit form. Errors sit under their field (`aria-describedby`, `aria-invalid`)
 * and are listed in a summary at the top.
 *
 * @example
 * subscriptionForm({ action: '/console/webhooks', submitLabel: 'Create subscription', values, errors: {} })
 */
export function subscriptionForm(options: { action: string; submitLabel: string; values: SubscriptionFormValues; errors: FieldErrors; others?: string[]; cancelHref: string }): Html {
  const { values, errors } = options;
  return html`${errorSummary(errors, LABELS, options.others)}
<form method="post" action="${options.action}" class="stacked" novalidate>
${textField({ name: 'url', label: LABELS.url, value: values.url, inputmode: 'url', required: true, hint: 'where deliveries are POSTed: http(s), no user:password@', error: errors.url })}
${textField({ name: 'events', label: LABELS.events, value: values.events, required: true, hint: 'comma-separated: resource.action (cronJob.create), resource.* or * for every event', error: errors.events })}
${textField({ name: 'description', label: LABELS.description, value: values.description, hint: 'optional', error: errors.description })}
${checkboxField({ name: 'enabled', label: LABELS.enabled, checked: values.enabled, error: errors.enabled })}
<div class="actions"><button type="submit">${options.submitLabel}</button><a class="button secondary" href="${options.cancelHref}">Cancel</a></div>
</form>`;
}

export type ParsedForm<T> = { ok: true; input: T } | { ok: false; errors: FieldErrors; others: string[] };

/**
 * A posted create form checked with the API's own schema (`CreateSubscriptionBody`), its errors
 * placed beside the form's fields.
 *
 * @example
 * const parsed = parseCreateForm(formValuesFrom(await readForm(c)));
 */
export function parseCreateForm(values: SubscriptionFormValues): ParsedForm<CreateSubscriptionInput> {
  const events = eventList(values.events);
  const result = CreateSubscriptionBody.safeParse({
    url: values.url,
    events,
    ...(values.description.trim() ? { description: values.description.trim() } : {}),
    enabled: values.enabled,
  });
  return result.success ? { ok: true, input: result.data } : { ok: false, ...subscriptionFormErrors(fieldErrors(result.error, 'body'), events) };
}

/**
 * A posted edit form checked with the API's `UpdateSubscriptionBody`; every field is sent (an
 * empty description clears it).
 */
export function parseUpdateForm(values: SubscriptionFormValues): ParsedForm<UpdateSubscriptionInput> {
  const events = eventList(values.events);
  const result = UpdateSubscriptionBody.safeParse({ url: values.url, events, description: values.description.trim() || null, enabled: values.enabled });
  return result.success ? { ok: true, input: result.data } : { ok: false, ...subscriptionFormErrors(fieldErrors(result.error, 'body'), events) };
}

/**
 * The API's field errors (`body.url`, `body.events.2`) as form errors; an event pattern's error
 * names the pattern typed rather than its index.
 */
export function subscriptionFormErrors(errors: FieldError[], events: string[] = []): { errors: FieldErrors; others: string[] } {
  const readable = errors.map((e) => {
    const index = /^body\.events\.(\d+)$/.exec(e.field)?.[1];
    const typed = index === undefined ? undefined : events[Number(index)];
    return typed === undefined ? e : { field: 'body.events', message: `"${typed}" ${e.message}` };
  });
  const placed = placeErrors(readable, (field) => {
    const name = field.replace(/^body\./, '').split('.')[0];
    return name && Object.hasOwn(LABELS, name) ? name : undefined;
  });
  return { errors: placed.fields, others: placed.others };
}

/** "cronJob.*, invoice.paid" → ['cronJob.*', 'invoice.paid'] (commas or spaces). */
const eventList = (text: string): string[] => text.split(/[\s,]+/).filter((e) => e.length > 0);
