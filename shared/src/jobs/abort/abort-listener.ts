import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisKeys } from '../../redis/namespace.js';
import { parseAbortMessage, type AbortMessage } from './abort-reason.js';

/** How long an abort for a job that is not (yet) running here is remembered. */
const PENDING_TTL_MS = 30_000;

export interface AbortListener {
  /** Call when a job starts here; returns an abort that arrived before it started, if any. */
  jobStarted(jobId: string): AbortMessage | undefined;
  jobEnded(jobId: string): void;
  /** The abort that was delivered to a job running here, if one was. */
  received(jobId: string): AbortMessage | undefined;
  /** Resolves once subscribed: a worker must not take jobs before it can hear aborts. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * One subscriber connection per worker process, however many jobs run: a message on the
 * abort channel aborts the named job through BullMQ's own `worker.cancelJob` if it runs here.
 * An abort for a job that is about to start here is kept briefly, so the start/abort race is
 * closed. After a reconnect, the flag keys of the running jobs are read once (MGET), catching
 * messages sent while disconnected. No polling: Redis traffic does not grow with running jobs.
 */
export function createAbortListener(options: {
  subscriber: Redis;
  redis: Redis;
  keys: RedisKeys;
  log: Logger;
  abort: (message: AbortMessage) => void;
}): AbortListener {
  const { subscriber, redis, keys, log, abort } = options;
  const running = new Map<string, AbortMessage | undefined>();
  const pending = new Map<string, { message: AbortMessage; at: number }>();
  let disconnected = false;

  const deliver = (message: AbortMessage) => {
    if (running.has(message.jobId)) {
      if (!running.get(message.jobId)) {
        running.set(message.jobId, message);
        abort(message);
      }
      return;
    }
    const now = Date.now();
    for (const [id, entry] of pending) if (now - entry.at > PENDING_TTL_MS) pending.delete(id);
    pending.set(message.jobId, { message, at: now });
  };

  subscriber.on('message', (channel: string, raw: string) => {
    if (channel !== keys.abortChannel) return;
    const message = parseAbortMessage(raw);
    if (message) deliver(message);
    else log.warn({ raw: raw.slice(0, 200) }, 'ignored a malformed abort message');
  });
  subscriber.on('close', () => (disconnected = true));
  subscriber.on('ready', () => {
    if (!disconnected) return;
    disconnected = false;
    void sweep();
  });
  // ioredis re-subscribes by itself after a reconnect.
  const ready = subscriber.subscribe(keys.abortChannel).then(() => undefined);

  async function sweep(): Promise<void> {
    const ids = [...running.keys()];
    if (!ids.length) return;
    try {
      const flags = await redis.mget(ids.map((id) => keys.abortFlag(id)));
      flags.forEach((raw) => {
        const message = raw ? parseAbortMessage(raw) : undefined;
        if (message) deliver(message);
      });
    } catch (err) {
      log.warn({ err }, 'abort flag sweep failed');
    }
  }

  return {
    ready,
    jobStarted(jobId) {
      const entry = pending.get(jobId);
      pending.delete(jobId);
      running.set(jobId, entry?.message);
      return entry?.message;
    },
    received(jobId) {
      return running.get(jobId);
    },
    jobEnded(jobId) {
      running.delete(jobId);
    },
    async close() {
      await ready.catch(() => undefined);
      await subscriber.unsubscribe().catch(() => undefined);
    },
  };
}
