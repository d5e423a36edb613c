/**
 * The CPU cost of `webhookHeaders(...)` (RSA-2048 PKCS#1 v1.5 SHA-256 per key), one call at a
 * time; with `standard`, also what `sendWebhook` adds for Standard Webhooks (SPEC §18): decrypt
 * the subscription's secret (AES-256-GCM) and HMAC-SHA256 the body. The RSA work runs on libuv's
 * thread pool; process CPU time counts every thread.
 */
import { performance } from 'node:perf_hooks';
import { standardSignature, webhookHeaders, type SigningKey, type WebhookSecretBox } from '../../shared/src/webhooks/index.js';

export interface SignCost {
  ops: number;
  /** Wall time per call: inflated when other processes take the core. */
  wallUsPerOp: number;
  /** CPU time (user + system) of this process per call: the cost on one core. */
  cpuUsPerOp: number;
  /** 1e6 / cpuUsPerOp: signatures one core can make per second. */
  opsPerCoreSec: number;
  bodyBytes: number;
}

/** A subscription's stored secret, decrypted per call as `sendWebhook` does. */
export interface StandardSecret {
  box: WebhookSecretBox;
  subscriptionId: string;
  ciphertext: string;
}

/**
 * Calls `webhookHeaders` exactly as `sendWebhook` does, for `durationMs` after `warmup` calls:
 * RSA alone, or with `standard` the secret's decryption and the HMAC too.
 */
export async function measureSigning(keys: readonly SigningKey[], body: string, durationMs: number, warmup = 200, standard?: StandardSecret): Promise<SignCost> {
  let sink = 0;
  const once = async (i: number) => {
    const secrets = standard ? [standard.box.decrypt(standard.ciphertext, standard.subscriptionId)] : undefined;
    const headers = await webhookHeaders({ webhookId: `evt_bench_${i}`, timestamp: Math.floor(Date.now() / 1000), body, keys, ...(secrets ? { secrets } : {}) });
    sink += headers['x-webhook-signature']!.length + (headers['webhook-signature']?.length ?? 0);
  };
  for (let i = 0; i < warmup; i++) await once(i);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let ops = 0;
  // Check the clock every 16 calls: cheap next to a ~0.2–1 ms signature either way.
  while (performance.now() - t0 < durationMs) for (let j = 0; j < 16; j++) await once(ops++);
  const wallMs = performance.now() - t0;
  const { user, system } = process.cpuUsage(cpu0);
  if (sink === 0) throw new Error('unreachable');
  const cpuUsPerOp = (user + system) / ops;
  return { ops, wallUsPerOp: (wallMs * 1_000) / ops, cpuUsPerOp, opsPerCoreSec: 1e6 / cpuUsPerOp, bodyBytes: Buffer.byteLength(body) };
}

/**
 * What Standard Webhooks alone adds to a delivery, without the RSA signature beside it (whose
 * noise would hide it): decrypt the stored secret, HMAC-SHA256 the body. Synchronous, as in
 * `sendWebhook`.
 */
export function measureStandardOnly(standard: StandardSecret, body: string, durationMs: number, warmup = 2_000): SignCost {
  let sink = 0;
  const once = (i: number) => {
    const secret = standard.box.decrypt(standard.ciphertext, standard.subscriptionId);
    sink += standardSignature({ webhookId: `evt_bench_${i}`, timestamp: Math.floor(Date.now() / 1000), body, secrets: [secret] }).length;
  };
  for (let i = 0; i < warmup; i++) once(i);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let ops = 0;
  while (performance.now() - t0 < durationMs) for (let j = 0; j < 64; j++) once(ops++);
  const wallMs = performance.now() - t0;
  const { user, system } = process.cpuUsage(cpu0);
  if (sink === 0) throw new Error('unreachable');
  const cpuUsPerOp = (user + system) / ops;
  return { ops, wallUsPerOp: (wallMs * 1_000) / ops, cpuUsPerOp, opsPerCoreSec: 1e6 / cpuUsPerOp, bodyBytes: Buffer.byteLength(body) };
}
