/**
 * docker/k3s: every overlay renders with kustomize and every object validates against the Kubernetes schemas
 * (kubernetes-models, offline), plus the properties the worker relies on (non-root, read-only root, probes on
 * the worker's endpoints, downward-API worker id, one worker per node class, scraping that matches the pods).
 *
 * Rendering uses `kubectl kustomize` where a kubectl is installed, else test/helpers/kustomize-lite.ts (which is
 * checked against kubectl here whenever both exist).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  findKubectl,
  findObject,
  parseManifests,
  readManifests,
  renderKustomization,
  validateObject,
  type K8sObject,
} from '../helpers/k8s-manifests.js';
import { renderKustomizeLite } from '../helpers/kustomize-lite.js';

const K3S = path.resolve(import.meta.dirname, '../../docker/k3s');
const OVERLAYS = ['cpu', 'nvidia', 'vaapi', 'pi4'] as const;
/** The image each overlay runs: the Raspberry Pi 4 runs the multi-arch cpu image with the codec's device. */
const IMAGE_TAG = { cpu: 'cpu', nvidia: 'nvidia', vaapi: 'vaapi', pi4: 'cpu' } as const;
/** Images that scripts/push-images.sh publishes for amd64 only: their pods must never land on an arm64 node. */
const AMD64_ONLY = ['nvidia', 'vaapi'] as const;
const kubectl = findKubectl();
if (!kubectl)
  console.warn('[packaging] kubectl not found: docker/k3s overlays are rendered by test/helpers/kustomize-lite.ts');

function renderOverlay(overlay: string): K8sObject[] {
  const dir = path.join(K3S, 'overlays', overlay);
  return kubectl ? parseManifests(renderKustomization(kubectl, dir)) : renderKustomizeLite(dir);
}

/** Comparable form: generated-name hashes dropped, lists of named objects sorted by name. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalize);
    const named = items.every((x) => x !== null && typeof x === 'object' && 'name' in (x as object));
    return named
      ? items.sort((a, b) => String((a as { name: string }).name).localeCompare((b as { name: string }).name))
      : items;
  }
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        k === 'name' && typeof v === 'string' ? v.replace(/-[a-z0-9]{10}$/, '') : normalize(v),
      ]),
    );
  return value;
}

// Loose views of the pod spec, just deep enough for the assertions below.
type Probe = { httpGet?: { path: string; port: string | number } };
type Container = {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string; optional?: boolean } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string | number> };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[]; add?: string[] } };
  volumeMounts?: { name: string; mountPath: string }[];
  lifecycle?: { preStop?: { exec?: { command?: string[] } } };
};
type PodSpec = {
  containers: Container[];
  initContainers?: Container[];
  volumes: { name: string; [k: string]: unknown }[];
  securityContext?: { runAsUser?: number; supplementalGroups?: number[]; fsGroup?: number };
  terminationGracePeriodSeconds?: number;
  runtimeClassName?: string;
  nodeSelector?: Record<string, string>;
  affinity?: unknown;
};

function podOf(ds: K8sObject): { labels: Record<string, string>; annotations: Record<string, string>; spec: PodSpec } {
  const template = (
    ds.spec as {
      template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: PodSpec };
    }
  ).template;
  return { labels: template.metadata.labels, annotations: template.metadata.annotations ?? {}, spec: template.spec };
}

function workerOrFirst(spec: PodSpec): Container {
  return spec.containers.find((x) => x.name === 'worker') ?? spec.containers[0]!;
}

function workerOf(spec: PodSpec): Container {
  const c = spec.containers.find((x) => x.name === 'worker');
  if (!c) throw new Error('no container named worker');
  return c;
}

async function expectAllValid(objects: K8sObject[]): Promise<void> {
  const problems = (await Promise.all(objects.map(validateObject))).filter(Boolean);
  expect(problems).toEqual([]);
}

describe('docker/k3s raw files (no kustomize needed)', () => {
  it('the namespace, the base DaemonSet and the PodMonitor validate against their schemas', async () => {
    const objects = [
      ...readManifests(path.join(K3S, 'namespace.yaml')),
      ...readManifests(path.join(K3S, 'base/daemonset.yaml')),
      ...readManifests(path.join(K3S, 'base/podmonitor.yaml')),
    ];
    expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'DaemonSet', 'PodMonitor']);
    await expectAllValid(objects);
  });

  it('the Pi 4 device plugin validates and runs exactly on the nodes overlays/pi4 selects', async () => {
    const objects = readManifests(path.join(K3S, 'pi4-device-plugin.yaml'));
    expect(objects.map((o) => o.kind)).toEqual(['DaemonSet']);
    await expectAllValid(objects);
    const plugin = podOf(objects[0]!).spec;
    const pi4 = podOf(findObject(renderOverlay('pi4'), 'DaemonSet')).spec;
    expect(plugin.nodeSelector).toEqual(pi4.nodeSelector);
    // It offers the resource the worker asks for: squat.ai/<name> with the codec's /dev/video1x nodes.
    const args = workerOrFirst(plugin).args!.join('\n');
    expect(args).toMatch(/name: video/);
    expect(args).toMatch(/path: \/dev\/video1\*/);
    expect(workerOf(pi4).resources?.limits?.['squat.ai/video']).toBe(1);
  });

  it('the validator itself rejects a broken object (so a pass above means something)', async () => {
    const [ds] = readManifests(path.join(K3S, 'base/daemonset.yaml'));
    const broken = structuredClone(ds!) as K8sObject & { spec: { selector?: unknown } };
    delete broken.spec.selector;
    expect(await validateObject(broken)).toMatch(/selector/);
    const [pm] = readManifests(path.join(K3S, 'base/podmonitor.yaml'));
    const badPort = structuredClone(pm!) as K8sObject & { spec: { podMetricsEndpoints: { port: unknown }[] } };
    badPort.spec.podMetricsEndpoints[0]!.port = 9470;
    expect(await validateObject(badPort)).toMatch(/port must be string/);
  });
});

describe.skipIf(!kubectl)('test/helpers/kustomize-lite.ts (the fallback renderer)', () => {
  it.each(OVERLAYS)('renders overlays/%s exactly as kubectl kustomize does (but for the ConfigMap hash)', (overlay) => {
    const dir = path.join(K3S, 'overlays', overlay);
    const lite = renderKustomizeLite(dir);
    const real = parseManifests(renderKustomization(kubectl!, dir));
    const byKind = (a: K8sObject, b: K8sObject) => a.kind.localeCompare(b.kind);
    expect(normalize([...lite].sort(byKind))).toEqual(normalize([...real].sort(byKind)));
    expect(lite.find((o) => o.kind === 'ConfigMap')?.metadata.name).toMatch(
      new RegExp(`^transcode-worker-env-${overlay}-[a-z0-9]{10}$`),
    );
  });
});

describe.each(OVERLAYS)(
  `docker/k3s/overlays/%s rendered by ${kubectl ? 'kubectl kustomize' : 'kustomize-lite'}`,
  (overlay) => {
    const objects = renderOverlay(overlay);

    it('renders a ConfigMap, a DaemonSet and a PodMonitor that all validate', async () => {
      expect(objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'DaemonSet', 'PodMonitor']);
      await expectAllValid(objects);
      for (const o of objects) expect(o.metadata.namespace).toBe('transcode');
      // Overlays can be applied side by side: their names never collide.
      for (const o of objects) expect(o.metadata.name).toContain(`-${overlay}`);
    });

    it('runs the worker non-root, read-only, without privilege escalation or capabilities', () => {
      const { spec } = podOf(findObject(objects, 'DaemonSet'));
      const worker = workerOf(spec);
      expect(spec.securityContext?.runAsUser).toBe(1000);
      expect(worker.securityContext).toMatchObject({
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(worker.securityContext?.capabilities?.add ?? []).toEqual([]);
      // The only root step is the init container's chown of the hostPath state folder, with CAP_CHOWN alone.
      for (const init of spec.initContainers ?? []) {
        expect(init.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
        expect(init.securityContext?.capabilities).toEqual({ drop: ['ALL'], add: ['CHOWN'] });
      }
    });

    it('mounts NAS, staging, state and /tmp at the paths the worker is configured with', () => {
      const { spec } = podOf(findObject(objects, 'DaemonSet'));
      const worker = workerOf(spec);
      const mounts = Object.fromEntries((worker.volumeMounts ?? []).map((m) => [m.mountPath, m.name]));
      const env = Object.fromEntries((worker.env ?? []).map((e) => [e.name, e.value]));
      for (const key of ['WORKER_NAS_MOUNT_PATH', 'WORKER_TEMP_DIR', 'WORKER_STATE_DIR'])
        expect(mounts[env[key]!]).toBeDefined();
      expect(mounts['/tmp']).toBeDefined();
      const volumes = new Map(spec.volumes.map((v) => [v.name, v]));
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])])
        for (const m of c.volumeMounts ?? []) expect(volumes.has(m.name), `volume ${m.name} of ${c.name}`).toBe(true);
      expect(volumes.get(mounts['/data/nas']!)).toHaveProperty('nfs');
      expect(volumes.get(mounts[env.WORKER_TEMP_DIR!]!)).toHaveProperty('emptyDir');
      expect(volumes.get(mounts[env.WORKER_STATE_DIR!]!)).toHaveProperty('hostPath');
    });

    it('takes worker_id from the node, probes /healthz and /readyz, and gives shutdown its time', () => {
      const { spec } = podOf(findObject(objects, 'DaemonSet'));
      const worker = workerOf(spec);
      const id = worker.env?.find((e) => e.name === 'WORKER_ID');
      expect(id?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
      expect(worker.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
      expect(worker.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
      expect(worker.startupProbe?.httpGet?.path).toBe('/healthz');
      expect(worker.ports).toContainEqual(expect.objectContaining({ name: 'metrics', containerPort: 9470 }));
      // preStop drains: the running job finishes first (docs/drain-and-work-hours.md), so the grace period is a
      // typical job's length, not the ~10 s the worker needs after SIGTERM.
      expect(worker.lifecycle?.preStop?.exec?.command).toEqual([
        'node',
        '/app/dist/main.js',
        'drain',
        '--exit',
        '--wait',
      ]);
      expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(600);
      expect(worker.resources?.requests?.memory).toBeDefined();
      expect(worker.resources?.limits?.memory).toBeDefined();
    });

    it('reads its settings from the generated ConfigMap, and the image matches the overlay', () => {
      const { spec } = podOf(findObject(objects, 'DaemonSet'));
      const worker = workerOf(spec);
      const cm = findObject(objects, 'ConfigMap');
      expect(worker.envFrom?.map((e) => e.configMapRef?.name).filter(Boolean)).toEqual([cm.metadata.name]);
      expect(cm.data?.WORKER_ORCHESTRATOR_URL).toMatch(/^https?:\/\//);
      expect(cm.data?.WORKER_HWACCEL).toBe({ cpu: 'auto', nvidia: 'nvenc', vaapi: 'vaapi', pi4: 'v4l2m2m' }[overlay]);
      expect(worker.image).toMatch(new RegExp(`:${IMAGE_TAG[overlay]}$`));
      for (const init of spec.initContainers ?? []) expect(init.image).toBe(worker.image);
    });

    it('is scraped: annotations and a PodMonitor that selects exactly these pods on the metrics port', () => {
      const ds = findObject(objects, 'DaemonSet');
      const { labels, annotations } = podOf(ds);
      expect(annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9470' });
      const pm = findObject(objects, 'PodMonitor') as K8sObject & {
        spec: {
          selector: { matchLabels: Record<string, string> };
          podMetricsEndpoints: { port: string; path: string }[];
        };
      };
      const selector = pm.spec.selector.matchLabels;
      expect(selector['transcode-worker/class']).toBe(overlay);
      for (const [k, v] of Object.entries(selector)) expect(labels[k], `pod label ${k}`).toBe(v);
      // The DaemonSet's own selector must match its pods too (kustomize's labels with includeSelectors).
      const dsSelector = (ds.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
      for (const [k, v] of Object.entries(dsSelector)) expect(labels[k]).toBe(v);
      expect(pm.spec.podMetricsEndpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
    });

    it('lands on the right nodes with the right hardware', () => {
      const { spec } = podOf(findObject(objects, 'DaemonSet'));
      const worker = workerOf(spec);
      if (overlay === 'cpu') {
        // Every Linux node (arm64 Pis included) that is not claimed by a GPU overlay.
        const text = JSON.stringify(spec.affinity);
        expect(text).toContain('arm64');
        expect(text).toContain('"NotIn"');
        expect(JSON.stringify(worker.resources?.limits)).not.toMatch(/gpu/);
      } else if (overlay === 'nvidia') {
        expect(spec.runtimeClassName).toBe('nvidia');
        expect(spec.nodeSelector?.['transcode-worker/accel']).toBe('nvidia');
        expect(worker.resources?.limits?.['nvidia.com/gpu']).toBe(1);
        expect(worker.env?.find((e) => e.name === 'NVIDIA_DRIVER_CAPABILITIES')?.value).toContain('video');
      } else if (overlay === 'vaapi') {
        expect(spec.nodeSelector?.['transcode-worker/accel']).toBe('vaapi');
        expect(spec.securityContext?.supplementalGroups?.length).toBeGreaterThan(0);
        expect(worker.resources?.limits?.['gpu.intel.com/i915']).toBe(1);
      } else {
        // Raspberry Pi 4: arm64, the codec's device from the device plugin, the host's video group (44).
        expect(spec.nodeSelector).toEqual({ 'kubernetes.io/arch': 'arm64', 'transcode-worker/accel': 'v4l2m2m' });
        expect(spec.securityContext?.supplementalGroups).toContain(44);
        expect(worker.resources?.limits?.['squat.ai/video']).toBe(1);
      }
    });
  },
);

describe('docker/k3s scheduling across overlays', () => {
  const pods = Object.fromEntries(
    OVERLAYS.map((o) => [o, podOf(findObject(renderOverlay(o), 'DaemonSet')).spec]),
  ) as Record<(typeof OVERLAYS)[number], PodSpec>;

  it.each(AMD64_ONLY)('%s: an amd64-only image never lands on an arm64 node', (overlay) => {
    expect(pods[overlay].nodeSelector?.['kubernetes.io/arch']).toBe('amd64');
  });

  it('one worker per node: the cpu overlay keeps off every node that a hardware overlay selects', () => {
    const cpuTerms = JSON.stringify(pods.cpu.affinity);
    const excluded = /"key":"transcode-worker\/accel","operator":"NotIn","values":(\[[^\]]*\])/.exec(cpuTerms);
    expect(excluded).not.toBeNull();
    const claimed = OVERLAYS.filter((o) => o !== 'cpu').map((o) => pods[o].nodeSelector?.['transcode-worker/accel']);
    expect(claimed.every(Boolean)).toBe(true);
    expect((JSON.parse(excluded![1]!) as string[]).sort()).toEqual([...new Set(claimed)].sort());
    // Two hardware overlays never claim the same label (a node would run two workers).
    expect(new Set(claimed).size).toBe(claimed.length);
  });
});
