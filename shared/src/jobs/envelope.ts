import { z } from 'zod';
import { jobTypes, type JobEnvelope, type JobType } from './types.js';

const envelopeSchema = z.object({
  type: z.enum(jobTypes as [JobType, ...JobType[]]),
  payload: z.unknown(),
  cronJobId: z.string().optional(),
});

/** Builds `job.data` (SPEC §3). */
export function makeEnvelope<P>(payload: P, type: JobType = 'adhoc', cronJobId?: string): JobEnvelope<P> {
  return cronJobId === undefined ? { type, payload } : { type, payload, cronJobId };
}

/**
 * Reads `job.data` written by anyone (our client, the scheduler, BullBoard's "add job", a
 * foreign producer). Returns an error line instead of throwing so the worker can log it.
 */
export function readEnvelope(data: unknown): { ok: true; envelope: JobEnvelope } | { ok: false; error: string } {
  const parsed = envelopeSchema.safeParse(data);
  if (parsed.success) return { ok: true, envelope: parsed.data as JobEnvelope };
  const issue = parsed.error.issues[0]!;
  return { ok: false, error: `job data is not a {type, payload} envelope: ${issue.path.join('.') || 'data'}: ${issue.message}` };
}
