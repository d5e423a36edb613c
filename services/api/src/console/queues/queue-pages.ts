import type { ConsoleApp, ConsoleDeps } from '../console-env.js';

/** The queue page under `/console/queues` (SPEC §17). */
export function registerQueuePages(_app: ConsoleApp, _deps: ConsoleDeps): void {}
