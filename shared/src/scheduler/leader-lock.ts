import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { extendLock, newLockToken, releaseLock, tryAcquireLock } from '../redis/token-lock.js';

/** Why a leader stopped leading. */
export type DeposedReason =
  /** A renewal found the lock gone or held by another process. */
  | 'lost'
  /** No renewal succeeded for (almost) a whole TTL, so another process may hold it by now. */
  | 'expired'
  /** `stop()` released it. */
  | 'released';

export interface LeaderLockTimings {
  /** Lock lifetime: how long a dead leader blocks a standby (default 10 s). */
  ttlMs?: number;
  /** How often the leader extends the lock (default 3 s: two renewals may fail before it lapses). */
  renewMs?: number;
  /** How often a standby tries to take the lock (default 2 s). */
  retryMs?: number;
}

export interface LeaderLockOptions extends LeaderLockTimings {
  /** A fail-fast connection of its own: renewals must not queue behind bulk writes. */
  redis: Redis;
  key: string;
  /** Published to when the leader releases the lock, so standbys can take over at once. */
  releasedChannel?: string;
  onElected(): void;
  onDeposed(reason: DeposedReason): void;
  log?: Logger;
}

export interface LeaderLock {
  /** True while this process holds the lock and its lease has not run out. */
  readonly isLeader: boolean;
  /** The token written under the key while leading (`host/pid/uuid`). */
  readonly token: string | undefined;
  /** Starts trying to take the lock. */
  start(): void;
  /** A standby tries now instead of at its next interval (e.g. the leader just released). */
  tryNow(): void;
  /** Stops trying; a leader is deposed (`released`), deletes the lock and announces it. */
  stop(): Promise<void>;
}

const DEFAULTS = { ttlMs: 10_000, renewMs: 3_000, retryMs: 2_000 };

/**
 * Leader election over one Redis key: `SET NX PX` with a token, extended by compare-and-set
 * while held. The leader treats its lease as running out a safety margin before the TTL
 * counted from when the last successful renewal was sent, and is deposed then (or at once
 * when a renewal finds the lock gone) — so it stops acting before a standby can take over.
 *
 * @example
 * const lock = createLeaderLock({ redis, key: keys.schedulerLeader, onElected: startSyncing, onDeposed: stopSyncing });
 * lock.start();
 * process.on('SIGTERM', () => lock.stop());
 */
export function createLeaderLock(options: LeaderLockOptions): LeaderLock {
  const { redis, key, log } = options;
  const ttlMs = options.ttlMs ?? DEFAULTS.ttlMs;
  const renewMs = options.renewMs ?? Math.min(DEFAULTS.renewMs, Math.floor(ttlMs / 3));
  const retryMs = options.retryMs ?? Math.min(DEFAULTS.retryMs, ttlMs);
  if (!(renewMs > 0 && renewMs < ttlMs)) throw new Error(`leader lock: renewMs (${renewMs}) must be between 0 and ttlMs (${ttlMs})`);
  // Timers fire late under load; stop leading this much before the lock could lapse in Redis.
  const marginMs = Math.max(Math.floor(ttlMs / 10), Math.min(500, Math.floor(ttlMs / 4)));

  let running = false;
  let token: string | undefined;
  /** performance.now() after which the lease may have lapsed. */
  let validUntil = 0;
  let renewTimer: NodeJS.Timeout | undefined;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let attempting = false;
  /** `tryNow()` came while an attempt was in flight: that attempt may have seen the lock still held. */
  let tryAgainAtOnce = false;
  let renewFailures = 0;
  let waitingForReady = false;

  const leading = () => token !== undefined && performance.now() < validUntil;

  function clearTimers(): void {
    clearTimeout(renewTimer);
    clearTimeout(deadlineTimer);
    clearTimeout(retryTimer);
    renewTimer = deadlineTimer = retryTimer = undefined;
  }

  function lease(sentAt: number): void {
    validUntil = sentAt + ttlMs - marginMs;
    clearTimeout(deadlineTimer);
    deadlineTimer = setTimeout(() => depose('expired'), Math.max(0, validUntil - performance.now()));
  }

  function depose(reason: DeposedReason): void {
    if (token === undefined) return;
    token = undefined;
    validUntil = 0;
    clearTimers();
    if (reason !== 'released') log?.warn({ reason }, 'leadership lost: stopped acting');
    options.onDeposed(reason);
    if (running) scheduleAttempt(retryMs);
  }

  function scheduleAttempt(delayMs: number): void {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => void attempt(), delayMs);
  }

  async function attempt(): Promise<void> {
    if (!running || token !== undefined || attempting) return;
    if (redis.status !== 'ready' && !waitingForReady) {
      // A fail-fast connection rejects until it is up: try again as soon as it is, not a retry later.
      waitingForReady = true;
      redis.once('ready', () => {
        waitingForReady = false;
        void attempt();
      });
    }
    attempting = true;
    tryAgainAtOnce = false;
    const candidate = newLockToken();
    const sentAt = performance.now();
    try {
      if (await tryAcquireLock(redis, key, candidate, ttlMs)) {
        if (!running) {
          await releaseLock(redis, key, candidate).catch(() => undefined);
          return;
        }
        token = candidate;
        renewFailures = 0;
        lease(sentAt);
        scheduleRenewal();
        log?.info({ holder: token }, 'elected leader');
        options.onElected();
        return;
      }
    } catch (err) {
      log?.debug({ err }, 'leader lock: attempt failed (Redis unreachable?)');
    } finally {
      attempting = false;
    }
    if (running && token === undefined) scheduleAttempt(tryAgainAtOnce ? 0 : retryMs);
  }

  function scheduleRenewal(): void {
    renewTimer = setTimeout(() => void renew(), renewMs);
  }

  async function renew(): Promise<void> {
    const held = token;
    if (held === undefined) return;
    const sentAt = performance.now();
    try {
      const ok = await extendLock(redis, key, held, ttlMs);
      if (token !== held) return; // deposed meanwhile
      if (!ok) return depose('lost');
      if (renewFailures > 0) log?.info('leader lock renewed again');
      renewFailures = 0;
      lease(sentAt);
    } catch (err) {
      if (token !== held) return;
      if (renewFailures++ === 0) log?.warn({ err }, 'leader lock renewal failed; retrying until the lease runs out');
    }
    if (token === held) scheduleRenewal();
  }

  return {
    get isLeader() {
      return leading();
    },
    get token() {
      return token;
    },
    start() {
      if (running) return;
      running = true;
      void attempt();
    },
    tryNow() {
      if (!running || token !== undefined) return;
      // A release announced while an attempt is in flight must not wait out a whole retry interval.
      if (attempting) tryAgainAtOnce = true;
      else void attempt();
    },
    async stop() {
      running = false;
      const held = token;
      depose('released');
      clearTimers();
      if (held === undefined) return;
      try {
        if (await releaseLock(redis, key, held)) {
          log?.info('leader lock released');
          if (options.releasedChannel) await redis.publish(options.releasedChannel, held);
        }
      } catch (err) {
        log?.warn({ err }, 'could not release the leader lock; it expires by itself');
      }
    },
  };
}
