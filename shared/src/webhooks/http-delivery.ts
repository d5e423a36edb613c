import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { Agent, request } from 'undici';
import { jobTracing, type JobTracing } from '../tracing/job-spans.js';
import { withClientSpan } from '../tracing/http-client-span.js';
import { guardedLookup, isBlockedAddress } from './address-guard.js';

/** Why a delivery attempt failed; stored on the attempt's `webhook_event` row. */
export type WebhookErrorCode =
  | 'timeout'
  | 'dns'
  | 'refused'
  | 'reset'
  | 'tls'
  | 'blocked_address'
  | 'http_3xx'
  | 'http_4xx'
  | 'http_5xx'
  | 'invalid_url'
  | 'network';

/** The outcome of one attempt. `ok` only for a 2xx whose response was read within the timeout. */
export interface DeliveryResult {
  ok: boolean;
  /** The response status, or null when no response arrived. */
  status: number | null;
  /** The first 4 KB of the response body (UTF-8), or null when no response arrived. */
  responseBody: string | null;
  error: WebhookErrorCode | null;
  durationMs: number;
}

export interface WebhookHttpClient {
  /** POSTs `body` to `url`. Never throws for a failed delivery: the result says what happened. */
  post(url: string, body: string, headers: Record<string, string>): Promise<DeliveryResult>;
  /** Closes the pooled connections; waits for attempts in flight. */
  close(): Promise<void>;
}

export interface WebhookHttpClientOptions {
  /** Bound on the whole attempt: connect, headers and body read. */
  timeoutMs: number;
  /** When false, loopback/private/link-local/CGNAT/ULA/metadata addresses are refused. */
  allowPrivateNetworks: boolean;
  /** Client spans, one per attempt, whose `traceparent` goes out with it (SPEC §15); default: the global provider. */
  tracing?: JobTracing;
}

/** Enough of a receiver's answer to debug with; more would let one receiver bloat the event log. */
export const MAX_RESPONSE_BYTES = 4096;

/**
 * The HTTP client for webhook deliveries (SPEC §8): POST only, redirects not followed, only 2xx
 * counts, the whole attempt bounded by `timeoutMs`, and unless `allowPrivateNetworks` the address
 * actually connected to is checked against the SSRF block list. Create one per process: its undici
 * Agent keeps connections alive across deliveries.
 *
 * @example
 * const http = createWebhookHttpClient(config.webhook);
 * const result = await http.post(sub.url, body, await webhookHeaders({ webhookId, timestamp, body, keys: keys.all }));
 * if (!result.ok) log.warn({ error: result.error, status: result.status }, 'webhook attempt failed');
 * await http.close(); // on shutdown
 */
export function createWebhookHttpClient({ timeoutMs, allowPrivateNetworks, tracing = jobTracing() }: WebhookHttpClientOptions): WebhookHttpClient {
  const agent = new Agent({
    connect: { lookup: guardedLookup(allowPrivateNetworks), timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });

  async function post(url: string, body: string, headers: Record<string, string>): Promise<DeliveryResult> {
    const started = performance.now();
    const done = (result: Omit<DeliveryResult, 'durationMs'>): DeliveryResult => ({
      ...result,
      durationMs: Math.round(performance.now() - started),
    });
    const failed = (error: WebhookErrorCode, status: number | null = null, responseBody: string | null = null) =>
      done({ ok: false, status, responseBody, error });

    const target = parseTarget(url);
    if (!target) return failed('invalid_url');
    // A literal IP is connected to without any lookup, so guardedLookup never sees it.
    const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!allowPrivateNetworks && isIP(host) && isBlockedAddress(host)) return failed('blocked_address');
    if (!tracing.on()) return send(target, body, headers, done, failed);
    return withClientSpan(tracing.tracer, target, headers, (traced) => send(target, body, traced, done, failed));
  }

  async function send(
    target: URL,
    body: string,
    headers: Record<string, string>,
    done: (result: Omit<DeliveryResult, 'durationMs'>) => DeliveryResult,
    failed: (error: WebhookErrorCode, status?: number | null, responseBody?: string | null) => DeliveryResult,
  ): Promise<DeliveryResult> {
    // One signal for connect, headers and body: undici destroys the body stream when it fires.
    const signal = AbortSignal.timeout(timeoutMs);
    let status: number | null = null;
    let responseBody: string | null = null;
    try {
      const response = await request(target, { method: 'POST', body, headers, dispatcher: agent, signal });
      status = response.statusCode;
      responseBody = await readCapped(response.body, MAX_RESPONSE_BYTES);
      if (status >= 200 && status < 300) return done({ ok: true, status, responseBody, error: null });
      return failed(status < 400 ? 'http_3xx' : status < 500 ? 'http_4xx' : 'http_5xx', status, responseBody);
    } catch (err) {
      return failed(signal.aborted ? 'timeout' : classifyError(err), status, responseBody);
    }
  }

  return { post, close: () => agent.close() };
}

function parseTarget(url: string): URL | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  return parsed.hostname ? parsed : undefined;
}

/**
 * Reads up to `limit` bytes, then destroys the stream so a receiver cannot make us download (or
 * wait for) more. A UTF-8 character cut at the limit is dropped rather than mangled.
 */
async function readCapped(stream: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number): Promise<string> {
  const decoder = new StringDecoder('utf8');
  let text = '';
  let remaining = limit;
  try {
    for await (const chunk of stream) {
      const part = chunk.length > remaining ? chunk.subarray(0, remaining) : chunk;
      text += decoder.write(part);
      remaining -= part.length;
      if (remaining === 0) break;
    }
  } finally {
    stream.destroy();
  }
  return remaining === 0 ? text : text + decoder.end();
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
// UND_ERR_SOCKET is undici's "other side closed": the receiver dropped the connection mid-exchange.
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)/;

/** Maps a thrown error to a code, looking through `cause` and AggregateError (`errors`) chains. */
function classifyError(err: unknown): WebhookErrorCode {
  const queue: unknown[] = [err];
  for (let seen = 0; queue.length > 0 && seen < 10; seen++) {
    const e = queue.shift() as { code?: unknown; cause?: unknown; errors?: unknown } | null;
    if (!e || typeof e !== 'object') continue;
    const code = typeof e.code === 'string' ? e.code : '';
    if (code === 'EBLOCKEDADDRESS') return 'blocked_address';
    if (TIMEOUT_CODES.has(code)) return 'timeout';
    if (TLS_CODE.test(code)) return 'tls';
    if (DNS_CODES.has(code)) return 'dns';
    if (code === 'ECONNREFUSED') return 'refused';
    if (RESET_CODES.has(code)) return 'reset';
    if (code === 'ERR_INVALID_URL') return 'invalid_url';
    queue.push(e.cause, ...(Array.isArray(e.errors) ? e.errors : []));
  }
  return 'network';
}
