import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { ConsoleEnv } from '../src/console/console-env.js';
import { redirectWithFlash, takeFlash, type Flash } from '../src/console/flash.js';
import { placeErrors, problemErrors, safeBack, textField } from '../src/console/forms.js';
import { ApiProblem } from '../src/problem.js';

/** The console's shared building blocks (forms.ts, flash.ts), which every page relies on. */
describe('console forms and flash', () => {
  it('safeBack only returns to console pages, never another site', () => {
    expect(safeBack('/console/cron?cursor=abc', '/console/cron')).toBe('/console/cron?cursor=abc');
    expect(safeBack('/console', '/x')).toBe('/console');
    for (const bad of ['https://evil.test/console', '//evil.test/console', '/\\evil.test', '/consoleevil', '/console/\\evil', '/api/admin/job', undefined, 'javascript:alert(1)']) {
      expect(safeBack(bad, '/console/cron'), String(bad)).toBe('/console/cron');
    }
  });

  it("a field's error is tied to its input (aria-invalid, aria-describedby) and escaped", () => {
    const markup = String(textField({ name: 'pattern', label: 'Pattern', value: '"><script>', hint: 'cron', error: 'bad <b>minute</b>' }));
    expect(markup).toContain('<label for="field-pattern">Pattern</label>');
    expect(markup).toContain('aria-describedby="field-pattern-hint field-pattern-error"');
    expect(markup).toContain('aria-invalid="true"');
    expect(markup).toContain('value="&quot;&gt;&lt;script&gt;"');
    expect(markup).toContain('<span class="error" id="field-pattern-error">bad &lt;b&gt;minute&lt;/b&gt;</span>');
  });

  it("an ApiProblem's errors land beside their form fields; the rest go to the summary", () => {
    const listed = new ApiProblem(400, { detail: 'x', errors: [{ field: 'body.payload.message', message: 'Required' }, { field: 'body.other', message: 'no' }] });
    expect(placeErrors(problemErrors(listed), (f) => (f.startsWith('body.payload') ? 'payload' : undefined))).toEqual({
      fields: { payload: 'payload.message: Required' },
      others: ['body.other: no'],
    });
    expect(problemErrors(new ApiProblem(400, { detail: 'bad minute', field: 'body.pattern' }))).toEqual([{ field: 'body.pattern', message: 'bad minute' }]);
    expect(problemErrors(new ApiProblem(409, { detail: 'conflict' }))).toEqual([]);
  });

  it('a flash survives one redirect, shows once, and a forged cookie cannot carry a link off-site', async () => {
    const app = new Hono<ConsoleEnv>();
    app.post('/console/act', (c) => redirectWithFlash(c, '/console/done', { kind: 'success', text: 'Done.', link: { href: '/bullBoard/queue/jobs/1', text: 'View' } }));
    app.get('/console/done', (c) => c.json(takeFlash(c) ?? null));
    const posted = await app.request('/console/act', { method: 'POST' });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toBe('/console/done');
    const cookie = posted.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\/console/);
    const shown = await app.request('/console/done', { headers: { cookie: cookie.split(';')[0]! } });
    expect(await shown.json()).toEqual({ kind: 'success', text: 'Done.', link: { href: '/bullBoard/queue/jobs/1', text: 'View' } });
    expect(shown.headers.get('set-cookie')).toMatch(/console_flash=;.*Max-Age=0/i); // cleared

    const forged = (flash: unknown) => `console_flash=${Buffer.from(JSON.stringify(flash)).toString('base64url')}`;
    const offSite = await app.request('/console/done', { headers: { cookie: forged({ kind: 'success', text: 'Hi', link: { href: '//evil.test', text: 'x' } } satisfies Flash) } });
    expect(await offSite.json()).toEqual({ kind: 'success', text: 'Hi' });
    const garbage = await app.request('/console/done', { headers: { cookie: 'console_flash=%%%' } });
    expect(await garbage.json()).toBeNull();
  });
});
