import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/src/config/index.js';
import { queuePrefix } from '../../shared/src/redis/index.js';
import { CONFIG_ENV_NAMES, HEALTH_PATHS, parseYamlDocs, readText, readYamlDocs, root, SERVICE_NAMES, SERVICES, WORKER_ABORT_GRACE_MS } from './lib/deployment.js';
import { applyReplacePatch, kubectlAvailable, kustomizeBuild, kustomizeResources, validateManifest, type Manifest } from './lib/kubernetes.js';

// No cluster here: the manifests are read, validated against the Kubernetes/KEDA schemas and
// checked for what matters in production. Where kubectl is installed, the overlays are also
// built with `kubectl kustomize` (it needs no cluster).
const K8S = join(root, 'infra/k8s');
const base = kustomizeResources(join(K8S, 'base'));
const overlayOwn = kustomizeResources(join(K8S, 'overlays/example')).filter((m) => ['Namespace', 'Ingress'].includes(m.kind));
const scaledObjects = readYamlDocs('infra/k8s/components/keda/scaledobject.yaml') as Manifest[];
const find = (list: Manifest[], kind: string, name: string) => list.find((m) => m.kind === kind && m.metadata.name === name) ?? expect.fail(`${kind} ${name} missing`);
const configMap = find(base, 'ConfigMap', 'jobs-config');

/** secrets.env.example as written (its WEBHOOK_SECRET_KEY is a placeholder the config refuses). */
const secretExampleAsWritten: Record<string, string> = Object.fromEntries(
  readText('infra/k8s/overlays/example/secrets.env.example')
    .split('\n')
    .filter((l) => /^\w+=/.test(l))
    .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
);
/** secrets.env.example as the Secret `jobs-secrets` it becomes, once the operator generated the secret key. */
const secretExample: Record<string, string> = { ...secretExampleAsWritten, WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64') };

interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: Array<{ name: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  livenessProbe?: { httpGet: { path: string; port: string | number } };
  readinessProbe?: { httpGet: { path: string; port: string | number } };
  startupProbe?: { httpGet: { path: string; port: string | number } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
const podOf = (m: Manifest) => m.spec.template.spec as {
  containers: Container[];
  securityContext: Record<string, unknown> & { seccompProfile?: { type: string } };
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  volumes?: Array<{ name: string; secret?: { secretName: string; items?: Array<{ key: string; path: string }> } }>;
};

/** The environment a container of these manifests gets: ConfigMap + example Secret + its own `env` values. */
function envOf(c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, configMap.data);
    if (from.secretRef) Object.assign(env, secretExample);
  }
  for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}

/** The restricted Pod Security Standard, which the example namespace enforces. */
function expectRestricted(m: Manifest) {
  const pod = podOf(m);
  expect(pod.securityContext.runAsNonRoot).toBe(true);
  expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
  expect(pod.securityContext.seccompProfile?.type).toBe('RuntimeDefault');
  expect(pod.automountServiceAccountToken).toBe(false);
  for (const c of pod.containers) {
    expect(c.securityContext.allowPrivilegeEscalation, c.name).toBe(false);
    expect(c.securityContext.readOnlyRootFilesystem, c.name).toBe(true);
    expect(c.securityContext.capabilities?.drop, c.name).toEqual(['ALL']);
    expect(Object.keys(c.resources.requests).sort(), `${c.name} requests`).toEqual(['cpu', 'memory']);
    expect(Object.keys(c.resources.limits).sort(), `${c.name} limits`).toEqual(['cpu', 'memory']);
  }
}

/** WEBHOOK_SIGNING_KEY_FILE names a file mounted from the signing-key Secret. */
function expectSigningKeyMounted(m: Manifest, c: Container) {
  const path = envOf(c).WEBHOOK_SIGNING_KEY_FILE!;
  const mount = c.volumeMounts?.find((v) => path.startsWith(`${v.mountPath}/`)) ?? expect.fail(`${path} is not mounted`);
  expect(mount.readOnly).toBe(true);
  const volume = podOf(m).volumes?.find((v) => v.name === mount.name);
  expect(volume?.secret?.secretName).toBe('jobs-webhook-signing-key');
  expect(volume?.secret?.items).toEqual([{ key: 'webhook-signing-key.pem', path: path.slice(mount.mountPath.length + 1) }]);
}

describe('infra/k8s manifests (static)', () => {
  it('the base lists every manifest in its folder, and every manifest validates against its schema', () => {
    const listed = (readYamlDocs('infra/k8s/base/kustomization.yaml')[0] as { resources: string[] }).resources.sort();
    expect(readdirSync(join(K8S, 'base')).filter((f) => f !== 'kustomization.yaml').sort()).toEqual(listed);
    for (const m of [...base, ...overlayOwn, ...scaledObjects]) validateManifest(m);
    expect(overlayOwn.map((m) => m.kind).sort()).toEqual(['Ingress', 'Namespace']);
  });

  it('the ConfigMap holds only non-secret settings the config schema knows; the Secret example the rest', () => {
    for (const key of Object.keys(configMap.data!)) expect(CONFIG_ENV_NAMES, key).toContain(key);
    for (const key of Object.keys(secretExample)) expect(CONFIG_ENV_NAMES, key).toContain(key);
    expect(Object.keys(configMap.data!).filter((k) => /SECRET|PASSWORD|DATABASE_URL|REDIS_URL|SIGNING_KEY$/.test(k))).toEqual([]);
    expect(Object.keys(secretExample).sort()).toEqual(['AUTH_JWT_SECRET', 'BULL_BOARD_PASSWORD', 'BULL_BOARD_USERNAME', 'DATABASE_URL', 'REDIS_URL', 'WEBHOOK_SECRET_KEY']);
    // Applied unchanged, the example's placeholder key stops every service with a line naming it.
    expect(() => loadConfig({ ...configMap.data, ...secretExampleAsWritten, WEBHOOK_SIGNING_KEY_FILE: '/k.pem' })).toThrow(/^invalid environment: WEBHOOK_SECRET_KEY /);
    expect(configMap.data!.APP_ENV).toBe('production');
  });

  describe.each(SERVICE_NAMES)('%s Deployment', (svc) => {
    const deployment = find(base, 'Deployment', `jobs-${svc}`);
    const pod = podOf(deployment);
    const container = pod.containers[0]!;
    const { port, portVar } = SERVICES[svc];

    it('runs the service image with a config that passes validation, every variable known to the schema', () => {
      expect(pod.containers).toHaveLength(1);
      expect(container.image).toBe(`jobs-${svc}`);
      expect(container.command).toBeUndefined(); // the image's CMD
      for (const e of container.env ?? []) expect(CONFIG_ENV_NAMES, e.name).toContain(e.name);
      expect(container.envFrom).toEqual([{ configMapRef: { name: 'jobs-config' } }, { secretRef: { name: 'jobs-secrets' } }]);
      const env = envOf(container);
      expect(env[portVar]).toBe(String(port));
      const config = loadConfig(env);
      expect(config.isLocal).toBe(false);
      expect(config.webhook.signingKeyFile).toBeDefined();
      expectSigningKeyMounted(deployment, container);
      const next = container.env?.find((e) => e.name === 'WEBHOOK_NEXT_SIGNING_KEY');
      expect(next?.valueFrom?.secretKeyRef).toEqual({ name: 'jobs-webhook-signing-key', key: 'next.pem', optional: true });
    });

    it('probes /healthz (startup, liveness) and /readyz (readiness) on the port the service listens on', () => {
      expect(container.ports).toEqual([expect.objectContaining({ containerPort: port })]);
      const portName = container.ports![0]!.name;
      expect(container.startupProbe!.httpGet).toEqual({ path: '/healthz', port: portName });
      expect(container.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: portName });
      expect(container.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: portName });
      for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) expect(HEALTH_PATHS).toContain(probe!.httpGet.path);
      const annotations = deployment.spec.template.metadata.annotations as Record<string, string>;
      expect(annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/metrics' });
    });

    it('meets the restricted Pod Security Standard, with requests and limits', () => expectRestricted(deployment));

    it('has a PodDisruptionBudget over its pods, and runs at least 2 replicas', () => {
      const pdb = find(base, 'PodDisruptionBudget', `jobs-${svc}`);
      expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
      expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
      expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
      expect(pdb.spec.maxUnavailable ?? 0).toBeLessThan(deployment.spec.replicas);
    });
  });

  it('workers: terminationGracePeriodSeconds outlasts WORKER_SHUTDOWN_TIMEOUT_MS plus the abort grace', () => {
    const pod = podOf(find(base, 'Deployment', 'jobs-worker'));
    const timeoutMs = loadConfig(envOf(pod.containers[0]!)).worker.shutdownTimeoutMs;
    expect(timeoutMs).toBe(Number(configMap.data!.WORKER_SHUTDOWN_TIMEOUT_MS));
    expect(pod.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(timeoutMs + WORKER_ABORT_GRACE_MS);
  });

  it('workers autoscale: an HPA on CPU, or (components/keda) a ScaledObject on queue depth that replaces it', () => {
    const hpa = find(base, 'HorizontalPodAutoscaler', 'jobs-worker');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'jobs-worker' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    const scaledObject = find(scaledObjects, 'ScaledObject', 'jobs-worker');
    expect(scaledObject.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
    const component = readText('infra/k8s/components/keda/kustomization.yaml');
    expect(component).toMatch(/\$patch: delete\s+apiVersion: autoscaling\/v2\s+kind: HorizontalPodAutoscaler\s+metadata:\s+name: jobs-worker/);
  });

  describe('worker pools (SPEC §12): a Deployment per queue group, each with its own KEDA trigger on its own queues', () => {
    const pools = base.filter((m) => m.kind === 'Deployment' && podOf(m).containers[0]!.image === 'jobs-worker');
    const queuesOf = (m: Manifest) => Object.keys(loadConfig(envOf(podOf(m).containers[0]!)).worker.queues ?? {}).sort();

    it('a default pool on `jobs` and a `critical` pool, each naming its queues in WORKER_QUEUES; no queue in two pools', () => {
      expect(pools.map((m) => m.metadata.name).sort()).toEqual(['jobs-worker', 'jobs-worker-critical']);
      expect(queuesOf(find(base, 'Deployment', 'jobs-worker'))).toEqual(['jobs']);
      expect(queuesOf(find(base, 'Deployment', 'jobs-worker-critical'))).toEqual(['critical']);
      expect(loadConfig(envOf(podOf(find(base, 'Deployment', 'jobs-worker-critical')).containers[0]!)).worker.queues?.critical).toBe(20);
      const all = pools.flatMap(queuesOf);
      expect(new Set(all).size).toBe(all.length);
    });

    it('the critical pool is the worker pod otherwise (image, config, probes, signing key, drain time, restricted), with selectors of its own', () => {
      const worker = find(base, 'Deployment', 'jobs-worker');
      const critical = find(base, 'Deployment', 'jobs-worker-critical');
      const withoutQueues = (m: Manifest) => {
        const pod = structuredClone(podOf(m));
        for (const c of pod.containers) c.env = c.env?.filter((e) => e.name !== 'WORKER_QUEUES');
        return { ...pod, topologySpreadConstraints: undefined };
      };
      expect(withoutQueues(critical)).toEqual(withoutQueues(worker));
      expectRestricted(critical);
      expectSigningKeyMounted(critical, podOf(critical).containers[0]!);
      // Its own pods only: the default pool's selector, PDB and spread do not count them, nor the reverse.
      const labels = (m: Manifest) => m.spec.template.metadata.labels as Record<string, string>;
      const selects = (selector: Record<string, string>, podLabels: Record<string, string>) => Object.entries(selector).every(([k, v]) => podLabels[k] === v);
      expect(selects(worker.spec.selector.matchLabels, labels(critical))).toBe(false);
      expect(selects(critical.spec.selector.matchLabels, labels(worker))).toBe(false);
      expect(selects(critical.spec.selector.matchLabels, labels(critical))).toBe(true);
      expect(find(base, 'PodDisruptionBudget', 'jobs-worker-critical').spec.selector.matchLabels).toEqual(critical.spec.selector.matchLabels);
      // 0 replicas until a registry has critical handlers (a worker refuses a queue no handler names); no CPU HPA that would start one.
      expect(critical.spec.replicas).toBe(0);
      expect(base.filter((m) => m.kind === 'HorizontalPodAutoscaler').map((m) => m.spec.scaleTargetRef.name)).toEqual(['jobs-worker']);
    });

    it('components/keda: one ScaledObject per pool, triggered on the depth of exactly that pool’s queues', () => {
      expect(scaledObjects.map((m) => m.spec.scaleTargetRef.name).sort()).toEqual(pools.map((m) => m.metadata.name).sort());
      for (const so of scaledObjects) {
        const pool = find(pools, 'Deployment', so.spec.scaleTargetRef.name);
        const prometheus = so.spec.triggers.find((t: { type: string }) => t.type === 'prometheus');
        const query = prometheus.metadata.query as string;
        let syntaxError = false;
        parser.parse(query).iterate({ enter: (n) => void (n.type.isError && (syntaxError = true)) });
        expect(syntaxError, query).toBe(false);
        const matcher = /\bqueue_jobs\{queue=~"([^"]+)", state=~"waiting\|prioritized"\}/.exec(query) ?? expect.fail(`${so.metadata.name}: ${query}`);
        expect(matcher[1]!.split('|').sort(), so.metadata.name).toEqual(queuesOf(pool));
        expect(query, 'each queue counted once across the api and worker copies').toMatch(/max by \(queue, state\)/);
      }
      expect(find(scaledObjects, 'ScaledObject', 'jobs-worker-critical').spec.minReplicaCount).toBe(0);
    });
  });

  it('scheduler: 2 replicas with a plain rolling update (the leader lock makes that safe)', () => {
    const scheduler = find(base, 'Deployment', 'jobs-scheduler');
    expect(scheduler.spec.replicas).toBe(2);
    expect(scheduler.spec.strategy.type).toBe('RollingUpdate');
  });

  it('api: a Service onto its http port, and an Ingress that keeps /metrics and the probes private', () => {
    const service = find(base, 'Service', 'jobs-api');
    const api = find(base, 'Deployment', 'jobs-api');
    expect(service.spec.selector).toEqual(api.spec.selector.matchLabels);
    expect(service.spec.ports).toEqual([expect.objectContaining({ targetPort: 'http' })]);
    const ingress = find(overlayOwn, 'Ingress', 'jobs-api');
    const paths = ingress.spec.rules.flatMap((r: { http: { paths: Array<{ path: string; backend: unknown }> } }) => r.http.paths);
    for (const p of paths) expect(p.backend).toEqual({ service: { name: 'jobs-api', port: { name: 'http' } } });
    const exposed = paths.map((p: { path: string }) => p.path);
    expect(exposed).toEqual(['/api', '/bullBoard', '/console', '/.well-known/jwks.json']);
    for (const hidden of HEALTH_PATHS) expect(exposed.some((p: string) => hidden.startsWith(p))).toBe(false);
  });

  it('migrate Job: runs migrate-cli from the scheduler image once, with the same config', () => {
    const job = find(base, 'Job', 'jobs-migrate');
    const pod = podOf(job);
    const c = pod.containers[0]!;
    expect(c.image).toBe('jobs-scheduler');
    expect(c.command).toEqual(['node', 'shared/dist/db/migrate-cli.js']);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.backoffLimit).toBeGreaterThan(0);
    expect(() => loadConfig(envOf(c))).not.toThrow();
    expectSigningKeyMounted(job, c);
    expectRestricted(job);
  });

  it('Redis Cluster: the base prefix gives each queue a slot of its own; components/redis-cluster keeps the one-slot {jobs} of older deployments', () => {
    const component = readYamlDocs('infra/k8s/components/redis-cluster/kustomization.yaml')[0] as { patches: Array<{ target: { name: string }; patch: string }> };
    expect(component.patches[0]!.target.name).toBe('jobs-config');
    const ops = parseYamlDocs(component.patches[0]!.patch)[0] as Array<{ op: string; path: string; value: unknown }>;
    const patched = applyReplacePatch(configMap, ops);
    expect(patched.data!.QUEUE_PREFIX).toBe('{jobs}');
    const cluster = { REDIS_URL: 'redis+cluster://:pw@redis-cluster-0.redis-cluster:6379,redis-cluster-1.redis-cluster:6379' };
    const env = { ...secretExample, ...cluster, WEBHOOK_SIGNING_KEY_FILE: '/k.pem' };
    expect(loadConfig({ ...patched.data, ...env }).queuePrefix).toBe('{jobs}');
    expect(queuePrefix('{jobs}', 'critical', true)).toBe('{jobs}');
    // Without the component (SPEC §12): every queue in its own slot, so queues spread over the shards.
    const plain = loadConfig({ ...configMap.data, ...env });
    expect(queuePrefix(plain.queuePrefix, 'jobs', true)).toBe('bull:{jobs}');
    expect(queuePrefix(plain.queuePrefix, 'critical', true)).toBe('bull:{critical}');
  });
});

describe.runIf(kubectlAvailable())('infra/k8s overlays built with kubectl kustomize', () => {
  // A copy, with the files an operator adds before the first apply (secrets.env, the key).
  const dir = mkdtempSync(join(tmpdir(), 'jobs-k8s-'));
  cpSync(K8S, dir, { recursive: true });
  const overlay = join(dir, 'overlays/example');
  cpSync(join(overlay, 'secrets.env.example'), join(overlay, 'secrets.env'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(overlay, 'webhook-signing-key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const build = (components: string[] = []) => {
    const kustomization = join(overlay, 'kustomization.yaml');
    const original = readText('infra/k8s/overlays/example/kustomization.yaml');
    writeFileSync(kustomization, components.length ? `${original}\ncomponents:\n${components.map((c) => `  - ../../components/${c}\n`).join('')}` : original);
    return parseYamlDocs(kustomizeBuild(overlay), 'kustomize output') as Manifest[];
  };

  it('example: namespaced, images named and tagged, Secrets generated and every reference to them resolved', () => {
    const out = build();
    for (const m of out) validateManifest(m);
    for (const m of out.filter((x) => x.kind !== 'Namespace')) expect(m.metadata.namespace, `${m.kind} ${m.metadata.name}`).toBe('jobs');
    const secrets = new Set(out.filter((m) => m.kind === 'Secret').map((m) => m.metadata.name));
    expect(secrets.size).toBe(2);
    const text = JSON.stringify(out);
    const referenced = [...text.matchAll(/"(?:secretName|name)":"(jobs-secrets[^"]*|jobs-webhook-signing-key[^"]*)"/g)].map((m) => m[1]!);
    expect(referenced.length).toBeGreaterThan(10);
    for (const name of referenced) expect(secrets, name).toContain(name);
    const images = out.filter((m) => m.spec?.template).flatMap((m) => podOf(m).containers.map((c) => c.image));
    for (const image of images) expect(image).toMatch(/^registry\.example\.com\/jobs\/(api|worker|scheduler):\d+\.\d+\.\d+$/);
    expect(out.filter((m) => m.kind === 'HorizontalPodAutoscaler')).toHaveLength(1);
    expect(out.filter((m) => m.kind === 'Deployment').map((m) => m.metadata.name).sort()).toEqual(['jobs-api', 'jobs-scheduler', 'jobs-worker', 'jobs-worker-critical']);
  });

  it('example + components/keda: the ScaledObject replaces the HPA', () => {
    const out = build(['keda']);
    expect(out.filter((m) => m.kind === 'HorizontalPodAutoscaler')).toHaveLength(0);
    expect(out.filter((m) => m.kind === 'ScaledObject').map((m) => `${m.metadata.namespace}/${m.spec.scaleTargetRef.name}`).sort()).toEqual(['jobs/jobs-worker', 'jobs/jobs-worker-critical']);
  });

  it('example + components/redis-cluster: QUEUE_PREFIX={jobs}', () => {
    const out = build(['redis-cluster']);
    expect(find(out, 'ConfigMap', 'jobs-config').data!.QUEUE_PREFIX).toBe('{jobs}');
  });
});
