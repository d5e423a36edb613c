import { expect } from 'vitest';
import type { TestApp } from './test-app.js';

/** POSTs `body` to `path`, expects 201 and returns the created view. */
export async function postCreated<T>(t: TestApp, path: string, body: unknown): Promise<T> {
  const res = await t.call('POST', path, body);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as T;
}

/** The webhook outbox rows, oldest first. */
export const outboxRows = (t: TestApp) => t.database.db.selectFrom('webhook_outbox').selectAll().orderBy('id').execute();
