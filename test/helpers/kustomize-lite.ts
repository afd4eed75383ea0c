/**
 * A small kustomize for the test suite, used where no kubectl is installed (kubectl bundles kustomize; Debian's
 * kubectl 1.20 is too old for these files and nothing on npm renders kustomizations). It supports exactly the
 * features docker/k3s uses and throws on anything else, so a new feature cannot be silently mis-rendered:
 *   resources (files, folders), components (folders), namespace, nameSuffix, labels (pairs, includeSelectors),
 *   images (newName and/or newTag), configMapGenerator (envs, files, literals, behavior: merge), patches
 *   (strategic-merge files; inline JSON 6902 ops with a kind target).
 * Components are applied, like kustomize's, after the kustomization's resources and before its own generators and
 * transformers.
 * test/packaging/k8s-manifests.test.ts compares its output with `kubectl kustomize` wherever kubectl exists.
 * Generated ConfigMap names get a content hash like kustomize's, but not the same one.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseManifests, type K8sObject } from './k8s-manifests.js';

type Json = Record<string, unknown>;
interface Resource {
  obj: K8sObject;
  /** Name before any suffix: what patches and references use. */
  origin: string;
  hashed: boolean;
}

const SUPPORTED = new Set([
  'apiVersion',
  'kind',
  'resources',
  'components',
  'namespace',
  'nameSuffix',
  'labels',
  'images',
  'configMapGenerator',
  'patches',
]);
/** Workload kinds whose selector and pod template get labels with includeSelectors. */
const WORKLOADS = new Set(['DaemonSet', 'Deployment', 'StatefulSet']);
/** Kinds with a pod template whose containers get images and ConfigMap references. */
const POD_TEMPLATES = new Set([...WORKLOADS, 'Job']);

export function renderKustomizeLite(dir: string): K8sObject[] {
  return build(dir)
    .map((r) => {
      if (r.hashed) r.obj.metadata.name = `${r.obj.metadata.name}-${hashOf(r.obj.data)}`;
      return r.obj;
    })
    .map((obj, _i, all) => fixConfigMapRefs(obj, all));
}

/** A Kustomization from scratch, or a Component (kind: Component) over the resources accumulated so far. */
function build(dir: string, accumulated?: Resource[]): Resource[] {
  const k = parseYaml(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as Json;
  for (const key of Object.keys(k))
    if (!SUPPORTED.has(key)) throw new Error(`kustomize-lite: unsupported field ${key} in ${dir}`);
  if ((k.kind === 'Component') !== (accumulated !== undefined))
    throw new Error(
      `kustomize-lite: ${dir} is ${accumulated ? 'listed in components but not' : 'a Component but not'} a Component`,
    );
  let resources: Resource[] = accumulated ?? [];
  for (const entry of (k.resources as string[] | undefined) ?? []) {
    const p = path.join(dir, entry);
    if (statSync(p).isDirectory()) resources.push(...build(p));
    else
      resources.push(
        ...parseManifests(readFileSync(p, 'utf8')).map((obj) => ({ obj, origin: obj.metadata.name, hashed: false })),
      );
  }
  for (const component of (k.components as string[] | undefined) ?? [])
    resources = build(path.join(dir, component), resources);
  for (const gen of (k.configMapGenerator as Json[] | undefined) ?? [])
    resources = generateConfigMap(dir, gen, resources);
  for (const patch of (k.patches as Json[] | undefined) ?? []) applyPatch(dir, patch, resources);
  const ns = k.namespace as string | undefined;
  const suffix = (k.nameSuffix as string | undefined) ?? '';
  for (const r of resources) {
    if (ns && r.obj.kind !== 'Namespace') r.obj.metadata.namespace = ns;
    r.obj.metadata.name += suffix;
  }
  for (const l of (k.labels as Json[] | undefined) ?? [])
    addLabels(resources, l.pairs as Record<string, string>, Boolean(l.includeSelectors));
  for (const img of (k.images as Json[] | undefined) ?? []) setImage(resources, img);
  return resources;
}

function generateConfigMap(dir: string, gen: Json, resources: Resource[]): Resource[] {
  const data: Record<string, string> = {};
  for (const file of (gen.envs as string[] | undefined) ?? [])
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      const m = /^\s*([^#=\s][^=]*)=(.*)$/.exec(line);
      if (m) data[m[1]!.trim()] = m[2]!;
    }
  for (const file of (gen.files as string[] | undefined) ?? []) {
    if (file.includes('=')) throw new Error(`kustomize-lite: unsupported key=file entry ${file}`);
    data[path.basename(file)] = readFileSync(path.join(dir, file), 'utf8');
  }
  for (const lit of (gen.literals as string[] | undefined) ?? []) {
    const i = lit.indexOf('=');
    data[lit.slice(0, i)] = lit.slice(i + 1);
  }
  const name = gen.name as string;
  if (gen.behavior === 'merge') {
    const base = resources.find((r) => r.obj.kind === 'ConfigMap' && r.origin === name);
    if (!base) throw new Error(`kustomize-lite: no ConfigMap ${name} to merge into`);
    base.obj.data = { ...base.obj.data, ...data };
    return resources;
  }
  if (gen.behavior && gen.behavior !== 'create')
    throw new Error(`kustomize-lite: unsupported behavior ${String(gen.behavior)}`);
  const obj: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data };
  return [...resources, { obj, origin: name, hashed: true }];
}

function applyPatch(dir: string, patch: Json, resources: Resource[]): void {
  if (typeof patch.path === 'string') {
    for (const doc of parseManifests(readFileSync(path.join(dir, patch.path), 'utf8'))) {
      const target = resources.find((r) => r.obj.kind === doc.kind && r.origin === doc.metadata.name);
      if (!target) throw new Error(`kustomize-lite: patch ${patch.path} matches no ${doc.kind}/${doc.metadata.name}`);
      target.obj = mergeStrategic(target.obj as unknown as Json, doc as unknown as Json) as unknown as K8sObject;
    }
    return;
  }
  const target = patch.target as { kind?: string; name?: string } | undefined;
  const ops = parseYaml(String(patch.patch)) as { op: string; path: string; value?: unknown }[];
  if (!target || !Array.isArray(ops)) throw new Error('kustomize-lite: inline patches must be JSON 6902 with a target');
  for (const r of resources)
    if ((!target.kind || r.obj.kind === target.kind) && (!target.name || r.origin === target.name))
      for (const op of ops) applyJsonPatchOp(r.obj as unknown as Json, op);
}

/** Strategic merge as kustomize does it for these files: maps merge, lists of named objects merge by name. */
function mergeStrategic(base: unknown, patch: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(patch)) {
    const named = (a: unknown[]) => a.every((x) => x !== null && typeof x === 'object' && 'name' in (x as Json));
    if (!named(base) || !named(patch)) return structuredClone(patch);
    const out = base.map((x) => structuredClone(x) as Json);
    for (const item of patch as Json[]) {
      const i = out.findIndex((x) => x.name === item.name);
      if (i >= 0) out[i] = mergeStrategic(out[i], item) as Json;
      else out.unshift(structuredClone(item));
    }
    return out;
  }
  if (isMap(base) && isMap(patch)) {
    const out: Json = { ...base };
    for (const [k, v] of Object.entries(patch)) out[k] = k in base ? mergeStrategic(base[k], v) : structuredClone(v);
    return out;
  }
  return structuredClone(patch);
}

function applyJsonPatchOp(doc: Json, op: { op: string; path: string; value?: unknown }): void {
  const keys = op.path
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = keys.pop()!;
  let node: Json = doc;
  for (const key of keys) {
    if (!isMap(node[key]) && !Array.isArray(node[key])) throw new Error(`kustomize-lite: ${op.path} does not exist`);
    node = node[key] as Json;
  }
  if (op.op === 'add' || op.op === 'replace') node[last] = structuredClone(op.value);
  else if (op.op === 'remove') delete node[last];
  else throw new Error(`kustomize-lite: unsupported op ${op.op}`);
}

function addLabels(resources: Resource[], pairs: Record<string, string>, includeSelectors: boolean): void {
  for (const { obj } of resources) {
    obj.metadata.labels = { ...obj.metadata.labels, ...pairs };
    if (!includeSelectors || !WORKLOADS.has(obj.kind)) continue;
    const spec = obj.spec as { selector: { matchLabels?: Json }; template: { metadata?: { labels?: Json } } };
    spec.selector.matchLabels = { ...spec.selector.matchLabels, ...pairs };
    spec.template.metadata = { ...spec.template.metadata, labels: { ...spec.template.metadata?.labels, ...pairs } };
  }
}

function setImage(resources: Resource[], img: Json): void {
  for (const c of containersOf(resources.map((r) => r.obj))) {
    const [name, tag] = String(c.image).split(':');
    if (name !== img.name) continue;
    const newTag = (img.newTag as string | undefined) ?? tag;
    c.image = `${(img.newName as string | undefined) ?? name}${newTag === undefined ? '' : `:${newTag}`}`;
  }
}

function containersOf(objects: K8sObject[]): Json[] {
  return objects
    .filter((o) => POD_TEMPLATES.has(o.kind))
    .flatMap((o) => {
      const pod = (o.spec as { template: { spec: { containers?: Json[]; initContainers?: Json[] } } }).template.spec;
      return [...(pod.containers ?? []), ...(pod.initContainers ?? [])];
    });
}

/**
 * envFrom.configMapRef and configMap volume names follow their ConfigMap's renames (suffix, hash), as kustomize's
 * nameReference does.
 */
function fixConfigMapRefs(obj: K8sObject, all: K8sObject[]): K8sObject {
  const maps = all.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name);
  const rename = (ref: { name: string }) => {
    const found = maps.find((m) => m.startsWith(`${ref.name}-`));
    if (found) ref.name = found;
  };
  for (const c of containersOf([obj]))
    for (const ref of (c.envFrom as { configMapRef?: { name: string } }[] | undefined) ?? [])
      if (ref.configMapRef) rename(ref.configMapRef);
  if (POD_TEMPLATES.has(obj.kind))
    for (const v of (obj.spec as { template: { spec: { volumes?: { configMap?: { name: string } }[] } } }).template.spec
      .volumes ?? [])
      if (v.configMap) rename(v.configMap);
  return obj;
}

function hashOf(data: unknown): string {
  const hex = createHash('sha256').update(JSON.stringify(data)).digest('hex');
  return [...hex.slice(0, 10)].map((ch) => 'bcdfghkmt2456789'[parseInt(ch, 16)]).join('');
}

function isMap(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
