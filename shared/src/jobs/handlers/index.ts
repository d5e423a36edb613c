import type { HandlerRegistry } from '../types.js';
import { echo, type EchoPayload } from './echo.js';

/**
 * The built-in registry (seed "Register in Index"). To add a handler: define it in its own
 * file with `makeJob` (or a sibling pattern), then add it to the three places below. Leaving
 * one out, or giving it another payload type, is a compile error.
 */
export const JobHandlerName = {
  echo: 'echo',
} as const;
export type JobHandlerName = (typeof JobHandlerName)[keyof typeof JobHandlerName];

export type JobPayloads = {
  echo: EchoPayload;
};

export const jobHandlers = {
  echo,
} satisfies HandlerRegistry<JobPayloads> & Record<JobHandlerName, unknown>;
