import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { carrierOf, contextOf, type TraceCarrier } from './trace-carrier.js';
import { jobsTracer, tracingOn } from './tracing-state.js';

/**
 * Where a job client or worker sends its spans: the provider it was given, or the global one.
 * `on()` is read per call so that a provider registered after the client was made counts.
 */
export interface JobTracing {
  readonly tracer: Tracer;
  on(): boolean;
}

/** @example const tracing = jobTracing(options.tracerProvider); if (tracing.on()) … */
export function jobTracing(provider?: TracerProvider): JobTracing {
  return { tracer: jobsTracer(provider), on: () => tracingOn(provider) };
}

// OpenTelemetry semantic conventions 1.45 (messaging): https://opentelemetry.io/docs/specs/semconv/messaging/
const MESSAGING_SYSTEM = { 'messaging.system': 'bullmq' } as const;

/** What an enqueue span says about the job(s) it adds. */
export interface ProducerInfo {
  queue: string;
  /** The handler of a single enqueue; a batch span names none. */
  handler?: string;
  type?: string;
  /** Jobs added under this span (batch enqueue). */
  count?: number;
}

/**
 * Runs `add` under a PRODUCER span `send <queue>`, child of the active context (the API's request
 * span, a relayed outbox row's context, or none), and hands it the span's W3C context to store
 * with the job(s). The span gets `messaging.message.id` from the id(s) `add` returns (one id;
 * a batch records `messaging.batch.message_count` instead) and an error status if it throws.
 */
export function withProducerSpan<T extends string | string[]>(tracer: Tracer, info: ProducerInfo, add: (carrier: TraceCarrier | undefined) => Promise<T>): Promise<T> {
  const attributes: Attributes = {
    ...MESSAGING_SYSTEM,
    'messaging.operation.type': 'send',
    'messaging.operation.name': info.count === undefined ? 'add' : 'addBulk',
    'messaging.destination.name': info.queue,
  };
  if (info.handler !== undefined) attributes['jobs.handler'] = info.handler;
  if (info.type !== undefined) attributes['jobs.type'] = info.type;
  if (info.count !== undefined) attributes['messaging.batch.message_count'] = info.count;
  const span = tracer.startSpan(`send ${info.queue}`, { kind: SpanKind.PRODUCER, attributes });
  const ctx = trace.setSpan(context.active(), span);
  return context.with(ctx, () => add(carrierOf(ctx))).then(
    (ids) => {
      if (typeof ids === 'string') span.setAttribute('messaging.message.id', ids);
      span.end();
      return ids;
    },
    (err: unknown) => {
      endWithError(span, err);
      throw err;
    },
  );
}

/** How a run ended: the labels of `jobs_processed_total` (job-metrics.ts). */
export type RunOutcome = 'completed' | 'superseded' | 'cancelled' | 'failed' | 'retrying' | 'requeued';

/** A run's CONSUMER span and the context the handler runs in. */
export interface RunSpan {
  readonly context: Context;
  end(outcome: RunOutcome, err?: unknown): void;
}

export interface RunInfo {
  queue: string;
  /** The id callers see (`<queue>~<id>` off the default queue). */
  jobId: string;
  handler: string;
  type: string;
  attempt: number;
  maxAttempts: number;
  /** The producer's context stored with the job; none (a cron tick) starts a trace of its own. */
  carrier: unknown;
}

/**
 * Starts the CONSUMER span `process <queue>` of one run, the child of the context stored at
 * enqueue, so every attempt of a job (retries included) sits under its producer span. The
 * caller runs the handler inside `context` and calls `end` with the outcome.
 */
export function startRunSpan(tracer: Tracer, info: RunInfo): RunSpan {
  const parent = contextOf(info.carrier);
  const span = tracer.startSpan(
    `process ${info.queue}`,
    {
      kind: SpanKind.CONSUMER,
      // Written out, not spread from a shared object: this runs once per job.
      attributes: {
        'messaging.system': 'bullmq',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': info.queue,
        'messaging.message.id': info.jobId,
        'jobs.handler': info.handler,
        'jobs.type': info.type,
        'jobs.attempt': info.attempt,
        'jobs.max_attempts': info.maxAttempts,
      },
    },
    parent,
  );
  return {
    context: trace.setSpan(parent, span),
    end(outcome, err) {
      span.setAttribute('jobs.outcome', outcome);
      if (outcome === 'failed' || outcome === 'retrying') endWithError(span, err);
      else span.end();
    },
  };
}

function endWithError(span: Span, err: unknown): void {
  if (err instanceof Error) span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  span.end();
}
