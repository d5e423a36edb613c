/**
 * The generated SDK functions the hand-written layer calls, in one place: their names come from
 * the document's operationIds, so a renamed operation is a one-line change here.
 */
export {
  postApiAdminJob as enqueueJob,
  postApiAdminJobBatch as enqueueJobs,
  getApiAdminJobById as getJob,
  deleteApiAdminJobById as cancelJob,
  getApiAdminJob as listJobs,
  getApiAdminHandler as listHandlers,
  getApiAdminCronJob as listCronJobs,
  postApiAdminCronJob as createCronJob,
  getApiAdminCronJobById as getCronJob,
  patchApiAdminCronJobById as updateCronJob,
  deleteApiAdminCronJobById as deleteCronJob,
  postApiAdminCronJobByIdTrigger as triggerCronJob,
  getApiAdminWebhookSubscription as listWebhookSubscriptions,
  postApiAdminWebhookSubscription as createWebhookSubscription,
  getApiAdminWebhookSubscriptionById as getWebhookSubscription,
  patchApiAdminWebhookSubscriptionById as updateWebhookSubscription,
  deleteApiAdminWebhookSubscriptionById as deleteWebhookSubscription,
  getApiAdminWebhookSubscriptionByIdEvent as listWebhookAttempts,
  postApiAdminWebhookEventByIdReplay as replayWebhookEvent,
  postApiAdminWebhookSubscriptionByIdReplay as replayWebhookSubscription,
} from './generated/sdk.gen.js';
export type {
  GetApiAdminJobData as ListJobsData,
  GetApiAdminCronJobData as ListCronJobsData,
  GetApiAdminWebhookSubscriptionData as ListWebhookSubscriptionsData,
  GetApiAdminWebhookSubscriptionByIdEventData as ListWebhookAttemptsData,
} from './generated/types.gen.js';
