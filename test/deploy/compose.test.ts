import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/src/config/index.js';
import { readTracingEnv } from '../../shared/src/tracing/index.js';
import { CONFIG_ENV_NAMES, readText, readYamlDocs, root, SERVICE_NAMES, SERVICES, WORKER_ABORT_GRACE_MS } from './lib/deployment.js';

// docker compose cannot run here (no engine): the file is read as compose reads it, and checked.
interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  ports?: string[];
  volumes?: string[];
  deploy?: { replicas?: number };
  profiles?: string[];
  expose?: string[];
  stop_grace_period?: string;
  restart?: string;
  read_only?: boolean;
  user?: string;
  secrets?: string[];
}
interface Compose {
  services: Record<string, ComposeService>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
}

const compose = readYamlDocs('docker-compose.yml')[0] as Compose;
const { services } = compose;

/** .env.example's variables, with the required (empty) ones given test values. */
const dotenv: Record<string, string> = Object.fromEntries(
  readText('.env.example')
    .split('\n')
    .filter((l) => /^\w+=/.test(l))
    .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
);
const filledEnv = { ...dotenv, POSTGRES_PASSWORD: 'pw', AUTH_JWT_SECRET: 'a-compose-secret-of-at-least-32-characters', WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64') };

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` interpolation. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
    const v = vars[name];
    if (v !== undefined && v !== '') return v;
    if (op === '?') throw new Error(`${name}: ${arg}`);
    return op === '-' ? (arg ?? '') : '';
  });
}
const envOf = (svc: ComposeService, vars: Record<string, string> = filledEnv) =>
  Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), vars)]));
/** The variables the config module reads: OpenTelemetry's own (`OTEL_*`) are read by tracing (SPEC §15). */
const configKeys = (env: Record<string, string>) => Object.keys(env).filter((k) => !k.startsWith('OTEL_'));
const seconds = (duration: string) => {
  const m = /^(\d+)(s|m)$/.exec(duration) ?? expect.fail(`duration ${duration}`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
};

describe('docker-compose.yml', () => {
  it('has the production shape: redis, postgres, a one-shot migrate, api, worker, scheduler', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'jaeger', 'migrate', 'otel-collector', 'postgres', 'redis', 'scheduler', 'worker', 'worker-critical']);
  });

  it('redis: pinned, noeviction, AOF + RDB persistence on a volume, health-checked', () => {
    const redis = services.redis!;
    expect(redis.image).toMatch(/^redis:\d+\.\d+\.\d+(-\w+)?$/);
    const command = redis.command!.join(' ');
    expect(command).toMatch(/--maxmemory-policy noeviction\b/);
    expect(command).toMatch(/--appendonly yes\b/);
    expect(command).toMatch(/--save \d+/);
    expect(redis.volumes).toContain('redis-data:/data');
    expect(redis.healthcheck!.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('postgres: pinned, data on a volume, health-checked, password required from .env', () => {
    const pg = services.postgres!;
    expect(pg.image).toMatch(/^postgres:\d+\.\d+(-\w+)?$/);
    expect(pg.volumes).toContain('postgres-data:/var/lib/postgresql/data');
    expect(pg.healthcheck!.test.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
    expect(() => envOf(pg, { ...filledEnv, POSTGRES_PASSWORD: '' })).toThrow(/POSTGRES_PASSWORD/);
    expect(Object.keys(compose.volumes).sort()).toEqual(['postgres-data', 'redis-data']);
  });

  it('migrate: runs migrate-cli once from the scheduler image after postgres is healthy', () => {
    const migrate = services.migrate!;
    expect(migrate.command).toEqual(['node', 'shared/dist/db/migrate-cli.js']);
    expect(migrate.build).toEqual(services.scheduler!.build);
    expect(migrate.image).toBe(services.scheduler!.image);
    expect(migrate.restart).toBe('no');
    expect(migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(() => loadConfig(envOf(migrate))).not.toThrow();
  });

  describe.each(SERVICE_NAMES)('%s', (name) => {
    const svc = services[name]!;
    const { portVar, port } = SERVICES[name];

    it('is built from its own Dockerfile and waits for redis, postgres and the migration', () => {
      expect(svc.build).toEqual({ context: '.', dockerfile: `Dockerfile.${name}` });
      expect(existsSync(join(root, svc.build!.dockerfile))).toBe(true);
      expect(svc.depends_on).toEqual({
        redis: { condition: 'service_healthy' },
        postgres: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
      });
    });

    it('sets only variables the config schema knows, and they pass its validation (APP_ENV=production)', () => {
      const env = envOf(svc);
      for (const key of configKeys(env)) expect(CONFIG_ENV_NAMES, key).toContain(key);
      expect(env.APP_ENV).toBe('production');
      const config = loadConfig(env);
      expect(config.databaseUrl).toMatch(/^postgres:\/\/jobs:pw@postgres:5432\/jobs$/);
      expect(config.webhook.signingKeyFile).toBe('/run/secrets/webhook_signing_key');
      expect(svc.secrets).toEqual(['webhook_signing_key']);
      expect(env[portVar]).toBe(String(port));
      if (name === 'api') {
        expect(config.auth.jwtSecret).toBeDefined();
        expect(() => envOf(svc, { ...filledEnv, AUTH_JWT_SECRET: '' })).toThrow(/AUTH_JWT_SECRET/);
      }
    });

    it('health-checks /healthz on its port, runs read-only and not as root', () => {
      expect(svc.healthcheck!.test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
      expect(svc.healthcheck!.test[3]).toContain(`http://127.0.0.1:${port}/healthz`);
      expect(svc.read_only).toBe(true);
      expect(svc.user).toBeUndefined(); // the image's non-root user
      expect(svc.restart).toBe('unless-stopped');
    });
  });

  it('api on port 8000; two workers whose stop grace period outlasts their shutdown timeout', () => {
    expect(services.api!.ports).toEqual(['${API_PORT:-8000}:8000']);
    expect(interpolate(services.api!.ports![0]!, filledEnv)).toBe('8000:8000');
    const worker = services.worker!;
    expect(worker.deploy!.replicas).toBe(2);
    expect(worker.ports).toBeUndefined();
    const timeoutMs = loadConfig(envOf(worker)).worker.shutdownTimeoutMs;
    expect(seconds(worker.stop_grace_period!) * 1000).toBeGreaterThan(timeoutMs + WORKER_ABORT_GRACE_MS);
    // The api drains for up to 10 s; Docker's default (10 s) would cut that short.
    expect(seconds(services.api!.stop_grace_period!)).toBeGreaterThan(10);
  });

  it('worker pools (SPEC §12): the worker runs the default queue; worker-critical (profile critical) runs `critical` from the same image', () => {
    const queuesOf = (svc: ComposeService) => loadConfig(envOf(svc)).worker.queues;
    const worker = services.worker!;
    const critical = services['worker-critical']!;
    expect(queuesOf(worker)).toEqual({ jobs: 10 });
    expect(queuesOf(worker)).toEqual({ [loadConfig(envOf(worker)).queueName]: loadConfig(envOf(worker)).worker.concurrency });
    expect(queuesOf(critical)).toEqual({ critical: 20 });
    // Opt-in: the shipped registry names no `critical` queue, and a worker refuses one no handler uses.
    expect(critical.profiles).toEqual(['critical']);
    expect(worker.profiles).toBeUndefined();
    // The worker otherwise: image, dependencies, secrets, health check, read-only, drain time.
    for (const key of ['build', 'image', 'depends_on', 'secrets', 'healthcheck', 'read_only', 'restart', 'stop_grace_period', 'expose'] as const) expect(critical[key], key).toEqual(worker[key]);
    const env = envOf(critical);
    for (const key of configKeys(env)) expect(CONFIG_ENV_NAMES, key).toContain(key);
    const { worker: settings, webhook } = loadConfig(env);
    expect(webhook.signingKeyFile).toBe('/run/secrets/webhook_signing_key');
    expect(seconds(critical.stop_grace_period!) * 1000).toBeGreaterThan(settings.shutdownTimeoutMs + WORKER_ABORT_GRACE_MS);
    expect(env.WORKER_PORT).toBe(String(SERVICES.worker.port));
  });

  it('tracing (SPEC §15): off by default; profile tracing runs a pinned collector with infra/otel/collector.yaml, feeding Jaeger', () => {
    for (const name of SERVICE_NAMES) {
      const env = envOf(services[name]!);
      expect(readTracingEnv(env, `jobs-${name}`)).toMatchObject({ enabled: false, serviceName: `jobs-${name}` });
      const on = envOf(services[name]!, { ...filledEnv, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318' });
      expect(readTracingEnv(on, `jobs-${name}`)).toMatchObject({ enabled: true, protocol: 'http/protobuf' });
      expect(on.OTEL_SERVICE_NAME, 'each service keeps its own default name').toBeUndefined();
    }
    const collector = services['otel-collector']!;
    const jaeger = services.jaeger!;
    expect(collector.profiles).toEqual(['tracing']);
    expect(jaeger.profiles).toEqual(['tracing']);
    expect(collector.image).toMatch(/^otel\/opentelemetry-collector-contrib:\d+\.\d+\.\d+$/);
    expect(jaeger.image).toMatch(/^jaegertracing\/jaeger:\d+\.\d+\.\d+$/);
    const [source, target] = collector.volumes![0]!.split(':');
    expect(existsSync(join(root, source!))).toBe(true);
    expect(collector.command).toEqual([`--config=${target}`]);
    expect(collector.expose).toEqual(['4318']);
    // The collector's pipeline: OTLP/HTTP in on 4318, out to jaeger:4317.
    const config = readYamlDocs('infra/otel/collector.yaml')[0] as { receivers: { otlp: { protocols: { http: { endpoint: string } } } }; exporters: Record<string, { endpoint: string }>; service: { pipelines: { traces: { receivers: string[]; exporters: string[] } } } };
    expect(config.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
    expect(config.service.pipelines.traces.receivers).toEqual(['otlp']);
    expect(config.service.pipelines.traces.exporters.map((e) => config.exporters[e]!.endpoint)).toEqual(['jaeger:4317']);
    expect(jaeger.expose).toContain('4317');
  });

  it('documents every variable it interpolates in .env.example, and keeps the key file out of git and images', () => {
    const used = new Set([...readText('docker-compose.yml').matchAll(/\$\{(\w+)/g)].map((m) => m[1]!));
    for (const name of used) expect(Object.keys(dotenv), `${name} in .env.example`).toContain(name);
    expect(compose.secrets.webhook_signing_key!.file).toBe('./secrets/webhook-signing-key.pem');
    expect(readText('.gitignore').split('\n')).toEqual(expect.arrayContaining(['.env', 'secrets/']));
  });
});
