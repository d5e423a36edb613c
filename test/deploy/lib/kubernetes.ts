import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { readYamlDocs } from './deployment.js';

/** The fields of a manifest these tests read; the schemas check the rest. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
  // Deeply nested and kind-specific: read loosely here, checked by validateManifest.
  spec?: any;
}

type Validating = { validate(): void };
const models: Record<string, new (data: never) => Validating> = {
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/Namespace': Namespace,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

/**
 * Checks a manifest against the OpenAPI schema of its kind (kubernetes-models, @kubernetes-models/keda):
 * types, enums and required fields. Throws naming the manifest and the first problems.
 */
export function validateManifest(m: Manifest): void {
  const Model = models[`${m.apiVersion}/${m.kind}`];
  if (!Model) throw new Error(`no schema known for ${m.apiVersion} ${m.kind} (${m.metadata?.name})`);
  // kustomize folds long base64 values over lines; the API server's decoder skips the newlines.
  const subject = m.kind === 'Secret' && m.data ? { ...m, data: Object.fromEntries(Object.entries(m.data).map(([k, v]) => [k, v.replace(/\s+/g, '')])) } : m;
  try {
    new Model(subject as never).validate();
  } catch (err) {
    throw new Error(`${m.kind} ${m.metadata?.name}: ${(err as Error).message.slice(0, 600)}`);
  }
}

/** The manifests a kustomization lists under `resources` (files only, recursing into folders). */
export function kustomizeResources(dir: string): Manifest[] {
  const k = readYamlDocs(join(dir, 'kustomization.yaml'))[0] as { resources?: string[] };
  return (k.resources ?? []).flatMap((r) =>
    r.endsWith('.yaml') ? (readYamlDocs(join(dir, r)) as Manifest[]) : kustomizeResources(join(dir, r)),
  );
}

/** `kubectl kustomize`, where kubectl is installed (it needs no cluster). */
export function kubectlAvailable(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function kustomizeBuild(dir: string): string {
  return execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Applies the `replace` operations of a JSON 6902 patch (all these manifests use) to a copy of `m`. */
export function applyReplacePatch<T extends Manifest>(m: T, ops: Array<{ op: string; path: string; value: unknown }>): T {
  const copy = structuredClone(m);
  for (const { op, path, value } of ops) {
    if (op !== 'replace') throw new Error(`unsupported op ${op}`);
    const keys = path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    let node: Record<string, unknown> = copy as unknown as Record<string, unknown>;
    for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
    if (!(keys.at(-1)! in node)) throw new Error(`replace of a missing ${path}`);
    node[keys.at(-1)!] = value;
  }
  return copy;
}
