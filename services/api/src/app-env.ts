import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { HandlerMap, JobClient } from '@jobs/shared';
import type { SigningKeys, WebhookSecretBox } from '@jobs/shared/webhooks';
import type { Database } from '@jobs/shared/db';
import type { Config } from '@jobs/shared/config';
import type { Logger } from '@jobs/shared/logger';
import type { RedisKeys } from '@jobs/shared/redis';
import type { ReadinessCheck } from '@jobs/shared/process';
import type { Registry } from '@jobs/shared/metrics';
import type { TokenVerifier } from './auth/token-verifier.js';

/** Everything the API's routes need, handed in so tests can build the app in-process. */
export interface AppDeps {
  config: Config;
  log: Logger;
  /** Dependencies `/readyz` must reach (Redis, database), by name. */
  checks: Record<string, ReadinessCheck>;
  /** Per-check bound for `/readyz` (default 2 s). */
  readinessTimeoutMs?: number;
  /** The registry the API validates against; it never runs a handler. */
  handlers: HandlerMap;
  jobs: JobClient<HandlerMap>;
  db: Kysely<Database>;
  /** Producer connection: idempotency keys and change notifications. */
  redis: Redis;
  keys: RedisKeys;
  metrics: Registry;
  /** Other registries of this process that `/metrics` serves along (the all-in-one local run: worker, scheduler). */
  extraRegistries?: readonly Registry[];
  /** Bearer-token verification; undefined = the admin API is open (local only). */
  auth: TokenVerifier | undefined;
  /** Webhook signing keys; only their public halves are served, at `/.well-known/jwks.json`. */
  signingKeys: SigningKeys;
  /** Encrypts/decrypts the subscriptions' Standard Webhooks secrets (`WEBHOOK_SECRET_KEY`, SPEC §18). */
  webhookSecrets: WebhookSecretBox;
}

/** Per-request values set by middleware. */
export interface AppVariables {
  requestId: string;
  /** The token's `sub`, or `anonymous` when auth is off. */
  actor: string;
  /** False for a token without `sub` (its actor is `unknown`, shared by every such token). */
  actorNamed: boolean;
  scopes: ReadonlySet<string>;
  log: Logger;
}

export type AppEnv = { Variables: AppVariables };
export type App = OpenAPIHono<AppEnv>;
