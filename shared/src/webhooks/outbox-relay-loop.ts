import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { relayOutbox, type EnqueueSendWebhook } from './outbox-relay.js';

export interface OutboxRelayLoop {
  /** Runs one pass now (tests, and right after start). */
  runOnce(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The scheduler's safety net for webhooks (SPEC §8): relays whatever the API could not hand to
 * the queue right after commit (Redis down, a crash in between), every `intervalMs`. Safe on
 * every replica at once: rows are taken with SKIP LOCKED and job ids are idempotent. An outage
 * is logged once, not on every pass.
 */
export function startOutboxRelay(options: { db: Kysely<Database>; enqueue: EnqueueSendWebhook; log: Logger; intervalMs?: number }): OutboxRelayLoop {
  const { db, enqueue, log, intervalMs = 1_000 } = options;
  let lastError = '';
  let running: Promise<void> | undefined;
  let stopped = false;

  async function pass(): Promise<void> {
    try {
      // Drain in batches; a big backlog (after an outage) should not wait for many intervals.
      for (;;) {
        const { failed, ...result } = await relayOutbox(db, enqueue);
        if (result.relayed > 0) log.info(result, 'outbox relayed');
        for (const f of failed) log.error(f, 'outbox row cannot be delivered (invalid data): dropped');
        if (result.relayed < 100 || stopped) break;
      }
      if (lastError) log.info('outbox relay works again');
      lastError = '';
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message !== lastError) log.warn({ err: { message } }, 'outbox relay failed; will retry');
      lastError = message;
    }
  }
  const runOnce = () => (running ??= pass().finally(() => (running = undefined)));
  const timer = setInterval(() => void runOnce(), intervalMs);
  timer.unref();
  void runOnce();

  return {
    runOnce,
    async close() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
