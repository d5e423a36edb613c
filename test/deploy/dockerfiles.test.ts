import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/free-port.js';
import { createDatabase } from '../../shared/src/db/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { cleanupPrefix, testPrefix, TEST_REDIS_URL } from '../helpers/index.js';
import { copyArgs, execForm, parseDockerfile, stageEnv, type Dockerfile, type Stage } from './lib/dockerfile.js';
import { buildProduction, HEALTH_PATHS, readText, root, SERVICE_NAMES, SERVICES, type ServiceName } from './lib/deployment.js';
import { emulateImage } from './lib/image-emulator.js';
import { databaseUrlFor, metricFamilies, spawnService, waitHealthy, writeSigningKey } from './lib/service-process.js';

/** WEBHOOK_SECRET_KEY of the services started here (required outside local/test). */
const SECRET_KEY = randomBytes(32).toString('base64');

const dockerfile = (svc: ServiceName): Dockerfile => parseDockerfile(readText(`Dockerfile.${svc}`));
const stage = (df: Dockerfile, name: string): Stage => df.stages.find((s) => s.name === name) ?? expect.fail(`no stage "${name}"`);
const runs = (s: Stage) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.rest);
const copies = (s: Stage) => s.instructions.filter((i) => i.keyword === 'COPY').map(copyArgs);
const only = (s: Stage, keyword: string) => {
  const found = s.instructions.filter((i) => i.keyword === keyword);
  expect(found, keyword).toHaveLength(1);
  return found[0]!;
};
const workspacesOf = (command: string) => [...command.matchAll(/--workspace[= ](\S+)/g)].map((m) => m[1]).sort();

/** Docker's .dockerignore semantics, simplified: the last pattern matching the path or a parent wins. */
function dockerignoreAllows(path: string): boolean {
  const patterns = readText('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const toRegex = (glob: string) =>
    new RegExp(`^${glob.replace(/\/$/, '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\0').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]').replace(/\0/g, '.*')}$`);
  const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  let allowed = true;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const regex = toRegex(negated ? pattern.slice(1) : pattern);
    if (prefixes.some((p) => regex.test(p))) allowed = negated;
  }
  return allowed;
}

/** Files under `path` (itself if a file), relative to the repo. */
function filesUnder(path: string): string[] {
  const full = join(root, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length).replace(/^\//, ''));
}

describe.each(SERVICE_NAMES)('Dockerfile.%s (static)', (svc) => {
  const df = dockerfile(svc);
  const { port, portVar } = SERVICES[svc];

  it('is multi-stage, every stage from one pinned Node LTS slim image', () => {
    expect(df.stages.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    const images = new Set(df.stages.map((s) => s.image));
    expect(images.size).toBe(1);
    const [image] = images;
    const m = /^node:(\d+)\.(\d+)\.(\d+)-(bookworm|trixie)-slim(@sha256:[0-9a-f]{64})?$/.exec(image!);
    expect(m, `${image} must be node:<major.minor.patch>-<debian>-slim`).toBeTruthy();
    const major = Number(m![1]);
    expect(major % 2, 'even majors are the LTS lines').toBe(0);
    expect(major).toBeGreaterThanOrEqual(22);
  });

  it('build stage: installs shared + this service (and the root toolchain), compiles with tsc -b', () => {
    const build = stage(df, 'build');
    const install = runs(build).find((r) => r.includes('npm ci'))!;
    expect(workspacesOf(install)).toEqual(['services/' + svc, 'shared'].sort());
    expect(install).toContain('--include-workspace-root'); // typescript and @types/* are root devDependencies
    expect(runs(build).some((r) => r.includes(`tsc -b services/${svc}`))).toBe(true);
    const sources = copies(build).flatMap((c) => c.sources);
    expect(sources.filter((s) => s.startsWith('services/')).every((s) => s.startsWith(`services/${svc}/`)), sources.join(' ')).toBe(true);
    for (const needed of ['package-lock.json', 'tsconfig.base.json', 'shared/src', `services/${svc}/src`, `services/${svc}/tsconfig.json`]) {
      expect(sources).toContain(needed);
    }
  });

  it('deps stage: only production dependencies of shared + this service, no install scripts', () => {
    const install = runs(stage(df, 'deps')).find((r) => r.includes('npm ci'))!;
    expect(install).toMatch(/--omit=dev\b/);
    expect(install).toMatch(/--ignore-scripts\b/);
    expect(workspacesOf(install)).toEqual(['services/' + svc, 'shared'].sort());
    expect(install).not.toContain('--include-workspace-root');
  });

  it('runtime stage: compiled JS and production node_modules only, NODE_ENV=production, non-root, healthcheck, node as PID 1', () => {
    const runtime = stage(df, 'runtime');
    expect(stageEnv(runtime).NODE_ENV).toBe('production');
    const user = only(runtime, 'USER').rest;
    expect(user, 'numeric, so Kubernetes can check runAsNonRoot').toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
    // The only RUN trims npm & co. from the base image; nothing is installed or compiled here.
    for (const r of runs(runtime)) expect(r).toMatch(/^rm -rf [^&|;]*(&& rm -f [^&|;]*)?$/);
    const fromOther = copies(runtime).filter((c) => c.from);
    expect(fromOther.map((c) => `${c.from}:${c.sources.join(',')}`).sort()).toEqual(
      ['build:/app/shared/dist', `build:/app/services/${svc}/dist`, 'deps:/app/node_modules'].sort(),
    );
    expect(copies(runtime).filter((c) => !c.from).flatMap((c) => c.sources).every((s) => s.endsWith('package.json'))).toBe(true);
    expect(JSON.stringify(runtime.instructions)).not.toMatch(/\btsx\b|typescript/);
    expect(only(runtime, 'EXPOSE').rest).toBe(String(port));
    const health = only(runtime, 'HEALTHCHECK').rest;
    expect(health).toContain('/healthz');
    expect(health).toContain(`process.env.${portVar} || ${port}`);
    expect(execForm(only(runtime, 'CMD'))).toEqual(['node', `services/${svc}/dist/main.js`]);
    expect(runtime.instructions.some((i) => i.keyword === 'ENTRYPOINT')).toBe(false);
  });

  it('runtime stage: APP_ENV=production, so the image started without APP_ENV is not a local (open) run', () => {
    expect(stageEnv(stage(df, 'runtime')).APP_ENV).toBe('production');
  });

  it('copies from the build context only what .dockerignore lets in', () => {
    const sources = df.stages.flatMap((s) => copies(s).filter((c) => !c.from).flatMap((c) => c.sources));
    for (const source of new Set(sources)) {
      for (const file of filesUnder(source)) expect(dockerignoreAllows(file), `${file} is excluded by .dockerignore`).toBe(true);
    }
    for (const secret of ['.env', 'secrets/webhook-signing-key.pem', 'node_modules/bullmq/package.json', 'shared/dist/index.js', 'services/api/test/app.test.ts', '.git/config']) {
      expect(dockerignoreAllows(secret), secret).toBe(false);
    }
  });
});

describe('the images, laid out from their Dockerfiles and run (no Docker engine here)', () => {
  let dir: string;
  let t: TestDatabase;
  let keyFile: string;
  const prefixes: string[] = [];
  const images = new Map<ServiceName, Promise<string>>();
  const image = (svc: ServiceName) => {
    if (!images.has(svc)) images.set(svc, emulateImage(dockerfile(svc), join(dir, svc)));
    return images.get(svc)!;
  };

  beforeAll(async () => {
    await buildProduction();
    dir = await mkdtemp(join(tmpdir(), 'jobs-images-'));
    keyFile = await writeSigningKey(dir);
    t = await createTestDatabase();
  }, 240_000);
  afterAll(async () => {
    await t?.close();
    for (const p of prefixes) await cleanupPrefix(p);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the CMD of every Dockerfile and the migrate command name files the production build produces', () => {
    for (const svc of SERVICE_NAMES) {
      const [, file] = execForm(only(stage(dockerfile(svc), 'runtime'), 'CMD'));
      expect(existsSync(join(root, file!)), file).toBe(true);
    }
    expect(existsSync(join(root, 'shared/dist/db/migrate-cli.js'))).toBe(true);
  });

  it.each(SERVICE_NAMES)(
    '%s: starts from the runtime stage without dev dependencies or PGlite, answers its probes and /metrics, exits 0 on SIGTERM',
    async (svc) => {
      const app = await image(svc);
      const modules = readdirSync(join(app, 'node_modules'));
      for (const absent of ['typescript', 'tsx', 'vitest', 'pino-pretty', '@types']) expect(modules, absent).not.toContain(absent);
      expect(existsSync(join(app, 'node_modules/@electric-sql'))).toBe(false);

      const { portVar, metrics } = SERVICES[svc];
      const port = await freePort();
      const prefix = testPrefix('img');
      prefixes.push(prefix);
      const runtime = stage(dockerfile(svc), 'runtime');
      const service = spawnService(execForm(only(runtime, 'CMD')), {
        cwd: app,
        env: {
          ...stageEnv(runtime),
          APP_ENV: 'production',
          LOG_LEVEL: 'info',
          [portVar]: String(port),
          REDIS_URL: TEST_REDIS_URL,
          QUEUE_PREFIX: prefix,
          DATABASE_URL: databaseUrlFor(t.schema),
          WEBHOOK_SIGNING_KEY_FILE: keyFile,
          WEBHOOK_SECRET_KEY: SECRET_KEY,
          ...(svc === 'api' ? { AUTH_JWT_SECRET: 'a-deployment-secret-of-at-least-32-characters' } : {}),
        },
      });
      try {
        await waitHealthy(service, port);
        for (const path of HEALTH_PATHS) expect((await fetch(`http://127.0.0.1:${port}${path}`)).status, path).toBe(200);
        const exported = metricFamilies(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
        for (const name of metrics) expect(exported, `${svc} exports ${name}`).toContain(name);
        service.kill('SIGTERM');
        expect(await service.exited).toBe(0);
        expect(service.output()).toContain('shut down cleanly');
      } finally {
        service.kill('SIGKILL');
      }
    },
    180_000,
  );

  it('api: started with the image\'s env alone (the deployment sets no APP_ENV) and no auth variables, refuses to start with one clear line', async () => {
    const app = await image('api');
    const port = await freePort();
    const prefix = testPrefix('img');
    prefixes.push(prefix);
    const runtime = stage(dockerfile('api'), 'runtime');
    // Everything a deployment needs except APP_ENV and AUTH_*: what a bare `docker run -e …` gives.
    const service = spawnService(execForm(only(runtime, 'CMD')), {
      cwd: app,
      env: { ...stageEnv(runtime), PORT: String(port), REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, DATABASE_URL: databaseUrlFor(t.schema), WEBHOOK_SIGNING_KEY_FILE: keyFile, WEBHOOK_SECRET_KEY: SECRET_KEY },
    });
    try {
      // Coming up healthy (open) is the failure; exiting is the expected outcome.
      const outcome = await Promise.race([service.exited, waitHealthy(service, port).then(() => 'came up and answers /healthz', () => service.exited)]);
      expect(outcome, service.output()).toBe(1);
      expect(service.output()).toContain('refusing to start: APP_ENV=production needs admin API auth; set AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY or AUTH_JWKS_URL');
    } finally {
      service.kill('SIGKILL');
    }
  }, 180_000);

  it('the migrate command (compose `migrate`, the Kubernetes Job) migrates a fresh database from the scheduler image', async () => {
    const app = await image('scheduler');
    // A database of its own: the command migrates the default schema, as in a deployment.
    const name = `jobs_migrate_${randomBytes(4).toString('hex')}`;
    await sql`create database ${sql.id(name)}`.execute(t.db);
    const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
    url.pathname = `/${name}`;
    try {
      const migrate = spawnService(['node', 'shared/dist/db/migrate-cli.js'], {
        cwd: app,
        env: { ...stageEnv(stage(dockerfile('scheduler'), 'runtime')), APP_ENV: 'production', DATABASE_URL: url.toString(), WEBHOOK_SIGNING_KEY_FILE: keyFile, WEBHOOK_SECRET_KEY: SECRET_KEY },
      });
      expect(await migrate.exited, migrate.output()).toBe(0);
      expect(migrate.output()).toMatch(/^applied /m);
      const fresh = await createDatabase({ databaseUrl: url.toString(), max: 1 });
      try {
        const { rows } = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(fresh.db);
        expect(rows.map((r) => r.name)).toContain('cron_job');
      } finally {
        await fresh.close();
      }
    } finally {
      await sql`drop database if exists ${sql.id(name)} with (force)`.execute(t.db);
    }
  }, 180_000);
});
