/**
 * Form building blocks shared by every console page, so all forms look and behave the same.
 * Contract:
 *
 * - Each field has a visible `<label>` (SPEC §17), the id `field-<name>`, an optional hint
 *   (`field-<name>-hint`) and, when invalid, its message right under it (`field-<name>-error`),
 *   tied to the control with `aria-describedby` and `aria-invalid="true"`.
 * - A form with errors starts with {@link errorSummary}: a list linking to each wrong field, plus
 *   errors that belong to no field.
 * - Field errors come from the API's own validation: a zod schema's issues ({@link fieldErrors} in
 *   validation-hook.ts) or a command's `ApiProblem` ({@link problemErrors}); {@link placeErrors}
 *   maps the API's field paths (`body.pattern`, `body.payload.message`) onto form fields.
 * - Every action is a real button in a POST form ({@link postButton}) or a link; its name says
 *   what it does in words ("Disable", "Trigger now", "Delete…").
 */
import { html } from 'hono/html';
import type { Html } from './layout.js';
import type { ConsoleContext } from './console-env.js';
import { ApiProblem } from '../problem.js';
import type { FieldError } from '../validation-hook.js';

/** Messages by form field name. */
export type FieldErrors = Partial<Record<string, string>>;

interface FieldBase {
  name: string;
  label: string;
  hint?: string | undefined;
  error?: string | undefined;
  required?: boolean | undefined;
}

const idOf = (name: string) => `field-${name}`;

/** `aria-describedby` and `aria-invalid` for a control, and the hint/error elements they point at. */
function describe(field: FieldBase): { attrs: Html; hint: Html; error: Html } {
  const id = idOf(field.name);
  const ids = [field.hint ? `${id}-hint` : '', field.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return {
    attrs: html`${ids ? html` aria-describedby="${ids}"` : ''}${field.error ? html` aria-invalid="true"` : ''}${field.required ? html` required` : ''}`,
    hint: field.hint ? html`<span class="hint" id="${id}-hint">${field.hint}</span>` : html``,
    error: field.error ? html`<span class="error" id="${id}-error">${field.error}</span>` : html``,
  };
}

/**
 * A labelled `<input>`.
 *
 * @example
 * textField({ name: 'pattern', label: 'Pattern', value: '0 3 * * *', hint: 'cron, UTC', error: errors.pattern })
 */
export function textField(field: FieldBase & { value?: string | undefined; type?: 'text' | 'number' | 'url' | 'search'; inputmode?: 'numeric' | 'url' | 'text'; autocomplete?: string }): Html {
  const d = describe(field);
  return html`<div class="field">
<label for="${idOf(field.name)}">${field.label}</label>
${d.hint}<input type="${field.type ?? 'text'}" id="${idOf(field.name)}" name="${field.name}" value="${field.value ?? ''}"${
    field.inputmode ? html` inputmode="${field.inputmode}"` : ''
  } autocomplete="${field.autocomplete ?? 'off'}"${d.attrs}>
${d.error}</div>`;
}

/**
 * A labelled `<textarea>` (JSON payloads and the like).
 *
 * @example
 * textArea({ name: 'payload', label: 'Payload', value: '{"message":"hi"}', error: errors.payload })
 */
export function textArea(field: FieldBase & { value?: string | undefined; rows?: number }): Html {
  const d = describe(field);
  return html`<div class="field">
<label for="${idOf(field.name)}">${field.label}</label>
${d.hint}<textarea id="${idOf(field.name)}" name="${field.name}" rows="${field.rows ?? 6}" spellcheck="false"${d.attrs}>${field.value ?? ''}</textarea>
${d.error}</div>`;
}

/**
 * A labelled `<select>`.
 *
 * @example
 * selectField({ name: 'handler', label: 'Handler', options: [{ value: 'echo', label: 'echo' }], value: 'echo' })
 */
export function selectField(field: FieldBase & { options: { value: string; label: string }[]; value?: string | undefined }): Html {
  const d = describe(field);
  return html`<div class="field">
<label for="${idOf(field.name)}">${field.label}</label>
${d.hint}<select id="${idOf(field.name)}" name="${field.name}"${d.attrs}>
${field.options.map((o) => html`<option value="${o.value}"${o.value === field.value ? html` selected` : ''}>${o.label}</option>`)}
</select>
${d.error}</div>`;
}

/**
 * A checkbox with its label after it; posts `value` ("on" by default) when checked, nothing when not.
 *
 * @example
 * checkboxField({ name: 'enabled', label: 'Enabled', checked: true })
 */
export function checkboxField(field: FieldBase & { checked: boolean; value?: string }): Html {
  const d = describe(field);
  return html`<div class="field checkbox">
<input type="checkbox" id="${idOf(field.name)}" name="${field.name}" value="${field.value ?? 'on'}"${field.checked ? html` checked` : ''}${d.attrs}><label for="${idOf(field.name)}">${field.label}</label>
${d.hint}${d.error}</div>`;
}

/**
 * "There is a problem" box at the top of a form: links to each wrong field (by its label), then
 * the errors that belong to no field. Empty when there is nothing to say.
 *
 * @example
 * errorSummary(errors, { pattern: 'Pattern' }, others)
 */
export function errorSummary(errors: FieldErrors, labels: Record<string, string>, others: string[] = []): Html {
  const entries = Object.entries(errors).filter((e): e is [string, string] => typeof e[1] === 'string');
  if (entries.length === 0 && others.length === 0) return html``;
  return html`<div class="error-summary" role="alert" aria-labelledby="error-summary-title">
<h2 id="error-summary-title">There is a problem</h2>
<ul>
${entries.map(([name, message]) => html`<li><a href="#${idOf(name)}">${labels[name] ?? name}: ${message}</a></li>`)}
${others.map((message) => html`<li>${message}</li>`)}
</ul>
</div>`;
}

/**
 * A one-button POST form: the console's every action that changes something. `context` is added
 * to the button's name for screen readers only (a list has many "Disable" buttons: "Disable
 * Nightly report"). `hidden` adds fields (e.g. `back`, the page to return to).
 *
 * @example
 * postButton({ action: `/console/cron/${id}/trigger`, label: 'Trigger now', context: row.name })
 * postButton({ action: `/console/cron/${id}/delete`, label: 'Delete', variant: 'danger' })
 */
export function postButton(options: {
  action: string;
  label: string;
  context?: string;
  variant?: 'primary' | 'secondary' | 'danger';
  hidden?: Record<string, string>;
  /** Id of an element describing the action (e.g. a warning next to it). */
  describedBy?: string;
}): Html {
  const variant = options.variant && options.variant !== 'primary' ? options.variant : '';
  return html`<form method="post" action="${options.action}">${Object.entries(options.hidden ?? {}).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  )}<button type="submit"${variant ? html` class="${variant}"` : ''}${options.describedBy ? html` aria-describedby="${options.describedBy}"` : ''}>${options.label}${
    options.context ? html`<span class="visually-hidden"> ${options.context}</span>` : ''
  }</button></form>`;
}

/**
 * Where a form asked to return to (its `back` field), if that is a console page; else `fallback`.
 * Never another site: the value comes from the request.
 *
 * @example
 * return redirectWithFlash(c, safeBack(form['back'], '/console/cron'), flash);
 */
export function safeBack(back: string | undefined, fallback: string): string {
  return back !== undefined && /^\/console(\/|\?|$)/.test(back) && !/[\\\s]/.test(back) ? back : fallback;
}

/**
 * A posted form's text fields (files and repeated names: the last string value wins).
 *
 * @example
 * const form = await readForm(c); // { name: 'Nightly', pattern: '0 3 * * *', … }
 */
export async function readForm(c: ConsoleContext): Promise<Record<string, string>> {
  const body = await c.req.parseBody({ all: true });
  const form: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    const last = Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string').at(-1) : value;
    if (typeof last === 'string') form[name] = last;
  }
  return form;
}

/**
 * The field errors an `ApiProblem` carries: its `errors` list, else its `field` with its detail,
 * else none (the caller shows the detail as a general error).
 *
 * @example
 * problemErrors(new ApiProblem(400, { detail: 'bad minute', field: 'body.pattern' })); // [{ field: 'body.pattern', message: 'bad minute' }]
 */
export function problemErrors(err: ApiProblem): FieldError[] {
  const listed = err.fields['errors'];
  if (Array.isArray(listed) && listed.every(isFieldError)) return listed;
  const field = err.fields['field'];
  if (typeof field === 'string') return [{ field, message: err.fields.detail ?? err.message }];
  return [];
}

const isFieldError = (value: unknown): value is FieldError =>
  typeof value === 'object' && value !== null && typeof (value as FieldError).field === 'string' && typeof (value as FieldError).message === 'string';

/**
 * Puts the API's field errors beside the form fields: `formFieldOf('body.payload.message')` names
 * the form field for an API path (or undefined: the message goes to `others`, for the summary).
 * The first message for a field wins.
 *
 * @example
 * placeErrors(errors, (path) => (path.startsWith('body.payload') ? 'payload' : path.replace(/^body\./, '')));
 */
export function placeErrors(errors: FieldError[], formFieldOf: (apiField: string) => string | undefined): { fields: FieldErrors; others: string[] } {
  const fields: FieldErrors = {};
  const others: string[] = [];
  for (const error of errors) {
    const name = formFieldOf(error.field);
    const message = name && error.field !== `body.${name}` ? `${error.field.replace(/^body\./, '')}: ${error.message}` : error.message;
    if (name === undefined) others.push(`${error.field}: ${error.message}`);
    else fields[name] ??= message;
  }
  return { fields, others };
}
