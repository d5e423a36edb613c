import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleepUntil } from '../../../test/helpers/sleep-until.js';
import { createWebhookHttpClient, MAX_RESPONSE_BYTES, type WebhookHttpClient } from '../../src/webhooks/http-delivery.js';
import { startReceiver, type Receiver } from './receiver.js';

const TIMEOUT_MS = 5_000;
const body = JSON.stringify({ id: 'evt_1', type: 'cronJob.create' });
const headers = { 'content-type': 'application/json', 'x-webhook-id': 'evt_1' };

let open: WebhookHttpClient; // private networks allowed, as in local/test
let guarded: WebhookHttpClient; // as in production
const receivers: Receiver[] = [];

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

beforeAll(() => {
  open = createWebhookHttpClient({ timeoutMs: TIMEOUT_MS, allowPrivateNetworks: true });
  guarded = createWebhookHttpClient({ timeoutMs: TIMEOUT_MS, allowPrivateNetworks: false });
});
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  await Promise.all([open.close(), guarded.close()]);
});

describe('webhook HTTP delivery', () => {
  it('a 2xx is a success, with the response body', async () => {
    const r = await receiver((_req, res) => res.writeHead(201).end('thanks'));
    const result = await open.post(`${r.origin}/hook`, body, headers);
    expect(result).toMatchObject({ ok: true, status: 201, responseBody: 'thanks', error: null });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(r.requests).toEqual([expect.objectContaining({ method: 'POST', path: '/hook', body })]);
    expect(r.requests[0]!.headers).toMatchObject(headers);
  });

  it('a 500 is http_5xx and keeps only the first 4 KB of a 10 KB body', async () => {
    const big = 'x'.repeat(4000) + 'y'.repeat(6240);
    const r = await receiver((_req, res) => res.writeHead(500).end(big));
    const result = await open.post(r.origin, body, headers);
    expect(result).toMatchObject({ ok: false, status: 500, error: 'http_5xx' });
    expect(result.responseBody).toBe(big.slice(0, MAX_RESPONSE_BYTES));
  });

  it('a 404 is http_4xx', async () => {
    const r = await receiver((_req, res) => res.writeHead(404).end());
    expect(await open.post(r.origin, body, headers)).toMatchObject({ ok: false, status: 404, error: 'http_4xx', responseBody: '' });
  });

  it('a 302 is http_3xx and the redirect is not followed', async () => {
    const r = await receiver((req, res) => {
      if (req.path === '/hook') res.writeHead(302, { location: `${r.origin}/target` }).end();
      else res.end('should never be asked');
    });
    const result = await open.post(`${r.origin}/hook`, body, headers);
    expect(result).toMatchObject({ ok: false, status: 302, error: 'http_3xx' });
    expect(r.requests.map((q) => q.path)).toEqual(['/hook']);
  });

  it('a receiver slower than the timeout is a timeout, bounded by timeoutMs', async () => {
    const RECEIVER_DELAY_MS = 6_000;
    const r = await receiver((_req, res) => {
      const timer = setTimeout(() => res.end('too late'), RECEIVER_DELAY_MS);
      res.on('close', () => clearTimeout(timer));
    });
    const result = await open.post(r.origin, body, headers);
    expect(result).toMatchObject({ ok: false, status: null, error: 'timeout' });
    expect(r.requests).toHaveLength(1);
    expect(result.durationMs).toBeLessThan(RECEIVER_DELAY_MS);
  });

  it('the timeout also covers the body: headers on time, then a stalled body, is a timeout', async () => {
    const quick = createWebhookHttpClient({ timeoutMs: 300, allowPrivateNetworks: true });
    const r = await receiver((_req, res) => {
      res.writeHead(200);
      res.write('partial'); // and then nothing more, until the test closes the receiver
    });
    const result = await quick.post(r.origin, body, headers);
    await quick.close();
    expect(result).toMatchObject({ ok: false, status: 200, error: 'timeout' });
    expect(result.durationMs).toBeLessThan(TIMEOUT_MS);
  });

  it('stops reading an endless body at 4 KB and returns promptly', async () => {
    let closed = false;
    let written = 0;
    const r = await receiver((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 'z');
      const pump = () => {
        while (!res.destroyed && written < 1024 ** 3 && res.write(chunk)) written += chunk.length;
      };
      res.on('drain', pump);
      res.on('close', () => (closed = true));
      pump();
    });
    const result = await open.post(r.origin, body, headers);
    expect(result).toMatchObject({ ok: true, status: 200, error: null });
    expect(result.responseBody).toBe('z'.repeat(MAX_RESPONSE_BYTES));
    expect(result.durationMs).toBeLessThan(TIMEOUT_MS);
    await sleepUntil(() => closed, { message: 'the receiver to see the connection closed' });
    expect(written).toBeLessThan(1024 ** 3);
  });

  it('classifies refused connections, resets, TLS failures, unknown hosts and bad URLs', async () => {
    const gone = await startReceiver();
    await gone.close();
    expect(await open.post(gone.origin, body, headers)).toMatchObject({ ok: false, status: null, error: 'refused' });

    const rude = await receiver((_req, res) => res.socket?.destroy());
    expect(await open.post(rude.origin, body, headers)).toMatchObject({ ok: false, error: 'reset' });

    const plain = await receiver();
    expect(await open.post(`https://127.0.0.1:${plain.port}/`, body, headers)).toMatchObject({ ok: false, error: 'tls' });

    expect(await open.post('http://nonexistent.invalid/hook', body, headers)).toMatchObject({ ok: false, status: null, error: 'dns' });
    for (const url of ['not a url', 'ftp://example.com/hook', 'file:///etc/passwd']) {
      expect(await open.post(url, body, headers)).toMatchObject({ ok: false, error: 'invalid_url' });
    }
  });

  it('with private networks refused, blocks loopback by literal IP, by name and IPv4-mapped, before connecting', async () => {
    const r = await receiver();
    for (const url of [`http://127.0.0.1:${r.port}/`, `http://localhost:${r.port}/`, `http://[::ffff:127.0.0.1]:${r.port}/`]) {
      expect(await guarded.post(url, body, headers), url).toMatchObject({ ok: false, status: null, error: 'blocked_address' });
    }
    expect(r.connections).toBe(0);
    expect(r.requests).toEqual([]);
  });

  it('with private networks allowed, delivers to the same addresses', async () => {
    const r = await receiver();
    for (const url of [`http://[::ffff:127.0.0.1]:${r.port}/`, `http://localhost:${r.port}/`]) {
      expect(await open.post(url, body, headers), url).toMatchObject({ ok: true, status: 200, responseBody: 'ok' });
    }
    expect(r.requests).toHaveLength(2);
  });
});
