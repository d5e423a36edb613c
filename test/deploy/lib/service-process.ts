import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sleepUntil, spawnCommand, type Child } from '../../helpers/index.js';

export type ServiceProcess = Child;

/**
 * Starts a command with exactly `env` (plus PATH and HOME): nothing leaks in from the test
 * runner's environment (which has APP_ENV=test), as in a container.
 */
export function spawnService(command: string[], options: { cwd: string; env: Record<string, string>; detached?: boolean }): ServiceProcess {
  return spawnCommand(command, { ...options, cleanEnv: true });
}

/** Polls `http://127.0.0.1:<port>/healthz` until it answers 200; fails early if the process exits. */
export async function waitHealthy(service: ServiceProcess, port: number, timeoutMs = 60_000): Promise<void> {
  await sleepUntil(
    async () => {
      if (service.proc.exitCode !== null || service.proc.signalCode !== null) throw new Error(`exited early:\n${service.output()}`);
      return (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200;
    },
    { timeoutMs, intervalMs: 100, message: `/healthz on ${port}` },
  );
}

/** A fresh RSA key as a PEM file in `dir`, for WEBHOOK_SIGNING_KEY_FILE as the deployments mount it. */
export async function writeSigningKey(dir: string): Promise<string> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const path = join(dir, 'webhook-signing-key.pem');
  await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
  return path;
}

/** The test database URL with `schema` as search_path (a libpq startup option). */
export function databaseUrlFor(schema: string): string {
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** Metric family names in a Prometheus text exposition. */
export function metricFamilies(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}
