import { z } from 'zod';
import { makeJob } from '../make-job.js';

export const echoPayloadSchema = z.object({
  message: z.string().max(10_000),
  /** Optional pretend work, so a run can be watched in BullBoard or cancelled. */
  delayMs: z.number().int().min(0).max(600_000).optional(),
});
export type EchoPayload = z.infer<typeof echoPayloadSchema>;

/**
 * A diagnostic handler: logs its message and returns it. Handy to check a deployment end to end
 * (`POST /api/admin/job {"handler":"echo","payload":{"message":"hi"}}`).
 */
export const echo = makeJob<EchoPayload>(
  async (ctx, payload) => {
    if (payload.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, payload.delayMs);
        ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
    ctx.log.info({ message: payload.message }, 'echo');
    return { message: payload.message };
  },
  { schema: echoPayloadSchema, attempts: 1 },
);
