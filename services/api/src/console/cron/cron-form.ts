import { html } from 'hono/html';
import type { HandlerMap } from '@jobs/shared';
import { isInternalHandler } from '@jobs/shared/jobs';
import type { CronJob } from '@jobs/shared/db';
import type { ZodError } from 'zod';
import { CreateCronJobBody, UpdateCronJobBody } from '../../schemas/cron-job-schemas.js';
import { fieldErrors, type FieldError } from '../../validation-hook.js';
import { checkboxField, errorSummary, placeErrors, selectField, textArea, textField, type FieldErrors } from '../forms.js';
import type { Html } from '../layout.js';
import type { CreateCronJobInput, UpdateCronJobInput } from '../../cron/cron-job-commands.js';

/** The form's fields as typed (strings), so a refused form comes back exactly as it was sent. */
export interface CronFormValues {
  name: string;
  pattern: string;
  handler: string;
  payload: string;
  enabled: boolean;
  maxAttempts: string;
  backoffMs: string;
  jobId: string;
}

const LABELS: Record<keyof CronFormValues, string> = {
  name: 'Name',
  pattern: 'Pattern',
  handler: 'Handler',
  payload: 'Payload',
  enabled: 'Enabled',
  maxAttempts: 'Max attempts',
  backoffMs: 'Backoff (ms)',
  jobId: 'Job id',
};

/** An empty form: the API's defaults. */
export const NEW_CRON_FORM: CronFormValues = { name: '', pattern: '', handler: 'echo', payload: '{}', enabled: true, maxAttempts: '3', backoffMs: '1000', jobId: '' };

/** A stored row as form values (for the edit form). */
export function formValuesOf(row: CronJob): CronFormValues {
  return {
    name: row.name,
    pattern: row.pattern,
    handler: row.handler,
    payload: JSON.stringify(row.payload, null, 2),
    enabled: row.enabled,
    maxAttempts: String(row.max_attempts),
    backoffMs: String(row.backoff_ms),
    jobId: row.job_id,
  };
}

/** A posted form as values (missing fields empty; the checkbox is on when sent). */
export function formValuesFrom(form: Record<string, string>): CronFormValues {
  return {
    name: form['name'] ?? '',
    pattern: form['pattern'] ?? '',
    handler: form['handler'] ?? '',
    payload: form['payload'] ?? '',
    enabled: form['enabled'] !== undefined,
    maxAttempts: form['maxAttempts'] ?? '',
    backoffMs: form['backoffMs'] ?? '',
    jobId: form['jobId'] ?? '',
  };
}

export type Checked<T> = { ok: true; input: T } | { ok: false; errors: FieldError[] };

/**
 * The form as the API's create body, checked by the API's own schema (`CreateCronJobBody`); the
 * command then checks the pattern, handler and payload as the API does.
 */
export function toCreateInput(values: CronFormValues): Checked<CreateCronJobInput> {
  const raw = rawBody(values);
  if (!raw.ok) return raw;
  return parsed(CreateCronJobBody.safeParse(raw.input));
}

/** The form as a full PATCH (every field; an empty Job id keeps the current one), checked by the API's `UpdateCronJobBody`. */
export function toUpdateInput(values: CronFormValues): Checked<UpdateCronJobInput> {
  const raw = rawBody(values);
  if (!raw.ok) return raw;
  return parsed(UpdateCronJobBody.safeParse(raw.input));
}

function parsed<T>(result: { success: true; data: T } | { success: false; error: ZodError }): Checked<T> {
  return result.success ? { ok: true, input: result.data } : { ok: false, errors: fieldErrors(result.error, 'body') };
}

/** Text to JSON types: the payload parsed, numbers read; what cannot be read is a field error. */
function rawBody(values: CronFormValues): Checked<Record<string, unknown>> {
  const errors: FieldError[] = [];
  let payload: unknown = {};
  if (values.payload.trim() !== '') {
    try {
      payload = JSON.parse(values.payload);
    } catch (err) {
      errors.push({ field: 'body.payload', message: `not valid JSON (${err instanceof Error ? err.message : String(err)})` });
    }
  }
  const number = (field: 'maxAttempts' | 'backoffMs'): number | undefined => {
    const text = values[field].trim();
    if (text === '') return undefined;
    if (!/^-?\d+$/.test(text)) errors.push({ field: `body.${field}`, message: 'must be a whole number' });
    return Number(text);
  };
  const body = {
    jobId: values.jobId.trim() === '' ? undefined : values.jobId.trim(),
    name: values.name,
    pattern: values.pattern,
    handler: values.handler,
    payload,
    enabled: values.enabled,
    maxAttempts: number('maxAttempts'),
    backoffMs: number('backoffMs'),
  };
  if (errors.length) return { ok: false, errors };
  return { ok: true, input: Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) };
}

/** The API's field paths onto the form's fields: anything under `body.payload` is the Payload box. */
export function formFieldOf(apiField: string): string | undefined {
  const name = /^body\.([A-Za-z]+)/.exec(apiField)?.[1];
  return name !== undefined && name in LABELS ? name : undefined;
}

/** Errors placed beside their fields, the rest for the summary. */
export function cronFormErrors(errors: FieldError[]): { fields: FieldErrors; others: string[] } {
  return placeErrors(errors, formFieldOf);
}

/**
 * The create or edit form. Handlers offered are the registered ones a cron job may run (not
 * internal ones), plus the row's current one if it is no longer registered, so it shows as is.
 */
export function cronForm(options: {
  action: string;
  submitLabel: string;
  values: CronFormValues;
  handlers: HandlerMap;
  errors?: FieldErrors;
  others?: string[];
  cancelHref: string;
  /** Editing keeps the job id when the field is left empty; creating generates one. */
  mode: 'create' | 'edit';
}): Html {
  const { values } = options;
  const errors = options.errors ?? {};
  const names = Object.keys(options.handlers).filter((name) => !isInternalHandler(options.handlers, name));
  if (values.handler && !names.includes(values.handler)) names.push(values.handler);
  return html`${errorSummary(errors, LABELS, options.others)}
<form method="post" action="${options.action}" class="stacked" novalidate>
${textField({ name: 'name', label: LABELS.name, value: values.name, error: errors['name'], required: true })}
${textField({ name: 'pattern', label: LABELS.pattern, value: values.pattern, error: errors['pattern'], required: true, hint: 'Cron, in UTC: 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first. Example: 0 3 * * * (every day at 03:00).' })}
${selectField({ name: 'handler', label: LABELS.handler, value: values.handler, error: errors['handler'], options: names.map((n) => ({ value: n, label: n })) })}
${textArea({ name: 'payload', label: LABELS.payload, value: values.payload, error: errors['payload'], hint: "A JSON object, checked against the handler's payload schema.", rows: 5 })}
${checkboxField({ name: 'enabled', label: LABELS.enabled, checked: values.enabled, error: errors['enabled'] })}
${textField({ name: 'maxAttempts', label: LABELS.maxAttempts, value: values.maxAttempts, error: errors['maxAttempts'], inputmode: 'numeric', hint: 'Tries per run, the first one included (1–100).' })}
${textField({ name: 'backoffMs', label: LABELS.backoffMs, value: values.backoffMs, error: errors['backoffMs'], inputmode: 'numeric', hint: 'Base of the exponential backoff between tries.' })}
${textField({ name: 'jobId', label: LABELS.jobId, value: values.jobId, error: errors['jobId'], hint: `The BullMQ job scheduler id; unique. ${options.mode === 'create' ? 'Leave empty for a generated one.' : 'Leave empty to keep it.'}` })}
<div class="actions"><button type="submit">${options.submitLabel}</button> <a href="${options.cancelHref}">Cancel</a></div>
</form>`;
}
