import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { parseCronChange } from '../cron/cron-changes.js';
import type { Database } from '../db/schema.js';
import { jobHandlers } from '../jobs/handlers/index.js';
import type { HandlerMap } from '../jobs/types.js';
import { createLogger, scopedLogger } from '../logger/logger.js';
import { closeRedis, createRedis } from '../redis/connection.js';
import { queuePrefix, redisKeys } from '../redis/namespace.js';
import { isClusterUrl } from '../redis/redis-url.js';
import { QUEUE_NAME_PATTERN, queueNamesOf, queueOf } from '../jobs/queues.js';
import { builtinSchedules, type BuiltinSchedule } from './builtin-schedules.js';
import { createLeaderLock, type LeaderLockTimings } from './leader-lock.js';
import type { PassResult } from './reconcile.js';
import { createFailureLog } from './failure-log.js';
import { SchedulerIndex } from './scheduler-index.js';
import { createSchedulerMetrics, noSchedulerMetrics, type PassKind, type PassOutcome } from './scheduler-metrics.js';
import { runChangePass, runFullPass, type PassDeps, type PassRun } from './sync-passes.js';

export interface CronSchedulerOptions {
  db: Kysely<Database>;
  redisUrl?: string;
  /** BullMQ key prefix (default `bull`; see `queuePrefix` for Redis Cluster). */
  prefix?: string;
  /** The default queue (handlers without a `queue` option); the leader lock and channels live under it. */
  queueName?: string;
  /** Handler names and payload schemas rows are checked against (default: the built-in `jobHandlers`). */
  handlers?: HandlerMap;
  /** Period of the full pass that catches rows edited in SQL (default 60 s). */
  reconcileMs?: number;
  /** Leader lock TTL, renewal and standby retry (defaults 10 s / 3 s / 2 s). */
  leader?: LeaderLockTimings;
  /** Scheduler writes in flight at once (default 64). */
  concurrency?: number;
  logger?: Logger;
  /** Where to put the `scheduler_*` series; none if omitted. */
  metrics?: Registry;
  /**
   * Jobs kept on a schedule without a `cron_job` row (default: {@link builtinSchedules}, the
   * daily webhook retention); `[]` for none. A schedule whose handler is not in `handlers` is left out.
   */
  builtinSchedules?: readonly BuiltinSchedule[];
  /** Called after every pass (tests, diagnostics). */
  onPass?: (report: PassReport) => void;
  /** Called when this process becomes leader (true) or stops being it (false). */
  onLeaderChange?: (leader: boolean) => void;
}

export interface PassReport {
  kind: PassKind;
  outcome: PassOutcome;
  /** Undefined when the pass failed as a whole (`outcome: 'error'`). */
  result: PassResult | undefined;
  durationMs: number;
  at: Date;
  error?: string;
}

export interface CronScheduler {
  /** True while this process holds the leader lock and acts on it. */
  readonly isLeader: boolean;
  /** The last full pass (this process, any leadership term). */
  readonly lastFullPass: PassReport | undefined;
  /** Resolves once subscribed to change messages and competing for leadership. */
  waitUntilReady(): Promise<void>;
  /** Runs a full pass now and resolves with its report; rejects if this process is not the leader. */
  reconcileNow(): Promise<PassReport>;
  /** Stops acting, releases the lock (a standby takes over at once) and closes its connections. */
  close(): Promise<void>;
}

const DEFAULTS = { redisUrl: 'redis://127.0.0.1:6379', prefix: 'bull', queueName: 'jobs', reconcileMs: 60_000, concurrency: 64 };
/** A change pass reads at most this many rows at once. */
const CHANGE_BATCH = 500;
/** A failed full pass is retried after 1 s, doubling up to `reconcileMs`. */
const FIRST_RETRY_MS = 1_000;
/** How long `close()` waits for the writes already in flight. */
const CLOSE_WAIT_MS = 5_000;

/**
 * Keeps BullMQ job schedulers in line with the enabled `cron_job` rows (SPEC §5). Every
 * process competes for the leader lock; only the leader writes. It runs a full pass when
 * elected, every `reconcileMs`, and after a reconnect; in between, a change message
 * (`publishCronChanged`) syncs just that row within milliseconds. Passes run one at a time,
 * so an older read can never overwrite a newer one.
 *
 * @example
 * const scheduler = startCronScheduler({ db, redisUrl, prefix: 'bull', queueName: 'jobs', metrics });
 * process.on('SIGTERM', () => scheduler.close());
 */
export function startCronScheduler(options: CronSchedulerOptions): CronScheduler {
  const o = { ...DEFAULTS, ...definedOnly(options) };
  const log = scopedLogger(options.logger ?? createLogger(), 'scheduler');
  const cluster = isClusterUrl(o.redisUrl);
  const handlers: HandlerMap = options.handlers ?? jobHandlers;
  const keys = redisKeys(queuePrefix(o.prefix, o.queueName, cluster), o.queueName);
  const metrics = options.metrics ? createSchedulerMetrics(options.metrics) : noSchedulerMetrics;
  const failureLog = createFailureLog(log, metrics);
  // Three connections: BullMQ writes, the lock (renewals never queue behind 10k writes), pub/sub.
  const redis = createRedis(o.redisUrl, 'producer');
  const lockRedis = createRedis(o.redisUrl, 'producer');
  const subscriber = createRedis(o.redisUrl, 'subscriber');
  // A cron row's scheduler goes on its handler's queue (SPEC §12): one Queue per queue of the
  // registry, plus any queue schedulers were put on before that the registry no longer names.
  const openQueue = (name: string) => {
    const queue = new Queue(name, { connection: redis, prefix: queuePrefix(o.prefix, name, cluster) });
    queue.on('error', () => undefined); // a pass that fails logs it
    return queue;
  };
  const registryQueues = queueNamesOf(handlers, o.queueName);
  const queues = new Map(registryQueues.map((name) => [name, openQueue(name)] as const));
  /** Before a full pass: note the registry's queues, and read the queues it left too. */
  async function withLeftQueues(): Promise<void> {
    await redis.sadd(keys.schedulerQueues, ...registryQueues);
    for (const name of await redis.smembers(keys.schedulerQueues)) if (!queues.has(name) && QUEUE_NAME_PATTERN.test(name)) queues.set(name, openQueue(name));
  }
  /** After a full pass: a queue the registry left that holds no scheduler any more is forgotten. */
  async function dropEmptyLeftQueues(): Promise<void> {
    for (const [name, queue] of queues) {
      if (registryQueues.includes(name) || (await queue.getJobSchedulers(0, 0)).length > 0) continue;
      await redis.srem(keys.schedulerQueues, name);
      queues.delete(name);
      await queue.close().catch(() => undefined);
    }
  }
  const handlerQueue = (handler: string) => (Object.hasOwn(handlers, handler) ? queueOf(handlers[handler]!, o.queueName) : o.queueName);

  let stopping = false;
  /** Set while leading; aborted the moment leadership is lost. */
  let term: AbortController | undefined;
  let fullRequested = false;
  const changes = new Map<string, Set<string>>();
  let draining: Promise<void> | undefined;
  let periodic: NodeJS.Timeout | undefined;
  let retryMs = FIRST_RETRY_MS;
  let lastFullPass: PassReport | undefined;
  type Waiter = { resolve(r: PassReport): void; reject(e: Error): void };
  /** Callers of reconcileNow() waiting for the next full pass to start, and for the one running. */
  const waiting: Waiter[] = [];
  let served: Waiter[] = [];

  const lock = createLeaderLock({
    redis: lockRedis,
    key: keys.schedulerLeader,
    releasedChannel: keys.schedulerLeaderReleased,
    ...o.leader,
    log,
    onElected() {
      if (stopping) return;
      term = new AbortController();
      metrics.setLeader(true);
      options.onLeaderChange?.(true);
      requestFull();
    },
    onDeposed() {
      stepDown('leadership lost');
    },
  });
  const leading = () => !stopping && term !== undefined && !term.signal.aborted && lock.isLeader;
  const index = new SchedulerIndex();
  /** What a pass needs; it may write only while the term it started in lasts. */
  const depsForTerm = (): PassDeps => {
    const own = term;
    return {
      db: options.db,
      queues,
      queueOf: handlerQueue,
      handlers,
      index,
      concurrency: o.concurrency,
      canWrite: () => term === own && leading(),
      builtins: options.builtinSchedules ?? builtinSchedules,
    };
  };

  function stepDown(reason: string): void {
    if (!term) return;
    term.abort();
    term = undefined;
    clearTimeout(periodic);
    fullRequested = false;
    changes.clear();
    metrics.setLeader(false);
    for (const w of [...waiting.splice(0), ...served.splice(0)]) w.reject(new Error(`no full pass: ${reason}`));
    options.onLeaderChange?.(false);
  }

  function requestFull(): void {
    fullRequested = true;
    kick();
  }

  function kick(): void {
    if (draining || !leading()) return;
    draining = drain().finally(() => {
      draining = undefined;
      if (leading() && (fullRequested || changes.size > 0)) kick();
    });
  }

  async function drain(): Promise<void> {
    while (leading() && (fullRequested || changes.size > 0)) {
      if (fullRequested) {
        fullRequested = false;
        changes.clear(); // the full pass reads every row after this point
        served = waiting.splice(0);
        const report = await pass('full', async () => {
          await withLeftQueues();
          const run = await runFullPass(depsForTerm());
          if (!run.interrupted) await dropEmptyLeftQueues();
          return run;
        });
        for (const w of served.splice(0)) (report ? w.resolve(report) : w.reject(new Error('full pass interrupted: leadership lost')));
      } else {
        const batch = new Map<string, Set<string>>();
        for (const [id, jobIds] of changes) {
          if (batch.size >= CHANGE_BATCH) break;
          batch.set(id, jobIds);
          changes.delete(id);
        }
        await pass('change', () => runChangePass(depsForTerm(), batch));
      }
    }
  }

  async function pass(kind: PassKind, run: () => Promise<PassRun>): Promise<PassReport | undefined> {
    const started = performance.now();
    let report: PassReport;
    try {
      const done = await run();
      const durationMs = Math.round(performance.now() - started);
      if (done.interrupted) {
        log.warn({ kind, ...done.result, durationMs }, 'pass interrupted: leadership lost');
        return undefined;
      }
      failureLog.report(done.failures, kind === 'full');
      report = { kind, outcome: done.result.failed > 0 ? 'partial' : 'ok', result: done.result, durationMs, at: new Date() };
      if (done.builtins && done.builtins.upserted.length + done.builtins.removed.length > 0) log.info(done.builtins, 'built-in schedules written');
      const quiet = kind === 'change' && done.result.upserted + done.result.removed + done.result.failed === 0;
      log[quiet ? 'debug' : 'info']({ kind, ...done.result, durationMs }, 'reconcile pass');
      if (kind === 'full') retryMs = FIRST_RETRY_MS;
    } catch (err) {
      const durationMs = Math.round(performance.now() - started);
      const error = err instanceof Error ? err.message || err.name : String(err);
      report = { kind, outcome: 'error', result: undefined, durationMs, at: new Date(), error };
      log.error({ err, kind, durationMs }, 'reconcile pass failed; will retry');
    }
    metrics.pass(kind, report.outcome, report.durationMs / 1000, report.result);
    options.onPass?.(report);
    if (kind === 'full') {
      lastFullPass = report;
      armPeriodic(report.outcome === 'error' ? nextRetry() : o.reconcileMs);
    } else if (report.outcome === 'error') {
      // The rows named by the lost batch are caught by a full pass soon after.
      armPeriodic(nextRetry());
    }
    return report;
  }

  function nextRetry(): number {
    const wait = Math.min(retryMs, o.reconcileMs);
    retryMs = Math.min(retryMs * 2, o.reconcileMs);
    return wait;
  }

  function armPeriodic(ms: number): void {
    clearTimeout(periodic);
    if (leading()) periodic = setTimeout(requestFull, ms);
  }

  subscriber.on('message', (channel: string, text: string) => {
    if (stopping) return;
    if (channel === keys.schedulerLeaderReleased) return lock.tryNow();
    if (!leading()) return; // a standby ignores changes; the leader's pass covers them
    const change = parseCronChange(text);
    if (!change) return log.debug({ text: text.slice(0, 200) }, 'ignored a malformed cron change message');
    let jobIds = changes.get(change.cronJobId);
    if (!jobIds) changes.set(change.cronJobId, (jobIds = new Set()));
    if (change.jobId !== undefined) jobIds.add(change.jobId);
    kick();
  });
  let subscribedOnce = false;
  subscriber.on('ready', () => {
    // Messages sent while the subscriber was away are lost: catch up with a full pass.
    if (subscribedOnce && leading()) requestFull();
  });
  // Compete for leadership only once subscribed (no change after the first pass is missed) and
  // once BullMQ's connection is up (the first pass would fail and wait for its retry otherwise).
  const ready = Promise.all([subscriber.subscribe(keys.cronChangedChannel, keys.schedulerLeaderReleased), ...[...queues.values()].map((q) => q.waitUntilReady())]).then(() => {
    subscribedOnce = true;
    if (!stopping) lock.start();
  });
  ready.catch(() => undefined);

  let closing: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    stopping = true;
    term?.abort(); // no new write from here on
    const inFlight = draining;
    if (inFlight) await Promise.race([inFlight, new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
    await lock.stop(); // deposes (stepDown) and releases, announcing it to standbys
    stepDown('closing');
    clearTimeout(periodic);
    await Promise.all([...queues.values()].map((q) => q.close().catch(() => undefined)));
    await Promise.all([closeRedis(subscriber), closeRedis(lockRedis), closeRedis(redis)]);
  }

  return {
    get isLeader() {
      return leading();
    },
    get lastFullPass() {
      return lastFullPass;
    },
    waitUntilReady: () => ready,
    reconcileNow() {
      if (!leading()) return Promise.reject(new Error('not the scheduler leader'));
      const done = new Promise<PassReport>((resolve, reject) => waiting.push({ resolve, reject }));
      requestFull();
      return done;
    },
    close: () => (closing ??= shutdown()),
  };
}

/** Drops `undefined` values so they do not override defaults in a spread. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
