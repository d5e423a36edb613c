import { createHash } from 'node:crypto';

/**
 * The console's only stylesheet, kept in a TS module so it ships inside `dist` with no copy step.
 * Served at {@link CONSOLE_CSS_PATH} (its name carries a hash of the content, so it can be cached
 * for a year). System fonts, no images; contrast of every text colour is at least 4.5:1.
 */
export const CONSOLE_CSS = `
*, *::before, *::after { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5; color: #1b1f24; background: #f6f7f9; }
body { margin: 0; }
a { color: #0b57d0; }
a:hover { color: #083f99; }
:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
.skip-link { position: absolute; left: 0.5rem; top: -3rem; padding: 0.5rem 1rem; background: #fff; z-index: 10; }
.skip-link:focus { top: 0.5rem; }
header.site { background: #1b1f24; color: #fff; padding: 0.5rem 1rem; }
header.site .brand { font-weight: 700; margin-right: 1rem; }
header.site nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; }
header.site nav a { color: #fff; text-decoration: none; display: inline-block; padding: 0.25rem 0; }
header.site nav a:hover { text-decoration: underline; color: #fff; }
header.site nav a[aria-current="page"] { border-bottom: 3px solid #ffb454; }
header.site :focus-visible { outline-color: #ffb454; }
.site-row { display: flex; flex-wrap: wrap; align-items: center; gap: 0.25rem 1rem; max-width: 72rem; margin: 0 auto; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 0.5rem; }
.flash { padding: 0.75rem 1rem; border-radius: 4px; margin-bottom: 1rem; border: 1px solid; }
.flash.success { background: #e7f5ec; border-color: #1e7f45; }
.flash.error { background: #fdecea; border-color: #b3261e; }
.error-summary { padding: 0.75rem 1rem; margin-bottom: 1rem; border: 2px solid #b3261e; background: #fff; }
.error-summary h2 { margin-top: 0; font-size: 1.1rem; }
/* relative: visually-hidden text (absolute) stays inside the scroll box instead of widening the page */
.table-wrap { position: relative; overflow-x: auto; background: #fff; border: 1px solid #d0d5dc; border-radius: 4px; }
/* a small table (two columns) need not stretch across a wide screen */
.table-wrap.narrow { max-width: 32rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.5rem 0.75rem; border-bottom: 1px solid #e3e6ea; vertical-align: top; }
th { background: #eef0f3; font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
pre { white-space: pre-wrap; word-break: break-word; background: #fff; border: 1px solid #d0d5dc; padding: 0.5rem; margin: 0; }
ul.plain { list-style: none; margin: 0; padding: 0; }
.muted { color: #555d66; }
.nowrap { white-space: nowrap; }
.badge { display: inline-block; padding: 0 0.5rem; border-radius: 999px; font-size: 0.85em; border: 1px solid currentColor; }
.badge.ok { color: #1e6b3a; }
.badge.bad { color: #b3261e; }
.badge.off { color: #555d66; }
.actions { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin: 0.5rem 0; }
.actions form { margin: 0; }
form.stacked { background: #fff; border: 1px solid #d0d5dc; border-radius: 4px; padding: 1rem; max-width: 40rem; }
.field { margin-bottom: 1rem; }
.field label, .field .label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
.field .hint { display: block; color: #555d66; font-size: 0.9em; margin-bottom: 0.25rem; }
.field .error { display: block; color: #b3261e; font-weight: 600; margin-top: 0.25rem; }
.field.checkbox label { display: inline; font-weight: 600; margin-left: 0.25rem; }
input[type="text"], input[type="number"], input[type="url"], input[type="search"], select, textarea {
  width: 100%; max-width: 100%; font: inherit; padding: 0.4rem 0.5rem; border: 1px solid #6b737d; border-radius: 4px; background: #fff; color: inherit;
}
input[aria-invalid="true"], textarea[aria-invalid="true"], select[aria-invalid="true"] { border: 2px solid #b3261e; }
textarea { min-height: 6rem; }
.button, button { font: inherit; display: inline-block; padding: 0.4rem 0.9rem; border-radius: 4px; border: 1px solid #0b57d0; background: #0b57d0; color: #fff; cursor: pointer; text-decoration: none; line-height: 1.5; }
.button:hover, button:hover { background: #083f99; color: #fff; }
.button.secondary, button.secondary { background: #fff; color: #0b57d0; }
.button.secondary:hover, button.secondary:hover { background: #e8f0fe; color: #083f99; }
.button.danger, button.danger { background: #b3261e; border-color: #b3261e; color: #fff; }
.button.danger:hover, button.danger:hover { background: #8c1d18; }
.pagination { display: flex; gap: 1rem; margin: 1rem 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; background: #fff; border: 1px solid #d0d5dc; padding: 1rem; border-radius: 4px; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.visually-hidden { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
@media (max-width: 40rem) {
  main { padding: 0.75rem; }
  /* .stack tables become one card per row on a phone, each cell under its column's name (data-label). */
  .table-wrap.stack { overflow-x: visible; }
  .stack table, .stack tbody, .stack tr, .stack td { display: block; }
  .stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  .stack tr { border-bottom: 2px solid #d0d5dc; padding: 0.5rem 0; }
  .stack td { border: 0; padding: 0.25rem 0.75rem; }
  .stack td[data-label]::before { content: attr(data-label); display: block; font-family: system-ui, sans-serif; font-weight: 600; color: #555d66; font-size: 0.85em; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: 0.5rem; }
}
`;

const hash = createHash('sha256').update(CONSOLE_CSS).digest('hex').slice(0, 12);

/** Where the stylesheet is served; a new content gets a new name, so browsers never keep an old one. */
export const CONSOLE_CSS_PATH = `/console/assets/console-${hash}.css`;
