/**
 * Every failure of a call is a {@link JobsApiError}: the API's problem+json (RFC 9457) fields when
 * it answered, or `status: 0` with a client-side `type` when it could not be reached
 * ({@link JobsNetworkError}) or a wait ran out ({@link JobsWaitTimeoutError}). An abort through the
 * caller's own `AbortSignal` is not an API error: it rejects with the signal's reason, as `fetch` does.
 */

/** A problem+json body as the API sends it; extension members (`errors`, `knownHandlers`, …) are kept. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  /** The first wrong field, e.g. `body.payload.message`. */
  field?: string;
  [extension: string]: unknown;
}

export interface JobsApiErrorFields {
  status: number;
  type: string;
  title: string;
  detail?: string | undefined;
  field?: string | undefined;
  requestId?: string | undefined;
  problem?: Problem | undefined;
  cause?: unknown;
}

/** An error answer of the API (`status` ≥ 400), or a client-side failure with `status: 0`. */
export class JobsApiError extends Error {
  override name = 'JobsApiError';
  /** HTTP status; 0 when no answer came (network error, wait timeout). */
  readonly status: number;
  /** Problem type URI: `about:blank` for plain HTTP errors, `urn:jobs:client:*` for client-side ones. */
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  /** The request field that is wrong (`body.payload.message`), when the API names one. */
  readonly field: string | undefined;
  /** The API's `X-Request-Id` of the failed request: quote it when asking about a failure. */
  readonly requestId: string | undefined;
  /** The whole problem document, extension members included. */
  readonly problem: Problem;

  constructor(fields: JobsApiErrorFields) {
    super(fields.detail ? `${fields.title}: ${fields.detail}` : fields.title, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.status = fields.status;
    this.type = fields.type;
    this.title = fields.title;
    this.detail = fields.detail;
    this.field = fields.field;
    this.requestId = fields.requestId;
    this.problem = fields.problem ?? { type: fields.type, title: fields.title, status: fields.status, detail: fields.detail, field: fields.field };
  }

  /** From an error response and its parsed body (problem+json, other JSON, or text). */
  static fromResponse(response: Response, body: unknown): JobsApiError {
    const problem: Problem = isRecord(body) ? body : { detail: typeof body === 'string' && body ? body.slice(0, 500) : undefined };
    return new JobsApiError({
      status: response.status,
      type: typeof problem.type === 'string' ? problem.type : 'about:blank',
      title: typeof problem.title === 'string' ? problem.title : response.statusText || `HTTP ${response.status}`,
      detail: typeof problem.detail === 'string' ? problem.detail : undefined,
      field: typeof problem.field === 'string' ? problem.field : undefined,
      requestId: response.headers.get('x-request-id') ?? undefined,
      problem: { ...problem, status: response.status },
    });
  }

  /** A plain object for logs and `--json` output (an Error's own fields are not enumerable). */
  toJSON(): Problem & { requestId?: string } {
    return { ...this.problem, type: this.type, title: this.title, status: this.status, ...(this.requestId ? { requestId: this.requestId } : {}) };
  }
}

/** The API could not be reached (DNS, refused, reset, TLS…) after every retry. `status` is 0. */
export class JobsNetworkError extends JobsApiError {
  override name = 'JobsNetworkError';
  constructor(cause: unknown, url?: string) {
    const reason = cause instanceof Error ? (cause.cause instanceof Error ? `${cause.message} (${cause.cause.message})` : cause.message) : String(cause);
    super({ status: 0, type: 'urn:jobs:client:network-error', title: 'Network error', detail: url ? `${url}: ${reason}` : reason, cause });
  }
}

/** `waitForJob` reached its `timeoutMs` before the job finished. `status` is 0. */
export class JobsWaitTimeoutError extends JobsApiError {
  override name = 'JobsWaitTimeoutError';
  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
    /** The job's state at the last poll (e.g. `active`), if one answered. */
    readonly lastState: string | undefined,
  ) {
    super({ status: 0, type: 'urn:jobs:client:wait-timeout', title: 'Timed out waiting for the job', detail: `job ${jobId} was still ${lastState ?? 'unknown'} after ${timeoutMs} ms` });
  }
}

function isRecord(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
