import { z } from 'zod';
import type { TraceCarrier } from '../tracing/trace-carrier.js';
import { jobTypes, type JobEnvelope, type JobType } from './types.js';

const envelopeSchema = z.object({
  type: z.enum(jobTypes as [JobType, ...JobType[]]),
  payload: z.unknown(),
  cronJobId: z.string().optional(),
  // Checked where it is used (tracing/trace-carrier.ts): a malformed one starts a new trace, it never fails the job.
  trace: z.unknown().optional(),
});

/**
 * `job.data` of a superseding job: the envelope plus its enqueue order stamp (see
 * patterns/supersede.ts). The field is optional and extra, so readers that do not know it (older
 * workers, BullBoard, `readEnvelope`) ignore it, and jobs without it (cron runs made by BullMQ's
 * job scheduler, jobs from before the stamp existed) still run.
 */
export type StampedEnvelope<P> = JobEnvelope<P> & { supersedeSeq?: number };

/**
 * Builds `job.data` (SPEC §3). `supersedeSeq` comes first so the supersede scripts can read it
 * from the stored JSON without decoding the whole payload. `trace` is the enqueue's W3C context
 * (SPEC §15), set only while tracing is on; a job scheduler's template never has one, so each
 * cron tick starts a trace of its own.
 */
export function makeEnvelope<P>(payload: P, type: JobType = 'adhoc', cronJobId?: string, supersedeSeq?: number, trace?: TraceCarrier): StampedEnvelope<P> {
  const envelope: StampedEnvelope<P> = supersedeSeq === undefined ? { type, payload } : { supersedeSeq, type, payload };
  if (cronJobId !== undefined) envelope.cronJobId = cronJobId;
  if (trace !== undefined) envelope.trace = trace;
  return envelope;
}

/** The enqueue order stamp of a superseding job's `job.data`, or undefined if it has none. */
export function supersedeSeqOf(data: unknown): number | undefined {
  const seq = typeof data === 'object' && data !== null ? (data as { supersedeSeq?: unknown }).supersedeSeq : undefined;
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
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
