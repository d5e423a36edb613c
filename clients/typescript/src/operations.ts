/**
 * The generated SDK functions the hand-written layer calls, in one place: their names are the
 * document's operationIds, so a renamed operation is a one-line change here.
 */
export {
  enqueueJob,
  enqueueJobs,
  getJob,
  cancelJob,
  listHandlers,
  listCronJobs,
  createCronJob,
  getCronJob,
  updateCronJob,
  deleteCronJob,
  triggerCronJob,
  listWebhookSubscriptions,
  createWebhookSubscription,
  getWebhookSubscription,
  updateWebhookSubscription,
  deleteWebhookSubscription,
  listWebhookAttempts,
  replayWebhookEvent,
} from './generated/sdk.gen.js';
export type { ListCronJobsData, ListWebhookSubscriptionsData, ListWebhookAttemptsData } from './generated/types.gen.js';
