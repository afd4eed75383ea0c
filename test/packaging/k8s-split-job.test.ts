/**
 * docker/k3s/split-job: the Indexed Job of parts and the stitch Job render with kustomize (as shipped and with each
 * component enabled the way the guide says: uncommented in kustomization.yaml), every object validates against the
 * Kubernetes schemas (offline), and what the worker relies on holds: N agrees in completions, parallelism and
 * TW_PART_COUNT; each index's pod asks run-job for exactly its part (checked with the real flag parser); the job
 * file is a valid job; the stitch retries only "parts missing" (its shell loop run for real); the NAS, staging and
 * security settings match the daemonset's; nvidia/arm64 land where the overlays would.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSplitFlags } from '../../src/job/part-flags.js';
import { parseAssignedJob } from '../../src/job/parse-job.js';
import { EXIT_BAD_FILE, EXIT_PARTS_MISSING } from '../../src/job/run-job-command.js';
import {
  findKubectl,
  parseManifests,
  readManifests,
  renderKustomization,
  validateObject,
  type K8sObject,
} from '../helpers/k8s-manifests.js';
import { renderKustomizeLite } from '../helpers/kustomize-lite.js';

const K3S = path.resolve(import.meta.dirname, '../../docker/k3s');
const SPLIT = path.join(K3S, 'split-job');
const COMPONENTS = ['nvidia', 'arm64'] as const;
const kubectl = findKubectl();

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** A copy of split-job with the given components enabled, as a user does it (the components list in kustomization). */
function variant(components: readonly string[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tw-split-k8s-'));
  temps.push(dir);
  cpSync(SPLIT, dir, { recursive: true });
  if (components.length > 0)
    appendFileSync(
      path.join(dir, 'kustomization.yaml'),
      `components:\n${components.map((c) => `  - components/${c}\n`).join('')}`,
    );
  return dir;
}

function render(dir: string, useKubectl = Boolean(kubectl)): K8sObject[] {
  return useKubectl ? parseManifests(renderKustomization(kubectl!, dir)) : renderKustomizeLite(dir);
}

type Container = {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string | number> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
};
type PodSpec = {
  containers: Container[];
  volumes: { name: string; configMap?: { name: string }; emptyDir?: unknown; nfs?: unknown; hostPath?: unknown }[];
  restartPolicy?: string;
  securityContext?: Record<string, unknown>;
  runtimeClassName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  affinity?: unknown;
};
type JobSpec = {
  completionMode?: string;
  completions?: number;
  parallelism?: number;
  backoffLimit?: number;
  backoffLimitPerIndex?: number;
  activeDeadlineSeconds?: number;
  podFailurePolicy?: {
    rules: {
      action: string;
      onExitCodes?: { containerName?: string; operator: string; values: number[] };
      onPodConditions?: { type: string }[];
    }[];
  };
  template: { spec: PodSpec };
};

function job(objects: K8sObject[], name: string): JobSpec {
  const found = objects.find((o) => o.kind === 'Job' && o.metadata.name === name);
  if (!found) throw new Error(`no Job ${name}`);
  return found.spec as unknown as JobSpec;
}
function configMap(objects: K8sObject[], prefix: string): K8sObject {
  const found = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(`${prefix}-`));
  if (!found) throw new Error(`no ConfigMap ${prefix}-*`);
  return found;
}
function envOf(c: Container): Record<string, string | undefined> {
  return Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
}

const shipped = render(SPLIT);
const parts = job(shipped, 'transcode-split-parts');
const stitch = job(shipped, 'transcode-split-stitch');
const settings = configMap(shipped, 'transcode-split-env').data!;
const N = Number(settings.TW_PART_COUNT);

function sortNamed(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(sortNamed);
    return items.every((x) => x !== null && typeof x === 'object' && 'name' in (x as object))
      ? items.sort((a, b) => String((a as { name: string }).name).localeCompare((b as { name: string }).name))
      : items;
  }
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sortNamed(v)]));
  return value;
}

describe.skipIf(!kubectl)('test/helpers/kustomize-lite.ts on split-job', () => {
  it.each([[], ...COMPONENTS.map((c) => [c])])('renders split-job with components %j as kubectl does', (...c) => {
    const dir = variant(c as string[]);
    // Generated-name hashes differ (kustomize-lite's is its own), and so may the order of merged named lists.
    const strip = (objects: K8sObject[]) =>
      sortNamed(
        JSON.parse(JSON.stringify(objects).replace(/(transcode-split-(?:env|job))-[a-z0-9]{10}/g, '$1')) as unknown,
      );
    const byName = (a: K8sObject, b: K8sObject) => a.metadata.name.localeCompare(b.metadata.name);
    expect(strip(render(dir, false).sort(byName))).toEqual(strip(render(dir, true).sort(byName)));
  });
});

describe(`docker/k3s/split-job rendered by ${kubectl ? 'kubectl kustomize' : 'kustomize-lite'}`, () => {
  it('renders two ConfigMaps and two Jobs in the transcode namespace, all valid', async () => {
    expect(shipped.map((o) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`).sort()).toEqual([
      'ConfigMap/transcode-split-env',
      'ConfigMap/transcode-split-job',
      'Job/transcode-split-parts',
      'Job/transcode-split-stitch',
    ]);
    for (const o of shipped) expect(o.metadata.namespace).toBe('transcode');
    expect((await Promise.all(shipped.map(validateObject))).filter(Boolean)).toEqual([]);
  });

  it('the validator rejects a broken Job (so the pass above means something)', async () => {
    const broken = structuredClone(shipped.find((o) => o.kind === 'Job')!) as K8sObject & {
      spec: { completionMode: unknown };
    };
    broken.spec.completionMode = 7;
    expect(await validateObject(broken)).toMatch(/completionMode/);
  });

  it('parts: an Indexed Job whose completions, parallelism and TW_PART_COUNT are the same N', () => {
    expect(N).toBeGreaterThanOrEqual(2);
    expect(parts.completionMode).toBe('Indexed');
    expect(parts.completions).toBe(N);
    expect(parts.parallelism).toBe(N);
    // Each part retried on its own; a pod failure policy needs restartPolicy Never.
    expect(parts.backoffLimitPerIndex).toBeGreaterThanOrEqual(1);
    expect(parts.template.spec.restartPolicy).toBe('Never');
  });

  it('each index i runs part i of N: the real flag parser reads the pod args and the Kubernetes environment', () => {
    const [worker] = parts.template.spec.containers;
    expect(parts.template.spec.containers).toHaveLength(1);
    const args = worker!.args!;
    expect(args.slice(0, 2)).toEqual(['run-job', '/job/job.json']);
    expect(args.slice(2)).toEqual(['--part']);
    expect(worker!.envFrom?.[0]?.configMapRef?.name).toBe(configMap(shipped, 'transcode-split-env').metadata.name);
    for (let i = 0; i < N; i++)
      expect(parseSplitFlags({ part: true }, { ...settings, JOB_COMPLETION_INDEX: String(i) })).toEqual({
        kind: 'part',
        index: i,
        count: N,
      });
  });

  it('both Jobs read the same valid job file from the generated ConfigMap, read-only at /job', () => {
    const cm = configMap(shipped, 'transcode-split-job');
    const parsed = parseAssignedJob(JSON.parse(cm.data!['job.json']!));
    expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
    for (const j of [parts, stitch]) {
      const vol = j.template.spec.volumes.find((v) => v.configMap);
      expect(vol?.configMap?.name).toBe(cm.metadata.name);
      const mount = j.template.spec.containers[0]!.volumeMounts!.find((m) => m.name === vol!.name);
      expect(mount).toEqual({ name: vol!.name, mountPath: '/job', readOnly: true });
    }
  });

  it('a bad job file (exit 2) fails the whole Job at once; evictions do not count as failures', () => {
    for (const j of [parts, stitch]) {
      const rules = j.podFailurePolicy!.rules;
      const failJob = rules.find((r) => r.action === 'FailJob');
      expect(failJob?.onExitCodes).toEqual({
        containerName: j.template.spec.containers[0]!.name,
        operator: 'In',
        values: [EXIT_BAD_FILE],
      });
      expect(rules).toContainEqual({ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] });
      // The "parts missing" exit is handled inside the stitch pod, never by a pod failure rule.
      expect(JSON.stringify(rules)).not.toContain(String(EXIT_PARTS_MISSING));
    }
  });

  it('stitch: one pod that runs run-job --stitch with the same N, bounded by a deadline', () => {
    expect(stitch.completions).toBe(1);
    expect(stitch.template.spec.restartPolicy).toBe('Never');
    expect(stitch.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(stitch.backoffLimit).toBeGreaterThanOrEqual(1);
    const c = stitch.template.spec.containers[0]!;
    expect(c.command).toEqual(['/usr/bin/tini', '-g', '--', '/bin/sh', '-c']);
    expect(c.args![0]).toContain('node /app/dist/main.js run-job /job/job.json --stitch');
    expect(parseSplitFlags({ stitch: true }, settings)).toEqual({ kind: 'stitch', count: N });
    expect(Number(envOf(c).TW_STITCH_RETRY_SECONDS)).toBeGreaterThan(0);
  });

  it.skipIf(process.platform === 'win32')(
    "the stitch's shell loop retries exit 3 (parts missing) and ends on anything else with that code",
    () => {
      const script = stitch.template.spec.containers[0]!.args![0]!;
      const bin = mkdtempSync(path.join(os.tmpdir(), 'tw-split-sh-'));
      temps.push(bin);
      // A stand-in for node: each call prints its arguments and exits with the next code of the list.
      const node = path.join(bin, 'node');
      writeFileSync(
        node,
        '#!/bin/sh\necho "$*" >> "$CALLS"\nn=$(wc -l < "$CALLS")\ncode=$(echo $CODES | cut -d" " -f$n)\nexit $code\n',
      );
      chmodSync(node, 0o755);
      const run = (codes: string) => {
        const calls = path.join(bin, `calls-${codes.replace(/ /g, '')}`);
        const r = spawnSync('/bin/sh', ['-c', script], {
          env: { PATH: `${bin}:/usr/bin:/bin`, CALLS: calls, CODES: codes, TW_STITCH_RETRY_SECONDS: '0' },
          encoding: 'utf8',
          timeout: 20_000,
        });
        const n = spawnSync('/bin/sh', ['-c', `wc -l < "${calls}"`], { encoding: 'utf8' }).stdout.trim();
        return { status: r.status, stderr: r.stderr, calls: Number(n) };
      };
      const waited = run(`${EXIT_PARTS_MISSING} ${EXIT_PARTS_MISSING} 0`);
      expect(waited).toMatchObject({ status: 0, calls: 3 });
      expect(waited.stderr).toMatch(/parts not all committed yet; next try in 0s/);
      expect(run(`${EXIT_PARTS_MISSING} 1`)).toMatchObject({ status: 1, calls: 2 });
      expect(run('2')).toMatchObject({ status: 2, calls: 1 });
    },
  );

  it('the NAS is the daemonset base volume; staging and state are per-pod emptyDirs; paths match the env', () => {
    const [ds] = readManifests(path.join(K3S, 'base/daemonset.yaml'));
    const dsNas = (ds!.spec as { template: { spec: PodSpec } }).template.spec.volumes.find((v) => v.name === 'nas');
    for (const j of [parts, stitch]) {
      const pod = j.template.spec;
      const c = pod.containers[0]!;
      const env = envOf(c);
      const mounts = Object.fromEntries(c.volumeMounts!.map((m) => [m.mountPath, m.name]));
      const volumes = new Map(pod.volumes.map((v) => [v.name, v]));
      for (const m of c.volumeMounts!) expect(volumes.has(m.name), `volume ${m.name}`).toBe(true);
      expect(volumes.get(mounts[env.WORKER_NAS_MOUNT_PATH!]!)).toEqual(dsNas);
      expect(volumes.get(mounts[env.WORKER_TEMP_DIR!]!)).toHaveProperty('emptyDir');
      expect(volumes.get(mounts[env.WORKER_STATE_DIR!]!)).toHaveProperty('emptyDir');
      expect(mounts['/tmp']).toBeDefined();
      expect(c.env?.find((e) => e.name === 'WORKER_ID')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    }
  });

  it('runs non-root, read-only, without privilege escalation or capabilities, like the daemonset', () => {
    for (const j of [parts, stitch]) {
      const pod = j.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsUser: 1000, fsGroup: 1000 });
      expect(pod.containers[0]!.securityContext).toEqual({
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(pod.containers[0]!.resources?.requests?.memory).toBeDefined();
      expect(pod.containers[0]!.resources?.limits?.memory).toBeDefined();
    }
  });

  it('default: the multi-arch cpu image on any Linux node, amd64 or arm64, and no GPU', () => {
    for (const j of [parts, stitch]) {
      const pod = j.template.spec;
      expect(pod.containers[0]!.image).toBe('transcode-worker:cpu');
      expect(JSON.stringify(pod.affinity)).toContain('"values":["amd64","arm64"]');
      expect(pod.nodeSelector).toBeUndefined();
      expect(JSON.stringify(pod.containers[0]!.resources)).not.toMatch(/gpu/);
    }
  });
});

describe('docker/k3s/split-job components', () => {
  const overlayPod = (overlay: string) => {
    const dir = path.join(K3S, 'overlays', overlay);
    const objects = kubectl ? parseManifests(renderKustomization(kubectl, dir)) : renderKustomizeLite(dir);
    return (objects.find((o) => o.kind === 'DaemonSet')!.spec as { template: { spec: PodSpec } }).template.spec;
  };

  it('nvidia: parts on the nodes and GPU of overlays/nvidia with NVENC; the stitch on amd64 without a GPU', async () => {
    const objects = render(variant(['nvidia']));
    expect((await Promise.all(objects.map(validateObject))).filter(Boolean)).toEqual([]);
    const p = job(objects, 'transcode-split-parts').template.spec;
    const s = job(objects, 'transcode-split-stitch').template.spec;
    const ds = overlayPod('nvidia');
    expect(p.nodeSelector).toEqual(ds.nodeSelector);
    expect(p.runtimeClassName).toBe(ds.runtimeClassName);
    expect(p.tolerations).toEqual(ds.tolerations);
    const worker = p.containers[0]!;
    expect(worker.image).toBe('transcode-worker:nvidia');
    expect(worker.resources?.limits?.['nvidia.com/gpu']).toBe(1);
    expect(envOf(worker)).toMatchObject({ WORKER_HWACCEL: 'nvenc' });
    expect(envOf(worker).NVIDIA_DRIVER_CAPABILITIES).toContain('video');
    // The nvidia image is amd64-only (scripts/push-images.sh): the stitch runs it too, so it must stay on amd64.
    expect(s.containers[0]!.image).toBe('transcode-worker:nvidia');
    expect(s.nodeSelector).toEqual({ 'kubernetes.io/arch': 'amd64' });
    expect(JSON.stringify(s.containers[0]!.resources)).not.toMatch(/gpu/);
    // Everything else is the shipped default.
    expect(job(objects, 'transcode-split-parts').completions).toBe(N);
  });

  it('arm64: parts pinned to arm64 with the multi-arch cpu image; the stitch anywhere', async () => {
    const objects = render(variant(['arm64']));
    expect((await Promise.all(objects.map(validateObject))).filter(Boolean)).toEqual([]);
    const p = job(objects, 'transcode-split-parts').template.spec;
    expect(p.nodeSelector).toEqual({ 'kubernetes.io/arch': 'arm64' });
    expect(p.containers[0]!.image).toBe('transcode-worker:cpu');
    expect(job(objects, 'transcode-split-stitch').template.spec.nodeSelector).toBeUndefined();
  });

  it('a registry set with `kustomize edit set image` (no tag) keeps the tag each variant chose', () => {
    const dir = variant(['nvidia']);
    const k = path.join(dir, 'kustomization.yaml');
    const text = spawnSync('/bin/sh', ['-c', `cat "${k}"`], { encoding: 'utf8' }).stdout;
    writeFileSync(k, text.replace('newName: transcode-worker', 'newName: registry.example/tw'));
    const objects = render(dir);
    expect(job(objects, 'transcode-split-parts').template.spec.containers[0]!.image).toBe('registry.example/tw:nvidia');
  });
});
