/**
 * Where a `sendWebhook` delivery spends its wall time, measured from outside the handler (nothing
 * in shared/ is changed):
 * - `select` / `insert` / `update`: a Kysely plugin times each query from compile to result
 *   (pool wait + round trip + the event-loop wait before its result is handled);
 * - `sign`: the signing key's `privateKey` is a getter, read by `signWebhook` as it hands the
 *   signature to the thread pool; the wrapped `http.post` is called right after it resolves, so
 *   the gap is the RSA signature (+ the wait for a pool thread and for the event loop);
 * - `post`: the wrapped `http.post` call, first byte out to body read;
 * - `job`: BullMQ's 'active' to 'completed' of the same job (the handler and the library around it).
 */
import { performance } from 'node:perf_hooks';
import type { Job, Worker } from 'bullmq';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import type { SigningKey, WebhookRuntime } from '../../shared/src/webhooks/index.js';

export const STAGES = ['select', 'sign', 'post', 'insert', 'update', 'job'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageTimer {
  /** Add to the worker's db with `db.withPlugin(timer.plugin)`. */
  readonly plugin: KyselyPlugin;
  /** Keys whose `privateKey` read marks the start of signing. */
  keys(keys: readonly SigningKey[]): SigningKey[];
  /** The runtime's http client with `post` timed. */
  http(http: WebhookRuntime['http']): WebhookRuntime['http'];
  /** Times each job from 'active' to 'completed'. */
  watch(worker: Worker): void;
  /** Every sample in ms, per stage. */
  readonly samples: Record<Stage, number[]>;
}

const KIND: Record<string, Stage> = { SelectQueryNode: 'select', InsertQueryNode: 'insert', UpdateQueryNode: 'update' };

export function createStageTimer(): StageTimer {
  const samples = Object.fromEntries(STAGES.map((s) => [s, [] as number[]])) as Record<Stage, number[]>;
  const started = new WeakMap<object, { stage: Stage; at: number }>();
  /** Set when a key is read; the http.post right after closes sign. */
  let signStart: number | undefined;

  const plugin: KyselyPlugin = {
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      const stage = KIND[args.node.kind];
      if (stage) started.set(args.queryId, { stage, at: performance.now() });
      return args.node;
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      const start = started.get(args.queryId);
      if (start) {
        samples[start.stage].push(performance.now() - start.at);
      }
      return args.result;
    },
  };

  const jobStart = new Map<string, number>();
  return {
    plugin,
    samples,
    keys: (keys) =>
      keys.map((key) => ({
        kid: key.kid,
        publicJwk: key.publicJwk,
        get privateKey() {
          signStart = performance.now();
          return key.privateKey;
        },
      })),
    http: (http) => ({
      async post(url, body, headers) {
        const now = performance.now();
        if (signStart !== undefined) samples.sign.push(now - signStart);
        signStart = undefined;
        const result = await http.post(url, body, headers);
        samples.post.push(performance.now() - now);
        return result;
      },
    }),
    watch(worker) {
      worker.on('active', (job: Job) => jobStart.set(job.id!, performance.now()));
      worker.on('completed', (job: Job) => {
        const at = jobStart.get(job.id!);
        if (at !== undefined) samples.job.push(performance.now() - at);
        jobStart.delete(job.id!);
      });
    },
  };
}
