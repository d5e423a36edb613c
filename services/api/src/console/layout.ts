/**
 * The console's page shell (SPEC §17). Contract for every console page (cron, queues, webhooks):
 *
 * - Pages are server-rendered with `hono/html` tagged templates, which escape every interpolated
 *   value; use `raw()` only for markup built here. A page handler answers
 *   `c.html(renderPage({ title, current, body, flash }), status)`.
 * - `current` names the nav entry the page belongs to (it gets `aria-current="page"`).
 * - No inline `style` or `<script>`: the Content-Security-Policy forbids both. Style comes from
 *   the one stylesheet (assets/console-css.ts); use its classes (`table-wrap`, `actions`,
 *   `button secondary|danger`, `badge ok|bad|off`, `facts`, `muted`, `mono`, `visually-hidden`).
 * - Every state change is a plain `<form method="post">` (see forms.ts) answered with a
 *   303 redirect to a page (POST-redirect-GET), with a flash message set by `redirectWithFlash`
 *   (flash.ts); a validation error re-renders the form with 400/422 and the message beside the
 *   field. Nothing needs JavaScript.
 * - Tables go in `<div class="table-wrap">` so they scroll sideways at 360 px instead of
 *   widening the page.
 */
import { html } from 'hono/html';
import { BULL_BOARD_PATH } from '../bull-board/mount-bull-board.js';
import { CONSOLE_CSS_PATH } from './assets/console-css.js';
import type { Flash } from './flash.js';

/** Markup from `hono/html` (a sync string here: no value is a promise). */
export type Html = ReturnType<typeof html>;

/** The console's sections, as named in the nav. */
export type ConsoleSection = 'cron' | 'webhooks' | 'queues';

export const CONSOLE_PATH = '/console';

const NAV: { section: ConsoleSection; label: string; href: string }[] = [
  { section: 'cron', label: 'Cron jobs', href: `${CONSOLE_PATH}/cron` },
  { section: 'webhooks', label: 'Webhooks', href: `${CONSOLE_PATH}/webhooks` },
  { section: 'queues', label: 'Queues', href: `${CONSOLE_PATH}/queues` },
];

export interface PageOptions {
  /** The page's `<h1>` and, with " · Jobs console", its `<title>`. */
  title: string;
  current: ConsoleSection | undefined;
  /** Everything under the `<h1>`. */
  body: Html;
  /** A message about the last action (shown first, announced by screen readers). */
  flash?: Flash | undefined;
}

/**
 * A whole console page: skip link, header with the nav (and BullBoard), `<main>` with the title,
 * the flash message and the body.
 *
 * @example
 * return c.html(renderPage({ title: 'Queues', current: 'queues', body: html`<p>…</p>` }));
 */
export function renderPage(options: PageOptions): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Jobs console</title>
<link rel="stylesheet" href="${CONSOLE_CSS_PATH}">
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site">
<div class="site-row">
<span class="brand">Jobs console</span>
<nav aria-label="Console">
<ul>
${NAV.map((item) => html`<li><a href="${item.href}"${item.section === options.current ? html` aria-current="page"` : ''}>${item.label}</a></li>`)}
<li><a href="${BULL_BOARD_PATH}">BullBoard</a></li>
</ul>
</nav>
</div>
</header>
<main id="main" tabindex="-1">
<h1>${options.title}</h1>
${options.flash ? renderFlash(options.flash) : ''}
${options.body}
</main>
</body>
</html>`;
}

/** The flash as a status box (role=status: polite) or, for an error, an alert. */
function renderFlash(flash: Flash): Html {
  const role = flash.kind === 'error' ? 'alert' : 'status';
  return html`<div class="flash ${flash.kind}" role="${role}">${flash.text}${
    flash.link ? html` <a href="${flash.link.href}">${flash.link.text}</a>` : ''
  }</div>`;
}
