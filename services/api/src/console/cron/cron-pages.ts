import type { ConsoleApp, ConsoleDeps } from '../console-env.js';

/** The cron job pages under `/console/cron` (SPEC §17). */
export function registerCronPages(_app: ConsoleApp, _deps: ConsoleDeps): void {}
