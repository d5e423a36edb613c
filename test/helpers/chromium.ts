import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium with STACK.md's flags: headless as root, and no background networking (this
 * machine's closed network refuses those connections, many at a time).
 */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Every browser test's Chromium (never `playwright install`). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}
