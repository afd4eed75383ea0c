/**
 * scripts/push-images.sh builds the images and pushes multi-arch manifest lists. No registry can be reached here, so
 * this checks its --dry-run plan: which image is built for which platform, that the arm64 build's build stage runs
 * on the host's arch, where each list is pushed, that a dry run really runs nothing, and that the k3s overlays never
 * schedule an image onto an architecture it is not published for.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findKubectl, findObject, parseManifests, renderKustomization } from '../helpers/k8s-manifests.js';
import { renderKustomizeLite } from '../helpers/kustomize-lite.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts/push-images.sh');

// A podman and a docker that only record that they were called: a dry run must call neither.
const stubs = mkdtempSync(path.join(tmpdir(), 'tw-push-stubs-'));
const called = path.join(stubs, 'called');
for (const tool of ['podman', 'docker']) {
  writeFileSync(path.join(stubs, tool), `#!/bin/sh\necho "${tool} $*" >>"${called}"\n`);
  chmodSync(path.join(stubs, tool), 0o755);
}
afterAll(() => rmSync(stubs, { recursive: true, force: true }));

function push(...args: string[]) {
  const r = spawnSync('bash', [SCRIPT, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${stubs}${path.delimiter}${process.env.PATH}` },
    timeout: 30_000,
  });
  const commands = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('+ '))
    .map((l) => l.slice(2));
  return { ...r, commands };
}

/** The --platform of every build command for one Dockerfile. */
const platformsOf = (commands: string[], variant: string) =>
  commands
    .filter((c) => c.includes(` -f Dockerfile.${variant} `))
    .map((c) => /--platform (\S+)/.exec(c)![1]!.replace(/\\,/g, ','));

describe.skipIf(process.platform === 'win32')('scripts/push-images.sh', () => {
  it('is valid bash with strict mode on', () => {
    const r = spawnSync('bash', ['-n', SCRIPT], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(spawnSync('grep', ['-c', '^set -euo pipefail$', SCRIPT], { encoding: 'utf8' }).stdout.trim()).toBe('1');
  });

  it('podman: cpu for amd64 + arm64 in one manifest list, nvidia and vaapi for amd64, each pushed under two tags', () => {
    const r = push('--dry-run', '--tool', 'podman', 'reg.example:5000/farm', '1.4.0');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/dry run: nothing was built or pushed/);
    expect(existsSync(called)).toBe(false);
    expect(platformsOf(r.commands, 'cpu')).toEqual(['linux/amd64', 'linux/arm64']);
    expect(platformsOf(r.commands, 'nvidia')).toEqual(['linux/amd64']);
    expect(platformsOf(r.commands, 'vaapi')).toEqual(['linux/amd64']);
    for (const v of ['cpu', 'nvidia', 'vaapi']) {
      const list = `localhost/transcode-worker-push:1.4.0-${v}`;
      expect(r.commands).toContain(`podman manifest create ${list}`);
      for (const build of r.commands.filter((c) => c.includes(` -f Dockerfile.${v} `))) {
        expect(build).toContain(`--manifest ${list}`);
        expect(build).toMatch(/--format docker/); // the HEALTHCHECK survives
        expect(build).toMatch(/--build-arg REVISION=\S+/);
      }
      for (const ref of [`1.4.0-${v}`, v])
        expect(r.commands).toContain(
          `podman manifest push --all --format v2s2 ${list} docker://reg.example:5000/farm/transcode-worker:${ref}`,
        );
    }
    // The list is created before its builds and pushed after them.
    const at = (needle: string) => r.commands.findIndex((c) => c.includes(needle));
    expect(at('manifest create localhost/transcode-worker-push:1.4.0-cpu')).toBeLessThan(at('-f Dockerfile.cpu'));
    expect(at('manifest push --all --format v2s2 localhost/transcode-worker-push:1.4.0-cpu')).toBeGreaterThan(
      at('--platform linux/arm64'),
    );
  });

  it('docker: one buildx build per image with all its platforms and --push', () => {
    const r = push('--dry-run', '--tool', 'docker', 'reg.example', '2.0.0');
    expect(r.status).toBe(0);
    expect(existsSync(called)).toBe(false);
    expect(r.commands.filter((c) => c.startsWith('docker buildx build'))).toHaveLength(3);
    expect(platformsOf(r.commands, 'cpu')).toEqual(['linux/amd64,linux/arm64']);
    expect(platformsOf(r.commands, 'vaapi')).toEqual(['linux/amd64']);
    const cpu = r.commands.find((c) => c.includes('Dockerfile.cpu'))!;
    expect(cpu).toMatch(/-t reg.example\/transcode-worker:2.0.0-cpu -t reg.example\/transcode-worker:cpu --push \.$/);
  });

  it('refuses bad arguments before doing anything', () => {
    const missing = push('--dry-run', 'reg.example');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/push-images.sh \[--dry-run\]/);
    const badTag = push('--dry-run', 'reg.example', 'no spaces');
    expect(badTag.status).toBe(1);
    expect(badTag.stderr).toMatch(/not a valid image tag/);
    const badImage = push('--dry-run', '--only', 'cpu,gpu', 'reg.example', 't');
    expect(badImage.status).toBe(1);
    expect(badImage.stderr).toMatch(/unknown image 'gpu'/);
    expect(existsSync(called)).toBe(false);
  });

  it('every k3s overlay runs on no architecture that its image is not published for', () => {
    const r = push('--dry-run', '--tool', 'podman', 'reg.example', 't');
    const kubectl = findKubectl();
    for (const overlay of ['cpu', 'nvidia', 'vaapi', 'pi4']) {
      const dir = path.join(ROOT, 'docker/k3s/overlays', overlay);
      const objects = kubectl ? parseManifests(renderKustomization(kubectl, dir)) : renderKustomizeLite(dir);
      const pod = (findObject(objects, 'DaemonSet').spec as { template: { spec: Record<string, unknown> } }).template
        .spec;
      const container = (pod.containers as { name: string; image: string }[]).find((c) => c.name === 'worker')!;
      const variant = container.image.split(':').at(-1)!;
      const published = platformsOf(r.commands, variant).map((p) => p.replace('linux/', ''));
      const selected = (pod.nodeSelector as Record<string, string> | undefined)?.['kubernetes.io/arch'];
      const affinity = JSON.stringify(pod.affinity ?? {});
      const allowed = selected
        ? [selected]
        : (/"key":"kubernetes.io\/arch","operator":"In","values":(\[[^\]]*\])/.exec(affinity)?.[1] ?? null);
      expect(allowed, `${overlay} must schedule by kubernetes.io/arch`).not.toBeNull();
      const arches = typeof allowed === 'string' ? (JSON.parse(allowed) as string[]) : allowed!;
      for (const a of arches) expect(published, `${overlay} (image ${variant}) on ${a}`).toContain(a);
    }
  });
});
