import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';

// Issue 15 (lean single enqueue): Hono's SmartRouter picks the RegExpRouter unless some route
// pattern needs the slower TrieRouter, and then every request pays for it. BullBoard's routes
// did; they now sit in an app of their own behind two wildcard routes.
describe('API router', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('stays on the RegExpRouter with BullBoard mounted, and BullBoard still answers under /bullBoard', async () => {
    t = await createTestApp({ env: { APP_ENV: 'local' } }); // local without credentials: BullBoard open
    expect((await t.call('GET', '/healthz')).status).toBe(200);
    expect(t.app.router.name).toBe('SmartRouter + RegExpRouter');
    expect((await t.call('GET', '/bullBoard/api/queues')).status).toBe(200);
    const unknown = await t.call('GET', '/bullBoard/api/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });
});
