import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export { launchChromium } from '../../../../test/helpers/chromium.js';

/**
 * A browser context for console tests. `bypassCSP` only because axe-core is injected as an inline
 * script; the pages themselves never need it (console-access.test.ts checks the header).
 */
export function consoleContext(browser: Browser, options: { credentials?: { username: string; password: string }; width?: number } = {}): Promise<BrowserContext> {
  return browser.newContext({
    bypassCSP: true,
    ...(options.credentials ? { httpCredentials: options.credentials } : {}),
    viewport: { width: options.width ?? 1280, height: 900 },
  });
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/**
 * Runs axe-core on the page and returns the serious and critical violations (empty when the page
 * passes), each as one readable line.
 *
 * @example
 * expect(await seriousA11yViolations(page)).toEqual([]);
 */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: axePath });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run()).violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

/** Saves a full-page screenshot as `test-results/console-<name>.png` and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = resolve('test-results');
  mkdirSync(dir, { recursive: true });
  const path = resolve(dir, `console-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Presses Tab until the focused element's accessible text matches `name` (at most `limit` times),
 * so a flow can be driven by keyboard alone. Throws when it is never reached.
 */
export async function tabTo(page: Page, name: RegExp, limit = 60): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const text = await page.evaluate(() => document.activeElement?.textContent?.replace(/\s+/g, ' ').trim() ?? '');
    if (name.test(text)) return;
  }
  throw new Error(`Tab never reached an element named ${name}`);
}
