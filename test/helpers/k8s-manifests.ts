/**
 * Offline Kubernetes manifest helpers for test/packaging: render a kustomization with `kubectl kustomize` (when a
 * kubectl is installed) and validate every object against the schemas shipped in the kubernetes-models packages.
 *
 * kubernetes-models only catches wrong types, missing required fields and bad enums (the Kubernetes schemas accept
 * unknown fields), so the tests add their own checks on top.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
};

/** The `kubectl` to use, or undefined when none is installed (kustomize rendering is then skipped). */
export function findKubectl(): string | undefined {
  const r = spawnSync('kubectl', ['version', '--client=true'], { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0 ? 'kubectl' : undefined;
}

/** `kubectl kustomize DIR`: offline, no API server involved. Throws with kubectl's message on failure. */
export function renderKustomization(kubectl: string, dir: string): string {
  const r = spawnSync(kubectl, ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`invalid YAML: ${d.errors[0]!.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

export function readManifests(file: string): K8sObject[] {
  return parseManifests(readFileSync(file, 'utf8'));
}

/** Module of the kubernetes-models class for an apiVersion/kind (CRDs of the Prometheus Operator included). */
function modelModule(apiVersion: string, kind: string): string {
  if (apiVersion.startsWith('monitoring.coreos.com/'))
    return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

/** Validates one object against its schema; resolves to an error message, or undefined when valid. */
export async function validateObject(obj: K8sObject): Promise<string | undefined> {
  let Model: new (o: unknown) => { validate(): void };
  try {
    const mod = (await import(modelModule(obj.apiVersion, obj.kind))) as Record<string, typeof Model>;
    Model = mod[obj.kind]!;
    if (!Model) throw new Error('no such export');
  } catch {
    return `${obj.kind}/${obj.metadata?.name}: no schema for ${obj.apiVersion} ${obj.kind}`;
  }
  try {
    new Model(obj).validate();
    return undefined;
  } catch (err) {
    return `${obj.kind}/${obj.metadata?.name}: ${(err as Error).message}`;
  }
}

export function findObject(objects: K8sObject[], kind: string): K8sObject {
  const found = objects.find((o) => o.kind === kind);
  if (!found) throw new Error(`no ${kind} among ${objects.map((o) => o.kind).join(', ')}`);
  return found;
}
