/**
 * Black-box, issue 12 §3: what docker/k3s/split-job does, as real processes of the built CLI on one machine. The
 * commands and the environment are taken from the rendered manifests (the parts' args with JOB_COMPLETION_INDEX and
 * TW_PART_COUNT as Kubernetes sets them; the stitch's own shell loop), only the paths are local: the stitch starts
 * first and waits (exit 3, retried), the N parts run side by side, then the stitch joins them into one ladder.
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_PARTS_MISSING } from '../../src/job/run-job-command.js';
import { parseManifests, renderKustomization, findKubectl, type K8sObject } from '../helpers/k8s-manifests.js';
import { renderKustomizeLite } from '../helpers/kustomize-lite.js';
import { readHlsTree } from '../helpers/hls-tree.js';
import { makeSource } from '../helpers/media.js';
import { ladderJob } from '../helpers/pipeline-harness.js';
import { waitFor } from '../helpers/wait.js';
import {
  MAIN_JS,
  REPO_ROOT,
  assertBuilt,
  makeWorkerDirs,
  workerEnv,
  type WorkerDirs,
} from '../helpers/worker-process.js';

const SPLIT = path.join(REPO_ROOT, 'docker/k3s/split-job');
/** Small enough for 2 shared cores: 16 s at T = 2 s is 8 segments, 2 parts of 4 (the AAC grid step at T = 2). */
const PARTS = 2;

let dirs: WorkerDirs | undefined;
afterEach(async () => {
  await dirs?.cleanup();
  dirs = undefined;
});

type Container = { command?: string[]; args?: string[] };
function containerOf(objects: K8sObject[], job: string): Container {
  const o = objects.find((x) => x.kind === 'Job' && x.metadata.name === job)!;
  return (o.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0]!;
}

interface Run {
  done: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}
function start(argv: string[], env: Record<string, string>, cwd: string): Run {
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { done: new Promise((resolve) => child.on('exit', resolve)), stdout: () => out, stderr: () => err };
}

describe('docker/k3s/split-job as local processes (built CLI)', () => {
  it.skipIf(process.platform === 'win32')(
    'the stitch waits for the parts, then joins them into one ladder and removes the parts area',
    async () => {
      assertBuilt();
      dirs = await makeWorkerDirs('tw-split-e2e-');
      const kubectl = findKubectl();
      const objects = kubectl ? parseManifests(renderKustomization(kubectl, SPLIT)) : renderKustomizeLite(SPLIT);
      const local = (s: string) => s.replaceAll('/job/job.json', jobFile).replaceAll('/app/dist/main.js', MAIN_JS);

      await mkdir(path.join(dirs.nas, 'movies'), { recursive: true });
      await makeSource(path.join(dirs.nas, 'movies'), { name: 'film.mp4', duration: 16 });
      const job = ladderJob(
        'movies/film.mp4',
        [
          ['320x180', '300k', '180p'],
          ['214x120', '150k', '120p'],
        ],
        { job_id: 'film-split', output_base: 'hls/film', hls_settings: { segment_time: 2 } },
      );
      const jobFile = path.join(dirs.root, 'job.json');
      await writeFile(jobFile, JSON.stringify(job));
      const env = (extra: Record<string, string>) => ({
        ...workerEnv(dirs!, 'http://127.0.0.1:9', { WORKER_LOG_LEVEL: 'warn', WORKER_X264_PRESET: 'ultrafast' }),
        TW_PART_COUNT: String(PARTS),
        ...extra,
      });

      // The stitch first, as `kubectl apply -k` starts both Jobs: it must wait, not fail.
      const stitchC = containerOf(objects, 'transcode-split-stitch');
      const shell = stitchC.command!.slice(stitchC.command!.indexOf('--') + 1); // [/bin/sh, -c]
      const stitch = start(
        [...shell, local(stitchC.args![0]!)],
        env({ TW_STITCH_RETRY_SECONDS: '1', WORKER_ID: 'stitch' }),
        dirs.root,
      );
      await waitFor(async () => (/parts not all committed yet/.test(stitch.stderr()) ? true : undefined), {
        timeoutMs: 30_000,
        message: () => `the stitch to report missing parts (exit ${EXIT_PARTS_MISSING}); stderr:\n${stitch.stderr()}`,
      });

      // The parts, side by side, exactly as the Indexed Job's pods run them.
      const partArgs = containerOf(objects, 'transcode-split-parts').args!.map(local);
      const parts = Array.from({ length: PARTS }, (_, i) =>
        start(
          [process.execPath, MAIN_JS, ...partArgs],
          env({ JOB_COMPLETION_INDEX: String(i), WORKER_ID: `part-${i}` }),
          dirs!.root,
        ),
      );
      const codes = await Promise.all(parts.map((p) => p.done));
      expect(codes, parts.map((p) => p.stderr()).join('\n---\n')).toEqual(Array(PARTS).fill(0));
      for (const [i, p] of parts.entries())
        expect(JSON.parse(p.stdout())).toMatchObject({ status: 'COMPLETED', metrics: { part: { index: i } } });

      // Wrapped: exit code 0 is falsy, and waitFor waits for a truthy value.
      const settled = stitch.done.then((code) => ({ code }));
      const { code } = await waitFor(async () => Promise.race([settled, Promise.resolve(undefined)]), {
        timeoutMs: 120_000,
        message: () => `the stitch to finish; stderr:\n${stitch.stderr()}`,
      });
      expect(code, stitch.stderr()).toBe(0);
      const payloads = stitch
        .stdout()
        .trim()
        .split(/\n(?=\{)/);
      const last = JSON.parse(payloads.at(-1)!) as { status: string; manifest_url: string };
      expect(last).toMatchObject({ status: 'COMPLETED', manifest_url: '/hls/film/index.m3u8' });

      const tree = await readHlsTree(dirs.nas, last.manifest_url);
      expect(tree.variants).toHaveLength(2);
      for (const v of tree.variants) {
        expect(v.media.segments).toHaveLength(8);
        expect(v.durationSec).toBeCloseTo(16, 0);
      }
      expect((await readdir(path.join(dirs.nas, 'hls/film'))).filter((n) => n.startsWith('.tw-parts-'))).toEqual([]);
    },
    240_000,
  );
});
