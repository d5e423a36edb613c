import type { ConsoleApp, ConsoleDeps } from '../console-env.js';
import { registerDeliveryRoutes } from './delivery-routes.js';
import { registerSubscriptionRoutes } from './subscription-routes.js';

/**
 * The webhook subscription pages under `/console/webhooks` (SPEC §17): the subscriptions (list
 * with success rate and last failure, create, edit, enable/disable, replay of skipped events,
 * signing secret, delete) and each one's delivery log (filters, an event's attempts together,
 * attempt details, replay of one event).
 */
export function registerWebhookPages(app: ConsoleApp, deps: ConsoleDeps): void {
  registerSubscriptionRoutes(app, deps);
  registerDeliveryRoutes(app, deps);
}
