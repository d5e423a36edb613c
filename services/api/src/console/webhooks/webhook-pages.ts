import type { ConsoleApp, ConsoleDeps } from '../console-env.js';

/**
 * The webhook subscription pages under `/console/webhooks` (SPEC §17). A stub until they are
 * built: registers nothing, so `/console/webhooks` answers the console's 404 page.
 */
export function registerWebhookPages(_app: ConsoleApp, _deps: ConsoleDeps): void {}
